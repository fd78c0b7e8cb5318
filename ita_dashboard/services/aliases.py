"""Mapping a name as written (in a survey export or a measure's owner cell) to a department.

The mapping becomes an alias of the department, and everything already stored with that spelling
is re-resolved: survey responses and measures' unresolved owners.
"""

from __future__ import annotations

from sqlalchemy import func, select as sa_select
from sqlmodel import Session, col, select

from ..errors import ItaError

from ..models import Department, Measure, SurveyResponse, counted
from ..permissions import Actor, require_admin


class AliasError(ItaError, ValueError):
    """A name cannot be matched as asked."""

    codes = ("department_not_found",)


def unresolved_names(session: Session, *, organization_id: int, fiscal_year: int) -> dict[str, int]:
    """Written names that resolve to no department, with how many rows carry each (one grouped query)."""
    found: dict[str, int] = {}
    rows = session.execute(
        sa_select(SurveyResponse.department_text, func.count())
        .where(SurveyResponse.organization_id == organization_id, SurveyResponse.fiscal_year == fiscal_year,
               col(SurveyResponse.department_id).is_(None), counted())
        .group_by(SurveyResponse.department_text)
    ).all()
    for text, n in rows:
        name = (text or "").strip()
        if name:
            found[name] = found.get(name, 0) + n
    for m in session.exec(select(Measure).where(Measure.organization_id == organization_id, Measure.fiscal_year == fiscal_year)):
        for u in m.unresolved_owners or []:
            found[u] = found.get(u, 0) + 1
    return found


def map_alias(session: Session, *, actor: Actor, organization_id: int, written: str, department_id: int) -> int:
    """Add ``written`` as an alias of the department; returns how many rows were re-resolved."""
    from .measure_import import map_owner_alias
    from .survey_import import map_department_alias

    require_admin(actor, organization_id)
    dep = session.get(Department, department_id)
    if dep is None or dep.organization_id != organization_id:
        raise AliasError(code="department_not_found")
    n = map_department_alias(session, organization_id=organization_id, written=written, department_id=department_id,
                             user_id=actor.user_id)
    n += map_owner_alias(session, organization_id=organization_id, written=written, department_id=department_id,
                         user_id=actor.user_id)
    return n
