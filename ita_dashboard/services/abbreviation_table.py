"""An organisation's abbreviation table as it stands (read only): the standard list with the
organisation's edits. Read by every department resolver (``orgs.resolver_for``); edited through
``services/abbreviations.py``, which re-resolves stored rows after each edit (so it needs the
resolver, and the resolver must not need it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from sqlmodel import Session, select

from ..departments import STANDARD_ABBREVIATIONS, Abbreviation
from ..models import DepartmentAbbreviation


@dataclass(frozen=True)
class AbbreviationEntry:
    """One line of the admin page's table."""

    key: str
    abbreviation: str  # as written ("สป.")
    expansion: Optional[str]  # the unit word it stands for, or None
    department_id: Optional[int]  # or the registered department it stands for
    active: bool
    standard: bool  # the key is in the standard list
    edited: bool  # the organisation has its own row for this key
    source: str = ""  # where a standard entry comes from


def stored_rows(session: Session, organization_id: int) -> dict[str, DepartmentAbbreviation]:
    rows = session.exec(select(DepartmentAbbreviation).where(DepartmentAbbreviation.organization_id == organization_id))
    return {r.key: r for r in rows}


def list_abbreviations(session: Session, *, organization_id: int) -> list[AbbreviationEntry]:
    """The whole table as the admin sees it: standard entries (edited or not, on or off), then the
    organisation's own, each ordered by abbreviation."""
    rows = stored_rows(session, organization_id)
    out: list[AbbreviationEntry] = []
    for key, (written, expansion, source) in STANDARD_ABBREVIATIONS.items():
        row = rows.get(key)
        if row is None:
            out.append(AbbreviationEntry(key, written, expansion, None, True, True, False, source))
        else:
            out.append(AbbreviationEntry(key, row.abbreviation, row.expansion, row.department_id, row.active, True, True,
                                         source))
    own = [r for k, r in rows.items() if k not in STANDARD_ABBREVIATIONS]
    for r in sorted(own, key=lambda r: r.key):
        out.append(AbbreviationEntry(r.key, r.abbreviation, r.expansion, r.department_id, r.active, False, True))
    return sorted(out, key=lambda e: (not e.standard, e.key))


def abbreviations_for(session: Session, *, organization_id: int) -> list[Abbreviation]:
    """The active entries, for :class:`~ita_dashboard.departments.DepartmentResolver`."""
    return [Abbreviation(e.abbreviation, e.expansion, e.department_id)
            for e in list_abbreviations(session, organization_id=organization_id) if e.active]
