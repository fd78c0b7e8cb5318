"""IIT/EIT completion by department and over time, and the score estimate from the agency's own form."""

import streamlit as st

from ita_dashboard.textsafe import md
from ita_dashboard import charts, thai
from ita_dashboard.permissions import is_org_admin
from ita_dashboard.services.framework_overrides import framework_for
from ita_dashboard.ui import cache, common, widgets
from ita_dashboard.ui.poster_views import poster_section
from ita_dashboard.texts import t

ctx = common.page_context()
st.title(f"{t('nav_surveys')} · {md(ctx.org.name)}")
month_end = common.as_of_month_picker(ctx.fiscal_year, key="surveys_as_of")
as_of = common.effective_date(month_end)

with common.session() as s:
    fw = framework_for(s, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year)
data = cache.survey_data(organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year, as_of=as_of)
window = fw.collection_dates()
st.caption(f"{t('collection_window')}: {thai.format_date_th(window[0])} – {thai.format_date_th(window[1])}")

for tab, inst in zip(st.tabs(["IIT", "EIT"]), ("iit", "eit")):
    status, by_day = data[inst]
    with tab:
        c = st.columns(3)
        c[0].metric(t("responses"), f"{status.responses:,}")
        c[1].metric(t("target"), f"{status.target:,}" if status.target else t("no_target"))
        c[2].metric(t("estimated_score"), f"{status.estimated_score:.2f}" if status.estimated_score is not None else "–")
        if status.itas_count is not None:
            st.caption(t("itas_total", date=thai.format_date_th(status.itas_as_of), count=status.itas_count))
        if not status.responses:
            st.info(t("no_responses", instrument=inst.upper()))
            continue
        st.plotly_chart(charts.survey_by_department(status), width="stretch", key=f"dep_{inst}")
        widgets.survey_checks(status, can_map=is_org_admin(ctx.actor, ctx.org_id))
        st.plotly_chart(charts.cumulative_responses(by_day, target=status.target, window=window, today=as_of,
                                                    instrument=inst), width="stretch", key=f"cum_{inst}")
        st.plotly_chart(charts.responses_per_period(by_day, instrument=inst), width="stretch", key=f"week_{inst}")
        if status.scored_responses:
            st.plotly_chart(charts.indicator_scores(status, framework=fw, bar=fw.passing_bar),
                            width="stretch", key=f"ind_{inst}")
            st.caption(t("estimate_note"))

poster_section(ctx)
