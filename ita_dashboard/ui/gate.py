"""The screens before the app: first-run setup, login, forced password change."""

from __future__ import annotations

import streamlit as st
from sqlmodel import select

from ..textsafe import md
from .. import auth, thai
from ..errors import ItaError
from ..framework import AGENCY_KINDS
from ..models import Organization, User
from ..permissions import Actor
from ..services import orgs as orgs_svc
from . import common
from ..texts import t


def database_is_empty() -> bool:
    with common.session() as s:
        return s.exec(select(Organization.id)).first() is None and s.exec(select(User.id)).first() is None


def setup_screen() -> None:
    st.title(t("setup_title"))
    st.write(t("setup_intro"))
    left, right = st.columns(2)
    with left.form("setup_form"):
        name = st.text_input(t("setup_org_name"), placeholder=t("setup_org_placeholder"))
        kind = st.selectbox(t("setup_org_kind"), AGENCY_KINDS)
        province = st.text_input(t("province"))
        district = st.text_input(t("district"))
        departments = st.text_area(t("setup_departments"), t("setup_departments_example"))
        username = st.text_input(t("setup_admin_user"), "admin")
        password = st.text_input(t("password"), type="password")
        password2 = st.text_input(t("new_password_again"), type="password")
        if st.form_submit_button(t("setup_create"), type="primary"):
            if password != password2:
                st.error(t("passwords_differ"))
            else:
                try:
                    with common.session(write=True) as s:
                        org = orgs_svc.create_organization(
                            s, name=name, kind=kind, province=province or None, district=district or None,
                            departments=departments.splitlines(), actor=Actor.system(),
                        )
                        user = auth.create_user(s, username=username, password=password, role="admin",
                                                organization_id=org.id)
                    common.login(user)
                    st.rerun()
                except ItaError as exc:
                    common.show_error(exc)
    with right:
        st.subheader(t("setup_demo"))
        st.caption(t("demo_badge"))
        if st.button(t("setup_demo"), key="load_demo"):
            from ..demo import DEMO_PASSWORD, load_demo

            with st.spinner(t("setup_demo_loading")):
                with common.session(write=True) as s:
                    result = load_demo(s)
            st.session_state["demo_message"] = t(
                "setup_demo_done", password=DEMO_PASSWORD, accounts=", ".join(a.username for a in result.accounts)
            )
            st.rerun()


def login_screen() -> None:
    st.title(t("app_title"))
    st.caption(t("app_subtitle"))
    if msg := st.session_state.pop("auth_message", None):
        st.warning(msg)
    if msg := st.session_state.get("demo_message"):
        st.success(msg)
    if common.sso_configured():
        _sso_section()
    with st.form("login_form"):
        username = st.text_input(t("username"), max_chars=100)
        password = st.text_input(t("password"), type="password", max_chars=auth.MAX_PASSWORD_LENGTH)
        submitted = st.form_submit_button(t("login_button"), type="primary")
    if submitted:
        with common.session() as s:
            result = auth.authenticate(s, username=username, password=password)
        if result.user is not None:
            common.login(result.user)
            st.session_state.pop("demo_message", None)
            st.rerun()
        st.error(md(result.message))
        if result.locked_until:
            st.warning(t("locked_until", time=thai.format_datetime_th(common.local_time(result.locked_until))))


def _sso_section() -> None:
    """Sign-in through the identity provider configured in secrets.toml ([auth], st.login).

    After the provider sends the person back, ``st.user`` holds their claims; the local account
    whose username equals the configured claim (default: e-mail) logs in with its own role. An
    identity without an account is told to ask the admin; it is checked (and audited) once.
    """
    identity = common.sso_identity()
    if identity is None:
        if not common.authlib_installed():
            st.warning(t("sso_missing_authlib"))
            return
        if st.button(t("sso_button"), key="sso_login", type="primary", icon=":material/key:"):
            st.login()
        st.caption(t("sso_or_local"))
        return
    policy = common.sso_policy()
    seen = (policy.claim, str(identity.get(policy.claim) or ""))
    if st.session_state.get("sso_refused_for") != seen:
        with common.session() as s:
            result = auth.sso_login(s, claims=identity, policy=policy)
        if result.user is not None:
            st.session_state.pop("sso_refused_for", None)
            common.login(result.user, method="sso")
            st.rerun()
        st.session_state["sso_refused_for"] = seen
        st.session_state["sso_refused_message"] = result.message
    st.error(md(st.session_state.get("sso_refused_message", "")))
    if st.button(t("sso_logout"), key="sso_logout"):
        st.session_state.pop("sso_refused_for", None)
        st.logout()


def change_password_screen(user: User, *, forced: bool = False) -> None:
    if forced:
        st.title(t("change_password"))
        st.info(t("must_change_password"))
    with st.form("password_form"):
        old = st.text_input(t("old_password"), type="password")
        new = st.text_input(t("new_password"), type="password")
        new2 = st.text_input(t("new_password_again"), type="password")
        if st.form_submit_button(t("change_password"), type="primary"):
            if new != new2:
                st.error(t("passwords_differ"))
                return
            try:
                with common.session(write=True) as s:
                    # every other login of this user ends; this browser's stays
                    auth.change_password(s, user_id=user.id, old_password=old, new_password=new,
                                         keep_token=st.session_state.get("auth_token"))
                st.success(t("password_changed_others_ended"))
                if forced:
                    st.rerun()
            except auth.AuthError as exc:
                st.error(md(str(exc)))
