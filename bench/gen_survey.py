"""Generate a large Google-Forms-like IIT response workbook for the import benchmark.

The shape follows a real Google Forms export opened in Sheets and downloaded as xlsx:
``Timestamp`` (datetime cells), the department question, then one column per question and
grid row (``Question [Row]``) answered with the form's Thai labels. Written with openpyxl's
write-only mode so 100,000 rows need little memory; the result is cached by the caller.

    python bench/gen_survey.py --rows 100000 --cols 40 -o bench/out/survey_100k.xlsx
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from survey_files import DEPARTMENTS, SCALE, YES_NO  # noqa: E402  (the tests' form, one definition)

# (question stem, grid rows or None, scale) in the spirit of the IIT form.
QUESTIONS = (
    ("บุคลากรในหน่วยงานของท่าน ปฏิบัติงาน/ให้บริการแก่ผู้มาติดต่อ ตามประเด็นต่อไปนี้ มากน้อยเพียงใด",
     ("ตามขั้นตอนที่กำหนด", "ตามระยะเวลาที่กำหนด", "อย่างเท่าเทียมกัน", "มุ่งผลสัมฤทธิ์ของงาน"), SCALE),
    ("บุคลากรในหน่วยงานของท่าน มีการเรียกรับเงิน ทรัพย์สิน หรือประโยชน์อื่นใด เพื่อแลกกับการปฏิบัติหน้าที่ หรือไม่",
     None, YES_NO),
    ("บุคลากรในหน่วยงานของท่าน รับผิดชอบต่อหน้าที่ มากน้อยเพียงใด", None, SCALE),
    ("ท่านรู้เกี่ยวกับแผนการใช้จ่ายงบประมาณประจำปีของหน่วยงานของท่าน มากน้อยเพียงใด", None, SCALE),
    ("หน่วยงานของท่าน ใช้จ่ายงบประมาณ ตามประเด็นต่อไปนี้ มากน้อยเพียงใด",
     ("คุ้มค่า", "ไม่บิดเบือนวัตถุประสงค์", "ไม่เอื้อประโยชน์แก่พวกพ้อง", "ตรวจสอบได้"), SCALE),
    ("ผู้บังคับบัญชาของท่าน มอบหมายงานอย่างเป็นธรรม มากน้อยเพียงใด", None, SCALE),
    ("ผู้บังคับบัญชาของท่าน ประเมินผลการปฏิบัติงานตามประเด็นต่อไปนี้ มากน้อยเพียงใด",
     ("อย่างเป็นธรรม", "ตรงตามผลงาน", "เปิดเผย", "ไม่เลือกปฏิบัติ"), SCALE),
    ("บุคลากรในหน่วยงานของท่าน มีการนำทรัพย์สินของราชการไปใช้ประโยชน์ส่วนตัว หรือไม่", None, YES_NO),
    ("หน่วยงานของท่าน มีการกำกับดูแลการใช้ทรัพย์สินของราชการ มากน้อยเพียงใด",
     ("มีแนวปฏิบัติชัดเจน", "มีการตรวจสอบ", "ขออนุญาตได้สะดวก"), SCALE),
    ("หน่วยงานของท่าน มีการดำเนินการป้องกันการทุจริต ตามประเด็นต่อไปนี้ มากน้อยเพียงใด",
     ("ผู้บริหารให้ความสำคัญ", "ปรับปรุงการทำงาน", "แก้ไขปัญหาการทุจริต", "เปิดโอกาสให้แจ้งเบาะแส",
      "คุ้มครองผู้แจ้งเบาะแส", "ตรวจสอบการทุจริต"), SCALE),
)


def question_columns(count: int) -> list[tuple[str, tuple[str, ...]]]:
    """``count`` (header, answer labels) pairs, cycling through the question bank with numbers."""
    flat: list[tuple[str, tuple[str, ...]]] = []
    n = 0
    while len(flat) < count:
        for stem, grid, scale in QUESTIONS:
            n += 1
            if grid:
                flat.extend((f"{n}. {stem} [{row}]", scale) for row in grid)
            else:
                flat.append((f"{n}. {stem}", scale))
    return flat[:count]


def generate(path: Path, *, rows: int = 100_000, cols: int = 40, seed: int = 2568) -> Path:
    """Write the workbook: ``cols`` columns in all (Timestamp + department + questions)."""
    from openpyxl import Workbook

    rng = random.Random(seed)
    questions = question_columns(cols - 2)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Form Responses 1")
    ws.append(["Timestamp", "ท่านสังกัดส่วนราชการใด", *(q for q, _ in questions)])
    start = dt.datetime(2025, 1, 6, 8, 0, 0)
    span = int(dt.timedelta(days=120).total_seconds())
    offsets = sorted(rng.randrange(span) for _ in range(rows))
    for off in offsets:
        ts = start + dt.timedelta(seconds=off)
        ws.append([ts, rng.choice(DEPARTMENTS), *(rng.choice(labels) for _, labels in questions)])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    tmp.replace(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--cols", type=int, default=40)
    ap.add_argument("-o", "--output", type=Path, default=Path(__file__).parent / "out" / "survey_100k.xlsx")
    args = ap.parse_args()
    print(generate(args.output, rows=args.rows, cols=args.cols))


if __name__ == "__main__":
    main()
