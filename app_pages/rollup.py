"""Roll-up: every agency the user follows (a province office, a group), ranked; open one."""

import streamlit as st

from ita_dashboard.services import rollup as rollup_svc
from ita_dashboard.ui import common, rollup_views
from ita_dashboard.texts import t

ctx = common.page_context()
st.title(t("rollup_title"))
month_end = common.as_of_month_picker(ctx.fiscal_year, key="rollup_as_of_month")
as_of = common.effective_date(month_end)
scope = rollup_views.scope_filters(ctx)
rows = rollup_views.load(ctx, scope=scope, as_of=as_of)
if not rows:
    st.info(t("rollup_empty"))
    st.stop()
by = rollup_views.rank_choice()
ranked = rollup_svc.ranked(rows, by=by)
rollup_views.summary_line(rows, as_of=as_of)
st.dataframe(rollup_views.frame(ranked), hide_index=True, width="stretch")
rollup_views.weakest_chart(rows, by=by)
rollup_views.drill_down(ranked)
