"""Respondent-level scores of survey answers, from the year's framework (see :class:`Scorer`)."""

from __future__ import annotations

from typing import Optional, Sequence


INDICATOR_SLOTS = 5  # SurveyResponse.indicator_score_1..5


class Scorer:
    """Respondent-level scores from the year's framework, prepared once per file.

    ``score`` is the mean of the response's scored answers to questions that belong to one of the
    instrument's indicators (all scored answers when the framework recognises no question of the
    form); slot k is the mean for the k-th indicator of the instrument. None where nothing scored.
    Computed per question column with numpy: 100,000 responses x 40 questions stay well under a
    second, where a Python loop over every answer takes several.
    """

    def __init__(self, *, fiscal_year: int, instrument: str, questions: Sequence[str]):
        self.questions = list(questions)
        self.slots: list[int] = []
        self.values: dict[str, float] = {}
        try:
            from ..framework import load_framework

            fw = load_framework(fiscal_year)
        except (ValueError, LookupError, OSError):
            return  # no usable framework for that year: responses count, scores stay empty
        numbers = [ind.number for ind in fw.instruments[instrument].indicators]
        slot_of_number = {n: k for k, n in enumerate(numbers[:INDICATOR_SLOTS], start=1)}
        self.slots = [slot_of_number.get(fw.indicator_for_question(instrument, q), 0) for q in self.questions]
        self._fw = fw

    def value(self, text: Optional[str]) -> float:
        """The score of one answer text (NaN when it is on no scale of the year)."""
        v = self.values.get(text)
        if v is None:
            score = self._fw.score_answer(text) if self.slots and isinstance(text, str) else None
            v = self.values[text] = float("nan") if score is None else float(score)
        return v

    def scores(self, matrix, n: int) -> list[list[Optional[float]]]:
        """Per response: [score, slot1, ..., slot5], from the (questions x responses) answer scores."""
        if not self.slots or not n:
            return [[None] * (INDICATOR_SLOTS + 1) for _ in range(n)]
        import numpy as np

        slots = np.array(self.slots)
        per_slot = [_mean(matrix[slots == k]) for k in range(1, INDICATOR_SLOTS + 1)]
        overall = _mean(matrix[slots > 0]) if (slots > 0).any() else _mean(matrix)
        return [list(r) for r in zip(*[_nullable(c) for c in [overall, *per_slot]])]


def _mean(block):
    """Row-wise mean over a (questions x responses) block ignoring NaN; NaN where nothing scored."""
    import numpy as np

    scored = ~np.isnan(block)
    counts = scored.sum(axis=0)
    sums = np.where(scored, block, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def _nullable(values) -> list[Optional[float]]:
    return [None if v != v else float(v) for v in values.tolist()]
