"""Measures: filter, see where each stands and when, update progress, read the history."""


import streamlit as st

from ita_dashboard.textsafe import md
from ita_dashboard import charts
from ita_dashboard.permissions import is_org_admin
from ita_dashboard.services import measures as svc
from ita_dashboard.services.orgs import departments_of
from ita_dashboard.ui import common, measure_views, progress_views, widgets
from ita_dashboard.texts import t

ctx = common.page_context()
widgets.uploader_words()
st.title(f"{t('nav_measures')} · {md(ctx.org.name)}")
month_end = common.as_of_month_picker(ctx.fiscal_year, key="measures_as_of")
as_of = common.effective_date(month_end)

with common.session() as s:
    states = widgets.measure_states(s, ctx, as_of)
    departments = departments_of(s, organization_id=ctx.org_id)
    granularity = st.session_state.get("period_granularity", "month")
    points = svc.progress_by_period(s, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year,
                                    granularity=granularity, until=as_of)

if not states:
    widgets.no_plan_notice(can_import=is_org_admin(ctx.actor, ctx.org_id))
    st.stop()

filtered = measure_views.filters(states, departments=departments, fiscal_year=ctx.fiscal_year)
measure_views.table(filtered)

tab_dep, tab_month, tab_time = st.tabs([t("by_department"), t("by_month"), t("timeline")])
with tab_dep:
    rows = svc.progress_by_department(states, departments=departments)
    st.plotly_chart(charts.measures_by_department(rows), width="stretch", key="chart_by_dep")
with tab_month:
    st.radio(t("period_view"), ["month", "quarter", "round"], horizontal=True, key="period_granularity",
             format_func=lambda g: t(f"period_view_{g}"))
    st.plotly_chart(charts.progress_by_period(points), width="stretch", key="chart_by_month")
with tab_time:
    st.plotly_chart(charts.measures_timeline(filtered, today=as_of), width="stretch", key="chart_timeline")

measure_views.detail_and_update(ctx, states, as_of=as_of)

progress_views.status_sheet_section(ctx, states, as_of=as_of)
progress_views.activities_section(ctx, states)
