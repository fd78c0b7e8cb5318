"""Filling the progress workbook like a user would (shared by the status-sheet and page tests).
Test modules import from here, never from each other (tests/test_layout_rules.py)."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from ita_dashboard.services.status_sheet.columns import _key


def header_map(ws) -> tuple[int, dict[str, int]]:
    for row in ws.iter_rows(min_row=1, max_row=10):
        values = [c.value for c in row]
        if "รหัส" in values:
            return row[0].row, {_key(v): i + 1 for i, v in enumerate(values) if v}
    raise AssertionError("no header")


def fill(data: bytes, values: dict[int, dict[str, object]], *, sheet: int | str = 0, as_of_cell=None,
         extra_rows: list[dict[str, object]] = ()) -> bytes:
    """Write ``values`` ({measure id: {column header: value}}) into the sheet as a user would."""
    wb = load_workbook(io.BytesIO(data))
    ws = wb[sheet] if isinstance(sheet, str) else wb.worksheets[sheet]
    h, cols = header_map(ws)
    for r in range(h + 1, ws.max_row + 1):
        mid = ws.cell(r, cols["รหัส"]).value
        for name, value in values.get(mid, {}).items():
            ws.cell(r, cols[name]).value = value
    for extra in extra_rows:
        r = ws.max_row + 1
        for name, value in extra.items():
            ws.cell(r, cols[name]).value = value
    if as_of_cell is not None:
        ws["D2"] = None if as_of_cell == "" else as_of_cell
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
