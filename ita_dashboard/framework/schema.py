"""The shape of the framework files as pydantic models: which tables and fields a year file (and
``legacy_grades.toml``) has, and their types. A file that does not fit is refused with
``ValueError("fy2568.toml: instruments.iit.weight.confidence: ...")``: the file and the field, before
any value is used. What the shape cannot say (weights summing to 1, indicators 1-10, a label on
two scales) is checked afterwards by :mod:`.files`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

from pydantic import (BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, StringConstraints, ValidationError,
                      model_validator)

Number = StrictFloat  # a TOML number (whole or not); true/false or "85" are not numbers
SourceId = Annotated[str, StringConstraints(strict=True, pattern=r"^(S\d+|APP)$")]  # a fact-sheet id, or APP


class Provenance(BaseModel):
    """Where a value comes from: fact-sheet ids, confidence, and a note (needed when unconfirmed)."""

    model_config = ConfigDict(extra="allow")

    sources: list[SourceId] = Field(min_length=1)
    confidence: Literal["H", "M", "L", "U"]
    note: StrictStr = ""

    @model_validator(mode="after")
    def _checked(self) -> "Provenance":
        if self.confidence == "U" and not self.note.strip():
            raise ValueError("a value with confidence U needs a note saying why")
        return self


class Leaf(Provenance):
    """``{value, sources, confidence, note}``; no ``value`` means unknown."""

    model_config = ConfigDict(extra="forbid")

    value: Any = None


class Indicator(Provenance):
    number: StrictInt
    name_th: StrictStr
    name_en: Leaf
    keywords: Leaf


class Instrument(Provenance):
    code: StrictStr
    name_th: StrictStr
    name_en: Leaf
    weight: Leaf
    match_order: Optional[list[StrictInt]] = None
    indicators: list[Indicator] = []


class AnswerScale(Provenance):
    model_config = ConfigDict(extra="forbid")

    values: dict[str, Number]


class Level(Provenance):
    label_th: StrictStr
    min_score: Number
    instrument_min: Optional[Number] = None


class CollectionWindow(Provenance):
    start: Any  # [month, day] or "MM-DD": checked as a date by files.py
    end: Any


class OitItem(Provenance):
    number: Any  # "O25": checked by oit_items.py
    name_th: StrictStr
    indicator: StrictInt
    sub_indicator: StrictStr = ""
    contents: StrictStr = ""
    covers: StrictStr = "current"


class YearFile(BaseModel):
    """One ``fyNNNN.toml``."""

    model_config = ConfigDict(extra="forbid")

    fiscal_year: StrictInt
    passing_bar: Leaf
    instrument_floor: Leaf
    rollup: Provenance
    instruments: dict[str, Instrument]
    answer_scales: dict[str, AnswerScale]
    levels: list[Level]
    eit_minimum: dict[str, dict[str, Leaf]]
    collection_window: CollectionWindow
    measures_o_items: dict[str, Leaf]
    oit_items: Optional[list[OitItem]] = None


class LegacyGrades(BaseModel):
    """``legacy_grades.toml``: the letter grades used up to a fiscal year."""

    model_config = ConfigDict(extra="forbid")

    until_fiscal_year: StrictInt
    levels: list[Level]


def read_toml(path: Path) -> dict:
    """The file as a dict; a syntax error names the file, the line and the column."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path.name}: not valid TOML: {exc}") from None


def _field(loc: tuple) -> str:
    """A pydantic location as a dotted key: ``instruments.iit.indicators.0.keywords``."""
    return ".".join(str(part) for part in loc)


def check(doc: Any, name: str, model: type[BaseModel] = YearFile) -> None:
    """Refuse a document that does not have the shape of ``model``, naming the file and the field."""
    try:
        model.model_validate(doc)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            where = _field(err["loc"]) or "(the file)"
            if err["type"] == "extra_forbidden" and len(err["loc"]) == 1:
                problems.append(f"unknown top-level key {where!r} (a key placed after a [table] header belongs to that table)")
            elif err["type"] == "extra_forbidden":
                problems.append(f"{where}: unknown key")
            else:
                problems.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        raise ValueError(f"{name}: {shown}") from None


def check_year_file(doc: Any, name: str) -> None:
    check(doc, name, YearFile)


def check_legacy_file(doc: Any, name: str) -> None:
    check(doc, name, LegacyGrades)
