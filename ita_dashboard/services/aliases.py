"""Mapping a name as written (in a survey export or a measure's owner cell) to a department.

The mapping becomes an alias of the department, and everything already stored with that spelling
is re-resolved: survey responses and measures' unresolved owners.
"""

from __future__ import annotations

from sqlmodel import Session, select

from ..models import Department, Measure
from ..permissions import Actor, require_admin


def unresolved_names(session: Session, *, organization_id: int, fiscal_year: int) -> dict[str, int]:
    """Written names that resolve to no department, with how many rows carry each."""
    from . import surveys

    found: dict[str, int] = {}
    for inst in ("iit", "eit"):
        st = surveys.instrument_status(session, organization_id=organization_id, fiscal_year=fiscal_year, instrument=inst)
        for d in st.by_department:
            if d.department_id is None and d.name != surveys.UNSPECIFIED:
                found[d.name] = found.get(d.name, 0) + d.responses
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
        raise ValueError("ไม่พบกอง/ส่วนราชการนี้ในหน่วยงาน")
    n = map_department_alias(session, organization_id=organization_id, written=written, department_id=department_id)
    n += map_owner_alias(session, organization_id=organization_id, written=written, department_id=department_id)
    return n
