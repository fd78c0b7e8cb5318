"""The roll-up page's pieces: scope filters, the ranked table, the weakest agencies, drill-down."""

from __future__ import annotations

import datetime as dt
from typing import Optional

import pandas as pd
import streamlit as st

from .. import charts, thai
from ..services import rollup as rollup_svc
from . import cache, common
from ..texts import t

WEAKEST_N = 10


def scope_filters(ctx: common.PageContext) -> rollup_svc.Scope:
    """Province / district / kind selects over the user's organisations ((all) = no filter)."""
    def pick(label: str, options: list[str], key: str) -> Optional[str]:
        return st.selectbox(label, [None, *options], key=key, format_func=lambda v: t("rollup_all") if v is None else v)

    cols = st.columns(3)
    with common.session() as s:
        options = rollup_svc.filter_options(s, actor=ctx.actor)
    with cols[0]:
        province = pick(t("rollup_province"), options["province"], "rollup_province")
    if province is not None:
        with common.session() as s:
            options["district"] = rollup_svc.filter_options(s, actor=ctx.actor, province=province)["district"]
    with cols[1]:
        district = pick(t("rollup_district"), options["district"], "rollup_district")
    with cols[2]:
        kind = pick(t("rollup_kind"), options["kind"], "rollup_kind")
    return rollup_svc.Scope(province=province, district=district, kind=kind)


def load(ctx: common.PageContext, *, scope: rollup_svc.Scope, as_of: dt.date) -> list[rollup_svc.AgencyRow]:
    return cache.rollup(actor=ctx.actor, fiscal_year=ctx.fiscal_year, as_of=as_of, scope=scope)


def rank_choice() -> str:
    return st.radio(t("rollup_rank_by"), rollup_svc.RANKINGS, horizontal=True, key="rollup_rank",
                    format_func=lambda k: t(f"rollup_by_{k}"))


def _count(n: int, target: Optional[int]) -> str:
    if not target:
        return f"{n:,}"
    return f"{n:,}/{target:,} ({100 * n / target:.0f}%)"


def _oit_score(r: rollup_svc.AgencyRow) -> str:
    if r.oit_score is None:
        return ""
    return f"{r.oit_score:.1f}" + (" (ITAS)" if r.oit_source == "itas" else "")


def _level(r: rollup_svc.AgencyRow) -> str:
    """The estimated rating and, when an instrument keeps it lower, which one."""
    if not r.estimated_level:
        return ""
    if not r.level_held_back_by:
        return r.estimated_level
    return f"{r.estimated_level} ({t('col_level_held', names=', '.join(k.upper() for k in r.level_held_back_by))})"


def frame(rows: list[rollup_svc.AgencyRow]) -> pd.DataFrame:
    """One small row per agency, already ranked (the page never loads raw rows)."""
    return pd.DataFrame([{
        t("col_rank"): i,
        t("col_agency"): r.name,
        t("rollup_province"): r.province or "",
        t("rollup_district"): r.district or "",
        t("col_measures_done"): f"{r.measures_done}/{r.measures_total}" if r.measures_total else "-",
        t("col_overdue"): r.measures_overdue,
        t("col_iit"): _count(r.iit_responses, r.iit_target),
        t("col_eit"): _count(r.eit_responses, r.eit_target),
        t("col_iit_score"): r.iit_score,
        t("col_eit_score"): r.eit_score,
        t("col_oit_ready"): f"{r.oit_ready}/{r.oit_items}" if r.oit_items else "-",
        t("col_oit_score"): _oit_score(r),
        t("col_total"): r.estimated_total,
        t("col_level"): _level(r),
    } for i, r in enumerate(rows, start=1)])


def summary_line(rows: list[rollup_svc.AgencyRow], *, as_of: dt.date) -> None:
    st.caption(t("rollup_caption", n=len(rows), date=thai.format_date_th(as_of)))
    below = [r for r in rows if r.estimated_total is not None and r.estimated_total < r.passing_bar]
    if below:
        st.warning(t("rollup_below_bar", bar=f"{rows[0].passing_bar:g}", n=len(below)))


def weakest_chart(rows: list[rollup_svc.AgencyRow], *, by: str) -> None:
    low = rollup_svc.weakest(rows, by=by, n=WEAKEST_N)
    metric = t(f"rollup_by_{by}")
    if not low:
        st.info(t("rollup_no_figure", metric=metric))
        return
    st.subheader(t("rollup_weakest", n=len(low), metric=metric))
    if by == "score":
        fig = charts.score_bullets({r.name: r.estimated_total for r in low}, bar=low[0].passing_bar)
        st.plotly_chart(fig, width="stretch", key="rollup_weakest")
    else:
        data = pd.DataFrame({t("col_agency"): [r.name for r in low], metric: [round(100 * r.metric(by), 1) for r in low]})
        st.bar_chart(data, x=t("col_agency"), y=metric, horizontal=True)


def drill_down(rows: list[rollup_svc.AgencyRow]) -> None:
    """Choose an agency: it becomes the selected organisation and the overview opens."""
    names = {r.organization_id: r.name for r in rows}
    with st.form("rollup_open_form", border=False):
        org_id = st.selectbox(t("rollup_open"), list(names), format_func=names.get, key="rollup_open_org")
        if st.form_submit_button(t("rollup_open_button")):
            st.session_state["org_id"] = org_id
            st.switch_page("app_pages/overview.py")
