"""The yearly measures report (the document ITA's open-data part asks every agency to publish)."""

import pandas as pd
import streamlit as st

from ita_dashboard.textsafe import md
from ita_dashboard import thai
from ita_dashboard.reports import docx_report, measures_table as rpt
from ita_dashboard.ui import common, oit_views
from ita_dashboard.texts import t

ctx = common.page_context()
st.title(f"{t('nav_report')} · {md(ctx.org.name)}")
c1, c2 = st.columns([3, 2])
round_ = c1.radio(t("round"), [6, 12], index=1, horizontal=True, format_func=lambda r: t(f"round_{r}"))
thai_digits = c2.checkbox(t("report_thai_digits"), key="report_thai_digits")
with common.session() as s:
    report = rpt.build_report(s, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year, round_=round_,
                              thai_digits=thai_digits)
for line in report.title_lines:
    st.markdown(f"**{md(line)}**")
st.caption(t("report_as_of", date=thai.format_date_th(report.as_of), n=len(report.activities)))
if not report.rows:
    st.info(t("no_measures"))
    st.stop()
# st.table renders markdown in its cells: every cell (plan text, titles, notes) is escaped
frame = pd.DataFrame([tuple(md(c) for c in (r.section or "",) + r.cells) for r in report.rows], columns=["", *rpt.HEADERS])
if not any(r.section for r in report.rows):
    frame = frame.drop(columns=[""])
st.table(frame.set_index(rpt.HEADERS[0]))
name = f"ita_report_{ctx.fiscal_year}_r{round_}"
d1, d2 = st.columns(2)
d1.download_button(t("download_docx"), docx_report.to_docx(report), file_name=f"{name}.docx", key="report_docx",
                   mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document", on_click="ignore")
d2.download_button(t("download_xlsx"), rpt.to_xlsx(report), file_name=f"{name}.xlsx", key="report_xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore")
oit_views.measures_report_published(ctx)
