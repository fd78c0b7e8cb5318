"""Reusable page sections (KPI row, score bullets, department table, due list)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from .. import charts, thai
from ..services import measures as measures_svc
from ..services import summary as summary_svc
from .strings import status_label, t


def measure_states(session, ctx, as_of: dt.date):
    return measures_svc.measure_states(session, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year, as_of=as_of)


def _ratio(n, target) -> str:
    return f"{n:,} / {target:,}" if target else f"{n:,} / –"


def kpi_row(data: dict) -> None:
    m, iit, eit = data["measures"], data["surveys"]["iit"], data["surveys"]["eit"]
    c = st.columns(5)
    c[0].metric(t("kpi_measures_done"), f"{m['done']} / {m['total']}")
    c[1].metric(t("kpi_overdue"), m["overdue"], delta=None)
    c[2].metric(t("kpi_iit"), _ratio(iit["responses"], iit["target"]),
                delta=_gap_text(iit["responses"], iit["target"]), delta_color="off", delta_arrow="off")
    c[3].metric(t("kpi_eit"), _ratio(eit["responses"], eit["target"]),
                delta=_gap_text(eit["responses"], eit["target"]), delta_color="off", delta_arrow="off")
    c[4].metric(t("kpi_days_left"), data["collection_window"]["days_left"])


def _gap_text(n: int, target) -> str | None:
    if not target:
        return t("no_target")
    return f"{t('gap')} {target - n:,}" if n < target else t("target_met")


def score_section(data: dict) -> None:
    """A bullet per instrument and the weighted total against the bar, so a low EIT shows even when the total passes."""
    oit_label = t("oit_source_itas") if data.get("oit", {}).get("source") == "itas" else t("oit_source_items")
    scores = {"IIT": data["surveys"]["iit"]["estimated_score"], "EIT": data["surveys"]["eit"]["estimated_score"],
              oit_label: data.get("oit_estimate"), t("weighted_total"): data["estimated_total"]}
    st.plotly_chart(charts.score_bullets(scores, bar=data["passing_bar"]), width="stretch", key="score_bullets")
    if level := data.get("estimated_level"):
        held = [k.upper() for k in data.get("level_held_back_by", [])]
        st.markdown(f"**{t('level_estimated', level=level)}**")
        if held:
            st.caption(t("level_held_back", level=level, names=", ".join(held)))
    below = [k.upper() for k in data["below_bar"]]
    if below:
        st.warning(t("below_bar_list", bar=f"{data['passing_bar']:g}", names=", ".join(below)), icon=":material/warning:")
    st.caption(t("estimate_note"))


def department_table(data: dict) -> None:
    """Departments ranked by how far behind they are; the status is a word and an icon, not only a colour."""
    rows = summary_svc.department_ranking(data)
    st.subheader(t("dept_table"))
    if not rows:
        st.info(t("no_data"))
        return
    df = pd.DataFrame([{
        t("department"): r["name"],
        t("measures_done_col"): f"{r['measures_done']}/{r['measures_total']}",
        t("status_overdue"): r["overdue"],
        "IIT": f"{r['iit_responses']:,}/{r['iit_target'] or '–'}",
        t("iit_completion"): r["iit_percent"],
        f"IIT {t('gap')}": r["iit_gap"],
        t("status"): ("▲ " + t("behind")) if r["behind"] else ("✓ " + t("on_track")),
    } for r in rows])
    colours = {"▲ " + t("behind"): "color: #c62828; font-weight: bold", "✓ " + t("on_track"): "color: #2e7d32"}
    st.dataframe(
        df.style.map(lambda v: colours.get(v, ""), subset=[t("status")]), hide_index=True, width="stretch",
        column_config={t("iit_completion"): st.column_config.ProgressColumn(min_value=0, max_value=100, format="%.0f%%")},
    )


def due_list(items: list[dict]) -> None:
    """The summary's ``due`` list: overdue measures first, then those due within a month."""
    st.subheader(t("due_next"))
    if not items:
        st.success(t("none_due"))
        return
    for m in items:
        when = thai.format_date_th(dt.date.fromisoformat(m["end"]), abbr=True) if m["end"] else "–"
        badge = (f":red[:material/error: **{t('status_overdue')}** ({t('due_on', date=when)})]" if m["overdue"]
                 else f":orange[:material/schedule: {t('due_on', date=when)}]")
        st.markdown(f"**{m['number']}.** {md_escape(m['title'])}  \n{badge} · {status_label(m['status'])} {m['percent']}%")


def md_escape(text: str) -> str:
    """User text goes into markdown: escape markdown/HTML control characters so it shows as text."""
    out = []
    for ch in text:
        if ch in "\\`*_{}[]()#+-.!|<>~$":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def measures_frame(states) -> pd.DataFrame:
    return pd.DataFrame([
        {
            t("measure_no"): s.number,
            t("measure"): s.title,
            t("owner"): t("owner_all") if s.owner_all else (", ".join(s.department_names + s.unresolved_owners) or s.owner_text),
            t("period"): s.period_text,
            t("start"): thai.format_date_th(s.start, abbr=True) if s.start else "",
            t("end"): thai.format_date_th(s.end, abbr=True) if s.end else "",
            t("status"): (t("status_overdue") + " · " if s.overdue else "") + status_label(s.status.value),
            t("percent"): s.percent,
            t("last_update"): thai.format_date_th(s.last_update, abbr=True) if s.last_update else "",
        }
        for s in states
    ])
