"""Every write leaves an AuditEvent with who, what, before and after; nothing edits or deletes one.

Table-driven: each case performs one service write as an admin (or the user concerned) and
names the audit action it must leave, with checks on entity, before and after.
"""

from __future__ import annotations

import dataclasses

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
from sqlmodel import col, select

from ita_dashboard import audit, auth, db
from ita_dashboard.importers.measures import parse_measures_file
from ita_dashboard.importers.surveys import parse_survey_file
from ita_dashboard.models import AuditEvent, Status
from ita_dashboard.services import activities, aliases, framework_overrides, measures, org_settings, orgs, surveys
from ita_dashboard.services import uploads, users
from ita_dashboard.services.status_sheet import StatusRow, StatusSheet, apply_status_sheet
from tests import survey_files as sf
from tests.helpers import PASSWORD, actor_for, dep_id, make_measure, make_org, make_user

PACKAGE = Path(__file__).resolve().parent.parent / "ita_dashboard"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x03\x00\x08\xfc\x02\xfe\xa7\x9a\xa0\xa0\x00\x00\x00\x00IEND\xaeB`\x82")


def plan_csv(title: str = "จัดทำคู่มือบริการประชาชน") -> bytes:
    rows = [["ลำดับ", "มาตรการ", "ขั้นตอนหรือวิธีการปฏิบัติ", "ระยะเวลาดำเนินการ", "ผู้รับผิดชอบ"],
            ["1", title, "จัดทำคู่มือ", "ตุลาคม 2567 - กันยายน 2568", "กองคลัง"]]
    return sf.csv_bytes(rows)


@dataclass
class World:
    engine: Any
    org: int
    admin: int
    head: int
    measure: int
    made: Any = None

    def actor(self, user_id: Optional[int] = None):
        return actor_for(self.engine, user_id or self.admin)


@pytest.fixture
def world(engine) -> World:
    org = make_org(engine)
    admin = make_user(engine, username="audit_admin", role="admin", org_id=org)
    head = make_user(engine, username="audit_head", role="department_head", org_id=org, department="กองคลัง")
    measure = make_measure(engine, org_id=org, number=99, departments=["กองคลัง"])
    return World(engine, org, admin, head, measure)


# --- the cases: (action, entity, do(world, session), check(event, world)) ----------------------


def _survey(w: World, s):
    data = sf.google_csv(sf.make_responses(5))
    return uploads.import_survey(s, actor=w.actor(), organization_id=w.org, instrument="iit",
                                 parsed=parse_survey_file(data), fiscal_year=None, file_name="iit.csv", data=data)


def _batch_id(w: World) -> int:
    with db.session_scope(w.engine) as s:
        return _survey(w, s).batch_id


def _activity_id(w: World) -> int:
    with db.session_scope(w.engine) as s:
        return activities.add_activity(s, organization_id=w.org, date=dt.date(2025, 1, 5), title="อบรม",
                                       actor=w.actor()).id


# (name, action, entity, do(world, session), check(event, world)); the two cases that need a row
# to exist first name it in PREPARE, and their ``do`` receives it through ``world.made``.
CASES: list[tuple[str, str, str, Callable, Callable]] = [
    ("create_organization", "organization.create", "organization",
     # only an admin who sees every organisation creates one: the same person, seen as such
     lambda w, s: orgs.create_organization(s, name="อบต.ใหม่", kind="อบต.",
                                           actor=dataclasses.replace(w.actor(), organization_id=None, grants=None)),
     lambda e, w: e.after["name"] == "อบต.ใหม่" and e.before is None),
    ("add_department", "department.create", "department",
     lambda w, s: orgs.add_department(s, organization_id=w.org, name="กองสาธารณสุข", actor=w.actor()),
     lambda e, w: e.after["name"] == "กองสาธารณสุข"),
    ("update_department", "department.update", "department",
     lambda w, s: orgs.update_department(s, department_id=dep_id(w.engine, w.org, "กองช่าง"), iit_eligible_staff=9,
                                         actor=w.actor()),
     lambda e, w: e.before["iit_eligible_staff"] == 4 and e.after["iit_eligible_staff"] == 9),
    ("create_user", "user.create", "user",
     lambda w, s: users.create_user(s, actor=w.actor(), username="clerk2", password="temp-pass-2568", role="viewer",
                                    organization_id=w.org),
     lambda e, w: e.after["username"] == "clerk2" and e.after["must_change_password"] is True
     and "password_hash" not in e.after),
    ("update_user", "user.update", "user",
     lambda w, s: users.update_user(s, actor=w.actor(), user_id=w.head, role="viewer"),
     lambda e, w: e.before["role"] == "department_head" and e.after["role"] == "viewer"
     and "password_hash" not in e.before),
    ("change_password", "user.password_change", "user",
     lambda w, s: auth.change_password(s, user_id=w.head, old_password=PASSWORD, new_password="fresh-pass-2568"),
     lambda e, w: e.user_id == w.head and e.after == {"must_change_password": False}),
    ("login_success", "login.success", "user",
     lambda w, s: auth.authenticate(s, username="audit_head", password=PASSWORD),
     lambda e, w: e.user_id == w.head and e.username == "audit_head"),
    ("login_failure", "login.failure", "user",
     lambda w, s: auth.authenticate(s, username="audit_head", password="wrong-pass-1"),
     lambda e, w: e.user_id == w.head),
    ("login_failure_unknown", "login.failure", "user",
     lambda w, s: auth.authenticate(s, username="nobody", password="wrong-pass-1"),
     lambda e, w: e.user_id is None and e.username == "nobody"),
    ("sso_login", "login.success", "user",
     lambda w, s: auth.sso_login(s, claims={"sub": "audit_head", "is_logged_in": True},
                                 policy=auth.SsoPolicy(claim="sub")),
     lambda e, w: e.after == {"method": "sso", "claim": "sub"}),
    ("record_progress", "measure.progress", "measure",
     lambda w, s: measures.record_progress(s, measure_id=w.measure, status="in_progress", percent=40, note="เริ่มแล้ว",
                                           as_of=dt.date(2025, 1, 10), actor=w.actor(w.head)),
     lambda e, w: e.before is None and e.after["percent"] == 40 and e.after["note"] == "เริ่มแล้ว"
     and e.username == "audit_head"),
    ("add_activity", "activity.add", "activity",
     lambda w, s: activities.add_activity(s, organization_id=w.org, date=dt.date(2025, 1, 5), title="อบรม",
                                          photo=PNG, actor=w.actor()),
     lambda e, w: e.after["title"] == "อบรม" and e.after["photo_bytes"] == len(PNG) and "photo" not in e.after),
    ("delete_activity", "activity.delete", "activity",
     lambda w, s: activities.delete_activity(s, activity_id=w.made, actor=w.actor()),
     lambda e, w: e.before["title"] == "อบรม" and e.after is None),
    ("set_target", "survey.target", "surveytarget",
     lambda w, s: surveys.set_target(s, organization_id=w.org, fiscal_year=2568, instrument="iit", department_id=None,
                                     target=120, actor=w.actor()),
     lambda e, w: e.before is None and e.after["target"] == 120),
    ("record_itas_snapshot", "survey.itas_snapshot", "itassnapshot",
     lambda w, s: surveys.record_itas_snapshot(s, organization_id=w.org, fiscal_year=2568, as_of=dt.date(2025, 2, 1),
                                               iit_count=10, eit_count=3, actor=w.actor()),
     lambda e, w: e.after["iit_count"] == 10),
    ("set_override", "framework.override", "frameworkoverride",
     lambda w, s: framework_overrides.set_override(s, organization_id=w.org, fiscal_year=2568,
                                                   key="agency.oit_estimate", value=80, actor=w.actor()),
     lambda e, w: e.before is None and e.after == {"value": 80}),
    ("set_itas_code", "organization.itas_code", "organization",
     lambda w, s: org_settings.set_itas_code(s, organization_id=w.org, code="ABC123", actor=w.actor()),
     lambda e, w: e.before["itas_code"] is None and e.after["itas_code"]),
    ("map_alias", "department.alias", "department",
     lambda w, s: aliases.map_alias(s, actor=w.actor(), organization_id=w.org, written="กองการคลัง",
                                    department_id=dep_id(w.engine, w.org, "กองคลัง")),
     lambda e, w: "กองการคลัง" in e.after["aliases"] and "กองการคลัง" not in e.before["aliases"]),
    ("import_measures", "measures.import", "import_batch",
     lambda w, s: uploads.import_measures(s, actor=w.actor(), organization_id=w.org, plan=parse_measures_file(plan_csv()),
                                          fiscal_year=2568, file_name="plan.csv", data=plan_csv()),
     lambda e, w: e.after["created"] == 1 and e.after["file_name"] == "plan.csv"),
    ("import_measures_per_measure", "measure.create", "measure",
     lambda w, s: uploads.import_measures(s, actor=w.actor(), organization_id=w.org, plan=parse_measures_file(plan_csv()),
                                          fiscal_year=2568, file_name="plan.csv", data=plan_csv()),
     lambda e, w: e.after["title"] == "จัดทำคู่มือบริการประชาชน" and e.after["department_ids"]),
    ("import_survey", "survey.import", "import_batch",
     _survey,
     lambda e, w: e.after["imported"] == 5 and e.after["file_name"] == "iit.csv"),
    ("undo_batch", "survey.undo", "import_batch",
     lambda w, s: uploads.undo_batch(s, actor=w.actor(), batch_id=w.made),
     lambda e, w: e.before["imported"] == 5 and e.after["deleted_responses"] == 5),
    ("remember_mapping", "survey.mapping", "form_mapping",
     lambda w, s: uploads.remember_mapping(s, actor=w.actor(), organization_id=w.org, signature="sig" * 10,
                                           mapping={"timestamp": "Timestamp"}),
     lambda e, w: e.before is None and e.after == {"timestamp": "Timestamp"}),
    ("apply_status_sheet", "progress.import", "import_batch",
     lambda w, s: apply_status_sheet(
         s, organization_id=w.org, actor=w.actor(), file_name="status.xlsx", file_bytes=b"x",
         sheet=StatusSheet(rows=[StatusRow("s", 5, w.measure, Status.done, None, "ครบ", None, dt.date(2025, 2, 1))])),
     lambda e, w: e.after["imported"] == 1),
]


PREPARE = {"delete_activity": _activity_id, "undo_batch": _batch_id}


@pytest.mark.parametrize("name, action, entity, do, check", CASES, ids=[c[0] for c in CASES])
def test_every_write_is_audited(world, name, action, entity, do, check):
    if name in PREPARE:
        world.made = PREPARE[name](world)
    with db.session_scope(world.engine) as s:
        first_new = (s.exec(select(AuditEvent.id).order_by(col(AuditEvent.id).desc())).first() or 0) + 1
    with db.session_scope(world.engine) as s:
        do(world, s)
    with db.session_scope(world.engine) as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.id >= first_new, AuditEvent.action == action)).all()
    assert len(events) == 1, [(e.action, e.entity) for e in events]
    event = events[0]
    assert event.entity == entity
    assert event.at is not None
    if not action.startswith("login."):
        assert event.username in ("audit_admin", "audit_head"), event.username  # who
        assert event.user_id in (world.admin, world.head)
    assert check(event, world), (event.before, event.after)


def test_reimport_audits_each_changed_measure_with_before_and_after(world):
    with db.session_scope(world.engine) as s:
        uploads.import_measures(s, actor=world.actor(), organization_id=world.org, plan=parse_measures_file(plan_csv()),
                                fiscal_year=2568, file_name="plan.csv", data=plan_csv())
    changed = plan_csv("จัดทำคู่มือบริการประชาชน ฉบับปรับปรุง")
    with db.session_scope(world.engine) as s:
        uploads.import_measures(s, actor=world.actor(), organization_id=world.org, plan=parse_measures_file(changed),
                                fiscal_year=2568, file_name="plan2.csv", data=changed)
    with db.session_scope(world.engine) as s:
        (event,) = s.exec(select(AuditEvent).where(AuditEvent.action == "measure.update")).all()
    assert event.before["title"] == "จัดทำคู่มือบริการประชาชน"
    assert event.after["title"] == "จัดทำคู่มือบริการประชาชน ฉบับปรับปรุง"
    assert event.username == "audit_admin"


def test_alias_mapping_records_the_admin_on_both_events(world):
    with db.session_scope(world.engine) as s:
        aliases.map_alias(s, actor=world.actor(), organization_id=world.org, written="กองการคลัง",
                          department_id=dep_id(world.engine, world.org, "กองคลัง"))
    with db.session_scope(world.engine) as s:
        events = s.exec(select(AuditEvent).where(col(AuditEvent.action).startswith("department.alias"))).all()
    assert {e.action for e in events} == {"department.alias", "department.alias_map"}
    assert {e.username for e in events} == {"audit_admin"}


def test_refused_write_leaves_no_change_and_no_event(world):
    with db.session_scope(world.engine) as s:
        before = s.exec(select(AuditEvent.id)).all()
    viewer = make_user(world.engine, username="audit_viewer", role="viewer", org_id=world.org)
    with pytest.raises(PermissionError):
        with db.session_scope(world.engine) as s:
            surveys.set_target(s, organization_id=world.org, fiscal_year=2568, instrument="iit", department_id=None,
                               target=5, actor=world.actor(viewer))
    with db.session_scope(world.engine) as s:
        after = s.exec(select(AuditEvent).where(col(AuditEvent.id).notin_(before))).all()
    assert [e.action for e in after] == ["user.create"]  # only making the viewer


# --- nothing edits or deletes audit events ------------------------------------------------------


def test_orm_refuses_to_change_or_delete_an_audit_event(world):
    with db.session_scope(world.engine) as s:
        event_id = s.exec(select(AuditEvent.id)).first()
    with pytest.raises(audit.AuditTrailReadOnly):
        with db.session_scope(world.engine) as s:
            s.get(AuditEvent, event_id).action = "tampered"
    with pytest.raises(audit.AuditTrailReadOnly):
        with db.session_scope(world.engine) as s:
            s.delete(s.get(AuditEvent, event_id))
    with db.session_scope(world.engine) as s:
        assert s.get(AuditEvent, event_id).action != "tampered"


_MUTATION = re.compile(r"(update|delete)\(\s*AuditEvent\b|AuditEvent\.__table__\.(update|delete)|"
                       r"(UPDATE|DELETE FROM)\s+\"?auditevent", re.IGNORECASE)


def test_no_code_in_the_package_updates_or_deletes_audit_events():
    """A grep over the package: no Core update/delete of AuditEvent, no raw SQL on the table, and
    audit.py itself only adds rows and reads them."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if _MUTATION.search(text):
            offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []
    functions = re.findall(r"^def (\w+)", (PACKAGE / "audit.py").read_text(encoding="utf-8"), re.MULTILINE)
    assert not [f for f in functions if re.search(r"delete|remove|update|edit|purge|clear", f)], functions


def test_admin_audit_export_neutralises_formulas(world):
    with db.session_scope(world.engine) as s:
        auth.authenticate(s, username="=cmd|' /C calc'!A0", password="x")
        auth.authenticate(s, username="@SUM(A1)", password="x")
        events = audit.list_events(s, organization_id=world.org)
    data = audit.events_csv(events).decode("utf-8-sig")
    import csv

    rows = list(csv.reader(io.StringIO(data)))
    assert rows[0][0] == "เวลา"
    cells = [c for r in rows[1:] for c in r]
    assert "'=cmd|' /C calc'!A0" in cells and "'@SUM(A1)" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
