"""Trying to break in: every service write as every role that must not reach it, forged session
state in the app, lockout and the login answers that must not tell whether an account exists.

The role × write grid runs on SQLite only: the checks are Python, the same on both backends (the
audit and service tests run the writes themselves on PostgreSQL too).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from ita_dashboard import auth, db
from ita_dashboard.importers.measures import parse_measures_file
from ita_dashboard.importers.surveys import parse_survey_file
from ita_dashboard.models import AuditEvent, Status, User
from ita_dashboard.permissions import PermissionDenied
from ita_dashboard.services import activities, aliases, framework_overrides, measures, org_settings, orgs, surveys
from ita_dashboard.services import uploads, users
from ita_dashboard.services.status_sheet import StatusRow, StatusSheet, apply_status_sheet
from tests.hostile_names import visible
from tests import survey_files as sf
from tests.helpers import PASSWORD, actor_for, dep_id, make_measure, make_org, make_user

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 120


@dataclass
class Grid:
    engine: object
    org: int
    other_org: int
    users: dict[str, int]
    measure: int
    activity: int
    batch: int


PLAN = sf.csv_bytes([["ลำดับ", "มาตรการ", "ระยะเวลาดำเนินการ", "ผู้รับผิดชอบ"],
                     ["1", "มาตรการใหม่", "ตุลาคม 2567 - กันยายน 2568", "กองคลัง"]])
SURVEY = sf.google_csv(sf.make_responses(3))


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> Grid:
    engine = db.make_engine(f"sqlite:///{tmp_path_factory.mktemp('perm') / 'perm.db'}")
    db.migrate(engine)
    org = make_org(engine)
    other = make_org(engine, name="เทศบาลเมืองอื่น", kind="เทศบาลเมือง")
    people = {
        "admin": make_user(engine, username="p_admin", role="admin", org_id=org),
        "executive": make_user(engine, username="p_exec", role="executive", org_id=org),
        "viewer": make_user(engine, username="p_viewer", role="viewer", org_id=org),
        "head_own": make_user(engine, username="p_head_own", role="department_head", org_id=org, department="กองคลัง"),
        "head_other_department": make_user(engine, username="p_head_other", role="department_head", org_id=org,
                                           department="กองช่าง"),
        "admin_other_org": make_user(engine, username="p_admin_other", role="admin", org_id=other),
        "viewer_other_org": make_user(engine, username="p_viewer_other", role="viewer", org_id=other),
        "province_admin": make_user(engine, username="p_province", role="admin", org_id=None),
    }
    measure = make_measure(engine, org_id=org, number=50, departments=["กองคลัง"])
    admin = actor_for(engine, people["admin"])
    with db.session_scope(engine) as s:
        activity = activities.add_activity(s, organization_id=org, date=dt.date(2025, 1, 5), title="อบรม", actor=admin).id
        batch = uploads.import_survey(s, actor=admin, organization_id=org, instrument="iit",
                                      parsed=parse_survey_file(SURVEY), fiscal_year=None, file_name="iit.csv",
                                      data=SURVEY).batch_id
    yield Grid(engine, org, other, people, measure, activity, batch)
    engine.dispose()


# name -> call(grid, session, actor); each is a write of ``grid.org`` that only its admins may do.
ADMIN_WRITES = {
    "add_department": lambda g, s, a: orgs.add_department(s, organization_id=g.org, name="กองใหม่", actor=a),
    "update_department": lambda g, s, a: orgs.update_department(
        s, department_id=dep_id(g.engine, g.org, "กองช่าง"), iit_eligible_staff=1, actor=a),
    "create_user": lambda g, s, a: users.create_user(s, actor=a, username="intruder", password="temp-pass-2568",
                                                     role="admin", organization_id=g.org),
    "update_user": lambda g, s, a: users.update_user(s, actor=a, user_id=g.users["viewer"], role="admin"),
    "reset_password": lambda g, s, a: users.update_user(s, actor=a, user_id=g.users["admin"],
                                                        reset_password="hijack-pass-2568"),
    "delete_activity": lambda g, s, a: activities.delete_activity(s, activity_id=g.activity, actor=a),
    "set_target": lambda g, s, a: surveys.set_target(s, organization_id=g.org, fiscal_year=2568, instrument="iit",
                                                     department_id=None, target=1, actor=a),
    "record_itas_snapshot": lambda g, s, a: surveys.record_itas_snapshot(
        s, organization_id=g.org, fiscal_year=2568, as_of=dt.date(2025, 1, 1), iit_count=1, eit_count=1, actor=a),
    "set_override": lambda g, s, a: framework_overrides.set_override(
        s, organization_id=g.org, fiscal_year=2568, key="agency.oit_estimate", value=99, actor=a),
    "set_itas_code": lambda g, s, a: org_settings.set_itas_code(s, organization_id=g.org, code="HACK1", actor=a),
    "map_alias": lambda g, s, a: aliases.map_alias(s, actor=a, organization_id=g.org, written="กองแฮก",
                                                   department_id=dep_id(g.engine, g.org, "กองคลัง")),
    "import_measures": lambda g, s, a: uploads.import_measures(
        s, actor=a, organization_id=g.org, plan=parse_measures_file(PLAN), fiscal_year=2568, file_name="p.csv",
        data=PLAN),
    "import_survey": lambda g, s, a: uploads.import_survey(
        s, actor=a, organization_id=g.org, instrument="iit", parsed=parse_survey_file(SURVEY), fiscal_year=None,
        file_name="s.csv", data=SURVEY),
    "undo_batch": lambda g, s, a: uploads.undo_batch(s, actor=a, batch_id=g.batch),
    "remember_mapping": lambda g, s, a: uploads.remember_mapping(s, actor=a, organization_id=g.org, signature="x",
                                                                 mapping={}),
}
# Writes a department head may do for their own department's measures, nobody else but admins.
MEASURE_WRITES = {
    "record_progress": lambda g, s, a: measures.record_progress(s, measure_id=g.measure, status="done", percent=100,
                                                                as_of=dt.date(2025, 1, 10), actor=a),
    "add_activity": lambda g, s, a: activities.add_activity(s, organization_id=g.org, date=dt.date(2025, 1, 6),
                                                            title="แอบเพิ่ม", measure_id=g.measure, actor=a),
    "status_sheet": lambda g, s, a: apply_status_sheet(
        s, organization_id=g.org, actor=a, file_name="x.xlsx", file_bytes=b"x",
        sheet=StatusSheet(rows=[StatusRow("s", 5, g.measure, Status.done, None, "", None, dt.date(2025, 1, 9))])),
}
NOT_ADMINS = ["executive", "viewer", "head_own", "head_other_department", "admin_other_org", "viewer_other_org"]
NO_MEASURE_RIGHTS = ["executive", "viewer", "head_other_department", "admin_other_org", "viewer_other_org"]


def _audit_count(engine) -> int:
    with db.session_scope(engine) as s:
        return len(s.exec(select(AuditEvent.id)).all())


def _refused(grid: Grid, role: str, call) -> None:
    actor = actor_for(grid.engine, grid.users[role])
    events = _audit_count(grid.engine)
    with pytest.raises(PermissionDenied) as info:
        with db.session_scope(grid.engine) as s:
            call(grid, s, actor)
    assert re.search(r"[\u0e00-\u0e7f]", str(info.value)), str(info.value)  # a Thai reason
    assert _audit_count(grid.engine) == events  # rolled back: nothing written, nothing audited


@pytest.mark.parametrize("role", NOT_ADMINS)
@pytest.mark.parametrize("write", list(ADMIN_WRITES))
def test_admin_writes_refused_for_everyone_else(grid, role, write):
    _refused(grid, role, ADMIN_WRITES[write])


@pytest.mark.parametrize("role", NO_MEASURE_RIGHTS)
@pytest.mark.parametrize("write", [w for w in MEASURE_WRITES if w != "status_sheet"])
def test_measure_writes_refused_outside_ones_department(grid, role, write):
    _refused(grid, role, MEASURE_WRITES[write])


@pytest.mark.parametrize("role", ["executive", "viewer", "admin_other_org", "viewer_other_org"])
def test_status_sheet_refused_for_roles_that_change_nothing(grid, role):
    _refused(grid, role, MEASURE_WRITES["status_sheet"])


def test_status_sheet_of_another_department_is_refused_without_a_batch(grid):
    """A head's workbook holding only another department's measures is refused as a whole:
    nothing applied, and no import batch (nor audit row) left behind."""
    from ita_dashboard.models import ImportBatch

    with db.session_scope(grid.engine) as s:
        batches = len(s.exec(select(ImportBatch.id)).all())
    _refused(grid, "head_other_department", MEASURE_WRITES["status_sheet"])
    with db.session_scope(grid.engine) as s:
        assert len(s.exec(select(ImportBatch.id)).all()) == batches


def test_status_sheet_rows_of_another_department_are_rejected_next_to_own_rows(grid):
    own = make_measure(grid.engine, org_id=grid.org, number=51, departments=["กองช่าง"])
    actor = actor_for(grid.engine, grid.users["head_other_department"])
    sheet = StatusSheet(rows=[StatusRow("s", 5, grid.measure, Status.done, None, "", None, dt.date(2025, 1, 9)),
                              StatusRow("s", 6, own, Status.done, None, "", None, dt.date(2025, 1, 9))])
    with db.session_scope(grid.engine) as s:
        batch = apply_status_sheet(s, organization_id=grid.org, actor=actor, file_name="x.xlsx", file_bytes=b"x",
                                   sheet=sheet)
        assert batch.imported_count == 1 and batch.rejected_count == 1
        assert "เฉพาะมาตรการของกอง" in batch.rejected_rows[0]["reason"]
        s.rollback()


def test_department_head_writes_own_measures(grid):
    actor = actor_for(grid.engine, grid.users["head_own"])
    with db.session_scope(grid.engine) as s:
        update = MEASURE_WRITES["record_progress"](grid, s, actor)
        assert update.status == Status.done
        s.rollback()


def test_org_admin_cannot_touch_province_wide_accounts(grid):
    _refused(grid, "admin", lambda g, s, a: users.update_user(s, actor=a, user_id=g.users["province_admin"],
                                                              reset_password="hijack-pass-2568"))
    _refused(grid, "admin", lambda g, s, a: users.create_user(s, actor=a, username="everywhere",
                                                              password="temp-pass-2568", role="admin",
                                                              organization_id=None))


def test_department_of_another_organisation_is_refused(grid):
    other_dep = dep_id(grid.engine, grid.other_org, "กองคลัง")
    actor = actor_for(grid.engine, grid.users["admin"])
    with pytest.raises(auth.AuthError):
        with db.session_scope(grid.engine) as s:
            users.create_user(s, actor=actor, username="crossdep", password="temp-pass-2568", role="department_head",
                              organization_id=grid.org, department_id=other_dep)
    with pytest.raises(auth.AuthError):
        with db.session_scope(grid.engine) as s:
            users.update_user(s, actor=actor, user_id=grid.users["head_own"], department_id=other_dep)


def test_admin_cannot_lock_themselves_out(grid):
    _refused(grid, "admin", lambda g, s, a: users.update_user(s, actor=a, user_id=g.users["admin"], active=False))


# --- login: lockout and answers that do not reveal accounts -------------------------------------


@pytest.fixture
def lockout(monkeypatch):
    monkeypatch.setenv("ITA_LOCKOUT_FAILURES", "3")
    monkeypatch.setenv("ITA_LOCKOUT_MINUTES", "15")


def test_unknown_username_locks_like_a_real_account(engine, lockout):
    make_user(engine, username="clerk", role="viewer", org_id=None)
    now = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc)
    answers = {}
    for name in ("clerk", "ghost"):
        with db.session_scope(engine) as s:
            answers[name] = [auth.authenticate(s, username=name, password="wrong-pass-1",
                                               now=now + dt.timedelta(seconds=i)) for i in range(4)]
    for name, results in answers.items():
        assert [r.message for r in results] == [auth.login_failed()] * 4, name
        assert [r.locked_until is not None for r in results] == [False, False, True, True], name
        assert results[2].locked_until == now + dt.timedelta(seconds=2, minutes=15)
    with db.session_scope(engine) as s:
        # locked: even the right password gets the same answer; after the lock it works again
        assert auth.authenticate(s, username="clerk", password=PASSWORD, now=now + dt.timedelta(minutes=5)).user is None
        assert auth.authenticate(s, username="clerk", password=PASSWORD, now=now + dt.timedelta(minutes=16)).user
        ghost = auth.authenticate(s, username="ghost", password="x", now=now + dt.timedelta(minutes=16))
    assert ghost.locked_until is None and ghost.message == auth.login_failed()


def test_unknown_username_costs_one_password_hash(engine, monkeypatch):
    make_user(engine, username="clerk", role="viewer", org_id=None)
    from argon2 import PasswordHasher

    calls = []
    original = PasswordHasher.verify

    def counting(self, hash_, password):
        calls.append(hash_)
        return original(self, hash_, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    with db.session_scope(engine) as s:
        auth.authenticate(s, username="nobody-here", password="whatever-1")
        auth.authenticate(s, username="clerk", password="whatever-1")
    assert len(calls) == 2  # one argon2 verification each, unknown user included
    assert calls[0].startswith("$argon2")


@pytest.mark.parametrize("password, fine", [
    ("nakhon-2568", True), ("สวัสดีปีใหม่ 2568", True), ("correct horse battery", True),
    ("short1", False), ("clerk_one", False), ("12345678", False), ("abcdefgh", False), ("p@ssw0rd", False),
    ("zzzzzzzzzz", False), ("ab" * 6, False), ("x" * 129 + "yz", False), ("good-pass\x00word", False),
])
def test_password_rules_a_clerk_can_live_with(password, fine):
    problems = auth.password_problems(password, username="clerk_one")
    assert (problems == []) == fine, problems
    assert all(re.search(r"[\u0e00-\u0e7f]", p) for p in problems)


# --- the app with forged session state ------------------------------------------------------------


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    path = tmp_path_factory.mktemp("perm_app") / "app.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    org = make_org(engine, name="เทศบาลตำบลหนึ่ง")
    other = make_org(engine, name="เทศบาลตำบลสอง")
    ids = {
        "admin": make_user(engine, username="a_admin", role="admin", org_id=org),
        "viewer": make_user(engine, username="a_viewer", role="viewer", org_id=org),
        "executive": make_user(engine, username="a_exec", role="executive", org_id=org),
        "head": make_user(engine, username="a_head", role="department_head", org_id=org, department="กองคลัง"),
        "inactive": make_user(engine, username="a_gone", role="admin", org_id=org),
        "other_admin": make_user(engine, username="b_admin", role="admin", org_id=other),
        "sso_exec": make_user(engine, username="exec@nueng.go.th", role="executive", org_id=org),
    }
    with db.session_scope(engine) as s:
        s.get(User, ids["inactive"]).active = False
    engine.dispose()
    return f"sqlite:///{path}", ids, other


def _app(monkeypatch, url: str, **state) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _is_login_screen(at: AppTest) -> bool:
    logged_in = "auth_user_id" in at.session_state and at.session_state["auth_user_id"] is not None
    return [b.label for b in at.button] == ["เข้าสู่ระบบ"] and not logged_in and not at.tabs


@pytest.mark.parametrize("role", ["viewer", "executive", "head"])
@pytest.mark.parametrize("page", ["app_pages/upload.py", "app_pages/admin.py"])
def test_forged_session_of_a_non_admin_never_shows_admin_pages(monkeypatch, app_url, role, page):
    url, ids, _ = app_url
    at = _app(monkeypatch, url, auth_user_id=ids[role])
    with pytest.raises(Exception):  # not registered in their navigation
        at.switch_page(page).run()
    direct = AppTest.from_file(str(REPO / page), default_timeout=TIMEOUT)
    direct.session_state["auth_user_id"] = ids[role]
    direct.run()
    assert not direct.exception
    assert not direct.tabs and not direct.file_uploader and not direct.dataframe
    assert any("ไม่มีสิทธิ์" in e.value for e in direct.error)


@pytest.mark.parametrize("forged", [999_999, -1, "1 OR 1=1", None])
def test_forged_user_id_lands_on_login(monkeypatch, app_url, forged):
    url, _, _ = app_url
    at = _app(monkeypatch, url, auth_user_id=forged)
    assert _is_login_screen(at)


def test_inactive_user_session_lands_on_login(monkeypatch, app_url):
    url, ids, _ = app_url
    assert _is_login_screen(_app(monkeypatch, url, auth_user_id=ids["inactive"]))


def test_idle_session_ends_with_a_message(monkeypatch, app_url):
    url, ids, _ = app_url
    at = _app(monkeypatch, url, auth_user_id=ids["admin"], auth_last_seen=time.time() - 31 * 60)
    assert _is_login_screen(at)
    assert any("หมดเวลา" in w.value for w in at.warning)


def test_forged_organisation_filter_shows_only_ones_own(monkeypatch, app_url):
    url, ids, other = app_url
    at = _app(monkeypatch, url, auth_user_id=ids["viewer"], org_id=other)
    body = " ".join(t.value for t in at.title) + " ".join(m.value for m in at.markdown)
    assert "เทศบาลตำบลสอง" not in body
    assert at.session_state["org_id"] != other


def _login(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click().run()
    assert not at.exception
    return at


def test_lockout_screen_is_the_same_for_real_and_unknown_names(monkeypatch, app_url, lockout):
    url, _, _ = app_url
    screens = {}
    for name in ("a_exec", "no_such_person"):
        at = _app(monkeypatch, url)
        for _ in range(3):
            _login(at, name, "wrong-pass-1")
        screens[name] = ([e.value for e in at.error], [w.value for w in at.warning])
    real, unknown = screens["a_exec"], screens["no_such_person"]
    assert real[0] == unknown[0] == [auth.login_failed()]
    assert len(real[1]) == len(unknown[1]) == 1
    for notice in (real[1][0], unknown[1][0]):
        # Thai, Buddhist-era date and Bangkok clock time: "... หลังเวลา 5 ม.ค. 2569 16:15"
        assert re.search(r"ลองใหม่ได้หลังเวลา \d{1,2} \S+ 25\d\d \d{2}:\d{2}$", notice), notice
    # the right password while locked: still the same answer
    at = _app(monkeypatch, url)
    _login(at, "a_exec", PASSWORD)
    assert "auth_user_id" not in at.session_state and [e.value for e in at.error] == [auth.login_failed()]


def test_lockout_time_is_shown_in_bangkok_time(monkeypatch, app_url, lockout):
    url, _, _ = app_url
    at = _app(monkeypatch, url)
    for _ in range(3):
        _login(at, "ghost_for_clock", "wrong-pass-1")
    notice = at.warning[0].value
    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        last = s.exec(select(AuditEvent).where(AuditEvent.username == "ghost_for_clock")
                      .order_by(AuditEvent.id.desc())).first()
    engine.dispose()
    at_utc = last.at if last.at.tzinfo else last.at.replace(tzinfo=dt.timezone.utc)
    until = (at_utc + dt.timedelta(minutes=15)).astimezone(dt.timezone(dt.timedelta(hours=7)))
    assert notice.endswith(f"{until.year + 543} {until.hour:02d}:{until.minute:02d}"), notice


# --- single sign-on (st.login / OIDC) mapped to local accounts ------------------------------------


def test_sso_identity_maps_to_the_local_account_and_role(engine):
    make_user(engine, username="somchai@example.go.th", role="executive", org_id=None)
    with db.session_scope(engine) as s:
        ok = auth.sso_login(s, claims={"email": "Somchai@Example.go.th", "email_verified": True})
        assert ok.user is not None and ok.user.role.value == "executive"
        unknown = auth.sso_login(s, claims={"email": "boss@example.go.th", "email_verified": True})
        unverified = auth.sso_login(s, claims={"email": "somchai@example.go.th", "email_verified": False})
        no_claim = auth.sso_login(s, claims={"name": "x"})
        by_sub = auth.sso_login(s, claims={"sub": "somchai@example.go.th"}, claim="sub")
    assert unknown.user is None and "boss@example.go.th" in unknown.message and "ผู้ดูแลระบบ" in unknown.message
    assert unverified.user is None and no_claim.user is None
    assert by_sub.user is not None
    with db.session_scope(engine) as s:
        assert s.exec(select(User).where(User.username == "boss@example.go.th")).first() is None  # nothing created
        methods = [(e.action, (e.after or {}).get("reason")) for e in s.exec(select(AuditEvent).order_by(AuditEvent.id))
                   if e.action.startswith("login.")]
    assert ("login.failure", "no_account") in methods and ("login.failure", "email_not_verified") in methods


def test_sso_refuses_an_inactive_account(engine):
    uid = make_user(engine, username="gone@example.go.th", role="admin", org_id=None)
    with db.session_scope(engine) as s:
        s.get(User, uid).active = False
    with db.session_scope(engine) as s:
        assert auth.sso_login(s, claims={"email": "gone@example.go.th"}).user is None


SSO_SECRETS = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                        "client_id": "ita", "client_secret": "secret",
                        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}}


def _sso_app(monkeypatch, url: str, *, user: dict | None = None) -> AppTest:
    from ita_dashboard.ui import common

    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setattr(common, "authlib_installed", lambda: True)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.secrets = dict(SSO_SECRETS)
    if user is not None:
        at.user = user
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_no_sso_button_without_secrets(monkeypatch, app_url):
    url, _, _ = app_url
    at = _app(monkeypatch, url)
    assert "เข้าสู่ระบบด้วย SSO" not in [b.label for b in at.button]


def test_sso_button_when_secrets_configure_it(monkeypatch, app_url):
    url, _, _ = app_url
    at = _sso_app(monkeypatch, url)
    assert [b.label for b in at.button] == ["เข้าสู่ระบบด้วย SSO", "เข้าสู่ระบบ"]


def test_sso_identity_logs_into_the_matching_account(monkeypatch, app_url):
    url, ids, _ = app_url
    at = _sso_app(monkeypatch, url, user={"is_logged_in": True, "email": "exec@nueng.go.th", "email_verified": True})
    assert at.session_state["auth_user_id"] == ids["sso_exec"]
    assert at.session_state["auth_method"] == "sso"
    assert "เทศบาลตำบลหนึ่ง" in " ".join(t.value for t in at.title) + " ".join(m.value for m in at.markdown)


def test_sso_identity_without_account_is_told_to_ask_the_admin(monkeypatch, app_url):
    url, _, _ = app_url
    at = _sso_app(monkeypatch, url, user={"is_logged_in": True, "email": "stranger@example.go.th",
                                          "email_verified": True})
    assert "auth_user_id" not in at.session_state or at.session_state["auth_user_id"] is None
    # the e-mail is user text: escaped in the markdown error (no mailto link), it reads the same
    assert any("stranger@example.go.th" in visible(e.value) and "ผู้ดูแลระบบ" in e.value for e in at.error)
    assert "ออกจากบัญชี SSO" in [b.label for b in at.button]
