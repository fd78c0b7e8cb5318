"""Streamlit glue shared by app.py and the pages: engine, login state, filters, small widgets.

Session-state keys (tests set them directly):
- ``auth_user_id``: the logged-in user's id; ``auth_last_seen``: epoch seconds of the last run;
  ``auth_method``: "password" or "sso";
- ``org_id``, ``fiscal_year``: the sidebar filters.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import time
from dataclasses import dataclass
from typing import Any, Iterable, Optional
from zoneinfo import ZoneInfo

import streamlit as st
from sqlalchemy.engine import Engine

from .. import auth, db, thai
from ..config import database_url, get_settings
from ..models import Organization, Role, User
from ..permissions import Actor, load_actor
from ..services import orgs as orgs_svc
from ..services import summary as summary_svc
from ..services.surveys import fiscal_years_with_data
from .strings import role_label, t


@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> Engine:
    engine = db.make_engine(url)
    db.migrate(engine)
    return engine


def get_engine() -> Engine:
    """One engine per process and database URL, migrated on first use."""
    return _engine_for(database_url())


def session():
    return db.session_scope(get_engine())


# --- authentication state -------------------------------------------------------------------


def current_user() -> Optional[User]:
    """The logged-in, active user, or None (also after the idle timeout, with a message)."""
    user_id = st.session_state.get("auth_user_id")
    if user_id is None:
        return None
    if not isinstance(user_id, int) or isinstance(user_id, bool):  # only login() sets it, always an int id
        logout()
        return None
    idle = get_settings().session_idle_minutes * 60
    last = st.session_state.get("auth_last_seen", time.time())
    if time.time() - last > idle:
        logout()
        st.session_state["auth_message"] = t("session_expired")
        return None
    with session() as s:
        user = s.get(User, user_id)
    if user is None or not user.active:
        logout()
        return None
    st.session_state["auth_last_seen"] = time.time()
    return user


def current_actor(user: User) -> Actor:
    """The user's actor with their organisation memberships."""
    with session() as s:
        return load_actor(s, user_id=user.id)


def visible_org_count(actor: Actor) -> int:
    """How many organisations the actor may see (the roll-up is for more than one)."""
    with session() as s:
        return len(orgs_svc.list_organizations(s, actor=actor))


def login(user: User, *, method: str = "password") -> None:
    st.session_state["auth_user_id"] = user.id
    st.session_state["auth_last_seen"] = time.time()
    st.session_state["auth_method"] = method


def logout() -> None:
    """Forget the local login; an SSO identity cookie is dropped too, or the login screen would
    sign the person straight back in (after an idle timeout the identity provider must be asked again)."""
    for key in ("auth_user_id", "auth_last_seen", "auth_method", "org_id", "fiscal_year"):
        st.session_state.pop(key, None)
    if sso_identity() is not None:
        st.logout()


def signed_in_with_sso() -> bool:
    return st.session_state.get("auth_method") == "sso"


# --- single sign-on (st.login, OIDC) --------------------------------------------------------

SSO_SECTION = "ita_sso"  # our own secrets section: username_claim = "email" (default) / "preferred_username" / "sub"


def sso_configured() -> bool:
    """True when .streamlit/secrets.toml has the ``[auth]`` section that ``st.login`` reads."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all, or one that does not parse
        return False


def authlib_installed() -> bool:
    """``st.login`` needs the optional Authlib package."""
    return importlib.util.find_spec("authlib") is not None


def sso_claim() -> str:
    """Which OIDC claim names the local account (``[ita_sso] username_claim``, default email)."""
    try:
        section = st.secrets.get(SSO_SECTION) or {}
        return str(section.get("username_claim") or auth.SSO_DEFAULT_CLAIM)
    except Exception:
        return auth.SSO_DEFAULT_CLAIM


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
    user = current_user()
    if user is None:
        st.warning(t("login_title"))
        st.stop()
    if flash := st.session_state.pop("flash", None):
        st.success(flash)
    with session() as s:
        actor = load_actor(s, user_id=user.id)
        orgs = orgs_svc.list_organizations(s, actor=actor)
    if not orgs:
        st.info(t("no_org"))
        st.stop()
    org = _org_filter(orgs)
    # Roles are per organisation: the page sees the actor as it stands in the selected one.
    actor = actor.for_org(org.id)
    if roles is not None and actor.role not in set(roles):
        st.error("คุณไม่มีสิทธิ์เข้าถึงหน้านี้")
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


def _org_filter(orgs: list[Organization]) -> Organization:
    ids = [o.id for o in orgs]
    if st.session_state.get("org_id") not in ids:
        st.session_state["org_id"] = ids[0]
    if len(orgs) > 1:
        names = {o.id: o.name for o in orgs}  # a dict: thousands of options at a province office
        _persistent_select(t("organization"), ids, key="org_id", format_func=names.__getitem__)
    return next(o for o in orgs if o.id == st.session_state["org_id"])


def _year_filter(org: Organization) -> int:
    with session() as s:
        years = fiscal_years_with_data(s, organization_id=org.id)
        default = summary_svc.default_fiscal_year(s, organization_id=org.id)
    current = thai.fiscal_year_of(dt.date.today())
    options = sorted(set(years) | {current, default}, reverse=True)
    if st.session_state.get("fiscal_year") not in options or st.session_state.get("_year_org") != org.id:
        st.session_state["fiscal_year"] = default
        st.session_state["_year_org"] = org.id
    return _persistent_select(t("fiscal_year"), options, key="fiscal_year", format_func=lambda y: f"พ.ศ. {y}")


def _sidebar_footer(user: User, org: Organization, role: Role) -> None:
    if org.is_demo:
        st.sidebar.warning(t("demo_badge"), icon=":material/science:")
    from .widgets import md_escape  # user text in markdown: shown as text

    st.sidebar.caption(f"{md_escape(user.display_name or user.username)} · {role_label(Role(role).value)}")


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
    st.error(str(exc))
