"""Survey response exports (IIT/EIT) into plain rows: who answered when, for which department.

Accepted shapes, all decided from the content and never from the file name:

- Google Forms' own "Download responses (.csv)" ("2026/01/05 7:18:31 AM GMT+7", 12- or 24-hour,
  any zone, converted to Bangkok time) and Google Sheets' CSV/xlsx download of the responses
  sheet in the English or Thai locale (``Timestamp`` / ``ประทับเวลา``): English sheets write
  timestamps month-first ("1/14/2025 18:29:56"), Thai ones day-first with a comma and a BE or CE
  year ("14/1/2568, 18:29:56"); grid questions arrive as ``Question [Row]``;
- Microsoft Forms xlsx (``ID``, ``Start time``, ``Completion time``, ``Email``, ``Name``, ...,
  possibly translated to Thai), or saved again as CSV by Excel ("1/14/25 18:29:56"); the
  completion time is the submitted time;
- CSV saved by Thai Excel (cp874) or UTF-8 with or without BOM; workbooks with title rows above
  the header or several sheets; any other sheet with a date column and a department column
  whose other columns look like answers (a register, an attendance list or a budget with a date
  and a department column is refused: :class:`NotASurvey`).

The timestamp, department and answer columns are recognised by header words *and* content: an
EIT question such as "เจ้าหน้าที่ของหน่วยงานที่ท่านติดต่อ ..." contains "หน่วยงาน" but its answers
are scale labels, not unit names. The admin can correct the roles: :attr:`ParsedSurvey.mapping_used`
passed back as ``mapping=`` forces them, and is remembered per :attr:`ParsedSurvey.signature`.

Every problem with the file as a whole is a :class:`~ita_dashboard.importers.tabular.FileProblem`
with a plain-Thai message; problems with single rows are listed in :attr:`ParsedSurvey.rejected`.

Speed matters (a province office may upload 100,000 rows): xlsx is read once through calamine,
cell strings are de-duplicated while reading (answers repeat a handful of labels), and columns
are normalised by their distinct values rather than cell by cell.
"""

from .cells import clean_text, column_letter, header_signature
from .layout import MAX_HEADER_SCAN
from .parse import parse_survey_file
from .readers import HEAD_ROWS, read_tables
from .results import BANGKOK, NO_DEPARTMENT, NotASurvey, ParsedRow, ParsedSurvey
from .screening import not_a_survey_reason
from .timestamps import TimestampReader, decide_day_first, is_datelike, locale_day_first, split_date_text

__all__ = [
    "BANGKOK", "HEAD_ROWS", "MAX_HEADER_SCAN", "NO_DEPARTMENT", "NotASurvey", "ParsedRow", "ParsedSurvey",
    "TimestampReader", "clean_text", "column_letter", "decide_day_first", "header_signature", "is_datelike",
    "locale_day_first", "not_a_survey_reason", "parse_survey_file", "read_tables", "split_date_text",
]
