"""Write the corpus's cumulative re-export cases (issue 11, point 3) and their expected results.

    python tests/data/corpus/surveys/build_cumulative.py

An agency downloads the whole response sheet every week; each download holds every response so
far. Between two downloads a respondent may edit an answer (Google Forms: "Allow response
editing"): the response keeps its row in the Sheet only in Microsoft Forms (same ``ID``); Google
Forms gives the edit a new Timestamp and no ID, and an admin may also fix a row in the Sheet.

What the real programs write, and how these files follow them:
- Google Sheets, File → Download → Comma-separated values (.csv) of the form's response sheet:
  UTF-8 without BOM, CRLF, the header row as the form's questions, timestamps as the sheet shows
  them in the English locale (``1/14/2025 18:29:56``). An edited response's row gets the edit's
  Timestamp (Sheets keeps responses in submission order, the edit moves to the end).
- Microsoft Forms, "Open in Excel": ``ID, Start time, Completion time, Email, Name, Last modified
  time`` then the questions; ``Email`` is ``anonymous`` for an anonymous form; an edited response
  keeps its ID.
- A paper form keyed in by the clerk: Thai headers, day-first Buddhist-era dates.

Each case's expected counts follow from how the files were made (which rows were edited, added,
carried over), not from running the importer.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))  # tests/: the shared builders of the test suite
import survey_files as sf  # noqa: E402

FY = 2568


def edited(r: sf.Response, at: dt.datetime) -> sf.Response:
    """The respondent's edit: the first answer changed, the edit's own time."""
    first = "น้อยที่สุดหรือไม่มีเลย" if r.answers[0] != "น้อยที่สุดหรือไม่มีเลย" else "มาก"
    return sf.Response(at, r.department, (first, *r.answers[1:]))


def google_sheets_csv(responses: list[sf.Response]) -> bytes:
    return sf.csv_bytes(sf.google_rows(responses, locale="en"), encoding="utf-8")


def by_department(responses: list[sf.Response]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in responses:
        out[r.department] = out.get(r.department, 0) + 1
    return out


def write(name: str, data: bytes) -> None:
    (HERE / name).write_bytes(data)


def expect(name: str, case: dict) -> None:
    text = json.dumps({"instrument": "iit", "year": FY, **case}, ensure_ascii=False, indent=2) + "\n"
    (HERE / f"{name}.expected.json").write_text(text, encoding="utf-8")


def main() -> None:
    # Google Forms: 114 responses; the next download holds the same 114, one of them edited.
    week1 = sf.make_responses(114, start=dt.datetime(2025, 1, 6, 8, 0), step_minutes=50, seed=2568)
    week2 = [*week1[:40], *week1[41:], edited(week1[40], dt.datetime(2025, 1, 12, 16, 2, 9))]
    write("cumulative_google_week1.csv", google_sheets_csv(week1))
    write("cumulative_google_week2_edited.csv", google_sheets_csv(week2))
    expect("cumulative_google_week2_edited", {
        "file": "cumulative_google_week2_edited.csv",
        "shape": "Google Sheets CSV download of the response sheet a week later: the same 114 responses, one "
                 "edited by its respondent (new Timestamp, no ID, moved to the end); counts 114, not 115",
        "before": ["cumulative_google_week1.csv"],
        "counts": {"read": 114, "imported": 1, "duplicate": 113, "rejected": 0,
                   "new": 1, "changed": 0, "unchanged": 113, "vanished": 1},
        "responses": 114,
        "by_department": by_department(week2),
    })
    expect("cumulative_google_older_export", {
        "file": "cumulative_google_week1.csv",
        "shape": "an older Google Sheets download (before the edit) uploaded after the newer one: the count "
                 "does not shrink or grow; the edit's old version is reported as vanished",
        "before": ["cumulative_google_week1.csv", "cumulative_google_week2_edited.csv"],
        "counts": {"read": 114, "imported": 0, "duplicate": 114, "rejected": 0,
                   "new": 0, "changed": 0, "unchanged": 113, "vanished": 1},
        "responses": 114,
        "by_department": by_department(week2),
    })

    # A paper form of the same instrument: another header, another form; the two add up.
    paper = sf.make_responses(30, start=dt.datetime(2025, 1, 8, 9, 0), seed=2569)
    rows = [["วันที่กรอก", "สังกัด", *[f"ข้อ {i}" for i in range(1, len(sf.QUESTIONS) + 1)]]]
    rows += [[sf.google_th(r.at).replace(",", ""), r.department, *r.answers] for r in paper]
    write("cumulative_paper_forms.csv", sf.csv_bytes(rows, encoding="utf-8-sig"))
    expect("cumulative_paper_forms", {
        "file": "cumulative_paper_forms.csv",
        "shape": "paper forms keyed into Excel by the clerk (Thai headers, day-first BE dates, saved as CSV UTF-8) "
                 "after the online form's newest download: another form of the same instrument, counts add up",
        "before": ["cumulative_google_week1.csv", "cumulative_google_week2_edited.csv"],
        "counts": {"read": 30, "imported": 30, "duplicate": 0, "new": 30, "changed": 0, "unchanged": 0,
                   "vanished": 0},
        "responses": 144,
        "by_department": {d: by_department(week2).get(d, 0) + by_department(paper).get(d, 0)
                          for d in sf.DEPARTMENTS},
    })

    # Microsoft Forms: response ID 7 edited between two downloads, two new responses after.
    first = sf.make_responses(20, start=dt.datetime(2025, 2, 3, 8, 0), seed=2570)
    ms1 = sf.ms_forms_rows(first)
    ms2 = [list(r) for r in ms1]
    answer = 7  # first question's column
    ms2[7][answer] = "น้อยที่สุดหรือไม่มีเลย" if ms2[7][answer] != "น้อยที่สุดหรือไม่มีเลย" else "มาก"
    ms2[7][5] = dt.datetime(2025, 2, 20, 10, 4, 51)  # Last modified time
    later = sf.ms_forms_rows(sf.make_responses(2, start=dt.datetime(2025, 2, 21, 9, 0), seed=2571))[1:]
    ms2 += [[20 + i, *row[1:]] for i, row in enumerate(later, start=1)]
    write("cumulative_msforms_1.xlsx", sf.xlsx_bytes({"Sheet1": ms1}))
    write("cumulative_msforms_2.xlsx", sf.xlsx_bytes({"Sheet1": ms2}))
    expect("cumulative_msforms_2", {
        "file": "cumulative_msforms_2.xlsx",
        "instrument": "eit",
        "shape": "Microsoft Forms 'Open in Excel' a few weeks later: response ID 7 edited (same ID, new Last "
                 "modified time), IDs 21 and 22 new: 1 changed, 2 new, nothing vanished",
        "before": ["cumulative_msforms_1.xlsx"],
        "counts": {"read": 22, "imported": 3, "duplicate": 19, "rejected": 0,
                   "new": 2, "changed": 1, "unchanged": 19, "vanished": 0},
        "responses": 22,
    })

    # Google Sheets: the owner adds two note columns beside the answers, fills some, sorts the
    # sheet by department and downloads again: another header, so another form, whose rows the
    # first form already holds must not count twice (their key leaves the added columns out).
    sheet = sf.make_responses(64, start=dt.datetime(2025, 1, 13, 8, 0), step_minutes=61, seed=2572)
    before = sf.google_rows(sheet[:50], locale="en")
    after = sf.google_rows(sheet, locale="en")
    after[0] += ["หมายเหตุ (เจ้าหน้าที่)", "ตรวจแล้ว"]
    for i, row in enumerate(after[1:]):
        row += ["โทรยืนยันแล้ว", "✓"] if i % 4 == 0 else ["", ""]
    after = [after[0], *sorted(after[1:], key=lambda r: (r[1], r[0]))]
    write("cumulative_google_sheet_notes_before.csv", sf.csv_bytes(before, encoding="utf-8"))
    write("cumulative_google_sheet_notes_added.csv", sf.csv_bytes(after, encoding="utf-8"))
    expect("cumulative_google_sheet_notes_added", {
        "file": "cumulative_google_sheet_notes_added.csv",
        "shape": "Google Sheets CSV download after the owner added note columns at the right of the answers, "
                 "filled some and sorted by department: the 50 responses already counted stay 50, 14 new",
        "before": ["cumulative_google_sheet_notes_before.csv"],
        "counts": {"read": 64, "imported": 14, "duplicate": 50, "rejected": 0, "new": 14, "changed": 0,
                   "vanished": 0},
        "responses": 64,
        "by_department": by_department(sheet),
    })


if __name__ == "__main__":
    main()
