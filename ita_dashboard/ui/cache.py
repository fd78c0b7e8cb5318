"""Page data cached across reruns and sessions, keyed on the data version.

``st.cache_data`` keeps each result until the data changes: the key includes
:func:`~ita_dashboard.services.data_version.data_version`, one indexed query per run, so an
import or a progress update shows at once, on every replica (each process has its own cache,
the version comes from the shared database). Access checks stay in ``page_context``: these
functions are only called for an organisation the user may see.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

import streamlit as st

from ..config import database_url
from ..models import Role
from ..permissions import Actor
from ..services import rollup as rollup_svc
from ..services import surveys as surveys_svc
from ..services.data_version import data_version
from ..services.summary import build_summary
from ..services.summary_types import Summary
from . import common


def current_version() -> tuple[int, int]:
    with common.session() as s:
        return data_version(s)


@st.cache_data(show_spinner=False, max_entries=512, ttl=3600)
def _summary(url: str, version: tuple[int, int], organization_id: int, fiscal_year: int, as_of: dt.date) -> Summary:
    with common.session() as s:
        return build_summary(s, organization_id=organization_id, fiscal_year=fiscal_year, as_of=as_of)


def summary(*, organization_id: int, fiscal_year: int, as_of: dt.date) -> Summary:
    """The overview's numbers (``build_summary``), computed once per data version."""
    return _summary(database_url(), current_version(), organization_id, fiscal_year, as_of)


@st.cache_data(show_spinner=False, max_entries=256, ttl=3600)
def _survey_data(url: str, version: tuple[int, int], organization_id: int, fiscal_year: int, as_of: dt.date):
    with common.session() as s:
        return {
            inst: (
                surveys_svc.instrument_status(s, organization_id=organization_id, fiscal_year=fiscal_year,
                                              instrument=inst, as_of=as_of),
                surveys_svc.responses_by_day(s, organization_id=organization_id, fiscal_year=fiscal_year,
                                             instrument=inst, as_of=as_of),
            )
            for inst in ("iit", "eit")
        }


def survey_data(*, organization_id: int, fiscal_year: int, as_of: dt.date):
    """Per instrument: (status by department with the score estimate, responses per day)."""
    return _survey_data(database_url(), current_version(), organization_id, fiscal_year, as_of)


@st.cache_data(show_spinner=False, max_entries=128, ttl=3600)
def _rollup(url: str, version: tuple[int, int], org_ids: Optional[frozenset[int]], fiscal_year: int, as_of: dt.date,
            province: Optional[str], district: Optional[str], kind: Optional[str]) -> list[rollup_svc.AgencyRow]:
    # Only the set of organisations matters to the roll-up, so the cache is shared by everyone who sees the same set.
    scope_actor = Actor(None, Role.viewer) if org_ids is None else \
        Actor(None, Role.viewer, grants=tuple((o, Role.viewer, None) for o in sorted(org_ids)))
    with common.session() as s:
        return rollup_svc.rollup(s, actor=scope_actor, fiscal_year=fiscal_year, as_of=as_of,
                                 scope=rollup_svc.Scope(province, district, kind))


def rollup(*, actor: Actor, fiscal_year: int, as_of: dt.date, scope: rollup_svc.Scope) -> list[rollup_svc.AgencyRow]:
    """The roll-up rows of the organisations ``actor`` sees (seconds for a whole country), once per data version."""
    return _rollup(database_url(), current_version(), actor.org_ids, fiscal_year, as_of,
                   scope.province, scope.district, scope.kind)
