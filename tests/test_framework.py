"""The per-year ITA framework files and their loader (ita_dashboard.framework)."""

from __future__ import annotations

import copy
import csv
import datetime as dt
from pathlib import Path

import pytest

from ita_dashboard import framework as fwmod
from ita_dashboard.framework import files as fwfiles
from ita_dashboard.framework import AGENCY_KINDS, AGENCY_SIZES, Framework, available_years, load_framework

SAMPLES = Path(__file__).resolve().parent / "data" / "samples"  # copies of shared/samples
IIT_CSV = SAMPLES / "iit_google_forms_2568.csv"
EIT_XLSX = SAMPLES / "eit_microsoft_forms_2568.xlsx"
YEARS = [2566, 2567, 2568, 2569]
CONFIDENCES = {"H", "M", "L", "U"}


def _iit_rows() -> list[list[str]]:
    if not IIT_CSV.exists():
        pytest.skip("sample files not available")
    with open(IIT_CSV, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def _eit_rows() -> list[list]:
    if not EIT_XLSX.exists():
        pytest.skip("sample files not available")
    from ita_dashboard.importers.tabular import read_sheets

    return read_sheets(EIT_XLSX.read_bytes())[0].rows


# IIT: Timestamp, department, then questions; EIT: 6 Microsoft Forms columns, department, questions.
IIT_FIRST_Q, EIT_FIRST_Q = 2, 7
# The question number a sample column starts with -> the indicator it belongs to (NACC form structure).
IIT_EXPECTED = {1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 3, 7: 3, 8: 4, 9: 5}
EIT_EXPECTED = {1: 6, 2: 6, 3: 7, 4: 8}


# ------------------------------------------------------------------ files: complete and consistent


def test_available_years():
    assert available_years() == YEARS
    assert AGENCY_KINDS == ["เทศบาลนคร", "เทศบาลเมือง", "เทศบาลตำบล", "อบจ.", "อบต.", "other"]
    assert AGENCY_SIZES == ["S", "M", "L"]


@pytest.mark.parametrize("year", YEARS)
def test_year_file_is_complete_and_consistent(year):
    fw = load_framework(year)
    assert isinstance(fw, Framework)
    assert fw.fiscal_year == year and fw.inherited_from is None
    assert fw.passing_bar == 85 and fw.instrument_floor == 85
    assert list(fw.instruments) == ["iit", "eit", "oit"]
    assert sum(i.weight for i in fw.instruments.values()) == pytest.approx(1)
    numbers = [ind.number for inst in fw.instruments.values() for ind in inst.indicators]
    assert sorted(numbers) == list(range(1, 11))
    assert [i.number for i in fw.instruments["iit"].indicators] == [1, 2, 3, 4, 5]
    assert [i.number for i in fw.instruments["eit"].indicators] == [6, 7, 8]
    assert [i.number for i in fw.instruments["oit"].indicators] == [9, 10]
    for inst in fw.instruments.values():
        assert inst.code and inst.name_th and inst.name_en
        for ind in inst.indicators:
            assert ind.name_th and ind.name_en
            assert isinstance(ind.keywords, tuple)
            assert ind.keywords or inst.code == "OIT"
    assert fw.answer_scales["level4"] == {"มากที่สุด": 100, "มาก": 67, "น้อย": 33, "น้อยที่สุดหรือไม่มีเลย": 0}
    assert fw.answer_scales["yes_no_reverse"] == {"มี": 0, "ไม่มี": 100}
    if year == 2566:
        assert [label for label, _ in fw.levels] == ["ผ่านดีเยี่ยม", "ผ่านดี", "ผ่าน", "ไม่ผ่าน"]
    else:  # 2567 on: the five labels with per-instrument gates (ita-facts section 10)
        assert [label for label, _ in fw.levels] == ["ผ่านดีเยี่ยม", "ผ่านดี", "ผ่าน", "ต้องปรับปรุง", "ต้องปรับปรุงโดยด่วน"]
        assert fw.level_gates == {"ผ่านดีเยี่ยม": 95.0, "ผ่านดี": 85.0}
    assert dict(fw.levels)["ผ่าน"] == 85 and fw.levels[-1][1] == 0
    assert fw.collection_window == ((1, 1), (6, 30))


def _all_keys(fw: Framework) -> list[str]:
    keys = ["passing_bar", "instrument_floor", "rollup", "collection_window", *fw.override_keys()]
    keys += [f"answer_scales.{s}" for s in fw.answer_scales]
    keys += [f"levels.{label}" for label, _ in fw.levels]
    for k, inst in fw.instruments.items():
        keys += [f"instruments.{k}", f"instruments.{k}.name_en", f"instruments.{k}.weight"]
        for ind in inst.indicators:
            base = f"instruments.{k}.indicators.{ind.number}"
            keys += [base, f"{base}.name_th", f"{base}.name_en", f"{base}.keywords"]
    return keys


@pytest.mark.parametrize("year", YEARS)
def test_every_value_has_source_and_confidence(year):
    fw = load_framework(year)
    for key in _all_keys(fw):
        src = fw.source(key)
        assert src["sources"] and all(s == "APP" or s[0] == "S" for s in src["sources"]), key
        assert src["confidence"] in CONFIDENCES, key
        if src["confidence"] == "U":
            assert src["note"].strip(), key


def _leaves(node, path=""):
    """Every table of the raw TOML that holds a value or provenance."""
    if isinstance(node, dict):
        if {"value", "sources", "confidence"} & set(node):
            yield path, node
        for k, v in node.items():
            yield from _leaves(v, f"{path}.{k}" if path else k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, f"{path}[{i}]")


@pytest.mark.parametrize("year", YEARS)
def test_raw_file_provenance(year):
    doc = fwfiles._read(f"fy{year}.toml")
    leaves = list(_leaves(doc))
    assert len(leaves) > 50
    for path, leaf in leaves:
        assert leaf.get("sources") and leaf.get("confidence") in CONFIDENCES, path
        if "value" not in leaf or leaf["confidence"] == "U":
            assert leaf.get("note", "").strip(), f"{path}: unknown/U value without a note"


@pytest.mark.parametrize("year", YEARS)
def test_weights_are_assumed_from_2564(year):
    fw = load_framework(year)
    assert {k: i.weight for k, i in fw.instruments.items()} == {"iit": 0.3, "eit": 0.3, "oit": 0.4}
    src = fw.source("instruments.iit.weight")
    assert src["confidence"] == "U" and src["sources"] == ["S1"]
    assert "assumed from 2564 [S1]" in src["note"] and "override per agency" in src["note"]


def test_confidences_follow_the_fact_sheet():
    assert load_framework(2566).source("passing_bar")["confidence"] == "H"
    assert load_framework(2566).source("instruments.iit.indicators.1")["confidence"] == "H"
    assert load_framework(2568).source("instruments.iit.indicators.1")["confidence"] == "M"
    assert load_framework(2569).source("instruments.iit.indicators.1")["confidence"] == "U"
    assert load_framework(2568).source("instruments.iit.indicators.3.keywords")["sources"] == ["APP"]
    assert load_framework(2568).source("answer_scales.level4")["confidence"] == "L"
    assert load_framework(2567).source("collection_window")["confidence"] == "H"
    assert load_framework(2568).source("collection_window.start")["confidence"] == "M"
    for year in YEARS:
        fw = load_framework(year)
        assert fw.source("instrument_floor")["confidence"] == "U"
        assert fw.source("levels.ผ่าน")["confidence"] == "H"
        # 2567 on, the cut rules come from public replica code [S38] (L); 2566 keeps U thresholds
        assert fw.source("levels.ผ่านดีเยี่ยม")["confidence"] == ("U" if year == 2566 else "L")


def test_eit_minimums_and_gaps():
    fw = load_framework(2568)
    assert fw.eit_minimum("เทศบาลตำบล", "S") == 60
    assert fw.eit_minimum("เทศบาลตำบล", "M") == 70
    assert fw.eit_minimum("เทศบาลตำบล", "L") is None
    assert [fw.eit_minimum("อบต.", s) for s in AGENCY_SIZES] == [30, 40, 50]
    for kind in ("เทศบาลนคร", "เทศบาลเมือง", "อบจ.", "other"):
        assert all(fw.eit_minimum(kind, s) is None for s in AGENCY_SIZES)
    assert fw.eit_minimum("อบต.", None) is None
    assert fw.eit_minimum("อบต.", "m") == 40
    assert fw.source("eit_minimum.อบต..S")["sources"] == ["S17"]
    assert fw.source("eit_minimum.อบต..S")["confidence"] == "M"
    assert fw.source("eit_minimum.อบต.S")["confidence"] == "M"  # the single-dot spelling works too
    assert fw.source("eit_minimum.เทศบาลตำบล.L")["confidence"] == "U"
    assert load_framework(2567).source("eit_minimum.เทศบาลตำบล.M")["confidence"] == "U"
    with pytest.raises(ValueError, match="agency kind"):
        fw.eit_minimum("อำเภอ", "S")
    with pytest.raises(ValueError, match="agency size"):
        fw.eit_minimum("อบต.", "XL")


def test_measures_o_items_per_year():
    assert load_framework(2566).measures_o_items == {"plan": "O42", "report": "O43"}
    assert load_framework(2566).source("measures_o_items.plan")["confidence"] == "H"
    assert load_framework(2567).measures_o_items == {"plan": "O42", "report": "O43"}
    assert load_framework(2567).source("measures_o_items.report")["confidence"] == "U"
    assert load_framework(2568).measures_o_items == {"plan": None, "report": None}
    assert "partial" in load_framework(2568).source("measures_o_items.plan")["note"]
    assert load_framework(2569).measures_o_items == {"plan": "O25", "report": "O26"}
    assert load_framework(2569).source("measures_o_items.plan")["confidence"] == "L"


def test_collection_dates_are_ce_dates_of_the_fiscal_year():
    assert load_framework(2568).collection_dates() == (dt.date(2025, 1, 1), dt.date(2025, 6, 30))
    assert load_framework(2567).collection_dates() == (dt.date(2024, 1, 1), dt.date(2024, 6, 30))
    fw = load_framework(2568, {"collection_window.start": [10, 15], "collection_window.end": "02-29"})
    assert fw.collection_dates() == (dt.date(2024, 10, 15), dt.date(2025, 2, 28))  # 2025 is no leap year


# ------------------------------------------------------------------ scores


def test_2564_oit_arithmetic():
    """ita-facts section 1: (93.50 + 100) / 2 x 0.4 = 38.70 (weights 30/30/40 of 2564)."""
    fw = load_framework(2568)  # weights assumed from 2564
    oit = fw.instrument_score("oit", {9: 93.50, 10: 100})
    assert oit == pytest.approx(96.75)
    assert fw.contribution("oit", oit) == pytest.approx(38.70)
    assert fw.weighted_total({"iit": 90.0, "eit": 80.0, "oit": oit}) == pytest.approx(27 + 24 + 38.70)


def test_weighted_total_missing_and_unknown():
    fw = load_framework(2568)
    assert fw.weighted_total({"iit": 90.0, "eit": None, "oit": 90.0}) is None
    assert fw.weighted_total({"iit": 90.0, "eit": 90.0}) is None
    assert fw.weighted_total({"IIT": 90.0, "EIT": 90.0, "OIT": 90.0}) == pytest.approx(90)
    assert fw.instrument_score("iit", {1: 80, 2: 90}) is None
    with pytest.raises(ValueError):
        fw.weighted_total({"iit": 1.0, "xit": 1.0})
    with pytest.raises(ValueError):
        fw.instrument_score("oit", {1: 90.0})


def test_score_answer_on_every_sample_answer():
    fw = load_framework(2568)
    expected = {"มากที่สุด": 100, "มาก": 67, "น้อย": 33, "น้อยที่สุดหรือไม่มีเลย": 0, "มี": 0, "ไม่มี": 100}
    iit = _iit_rows()
    eit = _eit_rows()
    answers = {v for r in iit[1:] for v in r[IIT_FIRST_Q:]} | {v for r in eit[1:] for v in r[EIT_FIRST_Q:]}
    assert answers  # every answer cell of both files
    for a in answers:
        if a in ("", None):
            assert fw.score_answer(a) is None
        else:
            assert fw.score_answer(a) == expected[a], a
    assert set(expected) <= answers


def test_score_answer_normalises_and_rejects():
    fw = load_framework(2566)
    assert fw.score_answer(" มาก ") == 67
    assert fw.score_answer("น้อยที่สุด หรือไม่มีเลย") == 0
    assert fw.score_answer("มากที่สุด\u00a0") == 100
    assert fw.score_answer("ไม่\u200bมี") == 100
    for bad in ("", "ไม่แน่ใจ", "4", None, 3.0, "มากๆ"):
        assert fw.score_answer(bad) is None


def test_indicator_for_every_sample_question():
    fw = load_framework(2568)
    iit_header = _iit_rows()[0]
    eit_header = _eit_rows()[0]
    for instrument, header, first, expected in (
        ("iit", iit_header, IIT_FIRST_Q, IIT_EXPECTED),
        ("eit", eit_header, EIT_FIRST_Q, EIT_EXPECTED),
    ):
        questions = header[first:]
        assert questions
        for q in questions:
            number = int(q.split(".", 1)[0])
            assert fw.indicator_for_question(instrument, q) == expected[number], q
        # The non-question columns match nothing.
        for col in header[:first]:
            assert fw.indicator_for_question(instrument, col) is None, col


def test_indicator_for_question_other_wordings():
    fw = load_framework(2569)
    eit = "เจ้าหน้าที่ของหน่วยงานที่ท่านติดต่อ มีการปรับปรุงคุณภาพการปฏิบัติงาน/การให้บริการ ให้ดีขึ้น"
    assert fw.indicator_for_question("eit", eit) == 8
    assert fw.indicator_for_question("EIT", "หน่วยงานนำเทคโนโลยีมาใช้ในการให้บริการ") == 8
    assert fw.indicator_for_question("eit", "เจ้าหน้าที่ให้บริการ [ให้ข้อมูลอย่างชัดเจน]") == 6
    assert fw.indicator_for_question("iit", "บุคลากร นำ ทรัพย์สิน ของ ราชการ ไปใช้ส่วนตัว") == 4
    assert fw.indicator_for_question("iit", "เพศ") is None
    assert fw.indicator_for_question("iit", None) is None
    assert fw.indicator_for_question("oit", "ทุจริต") is None
    with pytest.raises(ValueError, match="instrument"):
        fw.indicator_for_question("xit", "ทุจริต")


def test_levels():
    """2567 on: the total and each instrument's gate (ita-facts section 10, public replica code [S38])."""
    fw = load_framework(2568)
    assert [label for label, _ in fw.levels] == ["ผ่านดีเยี่ยม", "ผ่านดี", "ผ่าน", "ต้องปรับปรุง", "ต้องปรับปรุงโดยด่วน"]
    assert fw.level_for(97, {"iit": 96.0, "eit": 95.0, "oit": 99.0}) == "ผ่านดีเยี่ยม"
    assert fw.level_for(95.81, {"iit": 97.0, "eit": 93.0, "oit": 97.0}) == "ผ่านดี"  # 2566 data point [S11]
    assert fw.level_for(92.43, {"iit": 90.0, "eit": 88.0, "oit": 97.0}) == "ผ่านดี"  # [S13]
    assert fw.level_for(91.15, {"iit": 95.0, "eit": 80.0, "oit": 96.0}) == "ผ่าน"  # [S12]
    assert fw.level_for(85) == "ผ่านดี"  # no instrument known: nothing holds it back
    assert fw.level_for(84.99) == "ต้องปรับปรุง"
    assert fw.level_for(70) == "ต้องปรับปรุง" and fw.level_for(69.99) == "ต้องปรับปรุงโดยด่วน"
    assert fw.level_for(0) == "ต้องปรับปรุงโดยด่วน"
    # สตง. 2568: 94.64 but EIT below 85 -> only ผ่าน, and EIT is what holds it back [S13]
    assert fw.rating(94.64, {"iit": 99.0, "eit": 80.0, "oit": 100.0}) == ("ผ่าน", ["eit"])
    assert fw.rating(96.5, {"iit": 99.0, "eit": 90.0, "oit": 100.0}) == ("ผ่านดี", ["eit"])
    assert fw.rating(96.5, {"iit": 99.0, "eit": None, "oit": 100.0}) == ("ผ่านดีเยี่ยม", [])
    assert fw.rating(80, {"eit": 10.0}) == ("ต้องปรับปรุง", [])
    with pytest.raises(TypeError):
        fw.level_for(None)


def test_2566_keeps_the_floor_cap_without_gates():
    fw = load_framework(2566)
    assert fw.level_gates == {}
    assert fw.rating(96.5, {"iit": 99.0, "eit": 80.0, "oit": 100.0}) == ("ผ่าน", ["eit"])
    assert fw.level_for(84.99) == "ไม่ผ่าน"


def test_years_up_to_2565_use_the_letter_grades():
    fw = load_framework(2565)
    assert fw.inherited_from == 2566
    assert [label for label, _ in fw.levels] == ["AA", "A", "B", "C", "D", "E", "F"]
    assert fw.level_for(95) == "AA" and fw.level_for(94.99) == "A" and fw.level_for(49.99) == "F"
    assert fw.source("levels.AA")["confidence"] == "H"
    assert fw.instrument_floor is None
    assert fw.level_for(96, {"eit": 50.0}) == "AA"


def test_year_without_file_inherits():
    fw = load_framework(2571)
    assert fw.fiscal_year == 2571 and fw.inherited_from == 2569
    assert fw.measures_o_items == {"plan": "O25", "report": "O26"}
    assert fw.collection_dates() == (dt.date(2028, 1, 1), dt.date(2028, 6, 30))
    assert all(fw.source(k)["confidence"] == "U" for k in _all_keys(fw))
    assert "2569" in fw.source("passing_bar")["note"]
    for bad in (2025, "2568", True, None):
        with pytest.raises(ValueError, match="Buddhist Era"):
            load_framework(bad)


def test_unknown_source_key():
    with pytest.raises(KeyError):
        load_framework(2568).source("no.such.key")


# ------------------------------------------------------------------ overrides


def test_override_keys():
    keys = load_framework(2568).override_keys()
    for k in ("instruments.iit.weight", "instruments.eit.weight", "instruments.oit.weight", "passing_bar",
              "instrument_floor", "eit_minimum.เทศบาลเมือง.M", "eit_minimum.อบจ..L", "collection_window.start",
              "collection_window.end", "measures_o_items.plan", "measures_o_items.report", "levels.ผ่านดีเยี่ยม"):
        assert k in keys
    assert len(keys) == len(set(keys))
    assert "levels.ไม่ผ่าน" not in keys and "levels.ผ่าน" not in keys


def test_overrides_apply():
    overrides = {
        "instruments.iit.weight": 0.25, "instruments.eit.weight": 0.25, "instruments.oit.weight": 0.5,
        "eit_minimum.เทศบาลเมือง.M": 120, "eit_minimum.อบจ.S": 80.0, "eit_minimum.อบต..S": None,
        "measures_o_items.plan": " o36 ", "measures_o_items.report": "O37",
        "collection_window.end": [7, 31], "levels.ผ่านดีเยี่ยม": 95,
    }
    fw = load_framework(2568, overrides=copy.deepcopy(overrides))
    assert fw.instruments["oit"].weight == 0.5
    assert fw.weighted_total({"iit": 80, "eit": 80, "oit": 100}) == pytest.approx(90)
    assert fw.eit_minimum("เทศบาลเมือง", "M") == 120
    assert fw.eit_minimum("อบจ.", "S") == 80
    assert fw.eit_minimum("อบต.", "S") is None
    assert fw.measures_o_items == {"plan": "O36", "report": "O37"}
    assert fw.collection_window == ((1, 1), (7, 31))
    assert fw.level_for(95.5) == "ผ่านดีเยี่ยม"
    src = fw.source("instruments.oit.weight")
    assert src["sources"] == ["agency"] and "0.4" in src["note"]
    assert fw.source("instruments.iit.indicators.1")["sources"] == ["S6"]  # untouched
    assert "eit_minimum.อบจ..S" in fw.overrides
    assert load_framework(2568).instruments["oit"].weight == 0.4  # the files are not changed


def test_weights_that_do_not_sum_to_one_are_normalised():
    fw = load_framework(2568, {"instruments.iit.weight": 0.6})  # one edit of several
    assert fw.weighted_total({"iit": 100, "eit": 100, "oit": 100}) == pytest.approx(100)
    assert fw.contribution("iit", 100) == pytest.approx(100 * 0.6 / 1.3)


def test_passing_bar_override_moves_the_pass_label():
    fw = load_framework(2568, {"passing_bar": 80})
    assert fw.passing_bar == 80
    assert dict(fw.levels)["ผ่าน"] == 80
    assert fw.level_for(82, {"eit": 82.0}) == "ผ่าน" and fw.level_for(79.9) == "ต้องปรับปรุง"
    assert fw.source("levels.ผ่าน")["sources"] == ["agency"]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"weights.iit": 0.3}, "unknown framework key"),
        ({"instruments.xit.weight": 0.3}, "unknown framework key"),
        ({"eit_minimum.อำเภอ.S": 10}, "unknown framework key"),
        ({"levels.ไม่ผ่าน": 10}, "unknown framework key"),
        ({"instruments.iit.weight": "0.3"}, "must be a number"),
        ({"instruments.iit.weight": True}, "must be a number"),
        ({"instruments.iit.weight": 30}, "between 0 and 1"),
        ({"instruments.iit.weight": None}, "cannot be empty"),
        ({"passing_bar": 120}, "between 0 and 100"),
        ({"passing_bar": 97}, "thresholds must fall"),
        ({"levels.ต้องปรับปรุง": 90}, "thresholds must fall"),
        ({"instruments.iit.weight": 0, "instruments.eit.weight": 0, "instruments.oit.weight": 0}, "above 0"),
        ({"eit_minimum.อบต..S": -1}, "whole number"),
        ({"eit_minimum.อบต..S": 10.5}, "whole number"),
        ({"eit_minimum.อบต..S": "30"}, "whole number"),
        ({"collection_window.start": [13, 1]}, "real date"),
        ({"collection_window.start": "1 Jan"}, "real date"),
        ({"collection_window.start": [7, 1]}, "must not fall after"),
        ({"measures_o_items.plan": "42"}, "like \"O42\""),
        ({"measures_o_items.plan": 42}, "like \"O42\""),
    ],
)
def test_bad_overrides_raise(overrides, message):
    with pytest.raises(ValueError, match=message):
        load_framework(2568, overrides=overrides)


def test_overrides_must_be_a_dict():
    with pytest.raises(ValueError, match="dict"):
        load_framework(2568, overrides=[("passing_bar", 80)])
    assert load_framework(2568, overrides={}).overrides == {}


# ------------------------------------------------------------------ broken files are refused


def _broken(mutate):
    doc = copy.deepcopy(fwfiles._read("fy2568.toml"))
    mutate(doc)
    return lambda: fwfiles._parse(doc, "test.toml")


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["instruments"]["oit"]["weight"].update(value=0.5), "sum to 1"),
        (lambda d: d["instruments"]["oit"]["indicators"].pop(), "1-10"),
        (lambda d: d["instruments"]["eit"]["indicators"][0].pop("sources"), "sources"),
        (lambda d: d["passing_bar"].update(confidence="X"), "confidence"),
        (lambda d: d["measures_o_items"]["plan"].update(note=""), "note"),
        (lambda d: d["eit_minimum"].pop("อบจ."), "kinds"),
        (lambda d: d.update(stray=1), "unknown top-level"),
        (lambda d: d["answer_scales"]["yes_no_reverse"]["values"].update({"มาก": 5.0}), "two scales"),
    ],
)
def test_broken_files_are_refused(mutate, message):
    with pytest.raises(ValueError, match=message):
        _broken(mutate)()


@pytest.mark.parametrize(
    "mutate, field, message",
    [
        (lambda d: d["instruments"]["iit"]["weight"].update(value=None, confidence="X"), "instruments.iit.weight.confidence",
         "'H', 'M', 'L' or 'U'"),
        (lambda d: d["passing_bar"].update(sources=[]), "passing_bar.sources", "at least 1"),
        (lambda d: d["passing_bar"].update(sources=["fact sheet 8"]), "passing_bar.sources.0", "pattern"),
        (lambda d: d["instruments"]["eit"]["indicators"][1].update(number="7"), "instruments.eit.indicators.1.number",
         "integer"),
        (lambda d: d["answer_scales"]["yes_no_reverse"]["values"].update({"มาก": "5"}), "answer_scales.yes_no_reverse.values.มาก",
         "number"),
        (lambda d: d["levels"][0].update(min_score=True), "levels.0.min_score", "number"),
        (lambda d: d["measures_o_items"]["plan"].update(valeu="O42"), "measures_o_items.plan.valeu", "unknown key"),
        (lambda d: d.pop("collection_window"), "collection_window", "Field required"),
    ],
)
def test_a_malformed_file_names_the_file_and_the_field(mutate, field, message):
    """The files' shape is checked by pydantic models (framework/schema.py) before any value is
    used: the message says which file and which field, and what is wrong with it."""
    with pytest.raises(ValueError) as caught:
        _broken(mutate)()
    text = str(caught.value)
    assert text.startswith("test.toml: ") and f"{field}: " in text and message in text, text


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["instruments"]["iit"]["weight"].update(value="0.3"), "test.toml: instruments.iit.weight must be a number"),
        (lambda d: d["collection_window"].update(start=[13, 1]), "test.toml: collection_window.start must be [month, day]"),
        (lambda d: d["passing_bar"].update(value=120), "test.toml: passing_bar must be between 0 and 100"),
    ],
)
def test_a_bad_value_names_the_file_and_the_key(mutate, message):
    with pytest.raises(ValueError) as caught:
        _broken(mutate)()
    assert str(caught.value).startswith(message), str(caught.value)


def test_a_file_that_is_not_toml_names_the_file_and_the_line(tmp_path):
    from ita_dashboard.framework.schema import read_toml

    bad = tmp_path / "fy2570.toml"
    bad.write_text('fiscal_year = 2570\n[passing_bar]\nvalue = 85,0\nsources = ["S8"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"^fy2570\.toml: not valid TOML: .*line 3"):
        read_toml(bad)


def test_every_shipped_file_fits_the_schema():
    from ita_dashboard.framework import schema

    for year in available_years():
        schema.check_year_file(fwfiles._read(f"fy{year}.toml"), f"fy{year}.toml")
    schema.check_legacy_file(fwfiles._read("legacy_grades.toml"), "legacy_grades.toml")


def test_no_streamlit_import():
    for path in Path(fwmod.__file__).parent.glob("*.py"):
        assert "streamlit" not in path.read_text(encoding="utf-8"), path.name
