"""A parsed survey row's identity: its key, its identity across exports, its fiscal year.

**Keys.** Each response gets a ``respondent_key``: the sha256 of its normalised content
(submitted time to the second, department as written, the form's own response ID/email when
present, then the non-empty answers in column order). Identical rows are one response; skipping
empty answers keeps the key stable when a question is added to the form part-way through.
A stored key never changes: :func:`respondent_key` and :func:`unique_rows` must agree, byte for byte,
with every key already in a database (for a row's first occurrence in a form that keys all its
columns; the two exceptions below are :func:`unique_rows`' own).

**Repeats without a time of day.** A row whose time is midnight to the second was written with a
date only (paper forms keyed in, a Sheet column formatted as a date): two people who answered the
same on the same day then give identical rows, and a short form makes that common. Within one
file, the n-th such repeat (n >= 2) is another response, keyed :func:`repeat_key` of the first's
key and n, so a later export holding the same repeats adds none. The first occurrence keeps the
plain key, so every key stored before this rule stays as it was. A row with a response ID or
e-mail is one respondent: its repeats stay one response.

**Columns added at the right.** A Google Sheet's owner adds columns beside the answers (a note,
"ตรวจแล้ว") and later downloads carry them: the header changed, so the file is another form, and a
row whose new cells are filled would get a new key and count a second time beside its stored
self. When an earlier form's questions (of the year and instrument) are the file's first answer
columns, in order, and the file has more (at most as many again), the file's keys are made as
that form's were: of the columns it recorded (``SurveyForm.key_columns``), or of its questions
(:func:`key_columns`). The rows the earlier form holds keep their keys, and the new form records
the columns for its own later files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from typing import Any, Iterable, Optional, Sequence

from ..importers.surveys import BANGKOK, NO_DEPARTMENT, ParsedRow
from ..texts import t


def respondent_key(row: ParsedRow) -> str:
    """sha256 of the row's normalised content; see the module docstring for what goes in."""
    when = row.submitted_at
    if when.tzinfo is not BANGKOK and when.tzinfo is not None:
        when = when.astimezone(BANGKOK)
    parts = [when.replace(microsecond=0, tzinfo=None).isoformat(), row.department_text, *row.ids.values(), "\x1e",
             *row.answers.values()]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


_HEADER_KEY = re.compile(r"[\s\u200b\u00a0\ufeff]+")


# Columns naming one response across exports: the form tool's own response number first.
_RESPONSE_ID_HEADERS = ("id", "รหัส", "responseid", "รหัสการตอบกลับ", "เลขที่การตอบกลับ")


_EMAIL_HEADERS = ("email", "อีเมล", "e-mail", "emailaddress", "ที่อยู่อีเมล")


MAX_REF = 200


def _header_key(label: str) -> str:
    return _HEADER_KEY.sub("", unicodedata.normalize("NFC", label)).lower()


def response_refs(rows: Sequence[ParsedRow], id_columns: Sequence[str]) -> list[Optional[str]]:
    """Each row's identity across exports, or None: the response ID column when the export has
    one, else an e-mail column; a value repeated within the file identifies nothing (Microsoft
    Forms writes "anonymous" in every row of an anonymous form)."""
    keys = {_header_key(c): c for c in id_columns}
    chosen: Optional[tuple[str, str]] = None
    for prefix, names in (("id", _RESPONSE_ID_HEADERS), ("email", _EMAIL_HEADERS)):
        label = next((keys[n] for n in names if n in keys), None)
        if label is not None:
            chosen = (prefix, label)
            break
    if chosen is None:
        return [None] * len(rows)
    prefix, label = chosen
    values: list[Optional[str]] = []
    for r in rows:
        v = (r.ids.get(label) or "").strip()
        if prefix == "email":
            v = v.lower() if "@" in v else ""
        values.append(f"{prefix}:{v}"[:MAX_REF] if v else None)
    seen: dict[str, int] = {}
    for v in values:
        if v is not None:
            seen[v] = seen.get(v, 0) + 1
    return [v if v is not None and seen[v] == 1 else None for v in values]


def infer_fiscal_year(rows: Sequence[ParsedRow]) -> Optional[int]:
    """The fiscal year (BE) of the median submitted date; None without rows."""
    from ..thai import fiscal_year_of

    if not rows:
        return None
    days = sorted(r.submitted_at.astimezone(BANGKOK).date() for r in rows)
    return fiscal_year_of(days[len(days) // 2])


def split_by_year(rows: Sequence[ParsedRow], fiscal_year: int,
                  ts_column: str) -> tuple[list[ParsedRow], list[dict[str, Any]]]:
    """The rows of ``fiscal_year``, and the others as rejected rows with the reason."""
    from ..thai import fiscal_year_of

    inside, outside = [], []
    year_of: dict[dt.date, int] = {}
    for r in rows:
        day = r.submitted_at.astimezone(BANGKOK).date()
        fy = year_of.get(day)
        if fy is None:
            fy = year_of[day] = fiscal_year_of(day)
        if fy == fiscal_year:
            inside.append(r)
        else:
            outside.append({
                "row": r.row_number, "column": ts_column,
                "reason": t("survey_reject_other_year", date=f"{day.day}/{day.month}/{day.year + 543}",
                            year=fiscal_year),
            })
    return inside, outside


def repeat_key(key: str, n: int) -> str:
    """The key of the ``n``-th (n >= 2) identical row of a file whose time has no time of day."""
    return hashlib.sha256(f"{key}\x1d{n}".encode("ascii")).hexdigest()


def key_columns(columns: Sequence[str],
                earlier: Iterable[tuple[Sequence[str], Optional[Sequence[str]]]]) -> Optional[frozenset[str]]:
    """The answer columns a new form's keys are made of, or None for all of them.

    ``earlier``: each earlier form's (questions, recorded key columns or None). The form whose
    questions are the longest run of ``columns`` from the first, in order, shorter than ``columns``
    and at least half as long, gives its own key columns (its questions when it recorded none).
    """
    n = len(columns)
    best_len, best_kept = 0, None
    for questions, kept in earlier:
        m = len(questions)
        if m <= best_len or m >= n or 2 * m < n or list(columns[:m]) != list(questions):
            continue
        best_len, best_kept = m, kept
    if not best_len:
        return None
    return frozenset(best_kept) if best_kept else frozenset(columns[:best_len])


def unique_rows(rows: Sequence[ParsedRow], *,
                columns: Optional[frozenset[str]] = None) -> tuple[list[ParsedRow], list[str]]:
    """Rows with repeats inside the file dropped, and their keys (respondent_key, inlined: this
    runs for every row of a 100,000-row file). A repeat of a row written with a date only is kept
    under :func:`repeat_key`; ``columns`` (:func:`key_columns`) limits the answers the keys are
    made of (see the module docstring)."""
    seen: dict[str, int] = {}
    unique, keys = [], []
    sha, join, bkk = hashlib.sha256, "\x1f".join, BANGKOK
    for r in rows:
        when = r.submitted_at
        if when.tzinfo is not bkk and when.tzinfo is not None:
            when = when.astimezone(bkk)
        # isoformat()[:19]: to the second, without the offset (as respondent_key writes it)
        stamp = when.isoformat()[:19]
        answers = r.answers.values() if columns is None else [v for q, v in r.answers.items() if q in columns]
        k = sha(join((stamp, r.department_text, *r.ids.values(), "\x1e",
                      *answers)).encode("utf-8")).hexdigest()
        n = seen.get(k)
        if n is None:
            seen[k] = 1
        elif stamp.endswith("T00:00:00") and not any(r.ids.values()):  # a date only: another person that day
            seen[k] = n = n + 1
            k = repeat_key(k, n)
        else:
            continue
        unique.append(r)
        keys.append(k)
    return unique, keys


def count_unmatched(texts: Iterable[str], resolve) -> dict[str, int]:
    """Departments as written that resolve to none (blank: ``NO_DEPARTMENT``) -> how many rows,
    most first."""
    counts: dict[str, int] = {}
    for text in texts:
        if not text or resolve(text) is None:
            label = text or NO_DEPARTMENT
            counts[label] = counts.get(label, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
