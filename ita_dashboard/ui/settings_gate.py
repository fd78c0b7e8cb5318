"""The app's first check: a bad DATABASE_URL or ITA_* value stops it with that setting's line.

The line is the one the CLI prints (``setting ITA_SESSION_MAX_HOURS: expected ...``), for the
admin who set the variable; scripts/run.sh runs ``check-settings`` before the app starts, so this
is the second net (a server started another way, a value changed before a restart).
"""

from __future__ import annotations

import streamlit as st

from ..config import SettingsError, get_settings
from ..texts import t
from ..textsafe import md


def require_valid_settings() -> None:
    """Read the settings (once per process); on a bad value show its line and stop the run."""
    try:
        get_settings()
    except SettingsError as exc:
        st.error(f"{t('settings_invalid')}\n\n{md(str(exc))}", icon=":material/settings:")
        st.stop()
