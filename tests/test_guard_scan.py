"""The guard's xlsx sheet scan counts at numpy speed exactly what its regular expressions count.

``guard._scan_xlsx_sheet`` takes its counts (cells ``<c r="A1"``, any cell tag, closing tags, row
tags, prefixed or r-less cells) from the bytes after each '<' (``guard._piece_counts``); the
reference below is the same scan written with the expressions themselves, as it was before. Both
must give the same grid (or both send the sheet to the exact tokenizer) for every piece of XML:
real sheets, every odd spelling the fast path must notice, and random mixtures of them cut at
random places.
"""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path
from typing import Callable, Iterator

import pytest

import hostile_files as hf
from ita_dashboard.importers import guard

REPO = Path(__file__).resolve().parent.parent


def reference_scan(stream_factory: Callable[[], Iterator[bytes]], sheet: str) -> guard._Grid:
    """The fast scan written with the regular expressions (the guard's code before numpy)."""
    g = guard._Grid(sheet=sheet)
    cols: set[bytes] = set()
    rows: set[bytes] = set()
    found_total = opened_total = closed_total = 0
    for buf in guard._chunks_by_tag(stream_factory()):
        if not g.declared_rows and b"dimension" in buf:
            for m in guard._DIMENSION.finditer(buf):  # the first that names a cell
                g.declared_rows, g.declared_cols = guard._ref(m.group(1).decode("ascii", "replace").split(":")[-1])
                if g.declared_rows:
                    break
        found = guard._FAST_CELL.findall(buf)
        found_total += len(found)
        opened_total += len(guard._ANY_CELL_OPEN.findall(buf))
        closed_total += len(guard._ANY_CELL_CLOSE.findall(buf))
        fast_rows = guard._FAST_ROW.findall(buf)
        if (opened_total != found_total or closed_total > found_total or guard._BARE_CELL.search(buf)
                or guard._PREFIXED.search(buf) or len(guard._ANY_ROW_OPEN.findall(buf)) != len(fast_rows)):
            return guard._scan_xlsx_sheet_exact(stream_factory(), sheet)
        if found:
            letters, numbers = zip(*found)
            cols.update(letters)
            rows.update(numbers)
        rows.update(fast_rows)
    g.present = closed_total
    if g.present:
        g.rows = max(map(int, rows))
        g.cols = max(guard._ref(c.decode("ascii") + "1")[1] for c in cols)
        g.far_cell = f"{guard.column_letters(g.cols)}{g.rows}"
    return g


def reference_counts(buf: bytes) -> tuple:
    found = guard._FAST_CELL.findall(buf)
    fast_rows = guard._FAST_ROW.findall(buf)
    odd = bool(guard._BARE_CELL.search(buf) or guard._PREFIXED.search(buf)
               or len(guard._ANY_ROW_OPEN.findall(buf)) != len(fast_rows))
    numbers = [int(n) for _, n in found] + [int(n) for n in fast_rows]
    far_col = max((guard._ref(c.decode("ascii") + "1")[1] for c, _ in found), default=0)
    return (len(found), len(guard._ANY_CELL_OPEN.findall(buf)), len(guard._ANY_CELL_CLOSE.findall(buf)), odd,
            max(numbers, default=0), far_col)


def same_scan(pieces: list[bytes]) -> guard._Grid:
    """The scan as it runs (small pieces joined, one count) and with every piece counted on its own
    by the scan's threads, both the same as the reference."""
    expected = reference_scan(lambda: iter(pieces), "s")
    got = guard._scan_xlsx_sheet(lambda: iter(pieces), "s")
    assert got == expected
    joined, guard.SCAN_PIECE = guard.SCAN_PIECE, 1
    try:
        assert guard._scan_xlsx_sheet(lambda: iter(pieces), "s") == expected
    finally:
        guard.SCAN_PIECE = joined
    return got


def test_a_garbage_dimension_does_not_hide_a_real_one_after_it() -> None:
    xml = (b'<worksheet><dimension ref="x"/><dimension ref="A1:XFD1048576"/><sheetData><row r="1">'
           b'<c r="A1"><v>1</v></c></row></sheetData></worksheet>')
    g = same_scan([xml])
    assert (g.declared_rows, g.declared_cols) == (1048576, 16384)


def test_an_early_stop_ends_the_counting_threads(monkeypatch) -> None:
    """A piece that sends the sheet to the exact tokenizer stops the pool before that scan runs."""
    import threading

    monkeypatch.setattr(guard, "SCAN_PIECE", 1)
    rows = [b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (r, r) for r in range(1, 200)]
    pieces = rows[:3] + [b"<row><c><v>1</v></c></row>"] + rows[3:]
    exact = guard._scan_xlsx_sheet_exact
    alive: list[int] = []

    def counting_exact(stream, sheet):
        alive.append(sum(t.name.startswith("guard-scan") for t in threading.enumerate()))
        return exact(stream, sheet)

    monkeypatch.setattr(guard, "_scan_xlsx_sheet_exact", counting_exact)
    guard._scan_xlsx_sheet(lambda: iter(pieces), "s")
    assert alive == [0]


def test_pieces_are_counted_in_order_by_the_threads_and_an_odd_one_stops_them(monkeypatch) -> None:
    """Many pieces through the thread pool: the counts add up in order, and a piece that needs the
    exact tokenizer (a cell without ``r``) in the middle sends the whole sheet there."""
    monkeypatch.setattr(guard, "SCAN_PIECE", 1)
    rows = [b'<row r="%d"><c r="A%d"><v>1</v></c><c r="C%d"><v>2</v></c></row>' % (r, r, r) for r in range(1, 301)]
    got = guard._scan_xlsx_sheet(lambda: iter(rows), "s")
    assert (got.rows, got.cols, got.present) == (300, 3, 600)
    odd = rows[:150] + [b'<row r="151"><c><v>1</v></c><c><v>1</v></c><c><v>1</v></c><c><v>1</v></c></row>'] + rows[151:]
    got = guard._scan_xlsx_sheet(lambda: iter(odd), "s")
    assert got == reference_scan(lambda: iter(odd), "s") and (got.rows, got.cols) == (300, 4)


# Pieces of sheet XML: what real programs write, and every spelling the fast path must notice.
TOKENS = [
    b'<row r="1">', b'<row r="12" spans="1:3">', b"</row>", b'<row r="99999999">', b'<row r="123456789">',
    b'<row r="007">', b"<row>", b'<row\tr="5">', b"<row/>", b"<rowBreaks>", b'<row  r="3">', b'<row r=\'4\'>',
    b'<c r="A1" t="s">', b'<c r="B2">', b'<c r="AB12345678">', b'<c r="XFD1048576">', b'<c r="ABCD1">',
    b'<c r="ABCDE1">', b'<c r="A123456789">', b'<c r="a1">', b'<c r="$A$1">', b'<c r="A">', b'<c r="1">',
    b'<c r="A1', b'<c r="">', b"<c>", b"<c/>", b'<c\tr="C3">', b'<c\nr="C3">', b'<c s="1" r="D4">', b"<c t='s' r='E5'>",
    b"</c>", b"</c >", b"</c\n>", b"</cols>", b"<cols>", b'<col min="1"/>', b"<cfRule>", b"<color/>",
    b"<v>1</v>", b"<is><t>text</t></is>", b"<t>a:c b</t>", b"<x:c r=\"A1\">", b"<x:row r=\"1\">", b":c>", b":row/",
    b":rows", b"x:cc", b'<dimension ref="A1:C3"/>', b"<sheetData>", b"</sheetData>", b"&lt;c r=&quot;A1&quot;",
    b"<", b"c", b" ", b'"', b"r=", b"9", b"Z",
]


def test_every_spelling_counts_as_the_expressions_count() -> None:
    for token in TOKENS:
        for context in (token, b"x" + token + b"y", token * 3, b'<c r="A1"><v>1</v></c>' + token):
            assert guard._piece_counts(context) == reference_counts(context), context


def test_random_mixtures_cut_anywhere() -> None:
    rng = random.Random(14)
    for _ in range(400):
        parts = [rng.choice(TOKENS) for _ in range(rng.randrange(1, 60))]
        if rng.random() < 0.5:  # mostly well-formed cells, as real sheets are
            parts += [b'<row r="%d">' % r + b"".join(b'<c r="%s%d" t="s"><v>0</v></c>' % (c.encode(), r)
                                                       for c in rng.sample(["A", "B", "Z", "AA", "XFD"], 3)) + b"</row>"
                      for r in rng.sample(range(1, 2_000_000), 5)]
        rng.shuffle(parts)
        xml = b"".join(parts)
        assert guard._piece_counts(xml) == reference_counts(xml), xml
        cuts = sorted(rng.sample(range(1, len(xml)), min(3, len(xml) - 1))) if len(xml) > 1 else []
        pieces = [xml[a:b] for a, b in zip([0, *cuts], [*cuts, len(xml)])]
        same_scan(pieces)


def test_real_sheets_and_the_hostile_ones_scan_the_same() -> None:
    sheets = [hf.SHEET_HEAD + b"<sheetData>" + hf.HEADER_ROW + b"</sheetData></worksheet>"]
    for ref in ("XFD1048576", "A1048576", "ZZ200000"):
        with zipfile.ZipFile(io.BytesIO(hf.xlsx_far_cell(ref))) as zf:
            sheets.append(zf.read("xl/worksheets/sheet1.xml"))
    for path in sorted((REPO / "tests" / "data" / "corpus").rglob("*.xlsx")):
        if not zipfile.is_zipfile(path):  # Excel's "Encrypt with Password": an OLE2 file, refused before any scan
            continue
        with zipfile.ZipFile(path) as zf:
            sheets += [zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
    assert len(sheets) > 4
    for xml in sheets:
        for size in (len(xml), 1000, 97):
            same_scan([xml[i:i + size] for i in range(0, len(xml), size)])


@pytest.mark.parametrize("rows", [1, 3000])
def test_an_openpyxl_sheet_finds_its_last_cell(rows: int) -> None:
    cells = b"".join(b'<row r="%d">' % r + b"".join(b'<c r="%s%d" t="inlineStr"><is><t>x</t></is></c>' % (c, r)
                                                      for c in (b"A", b"B", b"AN")) + b"</row>"
                     for r in range(1, rows + 1))
    xml = hf.SHEET_HEAD + b"<sheetData>" + cells + b"</sheetData></worksheet>"
    got = same_scan([xml[i:i + 65536] for i in range(0, len(xml), 65536)])
    assert (got.rows, got.cols, got.present, got.far_cell) == (rows, 40, 3 * rows, f"AN{rows}")
