"""The two real reports (data/demo/*.txt): layout parsing and the measures read from them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ita_dashboard.importers import report_text as rt
from ita_dashboard.importers.measures import parse_measures_file

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"
SEED_000 = DEMO / "000_17dbb9646109a181.txt"
SEED_004 = DEMO / "004_4d93f31d8314e9de.txt"


def flat(text: str) -> str:
    """Compare text the way it is written, ignoring how lines were broken."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def plan_000():
    return parse_measures_file(SEED_000.read_bytes(), filename=SEED_000.name)


@pytest.fixture(scope="module")
def plan_004():
    return parse_measures_file(SEED_004.read_bytes(), filename=SEED_004.name)


# ---------------------------------------------------------------- cell cleaning


def test_clean_cell_paragraphs_become_lines():
    raw = "<p>๑. จัดทำคู่มือ</p> <p>๒. กำชับ   เจ้าหน้าที่</p>"
    assert rt.clean_cell(raw) == "๑. จัดทำคู่มือ\n๒. กำชับ เจ้าหน้าที่"


def test_clean_cell_numbered_items_each_on_own_line_and_digits_kept():
    raw = "๑. หัวหน้าส่วนราชการ ชี้แจง ๒. พัฒนาวิธีการ ปี ๒๕๖๖ ๓.๑ ระบบ"
    assert rt.clean_cell(raw).split("\n") == ["๑. หัวหน้าส่วนราชการ ชี้แจง", "๒. พัฒนาวิธีการ ปี ๒๕๖๖", "๓.๑ ระบบ"]


def test_clean_cell_ul_items_and_periods_untouched():
    raw = '<ul style="list-style-type: none"> - จัดส่งบุคลากร - มีแผนพัฒนา E- Service '
    assert rt.clean_cell(raw) == "- จัดส่งบุคลากร\n- มีแผนพัฒนา E- Service"
    assert rt.clean_cell("<p>ตุลาคม ๒๕๖๕ - เมษายน ๒๕๖๖</p>") == "ตุลาคม ๒๕๖๕ - เมษายน ๒๕๖๖"


def test_split_number():
    assert rt.split_number("๓. สร้างการรับรู้") == (3, "สร้างการรับรู้")
    assert rt.split_number("12) Measure") == (12, "Measure")
    assert rt.split_number("มาตรการ ๓.") == (None, "มาตรการ ๓.")
    assert rt.split_number("๓.๑ ระบบ") == (None, "๓.๑ ระบบ")


def test_title_lines():
    info = rt.parse_title_lines(["**รายงานผลการดำเนินการ", "เพื่อส่งเสริมคุณธรรม", "ประจำปีงบประมาณ พ.ศ. ๒๕๖๘",
                                 "(รอบ ๖ เดือน)**", "", "อบต.บ้านใหม่ อำเภอเมือง จังหวัดน่าน"])
    assert info.title == "รายงานผลการดำเนินการเพื่อส่งเสริมคุณธรรม"
    assert (info.fiscal_year, info.round) == (2568, 6)
    assert (info.organization_name, info.district, info.province) == ("อบต.บ้านใหม่", "เมือง", "น่าน")


# ---------------------------------------------------------------- seed 000 (เทศบาลตำบลนาอ้อ)


def test_000_layout():
    report = rt.parse_report_text(SEED_000.read_text(encoding="utf-8"))
    assert len(report.tables) == 1
    assert report.tables[0].header[0] == "มาตรการ/แนวทาง"
    assert len(report.tables[0].rows) == 7
    assert report.warnings == []


def test_000_title(plan_000):
    assert plan_000.title == "รายงานผลการดำเนินการเพื่อส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน"
    assert plan_000.organization_name == "เทศบาลตำบลนาอ้อ"
    assert plan_000.district == "เมืองเลย"
    assert plan_000.province == "เลย"
    assert plan_000.fiscal_year == 2566
    assert plan_000.round == 12


def test_000_measures_owners_as_written(plan_000):
    owners = [flat(m.owner_text) for m in plan_000.measures]
    assert owners == [
        "ทุกส่วนราชการ",
        "นิติการ",
        "หัวหน้าส่วนทุกกอง",
        "คณะทำงาน สนับสนุน การ ประเมิน ITA",
        "เจ้าหน้าที่ทุกคน ของ เทศบาลตำบล นาอ้อ",
        "๑.เจ้าหน้าที่ทุกคน (ผู้เป็นเจ้าของงาน) ๒.เจ้าหน้าที่ฝ่าย ประชาสัมพันธ์ ๓. ฝ่ายนิติการ",
        "เจ้าหน้าที่ฝ่ายประชาสัมพันธ์/ ฝ่ายนิติการ",
    ]
    # the numbered owner cell keeps one unit per line
    assert plan_000.measures[5].owner_text.split("\n")[1] == "๒.เจ้าหน้าที่ฝ่าย ประชาสัมพันธ์"


def test_000_periods_and_numbers(plan_000):
    assert [m.number for m in plan_000.measures] == [1, 2, 3, 4, 5, 6, 7]
    assert [m.period_text for m in plan_000.measures] == [
        "ตุลาคม ๒๕๖๕ - เมษายน ๒๕๖๖",
        "ตุลาคม ๒๕๖๕ - ธันวาคม ๒๕๖๕",
        "เป็นประจำทุก เดือน, รอบไตรมาส,รอบ ๖ เดือน ใน ปีงบประมาณ พ.ศ.๒๕๖๖",
        "๑ มกราคม - ๓๐ มิถุนายน ๒๕๖๖",
        "๑ มกราคม - ๓๐ มิถุนายน ๒๕๖๖",
        "๑ ตุลาคม ๒๕๖๕ – ๓๐ กันยายน ๒๕๖๖",
        "๑ ตุลาคม ๒๕๖๕ – ๓๐ กันยายน ๒๕๖๖",
    ]
    m1 = plan_000.measures[0]
    assert m1.title.startswith("การปฏิบัติหรือ ให้บริการแก่ บุคคลภายนอก")  # "๑." stripped
    assert m1.steps.split("\n")[0].startswith("๑. จัดทำคู่มือ")
    assert len(m1.steps.split("\n")) == 3
    assert m1.source_row == 14
    assert plan_000.measures[6].title.startswith("ช่องทางการติดต่อสื่อสาร")
    assert all(m.section_number is None for m in plan_000.measures)


def test_000_continuation_lines_merged(plan_000):
    m2, m4, m6 = plan_000.measures[1], plan_000.measures[3], plan_000.measures[5]
    # measure 2: step ๓ and its result ๓ sat on a continuation line after an empty line
    assert m2.steps.split("\n")[-1].startswith("๓. จัดทำคู่มือหรือแนว ปฏิบัติการ")
    assert m2.output_text.split("\n")[-1].startswith("๓. จัดทำคู่มือหรือแนวปฏิบัติ")
    assert m2.owner_text == "นิติการ"  # empty continuation cells add nothing
    # measure 4: a wrapped sentence continues its step ๒
    assert flat(m4.steps).endswith("ถ่ายทอด ความรู้ความ เข้าใจให้แก่บุคลากร ภายในส่วนราชการของ ตนก่อน ตอบแบบวัดการรับรู้ IIT")
    # measure 6: step ๒ on its own continuation line
    assert m6.steps.split("\n")[1].startswith("๒. นำข้อมูลต่างๆที่จัดทำขึ้น")
    assert "ลงเว็บไซต์หลักของเทศบาลตำบลนาอ้อ" in m6.output_text


def test_000_activities(plan_000):
    acts = plan_000.activities
    assert [a.date for a in acts] == [dt.date(2023, 3, 7), dt.date(2023, 4, 2)]
    assert acts[0].title.startswith("การประชุมประจำเดือน เพื่อชี้แจง มาตรการส่งเสริมคุณธรรม")
    assert acts[1].title == "การตอบแบบวัดการรับรู้ (IIT) และ (EIT)"
    assert acts[0].text.startswith("เมื่อวันที่ 7 มีนาคม 2566")
    assert acts[1].text.startswith("วันที่ 2 เมษายน 2566 นางกองเพชร ศรียาขำ")  # ** markers stripped
    assert "**" not in acts[1].text


# ---------------------------------------------------------------- seed 004 (อบต.เมืองหลวง)


def test_004_title(plan_004):
    assert plan_004.organization_name == "องค์การบริหารส่วนตำบลเมืองหลวง"
    assert plan_004.district == "ห้วยทับทัน"
    assert plan_004.province == "ศรีสะเกษ"
    assert plan_004.fiscal_year == 2568
    assert plan_004.round is None
    assert plan_004.title == "รายงานผลการดำเนินการเพื่อส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน"
    assert plan_004.activities == []


def test_004_sections(plan_004):
    assert len(plan_004.measures) == 8
    assert [m.number for m in plan_004.measures] == list(range(1, 9))
    assert [m.section_number for m in plan_004.measures] == [1, 2, 3, 4, 5, 6, 7, 7]
    assert plan_004.measures[0].section_title == "กระบวนการปฏิบัติงานที่โปร่งใสและมีประสิทธิภาพ"
    assert plan_004.measures[7].section_title == "กลไกและมาตรการในการแก้ไขและป้องกันการทุจริตภายในหน่วยงาน"
    assert plan_004.measures[7].title.startswith("ประกาศหลักเกณฑ์ มาตรฐาน")


def test_004_swapped_period_and_owner_fixed(plan_004):
    period = "ตุลาคม ๒๕๖๗ - กันยายน ๒๕๖๘"
    assert all(m.period_text == period for m in plan_004.measures)
    assert [m.owner_text for m in plan_004.measures] == [
        "ทุกสำนัก/ กอง", "ทุกสำนัก/ กอง", "สำนักปลัด อบต.", "สำนักปลัด อบต.", "กองคลัง",
        "ทุกสำนัก/ กอง", "ทุกสำนัก/กอง", "สำนักปลัด อบต.",
    ]
    swapped_rows = sorted(int(w.split(":")[0].split()[-1]) for w in plan_004.warnings if "สลับ" in w)
    assert swapped_rows == [23, 28, 38]  # file lines 23, 28, 38 (1-based)


def test_004_list_cells(plan_004):
    m2 = plan_004.measures[1]
    assert m2.steps.split("\n")[2] == "๑. เว็บไซต์"
    m6 = plan_004.measures[5]
    assert m6.output_text.split("\n")[0].startswith("- จัดส่งบุคลากรเข้าร่วมอบรม")
    assert len(m6.output_text.split("\n")) == 2


def test_fiscal_year_argument_wins(plan_004):
    plan = parse_measures_file(SEED_004.read_bytes(), fiscal_year=2567)
    assert plan.fiscal_year == 2567



def test_title_and_year_on_one_line():
    info = rt.parse_title_lines(["แผนปฏิบัติการส่งเสริมคุณธรรม ประจำปีงบประมาณ พ.ศ. 2568", "อบต.ก"])
    assert (info.title, info.fiscal_year, info.organization_name) == ("แผนปฏิบัติการส่งเสริมคุณธรรม", 2568, "อบต.ก")
