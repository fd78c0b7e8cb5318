"""From the layout to the rows: :func:`parse_survey_file`, and the message when no timestamp is found."""

from __future__ import annotations

import itertools
from typing import Any, Iterator, Optional, Sequence

from .. import tabular
from ...texts import t
from ..tabular import FileProblem
from .cells import _key, clean_text, header_signature
from .layout import (_COMPLETION_HEADERS, _TIMESTAMP_HEADERS, MAX_HEADER_SCAN, _best_layout, _forced_layout, _Layout,
                     _mapping_of, _source_format)
from .readers import _Table, read_tables
from .results import ParsedRow, ParsedSurvey
from .screening import not_a_survey
from .timestamps import TimestampReader, _is_english_label, _is_excel_serial, is_datelike


class _Cleaned(dict):
    """Raw cell -> its clean text, computed on first sight: answers repeat a few labels, so a
    column of 100,000 cells costs a few clean_text() calls and one shared string per label."""

    __slots__ = ()

    def __missing__(self, value: Any) -> str:
        text = self[value] = clean_text(value)
        return text


READ_BLOCK = 5000  # rows taken from the reader at a time, turned into columns, then let go


def _data_columns(layout: _Layout) -> list[list[Any]]:
    """The rows below the header as columns (as wide as the header; short rows padded with None):
    the timestamp column as read, every other column as clean text.

    The reader's rows are taken a block at a time, turned into columns at C speed and cleaned
    through one memo per column, so no raw row outlives its block (the reader's cells are not
    kept: equal answers become one string).
    """
    width = len(layout.labels)
    ts = layout.timestamp
    rows = itertools.islice(layout.table.all_rows(), layout.header_index + 1, None)
    memos = [_Cleaned() for _ in range(width)]
    cols: list[list[Any]] = [[] for _ in range(width)]
    while True:
        block = list(itertools.islice(rows, READ_BLOCK))
        if not block:
            return cols
        got = 0
        for j, column in enumerate(itertools.islice(itertools.zip_longest(*block), width)):
            cols[j].extend(column if j == ts else map(memos[j].__getitem__, column))
            got += 1
        for j in range(got, width):  # every row of the block is shorter than the header
            cols[j].extend(itertools.repeat(None if j == ts else memos[j][None], len(block)))


def _build_rows(layout: _Layout, cols: list[list[Any]], first_row_number: int) -> tuple[list[ParsedRow], list[dict[str, Any]]]:
    """Accepted rows and rejected ones, from the columns of :func:`_data_columns` (each cleaned
    once per distinct value) zipped back into rows, which is what keeps 100,000 rows fast."""
    labels = layout.labels
    ts = layout.timestamp
    ts_cells = cols[ts]
    reader = TimestampReader(ts_cells, english_header=_is_english_label(labels[ts]))
    ts_label = labels[ts]
    ts_texts: list[str] = []

    def texts(j: int) -> list[Any]:
        """Column ``j`` as clean text. The timestamp column is kept as read; a mapping that gives
        it a second role (the department, say) gets its clean text there, as any other column."""
        if j != ts:
            return cols[j]
        if not ts_texts:
            ts_texts.extend(map(_Cleaned().__getitem__, ts_cells))
        return ts_texts

    dept = texts(layout.department) if layout.department is not None else None
    questions = [labels[j] for j in layout.answers]
    answer_cols = [texts(j) for j in layout.answers]
    id_labels = [labels[j] for j in layout.ids]
    id_cols = [texts(j) for j in layout.ids]
    other_cols = [texts(j) for j in layout.ignored]
    rows: list[ParsedRow] = []
    rejected: list[dict[str, Any]] = []
    answer_rows = zip(*answer_cols) if answer_cols else itertools.repeat(())
    id_rows = zip(*id_cols) if id_cols else itertools.repeat(())
    other_rows = zip(*other_cols) if other_cols else itertools.repeat(())
    for i, (ts_cell, values, idv, other) in enumerate(zip(ts_cells, answer_rows, id_rows, other_rows)):
        d = dept[i] if dept is not None else ""
        ts_blank = tabular.is_blank(ts_cell)
        if ts_blank and not d and not any(values) and not any(idv) and not any(other):
            continue  # an empty line
        if isinstance(ts_cell, str) and clean_text(ts_cell) == ts_label:
            continue  # the header repeated (sheets pasted one under another)
        number = first_row_number + i
        if ts_blank:
            rejected.append({"row": number, "column": ts_label, "reason": t("survey_reject_no_time")})
            continue
        when = reader.read(ts_cell)
        if when is None:
            rejected.append({"row": number, "column": ts_label,
                             "reason": t("survey_reject_bad_time", value=clean_text(ts_cell)[:60])})
            continue
        # A row with every question answered (the usual one) needs no filtering: dict() at C speed.
        answers = dict(zip(questions, values)) if "" not in values else {q: v for q, v in zip(questions, values) if v}
        ids = {k: v for k, v in zip(id_labels, idv) if v} if idv else {}
        rows.append(ParsedRow(number, when, d, answers, ids))
    return rows, rejected


def _read_already() -> Iterator[list[Any]]:
    return iter(())


# Headers only the status workbook writes (services/status_sheet/columns.py); two of them are enough
# when a column was deleted.
_STATUS_SHEET_COLUMNS = frozenset({"สถานะปัจจุบัน", "ร้อยละปัจจุบัน", "ลิงก์หลักฐาน"})


def parse_survey_file(data: bytes, *, filename: str = "", mapping: Optional[dict[str, Any]] = None,
                      allow_non_survey: bool = False) -> ParsedSurvey:
    """Read a survey export into rows; raises FileProblem (Thai) when the file cannot be used.

    ``filename`` only names the file in messages; the format is decided from the content.
    A file whose columns are not a survey's answers raises :class:`NotASurvey`, unless
    ``allow_non_survey`` (the upload page, after a warning): then it is read and
    :attr:`ParsedSurvey.not_a_survey_reason` says why it looks wrong.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FileProblem(code="survey_not_bytes")
    data = bytes(data)
    tables = read_tables(data)
    layout = _forced_layout(tables, mapping) if mapping else _best_layout(tables)
    if layout is None:
        raise _no_timestamp(filename, tables)
    if len(_STATUS_SHEET_COLUMNS & {" ".join(label.split()) for label in layout.labels}) >= 2:
        # The measures' own status workbook (services/status_sheet): its per-row date and its
        # departments pass for answer times and respondents' departments.
        raise FileProblem(code="survey_is_status_sheet")
    problem = not_a_survey(layout.labels, layout.table.head[layout.header_index + 1:], layout.answers)
    if problem and not allow_non_survey:
        raise problem
    reason = str(problem) if problem else None
    columns = _data_columns(layout)
    for table in tables:  # every row is read: calamine's copy of the sheets goes before the rows are built
        table.all_rows = _read_already
    del tables
    rows, rejected = _build_rows(layout, columns, layout.header_index + 2)
    if not rows and rejected and all(map(tabular.is_blank, columns[layout.timestamp])):
        # answered rows, none with a time: formulas saved without their values, or a cleared column
        raise FileProblem(code="survey_no_times", label=layout.labels[layout.timestamp])
    del columns
    if not rows and not rejected:
        raise FileProblem(code="survey_header_only")
    labels = layout.labels
    warnings = []
    if layout.department is None:
        warnings.append(t("survey_warn_no_department"))
    return ParsedSurvey(
        timestamp_column=labels[layout.timestamp],
        department_column=labels[layout.department] if layout.department is not None else None,
        answer_columns=[labels[j] for j in layout.answers],
        id_columns=[labels[j] for j in layout.ids],
        header_row=layout.header_index + 1,
        sheet_name=layout.table.name,
        rows=rows,
        rejected=rejected,
        signature=header_signature(labels),
        mapping_used=_mapping_of(layout),
        source_format=_source_format(layout),
        warnings=warnings,
        not_a_survey_reason=reason,
    )


def _unreadable_timestamp(tables: list[_Table]) -> Optional[tuple[str, str, int, str, bool]]:
    """A column named as the submitted time whose values do not read as dates: (header, the first
    value that does not read, its row number, sheet name, whether it is the column's first value)."""
    known = _COMPLETION_HEADERS | _TIMESTAMP_HEADERS
    for table in tables:
        for h, row in enumerate(table.head[:MAX_HEADER_SCAN]):
            for j, cell in enumerate(row):
                label = clean_text(cell)
                if not label or _key(label) not in known:
                    continue
                below = [(h + 2 + i, r[j]) for i, r in enumerate(table.head[h + 1:])
                         if j < len(r) and not tabular.is_blank(r[j])]
                for k, (number, value) in enumerate(below):
                    if not (is_datelike(value) or _is_excel_serial(value)):
                        return label, clean_text(value), number, table.name, k == 0
    return None


def _no_timestamp(filename: str, tables: Sequence[_Table] = ()) -> FileProblem:
    found = _unreadable_timestamp(list(tables))
    if found:
        label, value, row, sheet, first = found
        where = (t("survey_part_row_sheet", row=row, sheet=sheet) if len(tables) > 1
                 else t("survey_part_row", row=row))
        shown = value if len(value) <= 60 else value[:57] + "..."
        subject = t("survey_part_file_named", name=filename) if filename else t("survey_part_this_file")
        which = t("survey_part_first_row") if first else ""
        return FileProblem(code="survey_bad_timestamp", subject=subject, label=label, which=which, value=shown,
                           where=where)
    name = f"“{filename}” " if filename else ""
    return FileProblem(code="survey_no_timestamp", name=name)
