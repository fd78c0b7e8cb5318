"""Reusable page sections (KPI row, score bullets, department table, due list)."""

from __future__ import annotations

import datetime as dt
from typing import Sequence

import pandas as pd
import streamlit as st

from .. import charts, texts, textsafe, thai
from ..services import measures as measures_svc
from ..models import Instrument
from ..services import summary as summary_svc
from ..services.summary_types import DepartmentRank, DueMeasure, Summary, UnmatchedName
from ..texts import status_label, t


def measure_states(session, ctx, as_of: dt.date):
    return measures_svc.measure_states(session, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year, as_of=as_of)


def _ratio(n, target) -> str:
    return f"{n:,} / {target:,}" if target else f"{n:,} / –"


def kpi_row(data: Summary) -> None:
    m, iit, eit = data.measures, data.iit, data.eit
    c = st.columns(5)
    c[0].metric(t("kpi_measures_done"), f"{m.done} / {m.total}")
    c[1].metric(t("kpi_overdue"), m.overdue, delta=None)
    c[2].metric(t("kpi_iit"), _ratio(iit.responses, iit.target),
                delta=_gap_text(iit.responses, iit.target), delta_color="off", delta_arrow="off")
    c[3].metric(t("kpi_eit"), _ratio(eit.responses, eit.target),
                delta=_gap_text(eit.responses, eit.target), delta_color="off", delta_arrow="off")
    c[4].metric(t("kpi_days_left"), data.collection_window.days_left)


def _gap_text(n: int, target) -> str | None:
    if not target:
        return t("no_target")
    return f"{t('gap')} {target - n:,}" if n < target else t("target_met")


def score_section(data: Summary) -> None:
    """A bullet per instrument and the weighted total against the bar, so a low EIT shows even when the total passes."""
    oit_label = t("oit_source_itas") if data.oit.source == "itas" else t("oit_source_items")
    scores = {"IIT": data.iit.estimated_score, "EIT": data.eit.estimated_score,
              oit_label: data.oit_estimate, t("weighted_total"): data.estimated_total}
    st.plotly_chart(charts.score_bullets(scores, bar=data.passing_bar), width="stretch", key="score_bullets")
    if level := data.estimated_level:
        held = [k.upper() for k in data.level_held_back_by]
        st.markdown(f"**{t('level_estimated', level=level)}**")
        if held:
            st.caption(t("level_held_back", level=level, names=", ".join(held)))
    below = [k.upper() for k in data.below_bar]
    if below:
        st.warning(t("below_bar_list", bar=f"{data.passing_bar:g}", names=", ".join(below)), icon=":material/warning:")
    st.caption(t("estimate_note"))


def department_table(data: Summary, *, can_map: bool = False) -> None:
    """Departments ranked by how far behind they are; the status is a word and an icon, not only a colour.

    At or over the IIT target is met (green), however far over; more responses than eligible staff
    also gets a warning saying what to check. Names that are no department are listed once under
    the table, with the way to map them, never as rows."""
    rows = summary_svc.department_ranking(data)
    st.subheader(t("dept_table"))
    if not rows:
        st.info(t("no_data"))
    else:
        df = pd.DataFrame([{
            t("department"): r.name,
            t("measures_done_col"): f"{r.measures_done}/{r.measures_total}",
            t("status_overdue"): r.overdue,
            t("iit_responses_col"): f"{r.iit_responses:,}/{r.iit_target or '–'}",
            t("iit_completion"): _completion_text(r),
            f"IIT {t('gap')}": r.iit_gap if r.iit_target else None,
            t("status"): _row_status(r),
        } for r in rows])
        colours = {"red": "color: #c62828; font-weight: bold", "green": "color: #2e7d32", "orange": "color: #b45309"}

        def colour(v):
            v = str(v)
            if v.startswith("▲"):
                return colours["red"]
            if v.startswith("⚠"):
                return colours["orange"]
            return colours["green"] if v.startswith("✓") else ""

        st.dataframe(df.style.map(colour, subset=[t("status"), t("iit_completion")]), hide_index=True, placeholder="",
                     width="stretch", column_config={  # widths that fit 1366 px with the sidebar open
                         t("department"): st.column_config.TextColumn(width=220),
                         t("measures_done_col"): st.column_config.TextColumn(width=95),
                         t("status_overdue"): st.column_config.NumberColumn(width=75),
                         t("iit_responses_col"): st.column_config.TextColumn(width=110),
                         t("iit_completion"): st.column_config.TextColumn(width=105),
                         f"IIT {t('gap')}": st.column_config.NumberColumn(width=85, format="%d"),
                         t("status"): st.column_config.TextColumn(width=125)})
        over_eligible_warning([(r.name, r.iit_responses, r.iit_eligible) for r in rows if r.iit_over_eligible])
    unmatched_section(summary_svc.unmatched_names(data), can_map=can_map)


def survey_checks(status, *, can_map: bool) -> None:
    """Under a completion chart: departments with more responses than eligible staff (what to
    check), and the names that match no department (once, with the way to map them)."""
    over_eligible_warning([(d.name, d.responses, d.eligible) for d in status.departments if d.over_eligible])
    unmatched_section([UnmatchedName(d.name, iit=d.responses if status.instrument == Instrument.iit else 0,
                                     eit=d.responses if status.instrument == Instrument.eit else 0) for d in status.unmatched],
                      can_map=can_map)


def over_eligible_warning(over: list[tuple[str, int, int]]) -> None:
    """More IIT responses than eligible staff: what to check, then the departments (as plain text:
    a department's name is user text)."""
    if not over:
        return
    st.warning(t("over_eligible_warning", n=len(over)), icon=":material/warning:")
    st.text("\n".join(t("over_eligible_row", name=name, responses=f"{n:,}", eligible=f"{e:,}") for name, n, e in over))


def _completion_text(r: DepartmentRank) -> str:
    if r.iit_percent is None:
        return ""
    pct = f"{r.iit_percent:.0f}%"
    if r.iit_over_eligible:
        return f"⚠ {pct}"
    return f"✓ {pct}" if r.iit_met else pct


def _row_status(r: DepartmentRank) -> str:
    if r.behind:
        return "▲ " + t("behind")
    if r.iit_over_eligible:
        return "⚠ " + t("check_count")
    return "✓ " + (t("target_met_short") if r.iit_met else t("on_track"))


def unmatched_section(names: list[UnmatchedName], *, can_map: bool) -> None:
    """Names written in the surveys or the plan that are no department: once each, with a way to map them."""
    if not names:
        return
    parts = []
    for e in names:
        counted = [t(f"unmatched_{k}", n=getattr(e, k)) for k in ("measures", "iit", "eit") if getattr(e, k)]
        parts.append(f"{e.name} ({', '.join(counted)})" if counted else e.name)
    st.info(t("unmatched_intro", n=len(names)), icon=":material/link_off:")
    st.text(" · ".join(parts))  # names as written in a survey or a plan: user text, shown as text
    if can_map:
        st.page_link("app_pages/admin.py", label=t("unmatched_go_map"), icon=":material/link:")
    else:
        st.caption(t("unmatched_ask_admin"))


def due_list(items: Sequence[DueMeasure], *, as_of: dt.date, has_plan: bool = True, can_import: bool = False) -> None:
    """The summary's ``due`` list: overdue measures first, then those due within a month.

    A year without a plan says so (and where to import one) instead of "nothing overdue"."""
    from ..meeting import due_text

    st.subheader(t("due_next"))
    if not has_plan:
        no_plan_notice(can_import=can_import)
        return
    if not items:
        st.success(t("none_due"))
        return
    for m in items:
        end = m.end
        when = due_text(end, as_of)
        if m.overdue:
            badge = f":red[:material/error: **{t('status_overdue')}** ({when})]"
        elif end == as_of:
            badge = f":red[:material/alarm: **{when}**]"
        else:
            badge = f":orange[:material/schedule: {when}]"
        st.markdown(f"**{m.number}.** {textsafe.md(m.title)}  \n{badge} · {status_label(m.status.value)} {m.percent}%")


def no_plan_notice(*, can_import: bool) -> None:
    """The fiscal year has no measures: say so and point to the import page."""
    st.info(t("no_plan"), icon=":material/upload_file:")
    if can_import:
        st.page_link("app_pages/upload.py", label=t("no_plan_go_import"), icon=":material/upload_file:")
    else:
        st.caption(t("no_plan_ask_admin"))


def batch_kind_label(kind: str) -> str:
    """An import batch's kind (``survey_iit``) in words."""
    return t(f"batch_kind_{kind}") if t(f"batch_kind_{kind}") != f"batch_kind_{kind}" else kind


def rejected_frame(entries: list[dict]) -> pd.DataFrame:
    """Rejected rows ({"sheet"?, "row", "column", "reason"}) with Thai column titles and empty cells, not None."""
    has_sheet = any(e.get("sheet") for e in entries)
    return pd.DataFrame([
        {**({t("sheet"): e.get("sheet") or ""} if has_sheet else {}),
         t("row"): "" if e.get("row") is None else str(e.get("row")), t("column"): e.get("column") or "",
         t("reason"): e.get("reason") or ""}
        for e in entries
    ], columns=([t("sheet")] if has_sheet else []) + [t("row"), t("column"), t("reason")])


# Streamlit's file uploader speaks English ("Upload", "50MB per file • CSV"); there is no option to
# change it, so its words are hidden and ours put in their place (texts.py: "uploader_choose",
# "uploader_drop"). The words stay in the accessibility tree: the button is called "เลือกไฟล์"
# for screen readers and tests too.
_UPLOADER_CSS = """<style>
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] {{ display: none; }}
[data-testid="stFileUploaderDropzone"] button > div::after {{ content: {choose}; margin-left: 0.35rem; }}
[data-testid="stFileUploaderDropzoneInstructions"] span {{ display: none; }}
[data-testid="stFileUploaderDropzoneInstructions"] > div::after {{
  content: {drop}; font-size: 0.875rem; color: rgba(49, 51, 63, 0.6);
}}
</style>"""


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal (quotes, backslashes, line ends and ``<`` escaped)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("<", "\\3C ")
    return f'"{escaped}"'


def _uploader_css(table: dict[str, str]) -> str:
    return _UPLOADER_CSS.format(choose=_css_string(table["uploader_choose"]), drop=_css_string(table["uploader_drop"]))


# Made once from texts.py's fixed words, one per language, so the page hands streamlit a constant.
UPLOADER_CSS_TH = _uploader_css(texts.TH)
UPLOADER_CSS_EN = _uploader_css(texts.EN)


def uploader_words() -> None:
    """Put our words on every file uploader of the page (call once per page that has one)."""
    if texts.language() == "en":
        st.html(UPLOADER_CSS_EN)
    else:
        st.html(UPLOADER_CSS_TH)



def measures_frame(states) -> pd.DataFrame:
    """The measures table: state first (status, per cent, end, last update), the long texts last
    and short; the whole text is in the detail view under the table."""
    return pd.DataFrame([
        {
            t("col_no"): s.number,
            t("measure"): s.title,
            t("status"): ("▲ " + t("status_overdue")) if s.overdue else status_label(s.status.value),
            t("col_percent"): s.percent,
            t("end"): thai.format_date_th(s.end, abbr=True) if s.end else "",
            t("col_updated"): thai.format_date_th(s.last_update, abbr=True) if s.last_update else "",
            t("owner"): t("owner_all") if s.owner_all else (", ".join(s.department_names + s.unresolved_owners) or s.owner_text),
        }
        for s in states
    ], columns=[t("col_no"), t("measure"), t("status"), t("col_percent"), t("end"), t("col_updated"), t("owner")])


MEASURES_COLUMNS = {  # widths that fit 1366 px with the sidebar open
    "col_no": st.column_config.NumberColumn(width=40),
    "measure": st.column_config.TextColumn(width=300),
    "status": st.column_config.TextColumn(width=120),
    "col_percent": st.column_config.NumberColumn(width=60, format="%d%%"),
    "end": st.column_config.TextColumn(width=90),
    "col_updated": st.column_config.TextColumn(width=90),
    "owner": st.column_config.TextColumn(width=150),
}
