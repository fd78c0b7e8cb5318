"""The yearly measures report as a Word file an admin can sign and publish as it is.

A4 landscape, TH Sarabun New 16 pt (the Thai government's document font). Word picks the font
of Thai text from the *complex-script* slots, which python-docx does not fill, so every run and
the document defaults, Normal and table styles get ``w:rFonts`` ascii/hAnsi/eastAsia/cs,
``w:sz`` + ``w:szCs`` and, when bold, ``w:b`` + ``w:bCs``.

Fonts are not embedded. Where TH Sarabun New is missing: the font table names it with its
alternative names (Sarabun, Laksaman) and a Thai charset, so Word substitutes a Thai font of the
same build; LibreOffice/fontconfig map "TH Sarabun New" to Laksaman (Debian's
fonts-tlwg-laksaman, TLWG's build of the same design) when converting to PDF.

Layout (what ``import-measures`` reads back, seed 004's shape): title lines; per section a
"1. section" heading then a table under the six headers; a signature block; then, on a new
page, "กิจกรรม" with each activity's "n. title", its BE date and text, and its photo.
"""

from __future__ import annotations

import io
from typing import Optional

from .measures_table import ACTIVITIES_HEADING, COLUMN_WIDTHS_MM, HEADERS, Report, digits, sections

FONT = "TH Sarabun New"
FALLBACK_FONTS = ("Sarabun", "Laksaman")
SIZE_PT = 16
PHOTO_WIDTH_CM = 8.0
PHOTO_MAX_HEIGHT_CM = 10.0
_PHOTO_MAX_PIXELS = 1600  # longer side; keeps the file small without visible loss at 8 cm
_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _qn(tag: str) -> str:
    from docx.oxml.ns import qn

    return qn(tag)


def _el(tag: str, **attrs):
    from docx.oxml import OxmlElement

    el = OxmlElement(tag)
    for k, v in attrs.items():
        el.set(_qn(f"w:{k}"), str(v))
    return el


def set_run_fonts(rpr, *, bold: bool = False, size_pt: int = SIZE_PT) -> None:
    """Font name in all four slots, size for Latin and complex script, bold for both."""
    fonts = rpr.get_or_add_rFonts()
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(_qn(f"w:{attr}"), None)
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(_qn(f"w:{attr}"), FONT)
    if bold:
        rpr.get_or_add_b()
        rpr.get_or_add_bCs()
    sz = rpr.get_or_add_sz()
    sz.set(_qn("w:val"), str(size_pt * 2))
    sz_cs = rpr.find(_qn("w:szCs"))
    if sz_cs is None:
        sz_cs = _el("w:szCs")
        sz.addnext(sz_cs)
    sz_cs.set(_qn("w:val"), str(size_pt * 2))
    lang = rpr.find(_qn("w:lang"))
    if lang is None:
        lang = _el("w:lang")
        rpr.append(lang)
    lang.set(_qn("w:bidi"), "th-TH")


def _setup_styles(document) -> None:
    from docx.shared import Pt

    styles = document.styles.element
    defaults = styles.find(_qn("w:docDefaults"))
    set_run_fonts(defaults.find(_qn("w:rPrDefault")).find(_qn("w:rPr")))  # python-docx's CT_RPr
    for name in ("Normal", "Table Grid"):
        style = document.styles[name]
        set_run_fonts(style.element.get_or_add_rPr())
    normal = document.styles["Normal"].paragraph_format
    normal.space_before, normal.space_after, normal.line_spacing = Pt(0), Pt(0), 1.0


def _add_font_table_entry(document) -> None:
    """Describe TH Sarabun New in word/fontTable.xml (alternative names, Thai charset, sans
    family) so a Word without it substitutes a Thai font rather than a Latin one."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from lxml import etree

    try:
        part = document.part.part_related_by(RT.FONT_TABLE)
    except KeyError:
        return
    root = etree.fromstring(part.blob)
    font = etree.SubElement(root, f"{{{_W_NS}}}font", {f"{{{_W_NS}}}name": FONT})
    for tag, val in (("altName", ",".join(FALLBACK_FONTS)), ("panose1", "020B0500040200020003"),
                     ("charset", "DE"), ("family", "swiss"), ("pitch", "variable")):
        etree.SubElement(font, f"{{{_W_NS}}}{tag}", {f"{{{_W_NS}}}val": val})
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _page_setup(document) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin = section.bottom_margin = Mm(20)


def _add_run(paragraph, text: str, *, bold: bool = False):
    """A run whose newlines are Word line breaks; fonts set on the run itself."""
    run = paragraph.add_run()
    for i, part in enumerate(text.split("\n")):
        if i:
            run.add_break()
        if part:
            run.add_text(part)
    set_run_fonts(run._r.get_or_add_rPr(), bold=bold)
    return run


def _paragraph(container, text: str = "", *, bold: bool = False, align: Optional[str] = None):
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    p = container.add_paragraph()
    if text:
        _add_run(p, text, bold=bold)
    if align:
        p.alignment = getattr(WD_ALIGN_PARAGRAPH, align)
    return p


def _cell_lines(cell, text: str, *, bold: bool = False) -> None:
    """One paragraph per line (the importer joins a cell's paragraphs back with newlines)."""
    lines = text.split("\n") if text else [""]
    first = cell.paragraphs[0]
    for i, line in enumerate(lines):
        p = first if i == 0 else cell.add_paragraph()
        if line:
            _add_run(p, line, bold=bold)


def _shade(cell, fill: str = "D9D9D9") -> None:
    cell._tc.get_or_add_tcPr().append(_el("w:shd", val="clear", color="auto", fill=fill))


def _add_table(document, rows) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm

    table = document.add_table(rows=1, cols=len(HEADERS))
    table.style = document.styles["Table Grid"]
    table.autofit = False
    header = table.rows[0]
    header._tr.get_or_add_trPr().append(_el("w:tblHeader"))  # repeat on every page
    for cell, text in zip(header.cells, HEADERS):
        _cell_lines(cell, text, bold=True)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _shade(cell)
    for r in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, r.cells):
            _cell_lines(cell, text)
    for i, width in enumerate(COLUMN_WIDTHS_MM):
        table.columns[i].width = Mm(width)
        for cell in table.columns[i].cells:
            cell.width = Mm(width)


def _signature(document, *, thai_digits: bool) -> None:
    from docx.shared import Cm

    _paragraph(document)
    for line in ("ลงชื่อ ........................................................ ผู้รายงาน",
                 "(........................................................)",
                 "ตำแหน่ง ........................................................",
                 "วันที่ ........ เดือน .............................. พ.ศ. ..............."):
        p = _paragraph(document, digits(line, thai_digits=thai_digits), align="CENTER")
        p.paragraph_format.left_indent = Cm(13)


def _photo_stream(data: bytes) -> Optional[tuple[io.BytesIO, float]]:
    """(PNG/JPEG stream Word can show, height/width ratio); None for an unreadable image.
    WebP becomes PNG (Word cannot show it) and large photos are scaled down."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as img:
            img.load()
            ratio = img.height / img.width
            if img.format in ("PNG", "JPEG") and max(img.size) <= _PHOTO_MAX_PIXELS:
                return io.BytesIO(data), ratio
            img.thumbnail((_PHOTO_MAX_PIXELS, _PHOTO_MAX_PIXELS))
            out = io.BytesIO()
            if img.format == "JPEG" or (img.mode == "RGB" and img.format != "PNG"):
                img.convert("RGB").save(out, format="JPEG", quality=85)
            else:
                img.save(out, format="PNG")
            out.seek(0)
            return out, ratio
    except Exception:  # a broken photo must not cost the whole report
        return None


def _add_photo(document, data: bytes) -> None:
    from docx.shared import Cm

    found = _photo_stream(data)
    if found is None:
        return
    stream, ratio = found
    p = _paragraph(document, align="CENTER")
    run = p.add_run()
    try:
        if PHOTO_WIDTH_CM * ratio > PHOTO_MAX_HEIGHT_CM:
            run.add_picture(stream, height=Cm(PHOTO_MAX_HEIGHT_CM))
        else:
            run.add_picture(stream, width=Cm(PHOTO_WIDTH_CM))
    except Exception:  # python-docx refuses some image variants; skip the photo, keep the report
        p._p.getparent().remove(p._p)


def _activities(document, report: Report) -> None:
    document.add_page_break()
    _paragraph(document, ACTIVITIES_HEADING, bold=True)
    d = lambda s: digits(s, thai_digits=report.thai_digits)  # noqa: E731
    for i, a in enumerate(report.activities, start=1):
        _paragraph(document, d(f"{i}. ") + a.title, bold=True).paragraph_format.keep_with_next = True
        p = _paragraph(document)
        _add_run(p, f"วันที่ {a.date_text}", bold=True)
        if a.text:
            _add_run(p, "\n" + a.text)
        if a.measure:
            _add_run(p, "\nมาตรการที่เกี่ยวข้อง: " + a.measure)
        if a.photo:
            p.paragraph_format.keep_with_next = True
            _add_photo(document, a.photo)
        _paragraph(document)


def to_docx(report: Report) -> bytes:
    import docx  # python-docx

    document = docx.Document()
    _setup_styles(document)
    _add_font_table_entry(document)
    _page_setup(document)
    for line in report.title_lines:
        _paragraph(document, line, bold=True, align="CENTER")
    for section, rows in sections(report.rows):
        _paragraph(document)
        if section:
            _paragraph(document, section, bold=True).paragraph_format.keep_with_next = True
        _add_table(document, rows)
    _signature(document, thai_digits=report.thai_digits)
    if report.activities:
        _activities(document, report)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()
