"""Progress by spreadsheet: download the year's measures as a sheet to fill, upload it back.

The workbook (:func:`build_status_workbook`) lists the current measures with a key column
``รหัส`` (the measure id) and what each stands at, then empty columns to fill: สถานะ (a dropdown
of the Thai labels), ร้อยละ, หมายเหตุ, ลิงก์หลักฐาน and an optional per-row date. Above the header
sits a ``ณ วันที่`` cell (default: the date the sheet was made) that dates every row.

Reading it back (:func:`parse_status_workbook`) finds the header by its content on every sheet,
so extra sheets, moved title rows or a per-department workbook all work. Only rows with
something filled become updates; each problem becomes a rejected entry naming the sheet, the
Excel row, the column and the reason (Thai).

Applying (:func:`apply_status_sheet`) records each row through
:func:`services.measures.record_progress` (the only way progress is added: permission-checked and
audited). A row equal to the measure's state on that date adds nothing (a duplicate), so
uploading the same file twice adds nothing the second time.

Filling rules for a row (applied against the measure's state on the row's date):
- สถานะ empty, ร้อยละ given: 100 → done, 1-99 → in progress, 0 → not started (cancelled stays);
- สถานะ and ร้อยละ both empty (only a note or a link): the state stays as it is;
- ร้อยละ empty: the current percent (done is always 100);
- ลิงก์หลักฐาน empty: the current link is kept; หมายเหตุ is the text written (may be empty).

The package: :mod:`.columns` (the columns and labels), :mod:`.build` (the workbook),
:mod:`.parse` (reading it back), :mod:`.apply` (checking and recording). The names below are
re-exported so ``services.status_sheet.<name>`` keeps working.
"""

from __future__ import annotations

from .apply import RowOutcome, apply_status_sheet, check_status_sheet
from .build import build_status_workbook, sheet_title
from .columns import (AS_OF_LABEL, COL_CUR_PERCENT, COL_CUR_STATUS, COL_DATE, COL_KEY, COL_LINK, COL_NO, COL_NOTE,
                      COL_OWNER, COL_PERCENT, COL_PERIOD, COL_STATUS, COL_TITLE, FILL_COLUMNS, HEADERS,
                      SHEET_NAME_SINGLE, SHEET_NAME_UNASSIGNED, STATUS_LABELS, StatusSheetError)
from .parse import StatusRow, StatusSheet, parse_date_cell, parse_percent, parse_status, parse_status_workbook

__all__ = [
    "AS_OF_LABEL", "COL_CUR_PERCENT", "COL_CUR_STATUS", "COL_DATE", "COL_KEY", "COL_LINK", "COL_NO", "COL_NOTE",
    "COL_OWNER", "COL_PERCENT", "COL_PERIOD", "COL_STATUS", "COL_TITLE", "FILL_COLUMNS", "HEADERS",
    "SHEET_NAME_SINGLE", "SHEET_NAME_UNASSIGNED", "STATUS_LABELS", "RowOutcome", "StatusRow", "StatusSheet",
    "StatusSheetError", "apply_status_sheet", "build_status_workbook", "check_status_sheet", "parse_date_cell",
    "parse_percent", "parse_status", "parse_status_workbook", "sheet_title",
]
