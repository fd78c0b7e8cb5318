"""Picking a date the Thai way: day / Thai month / Buddhist-era year, three small selectboxes.

Streamlit's ``st.date_input`` shows ``30/09/2025`` (Christian era, no Thai month) and cannot be
told otherwise, so a person never picks a date with it here. The date logic (how many days a
month has, which years a range spans, what is out of range) is in ``ita_dashboard.thai``.

Works inside ``st.form``: the three values are read on submit, then checked; a day the month
does not have ("31 กุมภาพันธ์") gives an error next to the pickers and ``None``, never a moved date.
Session-state keys: ``<key>_day``, ``<key>_month``, ``<key>_year`` (tests set them).
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

import streamlit as st

from ..textsafe import md
from .. import thai
from ..texts import t


def date_picker(label: str, value: dt.date, *, key: str, min_value: dt.date, max_value: dt.date,
                help: Optional[str] = None) -> Optional[dt.date]:
    """A BE date between ``min_value`` and ``max_value`` (``value`` is moved inside the range).

    Returns the picked date, or None (with the reason shown under the pickers) when the
    three parts do not make a date in the range.
    """
    value = min(max(value, min_value), max_value)
    years = thai.be_years_between(min_value, max_value)
    c_day, c_month, c_year = st.columns([1, 2, 1.3], gap="small")
    day = c_day.selectbox(label, list(range(1, 32)), index=value.day - 1, key=f"{key}_day", help=help)
    month = c_month.selectbox(t("date_month"), list(range(1, 13)), index=value.month - 1, key=f"{key}_month",
                              format_func=thai.thai_month_name)
    year = c_year.selectbox(t("date_year_be"), years, index=years.index(thai.ce_to_be(value.year)),
                            key=f"{key}_year")
    try:
        return thai.date_from_parts(int(day), int(month), int(year), lo=min_value, hi=max_value)
    except ValueError as exc:
        st.error(md(str(exc)), icon=":material/event_busy:")
        return None
