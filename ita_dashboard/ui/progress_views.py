"""Measures page sections: progress by Excel file (download → fill → upload → preview → confirm) and
the activities list with its add form.

User text (titles, notes, activity texts) is shown with ``st.text`` or inside dataframes, never
as markdown/HTML.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from ..textsafe import md
from .. import thai
from ..errors import ItaError
from ..importers.tabular import FileProblem
from ..permissions import (PermissionDenied, can_add_activity, can_delete_activity, can_update_progress, is_org_admin,
                           may_add_activity)
from ..services import activities as act_svc
from ..services import status_sheet as sheet_svc
from ..services.uploads import check_size
from . import common
from ..texts import status_label, t
from .thai_date import date_picker

_XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_RESULT_KEY = "progress_sheet_result"
_UPLOAD_N_KEY = "progress_sheet_upload_n"
_ACT_FLASH_KEY = "activity_flash"
_ACT_ADDED_KEY = "activity_added"  # the confirmation, shown in the add form's expander
_ACT_FORM_N_KEY = "activity_form_n"
_MAX_LISTED = 20


# ---------------------------------------------------------------- progress by spreadsheet


def status_sheet_section(ctx: common.PageContext, states, *, as_of: dt.date) -> None:
    """The "update progress with an Excel file" expander (admins and department heads)."""
    if not can_update_progress(ctx.actor, ctx.org_id):  # the one rule, in permissions.py
        return
    result = st.session_state.pop(_RESULT_KEY, None)
    with st.expander(t("progress_sheet_title"), expanded=result is not None):
        if result is not None:
            _show_result(result)
        st.caption(t("progress_sheet_intro"))
        if not is_org_admin(ctx.actor, ctx.org_id):
            st.info(t("progress_sheet_head_note"))
        layout = st.radio(t("progress_sheet_layout"), ["single", "per_department"], horizontal=True,
                          key="progress_sheet_layout", format_func=lambda v: t(f"progress_sheet_{v}"))
        with common.session() as s:
            data = sheet_svc.build_status_workbook(s, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year,
                                                   as_of=as_of, per_department=layout == "per_department")
        suffix = "_" + t("progress_sheet_file_per_department") if layout == "per_department" else ""
        st.download_button(t("progress_sheet_download"), data, key="progress_sheet_download",
                           file_name=f"{t('progress_sheet_file')}_{ctx.fiscal_year}_{thai.file_date(as_of)}{suffix}.xlsx",
                           mime=_XLSX_MIME, icon=":material/download:")
        _upload(ctx, states)


def _show_result(result: dict) -> None:
    st.success(t("progress_sheet_done", **{k: result[k] for k in ("read", "imported", "duplicate", "rejected")}))
    cols = st.columns(4)
    for c, key in zip(cols, ("read", "imported", "duplicate", "rejected")):
        c.metric(t(key), result[key])
    if result["rejected_rows"]:
        st.caption(t("rejected_rows"))
        st.dataframe(_rejected_frame(result["rejected_rows"]), hide_index=True, width="stretch")


def _rejected_frame(entries: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([
        {t("sheet"): e.get("sheet", ""), t("row"): e.get("row"), t("column"): e.get("column", ""),
         t("reason"): e.get("reason", "")}
        for e in entries
    ])


def _upload(ctx: common.PageContext, states) -> None:
    n = st.session_state.get(_UPLOAD_N_KEY, 0)
    file = st.file_uploader(t("progress_sheet_upload"), type=["xlsx", "xls", "ods", "csv"], key=f"progress_sheet_file_{n}")
    if file is None:
        return
    data = file.getvalue()
    try:
        check_size(data)
        parsed = sheet_svc.parse_status_workbook(data)
    except FileProblem as exc:
        st.error(t("file_problem", reason=md(str(exc))))
        return
    try:
        with common.session() as s:
            outcomes = sheet_svc.check_status_sheet(s, organization_id=ctx.org_id, sheet=parsed, actor=ctx.actor)
    except PermissionDenied as exc:
        st.error(md(str(exc)))
        return

    st.subheader(t("preview"))
    notes = [t("progress_sheet_sheets", sheets=", ".join(md(x) for x in parsed.sheets))]
    if parsed.as_of:
        notes.insert(0, t("progress_sheet_as_of", date=thai.format_date_th(parsed.as_of)))
    st.caption(" · ".join(notes))
    to_import = sum(1 for o in outcomes if o.outcome == "import")
    duplicate = sum(1 for o in outcomes if o.outcome == "duplicate")
    rejected = [*parsed.rejected, *({"sheet": o.row.sheet, "row": o.row.row, "column": o.column, "reason": o.reason}
                                    for o in outcomes if o.outcome == "rejected")]
    rejected.sort(key=lambda e: (e["sheet"], e["row"]))
    cols = st.columns(4)
    cols[0].metric(t("read"), parsed.read_count)
    cols[1].metric(t("progress_sheet_to_import"), to_import)
    cols[2].metric(t("duplicate"), duplicate)
    cols[3].metric(t("rejected"), len({(e["sheet"], e["row"]) for e in rejected}))
    if not parsed.read_count:
        st.info(t("progress_sheet_nothing"))
    by_id = {s.id: s for s in states}
    labels = {"import": t("progress_sheet_to_import"), "duplicate": t("duplicate"), "rejected": t("rejected")}
    if outcomes:
        st.dataframe(pd.DataFrame([
            {
                t("progress_sheet_outcome"): labels[o.outcome],
                t("measure_no"): by_id[o.row.measure_id].number if o.row.measure_id in by_id else None,
                t("measure"): by_id[o.row.measure_id].title if o.row.measure_id in by_id else f"#{o.row.measure_id}",
                t("status"): status_label(o.status.value) if o.status else "",
                t("percent"): o.percent,
                t("note"): o.note,
                t("evidence"): o.evidence_url or "",
                t("as_of_date"): thai.format_date_th(o.row.as_of, abbr=True),
            }
            for o in outcomes
        ]), hide_index=True, width="stretch")
    if rejected:
        st.warning(f"{t('rejected_rows')}: {len(rejected)}")
        st.dataframe(_rejected_frame(rejected), hide_index=True, width="stretch")
    if st.button(t("progress_sheet_confirm"), type="primary", key="progress_sheet_confirm", disabled=not to_import):
        try:
            with common.session(write=True) as s:
                batch = sheet_svc.apply_status_sheet(s, organization_id=ctx.org_id, sheet=parsed, actor=ctx.actor,
                                                     file_name=file.name, file_bytes=data)
                result = {"read": batch.read_count, "imported": batch.imported_count,
                          "duplicate": batch.duplicate_count, "rejected": batch.rejected_count,
                          "rejected_rows": list(batch.rejected_rows)}
        except ItaError as exc:
            st.error(t("file_problem", reason=md(exc.message())))
            return
        st.session_state[_RESULT_KEY] = result
        st.session_state[_UPLOAD_N_KEY] = n + 1  # a fresh uploader: the file is not offered twice
        st.rerun()


# ---------------------------------------------------------------- activities


def activities_section(ctx: common.PageContext, states) -> None:
    """The fiscal year's activities (newest first, photos as thumbnails) and the add form."""
    st.divider()
    st.subheader(t("activities_title"))
    flash = st.session_state.pop(_ACT_FLASH_KEY, None)
    if flash:
        st.success(flash)
    months = thai.fiscal_months(ctx.fiscal_year)
    month = st.selectbox(t("activities_month"), [None, *months], key="activities_month",
                         format_func=lambda m: t("all") if m is None else thai.format_month_th(*m))
    with common.session() as s:
        items = act_svc.list_activities(s, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year, month=month)
    if not items:
        st.caption(t("activities_none"))
    for a in items[:_MAX_LISTED]:
        _activity_card(ctx, a)
    if len(items) > _MAX_LISTED:
        st.caption(t("activities_more", shown=_MAX_LISTED, total=len(items)))
    _activity_form(ctx, states)


def _activity_card(ctx: common.PageContext, a: act_svc.ActivityItem) -> None:
    with st.container(border=True):
        if a.has_photo:
            left, right = st.columns([1, 3])
        else:
            left, right = None, st.container()
        if left is not None:
            with common.session() as s:
                photo = act_svc.activity_photo(s, activity_id=a.id, organization_id=ctx.org_id)
            with left:
                if photo is not None:
                    st.image(photo[0], width=200)
                else:
                    st.caption(t("activity_photo_missing"))
        with right:
            st.caption(thai.format_date_th(a.date))
            st.text(a.title)
            if a.measure_number is not None:
                st.text(f"{t('measure')} {a.measure_number}. {(a.measure_title or '')[:100]}")
            if a.text:
                st.text(a.text)
            if can_delete_activity(ctx.actor, ctx.org_id) and st.button(t("activity_delete"), key=f"activity_delete_{a.id}",
                                                icon=":material/delete:"):
                try:
                    with common.session(write=True) as s:
                        act_svc.delete_activity(s, activity_id=a.id, actor=ctx.actor)
                except (act_svc.ActivityError, PermissionDenied) as exc:
                    st.error(md(str(exc)))
                    return
                st.session_state[_ACT_FLASH_KEY] = t("activity_deleted")
                st.rerun()


def _activity_form(ctx: common.PageContext, states) -> None:
    if not can_add_activity(ctx.actor, ctx.org_id):
        return
    # The choices are what the service accepts (permissions.require_add_activity, asked as a yes/no).
    options: list = [None] if may_add_activity(ctx.actor, organization_id=ctx.org_id, measure_department_ids=None) else []
    options += [s.id for s in states if may_add_activity(ctx.actor, organization_id=ctx.org_id,
                                                         measure_department_ids=s.department_ids,
                                                         measure_owner_all=s.owner_all)]
    if not options:
        st.caption(t("activity_no_editable_measure"))
        return
    by_id = {s.id: s for s in states}
    lo, hi = thai.fiscal_year_bounds(ctx.fiscal_year)
    default = min(max(dt.date.today(), lo), hi)
    added = st.session_state.pop(_ACT_ADDED_KEY, None)
    n = st.session_state.get(_ACT_FORM_N_KEY, 0)
    sfx = f"_{n}" if n else ""  # new keys after a save: an empty form; a refused save keeps what was typed
    with st.expander(t("activity_add"), expanded=added is not None):
        if added is not None:  # here, where the user pressed "save", not at the top of the list
            st.success(added, icon=":material/check_circle:")
            st.toast(added, icon=":material/check_circle:")
        if not is_org_admin(ctx.actor, ctx.org_id):
            st.caption(t("activity_head_note"))
        with st.form(f"activity_add_form{sfx}"):
            when = date_picker(t("date"), default, key=f"activity_date{sfx}", min_value=lo, max_value=hi)
            title = st.text_input(t("activity_title"), max_chars=500, key=f"activity_title{sfx}")
            text = st.text_area(t("activity_text"), key=f"activity_text{sfx}")
            measure_id = st.selectbox(
                t("activity_measure"), options, key=f"activity_measure{sfx}",
                format_func=lambda i: t("activity_no_measure") if i is None else f"{by_id[i].number}. {by_id[i].title[:80]}",
            )
            photo = st.file_uploader(t("activity_photo"), type=list(act_svc.PHOTO_TYPES), key=f"activity_photo{sfx}")
            if st.form_submit_button(t("save"), type="primary") and when is not None:
                try:
                    with common.session(write=True) as s:
                        act_svc.add_activity(s, organization_id=ctx.org_id, date=when, title=title, text=text,
                                             measure_id=measure_id, photo=photo.getvalue() if photo else None,
                                             actor=ctx.actor)
                except (act_svc.ActivityError, PermissionDenied) as exc:
                    st.error(md(str(exc)))
                    return
                st.session_state[_ACT_ADDED_KEY] = t("activity_added_on", title=md(title.strip()[:80]),
                                                     date=thai.format_date_th(when))
                st.session_state[_ACT_FORM_N_KEY] = n + 1
                st.rerun()
