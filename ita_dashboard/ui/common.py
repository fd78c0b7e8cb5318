"""Streamlit glue shared by app.py and the pages: engine, login state, filters, small widgets.

Session-state keys (tests set them directly):
- ``auth_user_id``: the logged-in user's id; ``auth_last_seen``: epoch seconds of the last run;
  ``auth_method``: "password" or "sso"; ``auth_token``: the login session's token (the cookie's
  value; tests that set ``auth_user_id`` alone skip the server-side session check);
- ``org_id``, ``fiscal_year``: the sidebar filters.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional
from zoneinfo import ZoneInfo

import streamlit as st
from sqlalchemy.engine import Engine

from .. import auth, db, thai
from ..textsafe import md
from .. import sessions as login_sessions
from ..config import database_url, get_settings
from ..models import Organization, Role, User
from ..permissions import Actor, load_actor
from ..services import orgs as orgs_svc
from ..services import summary as summary_svc
from ..services.data_version import data_version
from ..services.surveys import fiscal_years_with_data
from ..errors import ItaError
from ..texts import role_label, t


@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> Engine:
    engine = db.make_engine(url)
    db.migrate(engine)
    _clear_abandoned_imports(engine)
    return engine


def _clear_abandoned_imports(engine: Engine) -> None:
    """App start: rows of survey imports that died half-way (services/survey_staging.py) are
    deleted. They count nowhere meanwhile, so a failure here only leaves them for later."""
    from ..services.survey_staging import clear_abandoned

    try:
        clear_abandoned(engine)
    except Exception:  # noqa: BLE001 -- the next import of that survey deletes them too
        pass


def get_engine() -> Engine:
    """One engine per process and database URL, migrated on first use."""
    return _engine_for(database_url())


@contextmanager
def database_errors_shown() -> Iterator[None]:
    """A busy or vanished database (db.DatabaseBusy / db.DatabaseGone) ends the run with its Thai
    message on screen instead of a traceback; what the form holds stays in its widgets."""
    try:
        yield
    except db.DatabaseUnavailable as exc:
        st.error(str(exc), icon=":material/database:")
        st.stop()


@contextmanager
def session(*, write: bool = False) -> Iterator[Any]:
    """A unit of work for the pages. Forms that save pass ``write=True``: on SQLite they queue
    for the write lock (``BEGIN IMMEDIATE``, db.session_scope) and, when it does not come within
    the busy timeout, the page says so plainly (``database_errors_shown``); every other database
    error of the unit of work goes on to the caller as before."""
    with database_errors_shown(), db.session_scope(get_engine(), write=write) as s:
        yield s


# --- authentication state -------------------------------------------------------------------


def current_user() -> Optional[User]:
    """The logged-in, active user, or None (also after the idle timeout, with a message).

    A browser session without a login is resumed from the login-session cookie when its token is
    still good (:func:`ita_dashboard.sessions.resume`): that is what keeps a reload, a typed
    address or a bookmark logged in. A login whose server-side session was revoked meanwhile
    (logout elsewhere, password change, lock, deactivation, restore) ends here.
    """
    user_id = st.session_state.get("auth_user_id")
    if user_id is None:
        return _resume_from_cookie()
    if not isinstance(user_id, int) or isinstance(user_id, bool):  # only login() sets it, always an int id
        logout()
        return None
    idle = get_settings().session_idle_minutes * 60
    last = st.session_state.get("auth_last_seen", time.time())
    if time.time() - last > idle:
        logout()
        st.session_state["auth_message"] = t("session_expired")
        return None
    token = st.session_state.get("auth_token")
    if token is not None and _resume(token) is None:
        user = None
    else:
        with session() as s:
            user = s.get(User, user_id)
    if user is None or not user.active:
        logout()
        if token is not None:
            st.session_state["auth_message"] = t("session_ended")
        return None
    st.session_state["auth_last_seen"] = time.time()
    return user


def _resume(token: str) -> Optional[login_sessions.Resumed]:
    """Check a login-session token; when the database is too busy to note the use (a long import
    on SQLite), check it without writing rather than fail the page."""
    # db.session_scope directly: the page's session() would show the busy message and stop the run
    try:
        with db.session_scope(get_engine()) as s:
            return login_sessions.resume(s, token)
    except db.DatabaseBusy:
        with session() as s:
            return login_sessions.resume(s, token, touch=False)


def _cookie_token() -> Optional[str]:
    """The login-session cookie the browser sent when this browser session connected."""
    try:
        value = st.context.cookies.get(login_sessions.COOKIE_NAME)
    except Exception:  # no request context (bare runs, some test harnesses)
        return None
    return value if isinstance(value, str) and value else None


def _resume_from_cookie() -> Optional[User]:
    token = _cookie_token()
    # Each cookie value is looked at once per browser session: after a logout the browser's
    # first request still carried it (st.context.cookies is what the connection began with).
    if token is None or st.session_state.get("_auth_cookie_seen") == token:
        return None
    st.session_state["_auth_cookie_seen"] = token
    resumed, user = _resume(token), None
    if resumed is not None:
        with session() as s:
            user = s.get(User, resumed.user_id)
    if resumed is None or user is None:
        st.session_state[_COOKIE_OP_KEY] = ("clear", None)  # forged, expired or revoked: drop it
        return None
    st.session_state["auth_user_id"] = user.id
    st.session_state["auth_last_seen"] = time.time()
    st.session_state["auth_method"] = resumed.method
    st.session_state["auth_token"] = token
    return user


_COOKIE_OP_KEY = "_auth_cookie_op"


def sync_session_cookie() -> None:
    """Write or delete the login-session cookie in the browser, when login/logout asked for it.

    Streamlit has no API to set a cookie from Python (``st.context.cookies`` only reads them),
    so a few lines of JavaScript in the page (``st.html`` with ``unsafe_allow_javascript``, run
    in the app's own document) set ``document.cookie``: ``SameSite=Strict``, ``Secure`` when the
    page is served over HTTPS, ``Path=/``, living as long as the session may. A cookie written
    by JavaScript cannot be HttpOnly (README, security). The value is the token alone; every
    check is on the server, so a cookie that was never set or never deleted changes nothing.
    This is the app's only script with a value in it: :func:`cookie_script` builds it from a
    fixed shape and refuses anything but a token's characters.
    """
    op = st.session_state.pop(_COOKIE_OP_KEY, None)
    if not op:
        return
    kind, token = op
    st.html(cookie_script(kind, token), unsafe_allow_javascript=True)


_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]{32,128}")


def cookie_script(kind: str, token: Optional[str] = None) -> str:
    """The ``<script>`` that sets (``kind="set"``, a token from :func:`sessions.start`) or deletes
    the login-session cookie; a token with any character outside URL-safe base64 deletes instead."""
    name = login_sessions.COOKIE_NAME
    if kind == "set" and isinstance(token, str) and _TOKEN_CHARS.fullmatch(token):
        max_age = int(get_settings().session_max_hours) * 3600
        value = f"{name}={token}; Path=/; Max-Age={max_age}; SameSite=Strict"
    else:
        value = f"{name}=; Path=/; Max-Age=0; SameSite=Strict"
    return ("<script>(function(){var c=" + json.dumps(value)
            + ";if(location.protocol==='https:'){c+='; Secure';}document.cookie=c;})();</script>")


def current_actor(user: User) -> Actor:
    """The user's actor with their organisation memberships."""
    with session() as s:
        return load_actor(s, user_id=user.id)


# The user and actor app.py loaded for this run, so the page it runs through st.navigation does
# not read them again. A context variable, not session state: it belongs to the script thread's
# run (fragments on worker threads and a page file run without app.py see None and load their own).
_RUN_LOGIN: ContextVar[Optional[tuple[User, Actor]]] = ContextVar("ita_run_login", default=None)


def begin_run() -> None:
    """Called first by app.py: forget the previous run's login (one script thread runs many reruns)."""
    _RUN_LOGIN.set(None)


def keep_login(user: User, actor: Actor) -> None:
    """app.py, past its gate: the page of this run uses this user and actor."""
    _RUN_LOGIN.set((user, actor))


def run_user() -> Optional[User]:
    """The logged-in user of this run: app.py's, or (a page run without app.py) :func:`current_user`."""
    kept = _RUN_LOGIN.get()
    return kept[0] if kept is not None else current_user()


def run_actor(user: User) -> Actor:
    """The actor of ``user`` for this run: app.py's, or loaded now."""
    kept = _RUN_LOGIN.get()
    if kept is not None and kept[0] is user:
        return kept[1]
    return current_actor(user)


@st.cache_data(show_spinner=False, max_entries=64, ttl=3600)
def _org_options(url: str, version: tuple[int, int], org_ids: Optional[frozenset[int]]) -> list[orgs_svc.OrgOption]:
    with session() as s:
        return orgs_svc.org_options(s, org_ids=org_ids)


def org_options(actor: Actor) -> list[orgs_svc.OrgOption]:
    """The organisations ``actor`` may see, cached per data version (a province office has thousands)."""
    with session() as s:
        version = data_version(s)
    return _org_options(database_url(), version, actor.org_ids)


def visible_org_count(actor: Actor) -> int:
    """How many organisations the actor may see (the roll-up is for more than one)."""
    return len(org_options(actor))


def login(user: User, *, method: str = "password") -> None:
    """Log ``user`` in: a server-side login session, its token kept here and (next run) in the
    browser's cookie."""
    with session() as s:
        token = login_sessions.start(s, user_id=user.id, method=method)
    st.session_state["auth_user_id"] = user.id
    st.session_state["auth_last_seen"] = time.time()
    st.session_state["auth_method"] = method
    st.session_state["auth_token"] = token
    st.session_state["_auth_cookie_seen"] = token
    st.session_state[_COOKIE_OP_KEY] = ("set", token)


def logout() -> None:
    """End the login: its server-side session is revoked and the browser's cookie deleted. An SSO
    identity cookie is dropped too, or the login screen would sign the person straight back in
    (after an idle timeout the identity provider must be asked again)."""
    token = st.session_state.get("auth_token")
    if token:
        with session() as s:
            login_sessions.revoke(s, token, reason=login_sessions.LOGOUT)
    for key in ("auth_user_id", "auth_last_seen", "auth_method", "auth_token", "org_id", "fiscal_year"):
        st.session_state.pop(key, None)
    cookie = _cookie_token()
    if cookie:
        st.session_state["_auth_cookie_seen"] = cookie  # what this connection began with: not again
    st.session_state[_COOKIE_OP_KEY] = ("clear", None)
    if sso_identity() is not None:
        st.logout()


def signed_in_with_sso() -> bool:
    return st.session_state.get("auth_method") == "sso"


# --- single sign-on (st.login, OIDC) --------------------------------------------------------

SSO_SECTION = "ita_sso"  # our own secrets section (README, "Single sign-on"):
#   username_claim = "email" (default; must be verified) / "sub" / "oid" / "preferred_username"
#   trust_email_issuers = ["https://login.microsoftonline.com/<tenant-id>/v2.0"]  (providers that never send email_verified)


def sso_configured() -> bool:
    """True when .streamlit/secrets.toml has the ``[auth]`` section that ``st.login`` reads."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all, or one that does not parse
        return False


def authlib_installed() -> bool:
    """``st.login`` needs the optional Authlib package."""
    return importlib.util.find_spec("authlib") is not None


def sso_policy() -> auth.SsoPolicy:
    """How identities map to accounts, from ``[ita_sso]`` (defaults: verified e-mail only)."""
    try:
        section = st.secrets.get(SSO_SECTION) or {}
        claim = str(section.get("username_claim") or auth.SSO_DEFAULT_CLAIM)
        issuers = section.get("trust_email_issuers") or ()
        if isinstance(issuers, str):
            issuers = (issuers,)
        return auth.SsoPolicy(claim=claim, trust_email_issuers=tuple(str(i) for i in issuers if i))
    except Exception:
        return auth.SsoPolicy()


def sso_claim() -> str:
    """Which OIDC claim names the local account (``[ita_sso] username_claim``, default email)."""
    return sso_policy().claim


def sso_identity() -> Optional[dict[str, Any]]:
    """The claims ``st.user`` holds after a completed ``st.login``, or None."""
    if not sso_configured():
        return None
    try:
        info = dict(st.user.to_dict())
    except Exception:
        return None
    return info if info.get("is_logged_in") else None


BANGKOK = ZoneInfo("Asia/Bangkok")


def local_time(value: dt.datetime) -> dt.datetime:
    """A stored UTC datetime (naive from SQLite, aware from PostgreSQL) in Asia/Bangkok, for display."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(BANGKOK)


# --- page context ---------------------------------------------------------------------------


@dataclass
class PageContext:
    user: User
    actor: Actor
    org: Organization
    fiscal_year: int

    @property
    def org_id(self) -> int:
        return self.org.id


def page_context(*, roles: Optional[Iterable[Role]] = None, year_filter: bool = True) -> PageContext:
    """Everything a page needs: refuses anonymous users and roles not listed; draws the filters."""
    user = run_user()
    if user is None:
        st.warning(t("login_title"))
        st.stop()
    if flash := st.session_state.pop("flash", None):
        st.success(flash)
    actor = run_actor(user)
    options = org_options(actor)
    if not options:
        st.info(t("no_org"))
        st.stop()
    chosen = _org_filter(options)
    with session() as s:
        org = s.get(Organization, chosen.id)
    # Roles are per organisation: the page sees the actor as it stands in the selected one.
    actor = actor.for_org(org.id)
    if roles is not None and actor.role not in set(roles):
        st.error(t("no_access"))
        st.stop()
    year = _year_filter(org) if year_filter else st.session_state.get("fiscal_year")
    _sidebar_footer(user, org, actor.role)
    return PageContext(user=user, actor=actor, org=org, fiscal_year=year)


def _persistent_select(label: str, options: list, *, key: str, format_func) -> object:
    """A sidebar selectbox whose value survives page switches.

    Widget state belongs to one page script, so the value lives under ``key`` (plain session
    state) and the widget under ``_w_<key>``, seeded from it on every page.
    """
    widget_key = f"_w_{key}"
    st.session_state[widget_key] = st.session_state[key]

    def _copy() -> None:
        st.session_state[key] = st.session_state[widget_key]

    st.sidebar.selectbox(label, options, key=widget_key, format_func=format_func, on_change=_copy)
    return st.session_state[key]


MANY_ORGS = 30  # above this, the switcher asks for the province first


def _org_filter(options: list[orgs_svc.OrgOption]) -> orgs_svc.OrgOption:
    """The organisation select; with many organisations a province select narrows it first."""
    by_id = {o.id: o for o in options}
    if st.session_state.get("org_id") not in by_id:
        st.session_state["org_id"] = options[0].id
    shown = options
    if len(options) > MANY_ORGS:
        by_province: dict[str, list[orgs_svc.OrgOption]] = {}
        for o in options:
            by_province.setdefault(o.province or "", []).append(o)
        st.session_state["org_province"] = by_id[st.session_state["org_id"]].province or ""

        def _province_changed() -> None:  # the first organisation of the newly chosen province
            st.session_state["org_id"] = by_province[st.session_state["_w_org_province"]][0].id

        st.session_state["_w_org_province"] = st.session_state["org_province"]
        st.sidebar.selectbox(t("province"), sorted(by_province), key="_w_org_province", on_change=_province_changed,
                             format_func=lambda p: p or t("no_province"))
        shown = by_province[st.session_state["org_province"]]
    if len(options) > 1:
        names = {o.id: o.name for o in shown}
        _persistent_select(t("organization"), list(names), key="org_id", format_func=names.__getitem__)
    return by_id[st.session_state["org_id"]]


def _year_filter(org: Organization) -> int:
    with session() as s:
        years = fiscal_years_with_data(s, organization_id=org.id)
        default = summary_svc.default_fiscal_year(s, organization_id=org.id)
    current = thai.fiscal_year_of(dt.date.today())
    options = sorted(set(years) | {current, default}, reverse=True)
    if st.session_state.get("fiscal_year") not in options or st.session_state.get("_year_org") != org.id:
        st.session_state["fiscal_year"] = default
        st.session_state["_year_org"] = org.id
    return _persistent_select(t("fiscal_year"), options, key="fiscal_year", format_func=lambda y: t("year_be", year=y))


def _sidebar_footer(user: User, org: Organization, role: Role) -> None:
    if org.is_demo:
        st.sidebar.warning(t("demo_badge"), icon=":material/science:")

    st.sidebar.caption(f"{md(user.display_name or user.username)} · {role_label(Role(role).value)}")


def as_of_month_picker(fiscal_year: int, *, key: str = "as_of_month") -> dt.date:
    """Month-end selector inside the fiscal year (Thai month names, BE years); default: this
    month if the year is running, else the year's last month."""
    months = thai.fiscal_months(fiscal_year)
    ends = [thai.month_end(y, m) for y, m in months]
    today = dt.date.today()
    default = next((i for i, e in enumerate(ends) if e >= today), len(ends) - 1)
    if st.session_state.get(key) not in ends:
        st.session_state[key] = ends[default]
    return st.selectbox(
        t("as_of_month"), ends, key=key, format_func=lambda d: thai.format_month_th(d.year, d.month)
    )


def effective_date(month_end: dt.date) -> dt.date:
    """The state "as of" a month end, or today when the month is still running."""
    return min(month_end, dt.date.today())


def show_error(exc: Exception) -> None:
    """An error's message quotes user input (a name, a cell): shown as text. An ``ItaError`` is
    shown in the screen's language (its code's text); anything else by its ``str``."""
    st.error(md(exc.message() if isinstance(exc, ItaError) else str(exc)))
