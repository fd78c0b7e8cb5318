"""This year against last: the same month of the previous fiscal year, side by side.

- measures done: as of the same day one year earlier (the last day of the same month);
- IIT/EIT responses: at the same point of the collection window, i.e. as many days after the
  window opened as now (the window may move from year to year, so the calendar date alone would
  compare a running collection with one that had not started);
- OIT items ready: as of the same day one year earlier.

Each figure reuses the service the overview uses for that year, so the two columns are counted
the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from sqlmodel import Session

from . import measures as measures_svc
from . import oit as oit_svc
from . import surveys as surveys_svc
from .framework_overrides import framework_for


@dataclass(frozen=True)
class Comparison:
    key: str  # measures_done / iit / eit / oit_ready
    this_year: int
    last_year: int
    this_total: Optional[int] = None  # measures in the plan, targets, items
    last_total: Optional[int] = None

    @property
    def change(self) -> int:
        return self.this_year - self.last_year


@dataclass(frozen=True)
class YearComparison:
    fiscal_year: int
    as_of: dt.date
    last_as_of: dt.date  # the same day a year earlier
    last_survey_point: dt.date  # the same point of last year's collection window
    rows: list[Comparison]

    @property
    def has_last_year(self) -> bool:
        """Last year had a plan, responses or OIT items (targets alone come from the framework)."""
        by = {r.key: r for r in self.rows}
        return bool(any(r.last_year for r in self.rows) or by["measures_done"].last_total or by["oit_ready"].last_total)


def year_ago(day: dt.date) -> dt.date:
    """The same day a year earlier; the month's last day stays the last day (29 Feb -> 28 Feb)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def survey_point(session: Session, *, organization_id: int, fiscal_year: int, as_of: dt.date) -> dt.date:
    """The day of last year as far from its window's opening as ``as_of`` is from this year's,
    kept inside last fiscal year."""
    from ..thai import fiscal_year_bounds

    this_start, _ = framework_for(session, organization_id=organization_id, fiscal_year=fiscal_year).collection_dates()
    last_start, _ = framework_for(session, organization_id=organization_id, fiscal_year=fiscal_year - 1).collection_dates()
    first, last = fiscal_year_bounds(fiscal_year - 1)
    return min(max(last_start + (as_of - this_start), first), last)


def compare_with_last_year(session: Session, *, organization_id: int, fiscal_year: int,
                           as_of: dt.date) -> YearComparison:
    last_fy, last_day = fiscal_year - 1, year_ago(as_of)
    point = survey_point(session, organization_id=organization_id, fiscal_year=fiscal_year, as_of=as_of)
    rows: list[Comparison] = []

    def measures(fy: int, day: dt.date) -> tuple[int, int]:
        counts = measures_svc.counts(measures_svc.measure_states(session, organization_id=organization_id,
                                                                 fiscal_year=fy, as_of=day))
        return counts["done"], counts["total"]

    (done, total), (last_done, last_total) = measures(fiscal_year, as_of), measures(last_fy, last_day)
    rows.append(Comparison("measures_done", done, last_done, total, last_total))
    for instrument in ("iit", "eit"):
        now = surveys_svc.instrument_status(session, organization_id=organization_id, fiscal_year=fiscal_year,
                                            instrument=instrument, as_of=as_of)
        then = surveys_svc.instrument_status(session, organization_id=organization_id, fiscal_year=last_fy,
                                             instrument=instrument, as_of=point)
        rows.append(Comparison(instrument, now.responses, then.responses, now.target, then.target))
    now_oit = oit_svc.estimate(oit_svc.item_states(session, organization_id=organization_id, fiscal_year=fiscal_year,
                                                   as_of=as_of))
    then_oit = oit_svc.estimate(oit_svc.item_states(session, organization_id=organization_id, fiscal_year=last_fy,
                                                    as_of=last_day))
    rows.append(Comparison("oit_ready", now_oit.ready, then_oit.ready, now_oit.items, then_oit.items))
    return YearComparison(fiscal_year=fiscal_year, as_of=as_of, last_as_of=last_day, last_survey_point=point, rows=rows)
