"""Writes the survey shapes of the importers' corpus (see ../README.md), each with its expected result.

Run from the repository root: ``python tests/data/corpus/surveys/build_surveys.py [NAME_PART]``.
The content is fixed (dates and answers come from seeded generators), so running it again gives
the same tables and expected results; the .xls file needs LibreOffice (``soffice``) and is
skipped with a note when it is not installed.

Each builder says what the real program writes and how we know. Evidence was taken from public
files and code that handle real exports (found with the project's search tools):

- Google Forms' own "Download responses (.csv)": every text field quoted, numbers not; the
  timestamp year first with the form's zone, e.g. ``"2025/10/24 6:46:43 PM GMT+7"`` (a form in
  Indonesia, whose headers were localised: "Cap waktu", "Total skor"), ``"2026/09/04 7:51:43 PM
  GMT+5:30"`` and ``"2025/07/07 4:02:26 pm GMT+5:30"`` (India), ``"2022/06/22 11:07:29 AM AST"``
  (an abbreviation), ``"12/15/2025 10:18:29 GMT+7"`` (a Russian-language form: 24-hour, month
  first). The issue reporting the refusal saw ``2026/01/05 7:18:31 AM GMT+7``, ``GMT+07:00`` and
  the 24-hour form.
- Google Sheets, File > Download > CSV of the linked responses sheet: the cell as the sheet's
  locale shows it, CRLF line ends, no BOM, quotes only where needed. en-US: ``1/14/2025
  18:29:56`` (the shared sample); Thai locale: ``"4/8/2021, 18:34:26"`` under ``ประทับเวลา``
  (a university course survey's CSV, day first with a comma, CE year) and ``"22/8/2026,
  16:53:50"`` (a Thai sheet's CSV); the issue saw the BE form ``5/1/2569, 7:18:31``.
- Google Sheets' xlsx download: real date cells (number format ``m/d/yyyy h:mm:ss``).
- Microsoft Forms: the xlsx has date cells under ID / Start time / Completion time / Email /
  Name / Last modified time; saved again as CSV by Excel (en-US) the cells become
  ``7/27/26 19:06:23``, ``8/20/25 12:51:45``, ``9/9/26 18:01`` (public importers' test data).
  The Thai headers (รหัส, เวลาเริ่มต้น, เวลาที่เสร็จสมบูรณ์, ...) are those the project already
  reads (tests/survey_files.py); no public Thai export was found to confirm them.
- Thai Excel (Windows, Thai locale) "CSV (Comma delimited)": code page 874, and each cell as it
  is displayed: a date-time as ``5/1/2569 7:18`` (BE, no seconds); a date column too narrow for
  its value is written as ``########``. "Unicode Text (*.txt)": UTF-16 LE with BOM, tab separated.
- CLDR's Thai 12-hour markers are ก่อนเที่ยง / หลังเที่ยง (Java's and Go's locale data).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

HERE = Path(__file__).resolve().parent

DEPARTMENTS = ("สำนักปลัดเทศบาล", "กองคลัง", "กองช่าง", "กองการศึกษา", "กองสาธารณสุขและสิ่งแวดล้อม", "กองสวัสดิการสังคม")
IIT_DEPT_Q = "ท่านสังกัดส่วนราชการใด"
EIT_DEPT_Q = "ส่วนราชการที่ท่านมาติดต่อ"
IIT_QUESTIONS = (
    "1. บุคลากรในหน่วยงานของท่าน ปฏิบัติงาน/ให้บริการแก่ผู้มาติดต่อ ตามประเด็นต่อไปนี้ มากน้อยเพียงใด [ตามขั้นตอนที่กำหนด]",
    "1. บุคลากรในหน่วยงานของท่าน ปฏิบัติงาน/ให้บริการแก่ผู้มาติดต่อ ตามประเด็นต่อไปนี้ มากน้อยเพียงใด [อย่างเท่าเทียมกัน]",
    "2. บุคลากรในหน่วยงานของท่าน มีการเรียกรับเงิน ทรัพย์สิน หรือประโยชน์อื่นใด เพื่อแลกกับการปฏิบัติหน้าที่ หรือไม่",
    "3. บุคลากรในหน่วยงานของท่าน รับผิดชอบต่อหน้าที่ มากน้อยเพียงใด",
    "5. หน่วยงานของท่าน ใช้จ่ายงบประมาณ ตามประเด็นต่อไปนี้ มากน้อยเพียงใด [คุ้มค่า]",
)
EIT_QUESTIONS = (
    "1. เจ้าหน้าที่ของหน่วยงานที่ท่านติดต่อ ปฏิบัติงาน/ให้บริการแก่ท่าน ตามประเด็นต่อไปนี้ มากน้อยเพียงใด [ตามขั้นตอนที่กำหนด]",
    "2. เจ้าหน้าที่ เรียกรับเงิน ทรัพย์สิน หรือประโยชน์อื่นใด เพื่อแลกกับการให้บริการ หรือไม่",
    "3. การเผยแพร่ข้อมูลของหน่วยงานที่ท่านติดต่อ มีลักษณะต่อไปนี้ มากน้อยเพียงใด [เข้าถึงง่าย]",
)
COMMENT_Q = "ข้อเสนอแนะเพิ่มเติม"
SCALE = ("มากที่สุด", "มาก", "น้อย", "น้อยที่สุดหรือไม่มีเลย")
COMMENTS = ("", "", "", "ควรปรับปรุงการให้บริการช่วงพักเที่ยง", "", "เจ้าหน้าที่สุภาพ ให้คำแนะนำดี", "")

# Twelve Bangkok times inside FY 2569 (Oct 2025 - Sep 2026). No day is above 12, so nothing in a
# day/month-order column decides the order: the locale's habit must. Read in the wrong order,
# "1/10/2026" (10 Jan) becomes 1 October 2026, outside FY 2569: such a file imports fewer rows.
TIMES = (
    dt.datetime(2026, 1, 5, 7, 18, 31), dt.datetime(2026, 1, 10, 9, 2, 5), dt.datetime(2026, 1, 10, 12, 5, 40),
    dt.datetime(2026, 1, 11, 0, 15, 9), dt.datetime(2026, 1, 12, 13, 30, 0), dt.datetime(2026, 2, 3, 19, 18, 31),
    dt.datetime(2026, 2, 10, 8, 45, 12), dt.datetime(2026, 2, 11, 16, 20, 55), dt.datetime(2026, 3, 2, 10, 10, 10),
    dt.datetime(2026, 3, 12, 21, 40, 2), dt.datetime(2026, 4, 1, 11, 59, 59), dt.datetime(2026, 6, 9, 14, 3, 27),
)
FY = 2569


def rows_of(n: int = 12, *, seed: int = 1, questions: Sequence[str] = IIT_QUESTIONS,
            times: Sequence[dt.datetime] = TIMES) -> list[tuple[dt.datetime, str, list[str], str]]:
    """(Bangkok time, department, answers, comment) for ``n`` responses, departments in turn."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        answers = [rng.choice(("มี", "ไม่มี")) if "หรือไม่" in q else rng.choice(SCALE) for q in questions]
        out.append((times[i % len(times)], DEPARTMENTS[(i * 5 + seed) % len(DEPARTMENTS)], answers, COMMENTS[i % len(COMMENTS)]))
    return out


def by_department(rows: Iterable[tuple[Any, str, Any, Any]], keep: Callable[[Any], bool] = lambda r: True) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in rows:
        if keep(r):
            counts[r[1]] = counts.get(r[1], 0) + 1
    return counts


# --- timestamp texts -----------------------------------------------------------------------------


def h12(t: dt.datetime, am: str = "AM", pm: str = "PM") -> str:
    """12-hour clock without a leading zero, as Google Forms writes it: "7:18:31 AM", "12:15:09 AM"."""
    return f"{t.hour % 12 or 12}:{t:%M:%S} {am if t.hour < 12 else pm}"


def forms_download(t: dt.datetime, *, zone: str = "GMT+7", clock: str = "12") -> str:
    """Google Forms' own download: "2026/01/05 7:18:31 AM GMT+7" or "2026/01/05 19:18:31 GMT+7"."""
    time = h12(t) if clock == "12" else f"{t.hour}:{t:%M:%S}"
    return f"{t:%Y/%m/%d} {time} {zone}".rstrip()


def sheets_en(t: dt.datetime) -> str:
    """Google Sheets en-US: "1/5/2026 7:18:31" (month first, 24-hour, no leading zeros)."""
    return f"{t.month}/{t.day}/{t.year} {t.hour}:{t:%M:%S}"


def sheets_th(t: dt.datetime, *, be: bool = True) -> str:
    """Google Sheets/Forms Thai locale: "5/1/2569, 7:18:31" (day first, comma; BE or CE year)."""
    return f"{t.day}/{t.month}/{t.year + 543 if be else t.year}, {t.hour}:{t:%M:%S}"


def thai_excel(t: dt.datetime) -> str:
    """A date-time cell as Thai Excel displays it (and so saves it in CSV/text): "5/1/2569 7:18"."""
    return f"{t.day}/{t.month}/{t.year + 543} {t.hour}:{t:%M}"


def excel_en_us_short(t: dt.datetime) -> str:
    """A date-time cell as en-US Excel displays it after opening an MS Forms export: "1/10/26 9:02:05"."""
    return f"{t.month}/{t.day}/{t:%y} {t.hour}:{t:%M:%S}"


# --- writers -----------------------------------------------------------------------------------


def write_csv(name: str, rows: Iterable[Sequence[Any]], *, encoding: str = "utf-8", bom: bool = False,
              quoting: int = csv.QUOTE_MINIMAL, lineterminator: str = "\r\n", delimiter: str = ",") -> None:
    buf = io.StringIO()
    w = csv.writer(buf, quoting=quoting, lineterminator=lineterminator, delimiter=delimiter)
    for r in rows:
        w.writerow(["" if c is None else c for c in r])
    data = buf.getvalue().encode(encoding)
    if bom:
        data = (b"\xef\xbb\xbf" if encoding == "utf-8" else b"") + data
    (HERE / name).write_bytes(data)


def forms_csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """Google Forms' download quoting: text quoted, numbers bare (as seen in real downloads)."""
    lines = []
    for r in rows:
        cells = []
        for c in r:
            if isinstance(c, (int, float)) and not isinstance(c, bool):
                cells.append(str(c))
            else:
                cells.append('"' + str(c or "").replace('"', '""') + '"')
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_xlsx(name: str, sheets: dict[str, Sequence[Sequence[Any]]], *, date_format: str = "m/d/yyyy h:mm:ss") -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(list(r))
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, dt.datetime):
                    cell.number_format = date_format
                elif isinstance(cell.value, dt.date):
                    cell.number_format = "d/m/yyyy"
    buf = io.BytesIO()
    wb.save(buf)
    (HERE / name).write_bytes(buf.getvalue())
    return buf.getvalue()


def expect(name: str, **fields: Any) -> None:
    body = {"file": name, **fields}
    (HERE / (Path(name).stem + ".expected.json")).write_text(
        json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def survey_expectation(rows: Sequence[tuple[dt.datetime, str, Any, Any]], *, instrument: str = "iit",
                       rejected: int = 0, keep: Callable[[Any], bool] = lambda r: True) -> dict[str, Any]:
    kept = [r for r in rows if keep(r)]
    return {
        "instrument": instrument, "year": FY,
        "counts": {"read": len(rows), "imported": len(kept), "duplicate": 0, "rejected": rejected},
        "responses": len(kept), "by_department": by_department(kept),
    }


# --- accepted shapes ---------------------------------------------------------------------------


def google_forms_download_en_gmt7() -> None:
    """Forms > Responses > Download responses (.csv), English form, 12-hour clock, zone GMT+7."""
    rows = rows_of(seed=1)
    table = [["Timestamp", IIT_DEPT_Q, *IIT_QUESTIONS, COMMENT_Q]]
    table += [[forms_download(t), d, *a, c] for t, d, a, c in rows]
    name = "google_forms_download_en_gmt7.csv"
    (HERE / name).write_bytes(forms_csv_bytes(table))
    expect(name, shape="Google Forms' own Download responses (.csv), English: \"2026/01/05 7:18:31 AM GMT+7\", "
                       "text fields quoted, LF line ends, no BOM", **survey_expectation(rows))


def google_forms_download_en_24h() -> None:
    """The same download from a form whose owner uses a 24-hour locale: "2026/01/05 19:18:31 GMT+7"."""
    rows = rows_of(seed=2)
    table = [["Timestamp", IIT_DEPT_Q, *IIT_QUESTIONS]]
    table += [[forms_download(t, clock="24"), d, *a] for t, d, a, _ in rows]
    name = "google_forms_download_24h.csv"
    (HERE / name).write_bytes(forms_csv_bytes(table))
    expect(name, shape="Google Forms' own download, 24-hour clock: \"2026/02/03 19:18:31 GMT+7\"", **survey_expectation(rows))


def google_forms_download_gmt0700() -> None:
    """The download with the offset written in full, "GMT+07:00", Thai-language form headers."""
    rows = rows_of(seed=3)
    table = [["ประทับเวลา", IIT_DEPT_Q, *IIT_QUESTIONS]]
    table += [[forms_download(t, zone="GMT+07:00"), d, *a] for t, d, a, _ in rows]
    name = "google_forms_download_gmt0700.csv"
    (HERE / name).write_bytes(forms_csv_bytes(table))
    expect(name, shape="Google Forms' own download, zone written \"GMT+07:00\", Thai headers", **survey_expectation(rows))


def google_forms_download_utc() -> None:
    """A form whose zone is GMT (its owner's account default): times are converted to Bangkok.

    The last response, 30 Sep 2026 6:00 PM GMT, is 1 Oct 2026 01:00 in Bangkok: fiscal year 2570,
    so importing into FY 2569 rejects it. Read as Bangkok time it would wrongly be counted.
    """
    rows = rows_of(11, seed=4)
    late = (dt.datetime(2026, 10, 1, 1, 0, 0), DEPARTMENTS[0], ["มาก"] * len(IIT_QUESTIONS), "")
    rows.append(late)
    table = [["Timestamp", IIT_DEPT_Q, *IIT_QUESTIONS]]
    table += [[forms_download(t - dt.timedelta(hours=7), zone="GMT"), d, *a] for t, d, a, _ in rows]
    name = "google_forms_download_gmt_utc.csv"
    (HERE / name).write_bytes(forms_csv_bytes(table))
    expect(name, shape="Google Forms' own download from a form set to GMT: \"2026/01/05 12:18:31 AM GMT\" "
                       "(converted to Bangkok time)",
           **survey_expectation(rows, rejected=1, keep=lambda r: r is not late))


def google_sheets_thai_be() -> None:
    """Google Sheets/Forms in the Thai locale: "5/1/2569, 7:18:31", header ประทับเวลา."""
    rows = rows_of(seed=5)
    table = [["ประทับเวลา", IIT_DEPT_Q, *IIT_QUESTIONS, COMMENT_Q]]
    table += [[sheets_th(t), d, *a, c] for t, d, a, c in rows]
    name = "google_sheets_thai_locale_be.csv"
    write_csv(name, table)
    expect(name, shape="Google Sheets/Forms Thai locale CSV: \"5/1/2569, 7:18:31\" (day first, BE, comma), CRLF, no BOM",
           **survey_expectation(rows))


def google_sheets_en_header_thai_locale_ce() -> None:
    """An English form (header "Timestamp") on a sheet in the Thai locale with CE years:
    "10/1/2026, 9:02:05" is 10 January: the comma of the Thai locale says day first."""
    rows = rows_of(seed=6)
    table = [["Timestamp", IIT_DEPT_Q, *IIT_QUESTIONS]]
    table += [[sheets_th(t, be=False), d, *a] for t, d, a, _ in rows]
    name = "google_sheets_en_header_thai_locale_ce.csv"
    write_csv(name, table)
    expect(name, shape="Google Sheets CSV, English form header, Thai-locale sheet with CE years: \"10/1/2026, 9:02:05\"",
           **survey_expectation(rows))


def google_sheets_csv_en() -> None:
    """File > Download > CSV of the responses sheet, en-US locale: "1/10/2026 9:02:05" is 10 January."""
    rows = rows_of(seed=7)
    table = [["Timestamp", IIT_DEPT_Q, *IIT_QUESTIONS]]
    table += [[sheets_en(t), d, *a] for t, d, a, _ in rows]
    name = "google_sheets_download_en.csv"
    write_csv(name, table)
    expect(name, shape="Google Sheets File > Download > CSV (en-US): \"1/10/2026 9:02:05\" month first, 24-hour",
           **survey_expectation(rows))


def google_sheets_xlsx() -> None:
    """File > Download > Microsoft Excel (.xlsx) of the responses sheet: real date cells."""
    rows = rows_of(seed=8)
    table: list[list[Any]] = [["Timestamp", IIT_DEPT_Q, *IIT_QUESTIONS, COMMENT_Q]]
    table += [[t, d, *a, c or None] for t, d, a, c in rows]
    name = "google_sheets_download.xlsx"
    write_xlsx(name, {"การตอบแบบฟอร์ม 1": table})
    expect(name, shape="Google Sheets File > Download > .xlsx: date cells (m/d/yyyy h:mm:ss), tab \"การตอบแบบฟอร์ม 1\"",
           **survey_expectation(rows))


def _ms_rows(rows: Sequence[tuple[dt.datetime, str, list[str], str]], meta: Sequence[str]) -> list[list[Any]]:
    table: list[list[Any]] = [[*meta, EIT_DEPT_Q, *EIT_QUESTIONS]]
    for i, (t, d, a, _) in enumerate(rows, start=1):
        table.append([i, t - dt.timedelta(minutes=3, seconds=12), t, "anonymous", None, None, d, *a])
    return table


def microsoft_forms_en() -> None:
    """Microsoft Forms > Responses > Open in Excel (English UI): date cells, ID 1..n."""
    rows = rows_of(seed=9, questions=EIT_QUESTIONS)
    name = "microsoft_forms_en.xlsx"
    write_xlsx(name, {"Sheet1": _ms_rows(rows, ("ID", "Start time", "Completion time", "Email", "Name", "Last modified time"))})
    expect(name, shape="Microsoft Forms xlsx export, English headers, date cells", **survey_expectation(rows, instrument="eit"))


def microsoft_forms_thai_headers() -> None:
    """Microsoft Forms with a Thai-language UI: the same file with Thai column names."""
    rows = rows_of(seed=10, questions=EIT_QUESTIONS)
    name = "microsoft_forms_thai_headers.xlsx"
    write_xlsx(name, {"Sheet1": _ms_rows(rows, ("รหัส", "เวลาเริ่มต้น", "เวลาที่เสร็จสมบูรณ์", "อีเมล", "ชื่อ",
                                                 "เวลาที่ปรับเปลี่ยนล่าสุด"))})
    expect(name, shape="Microsoft Forms xlsx export, Thai UI headers (รหัส, เวลาเริ่มต้น, เวลาที่เสร็จสมบูรณ์, ...)",
           **survey_expectation(rows, instrument="eit"))


def microsoft_forms_excel_csv() -> None:
    """The MS Forms workbook opened in en-US Excel and saved as CSV: "1/10/26 9:02:05", month first."""
    rows = rows_of(seed=11, questions=EIT_QUESTIONS)
    table = [["ID", "Start time", "Completion time", "Email", "Name", "Last modified time", EIT_DEPT_Q, *EIT_QUESTIONS]]
    for i, (t, d, a, _) in enumerate(rows, start=1):
        table.append([i, excel_en_us_short(t - dt.timedelta(minutes=2)), excel_en_us_short(t), "anonymous", "", "", d, *a])
    name = "microsoft_forms_excel_csv_en.csv"
    write_csv(name, table, bom=True)
    expect(name, shape="Microsoft Forms xlsx saved as CSV UTF-8 by en-US Excel: \"1/10/26 9:02:05\" (m/d/yy)",
           **survey_expectation(rows, instrument="eit"))


def thai_excel_cp874_title_row() -> None:
    """Thai Excel "CSV (Comma delimited)": cp874, a title row and a blank row above the header,
    date-times as displayed ("10/1/2569 9:02", no seconds), a Thai 12-hour marker on none."""
    rows = rows_of(seed=12)
    table: list[list[Any]] = [["แบบวัดการรับรู้ของผู้มีส่วนได้ส่วนเสียภายใน (IIT) ประจำปีงบประมาณ พ.ศ. 2569", "", "", ""],
                              ["", "", "", ""],
                              ["วันที่ตอบ", IIT_DEPT_Q, *IIT_QUESTIONS]]
    table += [[thai_excel(t), d, *a] for t, d, a, _ in rows]
    name = "thai_excel_cp874_title_row.csv"
    write_csv(name, table, encoding="cp874")
    expect(name, shape="CSV saved by Thai Excel: cp874, title row above the header, \"10/1/2569 9:02\" as displayed",
           **survey_expectation(rows))


def thai_12_hour_markers() -> None:
    """A Thai-locale export with CLDR's 12-hour markers: "10/1/2569 12:05:40 หลังเที่ยง"."""
    rows = rows_of(seed=13)
    table = [["ประทับเวลา", IIT_DEPT_Q, *IIT_QUESTIONS]]
    table += [[f"{t.day}/{t.month}/{t.year + 543} {h12(t, 'ก่อนเที่ยง', 'หลังเที่ยง')}", d, *a] for t, d, a, _ in rows]
    name = "thai_locale_12_hour_markers.csv"
    write_csv(name, table, bom=True)
    expect(name, shape="Thai-locale 12-hour times with CLDR markers: \"11/1/2569 12:15:09 ก่อนเที่ยง\"", **survey_expectation(rows))


def workbook_summary_first() -> bytes:
    """A workbook an admin assembled: a summary sheet first, instructions, then the responses."""
    rows = rows_of(seed=14)
    summary = by_department(rows)
    table: list[list[Any]] = [["ประทับเวลา", IIT_DEPT_Q, *IIT_QUESTIONS]]
    table += [[t, d, *a] for t, d, a, _ in rows]
    name = "workbook_summary_sheet_first.xlsx"
    data = write_xlsx(name, {
        "สรุป": [["สรุปจำนวนผู้ตอบแบบวัด IIT ปี 2569"], ["ส่วนราชการ", "จำนวนผู้ตอบ", "วันที่สรุป"],
                 *[[d, n, dt.date(2026, 6, 30)] for d, n in summary.items()]],
        "คำชี้แจง": [["กรุณาตอบแบบวัดภายในวันที่ 30 มิ.ย. 2569"]],
        "การตอบแบบฟอร์ม 1": table,
    }, date_format="d/m/yyyy h:mm:ss")
    expect(name, shape="xlsx with a summary sheet first, an instructions sheet, then the responses sheet",
           **survey_expectation(rows))
    return data


def excel_unicode_text() -> None:
    """Excel "Save As > Unicode Text (*.txt)": UTF-16 LE with BOM, tab separated, CRLF, cells as displayed."""
    rows = rows_of(seed=15)
    table = [["วันเวลา", IIT_DEPT_Q, *IIT_QUESTIONS]]
    table += [[thai_excel(t), d, *a] for t, d, a, _ in rows]
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\r\n")
    w.writerows(table)
    name = "excel_unicode_text.txt"
    (HERE / name).write_bytes(b"\xff\xfe" + buf.getvalue().encode("utf-16-le"))
    expect(name, shape="Excel Save As Unicode Text (.txt): UTF-16 LE BOM, tab separated, Thai Excel date display",
           **survey_expectation(rows))


def excel_97_xls() -> None:
    """An .xls (Excel 97-2003) as LibreOffice Calc saves it (File > Save As > Excel 97-2003):
    converted here from an xlsx by LibreOffice itself, so the BIFF8 bytes are a real program's."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    name = "libreoffice_excel97.xls"
    if soffice is None:
        print(f"skipped {name}: LibreOffice (soffice) is not installed")
        return
    rows = rows_of(seed=16)
    table: list[list[Any]] = [["ประทับเวลา", IIT_DEPT_Q, *IIT_QUESTIONS]]
    table += [[t, d, *a] for t, d, a, _ in rows]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "responses.xlsx"
        write_xlsx("_tmp_responses.xlsx", {"การตอบแบบฟอร์ม 1": table}, date_format="d/m/yyyy h:mm:ss")
        shutil.move(str(HERE / "_tmp_responses.xlsx"), src)
        subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp}/profile", "--convert-to",
                        "xls:MS Excel 97", "--outdir", tmp, str(src)], check=True, capture_output=True, timeout=180)
        shutil.copyfile(Path(tmp) / "responses.xls", HERE / name)
    expect(name, shape="Excel 97-2003 .xls written by LibreOffice Calc (BIFF8), date cells", **survey_expectation(rows))


# --- refused shapes ----------------------------------------------------------------------------


def asset_register() -> None:
    """ทะเบียนครุภัณฑ์: a date column (วันที่ได้มา) and a department column, but codes, prices and
    serial numbers where a survey has answers. Imported as responses before issue 11."""
    items = [
        ("7440-001-0001", "เครื่องคอมพิวเตอร์โน้ตบุ๊ก", "Acer TravelMate P2", "NXVLFST0041234", "22,900.00", "เฉพาะเจาะจง", "ใช้งานได้"),
        ("7440-001-0002", "เครื่องคอมพิวเตอร์ตั้งโต๊ะ", "Dell OptiPlex 3000", "7H2KQ93", "21,000.00", "เฉพาะเจาะจง", "ใช้งานได้"),
        ("7430-005-0001", "เครื่องพิมพ์เลเซอร์", "Brother HL-L2375DW", "E78123K1N", "7,490.00", "เฉพาะเจาะจง", "ชำรุด"),
        ("7110-006-0003", "โต๊ะทำงานเหล็ก", "Lucky World", "-", "4,800.00", "เฉพาะเจาะจง", "ใช้งานได้"),
        ("4120-001-0012", "เครื่องปรับอากาศ 24,000 BTU", "Daikin FTKC24", "E012345", "38,500.00", "e-bidding", "ใช้งานได้"),
        ("5820-003-0002", "กล้องถ่ายภาพดิจิทัล", "Canon EOS R50", "103021002345", "29,900.00", "เฉพาะเจาะจง", "ใช้งานได้"),
        ("7440-001-0003", "เครื่องคอมพิวเตอร์โน้ตบุ๊ก", "Lenovo V15 G4", "PF4XK2LM", "19,500.00", "เฉพาะเจาะจง", "ใช้งานได้"),
        ("3895-001-0001", "เครื่องตัดหญ้าแบบข้อแข็ง", "Makita EM4351", "MK-88231", "9,800.00", "เฉพาะเจาะจง", "ชำรุด"),
        ("2310-001-0004", "รถบรรทุกขยะ 6 ล้อ", "Isuzu FRR", "JALFRR90PM7000123", "2,450,000.00", "e-bidding", "ใช้งานได้"),
        ("7430-005-0002", "เครื่องสแกนเอกสาร", "Epson DS-530 II", "X5QZ012345", "15,900.00", "เฉพาะเจาะจง", "ใช้งานได้"),
        ("6515-002-0001", "เครื่องวัดความดันโลหิต", "Omron HEM-7156", "20230801234", "2,390.00", "เฉพาะเจาะจง", "ใช้งานได้"),
        ("7110-008-0002", "ตู้เหล็กเก็บเอกสาร 2 บาน", "Elephant", "-", "5,500.00", "เฉพาะเจาะจง", "ใช้งานได้"),
    ]
    acquired = [dt.date(2025, 10, 15) + dt.timedelta(days=17 * i) for i in range(len(items))]
    table: list[list[Any]] = [["ทะเบียนครุภัณฑ์ เทศบาลตำบลคลังตัวอย่าง ประจำปีงบประมาณ พ.ศ. 2569"],
                              ["ลำดับ", "วันที่ได้มา", "เลขทะเบียนครุภัณฑ์", "ประเภท/ชื่อครุภัณฑ์", "ยี่ห้อ/รุ่น",
                               "หมายเลขเครื่อง", "ราคาต่อหน่วย (บาท)", "วิธีการได้มา", "ส่วนราชการที่รับผิดชอบ", "สภาพ"]]
    for i, (item, when) in enumerate(zip(items, acquired), start=1):
        code, what, brand, serial, price, how, state = item
        table.append([i, when, code, what, brand, serial, price, how, DEPARTMENTS[i % len(DEPARTMENTS)], state])
    name = "refused_asset_register.xlsx"
    write_xlsx(name, {"ทะเบียนครุภัณฑ์": table})
    expect(name, shape="ทะเบียนครุภัณฑ์ (asset register) kept in Excel: date + department columns, codes/prices/serials",
           instrument="iit", year=FY, refused=True, stderr_contains="ไม่ใช่คำตอบแบบสำรวจ")


def attendance_list() -> None:
    """An attendance list (บัญชีลงเวลาปฏิบัติราชการ) exported from a time clock to CSV: date,
    department, arrival and leaving times."""
    names = ("นายสมชาย ใจดี", "นางสาวสุดา แก้วมณี", "นายวิชัย ทองคำ", "นางพรทิพย์ ศรีสุข", "นายประเสริฐ มั่นคง",
             "นางสาวกมลวรรณ บุญมา", "นายธนากร สายทอง", "นางมาลี ชื่นใจ", "นายอนุชา พรหมมา", "นางสาวปิยะนุช คำดี",
             "นายสุรชัย วงศ์ใหญ่", "นางจันทร์เพ็ญ นาคสุข")
    positions = ("ปลัดเทศบาล", "นักวิชาการเงินและบัญชี", "นายช่างโยธา", "นักวิชาการศึกษา", "นักวิชาการสาธารณสุข",
                 "นักพัฒนาชุมชน", "เจ้าพนักงานธุรการ", "เจ้าพนักงานการเงินและบัญชี", "วิศวกรโยธา", "ครู",
                 "นักวิชาการสุขาภิบาล", "นักสังคมสงเคราะห์")
    table = [["ลำดับ", "ชื่อ-สกุล", "ตำแหน่ง", "สังกัด", "วันที่", "เวลามา", "เวลากลับ", "หมายเหตุ"]]
    rng = random.Random(3)
    for i, (who, pos) in enumerate(zip(names, positions), start=1):
        hour, minute = rng.choice((7, 8)), rng.randrange(60)
        late = "สาย" if (hour, minute) > (8, 30) else ""
        table.append([i, who, pos, DEPARTMENTS[i % len(DEPARTMENTS)], "5/1/2569", f"{hour:02d}.{minute:02d}",
                      f"{rng.choice((16, 17))}.{rng.randrange(30, 60):02d}", late])
    name = "refused_attendance_list.csv"
    write_csv(name, table, encoding="cp874")
    expect(name, shape="Attendance list (บัญชีลงเวลา) exported to CSV: date, department, arrival/leaving times",
           instrument="iit", year=FY, refused=True, stderr_contains="ไม่ใช่คำตอบแบบสำรวจ")


def training_registration_form() -> None:
    """A Google Form used to register for a training: a real Forms download with Timestamp and a
    department question, but its answers are names, positions and phone numbers."""
    rng = random.Random(5)
    table = [["Timestamp", "ชื่อ-นามสกุล", "ตำแหน่ง", "สังกัด", "เบอร์โทรศัพท์", "อาหาร"]]
    for i, t in enumerate(TIMES):
        table.append([forms_download(t), f"ผู้สมัคร {i + 1}", rng.choice(("นักวิชาการ", "เจ้าพนักงาน", "ผู้อำนวยการกอง", "ครู")) + f" {rng.choice(('ปฏิบัติการ', 'ชำนาญการ', 'ชำนาญงาน'))}",
                      DEPARTMENTS[i % len(DEPARTMENTS)], f"08{rng.randrange(10**7, 10**8)}", rng.choice(("ปกติ", "มังสวิรัติ", "อิสลาม"))])
    name = "refused_training_registration_form.csv"
    (HERE / name).write_bytes(forms_csv_bytes(table))
    expect(name, shape="Google Forms download of a training registration form (names, positions, phone numbers)",
           instrument="iit", year=FY, refused=True, stderr_contains="ไม่ใช่คำตอบแบบสำรวจ")


def budget_sheet() -> None:
    """A budget disbursement sheet (รายงานการเบิกจ่ายงบประมาณ) with a date and a department column."""
    table: list[list[Any]] = [["วันที่", "ส่วนราชการ", "รหัสบัญชี", "รายการ", "งบประมาณ", "เบิกจ่าย", "คงเหลือ"]]
    rng = random.Random(9)
    for i in range(12):
        budget = rng.randrange(50, 900) * 1000.0
        spent = round(budget * rng.random(), 2)
        table.append([dt.date(2026, 1, 5) + dt.timedelta(days=9 * i), DEPARTMENTS[i % len(DEPARTMENTS)],
                      f"5{rng.randrange(100000, 999999)}", rng.choice(("ค่าวัสดุสำนักงาน", "ค่าจ้างเหมาบริการ", "ค่าใช้จ่ายในการเดินทางไปราชการ", "ค่าครุภัณฑ์คอมพิวเตอร์")),
                      budget, spent, round(budget - spent, 2)])
    name = "refused_budget_sheet.xlsx"
    write_xlsx(name, {"เบิกจ่าย": table})
    expect(name, shape="Budget disbursement sheet (รายงานการเบิกจ่าย): date, department, account codes, amounts",
           instrument="iit", year=FY, refused=True, stderr_contains="ไม่ใช่คำตอบแบบสำรวจ")


def unreadable_timestamp() -> None:
    """Thai Excel saved a CSV while the date column was too narrow: every date became "########".
    The header is found; the refusal must name it and show the first cell."""
    rows = rows_of(seed=17)
    table = [["Timestamp", IIT_DEPT_Q, *IIT_QUESTIONS]]
    table += [["########", d, *a] for _, d, a, _ in rows]
    name = "refused_unreadable_timestamp.csv"
    write_csv(name, table, encoding="cp874")
    expect(name, shape="CSV saved by Excel with a too-narrow date column: every Timestamp cell is \"########\"",
           instrument="iit", year=FY, refused=True, stderr_contains="พบคอลัมน์ “Timestamp” แต่อ่านค่าในแถวแรก “########”")


def formula_timestamps_without_values() -> None:
    """An agency's own web system exports the answers with PhpSpreadsheet, its Xlsx writer set to
    ``setPreCalculateFormulas(false)`` (a common speed-up): the time of answering is a formula
    built from the stored date and time, written as ``<c><f>DATE(2026,1,5)+TIME(7,18,31)</f></c>``
    with no cached ``<v>``. Excel calculates it when the file is opened; a reader that does not
    calculate (calamine, pandas) sees every timestamp empty. openpyxl writes formulas the same
    way. The refusal must say so instead of importing a file of rejected rows."""
    from openpyxl import Workbook

    rows = rows_of(seed=23)
    wb = Workbook()
    ws = wb.active
    ws.title = "Worksheet"
    ws.append(["Timestamp", IIT_DEPT_Q, *IIT_QUESTIONS])
    for t, d, a, _ in rows:
        ws.append([f"=DATE({t.year},{t.month},{t.day})+TIME({t.hour},{t.minute},{t.second})", d, *a])
    for (cell,) in ws.iter_rows(min_row=2, max_col=1):
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
    name = "refused_formula_timestamps_without_values.xlsx"
    buf = io.BytesIO()
    wb.save(buf)
    (HERE / name).write_bytes(buf.getvalue())
    expect(name, shape="xlsx written by PhpSpreadsheet without pre-calculated formulas (or openpyxl): every "
           "Timestamp cell a formula with no cached value, so it reads empty", instrument="iit", year=FY, refused=True,
           stderr_contains="“Timestamp”")


def _paper_date_only_rows(days: Sequence[int], per_day: int, *, seed: int) -> list[tuple[dt.date, str, list[str]]]:
    """EIT paper forms: ``per_day`` a day, departments in turn, seven in ten answer "มากที่สุด" to
    every item (a short form where that is common), the others a mix of the two top levels."""
    rng = random.Random(seed)
    out = []
    for day in days:
        for i in range(per_day):
            top = rng.random() < 0.7
            answers = [("มากที่สุด" if top else rng.choice(("มากที่สุด", "มาก"))) if "หรือไม่" not in q else "ไม่มี"
                       for q in EIT_QUESTIONS]
            out.append((dt.date(2026, 3, day), DEPARTMENTS[i % len(DEPARTMENTS)], answers))
    return out


def paper_forms_date_only() -> None:
    """Paper EIT forms keyed into Excel by the clerk with the date only ("10/3/2569", BE, no time),
    saved as "CSV UTF-8": many forms of one day hold the same answers, and each is a respondent.
    Then the clerk's next file, the same sheet with a day more typed below (a cumulative
    re-export): the forms already counted add nothing, the new day's add up."""
    header = ["วันที่", EIT_DEPT_Q, *EIT_QUESTIONS, COMMENT_Q]
    first = _paper_date_only_rows((10, 11, 12, 13), 10, seed=31)
    more = first + _paper_date_only_rows((16,), 12, seed=32)
    for name, rows in (("paper_forms_date_only.csv", first), ("paper_forms_date_only_next_day.csv", more)):
        write_csv(name, [header, *([f"{d.day}/{d.month}/{d.year + 543}", dept, *a, ""] for d, dept, a in rows)],
                  bom=True)
    expect("paper_forms_date_only.csv",
           shape="paper EIT forms keyed in Excel with the date only (BE, \"10/3/2569\"), CSV UTF-8: same-day "
                 "forms with the same answers are different respondents",
           instrument="eit", year=FY, counts={"read": 40, "imported": 40, "duplicate": 0, "rejected": 0, "new": 40},
           responses=40, by_department=by_department(first))
    expect("paper_forms_date_only_next_day.csv",
           shape="the same paper-form sheet a day later, saved again as CSV UTF-8 (a cumulative re-export): "
                 "the repeated forms already counted add nothing",
           instrument="eit", year=FY, before=["paper_forms_date_only.csv"],
           counts={"read": 52, "imported": 12, "duplicate": 40, "rejected": 0, "new": 12, "unchanged": 40,
                   "vanished": 0},
           responses=52, by_department=by_department(more))


BUILDERS = (
    google_forms_download_en_gmt7, google_forms_download_en_24h, google_forms_download_gmt0700, google_forms_download_utc,
    google_sheets_thai_be, google_sheets_en_header_thai_locale_ce, google_sheets_csv_en, google_sheets_xlsx,
    microsoft_forms_en, microsoft_forms_thai_headers, microsoft_forms_excel_csv, thai_excel_cp874_title_row,
    thai_12_hour_markers, workbook_summary_first, excel_unicode_text, excel_97_xls,
    asset_register, attendance_list, training_registration_form, budget_sheet, unreadable_timestamp,
    formula_timestamps_without_values, paper_forms_date_only,
)


def main(only: Optional[str] = None) -> None:
    for build in BUILDERS:
        if only is None or only in build.__name__:
            build()


if __name__ == "__main__":
    import sys

    main(sys.argv[1] if len(sys.argv) > 1 else None)
