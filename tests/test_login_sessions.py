"""Login sessions (a reload keeps the login), lockout under parallel attempts, SSO trust.

Issue 12 #2 and issue 13 #2, #5, #8 (a password change ends the other sessions). Every test runs
on SQLite and PostgreSQL: the lockout is counted by the database, and the two lock differently.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading

import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from ita_dashboard import auth, db
from ita_dashboard import sessions as login_sessions
from ita_dashboard.models import AuditEvent, LoginSession, User
from ita_dashboard.permissions import Actor
from ita_dashboard.services import memberships, users
from tests.helpers import PASSWORD, actor_for, make_org, make_user

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc)


def _start(engine, user_id: int, now=T0) -> str:
    with db.session_scope(engine) as s:
        return login_sessions.start(s, user_id=user_id, now=now)


def _resume(engine, token, now=T0):
    with db.session_scope(engine) as s:
        return login_sessions.resume(s, token, now=now)


# --- tokens -------------------------------------------------------------------------------------


def test_token_opens_its_session_and_only_its_hash_is_stored(engine):
    uid = make_user(engine, username="clerk", role="viewer", org_id=None)
    token = _start(engine, uid)
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    got = _resume(engine, token, T0 + dt.timedelta(minutes=5))
    assert got is not None and got.user_id == uid and got.method == "password"
    with db.session_scope(engine) as s:
        row = s.exec(select(LoginSession)).one()
        stored = [str(getattr(row, c)) for c in LoginSession.__table__.columns.keys()]
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not any(token in value for value in stored)  # the token itself is nowhere in the row
    assert row.user_id == uid and row.revoked_at is None
    assert row.expires_at == T0 + dt.timedelta(hours=12)


def test_two_logins_get_different_tokens(engine):
    uid = make_user(engine, username="clerk", role="viewer", org_id=None)
    assert _start(engine, uid) != _start(engine, uid)


@pytest.mark.parametrize("tamper", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character changed
    lambda t: t + "x",
    lambda t: t[:-1],
    lambda t: t.upper(),
    lambda t: hashlib.sha256(t.encode()).hexdigest(),  # the stored hash offered as a token
    lambda t: "",
    lambda t: None,
    lambda t: "x" * 5000,
    lambda t: "' OR 1=1 --",
])
def test_forged_or_tampered_tokens_open_nothing(engine, tamper):
    uid = make_user(engine, username="clerk", role="viewer", org_id=None)
    token = _start(engine, uid)
    assert _resume(engine, tamper(token)) is None
    assert _resume(engine, token) is not None  # the real one still works


def test_idle_timeout_and_absolute_expiry(engine, monkeypatch):
    monkeypatch.setenv("ITA_SESSION_IDLE_MINUTES", "30")
    monkeypatch.setenv("ITA_SESSION_MAX_HOURS", "2")
    uid = make_user(engine, username="clerk", role="viewer", org_id=None)
    idle = _start(engine, uid)
    assert _resume(engine, idle, T0 + dt.timedelta(minutes=29)) is not None
    assert _resume(engine, idle, T0 + dt.timedelta(minutes=29 + 31)) is None  # 31 min since the last use
    busy = _start(engine, uid)
    at = T0
    while at < T0 + dt.timedelta(hours=2) - dt.timedelta(minutes=20):
        at += dt.timedelta(minutes=20)
        assert _resume(engine, busy, at) is not None, at  # used every 20 minutes: stays
    assert _resume(engine, busy, T0 + dt.timedelta(hours=2)) is None  # the absolute end, however active


def test_last_use_is_written_at_most_once_a_minute(engine):
    uid = make_user(engine, username="clerk", role="viewer", org_id=None)
    token = _start(engine, uid)
    _resume(engine, token, T0 + dt.timedelta(seconds=30))
    with db.session_scope(engine) as s:
        assert s.exec(select(LoginSession.last_seen_at)).one() == T0
    with db.session_scope(engine) as s:  # a check that must not write (busy database) writes nothing
        assert login_sessions.resume(s, token, now=T0 + dt.timedelta(seconds=80), touch=False) is not None
        assert s.exec(select(LoginSession.last_seen_at)).one() == T0
    _resume(engine, token, T0 + dt.timedelta(seconds=90))
    with db.session_scope(engine) as s:
        assert s.exec(select(LoginSession.last_seen_at)).one() == T0 + dt.timedelta(seconds=90)


def test_logout_revokes_only_that_session(engine):
    uid = make_user(engine, username="clerk", role="viewer", org_id=None)
    laptop, phone = _start(engine, uid), _start(engine, uid)
    with db.session_scope(engine) as s:
        assert login_sessions.revoke(s, laptop, now=T0)
        assert not login_sessions.revoke(s, laptop, now=T0)  # already ended
    assert _resume(engine, laptop) is None and _resume(engine, phone) is not None
    with db.session_scope(engine) as s:
        row = s.exec(select(LoginSession).where(LoginSession.token_hash == login_sessions.hash_token(laptop))).one()
    assert row.revoked_reason == "logout" and row.revoked_at == T0


def test_password_change_ends_the_other_sessions_but_not_this_one(engine):
    uid = make_user(engine, username="clerk", role="viewer", org_id=None)
    here, elsewhere = _start(engine, uid), _start(engine, uid)
    with db.session_scope(engine) as s:
        auth.change_password(s, user_id=uid, old_password=PASSWORD, new_password="fresh-pass-2569", keep_token=here)
    assert _resume(engine, here) is not None
    assert _resume(engine, elsewhere) is None


def test_admin_reset_deactivation_and_lock_end_the_users_sessions(engine, monkeypatch):
    monkeypatch.setenv("ITA_LOCKOUT_FAILURES", "3")
    org = make_org(engine)
    admin = actor_for(engine, make_user(engine, username="boss", role="admin", org_id=org))
    reset_me = make_user(engine, username="reset_me", role="viewer", org_id=org)
    close_me = make_user(engine, username="close_me", role="viewer", org_id=org)
    lock_me = make_user(engine, username="lock_me", role="viewer", org_id=org)
    tokens = {uid: _start(engine, uid) for uid in (reset_me, close_me, lock_me)}
    with db.session_scope(engine) as s:
        users.update_user(s, actor=admin, user_id=reset_me, reset_password="temp-pass-2569")
        users.update_user(s, actor=admin, user_id=close_me, active=False)
    with db.session_scope(engine) as s:
        for _ in range(3):
            auth.authenticate(s, username="lock_me", password="wrong-pass-1", now=T0)
    for uid, token in tokens.items():
        assert _resume(engine, token) is None, uid
    with db.session_scope(engine) as s:
        reasons = {r.user_id: r.revoked_reason for r in s.exec(select(LoginSession))}
    assert reasons == {reset_me: "password_reset", close_me: "deactivated", lock_me: "locked"}


def test_a_locked_or_inactive_user_is_refused_even_with_an_open_session(engine):
    uid = make_user(engine, username="clerk", role="viewer", org_id=None)
    token = _start(engine, uid)
    with db.session_scope(engine) as s:
        s.get(User, uid).locked_until = T0 + dt.timedelta(minutes=10)
    assert _resume(engine, token, T0 + dt.timedelta(minutes=5)) is None
    assert _resume(engine, token, T0 + dt.timedelta(minutes=11)) is not None  # the lock ended
    with db.session_scope(engine) as s:
        s.get(User, uid).active = False
    assert _resume(engine, token, T0 + dt.timedelta(minutes=12)) is None


def test_restore_ends_every_session(engine, tmp_path):
    from ita_dashboard.backup import create_backup, restore_backup

    uid = make_user(engine, username="clerk", role="viewer", org_id=None)
    in_backup = _start(engine, uid, now=auth.utcnow())  # a session that the backup file holds
    create_backup(engine, path=tmp_path / "b.zip", actor=Actor.system())
    after = _start(engine, uid, now=auth.utcnow())
    restore_backup(engine, source=tmp_path / "b.zip", actor=Actor.system())
    now = auth.utcnow()
    assert _resume(engine, in_backup, now) is None and _resume(engine, after, now) is None
    with db.session_scope(engine) as s:
        assert {r.revoked_reason for r in s.exec(select(LoginSession))} == {"restore"}


# --- lockout: counted atomically, failures expire ----------------------------------------------


@pytest.fixture
def cheap_hashes(monkeypatch):
    """argon2 with 1 MiB instead of 64 MiB, so 40 parallel checks do not need 2.5 GB."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", cheap)
    monkeypatch.setattr(auth, "_DUMMY_HASH", cheap.hash("not-a-real-password-0"))
    monkeypatch.setenv("ITA_LOCKOUT_FAILURES", "5")
    monkeypatch.setenv("ITA_LOCKOUT_MINUTES", "15")


def _burst(engine, attempts: list[tuple[str, str]]) -> list:
    """Every (username, password) at once, one thread and database session each."""
    barrier = threading.Barrier(len(attempts))
    results: list = [None] * len(attempts)
    errors: list = []

    def attempt(i: int, name: str, password: str) -> None:
        try:
            barrier.wait()
            with db.session_scope(engine) as s:
                r = auth.authenticate(s, username=name, password=password)
                results[i] = (r.user is not None, r.locked_until)
        except Exception as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(i, n, p)) for i, (n, p) in enumerate(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    return results


def test_forty_parallel_wrong_passwords_lock_the_account(engine, cheap_hashes):
    make_user(engine, username="clerk", role="viewer", org_id=None)
    results = _burst(engine, [("clerk", f"wrong-pass-{i}") for i in range(40)])
    assert not any(ok for ok, _ in results)
    with db.session_scope(engine) as s:
        user = s.exec(select(User).where(User.username == "clerk")).one()
        failures = s.exec(select(AuditEvent).where(AuditEvent.action == "login.failure")).all()
        locked_answers = s.exec(select(AuditEvent).where(AuditEvent.action == "login.locked")).all()
    assert user.locked_until is not None and auth._aware(user.locked_until) > auth.utcnow()
    assert len(failures) >= 5 and len(failures) + len(locked_answers) == 40
    # the lock is set, and the right password is refused until it ends
    with db.session_scope(engine) as s:
        assert auth.authenticate(s, username="clerk", password=PASSWORD).user is None
        later = auth.utcnow() + dt.timedelta(minutes=16)
        assert auth.authenticate(s, username="clerk", password=PASSWORD, now=later).user is not None


def test_right_password_inside_a_burst_after_the_limit_is_refused(engine, cheap_hashes):
    make_user(engine, username="clerk", role="viewer", org_id=None)
    _burst(engine, [("clerk", f"wrong-pass-{i}") for i in range(5)])  # the limit, all at once
    results = _burst(engine, [("clerk", f"wrong-pass-{i}") for i in range(20)] + [("clerk", PASSWORD)] * 5)
    assert not any(ok for ok, _ in results)


def test_a_lock_set_while_the_password_is_checked_holds(engine, cheap_hashes, monkeypatch):
    """The right password whose check overlaps the failures that lock the account is refused:
    logging in is a conditional update that matches only an unlocked account."""
    make_user(engine, username="clerk", role="viewer", org_id=None)
    real_verify = auth.verify_password
    fired = []

    def verify_while_others_fail(password_hash: str, password: str) -> bool:
        if password == PASSWORD and not fired:
            fired.append(True)
            for i in range(5):  # other attempts, committed while this check runs
                with db.session_scope(engine) as other:
                    auth.authenticate(other, username="clerk", password=f"wrong-pass-{i}")
        return real_verify(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", verify_while_others_fail)
    with db.session_scope(engine) as s:
        result = auth.authenticate(s, username="clerk", password=PASSWORD)
    assert fired and result.user is None and result.locked_until is not None
    assert result.message == auth.login_failed()


def test_old_failures_expire(engine, monkeypatch):
    monkeypatch.setenv("ITA_LOCKOUT_FAILURES", "5")
    monkeypatch.setenv("ITA_LOCKOUT_WINDOW_MINUTES", "1440")
    make_user(engine, username="clerk", role="viewer", org_id=None)
    months_ago = T0 - dt.timedelta(days=120)
    with db.session_scope(engine) as s:
        for i in range(4):
            auth.authenticate(s, username="clerk", password="wrong-pass-1", now=months_ago + dt.timedelta(minutes=i))
        today = auth.authenticate(s, username="clerk", password="wrong-pass-1", now=T0)
    assert today.locked_until is None  # 4 months ago + 1 today: no lock
    with db.session_scope(engine) as s:
        assert s.exec(select(User)).one().failed_logins == 1
        results = [auth.authenticate(s, username="clerk", password="wrong-pass-1", now=T0 + dt.timedelta(hours=h))
                   for h in range(1, 5)]
    assert results[-1].locked_until is not None  # 5 within the window (each < 24 h after the last)


def test_old_failures_expire_for_names_without_account_too(engine, monkeypatch):
    monkeypatch.setenv("ITA_LOCKOUT_FAILURES", "3")
    monkeypatch.setenv("ITA_LOCKOUT_WINDOW_MINUTES", "60")
    with db.session_scope(engine) as s:
        for i in range(2):
            auth.authenticate(s, username="ghost", password="x", now=T0 - dt.timedelta(hours=3, minutes=i))
        assert auth.authenticate(s, username="ghost", password="x", now=T0).locked_until is None
        auth.authenticate(s, username="ghost", password="x", now=T0 + dt.timedelta(minutes=10))
        assert auth.authenticate(s, username="ghost", password="x", now=T0 + dt.timedelta(minutes=20)).locked_until


# --- SSO: only a verified e-mail, only configured claims, locked and inactive stay shut ----------


@pytest.fixture
def sso_accounts(engine):
    ids = {
        "somchai": make_user(engine, username="somchai@nakhon.go.th", role="executive", org_id=None),
        "a_admin": make_user(engine, username="a_admin", role="admin", org_id=None),
    }
    return engine, ids


def _sso(engine, claims, **kw):
    with db.session_scope(engine) as s:
        r = auth.sso_login(s, claims=claims, now=T0, **kw)
        return r.user.id if r.user else None, r.message


@pytest.mark.parametrize("verified, ok", [
    (True, True), (False, False), (None, False), ("true", False), ("True", False), ("false", False),
    (1, False), (0, False), ("1", False), ("yes", False), ([True], False),
])
def test_sso_email_counts_only_when_verified_is_json_true(sso_accounts, verified, ok):
    engine, ids = sso_accounts
    claims = {"email": "somchai@nakhon.go.th"}
    if verified is not None:
        claims["email_verified"] = verified
    uid, message = _sso(engine, claims)
    assert (uid == ids["somchai"]) if ok else (uid is None and "ยืนยัน" in message)


def test_sso_other_claims_map_only_where_configured(sso_accounts):
    engine, ids = sso_accounts
    claims = {"preferred_username": "a_admin", "email": "attacker@evil.example", "email_verified": True}
    assert _sso(engine, claims)[0] is None  # default: the e-mail, which has no account
    assert _sso(engine, {"preferred_username": "a_admin"})[0] is None  # no e-mail at all
    # an "e-mail" that is a local username, not an address
    assert _sso(engine, {"email": "a_admin", "email_verified": True})[0] is None
    configured = auth.SsoPolicy(claim="preferred_username")
    assert _sso(engine, {"preferred_username": "a_admin"}, policy=configured)[0] == ids["a_admin"]
    assert _sso(engine, {"preferred_username": "A_ADMIN"}, policy=configured)[0] is None  # exact only


def test_sso_locked_and_inactive_accounts_stay_shut(sso_accounts):
    engine, ids = sso_accounts
    claims = {"email": "somchai@nakhon.go.th", "email_verified": True}
    with db.session_scope(engine) as s:
        s.get(User, ids["somchai"]).locked_until = T0 + dt.timedelta(minutes=10)
    uid, message = _sso(engine, claims)
    assert uid is None and "ล็อก" in message
    with db.session_scope(engine) as s:
        user = s.get(User, ids["somchai"])
        user.locked_until, user.active = None, False
    assert _sso(engine, claims)[0] is None


def test_sso_provider_without_the_claim_is_trusted_only_where_configured(sso_accounts):
    engine, ids = sso_accounts
    entra = "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0"
    policy = auth.SsoPolicy(trust_email_issuers=(entra,))
    claims = {"email": "somchai@nakhon.go.th", "iss": entra}
    assert _sso(engine, claims)[0] is None  # not configured: refused
    assert _sso(engine, claims, policy=policy)[0] == ids["somchai"]
    assert _sso(engine, {**claims, "iss": entra.replace("1111", "9999")}, policy=policy)[0] is None
    assert _sso(engine, {"email": "somchai@nakhon.go.th"}, policy=policy)[0] is None  # no issuer


# --- one organisation's admin cannot take another's ------------------------------------------


@pytest.fixture
def two_orgs(engine):
    a, b = make_org(engine, name="เทศบาลเอ"), make_org(engine, name="เทศบาลบี")
    ids = {
        "admin_a": make_user(engine, username="admin_a", role="admin", org_id=a),
        "admin_both": make_user(engine, username="admin_both", role="admin", org_id=a),
        "a_home_b_admin": make_user(engine, username="a_home_b_admin", role="viewer", org_id=a),
        "plain_a": make_user(engine, username="plain_a", role="viewer", org_id=a),
        "b_user": make_user(engine, username="b_user", role="viewer", org_id=b),
        "province": make_user(engine, username="province", role="admin", org_id=None),
    }
    with db.session_scope(engine) as s:
        memberships.grant(s, actor=Actor.system(), user_id=ids["a_home_b_admin"], organization_id=b, role="admin")
        memberships.grant(s, actor=Actor.system(), user_id=ids["admin_both"], organization_id=b, role="admin")
    return engine, a, b, ids


@pytest.mark.parametrize("change", [
    {"reset_password": "hijack-pass-2569"}, {"active": False}, {"role": "executive"},
])
def test_admin_of_a_cannot_change_a_user_who_is_admin_of_b(two_orgs, change):
    engine, _, _, ids = two_orgs
    with pytest.raises(PermissionError):
        with db.session_scope(engine) as s:
            users.update_user(s, actor=actor_for(engine, ids["admin_a"]), user_id=ids["a_home_b_admin"], **change)
    with db.session_scope(engine) as s:  # an admin of both may
        users.update_user(s, actor=actor_for(engine, ids["admin_both"]), user_id=ids["a_home_b_admin"], **change)
    with db.session_scope(engine) as s:  # and the admin of A still manages A's own people
        users.update_user(s, actor=actor_for(engine, ids["admin_a"]), user_id=ids["plain_a"], **change)


def test_list_users_has_no_hashes_and_no_other_organisation(two_orgs):
    engine, a, b, ids = two_orgs
    with db.session_scope(engine) as s:
        listed_a = users.list_users(s, actor=actor_for(engine, ids["admin_a"]), organization_id=a)
        listed_b = users.list_users(s, actor=actor_for(engine, ids["admin_both"]), organization_id=b)
        with pytest.raises(PermissionError):
            users.list_users(s, actor=actor_for(engine, ids["admin_a"]), organization_id=b)
        with pytest.raises(PermissionError):
            users.list_users(s, actor=actor_for(engine, ids["admin_a"]), organization_id=None)
    assert {u.username for u in listed_a} == {"admin_a", "admin_both", "a_home_b_admin", "plain_a"}
    assert {u.username: u.role.value for u in listed_b} == {"b_user": "viewer", "a_home_b_admin": "admin",
                                                            "admin_both": "admin"}
    for u in listed_a + listed_b:
        assert not hasattr(u, "password_hash")
        assert "argon2" not in repr(u)


def test_only_an_every_organisation_admin_creates_organisations(two_orgs):
    from ita_dashboard.services import orgs

    engine, _, _, ids = two_orgs
    with pytest.raises(PermissionError):
        with db.session_scope(engine) as s:
            orgs.create_organization(s, name="เทศบาลใหม่", kind="เทศบาลตำบล", actor=actor_for(engine, ids["admin_a"]))
    with db.session_scope(engine) as s:
        orgs.create_organization(s, name="เทศบาลใหม่", kind="เทศบาลตำบล", actor=actor_for(engine, ids["province"]))


# --- the app: login writes a session and the cookie, logout revokes it ---------------------------


def _html_texts(at) -> list[str]:
    return [getattr(e, "proto", None).body if hasattr(getattr(e, "proto", None), "body") else str(e)
            for e in at.get("html")]


def test_app_login_starts_a_session_and_sets_the_cookie(tmp_path, monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = db.make_engine(url)
    db.migrate(engine)
    org = make_org(engine)
    make_user(engine, username="clerk", role="viewer", org_id=org)
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=120)
    at.run()
    at.text_input[0].input("clerk")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    token = at.session_state["auth_token"]
    with db.session_scope(engine) as s:
        row = s.exec(select(LoginSession)).one()
    assert row.token_hash == login_sessions.hash_token(token) and row.revoked_at is None
    script = " ".join(_html_texts(at))
    assert f"ita_session={token}; Path=/; Max-Age=43200; SameSite=Strict" in script, script
    assert "Secure" in script and "location.protocol==='https:'" in script
    # (logout, back button and reload are driven in the browser: tests/e2e/test_login_session.py;
    # AppTest reruns the current page without app.py, where the logout button lives)
    engine.dispose()
