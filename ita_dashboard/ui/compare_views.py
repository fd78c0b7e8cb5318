"""The overview's "this year against last" section: the same month of the previous fiscal year."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from .. import thai
from ..services.year_compare import compare_with_last_year
from . import common
from ..texts import t


def _cell(n: int, total) -> str:
    return f"{n:,} / {total:,}" if total else f"{n:,}"


def year_comparison(ctx: common.PageContext, *, as_of: dt.date) -> None:
    with st.expander(t("compare_title", last=ctx.fiscal_year - 1)):
        with common.session() as s:
            c = compare_with_last_year(s, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year, as_of=as_of)
        if not c.has_last_year:
            st.info(t("compare_no_last_year", last=ctx.fiscal_year - 1))
            return
        this_col = t("compare_this", year=ctx.fiscal_year, date=thai.format_date_th(c.as_of, abbr=True))
        last_col = t("compare_last", year=ctx.fiscal_year - 1, date=thai.format_date_th(c.last_as_of, abbr=True))
        st.dataframe(pd.DataFrame([{
            t("compare_metric"): t(f"compare_{r.key}"),
            this_col: _cell(r.this_year, r.this_total),
            last_col: _cell(r.last_year, r.last_total),
            t("compare_change"): f"{r.change:+,}",
        } for r in c.rows]), hide_index=True, width="stretch")
        st.caption(t("compare_note", point=thai.format_date_th(c.last_survey_point, abbr=True)))
