"""``load_framework``: the year file (or the nearest one), the legacy grades, an agency's overrides."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, Optional

from .files import _DIR, _parse, _parse_levels, _Parser, _read, available_years
from .model import Framework, InstrumentDef
from .overrides import _apply_overrides, _check_consistency
from .schema import check_legacy_file
from .values import AGENCY_KINDS, AGENCY_SIZES, normalize_text


def load_framework(fiscal_year: int, overrides: Optional[dict[str, Any]] = None) -> Framework:
    """The framework of a fiscal year (BE), with an agency's own values applied."""
    if isinstance(fiscal_year, bool) or not isinstance(fiscal_year, int) or not 2400 <= fiscal_year <= 2700:
        raise ValueError(f"fiscal_year must be a Buddhist Era year such as 2568, got {fiscal_year!r}")
    years = available_years()
    if not years:
        raise ValueError(f"no framework files (fyNNNN.toml) in {_DIR}")
    file_year = max((y for y in years if y <= fiscal_year), default=years[0])
    name = f"fy{file_year}.toml"
    doc = _read(name)
    if doc.get("fiscal_year") != file_year:
        raise ValueError(f"{name}: fiscal_year must be {file_year}")
    values, prov = _parse(doc, name)
    prov = copy.deepcopy(prov)

    if file_year != fiscal_year:
        for entry in prov.values():
            was = entry["confidence"]
            entry["confidence"] = "U"
            entry["note"] = f"no framework file for {fiscal_year}; taken from the {file_year} file (there {was}: {entry['note']})"
        values["oit_items"] = [
            dataclasses.replace(i, confidence="U", note=f"no framework file for {fiscal_year}; taken from the {file_year} file "
                                                       f"(there {i.confidence}: {i.note})")
            for i in values["oit_items"]
        ]
    legacy = _read("legacy_grades.toml")
    check_legacy_file(legacy, "legacy_grades.toml")
    if fiscal_year <= legacy["until_fiscal_year"]:
        p = _Parser("legacy_grades.toml")
        values["levels"] = _parse_levels(p, legacy["levels"])
        prov = {k: e for k, e in prov.items() if not k.startswith("levels.")} | p.prov
        values["instrument_floor"] = None
        values["level_gates"] = {}
        prov["instrument_floor"] = {"sources": ["S10", "S13"], "confidence": "U",
                                    "note": "per-instrument floors are known only with the rating labels from 2566; none applied"}
    if not any(lo == values["passing_bar"] for _, lo in values["levels"]):
        raise ValueError(f"{name}: one label must start at passing_bar ({values['passing_bar']})")

    applied = _apply_overrides(values, prov, overrides or {})
    _check_consistency(values)

    return Framework(
        fiscal_year=fiscal_year,
        passing_bar=values["passing_bar"],
        instrument_floor=values["instrument_floor"],
        instruments={k: InstrumentDef(weight=values[f"instruments.{k}.weight"], **d) for k, d in values["instruments"].items()},
        answer_scales=copy.deepcopy(values["answer_scales"]),
        levels=list(values["levels"]),
        level_gates=dict(values["level_gates"]),
        oit_items=list(values["oit_items"]),
        measures_o_items={w: values[f"measures_o_items.{w}"] for w in ("plan", "report")},
        collection_window=(values["collection_window.start"], values["collection_window.end"]),
        inherited_from=file_year if file_year != fiscal_year else None,
        overrides=applied,
        _eit_minimum={(k, s): values[f"eit_minimum.{k}.{s}"] for k in AGENCY_KINDS for s in AGENCY_SIZES},
        _provenance=prov,
        _answers={normalize_text(label): score for scale in values["answer_scales"].values() for label, score in scale.items()},
    )
