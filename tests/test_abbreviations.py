"""Department names as people write them (issue 11 point 2): ``ฯ`` forms, the abbreviation table
(standard list + an organisation's edits, audited and admin-only), and re-resolution of the rows
an edit now places. Unit tests of the resolver first, then the service on both backends."""

from __future__ import annotations


import pytest
from sqlmodel import col, select

from ita_dashboard import db
from ita_dashboard.departments import (STANDARD_ABBREVIATIONS, Abbreviation, DepartmentRef, DepartmentResolver,
                                       abbreviation_key, standard_abbreviations)
from ita_dashboard.importers.surveys import parse_survey_file
from ita_dashboard.models import AuditEvent, DepartmentAbbreviation, Measure, SurveyResponse
from ita_dashboard.permissions import PermissionDenied
from ita_dashboard.services import abbreviations as abbr
from ita_dashboard.services import orgs
from ita_dashboard.services.abbreviations import AbbreviationError
from ita_dashboard.services.measure_import import import_plan, resolve_owners
from ita_dashboard.importers.measures import parse_measures_file
from ita_dashboard.services.survey_import import import_survey
from tests import survey_files as sf
from tests.helpers import actor_for, dep_id, make_org, make_user

NAOO = (
    DepartmentRef(1, "สำนักปลัดเทศบาล"),
    DepartmentRef(2, "กองคลัง"),
    DepartmentRef(3, "กองช่าง"),
    DepartmentRef(4, "กองการศึกษา ศาสนาและวัฒนธรรม"),
    DepartmentRef(5, "กองสาธารณสุขและสิ่งแวดล้อม"),
    DepartmentRef(6, "กองสวัสดิการสังคม"),
)


def resolver(deps=NAOO, abbreviations=None) -> DepartmentResolver:
    return DepartmentResolver(deps, standard_abbreviations() if abbreviations is None else abbreviations)


# --- ฯ: the one department the written stem begins --------------------------------------------

@pytest.mark.parametrize("written, expected", [
    ("กองการศึกษาฯ", 4),
    ("กองการศึกษา ฯ", 4),
    ("กองการศึกษาฯ.", 4),
    (" กองการศึกษาฯ ", 4),
    ("กองการศึกษาฯ ทต.นาอ้อ", 4),  # the organisation's name may follow
    ("กองสวัสดิการฯ", 6),
    ("กองสาธารณสุขฯ", 5),
    ("สำนักปลัดฯ", 1),
    ("สำนักงานปลัดฯ", 1),  # สำนักงานปลัด is spelt สำนักปลัด
    ("กองคลังฯ", 2),  # the stem may be the whole name
])
def test_ellipsis_matches_the_one_department_it_begins(written, expected):
    assert resolver().resolve(written) == expected


@pytest.mark.parametrize("written", [
    "กองฯ",  # a bare unit word says nothing
    "สำนักฯ",
    "ฯ",
    "กองการฯ",  # begins กองการศึกษา... and กองการประปา: ambiguous
    "กองการศึกษาฯลฯ",  # ฯลฯ is "et cetera", not a shortened name
    "กองส่งเสริมการเกษตรฯ",  # no such department
])
def test_ellipsis_without_a_single_department_stays_unmatched(written):
    deps = (*NAOO, DepartmentRef(7, "กองการประปา"))
    assert resolver(deps).resolve(written) is None


def test_ellipsis_with_two_candidates_is_ambiguous():
    deps = (DepartmentRef(1, "กองการศึกษา ศาสนาและวัฒนธรรม"), DepartmentRef(2, "กองการศึกษาพิเศษ"),
            DepartmentRef(3, "กองคลัง"))
    r = resolver(deps)
    assert r.resolve("กองการศึกษาฯ") is None
    assert r.resolve("กศ.") is None  # the abbreviation is just as ambiguous
    assert r.resolve("กองการศึกษา ศาสนาฯ") == 1  # a longer stem is not
    # An exact registered name wins over the ฯ rule only when it is written without ฯ.
    deps = (DepartmentRef(1, "กองการศึกษา"), DepartmentRef(2, "กองการศึกษา ศาสนาและวัฒนธรรม"))
    assert resolver(deps).resolve("กองการศึกษา") == 1
    assert resolver(deps).resolve("กองการศึกษาฯ") is None


def test_ellipsis_matches_aliases_too():
    deps = (DepartmentRef(1, "สำนักปลัด", ("งานบริหารทั่วไป",)), DepartmentRef(2, "กองคลัง"))
    assert resolver(deps).resolve("งานบริหารฯ") == 1


def test_thai_digits_in_ellipsis_forms():
    deps = (DepartmentRef(1, "โรงเรียนเทศบาล 1 (บ้านนาอ้อ)"), DepartmentRef(2, "โรงเรียนเทศบาล 2 (วัดศรีโคมคำ)"))
    r = resolver(deps)
    assert r.resolve("โรงเรียนเทศบาล ๑ฯ") == 1
    assert r.resolve("โรงเรียนเทศบาล ๒ ฯ") == 2
    assert r.resolve("โรงเรียนเทศบาลฯ") is None  # both begin so: ambiguous


# --- abbreviations ---------------------------------------------------------------------------

@pytest.mark.parametrize("key, expected", [("สป", 1), ("กค", 2), ("กช", 3), ("กศ", 4)])
@pytest.mark.parametrize("form", ["{a}.", "{a}", "{a} .", " {a}. ", "{dotted}", "{a}.ทต.นาอ้อ", "{a}. เทศบาลตำบลนาอ้อ"])
def test_each_standard_abbreviation_with_and_without_dot_or_space(key, expected, form):
    written = form.format(a=key, dotted=".".join(key) + ".")
    assert resolver().resolve(written) == expected, written


def test_standard_list_is_the_documented_one():
    assert set(STANDARD_ABBREVIATIONS) == {"สป", "กค", "กช", "กศ"}
    for key, (written, expansion, source) in STANDARD_ABBREVIATIONS.items():
        assert abbreviation_key(written) == key and expansion and source


@pytest.mark.parametrize("written", [
    "สปา",  # a word, not an abbreviation
    "กศน.",  # another unit (non-formal education centre)
    "ก.ค.ศ.",  # the teachers' commission
    "กค. กช.",  # two units in one phrase: not placed on one of them
    "กส.",  # left out of the standard list: sources disagree
    "กสธ.",
])
def test_what_is_not_a_standard_abbreviation_stays_unmatched(written):
    assert resolver().resolve(written) is None


def test_abbreviation_for_a_unit_word_that_names_a_department_takes_it():
    deps = (DepartmentRef(1, "กองช่าง"), DepartmentRef(2, "กองช่างสุขาภิบาล"), DepartmentRef(3, "กองคลัง"))
    assert resolver(deps).resolve("กช.") == 1
    assert resolver(deps).resolve("กองช่างฯ") is None  # ฯ says the name goes on: both could be meant


def test_abbreviation_for_a_unit_word_that_two_departments_begin_is_ambiguous():
    deps = (DepartmentRef(1, "สำนักปลัดเทศบาล"), DepartmentRef(2, "สำนักปลัดฝ่ายบริหาร"), DepartmentRef(3, "กองคลัง"))
    assert resolver(deps).resolve("สป.") is None
    assert resolver(deps).resolve("สำนักปลัดฯ") is None


def test_abbreviation_to_a_department_and_organisation_entries():
    table = [*standard_abbreviations(), Abbreviation("กสว.", "กองสวัสดิการสังคม"), Abbreviation("ผอ.กศ", None, 4),
             Abbreviation("สธ.", None, 99)]  # a department of no one: ignored
    r = resolver(abbreviations=table)
    assert r.resolve("กสว.") == 6
    assert r.resolve("กสว") == 6
    assert r.resolve("ผอ.กศ.") == 4
    assert r.resolve("สธ.") is None


def test_thai_digits_in_abbreviations():
    deps = (DepartmentRef(1, "ศูนย์พัฒนาเด็กเล็กบ้านนาอ้อ"), DepartmentRef(2, "ศูนย์พัฒนาเด็กเล็กวัดศรีโคมคำ"))
    table = [Abbreviation("ศพด.1", None, 1), Abbreviation("ศพด. ๒", None, 2)]
    r = resolver(deps, table)
    assert (r.resolve("ศพด.๑"), r.resolve("ศพด 1"), r.resolve("ศพด.2"), r.resolve("ศ.พ.ด.๒")) == (1, 1, 2, 2)
    assert r.resolve("ศพด.") is None


def test_exact_names_and_aliases_win_over_the_table():
    deps = (DepartmentRef(1, "สำนักปลัด"), DepartmentRef(2, "สำนักงานประชาสัมพันธ์", ("สป",)))
    assert resolver(deps).resolve("สป.") == 2


def test_without_a_table_abbreviations_do_not_resolve():
    assert resolver(abbreviations=[]).resolve("สป.") is None
    assert resolver(abbreviations=[]).resolve("กองการศึกษาฯ") == 4  # ฯ needs no table


def test_plan_owner_cells_use_the_same_rules():
    r = resolver()
    owners = resolve_owners("สป./กค.", resolver=r)
    assert owners.department_ids == (1, 2) and owners.unresolved == ()
    owners = resolve_owners("1. กองการศึกษาฯ 2. กองสวัสดิการฯ 3. คณะทำงาน", resolver=r)
    assert owners.department_ids == (4, 6) and owners.unresolved == ("คณะทำงาน",)


# --- the service: table edits, audit, permissions, re-resolution ---------------------------------

DEPS = (("สำนักปลัดเทศบาล", 10), ("กองคลัง", 5), ("กองช่าง", 4), ("กองการศึกษา ศาสนาและวัฒนธรรม", 6),
        ("กองสาธารณสุขและสิ่งแวดล้อม", 3), ("กองสวัสดิการสังคม", 3))


@pytest.fixture
def town(engine):
    org = make_org(engine, departments=DEPS)
    other = make_org(engine, name="อบต.อื่น", kind="อบต.", departments=(("สำนักปลัด", 3),))
    admin = make_user(engine, username="ab_admin", role="admin", org_id=org)
    viewer = make_user(engine, username="ab_viewer", role="viewer", org_id=org)
    other_admin = make_user(engine, username="ab_other", role="admin", org_id=other)
    return engine, org, other, {"admin": admin, "viewer": viewer, "other": other_admin}


def _events(engine, action="department.abbreviation"):
    with db.session_scope(engine) as s:
        return [(e.entity_id, e.username, e.before, e.after)
                for e in s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id)))]


def _survey(engine, org, departments, *, admin_id=None, seed=3):
    data = sf.google_csv(sf.make_responses(len(departments), departments=departments, seed=seed))
    with db.session_scope(engine) as s:
        return import_survey(s, organization_id=org, instrument="iit", parsed=parse_survey_file(data, filename="f.csv"),
                             fiscal_year=2568, file_name="f.csv", file_bytes=data, user_id=admin_id)


def test_every_organisation_starts_with_the_standard_list(town):
    engine, org, other, _ = town
    with db.session_scope(engine) as s:
        for o in (org, other):
            entries = abbr.list_abbreviations(s, organization_id=o)
            assert [e.key for e in entries] == sorted(STANDARD_ABBREVIATIONS)
            assert all(e.standard and e.active and not e.edited for e in entries)
        assert s.exec(select(DepartmentAbbreviation)).all() == []  # nothing stored for that
        assert orgs.resolver_for(s, organization_id=other).resolve("สป.") == dep_id(engine, other, "สำนักปลัด")


def test_survey_import_resolves_abbreviations_and_ellipsis(town):
    engine, org, _, _ = town
    result = _survey(engine, org, ["สป.", "กองการศึกษาฯ", "กองสวัสดิการฯ", "กค.", "สำนักปลัดฯ", "กส."])
    assert result.unmatched_departments == {"กส.": 1}
    with db.session_scope(engine) as s:
        rows = s.exec(select(SurveyResponse.department_text, SurveyResponse.department_id)).all()
    placed = {text: dep for text, dep in rows}
    assert placed["สป."] == placed["สำนักปลัดฯ"] == dep_id(engine, org, "สำนักปลัดเทศบาล")
    assert placed["กองการศึกษาฯ"] == dep_id(engine, org, "กองการศึกษา ศาสนาและวัฒนธรรม")
    assert placed["กค."] == dep_id(engine, org, "กองคลัง")


def test_adding_an_abbreviation_is_audited_and_places_earlier_rows(town):
    engine, org, _, people = town
    _survey(engine, org, ["กส.", "กส.", "กค."], admin_id=people["admin"])
    plan = sf.csv_bytes([["ลำดับ", "มาตรการ", "ระยะเวลาดำเนินการ", "ผู้รับผิดชอบ"],
                         ["1", "มาตรการสวัสดิการ", "ตุลาคม 2567 - กันยายน 2568", "กส./กค."]])
    with db.session_scope(engine) as s:
        summary = import_plan(s, organization_id=org, plan=parse_measures_file(plan, filename="p.csv"), fiscal_year=2568,
                              user_id=people["admin"], file_name="p.csv", file_bytes=plan)
    assert summary.unresolved_owners == ["กส."]
    welfare = dep_id(engine, org, "กองสวัสดิการสังคม")
    with db.session_scope(engine) as s:
        result = abbr.set_abbreviation(s, actor=actor_for(engine, people["admin"]), organization_id=org,
                                       abbreviation="กส.", expansion="กองสวัสดิการสังคม")
    assert (result.responses_resolved, result.measures_changed) == (2, 1)
    with db.session_scope(engine) as s:
        texts = s.exec(select(SurveyResponse.department_id).where(SurveyResponse.department_text == "กส.")).all()
        assert texts == [welfare, welfare]
        m = s.exec(select(Measure)).one()
        assert m.unresolved_owners == []
        entry = next(e for e in abbr.list_abbreviations(s, organization_id=org) if e.key == "กส")
        assert (entry.expansion, entry.standard, entry.edited, entry.active) == ("กองสวัสดิการสังคม", False, True, True)
    [(key, who, before, after)] = _events(engine)
    assert key == "กส" and who == "ab_admin" and before is None
    assert after["expansion"] == "กองสวัสดิการสังคม" and after["responses_resolved"] == 2 and after["measures_changed"] == 1


def test_mapping_an_abbreviation_to_a_department_and_back_to_standard(town):
    engine, org, _, people = town
    admin = actor_for(engine, people["admin"])
    works = dep_id(engine, org, "กองช่าง")
    with db.session_scope(engine) as s:
        abbr.set_abbreviation(s, actor=admin, organization_id=org, abbreviation="สป", department_id=works)
        assert orgs.resolver_for(s, organization_id=org).resolve("สป.") == works
    with db.session_scope(engine) as s:
        abbr.restore_standard(s, actor=admin, organization_id=org, abbreviation="สป.")
        assert orgs.resolver_for(s, organization_id=org).resolve("สป.") == dep_id(engine, org, "สำนักปลัดเทศบาล")
        assert s.exec(select(DepartmentAbbreviation)).all() == []
    events = _events(engine)
    assert [e[3]["change"] for e in events] == ["set", "restore"]
    assert events[0][2]["expansion"] == "สำนักปลัด" and events[0][3]["department_id"] == works
    assert events[1][2]["department_id"] == works and events[1][3]["expansion"] == "สำนักปลัด"


def test_switching_a_standard_abbreviation_off_keeps_placed_rows(town):
    engine, org, _, people = town
    admin = actor_for(engine, people["admin"])
    _survey(engine, org, ["กค.", "กค."])
    with db.session_scope(engine) as s:
        abbr.remove_abbreviation(s, actor=admin, organization_id=org, abbreviation="กค.")
        entry = next(e for e in abbr.list_abbreviations(s, organization_id=org) if e.key == "กค")
        assert not entry.active and entry.edited
        assert orgs.resolver_for(s, organization_id=org).resolve("กค.") is None
        # Rows placed earlier keep their department: an edit never drops them.
        assert set(s.exec(select(SurveyResponse.department_id))) == {dep_id(engine, org, "กองคลัง")}
    result = _survey(engine, org, ["กค."], seed=9)
    assert result.unmatched_departments == {"กค.": 1}  # new rows are no longer placed
    with db.session_scope(engine) as s:  # switched on again by setting it
        back = abbr.set_abbreviation(s, actor=admin, organization_id=org, abbreviation="กค.", expansion="กองคลัง")
    assert back.responses_resolved == 1
    with db.session_scope(engine) as s:
        assert s.exec(select(DepartmentAbbreviation)).all() == []  # exactly the standard entry again
    assert [e[3]["change"] for e in _events(engine)] == ["remove", "set"]


def test_removing_an_own_abbreviation_deletes_it(town):
    engine, org, _, people = town
    admin = actor_for(engine, people["admin"])
    with db.session_scope(engine) as s:
        abbr.set_abbreviation(s, actor=admin, organization_id=org, abbreviation="กสธ.", expansion="กองสาธารณสุข")
    with db.session_scope(engine) as s:
        abbr.remove_abbreviation(s, actor=admin, organization_id=org, abbreviation="กสธ")
        assert s.exec(select(DepartmentAbbreviation)).all() == []
    assert _events(engine)[-1][3]["removed"] is True


def test_an_unchanged_save_records_nothing(town):
    engine, org, _, people = town
    with db.session_scope(engine) as s:
        abbr.set_abbreviation(s, actor=actor_for(engine, people["admin"]), organization_id=org, abbreviation="สป.",
                              expansion="สำนักปลัด")
    assert _events(engine) == []


@pytest.mark.parametrize("kwargs, message", [
    ({"abbreviation": "", "expansion": "กองคลัง"}, "กรุณาระบุตัวย่อ"),
    ({"abbreviation": "กค.", "expansion": None}, "อย่างใดอย่างหนึ่ง"),
    ({"abbreviation": "กค.", "expansion": "กองคลัง", "department_id": "dep"}, "อย่างใดอย่างหนึ่ง"),
    ({"abbreviation": "กองคลังฯ", "expansion": "กองคลัง"}, "ฯ"),
    ({"abbreviation": "ก" * 13, "expansion": "กองคลัง"}, "ยาวเกินไป"),
    ({"abbreviation": "กค.", "expansion": "ก.ค."}, "ไม่ใช่ตัวย่อเดียวกัน"),
    ({"abbreviation": "กค.", "department_id": "other"}, "ไม่พบกอง"),
])
def test_bad_edits_are_refused_and_change_nothing(town, kwargs, message):
    engine, org, other, people = town
    kwargs = dict(kwargs)
    if kwargs.get("department_id") == "dep":
        kwargs["department_id"] = dep_id(engine, org, "กองคลัง")
    elif kwargs.get("department_id") == "other":
        kwargs["department_id"] = dep_id(engine, other, "สำนักปลัด")
    with pytest.raises(AbbreviationError, match=message):
        with db.session_scope(engine) as s:
            abbr.set_abbreviation(s, actor=actor_for(engine, people["admin"]), organization_id=org, **kwargs)
    with db.session_scope(engine) as s:
        assert s.exec(select(DepartmentAbbreviation)).all() == []
    assert _events(engine) == []


@pytest.mark.parametrize("who", ["viewer", "other"])
@pytest.mark.parametrize("write", ["set", "remove", "restore"])
def test_only_an_admin_of_that_organisation_edits_the_table(town, who, write):
    engine, org, _, people = town
    actor = actor_for(engine, people[who])
    calls = {
        "set": lambda s: abbr.set_abbreviation(s, actor=actor, organization_id=org, abbreviation="กส.",
                                               expansion="กองสวัสดิการสังคม"),
        "remove": lambda s: abbr.remove_abbreviation(s, actor=actor, organization_id=org, abbreviation="สป."),
        "restore": lambda s: abbr.restore_standard(s, actor=actor, organization_id=org, abbreviation="สป."),
    }
    with pytest.raises(PermissionDenied):
        with db.session_scope(engine) as s:
            calls[write](s)
    with db.session_scope(engine) as s:
        assert s.exec(select(DepartmentAbbreviation)).all() == []
    assert _events(engine) == []


def test_edits_of_one_organisation_do_not_reach_another(town):
    engine, org, other, people = town
    with db.session_scope(engine) as s:
        abbr.remove_abbreviation(s, actor=actor_for(engine, people["admin"]), organization_id=org, abbreviation="สป.")
        assert orgs.resolver_for(s, organization_id=org).resolve("สป.") is None
        assert orgs.resolver_for(s, organization_id=other).resolve("สป.") == dep_id(engine, other, "สำนักปลัด")


def test_deleting_a_department_drops_the_entries_pointing_at_it(town):
    engine, org, _, people = town
    from ita_dashboard.models import Department

    with db.session_scope(engine) as s:
        dep = orgs.add_department(s, organization_id=org, name="กองชั่วคราว", actor=actor_for(engine, people["admin"]))
        abbr.set_abbreviation(s, actor=actor_for(engine, people["admin"]), organization_id=org, abbreviation="กชค",
                              department_id=dep.id)
        dep_id_ = dep.id
    with db.session_scope(engine) as s:
        s.delete(s.get(Department, dep_id_))
    with db.session_scope(engine) as s:
        assert s.exec(select(DepartmentAbbreviation)).all() == []


# --- the admin page ------------------------------------------------------------------------------

def test_changes_turn_the_edited_table_into_service_calls():
    from ita_dashboard.ui.abbreviation_views import Change, changes

    before = [{"abbreviation": "กค.", "expansion": "กองคลัง", "department": "—", "active": True, "source": "x"},
              {"abbreviation": "สป.", "expansion": "สำนักปลัด", "department": "—", "active": True, "source": "x"},
              {"abbreviation": "กช.", "expansion": "กองช่าง", "department": "—", "active": False, "source": "x"},
              {"abbreviation": "กศ.", "expansion": "กองการศึกษา", "department": "—", "active": True, "source": "x"}]
    after = [dict(before[0]),  # unchanged
             {**before[1], "department": "สำนักปลัดเทศบาล"},  # to a department
             {**before[2], "active": True},  # switched on again
             # กศ. deleted
             {"abbreviation": "กส.", "expansion": "กองสวัสดิการสังคม", "department": None, "active": None, "source": None},
             {"abbreviation": None, "expansion": None, "department": None, "active": None, "source": None}]  # empty
    got = changes(before, after, {"สำนักปลัดเทศบาล": 1})
    assert got == [Change("set", "สป.", None, 1, 2), Change("set", "กช.", "กองช่าง", None, 3),
                   Change("set", "กส.", "กองสวัสดิการสังคม", None, 4), Change("remove", "กศ.")]
    assert changes(before, [dict(r) for r in before], {}) == []


def test_admin_page_shows_and_edits_the_table(monkeypatch, tmp_path):
    from tests.apptest_utils import run_app, texts

    url = f"sqlite:///{tmp_path / 'abbr.db'}"
    engine = db.make_engine(url)
    db.migrate(engine)
    org = make_org(engine, name="เทศบาลตำบลตัวย่อ", departments=DEPS)
    make_user(engine, username="abbr_admin", role="admin", org_id=org)
    _survey(engine, org, ["กส.", "กส.", "สป."])
    engine.dispose()

    at = run_app(monkeypatch, url, username="abbr_admin", page="app_pages/admin.py")
    assert "ตัวย่อชื่อกอง/ส่วนราชการ" in [e.label for e in at.expander][0]
    assert "abbr_editor" in [e.key for e in at.data_editor]  # editable, not a read-only table
    table = at.dataframe(key="abbr_editor").value
    assert list(table["abbreviation"]) == ["กค.", "กช.", "กศ.", "สป."]
    assert set(table["source"]) == {"มาตรฐาน"}
    assert "กส. (2)" in texts(at)  # still unmatched, listed for mapping below

    # Add "กส." -> กองสวัสดิการสังคม as one row of the editable table, then save.
    at.session_state["abbr_editor"] = {"edited_rows": {}, "deleted_rows": [],
                                       "added_rows": [{"abbreviation": "กส.", "expansion": "กองสวัสดิการสังคม"}]}
    at.run()
    at.button(key="abbr_save").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "จับคู่ผู้ตอบแบบวัดเพิ่ม 2 รายการ" in texts(at)
    assert "กส. (2)" not in texts(at)
    table = at.dataframe(key="abbr_editor").value
    assert list(table["abbreviation"]) == ["กค.", "กช.", "กศ.", "สป.", "กส."]
    assert list(table["source"])[-1] == "ของหน่วยงาน"
    engine = db.make_engine(url)
    welfare = dep_id(engine, org, "กองสวัสดิการสังคม")
    with db.session_scope(engine) as s:
        assert set(s.exec(select(SurveyResponse.department_id).where(SurveyResponse.department_text == "กส."))) == {welfare}
    assert [(k, who) for k, who, _, _ in _events(engine)] == [("กส", "abbr_admin")]
    engine.dispose()


def test_one_factory_builds_every_resolver():
    """Survey imports, plan owners, re-resolution, the CLI and the demo all get the abbreviation
    table because the package builds a DepartmentResolver in exactly one place."""
    import re
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "ita_dashboard"
    sites = [str(p.relative_to(package)) for p in package.rglob("*.py")
             for _ in re.finditer(r"\bDepartmentResolver\(", p.read_text(encoding="utf-8"))]
    assert sites == ["services/orgs.py"]


def test_one_entry_per_abbreviation_and_organisation(town):
    from sqlalchemy.exc import IntegrityError

    engine, org, _, _ = town
    with pytest.raises(IntegrityError):
        with db.session_scope(engine) as s:
            for written in ("กส.", "ก.ส."):
                s.add(DepartmentAbbreviation(organization_id=org, key=abbreviation_key(written), abbreviation=written,
                                             expansion="กองสวัสดิการสังคม"))
                s.flush()
    with db.session_scope(engine) as s:
        assert s.exec(select(DepartmentAbbreviation)).all() == []
