"""OIT item by item: readiness per indicator, the items and their links, status updates, admin tools."""

import streamlit as st

from ita_dashboard.permissions import is_org_admin
from ita_dashboard.services import oit as oit_svc
from ita_dashboard.services.framework_overrides import agency_value
from ita_dashboard.ui import common, oit_views
from ita_dashboard.texts import t
from ita_dashboard.textsafe import md

ctx = common.page_context()
st.title(f"{t('nav_oit')} · {md(ctx.org.name)}")
st.caption(t("oit_title"))
oit_views.show_flash()
month_end = common.as_of_month_picker(ctx.fiscal_year, key="oit_as_of")
as_of = common.effective_date(month_end)
with common.session() as s:
    states = oit_svc.item_states(s, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year, as_of=as_of)
    itas = agency_value(s, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year, key="agency.oit_estimate")
if states:
    oit_views.readiness_section(states, itas_score=float(itas) if itas is not None else None)
    oit_views.items_table(states)
    oit_views.status_form(ctx, states)
oit_views.admin_tools(ctx, states)
if not states and not is_org_admin(ctx.actor, ctx.org_id):
    st.info(t("oit_empty_year", year=ctx.fiscal_year))
