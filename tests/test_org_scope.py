"""Roles scoped to organisations: memberships, the Actor's role per organisation, every check
org-aware, the migration from 0001, and the pages as a multi-organisation user sees them."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import select

from ita_dashboard import db
from ita_dashboard.models import AuditEvent, Organization, OrgMembership, Role, Status, User
from ita_dashboard.permissions import (Actor, PermissionDenied, can_edit_measure, can_see_org, load_actor,
                                       require_admin)
from ita_dashboard.services import measures as measures_svc
from ita_dashboard.services import memberships, surveys
from ita_dashboard.services.memberships import MembershipError
from tests.helpers import actor_for, dep_id, make_measure, make_org, make_user


def _province(engine, org_id: int, province: str) -> None:
    with db.session_scope(engine) as s:
        org = s.get(Organization, org_id)
        org.province = province
        s.add(org)


@pytest.fixture
def three(engine):
    a = make_org(engine, name="เทศบาลตำบลเอ")
    b = make_org(engine, name="อบต.บี", kind="อบต.")
    c = make_org(engine, name="อบต.ซี", kind="อบต.")
    _province(engine, a, "ลำปาง")
    _province(engine, b, "ลำปาง")
    _province(engine, c, "เชียงใหม่")
    return engine, a, b, c


def test_single_org_users_keep_their_old_rights(three):
    engine, a, b, _ = three
    admin = actor_for(engine, make_user(engine, username="admin_a", role="admin", org_id=a))
    assert (admin.role, admin.organization_id, admin.grants, admin.org_ids) == (Role.admin, a, None, frozenset({a}))
    assert can_see_org(admin, a) and not can_see_org(admin, b)
    require_admin(admin, a)
    with pytest.raises(PermissionDenied):
        require_admin(admin, b)
    everyone = actor_for(engine, make_user(engine, username="global", role="executive", org_id=None))
    assert everyone.org_ids is None and can_see_org(everyone, b) and everyone.role_for(b) == Role.executive
    assert everyone.for_org(b) is everyone  # an every-organisation actor keeps organization_id None


def test_province_officer_sees_the_province_as_executive_and_administers_nothing(three):
    engine, a, b, c = three
    officer = make_user(engine, username="province", role="executive", org_id=None)
    with db.session_scope(engine) as s:
        assert memberships.grant_province(s, actor=Actor.system(), user_id=officer, province="ลำปาง", role="executive") == 2
        assert memberships.grant_province(s, actor=Actor.system(), user_id=officer, province="ลำปาง", role="executive") == 2
    actor = actor_for(engine, officer)
    assert actor.org_ids == frozenset({a, b})
    assert not can_see_org(actor, c)
    assert actor.role_for(a) == actor.role_for(b) == Role.executive and actor.role_for(c) is None
    assert actor.organization_id in (a, b)  # code reading organization_id directly fails closed
    assert not actor.is_admin_anywhere
    for org in (a, b, c):
        with pytest.raises(PermissionDenied):
            require_admin(actor, org)
    measure = make_measure(engine, org_id=a, departments=["กองคลัง"])
    with db.session_scope(engine) as s:
        with pytest.raises(PermissionDenied):
            measures_svc.record_progress(s, measure_id=measure, status="done", percent=100, actor=actor)
        with pytest.raises(PermissionDenied):
            surveys.set_target(s, organization_id=b, fiscal_year=2568, instrument="iit", department_id=None,
                               target=5, actor=actor)
        rows = s.exec(select(OrgMembership).where(OrgMembership.user_id == officer)).all()
        assert len(rows) == 2  # idempotent
        assert s.exec(select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "membership.grant")).one() == 4


def test_role_is_the_one_of_the_organisation_concerned(three):
    engine, a, b, _ = three
    user = make_user(engine, username="mixed", role="admin", org_id=a)
    with db.session_scope(engine) as s:
        memberships.grant(s, actor=Actor.system(), user_id=user, organization_id=b, role="department_head",
                          department_id=dep_id(engine, b, "กองช่าง"))
    actor = actor_for(engine, user)
    assert (actor.role, actor.organization_id) == (Role.admin, a)  # home first
    assert actor.is_admin_anywhere
    require_admin(actor, a)
    with pytest.raises(PermissionDenied):
        require_admin(actor, b)
    in_b = actor.for_org(b)
    assert (in_b.role, in_b.organization_id, in_b.department_id) == (Role.department_head, b, dep_id(engine, b, "กองช่าง"))
    assert not in_b.is_admin and can_see_org(in_b, a)  # still sees its other organisations
    own = make_measure(engine, org_id=b, number=1, departments=["กองช่าง"])
    other = make_measure(engine, org_id=b, number=2, departments=["กองคลัง"])
    kw = dict(organization_id=b, owner_all=False)
    assert can_edit_measure(actor, department_ids=[dep_id(engine, b, "กองช่าง")], **kw)
    assert not can_edit_measure(actor, department_ids=[dep_id(engine, b, "กองคลัง")], **kw)
    with db.session_scope(engine) as s:
        measures_svc.record_progress(s, measure_id=own, status="in_progress", percent=50, actor=actor)
        with pytest.raises(PermissionDenied):
            measures_svc.record_progress(s, measure_id=other, status="done", percent=100, actor=actor)
        surveys.set_target(s, organization_id=a, fiscal_year=2568, instrument="iit", department_id=None, target=5, actor=actor)
        with pytest.raises(PermissionDenied):
            surveys.set_target(s, organization_id=b, fiscal_year=2568, instrument="iit", department_id=None, target=5, actor=actor)
    with pytest.raises(PermissionDenied):
        actor.for_org(999_999)


def test_who_may_grant_and_revoke(three):
    engine, a, b, c = three
    admin_a = actor_for(engine, make_user(engine, username="admin_a", role="admin", org_id=a))
    viewer = make_user(engine, username="viewer_b", role="viewer", org_id=b)
    global_user = make_user(engine, username="global", role="admin", org_id=None)
    with db.session_scope(engine) as s:
        with pytest.raises(PermissionDenied):  # admin of a only
            memberships.grant(s, actor=admin_a, user_id=viewer, organization_id=c, role="viewer")
        memberships.grant(s, actor=admin_a, user_id=viewer, organization_id=a, role="viewer")
        with pytest.raises(PermissionDenied):  # narrowing an every-organisation user needs a global admin
            memberships.grant(s, actor=admin_a, user_id=global_user, organization_id=a, role="viewer")
        with pytest.raises(MembershipError):
            memberships.grant(s, actor=Actor.system(), user_id=viewer, organization_id=b, role="admin")  # home
        with pytest.raises(MembershipError):
            memberships.grant(s, actor=Actor.system(), user_id=viewer, organization_id=c, role="department_head")
        with pytest.raises(MembershipError):
            memberships.grant(s, actor=Actor.system(), user_id=viewer, organization_id=c, role="viewer",
                              department_id=dep_id(engine, a, "กองคลัง"))  # a department of another organisation
    assert actor_for(engine, viewer).org_ids == frozenset({a, b})
    officer = make_user(engine, username="officer", role="viewer", org_id=None)
    with db.session_scope(engine) as s:
        memberships.grant(s, actor=Actor.system(), user_id=officer, organization_id=c, role="viewer")
        with pytest.raises(MembershipError):  # the last one: the user would see every organisation
            memberships.revoke(s, actor=Actor.system(), user_id=officer, organization_id=c)
        assert memberships.revoke(s, actor=admin_a, user_id=viewer, organization_id=a) is True
        assert memberships.revoke(s, actor=admin_a, user_id=viewer, organization_id=a) is False
    assert actor_for(engine, viewer).org_ids == frozenset({b})
    assert actor_for(engine, officer).org_ids == frozenset({c})


def test_actor_of_a_detached_user_and_load_actor(three):
    engine, a, b, _ = three
    uid = make_user(engine, username="two", role="viewer", org_id=a)
    with db.session_scope(engine) as s:
        memberships.grant(s, actor=Actor.system(), user_id=uid, organization_id=b, role="executive")
    with db.session_scope(engine) as s:
        user = s.get(User, uid)
        rows = memberships.memberships_of(s, user_id=uid)
        assert load_actor(s, user_id=uid).org_ids == frozenset({a, b})
    detached = Actor.of(user, memberships=rows)
    assert detached.role_for(b) == Role.executive
    assert Actor.of(user).org_ids == frozenset({a})  # no session, none given: home only (closed)


# --- migration 0001 -> 0002 ---------------------------------------------------------------

def test_upgrade_from_0001_keeps_users_and_their_rights(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        cfg = db.alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    now = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    with engine.begin() as conn:
        org = conn.execute(sa.text("INSERT INTO organization (name, kind, is_demo, created_at) "
                                   "VALUES ('อบต.เก่า', 'อบต.', 0, :t) RETURNING id"), {"t": now}).scalar_one()
        for name, role, org_id in (("old_admin", "admin", org), ("old_global", "executive", None)):
            conn.execute(sa.text(
                "INSERT INTO user (username, display_name, password_hash, role, organization_id, active, "
                "must_change_password, failed_logins, created_at) VALUES (:u, '', 'x', :r, :o, 1, 0, 0, :t)"),
                {"u": name, "r": role, "o": org_id, "t": now})
    db.migrate(engine)
    assert db.has_table(engine, "orgmembership")
    with db.session_scope(engine) as s:
        users = {u.username: u for u in s.exec(select(User))}
        assert set(users) == {"old_admin", "old_global"}
        old_admin, old_global = load_actor(s, user_id=users["old_admin"].id), load_actor(s, user_id=users["old_global"].id)
        assert (old_admin.role, old_admin.org_ids) == (Role.admin, frozenset({org}))
        assert (old_global.role, old_global.org_ids) == (Role.executive, None)
        indexes = {i["name"] for i in sa.inspect(engine).get_indexes("organization")}
    assert "ix_organization_province" in indexes
    engine.dispose()


# --- pages --------------------------------------------------------------------------------

def test_pages_for_a_province_officer(monkeypatch, tmp_path):
    from tests.helpers import make_demo_db
    from streamlit.testing.v1 import AppTest

    from tests.apptest_utils import REPO, TIMEOUT, run_app, texts

    url = make_demo_db(tmp_path / "demo.db")
    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        orgs = list(s.exec(select(Organization).order_by(Organization.id)))
        for o in orgs:
            o.province = "ลำปาง"
            s.add(o)
    officer = make_user(engine, username="officer", role="executive", org_id=None)
    with db.session_scope(engine) as s:
        memberships.grant_province(s, actor=Actor.system(), user_id=officer, province="ลำปาง", role="executive")
    engine.dispose()
    at = run_app(monkeypatch, url, username="officer")
    assert sorted(at.sidebar.selectbox(key="_w_org_id").options) == sorted(o.name for o in orgs)
    at.switch_page("app_pages/rollup.py").run()
    assert not at.exception, [e.message for e in at.exception]
    shown = texts(at)
    assert "ภาพรวมหลายหน่วยงาน" in shown and "2 หน่วยงาน" in shown
    assert set(at.dataframe[0].value["หน่วยงาน"]) == {o.name for o in orgs}
    # Drill down: the chosen agency becomes the selected organisation and the overview opens.
    target = next(o for o in orgs if o.id != at.session_state["org_id"])
    at.selectbox(key="rollup_open_org").set_value(target.id)
    next(b for b in at.button if b.label == "เปิดภาพรวม").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["org_id"] == target.id
    assert target.name in at.title[0].value.replace("\\", "")  # the title escapes the name
    # The admin page refuses: an executive everywhere. It is not in the navigation (every run goes
    # through app.py), and its file run directly with the officer's session refuses too.
    with pytest.raises(ValueError):
        at.switch_page("app_pages/admin.py")
    direct = AppTest.from_file(str(REPO / "app_pages/admin.py"), default_timeout=TIMEOUT)
    direct.session_state["auth_user_id"] = officer
    direct.run()
    assert not direct.exception, [e.message for e in direct.exception]
    assert "คุณไม่มีสิทธิ์เข้าถึงหน้านี้" in texts(direct)


@pytest.mark.parametrize("role_in_a", ["admin", "department_head"])
def test_an_editor_of_a_who_views_b_updates_nothing_of_b(three, role_in_a):
    """Editor (admin / department head) at home in A, viewer of B through a membership: B's measure
    is refused on every path, asked with B (the organisation concerned): the questions the
    measures page asks before it shows a form, the status sheet (check and apply) and activities."""
    from ita_dashboard.permissions import (can_add_activity, can_delete_activity, can_update_progress, is_org_admin,
                                           may_add_activity)
    from ita_dashboard.services import activities
    from ita_dashboard.services.status_sheet import StatusRow, StatusSheet, apply_status_sheet, check_status_sheet

    engine, a, b, _ = three
    user = make_user(engine, username="editor_a", role=role_in_a, org_id=a,
                     department="กองคลัง" if role_in_a == "department_head" else None)
    with db.session_scope(engine) as s:
        memberships.grant(s, actor=Actor.system(), user_id=user, organization_id=b, role="viewer")
    measure_a = make_measure(engine, org_id=a, number=1, departments=["กองคลัง"])
    measure_b = make_measure(engine, org_id=b, number=1, departments=["กองคลัง"], owner_all=True)
    dep_b = [dep_id(engine, b, "กองคลัง")]
    actor = actor_for(engine, user)
    for seen_as in (actor, actor.for_org(b)):  # the page hands over actor.for_org(selected organisation)
        assert can_update_progress(seen_as, a) and can_add_activity(seen_as, a)
        assert not can_update_progress(seen_as, b) and not can_add_activity(seen_as, b)
        assert not can_edit_measure(seen_as, organization_id=b, department_ids=dep_b, owner_all=True)
        assert not may_add_activity(seen_as, organization_id=b, measure_department_ids=dep_b, measure_owner_all=True)
        assert not may_add_activity(seen_as, organization_id=b, measure_department_ids=None)
        assert not is_org_admin(seen_as, b) and not can_delete_activity(seen_as, b)
    assert can_edit_measure(actor, organization_id=a, department_ids=[dep_id(engine, a, "กองคลัง")], owner_all=False)

    def sheet(mid: int) -> StatusSheet:
        return StatusSheet(rows=[StatusRow("s", 5, mid, Status.done, None, "", None, dt.date(2025, 1, 9))])

    writes = {
        "record_progress": lambda s: measures_svc.record_progress(s, measure_id=measure_b, status="done", percent=100,
                                                                  as_of=dt.date(2025, 1, 9), actor=actor),
        "check_status_sheet": lambda s: check_status_sheet(s, organization_id=b, sheet=sheet(measure_b), actor=actor),
        "apply_status_sheet": lambda s: apply_status_sheet(s, organization_id=b, sheet=sheet(measure_b), actor=actor,
                                                           file_name="b.xlsx", file_bytes=b"x"),
        "add_activity": lambda s: activities.add_activity(s, organization_id=b, date=dt.date(2025, 1, 9), title="x",
                                                          measure_id=measure_b, actor=actor),
        "add_activity_without_measure": lambda s: activities.add_activity(
            s, organization_id=b, date=dt.date(2025, 1, 9), title="x", actor=actor),
    }
    def audited_in_b() -> int:
        with db.session_scope(engine) as s:
            return s.exec(select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.organization_id == b)).one()

    before = audited_in_b()
    for write in writes.values():
        with pytest.raises(PermissionDenied):
            with db.session_scope(engine) as s:
                write(s)
    # A's sheet carrying B's measure: rejected as not A's, B untouched; A's own row goes in.
    with db.session_scope(engine) as s:
        both = StatusSheet(rows=[*sheet(measure_b).rows, StatusRow("s", 6, measure_a, Status.done, None, "", None,
                                                                  dt.date(2025, 1, 9))])
        batch = apply_status_sheet(s, organization_id=a, sheet=both, actor=actor, file_name="a.xlsx", file_bytes=b"x")
        assert (batch.imported_count, batch.rejected_count) == (1, 1)
    with db.session_scope(engine) as s:
        states = {m.id: m.status for m in measures_svc.measure_states(s, organization_id=b, fiscal_year=2568,
                                                                      as_of=dt.date(2025, 2, 1))}
        assert states[measure_b] == Status.not_started
    assert audited_in_b() == before  # nothing written in B, nothing audited there
