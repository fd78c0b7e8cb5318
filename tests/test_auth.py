import datetime as dt

import pytest
from sqlmodel import select

from ita_dashboard import auth, db
from ita_dashboard.models import AuditEvent, User
from tests.helpers import PASSWORD, make_org, make_user


def test_password_is_hashed_with_argon2(sqlite_engine):
    make_user(sqlite_engine, username="clerk", role="viewer", org_id=None)
    with db.session_scope(sqlite_engine) as s:
        user = s.exec(select(User)).one()
    assert user.password_hash.startswith("$argon2")
    assert PASSWORD not in user.password_hash
    assert auth.verify_password(user.password_hash, PASSWORD)
    assert not auth.verify_password(user.password_hash, PASSWORD + "x")


@pytest.mark.parametrize("password, problem", [("short", "อย่างน้อย"), ("clerk", "อย่างน้อย"),
                                               ("12345678", "เดาง่าย"), ("aaaaaaaaaa", "เดาง่าย")])
def test_password_rules(password, problem):
    assert any(problem in p for p in auth.password_problems(password, username="clerk"))


def test_password_rules_accept_a_clerk_password():
    assert auth.password_problems("nakhon-2568", username="clerk") == []


def test_login_success_and_uniform_failure(engine):
    make_user(engine, username="clerk", role="viewer", org_id=None)
    with db.session_scope(engine) as s:
        ok = auth.authenticate(s, username="clerk", password=PASSWORD)
        wrong = auth.authenticate(s, username="clerk", password="nope-nope-1")
        unknown = auth.authenticate(s, username="ghost", password="nope-nope-1")
    assert ok.user is not None and ok.user.username == "clerk"
    assert wrong.user is None and unknown.user is None
    assert wrong.message == unknown.message == auth.login_failed()
    with db.session_scope(engine) as s:
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions.count("login.success") == 1 and actions.count("login.failure") == 2


def test_lockout_after_repeated_failures(engine, monkeypatch):
    monkeypatch.setenv("ITA_LOCKOUT_FAILURES", "3")
    monkeypatch.setenv("ITA_LOCKOUT_MINUTES", "10")
    make_user(engine, username="clerk", role="viewer", org_id=None)
    now = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc)
    with db.session_scope(engine) as s:
        results = [auth.authenticate(s, username="clerk", password="wrong-pass-1", now=now) for _ in range(3)]
    assert results[-1].locked_until == now + dt.timedelta(minutes=10)
    with db.session_scope(engine) as s:
        # even the right password is refused while locked
        locked = auth.authenticate(s, username="clerk", password=PASSWORD, now=now + dt.timedelta(minutes=5))
    assert locked.user is None and locked.locked_until is not None
    with db.session_scope(engine) as s:
        later = auth.authenticate(s, username="clerk", password=PASSWORD, now=now + dt.timedelta(minutes=11))
    assert later.user is not None


def test_forced_password_change(engine):
    uid = make_user(engine, username="newbie", role="viewer", org_id=None, must_change=True)
    with db.session_scope(engine) as s:
        with pytest.raises(auth.AuthError):
            auth.change_password(s, user_id=uid, old_password="bad-old-pass", new_password="fresh-pass-99")
    with db.session_scope(engine) as s:
        auth.change_password(s, user_id=uid, old_password=PASSWORD, new_password="fresh-pass-99")
    with db.session_scope(engine) as s:
        user = s.get(User, uid)
        assert not user.must_change_password
        assert auth.verify_password(user.password_hash, "fresh-pass-99")


def test_department_head_needs_a_department(sqlite_engine):
    org = make_org(sqlite_engine)
    with pytest.raises(auth.AuthError, match="กอง"):
        make_user(sqlite_engine, username="head", role="department_head", org_id=org)
    make_user(sqlite_engine, username="head", role="department_head", org_id=org, department="กองคลัง")


def test_duplicate_username_refused(sqlite_engine):
    make_user(sqlite_engine, username="clerk", role="viewer", org_id=None)
    with pytest.raises(auth.AuthError, match="มีชื่อผู้ใช้"):
        make_user(sqlite_engine, username="clerk", role="viewer", org_id=None)
