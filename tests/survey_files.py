"""Survey export files generated for the tests, shaped like the real exports.

Every builder returns the file's bytes. Rows are ``Response`` tuples so a test can say exactly
what it wrote and check what came back.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

DEPARTMENTS = (
    "สำนักปลัดเทศบาล",
    "กองคลัง",
    "กองช่าง",
    "กองการศึกษา",
    "กองสาธารณสุขและสิ่งแวดล้อม",
    "กองสวัสดิการสังคม",
)
DEPARTMENT_QUESTION = "ท่านสังกัดส่วนราชการใด"
QUESTIONS = (
    "1. บุคลากรในหน่วยงานของท่าน ปฏิบัติงาน/ให้บริการแก่ผู้มาติดต่อ ตามประเด็นต่อไปนี้ มากน้อยเพียงใด [ตามขั้นตอนที่กำหนด]",
    "1. บุคลากรในหน่วยงานของท่าน ปฏิบัติงาน/ให้บริการแก่ผู้มาติดต่อ ตามประเด็นต่อไปนี้ มากน้อยเพียงใด [อย่างเท่าเทียมกัน]",
    "2. บุคลากรในหน่วยงานของท่าน มีการเรียกรับเงิน ทรัพย์สิน หรือประโยชน์อื่นใด เพื่อแลกกับการปฏิบัติหน้าที่ หรือไม่",
    "3. บุคลากรในหน่วยงานของท่าน รับผิดชอบต่อหน้าที่ มากน้อยเพียงใด",
    "5. หน่วยงานของท่าน ใช้จ่ายงบประมาณ ตามประเด็นต่อไปนี้ มากน้อยเพียงใด [คุ้มค่า]",
)
SCALE = ("มากที่สุด", "มาก", "น้อย", "น้อยที่สุดหรือไม่มีเลย")
YES_NO = ("มี", "ไม่มี")

MS_HEADERS_EN = ("ID", "Start time", "Completion time", "Email", "Name", "Last modified time")
MS_HEADERS_TH = ("รหัส", "เวลาเริ่มต้น", "เวลาที่เสร็จสมบูรณ์", "อีเมล", "ชื่อ", "เวลาที่ปรับเปลี่ยนล่าสุด")


@dataclass(frozen=True)
class Response:
    at: dt.datetime  # local (Bangkok) time, naive
    department: str
    answers: tuple[str, ...]


def make_responses(n: int, *, start: dt.datetime = dt.datetime(2025, 1, 6, 8, 0, 0), seed: int = 1,
                   departments: Sequence[str] = DEPARTMENTS, step_minutes: int = 97) -> list[Response]:
    """``n`` distinct responses, one every ``step_minutes`` from ``start`` (inside FY 2568)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        at = start + dt.timedelta(minutes=step_minutes * i, seconds=rng.randrange(60))
        answers = tuple(rng.choice(YES_NO if q.startswith("2.") else SCALE) for q in QUESTIONS)
        out.append(Response(at, departments[i % len(departments)], answers))
    return out


# --- timestamp texts as the tools write them ------------------------------------------------


def google_en(at: dt.datetime) -> str:
    """English locale: month-first, CE, no leading zeros ("1/14/2025 18:29:56")."""
    return f"{at.month}/{at.day}/{at.year} {at.hour}:{at:%M:%S}"


def google_th(at: dt.datetime) -> str:
    """Thai locale: day-first, Buddhist era, comma before the time ("14/1/2568, 18:29:56")."""
    return f"{at.day}/{at.month}/{at.year + 543}, {at.hour}:{at:%M:%S}"


# --- writers ----------------------------------------------------------------------------------


def csv_bytes(rows: Iterable[Sequence[Any]], *, encoding: str = "utf-8-sig") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for r in rows:
        w.writerow(["" if c is None else c for c in r])
    return buf.getvalue().encode(encoding)


def xlsx_bytes(sheets: dict[str, Iterable[Sequence[Any]]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- survey tables ----------------------------------------------------------------------------


def google_rows(responses: Sequence[Response], *, locale: str = "en", as_datetime: bool = False,
                timestamp_header: Optional[str] = None) -> list[list[Any]]:
    """A Google Forms response table: header, then one row per response."""
    header = timestamp_header or ("Timestamp" if locale == "en" else "ประทับเวลา")
    fmt = google_en if locale == "en" else google_th
    rows: list[list[Any]] = [[header, DEPARTMENT_QUESTION, *QUESTIONS]]
    for r in responses:
        rows.append([r.at if as_datetime else fmt(r.at), r.department, *r.answers])
    return rows


def google_csv(responses: Sequence[Response], *, locale: str = "en", encoding: str = "utf-8-sig",
               title_rows: Sequence[Sequence[Any]] = ()) -> bytes:
    return csv_bytes([*title_rows, *google_rows(responses, locale=locale)], encoding=encoding)


def google_xlsx(responses: Sequence[Response], *, locale: str = "th", as_datetime: bool = False,
                sheet: str = "การตอบกลับแบบฟอร์ม 1") -> bytes:
    return xlsx_bytes({sheet: google_rows(responses, locale=locale, as_datetime=as_datetime)})


def ms_forms_rows(responses: Sequence[Response], *, thai_headers: bool = False) -> list[list[Any]]:
    meta = MS_HEADERS_TH if thai_headers else MS_HEADERS_EN
    rows: list[list[Any]] = [[*meta, "ส่วนราชการที่ท่านมาติดต่อ", *QUESTIONS]]
    for i, r in enumerate(responses, start=1):
        started = r.at - dt.timedelta(minutes=4, seconds=2)
        rows.append([i, started, r.at, "anonymous", None, None, r.department, *r.answers])
    return rows


def ms_forms_xlsx(responses: Sequence[Response], *, thai_headers: bool = False) -> bytes:
    return xlsx_bytes({"Sheet1": ms_forms_rows(responses, thai_headers=thai_headers)})


def generic_xlsx(responses: Sequence[Response]) -> bytes:
    """A hand-kept register: running number, date, name and department, no answers."""
    rows: list[list[Any]] = [["ทะเบียนผู้ตอบแบบวัด IIT"], [], ["ลำดับ", "วันที่", "ชื่อ-สกุล", "สังกัด"]]
    for i, r in enumerate(responses, start=1):
        rows.append([i, r.at, f"ผู้ตอบ {i}", r.department])
    return xlsx_bytes({"Sheet1": rows})
