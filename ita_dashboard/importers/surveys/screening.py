"""Is it a survey at all? Judging the answer columns' content, to refuse a register or a budget."""

from __future__ import annotations

import re
from typing import Any, Callable, Optional, Sequence

from .cells import BLANK_COLUMN, clean_text
from ...texts import t as _t
from .layout import _NUMBERED_QUESTION, _column
from .results import NotASurvey
from .timestamps import split_date_text

# A register (ทะเบียนครุภัณฑ์), an attendance list, a budget or a payroll sheet can have a date
# column and a department column, and so pass for a survey with no questions. What tells them
# apart is what sits in the other columns: a survey's answers are scale labels ("มาก", "4",
# "เห็นด้วย"), a few choices repeated down the column, or comments under a question; a register's
# columns hold codes and serial numbers (nearly every value different), money with decimals,
# times of day, more dates, names. Each answer column is judged from its content (and its header:
# a question is long, numbered, or asks something), and the file is refused when the columns that
# look like register data outweigh those that look like answers.

# Answer labels of rating / yes-no / frequency questions (a value containing one of these words).
_SCALE_ANSWER = re.compile(
    r"มาก|น้อย|ปานกลาง|พอใจ|เห็นด้วย|ดีเยี่ยม|ดีมาก|^ดี$|พอใช้|ปรับปรุง|^ใช่|^ไม่ใช่|^มี$|^ไม่มี|เคย|ทราบ|"
    r"บ่อย|ประจำ|บางครั้ง|ไม่แน่ใจ|เหมาะสม|^จริง|^ไม่จริง|"
    r"satisf|agree|neutral|excellent|\bgood\b|\bfair\b|\bpoor\b|\bvery\b|often|never|always|sometimes|"
    r"rarely|likely|^yes\b|^no\b|^true$|^false$|^ok$",
    re.I,
)
_SCALE_NUMBER = re.compile(r"^(?:10|\d)(?:\s*(?:[-–.:)]\s*\D.*|/\s*(?:10|[1-9])))?$")  # "4", "5 - มากที่สุด", "3/5"
# Header words of register data: amounts, codes and numbers, clock times. Numbers under such a
# header are register data even when they repeat (unit prices, quantities).
_REGISTER_HEADER = re.compile(
    r"ราคา|จำนวนเงิน|เงินเดือน|บาท|งบประมาณ|เบิกจ่าย|คงเหลือ|ยอด|รวมเงิน|ภาษี|รหัส|เลขที่|เลขทะเบียน|หมายเลข|"
    r"เลขบัญชี|เบอร์|โทรศัพท์|จำนวน|หน่วยนับ|เวลามา|เวลากลับ|เวลาเข้า|เวลาออก|"
    r"\b(?:price|amount|cost|total|serial|code|qty|quantity|phone|tel)\b",
    re.I,
)
_NUMBER = re.compile(r"^[+\-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_QUESTION_HEADER = re.compile(
    r"[?？]|ใด|ไหม|หรือไม่|อย่างไร|เพียงใด|แค่ไหน|บ้าง|กี่|ท่าน|โปรด|กรุณา|ระบุ|เลือก|ความคิดเห็น|ความเห็น|"
    r"เสนอแนะ|พึงพอใจ|ประเมิน|\b(?:how|what|which|why|would you|do you|did you|are you|please|rate|rating|"
    r"comments?|suggestions?|feedback|opinion|satisf\w*)\b",
    re.I,
)
_DECIMAL = re.compile(r"^[+\-]?(?:\d{1,3}(?:,\d{3})+|\d+)\.\d+$|^[+\-]?\d{1,3}(?:,\d{3})+$")
_TIME_OF_DAY = re.compile(r"^\d{1,2}[:.]\d{2}(?:[:.]\d{2})?\s*(?:น\.|[AaPp]\.?\s?[Mm]\.?)?$")
_EMAIL_OR_URL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$|^(?:https?://|www\.)", re.I)
_INTEGER = re.compile(r"^[+\-]?\d+$")
_DIGIT = re.compile(r"\d")


def _question_like(label: str) -> bool:
    """A header that asks something: numbered, a grid row, long, or with a question word."""
    if label.startswith(BLANK_COLUMN):
        return False
    return (bool(_NUMBERED_QUESTION.match(label)) or ("[" in label and label.rstrip().endswith("]"))
            or len(label) >= 40 or bool(_QUESTION_HEADER.search(label)))


def _is_scale_value(text: str) -> bool:
    return len(text) <= 40 and bool(_SCALE_ANSWER.search(text) or _SCALE_NUMBER.match(text))


def _is_code_value(text: str) -> bool:
    """An identifier: asset numbers, serial numbers, phone / ID-card numbers, amounts without decimals."""
    if _INTEGER.match(text):
        return len(text.lstrip("+-")) >= 4 or (text.startswith("0") and len(text) >= 3)
    digits = len(_DIGIT.findall(text))
    compact = text.replace(" ", "")
    return digits >= 3 and text.count(" ") <= 3 and len(text) <= 40 and digits >= 0.3 * len(compact)


def _answer_kind(values: Sequence[Any], label: str = "") -> str:
    """One answer column from its non-blank values: scale / choice / data / number / text / long / empty.

    data: dates, times, money or decimals, e-mails/links, codes nearly all different, or numbers
    under a register header ("ราคา", "จำนวน", "เลขที่"); scale: rating / yes-no labels or small
    numbers; choice: a few values repeated; text / long: short or long free text, nearly all different.
    """
    texts = [clean_text(v) for v in values]
    n = sum(1 for t in texts if t)
    if n == 0:
        return "empty"
    counts: dict[str, int] = {}
    for t in texts:
        if t:
            counts[t] = counts.get(t, 0) + 1
    distinct = len(counts)

    def share(test: Callable[[str], Any]) -> float:
        return sum(c for t, c in counts.items() if test(t)) / n

    # Cells are judged as text: a date cell reads "2025-01-14 18:29:56", a time "08:15:00", 12.5 "12.5".
    temporal = share(lambda t: _TIME_OF_DAY.match(t) or split_date_text(t))
    decimals = share(_DECIMAL.match)
    if temporal >= 0.6 or decimals >= 0.6 or temporal + decimals >= 0.8 or share(_EMAIL_OR_URL.match) >= 0.6:
        return "data"
    if (label and _REGISTER_HEADER.search(label) and not _question_like(label)
            and share(lambda t: _NUMBER.match(t) or _is_code_value(t)) >= 0.6):
        return "data"
    if share(_is_scale_value) >= 0.6:
        return "scale"
    varied = distinct > max(2, n // 2)
    if share(_is_code_value) >= 0.6 and (varied or n < 4):
        return "data"
    if not varied:
        return "choice"
    if share(lambda t: _INTEGER.match(t) and len(t) <= 3) >= 0.8:
        return "number"  # ages, counts: either a survey's "อายุ" or a register's quantity
    parts: dict[str, int] = {}  # checkbox answers: "ก, ข" / "ก;ข" of a few options
    for t, c in counts.items():
        for part in re.split(r"\s*[;,]\s*", t):
            if part:
                parts[part] = parts.get(part, 0) + c
    total = sum(parts.values())
    if n >= 4 and len(parts) <= max(3, total // 3) and len(parts) < distinct * 2:
        return "choice"
    if n < 3:
        return "choice"  # too few to judge
    average = sum(len(t) * c for t, c in counts.items()) / n
    return "long" if average >= 40 else "text"


def not_a_survey_reason(labels: Sequence[str], sample: Sequence[Sequence[Any]], answers: Sequence[int]) -> Optional[str]:
    """Why these answer columns are not a survey's answers (Thai, one line), or None when they may be."""
    problem = not_a_survey(labels, sample, answers)
    return str(problem) if problem else None


def not_a_survey(labels: Sequence[str], sample: Sequence[Sequence[Any]], answers: Sequence[int]) -> Optional[NotASurvey]:
    """The refusal of answer columns that are not a survey's answers, or None when they may be.

    A file with no answer columns at all (a register of who answered, by date and department)
    is not judged here: it is read as such.
    """
    survey = register = 0.0
    data_columns: list[tuple[str, str]] = []
    judged = 0
    for j in answers:
        values = _column(sample, j)
        kind = _answer_kind(values, labels[j])
        if kind in ("empty", "number"):
            continue
        judged += 1
        question = _question_like(labels[j])
        if kind == "data":
            if not question:
                register += 1.0
                data_columns.append((labels[j], clean_text(values[0])))
        elif kind == "scale" or question:
            survey += 1.0
        elif kind == "choice":
            survey += 0.25  # a short header over a few repeated values: a survey's "เพศ", or a register's "สภาพ"
        else:
            register += 0.5  # names, item descriptions, addresses
    if register <= survey or (register < 1.0 and survey > 0):
        return None  # answers outweigh register data, or too little of either to say
    shown = ", ".join(_t("survey_part_column_example", label=label[:30], value=value[:25])
                      for label, value in data_columns[:3])
    if shown:
        return NotASurvey(code="survey_not_survey_data", columns=shown, judged=judged)
    return NotASurvey(code="survey_not_survey_text", judged=judged)
