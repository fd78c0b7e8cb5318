"""Every on-screen text has an English version (ITA_LANG=en) with the same ``{fields}`` as the Thai,
so no screen falls back to Thai and no ``format`` call meets a field it does not fill."""

from __future__ import annotations

import string

from ita_dashboard.texts import EN, TH


def _fields(text: str) -> set[tuple[str, str, str | None]]:
    """The ``{name!conv:spec}`` fields of a text: name, format spec and conversion."""
    return {(name, spec or "", conv) for _, name, spec, conv in string.Formatter().parse(text) if name is not None}


def test_every_thai_key_has_a_non_empty_english_text():
    missing = [k for k in TH if not (EN.get(k) or "").strip()]
    assert not missing, f"{len(missing)} keys without English text: {missing}"


def test_english_has_no_key_thai_lacks():
    extra = [k for k in EN if k not in TH]
    assert not extra, extra


def test_english_text_has_the_same_fields_as_thai():
    differ = {k: (sorted(_fields(TH[k])), sorted(_fields(EN[k])))
              for k in TH if k in EN and _fields(TH[k]) != _fields(EN[k])}
    assert not differ, differ
