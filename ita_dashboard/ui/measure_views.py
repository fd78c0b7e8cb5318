"""Measures page sections: filters, one measure's detail, progress form and history."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from ..textsafe import md
from .. import thai
from ..models import Role, Status
from ..permissions import PermissionDenied, can_edit_measure
from ..services import measures as svc
from . import common
from ..texts import role_label, status_label, t
from .thai_date import date_picker

_SAVED_KEY = "progress_saved"  # {"measure_id", "text"}: the confirmation shown next to the form
_FORM_N_KEY = "progress_form_n"  # bumped after a save: new widget keys, an empty form
_TABLE_PICK_KEY = "_measures_table_pick"  # the row last clicked in the table


def filters(states, *, departments, fiscal_year: int):
    c = st.columns([2, 2, 2, 3])
    dep_options = [None] + [d.id for d in departments]
    dep = c[0].selectbox(t("department"), dep_options, key="f_dep",
                         format_func=lambda i: t("all") if i is None else next(d.name for d in departments if d.id == i))
    status_options = [None, "overdue"] + [s.value for s in Status]
    status = c[1].selectbox(t("status"), status_options, key="f_status",
                            format_func=lambda v: t("all") if v is None else status_label(v))
    period_options = [None, "q1", "q2", "q3", "q4", "r6", "r12"]
    period = c[2].selectbox(t("quarter") + " / " + t("round"), period_options, key="f_period",
                            format_func=lambda v: t("all") if v is None else (
                                t("quarter_n", n=v[1]) if v.startswith("q") else t(f"round_{v[1:]}")))
    text = c[3].text_input(t("search"), key="f_text").strip()

    out = []
    for s in states:
        if dep is not None and not (s.owner_all or dep in s.department_ids):
            continue
        if status == "overdue" and not s.overdue:
            continue
        if status not in (None, "overdue") and s.status.value != status:
            continue
        if period is not None:
            lo, hi = (thai.quarter_bounds(fiscal_year, int(period[1])) if period.startswith("q")
                      else thai.round_bounds(fiscal_year, int(period[1:])))
            if not (s.start and s.end and s.start <= hi and s.end >= lo):
                continue
        if text and text not in " ".join([s.title, s.steps, s.owner_text, s.output_text, s.outcome_text]):
            continue
        out.append(s)
    st.caption(t("measures_shown", shown=len(out), total=len(states)))
    return out


def table(states) -> None:
    """The filtered measures; a click on a row opens that measure in the detail view below."""
    from .widgets import MEASURES_COLUMNS, measures_frame

    event = st.dataframe(measures_frame(states), hide_index=True, placeholder="", width="stretch", key="measures_table",
                         on_select="rerun", selection_mode="single-row",
                         column_config={t(k): c for k, c in MEASURES_COLUMNS.items()})
    rows = list(event.selection.rows) if event and hasattr(event, "selection") else []
    picked = states[rows[0]].id if rows and rows[0] < len(states) else None
    if picked is not None and picked != st.session_state.get(_TABLE_PICK_KEY):
        st.session_state["measure_pick"] = picked  # the selectbox below follows the click
    st.session_state[_TABLE_PICK_KEY] = picked
    st.caption(t("measures_table_hint"))


def detail_and_update(ctx: common.PageContext, states, *, as_of: dt.date) -> None:
    st.divider()
    ids = [s.id for s in states]
    chosen = st.selectbox(t("measure"), ids, key="measure_pick",
                          format_func=lambda i: next(f"{s.number}. {_short(s.title)}" for s in states if s.id == i))
    m = next(s for s in states if s.id == chosen)
    left, right = st.columns([3, 2])
    with left:
        if m.section_title:
            st.caption(f"{t('section')} {m.section_number or ''} {md(m.section_title)}")
        st.subheader(f"{m.number}. {md(m.title)}")
        st.text(f"{t('owner')}: {m.owner_text}")
        if m.unresolved_owners:
            st.caption(f"{t('unresolved_owner')}: {', '.join(md(o) for o in m.unresolved_owners)}")
        st.text(f"{t('period')}: {m.period_text}")
        if m.period_unparsed:
            st.warning(t("period_unparsed"))
        with st.expander(t("steps")):
            st.text(m.steps)
        with st.expander(t("output") + " / " + t("outcome")):
            st.text(m.output_text)
            st.text(m.outcome_text)
    with right:
        _update_form(ctx, m, as_of=as_of)
    _history(m)


def _update_form(ctx: common.PageContext, m, *, as_of: dt.date) -> None:
    st.subheader(t("update_progress"))
    allowed = can_edit_measure(ctx.actor, organization_id=ctx.org_id, department_ids=m.department_ids, owner_all=m.owner_all)
    if not allowed:
        st.info(cannot_edit_text(ctx.actor))
        return
    # The confirmation shows here, next to the form the user just used; a fresh form (new keys)
    # after a save, while a refused save keeps what was typed.
    if saved := st.session_state.pop(_SAVED_KEY, None):
        if saved["measure_id"] == m.id:
            st.success(saved["text"], icon=":material/check_circle:")
            st.toast(saved["text"], icon=":material/check_circle:")
    n = st.session_state.get(_FORM_N_KEY, 0)
    statuses = [s.value for s in Status]
    lo, hi = thai.fiscal_year_bounds(ctx.fiscal_year)
    latest = max(lo, min(hi, dt.date.today()))
    with st.form(f"progress_{m.id}_{n}"):
        status = st.selectbox(t("status"), statuses, index=statuses.index(m.status.value), format_func=status_label,
                              key=f"progress_status_{m.id}_{n}")
        percent = st.slider(t("percent"), 0, 100, m.percent, step=5, key=f"progress_percent_{m.id}_{n}")
        note = st.text_area(t("note"), "", key=f"progress_note_{m.id}_{n}")
        evidence = st.text_input(t("evidence"), m.evidence_url or "", key=f"progress_evidence_{m.id}_{n}")
        when = date_picker(t("as_of_date"), min(as_of, latest), key=f"progress_when_{m.id}_{n}", min_value=lo,
                           max_value=latest)
        if st.form_submit_button(t("save"), type="primary") and when is not None:
            try:
                with common.session(write=True) as s:
                    svc.record_progress(s, measure_id=m.id, status=status, percent=percent, note=note,
                                        evidence_url=evidence or None, as_of=when, actor=ctx.actor)
            except (svc.ProgressError, PermissionDenied) as exc:
                st.error(md(str(exc)))
                return
            shown = 100 if status == Status.done.value else percent
            st.session_state[_SAVED_KEY] = {
                "measure_id": m.id,
                "text": t("progress_saved", number=md(m.number), status=status_label(status), percent=shown,
                          date=thai.format_date_th(when)),
            }
            st.session_state[_FORM_N_KEY] = n + 1
            st.rerun()


def cannot_edit_text(actor) -> str:
    """Why the form is not there, in words that fit the role: a department head of another
    department, a head whose account has no department, or a role that only reads."""
    if actor.role == Role.department_head:
        return t("cannot_edit") if actor.department_id is not None else t("cannot_edit_no_department")
    return t("cannot_edit_read_only", role=role_label(Role(actor.role).value))


def _history(m) -> None:
    with common.session() as s:
        rows = svc.history(s, measure_id=m.id)
    st.subheader(t("history"))
    if not rows:
        st.caption(t("no_progress_yet"))
        return
    st.dataframe(pd.DataFrame([
        {t("as_of_date"): thai.format_date_th(r.as_of, abbr=True), t("status"): status_label(r.status.value if hasattr(r.status, "value") else r.status),
         t("percent"): r.percent, t("note"): r.note, t("evidence"): r.evidence_url or ""}
        for r in reversed(rows)
    ]), hide_index=True, placeholder="", width="stretch")


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"
