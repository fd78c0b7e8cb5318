"""The tab-separated text export of a yearly measures report (the format of data/demo/*.txt).

These files are text taken out of PDFs: title lines at the top, numbered section headings,
tables as lines of tab-separated cells whose cells still carry ``<p>`` / ``<ul>`` markup, cells
that wrap onto a continuation line starting with a tab, and after the table a "กิจกรรม" block
listing activities with dated paragraphs. This module only understands that *layout*; which
column means what is decided by :mod:`.measures` (passed in as ``is_header``; by default the
vocabulary of :mod:`.measure_columns`).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

from .. import thai
from ..texts import t
from .measure_columns import looks_like_header

# ---------------------------------------------------------------- cell text cleaning

_TAG_BREAK_RE = re.compile(r"</p>\s*<p[^>]*>|<br\s*/?>|</li>\s*<li[^>]*>|</?li[^>]*>", re.I)
_UL_RE = re.compile(r"<ul[^>]*>(.*?)(?:</ul>|$)", re.I | re.S)
_TAG_RE = re.compile(r"<[^>]+>")
_BOLD_RE = re.compile(r"\*\*")
_SPACES_RE = re.compile(r"[ \t\u00a0\u200b]+")
_DIGIT = "0-9๐-๙"
# "๑. ..." / "2) ..." / "๓.๑ ..." starting an item inside running text (preceded by a space).
_INLINE_ITEM_RE = re.compile(
    rf"(?<=\S)[ ]+(?=[{_DIGIT}]{{1,2}}(?:\.[{_DIGIT}]{{1,2}}[ ]|[.)](?![{_DIGIT}])))"
)
# " - item" inside a <ul> block (the PDF export lost the <li> tags, kept the dashes).
_UL_ITEM_RE = re.compile(r"(?:^|[ ]+)-[ ]*(?=\S)")
_ITEM_START_RE = re.compile(rf"^\s*(?:[{_DIGIT}]{{1,2}}(?:\.[{_DIGIT}]{{1,2}})+\s|[{_DIGIT}]{{1,2}}[.)]|[-•*])")
_NUMBERED_RE = re.compile(rf"^\s*([{_DIGIT}]{{1,3}})\s*[.)]\s*(?![{_DIGIT}])(.*)$", re.S)
# "1.1", "๒.๓": a measure numbered under a group ("1", "1.", or none) in the numbering column.
_SUB_NUMBER_RE = re.compile(rf"^\s*([{_DIGIT}]{{1,3}})\s*\.\s*[{_DIGIT}]{{1,3}}\s*\.?\s*$")
_GROUP_NUMBER_RE = re.compile(rf"^\s*([{_DIGIT}]{{1,3}})\s*\.?\s*$")


def _split_ul(match: re.Match) -> str:
    items = [p.strip() for p in _UL_ITEM_RE.split(match.group(1)) if p.strip()]
    return "\n".join(f"- {item}" for item in items)


def clean_cell(raw: object) -> str:
    """Plain text of one exported cell: tags gone, paragraphs and list items on their own lines.

    Runs of spaces collapse to one (the PDF export scatters spaces inside Thai words, and
    single spaces are all we can keep safely); Thai digits are kept as written.
    """
    if raw is None:
        return ""
    s = str(raw).replace("\r\n", "\n").replace("\r", "\n")
    s = _BOLD_RE.sub("", s)
    s = _TAG_BREAK_RE.sub("\n", s)
    s = _UL_RE.sub(_split_ul, s)
    s = html.unescape(_TAG_RE.sub("", s))
    lines = []
    for line in s.split("\n"):
        line = _SPACES_RE.sub(" ", line).strip()
        if not line:
            continue
        lines.extend(part.strip() for part in _INLINE_ITEM_RE.split(line) if part.strip())
    return "\n".join(lines)


def starts_item(text: str) -> bool:
    """True when text begins a list item ("๑. ...", "2) ...", "- ...")."""
    return bool(_ITEM_START_RE.match(text or ""))


def split_number(text: str) -> tuple[Optional[int], str]:
    """("๓. สร้างการรับรู้ ...") -> (3, "สร้างการรับรู้ ..."); no leading number -> (None, text)."""
    m = _NUMBERED_RE.match(text or "")
    if not m or not m.group(2).strip():
        return None, (text or "").strip()
    return int(thai.to_arabic_digits(m.group(1))), m.group(2).strip()


def join_continuation(previous: str, more: str) -> str:
    """Append a wrapped cell: a new item goes on a new line, a wrapped sentence continues it."""
    if not more:
        return previous
    if not previous:
        return more
    sep = "\n" if starts_item(more) or previous.endswith(("\n", ":")) else " "
    return previous + sep + more


def join_rows(previous: str, more: str) -> str:
    """Append the text of a further table row (spreadsheet, Word): a row is never a wrapped
    line, so its text always starts a line of its own."""
    if not more:
        return previous
    return f"{previous}\n{more}" if previous else more


def _join_title(lines: list[str]) -> str:
    """Join wrapped title lines: Thai runs on without a space, Latin words keep one."""
    out = ""
    for line in lines:
        if out and (out[-1].isascii() or line[0].isascii()):
            out += " "
        out += line
    return out


# ---------------------------------------------------------------- title lines

_FY_RE = re.compile(rf"(?:ปีงบประมาณ|พ\.\s*ศ\.?)\s*(?:พ\.\s*ศ\.?)?\s*([{_DIGIT}]{{4}})")
_ROUND_RE = re.compile(rf"รอบ\s*([{_DIGIT}]{{1,2}})\s*เดือน")
_DISTRICT_RE = re.compile(r"(?:อำเภอ|อ\.)\s*(\S+)")
_PROVINCE_RE = re.compile(r"(?:จังหวัด|จ\.)\s*(\S+)")
_ORG_PREFIXES = (
    "เทศบาล", "องค์การบริหารส่วน", "อบต", "อบจ", "ทต.", "ทม.", "ทน.", "กรุงเทพมหานคร", "เมืองพัทยา",
    "สำนักงาน", "กรม", "กระทรวง",
)


@dataclass
class TitleInfo:
    title: str = ""
    fiscal_year: Optional[int] = None
    round: Optional[int] = None
    organization_name: str = ""
    district: str = ""
    province: str = ""


def _strip_line(line: str) -> str:
    return _SPACES_RE.sub(" ", _BOLD_RE.sub("", line)).strip()


def _read_year_and_round(line: str, info: TitleInfo) -> bool:
    """Fill fiscal year / round from one line; True when the line names either."""
    fy = _FY_RE.search(line)
    if fy and info.fiscal_year is None:
        year = int(thai.to_arabic_digits(fy.group(1)))
        if 2400 <= year <= 2700:
            info.fiscal_year = year
    rnd = _ROUND_RE.search(line)
    if rnd and info.round is None:
        info.round = int(thai.to_arabic_digits(rnd.group(1)))
    return bool(fy or rnd)


def _read_place(i: int, clean: list[str], info: TitleInfo) -> bool:
    """"[org] อำเภอX จังหวัดY": district, province and, if still unknown, the organisation
    (written before "อำเภอ" on the same line, else the line above). True when read."""
    line = clean[i]
    district, province = _DISTRICT_RE.search(line), _PROVINCE_RE.search(line)
    if not (district and province) or info.district:
        return False
    info.district, info.province = district.group(1), province.group(1)
    prefix = line[: district.start()].strip()
    if not info.organization_name:
        above = next((c for c in reversed(clean[:i]) if c), "")
        if prefix:
            info.organization_name = prefix
        elif above and not _FY_RE.search(above) and not _ROUND_RE.search(above):
            info.organization_name = above
    return True


def parse_title_lines(lines: list[str]) -> TitleInfo:
    """Report title, fiscal year, round, organisation and district/province from the lines on top.

    The title is the first run of lines up to the one naming the fiscal year; the organisation
    is the line that starts with an agency kind (เทศบาล…, องค์การบริหารส่วน…) or, failing that,
    the one written before/above "อำเภอ… จังหวัด…". Later repeats (a second title above the
    table) are ignored except to fill what is still missing.
    """
    info = TitleInfo()
    clean = [_strip_line(x) for x in lines]
    title_parts: list[str] = []
    title_done = False
    for i, line in enumerate(clean):
        if not line:
            title_done = title_done or bool(title_parts)
            continue
        dated = _read_year_and_round(line, info)
        if _read_place(i, clean, info):
            continue
        if not info.organization_name and line.startswith(_ORG_PREFIXES):
            info.organization_name = line
            title_done = title_done or bool(title_parts)  # the agency above the title leaves it to come
            continue
        if title_done or info.title:
            continue
        if dated or line.startswith("("):
            if not title_parts:  # "แผน... ประจำปีงบประมาณ 2568" on one line
                title_parts.append(_text_before_year(line))
            title_done = True
        else:
            title_parts.append(line)
    info.title = _join_title([p for p in title_parts if p])
    return info


def _text_before_year(line: str) -> str:
    m = _FY_RE.search(line)
    head = line[: m.start()] if m else ""
    return re.sub(r"(ประจำ|ประจำปี|ปี)\s*$", "", head.strip()).strip()


# ---------------------------------------------------------------- dates in activity paragraphs

_DATE_RE = re.compile(
    rf"(?:วันที่\s*)?([{_DIGIT}]{{1,2}})\s+([ก-๙]+\.?(?:\s*[ก-๙]+\.)?)\s*(?:พ\.\s*ศ\.\s*)?([{_DIGIT}]{{2,4}})"
)


def find_date(text: str, *, default_year_be: Optional[int] = None) -> Optional[dt.date]:
    """The first Thai date written in a paragraph ("เมื่อวันที่ 7 มีนาคม 2566 ณ ...")."""
    for m in _DATE_RE.finditer(text or ""):
        found = thai.parse_thai_date(m.group(0).replace("วันที่", "").strip(), default_year_be=default_year_be)
        if found is not None:
            return found
    return None


# ---------------------------------------------------------------- the lines of a file

TEXT, ROW, PARAGRAPH = "text", "row", "paragraph"


@dataclass
class Line:
    """One line of a file, whatever the format: a row of cells with where the user sees it.

    ``kind`` is TEXT for the tab-separated report export (wrapped cells continue on the next
    line), ROW for a spreadsheet row or a Word table row (a row is a row: nothing wraps), and
    PARAGRAPH for a Word paragraph outside any table. ``carried`` holds the columns whose text
    continues a vertically merged cell from the row above (Word ``w:vMerge``, a merged range
    in a sheet): the row shows that text, but it is the same cell, not new text. ``spans_all``
    marks a row that is one cell merged across (nearly) the whole table: a section or title
    row. ``header_mark`` is Word's "repeat as header row" (``w:tblHeader``). ``width``: a Word
    table's column count, telling a table that continues the plan's from another table.
    """

    row: Optional[int]
    cells: list[str]
    kind: str = TEXT
    table: Optional[int] = None  # Word: the table's number in the document, 1-based
    sheet: Optional[str] = None
    carried: frozenset = frozenset()
    spans_all: bool = False
    header_mark: bool = False
    width: Optional[int] = None  # Word: the number of grid columns of the row's table

    @property
    def in_table(self) -> bool:
        """A row of a Word table (its place names the table)."""
        return self.kind != PARAGRAPH and self.table is not None

    @property
    def place(self) -> str:
        """Where the user finds this line, in the display language ("ตารางที่ 1 แถวที่ 5", "แถวที่ 12", ...)."""
        if self.kind == PARAGRAPH:
            return t("report_place_after_table", table=self.table) if self.table else t("report_place_before_table")
        if self.table is not None:
            return t("report_place_table_row", table=self.table, row=self.row)
        if self.kind == ROW:
            return t("report_place_row", row=self.row)
        return t("report_place_line", row=self.row)


# Why a line with text was not imported (``SkippedRow.code`` → the Thai reason shown).
SKIP_REASONS = {
    "repeated_header": "หัวตารางซ้ำ",
    "signature": "ส่วนลงนาม (ลงชื่อ/ตำแหน่ง/วันที่) ไม่ใช่มาตรการ",
    "title": "หัวเรื่องของเอกสาร (ชื่อแผน/หน่วยงาน/ปีงบประมาณ) ไม่ใช่มาตรการ",
    "column_numbers": "แถวเลขกำกับคอลัมน์ใต้หัวตาราง",
    "after_table": "ข้อความใต้ตาราง (หลังแถวว่าง) ไม่ใช่ส่วนของมาตรการ",
    "note": "หมายเหตุใต้ตาราง ไม่ใช่มาตรการ",
    "total": "แถวสรุปรวม",
    "outside_table": "ข้อความนอกตาราง ไม่ใช่มาตรการ",
    "before_header": "แถวตารางก่อนหัวตาราง",
    "empty_section": "หัวข้อที่ไม่มีมาตรการตามมา",
    "new_header": "หัวตารางอีกชุดกลางตาราง (ใช้อ่านคอลัมน์ของแถวถัดไป) ไม่ใช่มาตรการ",
    "other_table": "ตารางอื่นที่ไม่ใช่ตารางมาตรการ (ไม่มีหัวตาราง และจำนวนคอลัมน์ต่างจากตารางมาตรการ)",
}


@dataclass
class SkippedRow:
    """A line with text that did not become (part of) a measure, and why."""

    row: Optional[int]  # as the user sees it: the sheet row, the Word table's row, the text line
    place: str  # the same in words, naming the table ("ตารางที่ 2 แถวที่ 7")
    code: str  # a key of SKIP_REASONS
    text: str = ""
    table: Optional[int] = None
    sheet: Optional[str] = None

    @property
    def reason(self) -> str:
        return SKIP_REASONS.get(self.code, self.code)

    def as_dict(self) -> dict:
        out = {"row": self.row, "where": self.place, "reason": self.reason, "code": self.code, "text": self.text}
        if self.table is not None:
            out["table"] = self.table
        if self.sheet is not None:
            out["sheet"] = self.sheet
        return out


def _as_line(item) -> Line:
    if isinstance(item, Line):
        return item
    line_no, cells = item
    return Line(row=line_no, cells=list(cells))


# ---------------------------------------------------------------- what a line is, by its words

_DOTS = r"[.…_·\-–]"
# The signer's part under a signature ("................ ผู้จัดทำ").
_SIGNER = (r"(?:ผู้จัดทำ|ผู้รายงาน|ผู้รับรอง|ผู้ตรวจสอบ|ผู้ตรวจ|ผู้อนุมัติ|ผู้เห็นชอบ|ผู้เสนอ|ผู้บันทึก|ผู้ประเมิน|"
           r"ผู้สรุป|ผู้ลงนาม|ผู้ควบคุม|ผู้กำกับ|ผู้ทบทวน|ผู้ให้ข้อมูล)")
# Thai personal titles a name starts with, civil, academic, military and police.
_PERSON = (r"(?:นางสาว|นาง|นาย|น\.ส\.|ว่าที่|ดร\.|ผศ\.|รศ\.|ศ\.|พล\.?|พ\.ต\.|พ\.ท\.|พ\.อ\.|ร\.ต\.|ร\.ท\.|"
           r"ร\.อ\.|จ\.ส\.|ส\.อ\.|ส\.ท\.|ส\.ต\.|ด\.ต\.|จ่า|สิบ|พันตำรวจ|ร้อยตำรวจ|Mr\.?|Mrs\.?|Ms\.?|Miss)")
_SIGNATURE_RE = re.compile(
    rf"^\(?\s*ลงชื่อ\s*\)?(?:\s*$|\s*{_DOTS}{{2,}}|\s*{_PERSON}|\s+\S+(?:\s+\S+)?\s*$|.*{_SIGNER}\s*\)?\s*$)"
    rf"|^\(?\s*ลงนาม\s*\)?\s*(?:$|{_DOTS}{{2,}})"
    rf"|^{_DOTS}{{3,}}.*{_SIGNER}\s*$"
    rf"|^\(?\s*{_SIGNER}\s*\)?\s*:?\s*$"
    rf"|^\(\s*{_DOTS}{{3,}}[^()]*\)\s*$"
    rf"|^ตำแหน่ง(?:\s|{_DOTS}|$)"
    rf"|^(?:ณ\s*)?วันที่\s*{_DOTS}{{3,}}"
    r"|^(?:(?:ประกาศ|สั่ง|ให้ไว้)\s*)?ณ\s*วันที่"  # "ประกาศ ณ วันที่ ๑ ตุลาคม พ.ศ. ๒๕๖๗": the line above a signature
)
# Lines that belong to a signature block but do not start one on their own: a position
# ("ปลัดเทศบาล" is also an owner a plan may name), a bare name, a date, dot leaders.
# "(นายสมชาย ใจดี)": the name under a signature; in the text export a wrapped cell may hold
# one too, so there it only continues a block.
_NAME_LINE_RE = re.compile(rf"^\(\s*{_PERSON}[^()]*\)\s*$")
_SIGNATURE_PART_RE = re.compile(
    rf"^\(\s*{_PERSON}[^()]*\)\s*$"
    rf"|^{_PERSON}\s*\S+(?:\s+\S+)?\s*$"
    r"|^(?:รอง)?(?:ปลัด|นายก|หัวหน้า|ผู้อำนวยการ|ผอ\.|ผู้ช่วย|นักวิเคราะห์|นักทรัพยากรบุคคล|นักจัดการ|นิติกร|"
    r"เจ้าพนักงาน|เจ้าหน้าที่|ประธาน|เลขานุการ|ผู้ว่าราชการ|นายอำเภอ|ท้องถิ่น|พนักงาน|ปฏิบัติหน้าที่|รักษาราชการ|"
    r"รักษาการ|ทราบ|เห็นชอบ|อนุมัติ|ไม่อนุมัติ|ความเห็น)"
    rf"|^{_DOTS}{{3,}}$"
    rf"|^(?:ณ\s*)?(?:วันที่\s*)?[{_DIGIT}]{{1,2}}\s*\S+\s*(?:พ\.\s*ศ\.\s*)?[{_DIGIT}]{{2,4}}$"
)


def _signature_lines(cell: str, *, names_start: bool) -> tuple[bool, bool]:
    """(every line of the cell belongs to a signature block, one of them starts one)."""
    lines = [_strip_line(x) for x in cell.split("\n") if x.strip()]
    starts = [bool(_SIGNATURE_RE.search(x) or (names_start and _NAME_LINE_RE.search(x))) for x in lines]
    if not any(starts):
        return all(_SIGNATURE_PART_RE.search(x) and len(x) <= 120 for x in lines), False
    return all(s or len(x) <= 120 for s, x in zip(starts, lines)), True


def is_signature(cells: list[str], *, names_start: bool = True) -> bool:
    """A row (or paragraph) of a signature block: "ลงชื่อ ........ ผู้จัดทำ", "(นายสมชาย ใจดี)",
    "ตำแหน่ง ปลัดเทศบาล", "วันที่ ..... เดือน ..... พ.ศ. .....", side by side in several cells.
    Every filled cell must belong to the block and one must start it, so a measure whose steps
    say "ลงชื่อ" or whose owner is "ปลัดเทศบาล" is not taken for one. ``names_start``: a name in
    brackets alone may start a block (not in the text export, where a wrapped cell can hold one)."""
    found = False
    for cell in cells:
        if not cell or not cell.strip():
            continue
        belongs, starts = _signature_lines(cell, names_start=names_start)
        if not belongs:
            return False
        found = found or starts
    return found


_NOTE_RE = re.compile(r"^(?:\*|หมายเหตุ|ที่มา|อ้างอิง|ข้อมูล\s*ณ|แหล่งข้อมูล|note\b)", re.I)
_TOTAL_RE = re.compile(
    rf"^(?:รวม(?:ทั้งสิ้น|ทั้งหมด)?|total)\s*(?:[{_DIGIT}]+\s*(?:มาตรการ|โครงการ|กิจกรรม|รายการ|ข้อ)?)?\s*$", re.I
)
_TITLE_START = ("มาตรการส่งเสริมคุณธรรม", "การส่งเสริมคุณธรรม", "ผลการดำเนินการเพื่อส่งเสริม", "รายงานผล")
# "ด้านที่ ๑ ...", "มิติที่ 2 ...": sections numbered in words rather than "๑."
_WORD_SECTION_RE = re.compile(
    rf"^(?:ด้าน|มิติ|ส่วน|หมวด|ยุทธศาสตร์|ประเด็น|องค์ประกอบ|ตัวชี้วัด|แนวทาง)\s*ที่\s*([{_DIGIT}]{{1,2}})(?![{_DIGIT}.])"
)


def _key(text: str) -> str:
    return re.sub(r"[\s\u200b\u00a0*]+", "", str(text or "")).lower()


def is_title_text(text: str, *, known: Iterable[str] = ()) -> bool:
    """A line that names the document rather than a part of it: the plan's title, its fiscal
    year or round, the agency and its district, or a repeat of a title line seen above."""
    line = " ".join(_strip_line(text).split())
    if not line or len(line) > 300 or find_date(line) is not None:  # "ประกาศ ณ วันที่ 1 ตุลาคม พ.ศ. 2567" is a date line
        return False
    if _FY_RE.search(line) or _ROUND_RE.search(line):
        return True
    if line.startswith(("แผน", "รายงาน")) and re.search("คุณธรรม|โปร่งใส|มาตรการ|ทุจริต", line):
        return True
    if line.startswith(_TITLE_START) and "โปร่งใส" in line:
        return True
    if len(line) <= 100 and (line.startswith(_ORG_PREFIXES)
                             or (_DISTRICT_RE.search(line) and _PROVINCE_RE.search(line))):
        return True
    key = _key(line)
    return any(key == _key(k) for k in known if k and k.strip())


def is_total_row(text: str) -> bool:
    return bool(_TOTAL_RE.match(_strip_line(text)))


# ---------------------------------------------------------------- the document

@dataclass
class ReportRow:
    line: int  # the row as the user sees it (sheet row, Word table row, text line) where it starts
    cells: list[str]
    place: str = ""  # the same in words ("ตารางที่ 1 แถวที่ 4")
    kind: str = "text"  # the Line kind it came from: TEXT rows continue wrapped text, ROW rows do not


@dataclass
class ReportTable:
    header: list[str]
    header_line: int
    section_number: Optional[int] = None
    section_title: Optional[str] = None
    rows: list[ReportRow] = field(default_factory=list)
    # Rows right under the header whose first cell is empty: a second header row
    # ("ผลผลิต" / "ผลลัพธ์" under a spanning "ผลการดำเนินการ"), judged by the caller.
    subheader_rows: list[ReportRow] = field(default_factory=list)
    header_place: str = ""
    header_in_table: bool = False  # the header is a Word table's row (its place names the table)
    # False when a section heading opened this table under the previous table's header.
    own_header: bool = True
    section_source: Optional["SkippedRow"] = None  # the heading line, reported if no row follows
    width: Optional[int] = None  # Word: the column count of the table the header is in


@dataclass
class ReportActivity:
    date: Optional[dt.date]
    title: str
    text: str


@dataclass
class ReportText:
    info: TitleInfo
    tables: list[ReportTable] = field(default_factory=list)
    activities: list[ReportActivity] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)


_ACTIVITY_HEADINGS = ("กิจกรรม", "ภาพกิจกรรม", "กิจกรรมที่ดำเนินการ", "กิจกรรมการดำเนินการ")


def _is_activity_heading(text: str) -> bool:
    return _strip_line(text).rstrip(" :") in _ACTIVITY_HEADINGS


def _section_heading(text: str) -> Optional[tuple[int, str]]:
    number, rest = split_number(_strip_line(text))
    if number is None or len(rest) > 250:
        return None
    return number, rest


def _word_section_heading(text: str) -> Optional[tuple[int, str]]:
    line = " ".join(_strip_line(text).split())
    m = _WORD_SECTION_RE.match(line)
    if not m or len(line) > 250:
        return None
    return int(thai.to_arabic_digits(m.group(1))), line


def split_lines(text: str) -> list[list[str]]:
    """Raw tab-separated cells of every line (trailing empty cells dropped)."""
    out = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        cells = line.split("\t")
        while len(cells) > 1 and not cells[-1].strip():
            cells.pop()
        out.append(cells)
    return out


def has_header_line(text: str, *, is_header: Optional[Callable[[list[str]], bool]] = None) -> bool:
    """True when some tab-separated line of the text is a measure-table header."""
    is_header = is_header or looks_like_header
    return any(len(c) >= 3 and is_header([clean_cell(x) for x in c]) for c in split_lines(text))


def _excerpt(cells: list[str], limit: int = 80) -> str:
    text = " | ".join(" ".join(c.split()) for c in cells if c and c.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class LineParser:
    """State machine over the lines: preamble → tables/sections → activities.

    Every line with text ends up somewhere: the title (preamble), a table header, a section,
    a measure row or its continuation, an activity, or ``skipped`` with the reason. Text under
    a table (a signature block, a note after an empty row) never continues a measure.
    """

    def __init__(self, is_header: Callable[[list[str]], bool], *,
                 holds_data: Optional[Callable[[list[str]], bool]] = None,
                 columns: Optional[Callable[[list[str]], tuple[Optional[int], Optional[int]]]] = None):
        self.is_header = is_header
        # A header-looking row that also holds a measure's data ("โครงการ..." with a period and
        # an owner) is a measure once a table has started, not a new header.
        self.holds_data = holds_data or (lambda cells: False)
        # (title column, numbering column) of a header, to tell a new row from a continuation.
        self.columns = columns or (lambda header: (None, None))
        self.preamble: list[str] = []
        self.tables: list[ReportTable] = []
        self.section: tuple[Optional[int], Optional[str]] = (None, None)
        self.started = False
        self.in_activities = False
        self.activity_titles: list[str] = []
        self.paragraphs: list[str] = []
        self.new_paragraph = False  # a title was just read: its paragraph starts fresh
        self.warnings: list[str] = []
        self.skipped: list[SkippedRow] = []
        self.known_headers: list[list[str]] = []  # every header row seen, as keys
        self.in_signature = False  # inside a signature block: nothing joins a measure until a new table
        self.gap = False  # an empty table row since the last measure row (spreadsheets, Word tables)
        self._word_table: Optional[int] = None
        # A Word table without a header of its own continues the plan's table (Word users split
        # tables at page ends) when it has as many columns; otherwise it is another table (photos,
        # a signature grid, a letterhead) whose rows are no measures.
        self.foreign = False
        self._last_row: Optional[tuple[Line, ReportRow]] = None  # the newest measure row and its line

    # -- helpers

    def _skip(self, line: Line, code: str, cells: list[str]) -> None:
        self.skipped.append(SkippedRow(row=None if line.kind == PARAGRAPH else line.row, place=line.place, code=code,
                                       text=_excerpt(cells), table=line.table, sheet=line.sheet))

    def _is_known_header(self, cells: list[str]) -> bool:
        filled = [(i, _key(c)) for i, c in enumerate(cells) if c and c.strip()]
        if len(filled) < 2:
            return False
        return any(all(i < len(h) and h[i] == k for i, k in filled) for h in self.known_headers)

    def _new_table(self, line: Line, cells: list[str]) -> None:
        self.started = True
        self.in_signature = self.gap = self.foreign = False
        if self.tables and not self.tables[-1].rows and not self.tables[-1].subheader_rows:
            self.tables.pop()  # only opened by a section heading, or a header row above: this one replaces it
        self.tables.append(ReportTable(header=cells, header_line=line.row or 0, header_place=line.place,
                                       header_in_table=line.in_table, section_number=self.section[0],
                                       section_title=self.section[1], width=line.width))
        self.known_headers.append([_key(c) for c in cells])

    def _cols(self, table: ReportTable) -> tuple[Optional[int], Optional[int]]:
        return self.columns(table.header)

    # -- the lines

    def feed(self, line_or_no, raw_cells: Optional[list[str]] = None) -> None:
        line = _as_line(line_or_no if raw_cells is None else (line_or_no, raw_cells))
        if line.kind == ROW and line.table is not None and line.table != self._word_table:
            self._word_table = line.table  # a new Word table: a signature block above it has ended
            self.in_signature = self.gap = False
            last = self.tables[-1] if self.tables else None
            self.foreign = bool(last and last.width and line.width and last.width != line.width)
        cells = [clean_cell(c) for c in line.cells]
        if not any(cells):
            if line.kind == ROW and self.tables and self.tables[-1].rows:
                self.gap = True
            return
        if len(cells) == 1:
            self._single(line, line.cells[0], cells[0])
            return
        if self.in_activities:
            self._paragraph(" ".join(c for c in cells if c))
            return
        if self.started and (self.in_signature or is_signature(cells, names_start=line.kind != TEXT)):
            if self.in_signature and self.is_header(cells) and not self.holds_data(cells):
                self._new_table(line, cells)  # a new table under the signature block
                return
            self.in_signature = True
            self._skip(line, "signature", cells)
            return
        if self._header_row(line, cells):
            return
        if not self.tables:
            if not self.started:  # a title spread over several cells of a spreadsheet row
                self.preamble.append(" ".join(c for c in cells if c))
            else:
                self.warnings.append(t("report_warn_row_before_header", place=line.place))
                self._skip(line, "before_header", cells)
            return
        if self.foreign:
            self._skip(line, "other_table", cells)
            return
        table = self.tables[-1]
        heading = self._heading_in_number_table(cells, table)
        if heading:
            self._start_section(heading, line, cells)
            return
        filled = [c for c in cells if c]
        if line.kind == ROW and len(filled) == 1 and not line.carried:  # one cell of text, not in the first column
            if is_title_text(filled[0], known=self.preamble):
                self.preamble.append(filled[0])
                self._skip(line, "title", cells)
                return
            if _NOTE_RE.match(filled[0]):
                self._skip(line, "note", cells)
                return
            if line.spans_all:
                text = " ".join(filled[0].split())
                self._start_section(_section_heading(text) or _word_section_heading(text) or (None, text), line)
                return
        self._table_row(line, cells, table)

    def _header_row(self, line: Line, cells: list[str]) -> bool:
        """Handle a header row (new, replacing, or repeated); False when the row is no header."""
        if not self.tables:
            if self.is_header(cells):
                self._new_table(line, cells)
                return True
            return False
        table = self.tables[-1]
        known = self._is_known_header(cells)
        if table.rows and (known or (line.header_mark and self.is_header(cells))):
            self._skip(line, "repeated_header", cells)
            return True
        if not self.is_header(cells):
            return False
        # Right under a header, or among the rows: a row with a measure's data in it is a
        # measure even when its words are header words ("โครงการ...", "ระยะเวลา ๑๒ เดือน").
        strict = bool(table.rows) or (table.own_header and not known)
        if strict and not line.header_mark and self.holds_data(cells):
            return False
        if table.rows:  # a header worded differently among the rows: it reads the rows below it
            self._skip(line, "new_header", cells)
        self._new_table(line, cells)
        return True

    def _table_row(self, line: Line, cells: list[str], table: ReportTable) -> None:
        own = ["" if i in line.carried else c for i, c in enumerate(cells)]
        title_col, number_col = self._cols(table)
        if line.kind == ROW:
            # A spreadsheet or Word row is a new measure when its own title cell (or number)
            # has text; a title merged down from the row above makes it the same measure.
            key_cols = [c for c in (title_col, number_col) if c is not None] or [0]
            starts = any(c < len(own) and own[c] for c in key_cols)
        else:  # the text export: a wrapped cell continues on a line whose first cell is empty
            starts = bool(own[0])
        if starts:
            first = own[title_col] if title_col is not None and title_col < len(own) and own[title_col] else own[0]
            if is_total_row(first or ""):
                self._skip(line, "total", cells)
                return
            if line.kind == ROW and number_col is not None and number_col < len(own):
                table = self._group_above(own[number_col], table, title_col, number_col)
            row = ReportRow(line=line.row or 0, cells=cells, place=line.place, kind=line.kind)
            table.rows.append(row)
            self._last_row = (line, row)
            self.gap = False
            return
        if not table.rows:
            table.subheader_rows.append(ReportRow(line=line.row or 0, cells=cells, place=line.place, kind=line.kind))
            if any(own):
                self.known_headers.append([_key(c) for c in cells])
            return
        if line.kind == ROW and self.gap and any(own):
            self._skip(line, "after_table", cells)
            return
        prev = table.rows[-1].cells
        prev.extend([""] * (len(own) - len(prev)))
        join = join_rows if line.kind == ROW else join_continuation
        for i, more in enumerate(own):
            prev[i] = join(prev[i], more)

    def _group_above(self, number: str, table: ReportTable, title_col: Optional[int],
                     number_col: int) -> ReportTable:
        """A row numbered "1.1" under a row that has only a title (and "1", "1." or no number):
        that row heads a group of measures, a section not merged across, as plans lay out
        "มาตรการด้าน..." above its activities. It becomes the section; the table to add to is returned."""
        sub = _SUB_NUMBER_RE.match(number)
        if not sub or not table.rows or self._last_row is None or self._last_row[1] is not table.rows[-1]:
            return table
        line, prev = self._last_row
        filled = {i for i, c in enumerate(prev.cells) if c}
        if title_col is None or title_col not in filled or not filled <= {title_col, number_col}:
            return table
        own_number = prev.cells[number_col] if number_col < len(prev.cells) else ""
        group = _GROUP_NUMBER_RE.match(own_number)
        if own_number and (not group or thai.to_arabic_digits(group.group(1)) != thai.to_arabic_digits(sub.group(1))):
            return table
        table.rows.pop()
        self._last_row = None
        title = " ".join(prev.cells[title_col].split())
        self._start_section((int(thai.to_arabic_digits(sub.group(1))), title), line, prev.cells)
        return self.tables[-1]

    def _single(self, line: Line, raw: str, cell: str) -> None:
        text = _strip_line(raw if line.kind == TEXT else cell)
        if not text:
            return
        if _is_activity_heading(text):
            self.in_activities = True
            self.started = True
            return
        if self.in_activities:
            heading = _section_heading(text)
            if heading:
                self.activity_titles.append(heading[1])
                self.new_paragraph = True
            else:
                self._paragraph(text)
            return
        if self.started and (is_signature([cell], names_start=line.kind != TEXT) or (
                self.in_signature and not (_section_heading(text) or _word_section_heading(text)))):
            self.in_signature = True  # (a numbered heading ends the block: the next part of the plan)
            self._skip(line, "signature", [cell])
            return
        self.in_signature = False
        if self.foreign and line.kind == ROW:
            self._skip(line, "other_table", [cell])
            return
        heading = _section_heading(text)
        if heading:
            self.started = True
            self._start_section(heading, line)
            return
        if not self.started:
            self.preamble.append(raw)
            return
        if is_title_text(text, known=self.preamble):
            self.preamble.append(raw)  # fills what the lines above left unknown, never overrides
            self._skip(line, "title", [cell])
            return
        if _NOTE_RE.match(text):
            self._skip(line, "note", [cell])
            return
        heading = _word_section_heading(text)
        if heading or line.spans_all:
            self._start_section(heading or (None, " ".join(text.split())), line)
            return
        if line.kind == ROW and self.tables:
            self._single_row(line, cell, self.tables[-1])
            return
        self._skip(line, "note" if _NOTE_RE.match(text) else "outside_table", [cell])

    def _single_row(self, line: Line, cell: str, table: ReportTable) -> None:
        """A table row with text in its first cell only (a sheet or Word row, not merged across)."""
        title_col, number_col = self._cols(table)
        if _NOTE_RE.match(cell):
            self._skip(line, "note", [cell])
        elif number_col == 0 and title_col != 0:  # text where only numbers go: a section row
            self._start_section((None, " ".join(cell.split())), line)
        elif title_col in (0, None) and self.gap:
            self._skip(line, "after_table", [cell])
        else:  # a measure whose other cells are still empty, or a continuation
            self._table_row(line, [cell], table)

    def _start_section(self, heading: tuple[Optional[int], str], line: Line,
                       cells: Optional[list[str]] = None) -> None:
        """A section heading: the table it starts (or the one just opened, still without rows)
        takes it; a heading among a table's rows opens a new part under the same header."""
        number, title = heading
        if number is None:
            number = (self.section[0] or 0) + 1
        self.section = (number, title)
        self.started = True
        self.gap = False
        if not self.tables:
            return
        last = self.tables[-1]
        source = SkippedRow(row=None if line.kind == PARAGRAPH else line.row, place=line.place, code="empty_section",
                            text=_excerpt(cells or [title]), table=line.table, sheet=line.sheet)
        if last.rows:
            self.tables.append(ReportTable(header=last.header, header_line=last.header_line,
                                           header_place=last.header_place, header_in_table=last.header_in_table,
                                           section_number=number,
                                           section_title=title, own_header=False, section_source=source))
        else:
            last.section_number, last.section_title, last.section_source = number, title, source

    def finish(self) -> None:
        """A section heading no measure row followed (text under the last table that read as
        one, a heading left without rows) is reported rather than lost."""
        for table in self.tables:
            if not table.rows and table.section_source is not None:
                self.skipped.append(table.section_source)

    @staticmethod
    def _heading_in_number_table(cells: list[str], table: ReportTable) -> Optional[tuple[int, str]]:
        """"๑. ด้าน..." alone in the second column of a table whose first column is a short
        numbering column ("ลำดับ", "ที่"): a section row, not a continuation."""
        filled = [i for i, c in enumerate(cells) if c]
        if filled != [1] or not table.header or len(table.header[0]) > 10:
            return None
        return _section_heading(cells[1])

    def _paragraph(self, text: str) -> None:
        text = _strip_line(text)
        if not text:
            return
        if self.paragraphs and not self.new_paragraph and find_date(text) is None:
            self.paragraphs[-1] += "\n" + text
        else:
            self.paragraphs.append(text)
        self.new_paragraph = False

    def activities(self, *, fiscal_year: Optional[int]) -> list[ReportActivity]:
        """Pair activity titles with the dated paragraphs below them, in order."""
        out = []
        count = max(len(self.activity_titles), len(self.paragraphs))
        for i in range(count):
            title = self.activity_titles[i] if i < len(self.activity_titles) else ""
            text = self.paragraphs[i] if i < len(self.paragraphs) else ""
            date = find_date(text, default_year_be=fiscal_year) or find_date(title, default_year_be=fiscal_year)
            if not title:
                title = text.split("\n")[0][:80]
            out.append(ReportActivity(date=date, title=title, text=text))
        return out


def parse_lines(
    lines: Iterable,
    *,
    is_header: Optional[Callable[[list[str]], bool]] = None,
    holds_data: Optional[Callable[[list[str]], bool]] = None,
    columns: Optional[Callable[[list[str]], tuple[Optional[int], Optional[int]]]] = None,
    fiscal_year: Optional[int] = None,
) -> ReportText:
    """Parse the lines of a file (:class:`Line`, or ``(line number, raw cells)`` of the text
    export); ``is_header`` tells a table's header row (default: the measures vocabulary),
    ``holds_data`` a header-looking row that is really a measure, ``columns`` the title and
    numbering columns of a header; ``fiscal_year`` dates yearless activities."""
    parser = LineParser(is_header or looks_like_header, holds_data=holds_data, columns=columns)
    for item in lines:
        parser.feed(_as_line(item))
    parser.finish()
    info = parse_title_lines(parser.preamble)
    return ReportText(
        info=info,
        tables=parser.tables,
        activities=parser.activities(fiscal_year=fiscal_year or info.fiscal_year),
        warnings=parser.warnings,
        skipped=parser.skipped,
    )


def parse_report_text(
    text: str, *, is_header: Optional[Callable[[list[str]], bool]] = None
) -> ReportText:
    """Parse the whole tab-separated export."""
    lines = ((i + 1, cells) for i, cells in enumerate(split_lines(text)))
    return parse_lines(lines, is_header=is_header)
