"""Reusable page sections (KPI row, score bullets, department table, due list)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from .. import charts, thai
from ..services import measures as measures_svc
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
    return f"{t('gap')} {target - n:,}" if n < target else "ครบเป้าหมาย ✓"


def score_section(data: dict) -> None:
    iit, eit = data["surveys"]["iit"]["estimated_score"], data["surveys"]["eit"]["estimated_score"]
    scores = {"IIT": iit, "EIT": eit, "OIT": data.get("oit_estimate"), "รวม (ถ่วงน้ำหนัก)": data["estimated_total"]}
    st.plotly_chart(charts.score_bullets(scores, bar=data["passing_bar"]), width="stretch", key="score_bullets")
    below = [k.upper() for k in data["below_bar"]]
    if below:
        st.warning(f"ต่ำกว่าเกณฑ์ {data['passing_bar']:g}: {', '.join(below)}")
    st.caption(t("estimate_note"))


def department_table(data: dict) -> None:
    """Departments ranked by how far behind they are (largest survey gap and overdue first)."""
    rows = []
    names = set(data["measures"]["by_department"]) | set(data["surveys"]["iit"]["by_department"])
    for name in names:
        m = data["measures"]["by_department"].get(name, {"total": 0, "done": 0, "overdue": 0})
        iit = data["surveys"]["iit"]["by_department"].get(name, {"responses": 0, "target": None})
        gap = max((iit["target"] or 0) - iit["responses"], 0)
        behind = gap + 5 * m.get("overdue", 0)
        rows.append({
            t("department"): name,
            "มาตรการเสร็จ": f"{m['done']}/{m['total']}",
            t("status_overdue"): m.get("overdue", 0),
            "IIT": f"{iit['responses']}/{iit['target'] or '–'}",
            f"IIT {t('gap')}": gap,
            "สถานะ": t("behind") if behind else t("on_track"),
            "_behind": behind,
        })
    df = pd.DataFrame(rows).sort_values("_behind", ascending=False).drop(columns="_behind")
    st.subheader(t("dept_table"))
    colours = {t("behind"): "color: #c62828; font-weight: bold", t("on_track"): "color: #2e7d32"}
    st.dataframe(df.style.map(lambda v: colours.get(v, ""), subset=["สถานะ"]), hide_index=True, width="stretch")


def due_list(states, *, as_of: dt.date) -> None:
    st.subheader(t("due_next"))
    due = measures_svc.measures_due(states, as_of=as_of)
    if not due:
        st.success(t("none_due"))
        return
    for s in due:
        when = thai.format_date_th(s.end, abbr=True) if s.end else "–"
        badge = (f":red[:material/error: **{t('status_overdue')}** (ครบกำหนด {when})]" if s.overdue
                 else f":orange[:material/schedule: ครบกำหนด {when}]")
        st.markdown(f"**{s.number}.** {md_escape(s.title)}  \n{badge} · {status_label(s.status.value)} {s.percent}%")


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
