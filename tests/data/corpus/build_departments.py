"""Builds the corpus files whose department names are written the way staff write them (issue 11
point 2): abbreviations of Thai local government units (``สป.``, ``กค.``, ``กศ.``) and names cut
short with ``ฯ`` (``กองการศึกษาฯ``, ``สำนักปลัดฯ``).

Run from the repository root: ``python tests/data/corpus/build_departments.py``. The output is
deterministic (fixed seeds), so re-running it changes nothing.

- ``surveys/google_forms_department_abbreviations.csv``: a Google Forms response table downloaded
  from the linked Google Sheet (File -> Download -> CSV): UTF-8 with BOM, CRLF, English-locale
  month-first timestamps, the department question answered in a short-answer box, so each
  respondent spells the unit their own way.
- ``plans/plan_owner_abbreviations.csv``: a measures plan kept in Excel and saved as "CSV UTF-8"
  (BOM, CRLF): a title row naming the fiscal year, then the usual six columns, the owner column
  filled in with abbreviations, ``ฯ`` forms, two units in one cell and "ทุกกอง".
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from tests import survey_files as sf  # noqa: E402

# The organisation made for these files (their .expected.json "departments"): a เทศบาลตำบล with
# two departments that both begin "กองช่าง", so "กองช่างฯ" is ambiguous.
DEPARTMENTS = ("สำนักปลัดเทศบาล", "กองคลัง", "กองช่าง", "กองช่างสุขาภิบาล", "กองการศึกษา ศาสนาและวัฒนธรรม",
               "กองสาธารณสุขและสิ่งแวดล้อม", "กองสวัสดิการสังคม")

# As written in the export -> how many respondents wrote it that way.
SURVEY_ANSWERS = (
    ("สป.", 4), ("สำนักปลัดฯ", 3), ("กองการศึกษาฯ", 5), ("กองสวัสดิการฯ", 3), ("กค.", 4), ("กองช่าง", 2),
    ("กองช่างฯ", 2),  # ambiguous: กองช่าง or กองช่างสุขาภิบาล
    ("กส.", 1),  # not a standard abbreviation (sources disagree): unmatched
)


def build_survey() -> bytes:
    written = [name for name, n in SURVEY_ANSWERS for _ in range(n)]
    responses = sf.make_responses(len(written), departments=written, seed=11, step_minutes=131)
    return sf.google_csv(responses, locale="en")


PLAN_ROWS = (
    ("มาตรการส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน ประจำปีงบประมาณ พ.ศ. 2568",),
    ("ลำดับ", "มาตรการ", "ขั้นตอน/วิธีการปฏิบัติ", "ระยะเวลาดำเนินการ", "ผู้รับผิดชอบ", "ผลการดำเนินการ"),
    ("1", "เผยแพร่ข้อมูลข่าวสารของหน่วยงานทางเว็บไซต์", "ปรับปรุงข้อมูลทุกเดือน", "ตุลาคม 2567 - กันยายน 2568", "สป.", ""),
    ("2", "เปิดเผยแผนการจัดซื้อจัดจ้างและผลการจัดซื้อจัดจ้าง", "ประกาศแผนและสรุปผลรายเดือน", "ทุกเดือน", "กค./กช.", ""),
    ("3", "ส่งเสริมคุณธรรมจริยธรรมแก่เด็กและเยาวชน", "จัดกิจกรรมค่ายคุณธรรม", "มกราคม - มีนาคม 2568", "กองการศึกษาฯ", ""),
    ("4", "ประกาศมาตรการป้องกันการรับสินบนในการให้บริการ", "จัดทำประกาศและแจ้งทุกกอง", "พฤศจิกายน 2567",
     "สำนักปลัดฯ, กองสวัสดิการฯ", ""),
    ("5", "ตรวจสอบการใช้ทรัพย์สินของราชการ", "สุ่มตรวจการยืมคืนพัสดุ", "ไตรมาส 2", "กศ.", ""),
    ("6", "ควบคุมคุณภาพงานก่อสร้างโดยการมีส่วนร่วมของประชาชน", "แต่งตั้งกรรมการตรวจรับจากประชาชน",
     "ตุลาคม 2567 - กันยายน 2568", "กองช่างฯ", ""),
    ("7", "อบรมประมวลจริยธรรมพนักงานส่วนท้องถิ่น", "จัดอบรมปีละ 1 ครั้ง", "มิถุนายน 2568", "ทุกกอง", ""),
)


def build_plan() -> bytes:
    return sf.csv_bytes(PLAN_ROWS, encoding="utf-8-sig")


def main() -> None:
    (HERE / "surveys" / "google_forms_department_abbreviations.csv").write_bytes(build_survey())
    (HERE / "plans").mkdir(exist_ok=True)
    (HERE / "plans" / "plan_owner_abbreviations.csv").write_bytes(build_plan())


if __name__ == "__main__":
    main()
