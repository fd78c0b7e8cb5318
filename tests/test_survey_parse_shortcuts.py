"""The survey parser's shortcuts give what the long way gives: a fully answered row's answers
built in one dict() call, a row with blanks filtered; a naive timestamp rounded and made local
in one replace()."""

from __future__ import annotations

import datetime as dt

from ita_dashboard.importers.surveys import BANGKOK, TimestampReader, parse_survey_file
from tests import survey_files as sf


def test_answers_of_full_rows_and_of_rows_with_blanks() -> None:
    csv = ("Timestamp,ท่านสังกัดส่วนราชการใด,1. ข้อหนึ่ง มากน้อยเพียงใด,2. ข้อสอง มากน้อยเพียงใด,3. ข้อสาม มากน้อยเพียงใด\n"
           "1/14/2025 18:29:56,กองคลัง,มาก,น้อย,มาก\n"
           "1/14/2025 18:30:00,กองช่าง,,น้อย,   \n"
           "1/14/2025 18:31:00,กองช่าง,มากที่สุด,ปานกลาง,น้อย\n"
           "1/14/2025 18:32:00,,,,\n")
    parsed = parse_survey_file(csv.encode("utf-8"))
    q1, q2, q3 = parsed.answer_columns
    assert [r.answers for r in parsed.rows] == [
        {q1: "มาก", q2: "น้อย", q3: "มาก"}, {q2: "น้อย"}, {q1: "มากที่สุด", q2: "ปานกลาง", q3: "น้อย"}, {}]
    assert [list(r.answers) for r in parsed.rows][2] == [q1, q2, q3]  # column order kept
    assert all(r.ids == {} for r in parsed.rows)


def test_naive_timestamps_round_to_the_second_in_bangkok() -> None:
    read = TimestampReader([]).read
    assert read(dt.datetime(2025, 1, 6, 8, 0, 1, 499999)) == dt.datetime(2025, 1, 6, 8, 0, 1, tzinfo=BANGKOK)
    assert read(dt.datetime(2025, 1, 6, 8, 0, 1, 500000)) == dt.datetime(2025, 1, 6, 8, 0, 2, tzinfo=BANGKOK)
    got = read(dt.datetime(2025, 12, 31, 23, 59, 59, 999999))
    assert got == dt.datetime(2026, 1, 1, 0, 0, 0, tzinfo=BANGKOK) and got.tzinfo is BANGKOK
    assert read(dt.datetime(2568, 1, 6, 8, 0, 0)) == dt.datetime(2025, 1, 6, 8, 0, 0, tzinfo=BANGKOK)  # BE year


def test_the_timestamp_column_mapped_as_the_department_too_gives_text() -> None:
    """The parser keeps the timestamp column as read (dates); a mapping that makes it the
    department as well gets its clean text there, in an xlsx with real dates and in a CSV."""
    responses = sf.make_responses(5)
    for data in (sf.google_xlsx(responses, as_datetime=True), sf.google_csv(responses)):
        auto = parse_survey_file(data)
        forced = parse_survey_file(data, mapping=dict(auto.mapping_used, department=auto.timestamp_column))
        assert len(forced.rows) == 5
        assert all(isinstance(r.department_text, str) and r.department_text for r in forced.rows)
