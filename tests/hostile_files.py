"""Hostile files for the upload guard, built in memory in a few seconds (never committed).

A bomb's inflated gigabyte is never held: the deflate stream of one repeated chunk is written
once with a full flush (which resets the compressor, so every further copy compresses to the
same bytes) and repeated; the zip around it is written by hand, which also lets a member lie
about its size.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Optional

MiB = 1024 * 1024


@dataclass
class Member:
    name: str
    raw: bytes  # the stored (method 0) or raw-deflated (method 8) bytes
    size: int  # the true inflated size
    crc: int
    method: int = 8
    declared_size: Optional[int] = None  # a lie in the headers, when set


def deflated(data: bytes, name: str) -> Member:
    co = zlib.compressobj(6, zlib.DEFLATED, -15)
    return Member(name, co.compress(data) + co.flush(), len(data), zlib.crc32(data))


def deflated_repeat(name: str, prefix: bytes, chunk: bytes, times: int, suffix: bytes = b"") -> Member:
    """``prefix + chunk * times + suffix`` deflated without ever building it."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = co.compress(prefix) + co.compress(chunk) + co.flush(zlib.Z_FULL_FLUSH)
    again = co.compress(chunk) + co.flush(zlib.Z_FULL_FLUSH)
    tail = co.compress(suffix) + co.flush()
    crc = zlib.crc32(prefix)
    for _ in range(times):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(suffix, crc)
    raw = head + again * (times - 1) + tail
    return Member(name, raw, len(prefix) + len(chunk) * times + len(suffix), crc)


def zip_bytes(members: list[Member]) -> bytes:
    """A zip written by hand (so sizes can lie); stored members for ``mimetype``-like entries."""
    out, central = bytearray(), bytearray()
    for m in members:
        size = m.declared_size if m.declared_size is not None else m.size
        name = m.name.encode("utf-8")
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, m.method, 0, 0x21, m.crc, len(m.raw), size,
                           len(name), 0) + name + m.raw
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x800, m.method, 0, 0x21, m.crc,
                               len(m.raw), size, len(name), 0, 0, 0, 0, 0, offset) + name
    cd_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), cd_offset, 0)
    return bytes(out)


def stored(name: str, data: bytes) -> Member:
    return Member(name, data, len(data), zlib.crc32(data), method=0)


# ---------------------------------------------------------------------------------------------
# xlsx

_CT = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       b'<Default Extension="xml" ContentType="application/xml"/>'
       b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
       b'</Types>')
_RELS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
         b'</Relationships>')
_WB = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
       b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
       b'<sheets><sheet name="Form Responses 1" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WB_RELS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            b'</Relationships>')
SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
HEADER_ROW = (b'<row r="1"><c r="A1" t="inlineStr"><is><t>Timestamp</t></is></c>'
              b'<c r="B1" t="inlineStr"><is><t>Department</t></is></c></row>'
              b'<row r="2"><c r="A2" t="inlineStr"><is><t>1/14/2025 18:29:56</t></is></c>'
              b'<c r="B2" t="inlineStr"><is><t>Finance</t></is></c></row>')


def xlsx_with_sheet(sheet: Member) -> bytes:
    return zip_bytes([deflated(_CT, "[Content_Types].xml"), deflated(_RELS, "_rels/.rels"),
                      deflated(_WB, "xl/workbook.xml"), deflated(_WB_RELS, "xl/_rels/workbook.xml.rels"), sheet])


def xlsx_far_cell(ref: str, *, dimension: bool = True) -> bytes:
    """Two rows of a survey and one value at ``ref`` (e.g. XFD1048576): about 1.5 KB."""
    row = "".join(ch for ch in ref if ch.isdigit())
    dim = f'<dimension ref="A1:{ref}"/>'.encode() if dimension else b""
    xml = (SHEET_HEAD + dim + b"<sheetData>" + HEADER_ROW
           + f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>x</t></is></c></row>'.encode()
           + b"</sheetData></worksheet>")
    return xlsx_with_sheet(deflated(xml, "xl/worksheets/sheet1.xml"))


def xlsx_deflate_bomb(inflated_mb: int = 1150) -> bytes:
    """A sheet whose XML inflates to ``inflated_mb`` MB (rows of the same cell, as the 4.4 MB file did)."""
    row = b'<row><c t="inlineStr"><is><t>' + b"A" * 1000 + b"</t></is></c></row>"
    chunk = row * (MiB // len(row))
    return xlsx_with_sheet(deflated_repeat("xl/worksheets/sheet1.xml", SHEET_HEAD + b"<sheetData>" + HEADER_ROW,
                                           chunk, inflated_mb, b"</sheetData></worksheet>"))


def xlsx_lying_sizes(inflated_mb: int = 600) -> bytes:
    """The sheet's headers declare 4 KB; its deflate stream gives ``inflated_mb`` MB."""
    row = b'<row><c t="inlineStr"><is><t>' + b"B" * 1000 + b"</t></is></c></row>"
    chunk = row * (MiB // len(row))
    m = deflated_repeat("xl/worksheets/sheet1.xml", SHEET_HEAD + b"<sheetData>" + HEADER_ROW, chunk, inflated_mb,
                        b"</sheetData></worksheet>")
    m.declared_size = 4096
    return xlsx_with_sheet(m)


# ---------------------------------------------------------------------------------------------
# ods

ODS_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            b'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
            b'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">'
            b'<office:body><office:spreadsheet><table:table table:name="Sheet1">'
            b'<table:table-column table:number-columns-repeated="16384"/>'
            b'<table:table-row><table:table-cell office:value-type="string"><text:p>Timestamp</text:p></table:table-cell>'
            b'<table:table-cell office:value-type="string"><text:p>Department</text:p></table:table-cell>'
            b'<table:table-cell table:number-columns-repeated="16382"/></table:table-row>')
ODS_TAIL = (b'<table:table-row table:number-rows-repeated="1048575"><table:table-cell table:number-columns-repeated="16384"/>'
            b'</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>')
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def ods_with_content(content: Member) -> bytes:
    manifest = (b'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                b'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
                b'<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                b'<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                b"</manifest:manifest>")
    return zip_bytes([stored("mimetype", ODS_MIMETYPE), content, deflated(manifest, "META-INF/manifest.xml")])


def ods_rows(rows_xml: bytes) -> bytes:
    return ods_with_content(deflated(ODS_HEAD + rows_xml + ODS_TAIL, "content.xml"))


def ods_deflate_bomb(inflated_mb: int = 1100) -> bytes:
    row = (b'<table:table-row><table:table-cell office:value-type="string"><text:p>' + b"C" * 1000
           + b"</text:p></table:table-cell></table:table-row>")
    chunk = row * (MiB // len(row))
    return ods_with_content(deflated_repeat("content.xml", ODS_HEAD, chunk, inflated_mb, ODS_TAIL))


# ---------------------------------------------------------------------------------------------
# docx and images


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` (one tiny IDAT: never decoded here)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


_DOCX_CT = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            b'<Default Extension="xml" ContentType="application/xml"/><Default Extension="png" ContentType="image/png"/>'
            b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            b'</Types>')
_DOCX_RELS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
              b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
              b'</Relationships>')
DOC_HEAD = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
DOC_TAIL = b"</w:body></w:document>"


def docx(document: Member, *extra: Member) -> bytes:
    return zip_bytes([deflated(_DOCX_CT, "[Content_Types].xml"), deflated(_DOCX_RELS, "_rels/.rels"), document, *extra])


def docx_document_bomb(inflated_mb: int = 1100) -> bytes:
    para = b"<w:p><w:r><w:t>" + b"D" * 1000 + b"</w:t></w:r></w:p>"
    return docx(deflated_repeat("word/document.xml", DOC_HEAD, para * (MiB // len(para)), inflated_mb, DOC_TAIL))


def docx_image_bomb() -> bytes:
    """A plain document with one picture whose header declares 100,000 x 100,000 pixels."""
    doc = DOC_HEAD + b"<w:p><w:r><w:t>plan</w:t></w:r></w:p>" + DOC_TAIL
    return docx(deflated(doc, "word/document.xml"), deflated(png_header(100_000, 100_000), "word/media/image1.png"))


def docx_image_deflate_bomb(inflated_mb: int = 1100) -> bytes:
    doc = DOC_HEAD + b"<w:p><w:r><w:t>plan</w:t></w:r></w:p>" + DOC_TAIL
    image = deflated_repeat("word/media/image1.png", png_header(1000, 1000), b"\x00" * MiB, inflated_mb)
    return docx(deflated(doc, "word/document.xml"), image)


def ods_workbook(sheets: dict[str, list[list]]) -> bytes:
    """An .ods as LibreOffice writes one: typed cells (string / float / date), identical
    neighbours merged with number-columns-repeated, empty cells self-closing, and the trailing
    16,384-column / 1,048,576-row empty repeats after each table."""
    import datetime as dt
    from xml.sax.saxutils import escape, quoteattr

    def cell(v) -> str:
        if v is None or v == "":
            return "<table:table-cell/>"
        if isinstance(v, dt.datetime):
            return (f'<table:table-cell office:value-type="date" office:date-value="{v.isoformat()}">'
                    f"<text:p>{v:%d/%m/%Y}</text:p></table:table-cell>")
        if isinstance(v, dt.date):
            return (f'<table:table-cell office:value-type="date" office:date-value="{v.isoformat()}">'
                    f"<text:p>{v:%d/%m/%Y}</text:p></table:table-cell>")
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return (f'<table:table-cell office:value-type="float" office:value="{v}">'
                    f"<text:p>{v}</text:p></table:table-cell>")
        paras = "".join(f"<text:p>{escape(line)}</text:p>" for line in str(v).split("\n"))
        return f'<table:table-cell office:value-type="string">{paras}</table:table-cell>'

    body = []
    for name, rows in sheets.items():
        body.append(f"<table:table table:name={quoteattr(name)}>"
                    '<table:table-column table:number-columns-repeated="16384"/>')
        for row in rows:
            cells, prev, count = [], None, 0
            for c in [*row, None]:
                x = cell(c) if c is not None else "<table:table-cell/>"
                if x == prev:
                    count += 1
                    continue
                if prev is not None:
                    cells.append(prev if count == 1 else prev.replace(
                        "<table:table-cell", f'<table:table-cell table:number-columns-repeated="{count}"', 1))
                prev, count = x, 1
            used = len(row)
            cells.append(f'<table:table-cell table:number-columns-repeated="{16384 - used}"/>')
            body.append("<table:table-row>" + "".join(cells) + "</table:table-row>")
        body.append(f'<table:table-row table:number-rows-repeated="{1048576 - len(rows)}">'
                    '<table:table-cell table:number-columns-repeated="16384"/></table:table-row></table:table>')
    head = ODS_HEAD[:ODS_HEAD.index(b"<table:table ")]
    content = head + "".join(body).encode("utf-8") + b"</office:spreadsheet></office:body></office:document-content>"
    return ods_with_content(deflated(content, "content.xml"))
