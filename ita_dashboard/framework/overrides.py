"""An agency's own values over the year file: which keys it may set, their checks, applying them,
and the consistency of the result."""

from __future__ import annotations

from typing import Any

from .values import (AGENCY_KINDS, AGENCY_SIZES, INSTRUMENT_KEYS, _canonical, _eit_min, _fy_order, _month_day, _nearest,
                     _number, _o_item)


def _override_keys(levels: list[tuple[str, float]], passing_bar: float) -> list[str]:
    """Overridable keys. Rating thresholds are, except the failing label (always 0) and the
    lowest passing one, which always starts at ``passing_bar``."""
    keys = [f"instruments.{k}.weight" for k in INSTRUMENT_KEYS] + ["passing_bar", "instrument_floor"]
    keys += [f"levels.{label}" for label, lo in levels[:-1] if lo != passing_bar]
    keys += [f"eit_minimum.{kind}.{size}" for kind in AGENCY_KINDS for size in AGENCY_SIZES]
    keys += ["collection_window.start", "collection_window.end", "measures_o_items.plan", "measures_o_items.report"]
    return keys


def _check_override(key: str, value: Any) -> Any:
    if key.endswith(".weight"):
        return _number(value, key, 0, 1)
    if key in ("passing_bar", "instrument_floor") or key.startswith("levels."):
        return _number(value, key, 0, 100)
    if key.startswith("eit_minimum."):
        return _eit_min(value, key)
    if key.startswith("collection_window."):
        return _month_day(value, key)
    return _o_item(value, key)


def _apply_overrides(values: dict, prov: dict, overrides: Any) -> dict[str, Any]:
    if not isinstance(overrides, dict):
        raise ValueError(f"overrides must be a dict of dotted key -> value, got {type(overrides).__name__}")
    allowed = _override_keys(values["levels"], values["passing_bar"])
    old_bar = values["passing_bar"]
    applied: dict[str, Any] = {}
    for raw_key, value in overrides.items():
        key = _canonical(raw_key)
        if key not in allowed:
            raise ValueError(f"unknown framework key {raw_key!r}; keys an agency may set: {', '.join(allowed)}")
        if value is None and not key.startswith(("eit_minimum.", "measures_o_items.")):
            raise ValueError(f"{key} cannot be empty (None)")
        value = _check_override(key, value)
        default = values[key] if not key.startswith("levels.") else dict(values["levels"])[key[len("levels."):]]
        if key.startswith("levels."):
            label = key[len("levels."):]
            values["levels"] = [(lab, value if lab == label else lo) for lab, lo in values["levels"]]
        else:
            values[key] = value
        applied[key] = value
        was = _nearest(prov, key)
        prov[key] = {"sources": ["agency"], "confidence": "M",
                     "note": f"set by this agency; the framework file says {default!r} "
                             f"({was['confidence']} {', '.join(was['sources'])}: {was['note']})"}
    if values["passing_bar"] != old_bar:  # the lowest passing label moves with the bar
        values["levels"] = [(lab, values["passing_bar"] if lo == old_bar else lo) for lab, lo in values["levels"]]
        for label in (lab for lab, lo in values["levels"] if lo == values["passing_bar"]):
            prov[f"levels.{label}"] = dict(prov["passing_bar"], note=f"starts at passing_bar; {prov['passing_bar']['note']}")
    return applied


def _check_consistency(values: dict) -> None:
    mins = [lo for _, lo in values["levels"]]
    gated = [label in values.get("level_gates", {}) for label, _ in values["levels"]]
    # Two labels may start at one total only when the higher one also asks each instrument.
    if any(a < b or (a == b and not g) for a, b, g in zip(mins, mins[1:], gated)) or mins[-1] != 0:
        shown = ", ".join(f"{lab} {lo:g}" for lab, lo in values["levels"])
        raise ValueError(f"rating thresholds must fall from the best label to 0 (with passing_bar in between): {shown}")
    if not sum(values[f"instruments.{k}.weight"] or 0 for k in INSTRUMENT_KEYS) > 0:
        raise ValueError("at least one instrument weight must be above 0")
    start, end = values["collection_window.start"], values["collection_window.end"]
    if _fy_order(start) > _fy_order(end):
        raise ValueError(f"collection_window.start {start} must not fall after collection_window.end {end} in the fiscal year")
