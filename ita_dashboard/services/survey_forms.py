"""A survey's forms: the questions and answer scales that responses are coded against, and the column
mapping an admin confirmed for a form.

**Forms.** A file's form is its header signature (:attr:`ParsedSurvey.signature`) within the
organisation, fiscal year and instrument: a :class:`~ita_dashboard.models.SurveyForm` row holding
the questions in order and each question's scale (the answer labels seen). A response stores its
answers as codes against its form (see ``SurveyResponse.answer_codes``), not the question texts.
Online and paper forms of one instrument have different headers, hence different forms, and
their responses add up. A form's responses belong to the form of the earliest batch (not undone)
that contained them; a row already stored under another form is left to that form.
"""

from __future__ import annotations

import json
from typing import Any, Optional, Sequence

from sqlalchemy import select
from sqlmodel import Session, col

from .. import audit
from ..models import FormMapping, Instrument, SurveyForm, SurveyResponse, utcnow


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Codebook:
    """A form's questions and scales while answers are coded against it (see SurveyResponse).

    A text answer gets the code of its label in the question's scale, the label being added when
    new; free text (long answers, or a question past ``MAX_SCALE`` labels) is kept as the text
    itself, so comments do not swell the form. Any other value is kept as ``[value]``.
    """

    MAX_LABEL = 100
    MAX_SCALE = 60

    def __init__(self, form: SurveyForm):
        self.form = form
        self.questions: list[str] = list(form.questions or [])
        scales = [list(s) for s in (form.scales or [])]
        self.scales: list[list[str]] = scales + [[] for _ in range(len(self.questions) - len(scales))]
        self.position = {q: i for i, q in enumerate(self.questions)}
        self.codes = [{label: k for k, label in enumerate(s, start=1)} for s in self.scales]
        self.changed = False

    def index(self, question: str) -> int:
        i = self.position.get(question)
        if i is None:
            i = self.position[question] = len(self.questions)
            self.questions.append(question)
            self.scales.append([])
            self.codes.append({})
            self.changed = True
        return i

    def code(self, i: int, value: Any) -> Any:
        if isinstance(value, str):
            c = self.codes[i].get(value)
            if c is not None:
                return c
            if value and len(value) <= self.MAX_LABEL and len(self.scales[i]) < self.MAX_SCALE:
                self.scales[i].append(value)
                c = self.codes[i][value] = len(self.scales[i])
                self.changed = True
                return c
            return value
        return [value]

    def encode(self, answers: dict[str, Any]) -> list[Any]:
        """{question: answer} as a code list (every present key codes non-zero)."""
        pairs = [(self.index(q), v) for q, v in answers.items()]
        codes: list[Any] = [0] * (max((i for i, _ in pairs), default=-1) + 1)
        for i, v in pairs:
            codes[i] = self.code(i, v)
        return codes

    def tokens(self, question: str, distinct: Sequence[Optional[str]]) -> list[str]:
        """The JSON token of each of these answers (None = not answered: "0")."""
        i = self.index(question)
        out = []
        for text in distinct:
            c = 0 if text is None else self.code(i, text)
            out.append(str(c) if isinstance(c, int) else _dumps(c))
        return out

    def column_tokens(self, question: str, texts: Sequence[Optional[str]]) -> list[str]:
        """One column of parsed answers (None = not answered) as JSON tokens of their codes."""
        distinct = list(dict.fromkeys(texts))  # first-seen order: codes do not depend on hashing
        table = dict(zip(distinct, self.tokens(question, distinct)))
        return list(map(table.__getitem__, texts))

    def save(self, session: Session) -> None:
        if self.changed:
            self.form.questions = list(self.questions)
            self.form.scales = [list(s) for s in self.scales]
            session.add(self.form)
            session.flush()
            self.changed = False


LEGACY_PREFIX = "legacy:"


def form_for(session: Session, *, organization_id: int, fiscal_year: int, instrument: Instrument,
             signature: str, questions: Sequence[str],
             key_columns: Optional[Sequence[str]] = None) -> SurveyForm:
    """The form with this header signature, made on first sight (with ``key_columns``, the
    answers its keys are made of when fewer than all: see ``survey_keys.key_columns``).

    A form migrated from before forms existed (``legacy:`` signature) whose questions are all
    among this file's is taken over on first sight, so the first cumulative export after the
    upgrade continues its rows instead of starting a second form beside them.
    """
    same = (SurveyForm.organization_id == organization_id, SurveyForm.fiscal_year == fiscal_year,
            SurveyForm.instrument == instrument)
    form = session.execute(select(SurveyForm).where(*same, SurveyForm.signature == signature)).scalar_one_or_none()
    if form is None:
        wanted = set(questions)
        legacy = [f for f in session.execute(
            select(SurveyForm).where(*same, col(SurveyForm.signature).startswith(LEGACY_PREFIX))).scalars()
            if f.questions and set(f.questions) <= wanted]
        if len(legacy) == 1:
            form = legacy[0]
            form.signature = signature
        else:
            form = SurveyForm(organization_id=organization_id, fiscal_year=fiscal_year, instrument=instrument,
                              signature=signature)
        form.key_columns = sorted(key_columns) if key_columns else None  # the rule this file's keys were made by
        session.add(form)
        session.flush()
    return form


def response_answers(session: Session, response: SurveyResponse) -> dict[str, Any]:
    """{question: answer} of a stored response (``response.answers`` does the same when the
    response is attached to a session)."""
    from ..models import decode_answers

    form = session.get(SurveyForm, response.form_id) if response.form_id is not None else None
    return decode_answers(response.answer_codes, form)


def remember_mapping(session: Session, *, organization_id: int, signature: str, mapping: dict[str, Any],
                     user_id: Optional[int] = None) -> None:
    """Keep the column roles an admin confirmed for a form (by header signature)."""
    row = session.execute(
        select(FormMapping).where(FormMapping.organization_id == organization_id, FormMapping.signature == signature)
    ).scalar_one_or_none()
    before = dict(row.mapping) if row else None
    if row is None:
        row = FormMapping(organization_id=organization_id, signature=signature, mapping=dict(mapping))
    else:
        row.mapping = dict(mapping)
        row.updated_at = utcnow()
    session.add(row)
    audit.record(session, user_id=user_id, action="survey.mapping", entity="form_mapping", entity_id=signature[:16],
                 organization_id=organization_id, before=before, after=dict(mapping))
    session.flush()


def recall_mapping(session: Session, *, organization_id: int, signature: str) -> Optional[dict[str, Any]]:
    """The mapping remembered for this form's header signature, or None."""
    row = session.execute(
        select(FormMapping).where(FormMapping.organization_id == organization_id, FormMapping.signature == signature)
    ).scalar_one_or_none()
    return dict(row.mapping) if row else None
