"""The numbers the overview shows, as one plain dict (also ``summary --json``, a contract).

Keys required by design.md are never removed or renamed; new keys may be added.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlmodel import Session

from .. import thai
from ..models import Organization
from . import measures as measures_svc
from . import surveys as surveys_svc
from .framework_overrides import agency_value, framework_for
from .orgs import departments_of


def default_fiscal_year(session: Session, *, organization_id: int, today: Optional[dt.date] = None) -> int:
    """The newest fiscal year with data, else the current one."""
    years = surveys_svc.fiscal_years_with_data(session, organization_id=organization_id)
    return years[0] if years else thai.fiscal_year_of(today or dt.date.today())


def build_summary(
    session: Session, *, organization_id: int, fiscal_year: int, as_of: Optional[dt.date] = None
) -> dict[str, Any]:
    org = session.get(Organization, organization_id)
    if org is None:
        raise ValueError(f"organization {organization_id} not found")
    as_of = as_of or dt.date.today()
    fw = framework_for(session, organization_id=organization_id, fiscal_year=fiscal_year)
    departments = departments_of(session, organization_id=organization_id)

    states = measures_svc.measure_states(session, organization_id=organization_id, fiscal_year=fiscal_year, as_of=as_of)
    counts = measures_svc.counts(states)
    by_dep = measures_svc.progress_by_department(states, departments=departments)
    measures = {
        **counts,
        "by_department": {
            p.name: {"total": p.total, "done": p.done, "in_progress": p.in_progress,
                     "not_started": p.not_started, "overdue": p.overdue}
            for p in by_dep
        },
    }

    surveys: dict[str, Any] = {}
    scores: dict[str, Optional[float]] = {}
    for instrument in ("iit", "eit"):
        st = surveys_svc.instrument_status(
            session, organization_id=organization_id, fiscal_year=fiscal_year, instrument=instrument, as_of=as_of
        )
        scores[instrument] = st.estimated_score
        surveys[instrument] = {
            "responses": st.responses,
            "target": st.target,
            "by_department": {d.name: {"responses": d.responses, "target": d.target} for d in st.by_department},
            "unmatched_departments": [d.name for d in st.by_department if d.department_id is None],
            "estimated_score": st.estimated_score,
            "indicator_scores": {str(k): v for k, v in st.indicator_scores.items()},
            "scored_responses": st.scored_responses,
            "itas_count": st.itas_count,
            "itas_as_of": st.itas_as_of.isoformat() if st.itas_as_of else None,
        }
    oit = agency_value(session, organization_id=organization_id, fiscal_year=fiscal_year, key="agency.oit_estimate")
    scores["oit"] = float(oit) if oit is not None else None
    total = fw.weighted_total(scores)
    window_start, window_end = fw.collection_dates()
    return {
        "organization": org.name,
        "fiscal_year": fiscal_year,
        "as_of": as_of.isoformat(),
        "is_demo": org.is_demo,
        "measures": measures,
        "surveys": surveys,
        "oit_estimate": scores["oit"],
        "estimated_total": None if total is None else round(total, 2),
        "passing_bar": fw.passing_bar,
        "below_bar": [k for k, v in scores.items() if v is not None and v < fw.passing_bar],
        "collection_window": {"start": window_start.isoformat(), "end": window_end.isoformat(),
                              "days_left": max((window_end - as_of).days, 0) if as_of <= window_end else 0},
    }
