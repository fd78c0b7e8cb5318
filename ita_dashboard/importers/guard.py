"""The one gate every uploaded file passes before any reader touches it.

Readers trust what a file says about itself: calamine allocates the whole rectangle from A1 to
the farthest cell of a sheet (a 2 KB xlsx with one cell at XFD1048576 asks for 512 GiB and the
process aborts), inflates a zip member for as long as its deflate stream runs, and python-docx
loads every part of a Word file into memory. So before parsing, :func:`check_upload` looks at
the bytes with bounded work and bounded memory and refuses, with one Thai line
(:class:`~ita_dashboard.importers.problems.FileProblem`), anything no real export looks like:

Zip containers (xlsx, ods, docx; backups with looser limits, :data:`BACKUP`):
- the number of members, read from the end-of-central-directory record before the central
  directory itself is parsed;
- each member's declared inflated size, the total, and the compression ratio of every member
  larger than :attr:`Limits.ratio_floor` (real exports measured 26-32x; bombs 200-1000x);
- members are then inflated as a stream, from their raw bytes, chunk by chunk, and stopped as
  soon as they give more than they declared: a zip whose declared sizes lie is refused without
  ever holding more than one chunk;
- compression methods other than stored/deflate, and encrypted members, are refused.

Sheets, while that stream passes (no reader has allocated anything yet):
- xlsx: the declared ``<dimension ref>`` and the real extent (the farthest cell that holds a
  value, cells without ``r`` placed as calamine places them);
- ods: the real extent of the cells holding something, counting ``number-rows-repeated`` /
  ``number-columns-repeated`` (LibreOffice writes 16,363 repeated empty columns and 1,048,489
  repeated empty rows after every table: empty repeats do not count, filled ones do); elements
  are matched by the qualified names LibreOffice writes and calamine reads (``table:table-row``);
- xls (BIFF8): each sheet's DIMENSIONS record and every cell record's row/column, read from the
  OLE2 Workbook stream.
A sheet may be at most :data:`MAX_COLUMNS` wide and :func:`max_rows` tall, its rectangle at most
:data:`MAX_GRID_CELLS`, all sheets together too, and a large rectangle must be at least
1/:data:`MAX_SPARSENESS` filled (one value far away from the rest is how the bombs are made).

Images (activity photos, images inside a docx): the pixel count from the header, before any
decoding, at most :data:`MAX_IMAGE_PIXELS`.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import Callable, Iterator, Optional, Union

from ..texts import t
from .problems import FileProblem

MiB = 1024 * 1024

# Sheet limits. A survey export has one column per question (the largest real IIT/EIT forms
# have under 200 with every grid row); 2,000 leaves ten times that. Excel's own 16,384 columns
# is exactly what the bombs use.
MAX_COLUMNS = 2000
# The shortest real survey row (a timestamp, a department, a few short answers) is over 64 bytes
# even as CSV, so a file within the upload limit cannot hold more rows than limit / 64
# (50 MB -> 819,200 rows).
MIN_ROW_BYTES = 64
# The rectangle calamine allocates (about 32 bytes a cell, more once in Python): 30 million
# cells is 200,000 rows of 150 columns; ZZ200000 is 140 million.
MAX_GRID_CELLS = 30_000_000
# A rectangle above SPARSE_FLOOR cells must have at least one value per MAX_SPARSENESS cells.
SPARSE_FLOOR = 1_000_000
MAX_SPARSENESS = 64
# 50 megapixels: every phone camera up to 50 MP (8160 x 6120); decoded RGB is 150 MB.
MAX_IMAGE_PIXELS = 50_000_000

CHUNK = 256 * 1024
Source = Union[bytes, bytearray, memoryview, "zipfile.ZipFile"]


@dataclass(frozen=True)
class Limits:
    max_members: int
    max_member_bytes: Optional[int]  # declared inflated size of one member
    max_total_bytes: Optional[int]  # declared inflated size of all members
    max_ratio: float  # inflated / compressed, for members above ratio_floor
    ratio_floor: int = 1 * MiB


# xlsx / ods / docx uploads: a 200,000-row survey sheet is about 500 MB of XML.
OFFICE = Limits(max_members=1000, max_member_bytes=1024 * MiB, max_total_bytes=1024 * MiB, max_ratio=150.0)
# Backups (ita_dashboard/backup.py) are read as streams row by row, so no total cap; JSON lines of
# similar rows compress well, but not 200x.
BACKUP = Limits(max_members=1000, max_member_bytes=None, max_total_bytes=None, max_ratio=200.0)


def max_rows() -> int:
    """The tallest sheet a file within the upload limit (ITA_MAX_UPLOAD_MB) can honestly hold."""
    from ..config import get_settings

    return max(10_000, get_settings().max_upload_mb * MiB // MIN_ROW_BYTES)


def column_letters(index: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA (1-based)."""
    letters = ""
    while index > 0:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _mb(n: int) -> str:
    return f"{n / MiB:,.0f} MB" if n >= MiB else t("size_bytes", n=f"{n:,}")


# ---------------------------------------------------------------------------------------------
# Entry point


def check_upload(data: bytes) -> None:
    """Refuse (FileProblem, one Thai line) a file whose reading would exhaust memory or time.

    Zip containers, OLE2 (.xls) and images are checked; text (CSV) costs memory in proportion to
    its size, which the upload limit already bounds.
    """
    data = bytes(data) if not isinstance(data, bytes) else data
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        check_office_zip(data)
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        check_xls(data)
    elif image_kind(data):
        check_image(data)


# ---------------------------------------------------------------------------------------------
# Zip containers


def _eocd_entries(data: bytes) -> Optional[int]:
    """Number of entries the end-of-central-directory record declares (zip64 aware); None if absent."""
    tail_start = max(0, len(data) - (65535 + 22))
    pos = data.rfind(b"PK\x05\x06", tail_start)
    if pos < 0 or pos + 22 > len(data):
        return None
    entries = struct.unpack_from("<H", data, pos + 10)[0]
    if entries == 0xFFFF and pos >= 20 and data[pos - 20:pos - 16] == b"PK\x06\x07":
        z64_offset = struct.unpack_from("<Q", data, pos - 20 + 8)[0]
        if z64_offset + 56 <= len(data) and data[z64_offset:z64_offset + 4] == b"PK\x06\x06":
            entries = struct.unpack_from("<Q", data, z64_offset + 32)[0]
    return entries


def check_zip(source: Source, limits: Limits = OFFICE, *, error: Callable[[str], Exception] = FileProblem) -> None:
    """Declared sizes only (no inflating): member count, each size, the total, the ratios.

    ``source`` is the file's bytes or an open ZipFile; ``error`` builds the exception to raise
    from the Thai message (backup.py raises its own BackupError).
    """
    if isinstance(source, zipfile.ZipFile):
        infos = source.infolist()
    else:
        data = bytes(source)
        entries = _eocd_entries(data)
        if entries is not None and entries > limits.max_members:
            raise _refuse(error, "guard_zip_members", count=f"{entries:,}", limit=f"{limits.max_members:,}")
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                infos = zf.infolist()
        except Exception as exc:  # BadZipFile, and odd headers raise ValueError/NotImplementedError/...
            raise FileProblem(code="guard_zip_broken") from exc
    if len(infos) > limits.max_members:
        raise _refuse(error, "guard_zip_members", count=f"{len(infos):,}", limit=f"{limits.max_members:,}")
    total = 0
    for info in infos:
        size = info.file_size
        total += size
        if limits.max_member_bytes is not None and size > limits.max_member_bytes:
            raise _refuse(error, "guard_member_bomb", member=info.filename[:80], size=_mb(size),
                         limit=_mb(limits.max_member_bytes))
        if size >= limits.ratio_floor and size > limits.max_ratio * max(info.compress_size, 1):
            ratio = size / max(info.compress_size, 1)
            raise _refuse(error, "guard_member_ratio", member=info.filename[:80], ratio=f"{ratio:,.0f}",
                         packed=_mb(info.compress_size), size=_mb(size))
    if limits.max_total_bytes is not None and total > limits.max_total_bytes:
        raise _refuse(error, "guard_total_bomb", size=_mb(total), limit=_mb(limits.max_total_bytes))


def _refuse(error: Callable[[str], Exception], code: str, **params: str) -> Exception:
    """The refusal ``code``: a FileProblem, or ``error`` built from its (Thai) message."""
    problem = FileProblem(code=code, **params)
    return problem if error is FileProblem else error(str(problem))


def _raw_member(data: bytes, info: zipfile.ZipInfo) -> memoryview:
    """The member's compressed bytes (from its local header), without inflating anything."""
    off = info.header_offset
    if off + 30 > len(data) or data[off:off + 4] != b"PK\x03\x04":
        raise FileProblem(code="guard_member_incomplete", member=info.filename[:80])
    name_len, extra_len = struct.unpack_from("<HH", data, off + 26)
    start = off + 30 + name_len + extra_len
    end = start + info.compress_size
    if end > len(data):
        raise FileProblem(code="guard_member_truncated", member=info.filename[:80])
    return memoryview(data)[start:end]


def stream_member(data: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """Inflate one member chunk by chunk, refusing as soon as it gives more than it declared.

    Reads the raw deflate stream itself (as calamine's zip reader does), so a member whose
    central directory understates its size is caught here and not in the reader.
    """
    if info.flag_bits & 0x1:
        raise FileProblem(code="guard_encrypted")
    raw = _raw_member(data, info)
    declared = info.file_size
    lie = {"code": "guard_member_lies", "member": info.filename[:80], "size": _mb(declared)}
    if info.compress_type == zipfile.ZIP_STORED:
        if len(raw) != declared:
            raise FileProblem(**lie)
        for i in range(0, len(raw), CHUNK):
            yield bytes(raw[i:i + CHUNK])
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise FileProblem(code="guard_member_method", member=info.filename[:80], method=info.compress_type)
    d = zlib.decompressobj(-15)
    produced = 0
    try:
        for i in range(0, len(raw), CHUNK):
            chunk = raw[i:i + CHUNK]
            while chunk:
                out = d.decompress(chunk, CHUNK)
                produced += len(out)
                if produced > declared:
                    raise FileProblem(**lie)
                if out:
                    yield out
                chunk = d.unconsumed_tail
                if d.eof:
                    break
            if d.eof:
                break
        out = d.flush()
        produced += len(out)
        if produced > declared:
            raise FileProblem(**lie)
        if out:
            yield out
    except zlib.error as exc:
        raise FileProblem(code="guard_member_unreadable", member=info.filename[:80]) from exc
    if produced != declared:
        raise FileProblem(code="guard_member_size_mismatch", member=info.filename[:80])


def read_member(data: bytes, info: zipfile.ZipInfo, cap: int) -> bytes:
    """A whole (small) member, through :func:`stream_member`, refused above ``cap`` bytes."""
    if info.file_size > cap:
        raise FileProblem(code="guard_member_too_large", member=info.filename[:80], size=_mb(info.file_size))
    return b"".join(stream_member(data, info))


def check_office_zip(data: bytes, limits: Limits = OFFICE) -> None:
    """xlsx / ods / docx: declared sizes, then every member streamed (sheets scanned, images measured)."""
    check_zip(data, limits)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
    names = {i.filename: i for i in infos}
    if "META-INF/manifest.xml" in names and _odf_encrypted(data, names["META-INF/manifest.xml"]):
        raise FileProblem(code="guard_encrypted")
    sheets = _xlsx_sheet_members(data, names) if "xl/workbook.xml" in names else {}
    # content.xml is scanned whenever it is there: calamine reads a zip whose xlsx parts fail to
    # open as ODS, so an xlsx-looking file must not hide an ODS bomb
    is_ods = "content.xml" in names
    grids: list[_Grid] = []
    for info in infos:
        if info.is_dir():
            continue
        stream = stream_member(data, info)
        if info.filename in sheets:  # the scan's own stream checks the sizes
            grids.append(_scan_xlsx_sheet(lambda info=info: stream_member(data, info), sheets[info.filename]))
        elif is_ods and info.filename == "content.xml":
            grids.extend(_scan_ods_content(stream))
        elif info.filename.startswith(("word/media/", "xl/media/", "Pictures/")) and _image_kind_name(info.filename):
            head = bytearray()
            for chunk in stream:  # the header is in the first MB; the rest is inflated and dropped
                if len(head) < MiB:
                    head += chunk
            check_image(bytes(head), where=t("guard_part_image_in_file", name=info.filename[:80]))
        else:
            for _ in stream:  # inflated and dropped: only its size is checked
                pass
    check_grids(grids)


def _odf_encrypted(data: bytes, manifest: zipfile.ZipInfo) -> bool:
    """An ODF file saved with a password: its manifest lists ``<manifest:encryption-data>`` for the
    parts it encrypted (content.xml among them), which no reader can open without the password."""
    needle, tail = b"encryption-data", b""
    for chunk in stream_member(data, manifest):
        buf = tail + chunk
        if needle in buf:
            return True
        tail = buf[-len(needle):]
    return False


# ---------------------------------------------------------------------------------------------
# Sheet extents


@dataclass
class _Grid:
    sheet: str
    rows: int = 0  # 1-based index of the farthest row holding a value
    cols: int = 0  # ... and column
    present: int = 0  # value cells actually written in the file (repeats not multiplied)
    far_cell: str = ""  # for the message
    declared_rows: int = 0
    declared_cols: int = 0


def check_grids(grids: list[_Grid]) -> None:
    row_limit = max_rows()
    total = 0
    for g in grids:
        sheet = g.sheet[:60]
        if g.declared_cols > MAX_COLUMNS or g.declared_rows > row_limit:
            raise FileProblem(
                code="guard_sheet_declared", sheet=sheet, rows=f"{g.declared_rows:,}", cols=f"{g.declared_cols:,}",
                cell=f"{column_letters(g.declared_cols)}{g.declared_rows}", max_rows=f"{row_limit:,}",
                max_cols=f"{MAX_COLUMNS:,}")
        if g.cols > MAX_COLUMNS or g.rows > row_limit:
            raise FileProblem(
                code="guard_sheet_far", sheet=sheet, cell=g.far_cell, rows=f"{g.rows:,}", cols=f"{g.cols:,}",
                max_rows=f"{row_limit:,}", max_cols=f"{MAX_COLUMNS:,}")
        area = g.rows * g.cols
        if area > MAX_GRID_CELLS:
            raise FileProblem(
                code="guard_sheet_cells", sheet=sheet, cell=g.far_cell, area=f"{area:,}", limit=f"{MAX_GRID_CELLS:,}")
        if area > SPARSE_FLOOR and g.present * MAX_SPARSENESS < area:
            raise FileProblem(
                code="guard_sheet_sparse", sheet=sheet, present=f"{g.present:,}", cell=g.far_cell, area=f"{area:,}")
        total += area
    if total > MAX_GRID_CELLS:
        raise FileProblem(code="guard_cells_total", total=f"{total:,}", limit=f"{MAX_GRID_CELLS:,}")


_REF_RE = re.compile(r"^\$?([A-Za-z]{1,4})\$?(\d{1,8})$")


def _ref(text: str) -> tuple[int, int]:
    """"XFD1048576" -> (1048576, 16384); (0, 0) when it is not a cell reference."""
    m = _REF_RE.match(text.strip())
    if not m:
        return 0, 0
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def _xlsx_sheet_members(data: bytes, names: dict[str, zipfile.ZipInfo]) -> dict[str, str]:
    """Members holding worksheets -> the sheet's name: what workbook.xml.rels points to (as
    calamine finds them), plus anything under xl/worksheets/."""
    import html

    found = {n: n.rsplit("/", 1)[-1].removesuffix(".xml") for n in names
             if n.startswith("xl/worksheets/") and n.endswith(".xml")}
    rels = names.get("xl/_rels/workbook.xml.rels")
    if rels is None:
        return found
    by_id: dict[str, str] = {}
    text = read_member(data, rels, 4 * MiB).decode("utf-8", "replace")
    for tag in re.findall(r"<(?:\w+:)?Relationship\b[^>]*>", text):
        target = re.search(r"\bTarget\s*=\s*[\"']([^\"']+)", tag)
        kind = re.search(r"\bType\s*=\s*[\"']([^\"']+)", tag)
        rid = re.search(r"\bId\s*=\s*[\"']([^\"']+)", tag)
        if target and kind and kind.group(1).endswith("/worksheet"):
            t = target.group(1)
            member = t.lstrip("/") if t.startswith("/") else "xl/" + t.removeprefix("./")
            found.setdefault(member, member.rsplit("/", 1)[-1].removesuffix(".xml"))
            if rid:
                by_id[rid.group(1)] = member
    workbook = names.get("xl/workbook.xml")
    if workbook is not None and by_id:
        text = read_member(data, workbook, 16 * MiB).decode("utf-8", "replace")
        for tag in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", text):
            name = re.search(r"\bname\s*=\s*[\"']([^\"']*)", tag)
            rid = re.search(r"\b\w+:id\s*=\s*[\"']([^\"']+)", tag)
            if name and rid and rid.group(1) in by_id:
                found[by_id[rid.group(1)]] = html.unescape(name.group(1))
    return found


# An xlsx sheet's tokens: <dimension ref=...>, <row ...>, and <c ...> (self-closing cells hold
# no value; calamine skips them, and so does this scan).
_XLSX_TOKEN = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(dimension|row|c)\b([^>]*)>")
_R_ATTR = re.compile(rb"""\br\s*=\s*["']([^"']*)["']""")
_REF_ATTR = re.compile(rb"""\bref\s*=\s*["']([^"']*)["']""")


def _chunks_by_tag(stream: Iterator[bytes]) -> Iterator[bytes]:
    """Re-cut a byte stream so that no tag is split between two pieces."""
    carry = b""
    for chunk in stream:
        buf = carry + chunk if carry else chunk
        cut = buf.rfind(b"<")
        if cut >= 0 and buf.find(b">", cut) < 0:
            if len(buf) - cut > CHUNK:  # one "tag" longer than a chunk: not XML we read
                raise FileProblem(code="guard_xml_broken")
            carry, buf = buf[cut:], buf[:cut]
        else:
            carry = b""
        if buf:
            yield buf
    if carry:
        yield carry


_FAST_CELL = re.compile(rb'<c r="([A-Z]{1,4})(\d{1,8})"')
_FAST_ROW = re.compile(rb'<row r="(\d{1,8})"')
_BARE_CELL = re.compile(rb"<c[/>]")
# Every spelling of a cell or row tag XML allows (any whitespace after the name, a closing tag with
# spaces), counted to catch what the fast patterns above do not see, e.g. ``<c\tr="XFD1048576">``.
_ANY_CELL_OPEN = re.compile(rb"<c[\s/>]")
_ANY_CELL_CLOSE = re.compile(rb"</c\s*>")
_ANY_ROW_OPEN = re.compile(rb"<row[\s/>]")
_PREFIXED = re.compile(rb":(?:c|row)[\s>/]")
_DIMENSION = re.compile(rb"""<(?:[A-Za-z_][\w.-]*:)?dimension\b[^>]*?\bref\s*=\s*["']([^"']*)["']""")


def _declared(buf: bytes) -> tuple[int, int]:
    """The first ``<dimension ref>`` of this piece that names a cell (rows, columns); (0, 0) if none
    does (a garbage one does not hide a real one after it)."""
    for m in _DIMENSION.finditer(buf):
        rows, cols = _ref(m.group(1).decode("ascii", "replace").split(":")[-1])
        if rows:
            return rows, cols
    return 0, 0


def _scan_xlsx_sheet(stream_factory: Callable[[], Iterator[bytes]], sheet: str) -> _Grid:
    """The sheet's declared dimension and real extent.

    Fast path for cells written as Excel, LibreOffice, Google Sheets and openpyxl write them
    (``<c r="A1"``, ``<row r="1"``): the farthest cell reference and row. Any other spelling (a
    namespace prefix, a cell without ``r`` or with ``r`` not first, odd whitespace), detected by
    comparing counts, sends the whole sheet to the exact tokenizer, which places cells as calamine
    does. Rows are counted from ``<row r>`` too (conservative). The counts are those of the
    expressions above (``_FAST_CELL``, ``_ANY_CELL_OPEN``, ...), taken at numpy speed
    (:func:`_piece_counts`): a 100,000-row sheet is 450 MB of XML.
    """
    g = _Grid(sheet=sheet)
    far_row = far_col = 0
    found_total = opened_total = closed_total = 0
    exact = False
    # closing(): an early stop ends the counting threads before the exact scan starts
    with contextlib.closing(_counted(_joined(_chunks_by_tag(stream_factory())))) as pieces:
        for buf, (found, opened, closed, odd, cell_row, cell_col) in pieces:
            if not g.declared_rows and b"dimension" in buf:
                g.declared_rows, g.declared_cols = _declared(buf)
            found_total += found
            opened_total += opened
            closed_total += closed
            if opened_total != found_total or closed_total > found_total or odd:
                exact = True
                break
            far_row = max(far_row, cell_row)
            far_col = max(far_col, cell_col)
    if exact:
        return _scan_xlsx_sheet_exact(stream_factory(), sheet)
    g.present = closed_total
    if g.present:
        g.rows = far_row
        g.cols = far_col
        g.far_cell = f"{column_letters(g.cols)}{g.rows}"
    return g


SCAN_PIECE = 1 * MiB  # the fast scan's unit: numpy's fixed cost per call stays small beside it
SCAN_THREADS = 2  # numpy releases the GIL while it works: pieces are counted on two cores
SCAN_AHEAD = 4  # pieces inflated ahead of the one being counted (memory: a few MB)


def _joined(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """Consecutive pieces joined up to ``SCAN_PIECE`` (each piece ends between two tags, so does
    the join)."""
    parts: list[bytes] = []
    size = 0
    for piece in pieces:
        parts.append(piece)
        size += len(piece)
        if size >= SCAN_PIECE:
            yield b"".join(parts) if len(parts) > 1 else parts[0]
            parts, size = [], 0
    if parts:
        yield b"".join(parts)


def _counted(pieces: Iterator[bytes]) -> Iterator[tuple[bytes, tuple[int, int, int, bool, int, int]]]:
    """Each piece with its :func:`_piece_counts`, in order. From the second piece on they are
    counted by ``SCAN_THREADS`` threads while the next ones are inflated (zlib and numpy release
    the GIL), at most ``SCAN_AHEAD`` pieces ahead; a one-piece sheet is counted here."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    first = next(pieces, None)
    if first is None:
        return
    second = next(pieces, None)
    if second is None:
        yield first, _piece_counts(first)
        return
    with ThreadPoolExecutor(SCAN_THREADS, thread_name_prefix="guard-scan") as pool:
        pending: deque = deque()
        try:
            for buf in itertools.chain((first, second), pieces):
                pending.append((buf, pool.submit(_piece_counts, buf)))
                if len(pending) > SCAN_AHEAD:
                    buf, counts = pending.popleft()
                    yield buf, counts.result()
            while pending:
                buf, counts = pending.popleft()
                yield buf, counts.result()
        finally:  # stopped early (an odd piece, a refusal): what is queued is not counted
            for _, counts in pending:
                counts.cancel()


_TAG_END: Optional[object] = None  # numpy: the bytes that may follow a tag's name (\s, '/', '>')


def _ref_numbers(padded, starts, letters: bool):
    """At each start, ``[A-Z]{1,4}\\d{1,8}"`` (``letters``) or ``\\d{1,8}"``, as a regular expression
    matches it there: (matched, the row number, the column number) per start, for all starts at
    once (a reference is at most 13 bytes)."""
    import numpy as np

    k = len(starts)
    place = np.arange(13, dtype=np.uint8)
    win = padded[starts[:, None] + place]
    if letters:
        up = (win[:, :5] - 65) <= 25  # [A-Z] (uint8: below 'A' wraps around)
        n_letters = np.argmin(up, axis=1).astype(np.uint8)  # the first non-letter; 0: all five are
    else:
        n_letters = np.zeros(k, dtype=np.uint8)
    digit = win - 48
    before = place < n_letters[:, None]
    end = np.argmin((digit <= 9) | before, axis=1).astype(np.uint8)  # the first non-digit after them
    n_digits = end - n_letters  # uint8: wraps above 8 when end is 0
    ok = (win[np.arange(k), end] == 34) & (n_digits >= 1) & (n_digits <= 8)
    if letters:
        ok &= n_letters >= 1
    # Digits weighed as if they ended at the last place, then scaled back (exact in float64: < 1e13).
    digits = digit * ~(before | (place >= end[:, None]))
    row = (digits @ 10.0 ** (12 - np.arange(13))) / 10.0 ** (13 - end.astype(np.intp))
    col = None
    if letters:
        letter = (win[:, :5] - 64) * before[:, :5]
        col = (letter @ 26.0 ** (4 - np.arange(5))) / 26.0 ** (5 - n_letters.astype(np.intp))
    return ok, row, col


def _piece_counts(buf: bytes) -> tuple[int, int, int, bool, int, int]:
    """One piece of a sheet's XML as the fast path counts it: (``_FAST_CELL`` matches,
    ``_ANY_CELL_OPEN`` matches, ``_ANY_CELL_CLOSE`` matches, whether the piece needs the exact
    tokenizer (``_BARE_CELL`` or ``_PREFIXED`` found, ``_ANY_ROW_OPEN`` and ``_FAST_ROW`` counts
    differ), the farthest row of the cells and ``<row r>`` tags, the farthest column of the cells).
    The same counts as the expressions', byte by byte (tests/test_guard_scan.py compares them)."""
    import numpy as np

    global _TAG_END
    if _TAG_END is None:
        table = np.zeros(256, dtype=bool)
        table[list(b" \t\n\r\f\v/>")] = True
        _TAG_END = table
    tag_end = _TAG_END
    n = len(buf)
    padded = np.zeros(n + 24, dtype=np.uint8)  # reads past the end see no letter, digit or quote
    padded[:n] = np.frombuffer(buf, dtype=np.uint8)
    lt = np.flatnonzero(padded[:n] == 60)  # every tag starts with '<'
    b1 = padded[lt + 1]
    cells = lt[b1 == 99]  # "<c"
    after = padded[cells + 2]
    opened = int(tag_end[after].sum())
    bare = bool(((after == 47) | (after == 62)).any())
    slash = lt[b1 == 47]
    closes = slash[padded[slash + 2] == 99]  # "</c"
    after = padded[closes + 3]
    if (tag_end[after] & (after != 62) & (after != 47)).any():  # "</c" + whitespace: \s* then '>'?
        closed = len(_ANY_CELL_CLOSE.findall(buf))
    else:
        closed = int((after == 62).sum())
    rows = lt[b1 == 114]
    rows = rows[(padded[rows + 2] == 111) & (padded[rows + 3] == 119)]  # "<row"
    any_rows = int(tag_end[padded[rows + 4]].sum())
    prefixed = False
    colons = np.flatnonzero(padded[:n] == 58)
    if len(colons):
        c1, c2, c3, c4 = padded[colons + 1], padded[colons + 2], padded[colons + 3], padded[colons + 4]
        prefixed = bool(((c1 == 99) & tag_end[c2]).any() or ((c1 == 114) & (c2 == 111) & (c3 == 119) & tag_end[c4]).any())
    refs = cells[padded[cells + 2] == 32]
    refs = refs[(padded[refs + 3] == 114) & (padded[refs + 4] == 61) & (padded[refs + 5] == 34)] + 6  # '<c r="'
    ok, cell_rows, cell_cols = _ref_numbers(padded, refs, True)
    refs = rows[(padded[rows + 4] == 32) & (padded[rows + 5] == 114) & (padded[rows + 6] == 61)
                & (padded[rows + 7] == 34)] + 8  # '<row r="'
    row_ok, row_numbers, _ = _ref_numbers(padded, refs, False)
    found = int(ok.sum())
    fast_rows = int(row_ok.sum())
    far_row = max(round(cell_rows[ok].max()) if found else 0, round(row_numbers[row_ok].max()) if fast_rows else 0)
    far_col = round(cell_cols[ok].max()) if found else 0
    return found, opened, closed, bare or prefixed or any_rows != fast_rows, far_row, far_col


def _scan_xlsx_sheet_exact(stream: Iterator[bytes], sheet: str) -> _Grid:
    g = _Grid(sheet=sheet)
    row = 0
    col = 0
    for buf in _chunks_by_tag(stream):
        for m in _XLSX_TOKEN.finditer(buf):
            tag, attrs = m.group(1), m.group(2)
            closed = attrs.endswith(b"/")
            if tag == b"c":
                r = _R_ATTR.search(attrs)
                if r:
                    rr, cc = _ref(r.group(1).decode("ascii", "replace"))
                    if rr:
                        row, col = rr, cc
                    else:
                        col += 1
                else:
                    col += 1
                if closed:
                    continue
                g.present += 1
                if row > g.rows:
                    g.rows = row
                if col > g.cols:
                    g.cols = col
            elif tag == b"row":
                r = _R_ATTR.search(attrs)
                row = int(r.group(1)) if r and r.group(1).isdigit() and len(r.group(1)) < 10 else row + 1
                col = 0
            else:  # dimension
                ref = _REF_ATTR.search(attrs)
                if ref:
                    last = ref.group(1).decode("ascii", "replace").split(":")[-1]
                    g.declared_rows, g.declared_cols = _ref(last)
    g.far_cell = f"{column_letters(g.cols)}{g.rows}" if g.present else "A1"
    return g


# content.xml's tokens, with LibreOffice's (and calamine's) qualified names.
_ODS_TOKEN = re.compile(
    rb"<table:(table-row|table-cell|covered-table-cell|table)(?=[\s/>])([^>]*)>|</table:(table-row|table)>")
_ODS_REPEAT = re.compile(rb"""number-(?:rows|columns)-repeated\s*=\s*["'](\d{1,9})["']""")
_ODS_NAME = re.compile(rb"""table:name\s*=\s*["']([^"']*)["']""")


def _ods_repeat(attrs: bytes) -> int:
    if b"repeated" not in attrs:
        return 1
    m = _ODS_REPEAT.search(attrs)
    return max(1, int(m.group(1))) if m else 1


def _scan_ods_content(stream: Iterator[bytes]) -> list[_Grid]:
    """Each table's extent in content.xml: repeated rows/columns count only when they hold
    something (a value type, or content: a cell that is not self-closing)."""
    import html

    grids: list[_Grid] = []
    table: Optional[_Grid] = None
    depth = 0  # tables inside cells are not sheets
    row_index = row_reps = col = row_cols = row_present = 0
    for buf in _chunks_by_tag(stream):
        for name, attrs, end in _ODS_TOKEN.findall(buf):
            closing = bool(end)  # </table:table-row> or </table:table>; closing cells are not matched
            if closing:
                name = end
            selfclose = attrs[-1:] == b"/"
            if name == b"table-cell" or name == b"covered-table-cell":
                if depth != 1:
                    continue
                reps = _ods_repeat(attrs) if b"repeated" in attrs else 1
                if not selfclose or b"value-type" in attrs:
                    row_cols = col + reps
                    row_present += 1
                col += reps
            elif name == b"table-row":
                if depth != 1 or table is None:
                    continue
                if not closing:
                    row_reps = _ods_repeat(attrs)
                    col = row_cols = row_present = 0
                    if not selfclose:
                        continue
                if row_present:
                    table.rows = row_index + row_reps
                    table.present += row_present
                    table.cols = max(table.cols, row_cols)
                    table.far_cell = f"{column_letters(max(table.cols, 1))}{table.rows}"
                row_index += row_reps
                row_present = 0
            else:  # table
                if closing:
                    depth = max(0, depth - 1)
                elif not selfclose:
                    depth += 1
                    if depth == 1:
                        m = _ODS_NAME.search(attrs)
                        name_text = html.unescape(m.group(1).decode("utf-8", "replace")) if m else ""
                        table = _Grid(sheet=name_text or t("guard_table_n", n=len(grids) + 1))
                        grids.append(table)
                        row_index = 0
    return grids


# ---------------------------------------------------------------------------------------------
# .xls (BIFF8 inside an OLE2 compound file)


def _ole_stream(data: bytes, names: tuple[str, ...]) -> Optional[bytes]:
    """The named stream of an OLE2 compound file (regular sectors; the Workbook stream is never
    in the mini stream, being over 4 KB), or None. Bounded: every chain is capped by the file size."""
    if len(data) < 512:
        raise FileProblem(code="guard_xls_broken")
    sector_shift = struct.unpack_from("<H", data, 30)[0]
    if sector_shift not in (9, 12):
        raise FileProblem(code="guard_xls_sector_size")
    size = 1 << sector_shift
    n_sectors = (len(data) - 512) // size + 1
    num_fat, first_dir, first_difat, num_difat = (struct.unpack_from("<I", data, 44)[0],
                                                  struct.unpack_from("<I", data, 48)[0],
                                                  struct.unpack_from("<I", data, 68)[0],
                                                  struct.unpack_from("<I", data, 72)[0])
    if num_fat > n_sectors or num_difat > n_sectors:
        raise FileProblem(code="guard_xls_fat")

    def sector(i: int) -> bytes:
        off = 512 + i * size
        if i >= n_sectors or off + size > len(data) + size:
            raise FileProblem(code="guard_xls_sector_beyond")
        return data[off:off + size]

    fat_sectors = list(struct.unpack_from("<109I", data, 76))
    d, seen = first_difat, 0
    while d < 0xFFFFFFFA and seen <= num_difat:
        s = sector(d)
        vals = struct.unpack("<%dI" % (size // 4), s)
        fat_sectors.extend(vals[:-1])
        d = vals[-1]
        seen += 1
    fat: list[int] = []
    for fs in fat_sectors[:num_fat]:
        if fs >= 0xFFFFFFFA:
            continue
        fat.extend(struct.unpack("<%dI" % (size // 4), sector(fs)))

    def chain(start: int) -> Iterator[int]:
        i, steps = start, 0
        while i < 0xFFFFFFFA:
            if i >= len(fat) or steps > n_sectors:
                raise FileProblem(code="guard_xls_chain")
            yield i
            i = fat[i]
            steps += 1

    directory = b"".join(sector(i) for i in chain(first_dir))
    cutoff = struct.unpack_from("<I", data, 56)[0]
    root_start = struct.unpack_from("<I", directory, 116)[0] if len(directory) >= 128 else 0xFFFFFFFE
    for off in range(0, len(directory) - 127, 128):
        name_len = struct.unpack_from("<H", directory, off + 64)[0]
        name = directory[off:off + max(0, min(name_len, 64) - 2)].decode("utf-16-le", "replace")
        if directory[off + 66] == 2 and name in names:
            start = struct.unpack_from("<I", directory, off + 116)[0]
            length = struct.unpack_from("<I", directory, off + 120)[0]
            if length >= cutoff:
                return b"".join(sector(i) for i in chain(start))[:length]
            # A small workbook lives in the mini stream (64-byte sectors inside the root's chain).
            mini_size = 1 << struct.unpack_from("<H", data, 32)[0]
            mini_stream = b"".join(sector(i) for i in chain(root_start))
            minifat_bytes = b"".join(sector(i) for i in chain(struct.unpack_from("<I", data, 60)[0]))
            minifat = struct.unpack("<%dI" % (len(minifat_bytes) // 4), minifat_bytes)
            out, i, steps = [], start, 0
            while i < 0xFFFFFFFA:
                if i >= len(minifat) or steps > len(minifat):
                    raise FileProblem(code="guard_xls_chain")
                out.append(mini_stream[i * mini_size:(i + 1) * mini_size])
                i, steps = minifat[i], steps + 1
            return b"".join(out)[:length]
    return None


def ole_has_stream(data: bytes, name: str) -> bool:
    """Whether an OLE2 compound file holds a stream of that name (``WordDocument``: Word 97-2003)."""
    return _ole_stream(data, (name,)) is not None


# BIFF cell records (row u16, column u16 at the start of the body); MULRK/MULBLANK end with the last column.
_BIFF_CELLS = {0x0006, 0x00FD, 0x0203, 0x027E, 0x0204, 0x0205, 0x00D6, 0x0201}
_BIFF_MULTI = {0x00BD, 0x00BE}


def check_xls(data: bytes) -> None:
    """Each sheet's DIMENSIONS record and its cells' real extent, from the Workbook stream."""
    stream = _ole_stream(data, ("Workbook", "Book"))
    if stream is None:
        # Excel's (and Word's) "Encrypt with Password" keeps the whole zip in this stream
        if ole_has_stream(data, "EncryptedPackage"):
            raise FileProblem(code="guard_encrypted")
        return
    grids: list[_Grid] = []
    sheet_names: list[str] = []
    n_sheet = 0
    g: Optional[_Grid] = None
    pos, n = 0, len(stream)
    while pos + 4 <= n:
        rtype, length = struct.unpack_from("<HH", stream, pos)
        body = stream[pos + 4:pos + 4 + length]
        pos += 4 + length
        if rtype == 0x002F:  # FILEPASS: saved with a password, every record body after it is encrypted
            raise FileProblem(code="guard_encrypted")
        if rtype == 0x0085 and len(body) >= 8:  # BOUNDSHEET: the sheets' names, in order
            cch, flags = body[6], body[7]
            raw = body[8:8 + (cch * 2 if flags & 1 else cch)]
            sheet_names.append(raw.decode("utf-16-le" if flags & 1 else "latin-1", "replace"))
        if rtype == 0x0809:  # BOF: the workbook globals, a worksheet, a chart... starts
            kind = struct.unpack_from("<H", body, 2)[0] if len(body) >= 4 else 0
            g = None
            if kind == 0x0010:
                n_sheet += 1
                name = sheet_names[n_sheet - 1] if n_sheet <= len(sheet_names) else t("guard_sheet_n", n=n_sheet)
                g = _Grid(sheet=name)
                grids.append(g)
        elif g is None:
            continue
        elif rtype == 0x0200 and len(body) >= 10:  # DIMENSIONS: last row + 1, last column + 1
            if len(body) >= 14:  # BIFF8: rwMic u32, rwMac u32, colMic u16, colMac u16
                g.declared_rows, g.declared_cols = struct.unpack_from("<I", body, 4)[0], struct.unpack_from("<H", body, 10)[0]
            else:  # BIFF5: u16 rows
                g.declared_rows, g.declared_cols = struct.unpack_from("<H", body, 2)[0], struct.unpack_from("<H", body, 6)[0]
        elif (rtype in _BIFF_CELLS or rtype in _BIFF_MULTI) and len(body) >= 4:
            row, col = struct.unpack_from("<HH", body, 0)
            if rtype in _BIFF_MULTI and len(body) >= 6:
                col = struct.unpack_from("<H", body, len(body) - 2)[0]
                if rtype == 0x00BE:
                    continue  # MULBLANK: formatted empty cells, which readers skip
            elif rtype == 0x0201:
                continue  # BLANK
            g.present += 1
            if row + 1 > g.rows:
                g.rows = row + 1
            if col + 1 > g.cols:
                g.cols = col + 1
            g.far_cell = f"{column_letters(g.cols)}{g.rows}"
    grids = [x for x in grids if x.present or x.declared_rows]
    check_grids(grids)


# ---------------------------------------------------------------------------------------------
# Images


def image_kind(data: bytes) -> Optional[str]:
    """PNG, JPEG, WEBP, GIF, BMP or TIFF from the first bytes; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:2] == b"BM":
        return "BMP"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    return None


def _image_kind_name(name: str) -> bool:
    return name.lower().rsplit(".", 1)[-1] in ("png", "jpg", "jpeg", "jpe", "webp", "gif", "bmp", "tif", "tiff")


def check_image(data: bytes, *, where: Optional[str] = None) -> tuple[int, int]:
    """(width, height) from the header, refused above MAX_IMAGE_PIXELS before any decoding.

    ``where`` names the image in the message ("this image" by default)."""
    if where is None:
        where = t("guard_part_this_image")
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with Streamlit
        return 0, 0
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:  # reads the header only
                width, height = img.size
    except Image.DecompressionBombError as exc:
        raise FileProblem(code="guard_image_bomb", where=where, limit=MAX_IMAGE_PIXELS // 1_000_000) from exc
    except Exception:
        return 0, 0  # not an image Pillow knows: the caller's own check decides
    if width * height > MAX_IMAGE_PIXELS:
        raise FileProblem(code="guard_image_pixels", where=where, width=f"{width:,}", height=f"{height:,}",
                          limit=MAX_IMAGE_PIXELS // 1_000_000)
    return width, height
