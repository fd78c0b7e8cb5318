"""Overview: where the year stands, as of the end of a chosen month."""

import streamlit as st

from ita_dashboard.textsafe import md
from ita_dashboard.permissions import is_org_admin
from ita_dashboard.ui import cache, common, widgets
from ita_dashboard.ui.compare_views import year_comparison
from ita_dashboard.texts import t

ctx = common.page_context()
st.title(f"{t('nav_overview')} · {md(ctx.org.name)}")
month_end = common.as_of_month_picker(ctx.fiscal_year)
as_of = common.effective_date(month_end)

data = cache.summary(organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year, as_of=as_of)

widgets.kpi_row(data)
widgets.score_section(data)
year_comparison(ctx, as_of=as_of)
admin = is_org_admin(ctx.actor, ctx.org_id)
widgets.department_table(data, can_map=admin)
widgets.due_list(data.due, as_of=as_of, has_plan=data.measures.total > 0, can_import=admin)
