"""Admin page: the organisation's abbreviation table (สป. -> สำนักปลัด, ...), shown and edited.

One editable table: abbreviation, the unit word it stands for or a registered department, in use,
and where the entry comes from (the standard list, the standard list edited here, or this
agency's own). Saving turns the differences into service calls (``services/abbreviations.py``):
each checks that the user is an admin of this organisation, records one audit event and places
the earlier unmatched survey rows and measure owners that now resolve; the message says how many.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

import pandas as pd
import streamlit as st

from ..departments import abbreviation_key
from ..errors import ItaError
from ..services import abbreviations as abbr
from ..services import orgs
from . import common
from ..texts import t

COLUMNS = ("abbreviation", "expansion", "department", "active", "source")
NO_DEPARTMENT = "—"  # the department cell of an entry that stands for a unit word


@dataclass(frozen=True)
class Change:
    """One service call the saved table asks for."""

    op: str  # "set" / "remove"
    abbreviation: str
    expansion: Optional[str] = None
    department_id: Optional[int] = None
    row: int = 0  # 1-based row on screen, for messages


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return " ".join(str(value).split())


def _department(value: Any) -> str:
    text = _text(value)
    return "" if text == NO_DEPARTMENT else text


def _flag(value: Any) -> bool:
    """A checkbox cell; a new row's empty cell means the default, in use."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    return bool(value)


def _source(entry: abbr.AbbreviationEntry) -> str:
    if not entry.standard:
        return t("abbr_source_own")
    return t("abbr_source_standard_edited") if entry.edited else t("abbr_source_standard")


def table_rows(entries: list[abbr.AbbreviationEntry], dep_names: dict[int, str]) -> list[dict[str, Any]]:
    return [{"abbreviation": e.abbreviation, "expansion": e.expansion or "",
             "department": dep_names.get(e.department_id, NO_DEPARTMENT) if e.department_id else NO_DEPARTMENT,
             "active": e.active, "source": _source(e)} for e in entries]


def changes(before: list[dict[str, Any]], after: list[dict[str, Any]], dep_ids: dict[str, int]) -> list[Change]:
    """The service calls that turn table ``before`` into ``after`` (rows as :func:`table_rows`
    gives them; ``after`` may have rows deleted or added at the end, as ``st.data_editor`` does)."""
    old = {abbreviation_key(r["abbreviation"]): r for r in before}
    seen: set[str] = set()
    out: list[Change] = []
    for i, row in enumerate(after, start=1):
        written = _text(row.get("abbreviation"))
        key = abbreviation_key(written)
        if not key:
            if _text(row.get("expansion")) or _department(row.get("department")):
                out.append(Change("set", "", _text(row.get("expansion")) or None, None, i))  # refused: no abbreviation
            continue
        seen.add(key)
        active = _flag(row.get("active"))
        expansion = _text(row.get("expansion")) or None
        department = _department(row.get("department"))
        department_id = dep_ids.get(department) if department else None
        if department_id is not None:
            expansion = None  # a chosen department wins over the unit word
        prev = old.get(key)
        if prev is not None and (written, expansion or "", department, active) == (
                _text(prev["abbreviation"]), _text(prev["expansion"]), _department(prev["department"]), bool(prev["active"])):
            continue
        if not active:
            if prev is None or prev["active"]:
                out.append(Change("remove", written, row=i))
            continue
        out.append(Change("set", written, expansion, department_id, i))
    for key, prev in old.items():
        if key not in seen and prev["active"]:
            out.append(Change("remove", prev["abbreviation"]))
    return out


def abbreviations(ctx: common.PageContext) -> None:
    with st.expander(t("abbr_title")):
        _table(ctx)


def _table(ctx: common.PageContext) -> None:
    with common.session() as s:
        entries = abbr.list_abbreviations(s, organization_id=ctx.org_id)
        deps = orgs.departments_of(s, organization_id=ctx.org_id)
    dep_names = {d.id: d.name for d in deps}
    dep_ids = {d.name: d.id for d in deps}
    st.caption(t("abbr_caption"))
    before = table_rows(entries, dep_names)
    edited = st.data_editor(
        pd.DataFrame(before, columns=list(COLUMNS)), key="abbr_editor", hide_index=True, num_rows="dynamic",
        width="stretch", disabled=["source"],
        column_config={
            "abbreviation": st.column_config.TextColumn(t("abbr_col_abbreviation"), required=True, max_chars=20),
            "expansion": st.column_config.TextColumn(t("abbr_col_expansion"), max_chars=abbr.MAX_EXPANSION),
            "department": st.column_config.SelectboxColumn(t("abbr_col_department"), options=[NO_DEPARTMENT, *dep_ids]),
            "active": st.column_config.CheckboxColumn(t("abbr_col_active"), default=True),
            "source": st.column_config.TextColumn(t("abbr_col_source")),
        },
    )
    if st.button(t("abbr_save"), key="abbr_save"):
        todo = changes(before, edited.to_dict("records"), dep_ids)
        if not todo:
            st.info(t("abbr_no_changes"))
        elif _apply(ctx, todo):
            st.rerun()
    edited_standard = [e for e in entries if e.standard and e.edited]
    if edited_standard:
        c = st.columns([3, 1])
        pick = c[0].selectbox(t("abbr_restore"), [e.abbreviation for e in edited_standard], key="abbr_restore_pick")
        if c[1].button(t("abbr_restore_button"), key="abbr_restore"):
            if _apply(ctx, [Change("restore", pick)]):
                st.rerun()


def _apply(ctx: common.PageContext, todo: list[Change]) -> bool:
    """Run the changes in one transaction: all or nothing. On success the message goes to the
    next run (``flash``), which the page shows at the top."""
    responses = measures = 0
    try:
        with common.session() as s:
            for change in todo:
                try:
                    if change.op == "set":
                        r = abbr.set_abbreviation(s, actor=ctx.actor, organization_id=ctx.org_id,
                                                  abbreviation=change.abbreviation, expansion=change.expansion,
                                                  department_id=change.department_id)
                    elif change.op == "remove":
                        r = abbr.remove_abbreviation(s, actor=ctx.actor, organization_id=ctx.org_id,
                                                     abbreviation=change.abbreviation)
                    else:
                        r = abbr.restore_standard(s, actor=ctx.actor, organization_id=ctx.org_id,
                                                  abbreviation=change.abbreviation)
                except abbr.AbbreviationError as exc:
                    if not change.row:
                        raise
                    raise abbr.AbbreviationError(t("abbr_row_error", row=change.row, message=exc)) from exc
                responses += r.responses_resolved
                measures += r.measures_changed
    except ItaError as exc:
        common.show_error(exc)
        return False
    st.session_state["flash"] = t("abbr_saved", changes=len(todo), responses=responses, measures=measures)
    st.session_state.pop("abbr_editor", None)
    return True
