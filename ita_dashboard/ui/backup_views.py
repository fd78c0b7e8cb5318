"""Admin page tab: create and download a backup, restore one (ita_dashboard/backup.py does the work
and checks the actor again)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import streamlit as st

from .. import backup, thai
from ..permissions import PermissionDenied
from . import common
from .strings import t

_FILE_KEY = "backup_file"  # (file name, bytes, rows, tables) of the last backup made here


def _error_text(exc: Exception) -> str:
    if isinstance(exc, backup.BackupError):
        return t(f"backup_error_{exc.code}", **exc.params)
    return str(exc)


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
            st.info(str(exc))
            return

    if st.button(t("backup_create"), key="backup_create"):
        try:
            data, result = backup.backup_bytes(common.get_engine(), actor=ctx.actor)
        except (backup.BackupError, PermissionDenied) as exc:
            st.error(_error_text(exc))
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
    confirmed = st.checkbox(t("restore_confirm"), key="restore_confirm")
    if st.button(t("restore_button"), key="restore_button", type="primary", disabled=not (uploaded and confirmed)):
        try:
            result = backup.restore_backup(common.get_engine(), source=uploaded, actor=ctx.actor, file_name=uploaded.name)
        except (backup.BackupError, PermissionDenied) as exc:
            st.error(_error_text(exc))
            return
        # The restored accounts may not include this one (or give its id to someone else).
        common.logout()
        st.session_state.pop(_FILE_KEY, None)
        st.session_state["auth_message"] = t("restore_done", rows=f"{result.rows:,}", created=_local_time(result.created_at))
        st.rerun()
