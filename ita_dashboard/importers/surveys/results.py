"""What the survey parser returns: the parsed file, its rows, and the refusal of a non-survey."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Optional
from zoneinfo import ZoneInfo

from ..tabular import FileProblem

BANGKOK = ZoneInfo("Asia/Bangkok")
NO_DEPARTMENT = "(ไม่ระบุ)"  # how an empty department is shown


@dataclass(slots=True)
class ParsedRow:
    row_number: int  # 1-based, as the spreadsheet program shows it
    submitted_at: dt.datetime  # aware, Asia/Bangkok, to the second
    department_text: str  # as written ("" when empty)
    answers: dict[str, str]  # question header -> answer text, non-empty answers in column order
    ids: dict[str, str] = field(default_factory=dict)  # MS Forms ID / email / name, when present


@dataclass
class ParsedSurvey:
    timestamp_column: str
    department_column: Optional[str]
    answer_columns: list[str]
    id_columns: list[str]
    header_row: int  # 1-based
    sheet_name: str
    rows: list[ParsedRow]
    rejected: list[dict[str, Any]]  # {"row": n, "column": header, "reason": Thai text}
    signature: str  # stable hash of the normalised header list
    mapping_used: dict[str, Any]  # column roles; pass back as ``mapping=`` to force them
    source_format: str = "generic"  # google_forms / microsoft_forms / generic
    warnings: list[str] = field(default_factory=list)  # Thai, for the preview
    # Set when the columns do not look like a survey's answers (a register, an attendance list,
    # a budget): only ever set when parsed with ``allow_non_survey=True``, to warn before import.
    not_a_survey_reason: Optional[str] = None

    @property
    def read_count(self) -> int:
        """Rows with any content below the header: accepted plus rejected."""
        return len(self.rows) + len(self.rejected)


class NotASurvey(FileProblem):
    """The file reads, but its columns are not a survey's answers (see :func:`not_a_survey_reason`)."""
