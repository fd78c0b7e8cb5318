"""The abbreviation table of an organisation: ``สป.`` -> สำนักปลัด, ``กค.`` -> กองคลัง, ...

Storage: a global default list plus per-organisation edits. The standard list lives in code
(``departments.STANDARD_ABBREVIATIONS``, with where each abbreviation comes from) and applies to every
organisation, old and new, with no rows to seed. A ``DepartmentAbbreviation`` row of an
organisation adds an abbreviation, changes what a standard one stands for (a unit word, or one
registered department), or switches a standard one off (``active`` False); removing the row brings
the standard entry back. A better standard list in a later version thus reaches every
organisation that did not edit that entry.

Every write is permission-checked (admin of that organisation), records one audit event
(``department.abbreviation``, before/after of the entry and how many rows it placed) and then
re-resolves, in the same transaction, the survey responses without a department and the
measures' unresolved owners that the new table now places. Rows already placed keep their
department: a later edit never moves or drops them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from sqlmodel import Session

from ..errors import ItaError
from .. import audit
from ..departments import STANDARD_ABBREVIATIONS, abbreviation_key, normalize_name
from ..models import Department, DepartmentAbbreviation, utcnow
from ..permissions import Actor, require_admin
from .abbreviation_table import AbbreviationEntry, list_abbreviations, stored_rows

MAX_KEY = 12
MAX_EXPANSION = 120


class AbbreviationError(ItaError, ValueError):
    """A table edit refused; ``str(exc)`` is a Thai message."""

    codes = (
        "abbreviation_required", "abbreviation_has_paiyannoi", "abbreviation_too_long", "abbreviation_one_target",
        "abbreviation_department_not_found", "abbreviation_expansion_empty", "abbreviation_expansion_too_long",
        "abbreviation_expansion_same", "abbreviation_not_in_table", "abbreviation_not_standard",
    )


@dataclass(frozen=True)
class EditResult:
    responses_resolved: int = 0
    measures_changed: int = 0


def _entry_snapshot(entry: Optional[AbbreviationEntry]) -> Optional[dict]:
    if entry is None:
        return None
    return {"abbreviation": entry.abbreviation, "expansion": entry.expansion, "department_id": entry.department_id,
            "active": entry.active, "standard": entry.standard, "edited": entry.edited}


def _meaning(entry: Optional[AbbreviationEntry]) -> Optional[tuple]:
    """What an entry does, for "did anything change" (not whether it is stored as an edit)."""
    return None if entry is None else (entry.abbreviation, entry.expansion, entry.department_id, entry.active)


def _current(session: Session, organization_id: int, key: str) -> Optional[AbbreviationEntry]:
    return next((e for e in list_abbreviations(session, organization_id=organization_id) if e.key == key), None)


def _clean_key(abbreviation: str) -> tuple[str, str]:
    written = " ".join((abbreviation or "").split())
    key = abbreviation_key(written)
    if not key:
        raise AbbreviationError(code="abbreviation_required")
    if "ฯ" in key:
        raise AbbreviationError(code="abbreviation_has_paiyannoi", written=written)
    if len(key) > MAX_KEY:
        raise AbbreviationError(code="abbreviation_too_long", written=written, limit=MAX_KEY)
    return key, written


def _reresolve(session: Session, organization_id: int) -> EditResult:
    from .measure_import import reresolve_owners
    from .orgs import resolver_for
    from .survey_import import reresolve_unmatched

    session.flush()
    resolver = resolver_for(session, organization_id=organization_id)
    return EditResult(
        responses_resolved=reresolve_unmatched(session, organization_id=organization_id, resolver=resolver),
        measures_changed=reresolve_owners(session, organization_id=organization_id, resolver=resolver),
    )


def _record(session: Session, *, actor: Actor, organization_id: int, key: str, before, after, result: EditResult,
            change: str) -> None:
    audit.record(
        session, user_id=actor.user_id, username=actor.username, action="department.abbreviation",
        entity="department_abbreviation", entity_id=key, organization_id=organization_id, before=before,
        after={**(after or {"removed": True}), "change": change, "responses_resolved": result.responses_resolved,
               "measures_changed": result.measures_changed},
    )
    session.flush()


def set_abbreviation(
    session: Session,
    *,
    actor: Actor,
    organization_id: int,
    abbreviation: str,
    expansion: Optional[str] = None,
    department_id: Optional[int] = None,
) -> EditResult:
    """Make ``abbreviation`` stand for the unit word ``expansion`` or for the department
    ``department_id`` (exactly one), switched on. Adds, changes or re-enables an entry."""
    require_admin(actor, organization_id)
    key, written = _clean_key(abbreviation)
    expansion = " ".join((expansion or "").split()) or None
    if (expansion is None) == (department_id is None):
        raise AbbreviationError(code="abbreviation_one_target", written=written)
    if department_id is not None:
        dep = session.get(Department, department_id)
        if dep is None or dep.organization_id != organization_id:
            raise AbbreviationError(code="abbreviation_department_not_found", written=written)
    if expansion is not None:
        if not normalize_name(expansion):
            raise AbbreviationError(code="abbreviation_expansion_empty", written=written)
        if len(expansion) > MAX_EXPANSION:
            raise AbbreviationError(code="abbreviation_expansion_too_long", written=written, limit=MAX_EXPANSION)
        if abbreviation_key(expansion) == key:
            raise AbbreviationError(code="abbreviation_expansion_same", written=written)
    before = _current(session, organization_id, key)
    row = stored_rows(session, organization_id).get(key)
    standard = STANDARD_ABBREVIATIONS.get(key)
    if standard is not None and department_id is None and written == standard[0] and expansion == standard[1]:
        # Back to exactly the standard entry: no row needed.
        if row is not None:
            session.delete(row)
    else:
        if row is None:
            row = DepartmentAbbreviation(organization_id=organization_id, key=key, abbreviation=written)
        row.abbreviation, row.expansion, row.department_id, row.active = written, expansion, department_id, True
        row.updated_at = utcnow()
        session.add(row)
    session.flush()
    after = _current(session, organization_id, key)
    if _meaning(before) == _meaning(after):
        return EditResult()  # nothing changed: no event
    result = _reresolve(session, organization_id)
    _record(session, actor=actor, organization_id=organization_id, key=key, before=_entry_snapshot(before),
            after=_entry_snapshot(after), result=result, change="set")
    return result


def remove_abbreviation(session: Session, *, actor: Actor, organization_id: int, abbreviation: str) -> EditResult:
    """Take an abbreviation out of the organisation's table: its own entry is deleted, a standard
    one is switched off (kept as a row with ``active`` False, so the standard list does not bring it back)."""
    require_admin(actor, organization_id)
    key, written = _clean_key(abbreviation)
    before = _current(session, organization_id, key)
    if before is None:
        raise AbbreviationError(code="abbreviation_not_in_table", written=written)
    if not before.active:
        return EditResult()
    row = stored_rows(session, organization_id).get(key)
    if key in STANDARD_ABBREVIATIONS:
        if row is None:
            std_written, std_expansion, _ = STANDARD_ABBREVIATIONS[key]
            row = DepartmentAbbreviation(organization_id=organization_id, key=key, abbreviation=std_written,
                                         expansion=std_expansion)
        row.active = False
        row.updated_at = utcnow()
        session.add(row)
    elif row is not None:
        session.delete(row)
    session.flush()
    result = EditResult()  # taking an entry away places nothing new; placed rows keep their department
    _record(session, actor=actor, organization_id=organization_id, key=key, before=_entry_snapshot(before),
            after=_entry_snapshot(_current(session, organization_id, key)), result=result, change="remove")
    return result


def restore_standard(session: Session, *, actor: Actor, organization_id: int, abbreviation: str) -> EditResult:
    """Drop the organisation's edit of a standard abbreviation: the standard entry applies again."""
    require_admin(actor, organization_id)
    key, written = _clean_key(abbreviation)
    if key not in STANDARD_ABBREVIATIONS:
        raise AbbreviationError(code="abbreviation_not_standard", written=written)
    row = stored_rows(session, organization_id).get(key)
    if row is None:
        return EditResult()
    before = _current(session, organization_id, key)
    session.delete(row)
    session.flush()
    result = _reresolve(session, organization_id)
    _record(session, actor=actor, organization_id=organization_id, key=key, before=_entry_snapshot(before),
            after=_entry_snapshot(_current(session, organization_id, key)), result=result, change="restore")
    return result
