"""The tab-separated text export of a yearly measures report (the format of data/demo/*.txt).

These files are text taken out of PDFs: title lines at the top, numbered section headings,
tables as lines of tab-separated cells whose cells still carry ``<p>`` / ``<ul>`` markup, cells
that wrap onto a continuation line starting with a tab, and after the table a "กิจกรรม" block
listing activities with dated paragraphs. This module only understands that *layout*; which
column means what is decided by :mod:`.measures` (passed in as ``is_header``).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

from .. import thai

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
            title_done = True
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


# ---------------------------------------------------------------- the document

@dataclass
class ReportRow:
    line: int  # 1-based line of the file where the row starts
    cells: list[str]


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


_ACTIVITY_HEADINGS = ("กิจกรรม", "ภาพกิจกรรม", "กิจกรรมที่ดำเนินการ", "กิจกรรมการดำเนินการ")


def _is_activity_heading(text: str) -> bool:
    return _strip_line(text).rstrip(" :") in _ACTIVITY_HEADINGS


def _section_heading(text: str) -> Optional[tuple[int, str]]:
    number, rest = split_number(_strip_line(text))
    if number is None or len(rest) > 250:
        return None
    return number, rest


def _default_is_header(cells: list[str]) -> bool:
    from .measures import looks_like_header  # lazy: measures imports this module

    return looks_like_header(cells)


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
    is_header = is_header or _default_is_header
    return any(len(c) >= 3 and is_header([clean_cell(x) for x in c]) for c in split_lines(text))


class LineParser:
    """State machine over the lines: preamble → tables/sections → activities."""

    def __init__(self, is_header: Callable[[list[str]], bool]):
        self.is_header = is_header
        self.preamble: list[str] = []
        self.tables: list[ReportTable] = []
        self.section: tuple[Optional[int], Optional[str]] = (None, None)
        self.started = False
        self.in_activities = False
        self.activity_titles: list[str] = []
        self.paragraphs: list[str] = []
        self.new_paragraph = False  # a title was just read: its paragraph starts fresh
        self.warnings: list[str] = []

    def feed(self, line_no: int, raw_cells: list[str]) -> None:
        if len(raw_cells) == 1:
            self._single(line_no, raw_cells[0])
            return
        cells = [clean_cell(c) for c in raw_cells]
        if not any(cells):
            return
        if self.in_activities:
            self._paragraph(" ".join(c for c in cells if c))
            return
        if self.is_header(cells):
            self.started = True
            if self.tables and not self.tables[-1].rows and not self.tables[-1].subheader_rows:
                self.tables.pop()  # only opened by a section heading: this header replaces it
            self.tables.append(ReportTable(header=cells, header_line=line_no,
                                           section_number=self.section[0], section_title=self.section[1]))
            return
        if not self.tables:
            if not self.started:  # a title spread over several cells of a spreadsheet row
                self.preamble.append(" ".join(c for c in cells if c))
            else:
                self.warnings.append(f"บรรทัด {line_no}: แถวตารางก่อนหัวตาราง ไม่ได้นำเข้า")
            return
        table = self.tables[-1]
        heading = self._heading_in_number_table(cells, table)
        if heading:
            self._start_section(heading)
        elif not cells[0] and table.rows:
            prev = table.rows[-1].cells
            prev.extend([""] * (len(cells) - len(prev)))
            for i, more in enumerate(cells):
                prev[i] = join_continuation(prev[i], more)
        elif not cells[0]:
            table.subheader_rows.append(ReportRow(line=line_no, cells=cells))
        else:
            table.rows.append(ReportRow(line=line_no, cells=cells))

    def _single(self, line_no: int, raw: str) -> None:
        text = _strip_line(raw)
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
        heading = _section_heading(text)
        if heading:
            self.started = True
            self._start_section(heading)
            return
        if not self.started:
            self.preamble.append(raw)

    def _start_section(self, heading: tuple[int, str]) -> None:
        """A heading inside a table's rows opens a new part under the same header."""
        self.section = heading
        if self.tables and self.tables[-1].rows:
            last = self.tables[-1]
            self.tables.append(ReportTable(header=last.header, header_line=last.header_line,
                                           section_number=heading[0], section_title=heading[1]))
        elif self.tables:  # right under the header (one header for every section, as our xlsx)
            self.tables[-1].section_number, self.tables[-1].section_title = heading

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
    lines: Iterable[tuple[int, list[str]]],
    *,
    is_header: Optional[Callable[[list[str]], bool]] = None,
    fiscal_year: Optional[int] = None,
) -> ReportText:
    """Parse numbered lines of raw cells (from any format); ``is_header`` tells a table's
    header row (default: the measures vocabulary); ``fiscal_year`` dates yearless activities."""
    parser = LineParser(is_header or _default_is_header)
    for line_no, cells in lines:
        parser.feed(line_no, cells)
    info = parse_title_lines(parser.preamble)
    return ReportText(
        info=info,
        tables=parser.tables,
        activities=parser.activities(fiscal_year=fiscal_year or info.fiscal_year),
        warnings=parser.warnings,
    )


def parse_report_text(
    text: str, *, is_header: Optional[Callable[[list[str]], bool]] = None
) -> ReportText:
    """Parse the whole tab-separated export."""
    lines = ((i + 1, cells) for i, cells in enumerate(split_lines(text)))
    return parse_lines(lines, is_header=is_header)
