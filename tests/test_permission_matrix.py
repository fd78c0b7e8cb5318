"""Roles are asked in the organisation concerned (issue 13 #4): role × relation × every write.

Every write service (the functions of ``services/`` that take ``actor=``) is called against
organisation B by people standing in every relation to B, the outside probe's matrix:

- ``home``: B is their home organisation, with that role;
- ``membership``: home admin of A, holding that role in B through a membership (the probe's
  "admin of A, viewer of B" who could add activities and upload workbooks into B);
- ``other_org``: that role in A only;
- ``other_department``: department head in B, of another department than the measure's;
- ``every_org``: an admin who sees every organisation.

The expected answer comes from one rule per kind of write (admin of B; admin of B or head of
the measure's department; every-organisation admin), not from the code under test. Each call
runs in a transaction that is rolled back, so the cells do not affect one another. SQLite only:
the checks are Python, the same on both backends (the services themselves run on PostgreSQL in
their own tests).
"""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from dataclasses import dataclass

import pytest
from sqlmodel import Session

from ita_dashboard import db
from ita_dashboard.importers.measures import parse_measures_file
from ita_dashboard.importers.surveys import parse_survey_file
from ita_dashboard.models import Status
from ita_dashboard.permissions import Actor, PermissionDenied
from ita_dashboard.importers.oit_list import parse_oit_list
from ita_dashboard.services import (abbreviations, activities, aliases, framework_overrides, measures, memberships, oit, org_settings,
                                    orgs, surveys, uploads, users)
from ita_dashboard.services.status_sheet import StatusRow, StatusSheet, apply_status_sheet
from tests import survey_files as sf
from tests.helpers import actor_for, dep_id, make_measure, make_org, make_user

ROLES = ["admin", "executive", "department_head", "viewer"]
PLAN = sf.csv_bytes([["ลำดับ", "มาตรการ", "ระยะเวลาดำเนินการ", "ผู้รับผิดชอบ"],
                     ["1", "มาตรการใหม่", "ตุลาคม 2567 - กันยายน 2568", "กองคลัง"]])
SURVEY = sf.google_csv(sf.make_responses(3))
OIT_LIST = sf.csv_bytes([["ข้อ", "รายการ"], ["O11", "สรุปผลการจัดซื้อจัดจ้าง"]])


@dataclass
class World:
    engine: object
    a: int
    b: int
    measure_b: int
    oit_item_b: int  # FY 2569, กองคลัง's
    activity_b: int
    batch_b: int
    b_viewer: int
    outsider: int
    member_b: int
    actors: dict[str, Actor]  # "<relation>/<role>" -> actor


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    engine = db.make_engine(f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'matrix.db'}")
    db.migrate(engine)
    a = make_org(engine, name="เทศบาลเอ")
    b = make_org(engine, name="เทศบาลบี")
    system = Actor.system()
    people: dict[str, int] = {}
    for role in ROLES:
        dep = "กองคลัง" if role == "department_head" else None
        people[f"home/{role}"] = make_user(engine, username=f"home_{role}", role=role, org_id=b, department=dep)
        people[f"other_org/{role}"] = make_user(engine, username=f"other_{role}", role=role, org_id=a, department=dep)
        uid = make_user(engine, username=f"member_{role}", role="admin", org_id=a)
        with db.session_scope(engine) as s:
            memberships.grant(s, actor=system, user_id=uid, organization_id=b, role=role,
                              department_id=dep_id(engine, b, dep) if dep else None)
        people[f"membership/{role}"] = uid
    people["other_department/department_head"] = make_user(engine, username="head_other_dep", role="department_head",
                                                           org_id=b, department="กองช่าง")
    people["every_org/admin"] = make_user(engine, username="province_admin", role="admin", org_id=None)
    b_viewer = make_user(engine, username="b_viewer", role="viewer", org_id=b)
    outsider = make_user(engine, username="outsider", role="viewer", org_id=a)
    member_b = make_user(engine, username="member_b", role="viewer", org_id=a)
    with db.session_scope(engine) as s:
        memberships.grant(s, actor=system, user_id=member_b, organization_id=b, role="viewer")
    measure_b = make_measure(engine, org_id=b, number=7, departments=["กองคลัง"])
    with db.session_scope(engine) as s:
        oit_item_b = oit.add_item(s, organization_id=b, fiscal_year=2569, number="O10", name="E-Service", indicator=9,
                                  department_id=dep_id(engine, b, "กองคลัง"), actor=system).id
    with db.session_scope(engine) as s:
        activity_b = activities.add_activity(s, organization_id=b, date=dt.date(2025, 1, 5), title="อบรม",
                                             actor=system).id
        batch_b = uploads.import_survey(s, actor=system, organization_id=b, instrument="iit",
                                        parsed=parse_survey_file(SURVEY), fiscal_year=None, file_name="iit.csv",
                                        data=SURVEY).batch_id
    actors = {key: actor_for(engine, uid) for key, uid in people.items()}
    yield World(engine, a, b, measure_b, oit_item_b, activity_b, batch_b, b_viewer, outsider, member_b, actors)
    engine.dispose()


def _sheet(w: World) -> StatusSheet:
    return StatusSheet(rows=[StatusRow("s", 5, w.measure_b, Status.done, None, "", None, dt.date(2025, 1, 9))])


# kind -> {write name: call(world, session, actor)}; every call writes into organisation B.
WRITES = {
    "admin": {
        "orgs.add_department": lambda w, s, a: orgs.add_department(s, organization_id=w.b, name="กองใหม่", actor=a),
        "abbreviations.set_abbreviation": lambda w, s, a: abbreviations.set_abbreviation(
            s, actor=a, organization_id=w.b, abbreviation="กคล.", department_id=dep_id(w.engine, w.b, "กองคลัง")),
        "abbreviations.remove_abbreviation": lambda w, s, a: abbreviations.remove_abbreviation(
            s, actor=a, organization_id=w.b, abbreviation="กค."),
        "abbreviations.restore_standard": lambda w, s, a: abbreviations.restore_standard(
            s, actor=a, organization_id=w.b, abbreviation="สป."),
        "orgs.update_department": lambda w, s, a: orgs.update_department(
            s, department_id=dep_id(w.engine, w.b, "กองช่าง"), iit_eligible_staff=1, actor=a),
        "users.list_users": lambda w, s, a: users.list_users(s, actor=a, organization_id=w.b),
        "users.create_user": lambda w, s, a: users.create_user(s, actor=a, username="intruder", role="admin",
                                                               password="temp-pass-2568", organization_id=w.b),
        "users.update_user(role)": lambda w, s, a: users.update_user(s, actor=a, user_id=w.b_viewer, role="admin"),
        "users.update_user(reset)": lambda w, s, a: users.update_user(s, actor=a, user_id=w.b_viewer,
                                                                      reset_password="hijack-pass-2568"),
        "users.update_user(deactivate)": lambda w, s, a: users.update_user(s, actor=a, user_id=w.b_viewer,
                                                                           active=False),
        "memberships.grant": lambda w, s, a: memberships.grant(s, actor=a, user_id=w.outsider, organization_id=w.b,
                                                               role="admin"),
        "memberships.revoke": lambda w, s, a: memberships.revoke(s, actor=a, user_id=w.member_b, organization_id=w.b),
        "activities.add_activity(no measure)": lambda w, s, a: activities.add_activity(
            s, organization_id=w.b, date=dt.date(2025, 1, 6), title="แอบเพิ่ม", actor=a),
        "activities.delete_activity": lambda w, s, a: activities.delete_activity(s, activity_id=w.activity_b, actor=a),
        "surveys.set_target": lambda w, s, a: surveys.set_target(
            s, organization_id=w.b, fiscal_year=2568, instrument="iit", department_id=None, target=1, actor=a),
        "surveys.record_itas_snapshot": lambda w, s, a: surveys.record_itas_snapshot(
            s, organization_id=w.b, fiscal_year=2568, as_of=dt.date(2025, 1, 1), iit_count=1, eit_count=1, actor=a),
        "framework_overrides.set_override": lambda w, s, a: framework_overrides.set_override(
            s, organization_id=w.b, fiscal_year=2568, key="agency.oit_estimate", value=99, actor=a),
        "org_settings.set_itas_code": lambda w, s, a: org_settings.set_itas_code(s, organization_id=w.b,
                                                                                 code="HACK1", actor=a),
        "aliases.map_alias": lambda w, s, a: aliases.map_alias(
            s, actor=a, organization_id=w.b, written="กองแฮก", department_id=dep_id(w.engine, w.b, "กองคลัง")),
        "uploads.import_measures": lambda w, s, a: uploads.import_measures(
            s, actor=a, organization_id=w.b, plan=parse_measures_file(PLAN), fiscal_year=2568, file_name="p.csv",
            data=PLAN),
        "uploads.import_survey": lambda w, s, a: uploads.import_survey(
            s, actor=a, organization_id=w.b, instrument="iit", parsed=parse_survey_file(SURVEY), fiscal_year=None,
            file_name="s.csv", data=SURVEY),
        "uploads.undo_batch": lambda w, s, a: uploads.undo_batch(s, actor=a, batch_id=w.batch_b),
        "uploads.remember_mapping": lambda w, s, a: uploads.remember_mapping(s, actor=a, organization_id=w.b,
                                                                             signature="x", mapping={}),
        "org_settings.set_website": lambda w, s, a: org_settings.set_website(s, organization_id=w.b,
                                                                             website="https://evil.example", actor=a),
        "oit.start_from_framework": lambda w, s, a: oit.start_from_framework(s, organization_id=w.b, fiscal_year=2568,
                                                                             actor=a),
        "oit.add_item": lambda w, s, a: oit.add_item(s, organization_id=w.b, fiscal_year=2569, number="O99",
                                                     name="แอบเพิ่ม", actor=a),
        "oit.update_item": lambda w, s, a: oit.update_item(s, item_id=w.oit_item_b, name="แอบแก้", actor=a),
        "oit.remove_item": lambda w, s, a: oit.remove_item(s, item_id=w.oit_item_b, actor=a),
        "oit.import_list": lambda w, s, a: oit.import_list(s, organization_id=w.b, fiscal_year=2569, actor=a,
                                                           parsed=parse_oit_list(OIT_LIST)),
        "oit.check_links": lambda w, s, a: oit.check_links(open_session=lambda **_: nullcontext(s), organization_id=w.b,
                                                           fiscal_year=2569, actor=a),
        "oit.copy_from_previous_year": lambda w, s, a: oit.copy_from_previous_year(s, organization_id=w.b,
                                                                                   to_year=2569, actor=a),
    },
    "measure": {
        "measures.record_progress": lambda w, s, a: measures.record_progress(
            s, measure_id=w.measure_b, status="done", percent=100, as_of=dt.date(2025, 1, 10), actor=a),
        "activities.add_activity(measure)": lambda w, s, a: activities.add_activity(
            s, organization_id=w.b, date=dt.date(2025, 1, 6), title="แอบเพิ่ม", measure_id=w.measure_b, actor=a),
        "status_sheet.apply_status_sheet": lambda w, s, a: apply_status_sheet(
            s, organization_id=w.b, actor=a, file_name="x.xlsx", file_bytes=b"x", sheet=_sheet(w)),
        # an OIT item follows the same rule as a measure: admins, and the head of its department
        "oit.record_status": lambda w, s, a: oit.record_status(s, item_id=w.oit_item_b, status="in_progress", actor=a),
    },
    "every_org": {
        "orgs.create_organization": lambda w, s, a: orgs.create_organization(s, name="เทศบาลใหม่",
                                                                             kind="เทศบาลตำบล", actor=a),
        "users.create_user(every organisation)": lambda w, s, a: users.create_user(
            s, actor=a, username="everywhere", password="temp-pass-2568", role="viewer", organization_id=None),
    },
}
CELLS = [(kind, name) for kind, calls in WRITES.items() for name in calls]


def expected(kind: str, relation: str, role: str) -> bool:
    """The rule, written from the relation to B (not from the actor object)."""
    role_in_b = {"home": role, "membership": role, "other_department": role, "every_org": role}.get(relation)
    if kind == "every_org":
        return relation == "every_org"
    if role_in_b == "admin":
        return True
    if kind == "measure":
        return role_in_b == "department_head" and relation in ("home", "membership")  # of the measure's department
    return False


def test_the_matrix_covers_every_relation_and_role(world):
    relations = {key.split("/")[0] for key in world.actors}
    assert relations == {"home", "membership", "other_org", "other_department", "every_org"}
    assert {key.split("/")[1] for key in world.actors} == set(ROLES)


@pytest.mark.parametrize("kind, name", CELLS, ids=[name for _, name in CELLS])
def test_every_write_asks_the_role_in_the_organisation_concerned(world, kind, name):
    call = WRITES[kind][name]
    wrong = []
    for key, actor in world.actors.items():
        relation, role = key.split("/")
        want = expected(kind, relation, role)
        with Session(world.engine, expire_on_commit=False) as s:
            try:
                call(world, s, actor)
                got = True
            except PermissionDenied:
                got = False
            finally:
                s.rollback()
        if got != want:
            wrong.append(f"{key}: {'allowed' if got else 'refused'}, expected {'allowed' if want else 'refused'}")
    assert not wrong, f"{name}:\n" + "\n".join(wrong)
