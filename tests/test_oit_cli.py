"""OIT through the command line (oit-status, import-oit, check-links, summary's oit keys), the
list importer, the roll-up agreeing with the summary, and a new year started from the last one."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import select

from ita_dashboard import db
from ita_dashboard.importers.oit_list import parse_oit_list
from ita_dashboard.importers.tabular import FileProblem
from ita_dashboard.models import Measure, MeasureDepartment, OitItem, ProgressUpdate, Status
from ita_dashboard.permissions import Actor
from ita_dashboard.services import oit, rollup, summary
from helpers import dep_id, make_measure, make_org
from link_server import link_server
from survey_files import csv_bytes, xlsx_bytes
from tests.cli_utils import assert_one_line_error, run

ORG = "เทศบาลตำบลทดสอบ"

LIST_ROWS = [
    ["รายการ OIT ประจำปีงบประมาณ พ.ศ. ๒๕๖๙ เทศบาลตำบลทดสอบ"],
    [],
    ["ข้อ", "ชื่อรายการ", "ตัวชี้วัด", "ผู้รับผิดชอบ", "กำหนดเสร็จ", "สถานะ", "URL"],
    ["O1", "โครงสร้างและอำนาจหน้าที่", "ตัวชี้วัดที่ 9", "สำนักปลัด", "31 มีนาคม 2569", "เผยแพร่แล้ว", "https://test.go.th/o1"],
    ["๒", "ข้อมูลผู้บริหาร", "9", "สำนักปลัด", "", "กำลังจัดทำ", ""],
    ["O3", "ข้อมูลการติดต่อ", "9", "กองคลัง", "2026-02-28", "", "https://test.go.th/o3"],
    ["", "หมายเหตุ: ตรวจสอบโดยผู้ดูแลระบบ", "", "", "", "", ""],
    ["O4", "ข่าวประชาสัมพันธ์", "9", "กองที่ไม่มี", "วันพรุ่งนี้", "", ""],
    ["O5", "ซ้ำ", "9", "", "", "ไม่รู้", ""],
]


def test_parse_oit_list_reads_the_rows_and_says_why_others_are_not_items():
    parsed = parse_oit_list(xlsx_bytes({"OIT": LIST_ROWS}))
    assert parsed.header_row == 3
    assert [(i.number, i.name) for i in parsed.items] == [("O1", "โครงสร้างและอำนาจหน้าที่"), ("O2", "ข้อมูลผู้บริหาร"),
                                                         ("O3", "ข้อมูลการติดต่อ")]
    o1 = parsed.items[0]
    assert o1.indicator == 9 and o1.due_date == dt.date(2026, 3, 31) and o1.status == "published" and o1.department_text == "สำนักปลัด"
    assert parsed.items[2].due_date == dt.date(2026, 2, 28) and parsed.items[2].url == "https://test.go.th/o3"
    reasons = {r["row"]: r["reason"] for r in parsed.rejected}
    assert "ไม่มีเลขข้อ" in reasons[7] and "วันที่กำหนดเสร็จ" in reasons[8] and "ไม่รู้จักสถานะ" in reasons[9]


def test_parse_oit_list_number_inside_the_name_and_csv():
    data = csv_bytes([["รายการ", "หน่วยงานรับผิดชอบ"], ["O10 E-Service", "กองช่าง"], ["O11: สรุปผลการจัดซื้อจัดจ้าง", ""]])
    parsed = parse_oit_list(data)
    assert [(i.number, i.name) for i in parsed.items] == [("O10", "E-Service"), ("O11", "สรุปผลการจัดซื้อจัดจ้าง")]


def test_parse_oit_list_headers_holding_the_word_khor_mun():
    # NACC's OIT table heads its columns "ข้อ | ข้อมูล | องค์ประกอบด้านข้อมูล": "ข้อมูล" (data) holds
    # "ข้อ" (item number) and was taken for a second number column, so no name column was found.
    rows = [["ตัวชี้วัดย่อย", "ข้อ", "ข้อมูล", "องค์ประกอบด้านข้อมูล", "ปีของข้อมูล", "ผู้รับผิดชอบ"],
            ["9.1 ข้อมูลพื้นฐาน", "O1", "โครงสร้าง", "แผนผังโครงสร้าง", "ปีที่ผ่านมา", "สำนักปลัด"],
            ["", "O2", "ข้อมูลผู้บริหาร", "ชื่อ ตำแหน่ง รูปถ่าย", "", "สำนักปลัด"]]
    parsed = parse_oit_list(xlsx_bytes({"OIT": rows}))
    assert set(parsed.columns) == {"sub_indicator", "number", "name", "contents", "covers", "department"}
    assert [(i.number, i.name, i.contents, i.covers) for i in parsed.items] == [
        ("O1", "โครงสร้าง", "แผนผังโครงสร้าง", "previous"), ("O2", "ข้อมูลผู้บริหาร", "ชื่อ ตำแหน่ง รูปถ่าย", "current")]
    assert parsed.rejected == []
    header_only = parse_oit_list(xlsx_bytes({"OIT": [["หัวข้อ", "ลิงก์"], ["O5 ข้อมูลการติดต่อ", ""]]}))
    assert [(i.number, i.name) for i in header_only.items] == [("O5", "ข้อมูลการติดต่อ")]


def test_parse_oit_list_numbers_written_with_a_dot_or_a_line_break():
    # Thai lists number their rows "1." / "๑."; a number copied out of NACC's PDF keeps its line
    # break ("O\n6") or its dot ("O5."). "1.1" stays a sub-number, not an item.
    rows = [["ข้อ", "รายการ"], ["1.", "โครงสร้าง"], ["๒.", "ข้อมูลผู้บริหาร"], ["O5.", "ข้อมูลการติดต่อ"],
            ["O\n6", "กฎหมายที่เกี่ยวข้อง"], ["O7)", "ข่าวประชาสัมพันธ์"], ["1.1", "หัวข้อย่อย"]]
    parsed = parse_oit_list(xlsx_bytes({"OIT": rows}))
    assert [i.number for i in parsed.items] == ["O1", "O2", "O5", "O6", "O7"]
    assert [r["row"] for r in parsed.rejected] == [7]


def test_parse_oit_list_section_rows_give_the_indicator_of_the_items_below():
    # NACC's OIT table copied out of its PDF: a row "ตัวชี้วัดที่ 9 ..." merged across the table, then
    # "9.1 ..." rows (or the sub-indicator once, merged down its items). They are headings, not
    # items without a number, and the items under them belong to that indicator.
    rows = [["ตัวชี้วัดย่อย", "ข้อ", "รายการ", "ผู้รับผิดชอบ"],
            ["ตัวชี้วัดที่ 9 การเปิดเผยข้อมูล"],
            ["9.1 ข้อมูลพื้นฐาน", "O1", "โครงสร้าง", "สำนักปลัด"],
            ["", "O2", "ข้อมูลผู้บริหาร", "สำนักปลัด"],
            ["๙.๒ การจัดซื้อจัดจ้าง"],
            ["", "O11", "สรุปผลการจัดซื้อจัดจ้างรายเดือน", "กองคลัง"],
            ["ตัวชี้วัดที่ ๑๐ การป้องกันการทุจริต"],
            ["", "O20", "การจัดการความเสี่ยงการทุจริต", "สำนักปลัด"],
            ["", "", "หมายเหตุ: ตรวจสอบโดยผู้ดูแลระบบ", ""]]
    parsed = parse_oit_list(xlsx_bytes({"OIT": rows}))
    assert [(i.number, i.indicator, i.sub_indicator) for i in parsed.items] == [
        ("O1", 9, "9.1 ข้อมูลพื้นฐาน"), ("O2", 9, "9.1 ข้อมูลพื้นฐาน"), ("O11", 9, "๙.๒ การจัดซื้อจัดจ้าง"),
        ("O20", 10, "")]
    assert [r["row"] for r in parsed.rejected] == [9]


def test_parse_oit_list_a_lone_number_like_note_is_no_heading():
    # Only 9.x and 10.x head OIT items: a note "2.5 ล้านบาท ..." alone on its row stays a row that
    # is set aside (and says so), and the indicator of the items below is unchanged.
    rows = [["ตัวชี้วัดย่อย", "ข้อ", "รายการ", "ผู้รับผิดชอบ"],
            ["9.2 การจัดซื้อจัดจ้าง"],
            ["", "O11", "สรุปผลการจัดซื้อจัดจ้างรายเดือน", "กองคลัง"],
            ["", "", "2.5 ล้านบาทขึ้นไปต้องประกาศ", ""],
            ["", "O12", "รายงานผลการจัดซื้อจัดจ้างประจำปี", "กองคลัง"]]
    parsed = parse_oit_list(xlsx_bytes({"OIT": rows}))
    assert [(i.number, i.indicator) for i in parsed.items] == [("O11", 9), ("O12", 9)]
    assert [r["row"] for r in parsed.rejected] == [4]


def test_parse_oit_list_refuses_a_sheet_without_items():
    with pytest.raises(FileProblem, match="หัวตารางรายการ OIT"):
        parse_oit_list(xlsx_bytes({"Sheet1": [["วันที่", "จำนวนเงิน"], ["1/1/2569", "100"]]}))


@pytest.fixture
def db_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'oit.db'}"
    assert run(url, "add-org", ORG, "--kind", "เทศบาลตำบล", "--size", "M",
               "--departments", "สำนักปลัด,กองคลัง,กองช่าง").returncode == 0
    return url


def test_import_oit_then_status_then_check_links_through_the_cli(db_url, tmp_path, monkeypatch):
    path = tmp_path / "oit.xlsx"
    path.write_bytes(xlsx_bytes({"OIT": LIST_ROWS}))
    p = run(db_url, "import-oit", str(path), "--year", "2569", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert (out["created"], out["updated"], out["statuses"], out["rejected"]) == (3, 0, 3, 3)
    assert out["unresolved_departments"] == []
    assert [r["row"] for r in out["rejected_rows"]] == [7, 8, 9]
    p = run(db_url, "import-oit", str(path), "--year", "2569", "--json")
    again = json.loads(p.stdout)  # the same file again: nothing new, no status row repeated
    assert (again["created"], again["updated"], again["unchanged"], again["statuses"]) == (0, 0, 3, 0), again

    p = run(db_url, "oit-status", "--year", "2569", "--json")
    data = json.loads(p.stdout)
    by = {i["number"]: i for i in data["items"]}
    assert by["O1"]["status"] == "published" and by["O1"]["department"] == "สำนักปลัด" and by["O1"]["ready"]
    assert by["O2"]["status"] == "in_progress" and not by["O2"]["ready"] and by["O2"]["last_check"] is None
    assert data["ready"] == 2 and data["estimated_score"] == pytest.approx(66.67)

    monkeypatch.setenv("ITA_LINKCHECK_ALLOW_PRIVATE", "1")
    with link_server() as base:
        with db.session_scope(db.make_engine(db_url)) as s:
            items = {i.number: i.id for i in s.exec(select(OitItem)).all()}
            oit.record_status(s, item_id=items["O1"], status="published", url=f"{base}/ok", actor=Actor.system())
            oit.record_status(s, item_id=items["O3"], status="published", url=f"{base}/missing", actor=Actor.system())
        p = run(db_url, "check-links", "--year", "2569", "--json", "--timeout", "5")
    assert p.returncode == 0, p.stderr
    checked = json.loads(p.stdout)
    assert checked["checked"] == 2 and checked["problems"] == 1
    data = json.loads(run(db_url, "oit-status", "--year", "2569", "--json").stdout)
    by = {i["number"]: i for i in data["items"]}
    assert by["O1"]["result"] == "ok" and by["O1"]["last_check"]["status_code"] == 200
    assert by["O3"]["result"] == "broken" and not by["O3"]["ready"]

    p = run(db_url, "summary", "--year", "2569", "--json")
    s = json.loads(p.stdout)
    assert s["oit"]["items"] == 3 and s["oit"]["ready"] == 1 and s["oit"]["source"] == "items"
    assert s["oit_estimate"] == s["oit"]["estimated_score"] == pytest.approx(33.33)
    assert "estimated_level" in s and s["estimated_level"] is None  # no survey yet: no total, no level


@pytest.mark.parametrize("args, code, contains", [
    (("import-oit", "/nonexistent.xlsx"), 1, "not found"),
    (("oit-status", "--year", "1999"), 2, "Buddhist-era"),
    (("check-links", "--org", "ไม่มีหน่วยงานนี้"), 1, "ไม่พบหน่วยงาน"),
])
def test_oit_commands_bad_input_is_one_line(db_url, args, code, contains):
    assert_one_line_error(run(db_url, *args), code=code, contains=contains)


def test_import_oit_refuses_a_file_without_items_and_changes_nothing(db_url, tmp_path):
    path = tmp_path / "assets.csv"
    path.write_bytes(csv_bytes([["ข้อ", "รายการ"], ["1.1", "โต๊ะทำงาน"], ["ก", "เก้าอี้"]]))
    assert_one_line_error(run(db_url, "import-oit", str(path), "--year", "2569"), contains="no OIT item")
    with db.session_scope(db.make_engine(db_url)) as s:
        assert s.exec(select(OitItem)).all() == []


def test_a_typed_in_itas_figure_wins_over_the_items(engine):
    from ita_dashboard.services.framework_overrides import set_override

    org = make_org(engine)
    with db.session_scope(engine) as s:
        oit.start_from_framework(s, organization_id=org, fiscal_year=2569, actor=Actor.system())
        for item in s.exec(select(OitItem)).all():
            oit.record_status(s, item_id=item.id, status="published", url=f"https://t.go.th/{item.number}",
                              as_of=dt.date(2026, 1, 5), actor=Actor.system())
        data = summary.build_summary(s, organization_id=org, fiscal_year=2569, as_of=dt.date(2026, 6, 30))
        assert data.oit.source == "items" and data.oit.estimated_score == 100.0
        set_override(s, organization_id=org, fiscal_year=2569, key="agency.oit_estimate", value=88.5, actor=Actor.system())
        data = summary.build_summary(s, organization_id=org, fiscal_year=2569, as_of=dt.date(2026, 6, 30))
    assert data.oit.source == "itas" and data.oit_estimate == 88.5 and data.oit.items_score == 100.0


def test_rollup_oit_and_level_agree_with_each_agency_summary(engine):

    a = make_org(engine, name="เทศบาลตำบลเอ")
    b = make_org(engine, name="เทศบาลตำบลบี")
    make_org(engine, name="เทศบาลตำบลซี")  # no items at all
    with db.session_scope(engine) as s:
        for org, ready in ((a, 4), (b, 12)):
            oit.start_from_framework(s, organization_id=org, fiscal_year=2569, actor=Actor.system())
            items = s.exec(select(OitItem).where(OitItem.organization_id == org).order_by(OitItem.id)).all()
            for item in items[:ready]:
                oit.record_status(s, item_id=item.id, status="published", url=f"https://x.go.th/{item.number}",
                                  as_of=dt.date(2026, 2, 1), actor=Actor.system())
    as_of = dt.date(2026, 3, 31)
    with db.session_scope(engine) as s:
        rows = {r.name: r for r in rollup.rollup(s, actor=Actor.system(), fiscal_year=2569, as_of=as_of)}
        for name, org in (("เทศบาลตำบลเอ", a), ("เทศบาลตำบลบี", b)):
            want = summary.build_summary(s, organization_id=org, fiscal_year=2569, as_of=as_of)
            got = rows[name]
            assert got.oit_score == want.oit.estimated_score and got.oit_source == "items"
            assert (got.oit_items, got.oit_ready) == (want.oit.items, want.oit.ready)
            assert got.estimated_level == want.estimated_level
        assert rows["เทศบาลตำบลซี"].oit_score is None and rows["เทศบาลตำบลซี"].oit_items == 0
        before = rollup.rollup(s, actor=Actor.system(), fiscal_year=2569, as_of=dt.date(2026, 1, 31))
    assert {r.name: r.oit_score for r in before}["เทศบาลตำบลบี"] == 0.0  # nothing published before 1 Feb


def test_new_year_from_last_keeps_owners_and_clears_progress(engine):
    org = make_org(engine)
    m = make_measure(engine, org_id=org, year=2568, departments=["กองคลัง"], start=dt.date(2024, 10, 1),
                     end=dt.date(2025, 3, 31))
    with db.session_scope(engine) as s:
        s.add(ProgressUpdate(measure_id=m, as_of=dt.date(2025, 3, 1), status=Status.done, percent=100))
        oit.start_from_framework(s, organization_id=org, fiscal_year=2568, actor=Actor.system())
        o1 = s.exec(select(OitItem).where(OitItem.number == "O1")).one()
        oit.update_item(s, item_id=o1.id, department_id=dep_id(engine, org, "กองคลัง"), due_date=dt.date(2025, 2, 28),
                        actor=Actor.system())
        oit.record_status(s, item_id=o1.id, status="published", url="https://t.go.th/o1", actor=Actor.system())
        preview = oit.copy_preview(s, organization_id=org, to_year=2569)
        assert preview.from_year == 2568 and len(preview.measures) == 1 and len(preview.oit_items) == 21
        assert preview.measures[0]["end"] == dt.date(2026, 3, 31)
        copied = oit.copy_from_previous_year(s, organization_id=org, to_year=2569, actor=Actor.system())
    assert copied == {"measures": 1, "oit_items": 21}
    with db.session_scope(engine) as s:
        new = s.exec(select(Measure).where(Measure.fiscal_year == 2569)).one()
        assert new.start_date == dt.date(2025, 10, 1) and new.title == "มาตรการทดสอบ"
        assert s.exec(select(MeasureDepartment.department_id).where(MeasureDepartment.measure_id == new.id)).all() == [
            dep_id(engine, org, "กองคลัง")]
        assert s.exec(select(ProgressUpdate).where(ProgressUpdate.measure_id == new.id)).all() == []
        states = {x.number: x for x in oit.item_states(s, organization_id=org, fiscal_year=2569)}
        assert states["O1"].department_name == "กองคลัง" and states["O1"].due_date == dt.date(2026, 2, 28)
        assert states["O1"].status.value == "not_started" and states["O1"].url is None
        with pytest.raises(oit.OitError, match="อยู่แล้ว"):
            oit.copy_from_previous_year(s, organization_id=org, to_year=2569, actor=Actor.system())
