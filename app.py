"""Entry point: page config, database ready, setup / login gate, then st.navigation over app_pages/."""

import streamlit as st

from ita_dashboard.texts import t  # pure data: importing it calls no streamlit
from ita_dashboard.ui.settings_gate import require_valid_settings

require_valid_settings()  # a bad DATABASE_URL / ITA_* value: its one line, nothing else (before t() reads ITA_LANG)
st.set_page_config(page_title=t("app_title"), page_icon=":material/monitoring:", layout="wide")

from ita_dashboard.ui import common, gate  # noqa: E402

common.begin_run()  # this run's user and actor are loaded once, below
common.get_engine()  # creates or upgrades the schema before anything else
common.sync_session_cookie()  # the login-session cookie, after a login or a logout


def _only(screen, title: str) -> None:
    """Run one screen under a hidden navigation, so Streamlit lists no pages before login."""
    st.navigation([st.Page(screen, title=title, url_path="start")], position="hidden").run()
    st.stop()


if gate.database_is_empty():
    _only(gate.setup_screen, t("setup_title"))

user = common.current_user()
if user is None:
    _only(gate.login_screen, t("login_title"))
if user.must_change_password and not common.signed_in_with_sso():  # SSO users have no password to change
    _only(lambda: gate.change_password_screen(user, forced=True), t("change_password"))

actor = common.current_actor(user)  # roles are per organisation (memberships)
common.keep_login(user, actor)  # the page of this run reads them from here (page_context)
pages = [
    st.Page("app_pages/overview.py", title=t("nav_overview"), icon=":material/monitoring:", default=True),
    st.Page("app_pages/measures.py", title=t("nav_measures"), icon=":material/checklist:"),
    st.Page("app_pages/surveys.py", title=t("nav_surveys"), icon=":material/assignment:"),
    st.Page("app_pages/oit.py", title=t("nav_oit"), icon=":material/public:"),
    st.Page("app_pages/report.py", title=t("nav_report"), icon=":material/description:"),
    st.Page("app_pages/meeting.py", title=t("nav_meeting"), icon=":material/slideshow:"),
]
if common.visible_org_count(actor) > 1:
    pages.insert(1, st.Page("app_pages/rollup.py", title=t("nav_rollup"), icon=":material/leaderboard:"))
if actor.is_admin_anywhere:
    pages += [
        st.Page("app_pages/upload.py", title=t("nav_upload"), icon=":material/upload_file:"),
        st.Page("app_pages/admin.py", title=t("nav_admin"), icon=":material/settings:"),
    ]
pages.append(st.Page("app_pages/account.py", title=t("nav_account"), icon=":material/person:"))

nav = st.navigation(pages)
with st.sidebar:
    if st.button(t("logout"), key="logout_button"):
        common.logout()
        st.rerun()
nav.run()
