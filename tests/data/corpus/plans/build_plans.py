"""Write the plan files of this folder the way Word, Excel and Excel's CSV export write them.

Run from the repository root: ``.venv/bin/python tests/data/corpus/plans/build_plans.py``.
The files are committed; this script is how they were made, with what the real program writes
and how we know (Word's own files unzipped, ECMA-376 Part 1 §17.4 for tables, Excel's "Save as
CSV"). Each file's expected result is the ``NAME.expected.json`` beside it, written by hand.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
FONT = "TH SarabunPSK"


# ---------------------------------------------------------------- Word (.docx)
#
# A plan typed in Word 2016/365 (Thai locale), as agencies make "แผนปฏิบัติการตามมาตรการส่งเสริม
# คุณธรรมและความโปร่งใส". python-docx makes the package (styles, settings, content types) and
# the table XML is written by hand below, element by element as Word writes it:
#
# * every run carries the Thai font in the complex-script slot and ``<w:cs/>`` (Word marks Thai
#   text as complex script), and Word splits text into several runs at editing-session (rsid)
#   boundaries: some texts below are split in two runs on purpose;
# * a vertical merge (Table > Merge Cells on cells of one column): the first cell has
#   ``<w:vMerge w:val="restart"/>``, each cell below it in the merge is a separate ``w:tc`` with
#   a bare ``<w:vMerge/>`` and one empty paragraph (Word moves all text into the first cell);
# * a horizontal merge: ONE ``w:tc`` with ``<w:gridSpan w:val="n"/>`` (no cells for the other
#   columns), its width the sum of the grid columns;
# * Table Properties > Row > "Repeat as header row at the top of each page": ``<w:tblHeader/>``
#   in ``w:trPr`` of the top rows. Word repeats those rows when it lays out pages; the file
#   holds them once. A header that is in the file twice is a real row someone typed or pasted
#   again (where the table crossed a page when they wrote it), or a PDF-to-Word conversion made.
#
# LibreOffice Writer (7.4, "Word 2007-365") writes the same table with ``w:val="true"`` on
# ``w:tblHeader``/``w:cantSplit``, explicit borders and the text in more runs:
# ``plan_libreoffice_merged.docx`` is the Word file opened and saved again by LibreOffice.


def run(text: str, *, bold: bool = False) -> str:
    b = "<w:b/><w:bCs/>" if bold else ""
    return (f'<w:r><w:rPr><w:rFonts w:ascii="{FONT}" w:hAnsi="{FONT}" w:cs="{FONT}"/>{b}'
            f'<w:sz w:val="32"/><w:szCs w:val="32"/><w:cs/><w:lang w:bidi="th-TH"/></w:rPr>'
            f'<w:t xml:space="preserve">{escape(text)}</w:t></w:r>')


def para(text: str = "", *, bold: bool = False, center: bool = False, split: int = 0) -> str:
    """One paragraph; ``split`` cuts the text into two runs at that character, as Word does."""
    ppr = '<w:pPr><w:jc w:val="center"/></w:pPr>' if center else ""
    runs = "" if not text else (run(text[:split], bold=bold) + run(text[split:], bold=bold) if split
                                else run(text, bold=bold))
    return f"<w:p>{ppr}{runs}</w:p>"


def tc(texts, width: int, *, span: int = 1, vmerge: str = "", bold: bool = False, center: bool = False,
       shade: bool = False, split: int = 0) -> str:
    """A cell: ``texts`` is one text or a list (one paragraph each, Word's Enter in a cell);
    ``vmerge`` "restart" or "continue" (written as a bare <w:vMerge/>, as Word does)."""
    props = f'<w:tcW w:w="{width}" w:type="dxa"/>'
    if span > 1:
        props += f'<w:gridSpan w:val="{span}"/>'
    if vmerge == "restart":
        props += '<w:vMerge w:val="restart"/>'
    elif vmerge == "continue":
        props += "<w:vMerge/>"
    if shade:
        props += '<w:shd w:val="clear" w:color="auto" w:fill="D9D9D9"/>'
    if vmerge == "continue":
        body = para()  # Word keeps one empty paragraph in a merged-away cell
    else:
        items = [texts] if isinstance(texts, str) else list(texts)
        body = "".join(para(t, bold=bold, center=center, split=split if i == 0 else 0)
                       for i, t in enumerate(items)) or para()
    return f"<w:tc><w:tcPr>{props}</w:tcPr>{body}</w:tc>"


def tr(*cells: str, header: bool = False, cant_split: bool = True) -> str:
    props = ("<w:cantSplit/>" if cant_split else "") + ("<w:tblHeader/>" if header else "")
    return f"<w:tr><w:trPr>{props}</w:trPr>{''.join(cells)}</w:tr>"


# grid: ที่ · มาตรการ · ขั้นตอน · ผู้รับผิดชอบ · ระยะเวลา · ผลผลิต · ผลลัพธ์ (twips; A4 landscape)
GRID = [600, 3000, 3200, 1800, 1900, 1700, 1700]
WIDTH = sum(GRID)
PLAN_TITLE = "มาตรการส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน ประจำปีงบประมาณ พ.ศ. ๒๕๖๘"
YEAR_ROUND = "ตุลาคม ๒๕๖๗ - กันยายน ๒๕๖๘"


def header_rows(*, mark: bool) -> list[str]:
    """The title row and the two header rows ("ผลการดำเนินการ" spanning output and outcome, the
    other headers merged down over both rows). ``mark``: Word's repeat-header-row flag."""
    g = GRID
    return [
        tr(tc(PLAN_TITLE, WIDTH, span=7, bold=True, center=True), header=mark),
        tr(tc("ที่", g[0], vmerge="restart", bold=True, center=True, shade=True),
           tc("มาตรการ/โครงการ/กิจกรรม", g[1], vmerge="restart", bold=True, center=True, shade=True, split=7),
           tc("ขั้นตอน/วิธีการปฏิบัติ", g[2], vmerge="restart", bold=True, center=True, shade=True),
           tc("ผู้รับผิดชอบ", g[3], vmerge="restart", bold=True, center=True, shade=True),
           tc("ระยะเวลาดำเนินการ", g[4], vmerge="restart", bold=True, center=True, shade=True),
           tc("ผลการดำเนินการ", g[5] + g[6], span=2, bold=True, center=True, shade=True), header=mark),
        tr(tc("", g[0], vmerge="continue", shade=True), tc("", g[1], vmerge="continue", shade=True),
           tc("", g[2], vmerge="continue", shade=True), tc("", g[3], vmerge="continue", shade=True),
           tc("", g[4], vmerge="continue", shade=True),
           tc("ผลผลิต (output)", g[5], bold=True, center=True, shade=True),
           tc("ผลลัพธ์ (outcome)", g[6], bold=True, center=True, shade=True), header=mark),
    ]


def measure_row(no, title, steps, owner, period, output, outcome, *, merge: dict | None = None) -> str:
    """``merge``: column index -> "restart"/"continue" for the cells of this row in a vertical merge."""
    merge = merge or {}
    values = [no, title, steps, owner, period, output, outcome]
    return tr(*(tc(v, GRID[i], vmerge=merge.get(i, ""), center=(i == 0)) for i, v in enumerate(values)))


def section_row(text: str) -> str:
    return tr(tc(text, WIDTH, span=7, bold=True, shade=True))


def word_plan() -> bytes:
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.oxml import parse_xml
    from docx.shared import Mm

    rows = [
        *header_rows(mark=True),
        # table row 4: a section row merged across every column, right under the header
        section_row("๑. การป้องกันผลประโยชน์ทับซ้อน"),
        # rows 5-6: one owner cell merged down over two measures: both are กองคลัง's
        measure_row("๑", "จัดทำคู่มือการป้องกันผลประโยชน์ทับซ้อน",
                    ["๑. รวบรวมกฎหมายที่เกี่ยวข้อง", "๒. จัดทำคู่มือและเผยแพร่"], "กองคลัง", YEAR_ROUND,
                    "มีคู่มือ ๑ ฉบับ", "บุคลากรเข้าใจแนวทาง", merge={3: "restart"}),
        measure_row("๒", "ประเมินความเสี่ยงการจัดซื้อจัดจ้าง", "ทำแบบประเมินความเสี่ยง", "", "มกราคม - มีนาคม ๒๕๖๘",
                    "รายงานผลการประเมิน", "ลดความเสี่ยงการทุจริต", merge={3: "continue"}),
        # rows 7-8: one measure over two rows: number, title, owner and period merged down,
        # one step and one output per row
        measure_row("๓", "ประกาศเจตนารมณ์ไม่รับของขวัญ (No Gift Policy)", "๑. ผู้บริหารลงนามประกาศ",
                    "สำนักปลัดเทศบาล", "ตุลาคม - ธันวาคม ๒๕๖๗", "มีประกาศ ๑ ฉบับ", "บุคลากรถือปฏิบัติ",
                    merge={0: "restart", 1: "restart", 3: "restart", 4: "restart", 6: "restart"}),
        measure_row("", "", "๒. เผยแพร่ประกาศทางเว็บไซต์", "", "", "เผยแพร่บนเว็บไซต์", "",
                    merge={0: "continue", 1: "continue", 3: "continue", 4: "continue", 6: "continue"}),
        # rows 9-11: the title and header rows typed again (real rows, not Word's repeat)
        *header_rows(mark=False),
        # row 12: a section row without a number
        section_row("การเปิดเผยข้อมูลและการมีส่วนร่วม"),
        measure_row("๔", "เปิดเผยข้อมูลการดำเนินงานบนเว็บไซต์", "ปรับปรุงข้อมูลทุกเดือน", "กองการศึกษา", YEAR_ROUND,
                    "ข้อมูลเป็นปัจจุบัน", "ประชาชนเข้าถึงข้อมูล"),
        measure_row("๕", "รับฟังความคิดเห็นของประชาชน", "จัดเวทีประชาคม", "กองช่าง", "มีนาคม ๒๕๖๘",
                    "จัดเวที ๑ ครั้ง", "ประชาชนมีส่วนร่วม", merge={3: "restart"}),
        measure_row("๖", "ช่องทางร้องเรียนการทุจริต", "เปิดช่องทางออนไลน์", "", YEAR_ROUND,
                    "มีช่องทาง ๓ ช่องทาง", "เรื่องร้องเรียนได้รับการแก้ไข", merge={3: "continue"}),
        # row 16: an empty row left from the template
        measure_row("", "", "", "", "", "", ""),
        # rows 17-19: the signature block typed inside the table's last rows, two signers side
        # by side, each cell merged across several columns (borders hidden in Word)
        tr(tc("ลงชื่อ ........................................ ผู้จัดทำ", sum(GRID[:3]), span=3, center=True),
           tc("ลงชื่อ ........................................ ผู้รับรอง", sum(GRID[3:]), span=4, center=True)),
        tr(tc("(นางสาวสมศรี มีสุข)", sum(GRID[:3]), span=3, center=True),
           tc("(นายสมชาย ใจดี)", sum(GRID[3:]), span=4, center=True)),
        tr(tc("นักวิเคราะห์นโยบายและแผนชำนาญการ", sum(GRID[:3]), span=3, center=True),
           tc("ปลัดเทศบาลตำบลคลังตัวอย่าง", sum(GRID[3:]), span=4, center=True)),
    ]
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in GRID)
    table = parse_xml(
        f'<w:tbl xmlns:w="{W_NS}"><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/>'
        f'<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" '
        f'w:noHBand="0" w:noVBand="1"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>{"".join(rows)}</w:tbl>'
    )
    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    body = document.element.body
    above = [para("เทศบาลตำบลคลังตัวอย่าง อำเภอเมืองเลย จังหวัดเลย", bold=True, center=True), para()]
    # under the table: a second signature block in paragraphs, as most plans end
    below = [para(), para("ลงชื่อ ............................................ ผู้อนุมัติ", center=True),
             para("(นายใหญ่ ประชารักษ์)", center=True), para("นายกเทศมนตรีตำบลคลังตัวอย่าง", center=True),
             para("วันที่ ........ เดือน ............................ พ.ศ. ............", center=True)]
    sect_pr = body[-1]  # w:sectPr stays last
    for xml in above:
        sect_pr.addprevious(parse_xml(xml.replace("<w:p>", f'<w:p xmlns:w="{W_NS}">', 1)))
    sect_pr.addprevious(table)
    for xml in below:
        sect_pr.addprevious(parse_xml(xml.replace("<w:p>", f'<w:p xmlns:w="{W_NS}">', 1)))
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- Excel (.xlsx)
#
# A plan laid out in Excel: title rows merged across the table (Home > Merge & Center), a
# section row merged across, an owner cell merged down over two measures, one measure whose
# number, title, owner and period are merged down over its two step rows, a note, and the
# signature block a few rows under the table in the right-hand columns. Excel writes a merged
# range as ``<mergeCell ref="D6:D7"/>`` with the value in the top-left cell only (the other
# cells are empty ``<c>`` elements with the style); openpyxl's merge_cells writes the same.


def excel_plan() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment

    wb = Workbook()
    ws = wb.active
    ws.title = "แผนปี 2568"
    rows = {
        1: ["แผนปฏิบัติการตามมาตรการส่งเสริมคุณธรรมและความโปร่งใส ประจำปีงบประมาณ พ.ศ. 2568"],
        2: ["เทศบาลตำบลคลังตัวอย่าง อำเภอเมืองเลย จังหวัดเลย"],
        4: ["ลำดับ", "มาตรการ/แนวทาง", "ขั้นตอน/วิธีการปฏิบัติ", "หน่วยงานผู้รับผิดชอบ", "ระยะเวลาดำเนินการ",
            "ผลการดำเนินการ", "ผลลัพธ์/ความสำเร็จ"],
        5: ["ด้านที่ 1 การป้องกันผลประโยชน์ทับซ้อน"],
        6: [1, "จัดทำคู่มือการปฏิบัติงาน", "จัดทำและเผยแพร่คู่มือ", "กองคลัง", "ตุลาคม 2567 - มีนาคม 2568",
            "มีคู่มือ", "ประชาชนทราบขั้นตอน"],
        7: [2, "ตรวจสอบการใช้รถราชการ", "จัดทำทะเบียนคุมการใช้รถ", None, "ตลอดปีงบประมาณ", "มีทะเบียนคุม",
            "ลดการใช้ทรัพย์สินผิดวัตถุประสงค์"],
        8: [3, "อบรมคุณธรรมจริยธรรมแก่บุคลากร", "1. จัดทำโครงการ", "กองช่าง", "มกราคม - มีนาคม 2568",
            "จัดอบรม 1 ครั้ง", "บุคลากรมีจิตสำนึก"],
        9: [None, None, "2. ประเมินผลการอบรม", None, None, "รายงานผล", None],
        10: ["ด้านที่ 2 การเปิดเผยข้อมูล"],
        11: [4, "เปิดเผยข้อมูลข่าวสารทางเว็บไซต์", "ปรับปรุงเว็บไซต์", "ทุกกอง", "ตุลาคม 2567 - กันยายน 2568",
             "เว็บไซต์เป็นปัจจุบัน", "ประชาชนเข้าถึงข้อมูล"],
        12: ["หมายเหตุ: ข้อมูล ณ วันที่ 1 ตุลาคม 2567"],
        15: [None, None, None, None, "ลงชื่อ ........................................ ผู้จัดทำ"],
        16: [None, None, None, None, "(นางสาวสมศรี มีสุข)"],
        17: [None, None, None, None, "ตำแหน่ง นักวิเคราะห์นโยบายและแผน"],
        19: [None, "ลงชื่อ ........................................ ผู้รับรอง"],
        20: [None, "(นายสมชาย ใจดี)"],
        21: [None, "ปลัดเทศบาลตำบลคลังตัวอย่าง"],
        22: [None, "วันที่ ....... เดือน ........................ พ.ศ. ..........."],
    }
    for r, values in rows.items():
        for c, v in enumerate(values, start=1):
            if v is not None:
                ws.cell(row=r, column=c, value=v).alignment = Alignment(wrap_text=True, vertical="top")
    for ref in ("A1:G1", "A2:G2", "A5:G5", "D6:D7", "A8:A9", "B8:B9", "D8:D9", "E8:E9", "G8:G9", "A10:G10",
                "E15:G15", "E16:G16", "E17:G17"):
        ws.merge_cells(ref)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- CSV as Excel saves it
#
# Excel's File > Save As > "CSV UTF-8 (Comma delimited)": a UTF-8 BOM, CRLF line ends, fields
# quoted only when they hold a comma, a quote or a line break (a cell with Alt+Enter lines),
# and every row padded with commas to the width of the used range (blank rows are ",,,,,").
# Row 6 is a real measure whose cells all start with header words (the way some agencies
# label every cell); row 9 is the header pasted again; the signature block sits under it.


def csv_plan() -> bytes:
    width = 6
    rows = [
        ["แผนการดำเนินงานตามมาตรการส่งเสริมคุณธรรมและความโปร่งใส ประจำปีงบประมาณ พ.ศ. 2568"],
        [],
        ["ที่", "มาตรการ/โครงการ/กิจกรรม", "ขั้นตอนหรือวิธีการปฏิบัติ", "ระยะเวลาดำเนินการ", "ผู้รับผิดชอบ",
         "ผลการดำเนินการ"],
        ["1", "จัดทำแผนป้องกันการทุจริต", "1. ประชุมคณะทำงาน\n2. จัดทำแผน", "ตุลาคม - ธันวาคม 2567",
         "สำนักปลัดเทศบาล", "มีแผน 1 ฉบับ"],
        ["2", "มาตรการเผยแพร่ข้อมูลจัดซื้อจัดจ้าง", "ประกาศบนเว็บไซต์", "ทุกเดือน", "กองคลัง",
         "เผยแพร่ครบทุกเดือน"],
        ["3", "โครงการ/กิจกรรม: ส่งเสริมการให้บริการด้วยความโปร่งใส", "ขั้นตอน: ประกาศขั้นตอนและระยะเวลาให้บริการ",
         "ระยะเวลา: ตลอดปีงบประมาณ", "ผู้รับผิดชอบ: ทุกกอง", "ผลการดำเนินการ: ติดประกาศทุกจุดบริการ"],
        ["4", "ประเมินความพึงพอใจผู้รับบริการ", "จัดทำแบบสอบถาม", "มิถุนายน 2568", "กองสวัสดิการสังคม",
         "รายงานผลการประเมิน"],
        [],
        ["ที่", "มาตรการ/โครงการ/กิจกรรม", "ขั้นตอนหรือวิธีการปฏิบัติ", "ระยะเวลาดำเนินการ", "ผู้รับผิดชอบ",
         "ผลการดำเนินการ"],
        ["5", "ตรวจสอบการใช้ทรัพย์สินของราชการ", "จัดทำทะเบียนคุม", "ตลอดปีงบประมาณ", "กองช่าง", "มีทะเบียน"],
        [],
        ["", "", "", "ลงชื่อ ................................ ผู้จัดทำ"],
        ["", "", "", "(นางสาวสมศรี มีสุข)"],
        ["", "", "", "ตำแหน่ง นักวิเคราะห์นโยบายและแผน"],
    ]
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, dialect="excel", lineterminator="\r\n")
    for row in rows:
        writer.writerow((row + [""] * width)[:width])
    return buf.getvalue().encode("utf-8-sig")


# ---------------------------------------------------------------- group rows above sub-numbered measures
#
# Many plans list each "มาตรการด้าน..." as a row of its own, not merged across, with the
# activities under it numbered 1.1, 1.2, 2.1: the group row has its number ("1." or "1") and its
# title, nothing else; a plan saved as CSV loses any merge, and some leave the number out and
# write the group's name in the title column only. Excel writes such a row as two cells
# (openpyxl's append does the same); its CSV pads the row with commas.


def group_rows_rows(*, numbered_groups: bool) -> list[list]:
    g1, g2 = ("1.", "2.") if numbered_groups else ("", "")
    return [
        ["แผนปฏิบัติการป้องกันการทุจริตและส่งเสริมคุณธรรม ประจำปีงบประมาณ พ.ศ. 2569"],
        ["ที่", "มาตรการ/กิจกรรม", "วิธีการดำเนินการ", "ผู้รับผิดชอบ", "ระยะเวลา", "งบประมาณ (บาท)"],
        [g1, "มาตรการด้านการเปิดเผยข้อมูล"],
        ["1.1", "เผยแพร่แผนการจัดซื้อจัดจ้างประจำปี", "ประกาศบนเว็บไซต์", "กองคลัง", "ต.ค. 2568", 0],
        ["1.2", "เผยแพร่รายงานผลการจัดซื้อจัดจ้างรายเดือน", "สรุปผล สขร.1 ทุกเดือน", "กองคลัง", "ต.ค. 2568 - ก.ย. 2569", 0],
        [g2, "มาตรการด้านการป้องกันผลประโยชน์ทับซ้อน"],
        ["2.1", "อบรมให้ความรู้เรื่องผลประโยชน์ทับซ้อน", "จัดอบรม", "สำนักปลัดเทศบาล", "ม.ค. 2569", 15000],
        ["2.2", "จัดทำคู่มือป้องกันผลประโยชน์ทับซ้อน", "จัดทำคู่มือ", "สำนักปลัดเทศบาล", "พ.ย. 2568", 3000],
        ["2.3", "ประเมินความเสี่ยงการทุจริต", "ประชุมคณะทำงาน", "ทุกส่วนราชการ", "ธ.ค. 2568", 0],
    ]


def group_rows_xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "แผน 2569"
    for row in group_rows_rows(numbered_groups=True):
        ws.append([None if c == "" else c for c in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def group_rows_csv() -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, dialect="excel", lineterminator="\r\n")
    for row in group_rows_rows(numbered_groups=False):
        writer.writerow((row + [""] * 6)[:6])
    return buf.getvalue().encode("utf-8-sig")


# ---------------------------------------------------------------- LibreOffice
#
# Thai government offices use LibreOffice: the Word plan opened and saved as .docx by Writer,
# and the Excel plan saved as .ods by Calc (LibreOffice writes a merged range as
# ``table:number-columns-spanned`` / ``number-rows-spanned`` on its first cell and
# ``table:covered-table-cell`` for the others). Needs ``soffice`` (Debian:
# libreoffice-writer-nogui, libreoffice-calc-nogui); skipped without it. The .ods goes to
# tests/data/plans/ (unit tests) until .ods reading is part of the importers' corpus.


def libreoffice(source: Path, target: Path, fmt: str) -> bool:
    import shutil
    import subprocess
    import tempfile

    soffice = shutil.which("soffice")
    if not soffice:
        print("soffice not found: skipped", target.name)
        return False
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--convert-to", fmt,
                        "--outdir", tmp, str(source)], check=True, capture_output=True, timeout=300)
        made = Path(tmp) / (source.stem + "." + fmt.split(":")[0])
        target.write_bytes(made.read_bytes())
    print("wrote", target)
    return True


def main() -> None:
    for name, build in (("plan_word_merged.docx", word_plan), ("plan_excel_merged.xlsx", excel_plan),
                        ("plan_excel_export.csv", csv_plan), ("plan_group_rows.xlsx", group_rows_xlsx),
                        ("plan_group_rows_unnumbered.csv", group_rows_csv)):
        (HERE / name).write_bytes(build())
        print("wrote", HERE / name)
    libreoffice(HERE / "plan_word_merged.docx", HERE / "plan_libreoffice_merged.docx", 'docx:MS Word 2007 XML')
    libreoffice(HERE / "plan_excel_merged.xlsx", HERE.parent.parent / "plans" / "plan_libreoffice_merged.ods", "ods")


if __name__ == "__main__":
    main()
