"""The error of a file that cannot be used: :class:`FileProblem`.

Its own module so the upload gate (guard.py) and the readers (tabular.py and the rest) both raise
it without importing each other's code; ``tabular.FileProblem`` stays the name most modules use.
"""

from __future__ import annotations

from typing import ClassVar

from ..errors import ItaError


class FileProblem(ItaError, ValueError):
    """A file that cannot be used; ``str(exc)`` is a message for the user (Thai)."""

    codes: ClassVar[tuple[str, ...]] = (
        "upload_too_large",
        "guard_zip_members",
        "guard_member_bomb",
        "guard_member_ratio",
        "guard_total_bomb",
        "guard_zip_broken",
        "guard_member_incomplete",
        "guard_member_truncated",
        "guard_member_unreadable",
        "guard_member_size_mismatch",
        "guard_encrypted",
        "guard_member_lies",
        "guard_member_method",
        "guard_member_too_large",
        "guard_sheet_declared",
        "guard_sheet_far",
        "guard_sheet_cells",
        "guard_sheet_sparse",
        "guard_cells_total",
        "guard_xml_broken",
        "guard_xls_broken",
        "guard_xls_sector_size",
        "guard_xls_fat",
        "guard_xls_sector_beyond",
        "guard_xls_chain",
        "guard_image_bomb",
        "guard_image_pixels",
        "tabular_empty",
        "tabular_unknown_zip",
        "tabular_pdf",
        "tabular_binary",
        "tabular_odt",
        "tabular_word",
        "tabular_no_data",
        "tabular_bad_bom",
        "tabular_bad_encoding",
        "tabular_bad_csv",
        "tabular_workbook_broken",
        "survey_sheet_broken",
        "survey_bad_encoding",
        "survey_control_chars",
        "survey_word_file",
        "survey_no_header_row",
        "survey_no_timestamp_column",
        "survey_no_column",
        "survey_not_bytes",
        "survey_header_only",
        "survey_is_status_sheet",
        "oitlist_no_header",
        "measures_file_no_docx_table",
        "measures_file_docx_broken",
        "measures_file_doc",
        "measures_file_docx_unreadable",
        "measures_file_no_rows",
        "survey_bad_timestamp",
        "survey_no_times",
        "survey_no_timestamp",
        "survey_not_survey_data",
        "survey_not_survey_text",
        "measures_file_row_no_title",
        "measures_file_line_no_title",
        "measures_file_no_title_column",
        "measures_file_no_title_column_found",
        "measures_file_missing_columns",
        "measures_file_no_table",
    )
