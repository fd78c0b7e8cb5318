"""User text is text: the two escapes every string from a user or a file goes through before it
reaches a place that renders markup.

- ``md(text)``: for anything Streamlit renders as markdown (``st.markdown``, ``st.caption``,
  ``st.title``/``header``/``subheader``, ``st.success``/``info``/``warning``/``error``, ``st.toast``,
  tab, expander, radio option and metric labels, ``st.table`` cells).
- ``plot(text)``: for Plotly labels (titles, tick labels, bar/scatter text, hover text, annotations),
  which understand a small HTML subset (``<a href>``, ``<b>``, ``<br>``, ``<span style>``...).
- ``sheet_cell(value)``: the one spreadsheet-formula guard, for every cell an export writes (CSV
  and xlsx): text a spreadsheet would run as a formula is kept as text.

What the escapes guarantee: the visible text is the same as the input (a few invisible word
joiners aside), and no link, image, heading, list, table, emphasis, colour, icon or emoji can be
formed from it. Both are pure functions (no streamlit import): charts and views share them.
"""

from __future__ import annotations

import html
import re

# Every ASCII punctuation character may be backslash-escaped in CommonMark, and the escape shows
# the character itself. Escaping all of them is simpler to trust than choosing: it covers links
# and images ``[x](u)`` ``![x](u)``, raw HTML and autolinks ``<...>``, emphasis ``* _ ~``, code
# `` ` ``, headings ``#``, lists ``- + 1.``, tables ``|``, math ``$``, and Streamlit's directives
# ``:red[...]``.
_MD_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
# Word joiner: invisible, zero width, not whitespace. Some markdown features are applied after the
# escapes are resolved, to the plain text: GFM's literal autolinks (``https://x``, ``www.x``,
# ``a@b.c``), Streamlit's ``:material/icon:`` and emoji shortcodes (``:streamlit:``). One joiner
# after every ':' and '@' and before the '.' of "www." breaks each of them.
WJ = "\u2060"
_WWW_DOT = re.compile(r"(?i)(?<=www)\\\.")


def md(text: object) -> str:
    """``text`` for a markdown context: shows as written, forms no markup."""
    if text is None:
        return ""
    out = []
    for ch in str(text):
        if ch in _MD_PUNCT:
            out.append("\\" + ch)
            if ch in ":@":
                out.append(WJ)
        else:
            out.append(ch)
    return _WWW_DOT.sub(WJ + "\\\\.", "".join(out))


def md_list(items, sep: str = ", ") -> str:
    """Several user strings joined for a markdown context."""
    return sep.join(md(i) for i in items)


def plot(text: object) -> str:
    """``text`` for a Plotly label: HTML-escaped, so ``<a href>``, ``<img>``, ``<br>``, ``<b>`` and
    ``<span style>`` show as the characters typed; Plotly turns the entities back into those
    characters on screen. Newlines become spaces (Plotly breaks lines only at ``<br>``)."""
    if text is None:
        return ""
    return html.escape(str(text).replace("\r", " ").replace("\n", " "), quote=False)


def plot_list(items) -> list[str]:
    return [plot(i) for i in items]


# Text a spreadsheet runs as a formula (CSV/Excel injection) when a cell starts with one of these;
# a tab or carriage return first is how some programs are tricked into the same.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def starts_formula(value: object) -> bool:
    """Whether ``value`` is text a spreadsheet would read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_START)


def sheet_cell(value: object) -> object:
    """The one spreadsheet-formula guard: formula-like text gets a leading apostrophe, so Excel,
    LibreOffice and Sheets show it as text; numbers, dates and None are returned as they are.

    Every export writes its cells through it (the audit and rejected-rows CSVs, the status
    workbook); the yearly report's xlsx keeps its text exact instead, as a string cell with the
    quote prefix, for the cells :func:`starts_formula` picks out."""
    return "'" + value if starts_formula(value) else value
