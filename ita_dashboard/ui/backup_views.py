"""Admin page tab: create and download a backup, restore one (ita_dashboard/backup.py does the work
and checks the actor again)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from ..textsafe import md
from .. import backup, db, thai
from ..errors import ItaError
from ..permissions import PermissionDenied
from . import common
from ..texts import role_label, t

_FILE_KEY = "backup_file"  # (file name, bytes, rows, tables) of the last backup made here
_PREVIEW_KEY = "restore_preview"  # ((file id, size), BackupPreview or the Thai error text)


def _error_text(exc: ItaError) -> str:
    return exc.message()  # BackupError: the Thai text of its code, not the English CLI line


def _local_time(iso: str) -> str:
    try:
        when = dt.datetime.fromisoformat(iso).astimezone(ZoneInfo("Asia/Bangkok"))
    except ValueError:
        return iso
    return thai.format_datetime_th(when)


def backup_restore(ctx: common.PageContext) -> None:
    st.caption(t("backup_intro"))
    with common.session() as s:
        try:
            backup.require_database_admin(s, actor=ctx.actor)
        except PermissionDenied as exc:
            st.info(md(str(exc)))
            return

    if st.button(t("backup_create"), key="backup_create"):
        try:
            data, result = backup.backup_bytes(common.get_engine(), actor=ctx.actor)
        except (backup.BackupError, PermissionDenied, db.DatabaseUnavailable) as exc:
            st.error(md(_error_text(exc)))
        else:
            st.session_state[_FILE_KEY] = (backup.default_file_name(), data, result.rows, result.tables)
    if made := st.session_state.get(_FILE_KEY):
        name, data, rows, tables = made
        st.success(t("backup_created", rows=f"{rows:,}", tables=tables))
        st.download_button(t("backup_download"), data=data, file_name=name, mime="application/zip",
                           key="backup_download", on_click="ignore")
    st.caption(t("backup_cli_hint"))

    st.subheader(t("restore_title"))
    st.warning(t("restore_warning"))
    uploaded = st.file_uploader(t("restore_file"), type=["zip"], key="restore_upload")
    preview = _preview(ctx, uploaded) if uploaded else None
    if uploaded is None:
        st.caption(t("restore_preview_need_file"))
    allow_unsigned = False
    if preview is not None:
        _show_preview(preview)
        if preview.signature in ("unsigned", "invalid"):
            st.error(t("backup_error_unsigned" if preview.signature == "unsigned" else "backup_error_bad_signature"))
            allow_unsigned = st.checkbox(t("restore_allow_unsigned"), key="restore_allow_unsigned")
        elif preview.signature == "valid":
            st.success(t("restore_signature_valid"))
        else:
            st.caption(t("restore_signature_no_key"))
    confirmed = st.checkbox(t("restore_confirm"), key="restore_confirm")
    ready = preview is not None and confirmed and (allow_unsigned or preview.signature in ("valid", "no_key"))
    if st.button(t("restore_button"), key="restore_button", type="primary", disabled=not ready):
        try:
            result = backup.restore_backup(common.get_engine(), source=uploaded, actor=ctx.actor, file_name=uploaded.name,
                                           allow_unsigned=allow_unsigned)
        except (backup.BackupError, PermissionDenied, db.DatabaseUnavailable) as exc:
            st.error(md(_error_text(exc)))
            return
        # The restored accounts may not include this one (or give its id to someone else).
        common.logout()
        st.session_state.pop(_FILE_KEY, None)
        st.session_state.pop(_PREVIEW_KEY, None)
        st.session_state["auth_message"] = t("restore_done", rows=f"{result.rows:,}", created=_local_time(result.created_at))
        st.rerun()


def _preview(ctx: common.PageContext, uploaded) -> Optional[backup.BackupPreview]:
    """The uploaded file checked completely and summarised (backup.preview_backup), once per
    upload; a file that fails the check shows why and offers no restore."""
    key = (uploaded.file_id, uploaded.size)
    cached = st.session_state.get(_PREVIEW_KEY)
    if cached is None or cached[0] != key:
        try:
            with st.spinner(t("restore_preview_title")):
                found: Any = backup.preview_backup(common.get_engine(), source=uploaded, actor=ctx.actor)
        except (backup.BackupError, PermissionDenied, db.DatabaseUnavailable) as exc:
            found = _error_text(exc)
        cached = (key, found)
        st.session_state[_PREVIEW_KEY] = cached
    if isinstance(cached[1], str):
        st.error(md(cached[1]))
        return None
    return cached[1]


def _show_preview(p: backup.BackupPreview) -> None:
    """What the backup brings, as data (tables show cell text as text, never as markup)."""
    st.markdown(f"**{t('restore_preview_title')}**")
    st.caption(t("restore_preview_created", created=_local_time(p.created_at), database=md(p.database or "-"),
                 revision=md(p.revision), rows=f"{p.total_rows:,}"))
    every = t("restore_preview_every_org")
    with st.expander(t("restore_preview_orgs", n=len(p.organizations)), expanded=True):
        st.dataframe(pd.DataFrame([{t("restore_preview_col_org"): o["name"],
                                    t("restore_preview_col_province"): o.get("province") or ""}
                                   for o in p.organizations]), hide_index=True, width="stretch")
    with st.expander(t("restore_preview_users", n=len(p.users)), expanded=True):
        st.dataframe(pd.DataFrame([{
            t("restore_preview_col_user"): u.username, t("restore_preview_col_name"): u.display_name,
            t("restore_preview_col_roles"): ", ".join(f"{role_label(role)} ({org or every})" for org, role in u.roles),
            t("restore_preview_col_active"): u.active,
        } for u in p.users]), hide_index=True, width="stretch")
    with st.expander(t("restore_preview_counts")):
        st.dataframe(pd.DataFrame([{t("restore_preview_col_table"): name, t("restore_preview_col_rows"): n}
                                   for name, n in p.rows.items()]), hide_index=True, width="stretch")
