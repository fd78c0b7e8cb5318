"""The yearly measures report (the document ITA's open-data part asks every agency to publish)."""

import pandas as pd
import streamlit as st

from ita_dashboard.reports import measures_table as rpt
from ita_dashboard.ui import common, widgets
from ita_dashboard.ui.strings import t

ctx = common.page_context()
st.title(f"{t('nav_report')} · {ctx.org.name}")
round_ = st.radio(t("round"), [6, 12], index=1, horizontal=True, format_func=lambda r: t(f"round_{r}"))
with common.session() as s:
    states = widgets.measure_states(s, ctx, rpt.round_as_of(fiscal_year=ctx.fiscal_year, round_=round_))
rows = rpt.report_rows(states, round_=round_, fiscal_year=ctx.fiscal_year)
lines = rpt.title_lines(org_name=ctx.org.name, district=ctx.org.district, province=ctx.org.province,
                        fiscal_year=ctx.fiscal_year, round_=round_)
for line in lines:
    st.markdown(f"**{widgets.md_escape(line)}**")
if not rows:
    st.info(t("no_measures"))
    st.stop()
st.table(pd.DataFrame([r.cells for r in rows], columns=list(rpt.HEADERS)).set_index(rpt.HEADERS[0]))
st.download_button(t("download_xlsx"), rpt.to_xlsx(rows, title_lines=lines),
                   file_name=f"ita_report_{ctx.fiscal_year}_r{round_}.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
