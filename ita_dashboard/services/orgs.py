"""Organisations and their departments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from sqlmodel import Session, col, select

from ..errors import ItaError
from .. import audit
from ..departments import DepartmentRef, DepartmentResolver, normalize_name
from ..framework import AGENCY_KINDS
from ..models import Department, Organization
from ..permissions import Actor, require_admin, require_every_org_admin
from .abbreviation_table import abbreviations_for


class OrgError(ItaError, ValueError):
    """Bad organisation or department data; message in Thai."""

    codes = (
        "org_name_required", "org_bad_kind", "org_name_taken", "org_department_name_taken", "org_negative_staff",
        "org_department_not_found", "org_not_found", "org_none", "org_ambiguous",
    )


def create_organization(
    session: Session,
    *,
    name: str,
    kind: str = "other",
    size: Optional[str] = None,
    province: Optional[str] = None,
    district: Optional[str] = None,
    departments: Iterable[str] = (),
    is_demo: bool = False,
    actor: Actor,
) -> Organization:
    """A new organisation: only an admin who sees every organisation (or the command line) may
    create one. An organisation's admin would otherwise become the admin of a new organisation
    of their own making, and could take a name another agency needs."""
    require_every_org_admin(actor)
    name = " ".join((name or "").split())
    if not name:
        raise OrgError(code="org_name_required")
    if kind not in AGENCY_KINDS:
        raise OrgError(code="org_bad_kind", kind=kind, kinds=", ".join(AGENCY_KINDS))
    if find_organization(session, name=name):
        raise OrgError(code="org_name_taken", name=name)
    org = Organization(name=name, kind=kind, size=size, province=province, district=district, is_demo=is_demo)
    session.add(org)
    session.flush()
    for i, dep_name in enumerate(d for d in (x.strip() for x in departments) if d):
        add_department(session, organization_id=org.id, name=dep_name, sort_order=i, actor=actor, _audit=False)
    audit.record(session, user_id=actor.user_id, username=actor.username, action="organization.create", entity="organization",
                 entity_id=org.id, organization_id=org.id, after=audit.snapshot(org))
    return org


def add_department(
    session: Session,
    *,
    organization_id: int,
    name: str,
    iit_eligible_staff: int = 0,
    aliases: Iterable[str] = (),
    sort_order: Optional[int] = None,
    actor: Actor,
    _audit: bool = True,
) -> Department:
    require_admin(actor, organization_id)
    name = " ".join(name.split())
    existing = departments_of(session, organization_id=organization_id)
    if any(normalize_name(d.name) == normalize_name(name) for d in existing):
        raise OrgError(code="org_department_name_taken", name=name)
    if iit_eligible_staff < 0:
        raise OrgError(code="org_negative_staff")
    dep = Department(
        organization_id=organization_id,
        name=name,
        aliases=list(aliases),
        iit_eligible_staff=iit_eligible_staff,
        sort_order=len(existing) if sort_order is None else sort_order,
    )
    session.add(dep)
    session.flush()
    if _audit:
        audit.record(session, user_id=actor.user_id, username=actor.username, action="department.create", entity="department",
                     entity_id=dep.id, organization_id=organization_id, after=audit.snapshot(dep))
    return dep


def update_department(
    session: Session, *, department_id: int, iit_eligible_staff: Optional[int] = None,
    aliases: Optional[list[str]] = None, actor: Actor,
) -> Department:
    dep = session.get(Department, department_id)
    if dep is None:
        raise OrgError(code="org_department_not_found")
    require_admin(actor, dep.organization_id)
    before = audit.snapshot(dep)
    if iit_eligible_staff is not None:
        if iit_eligible_staff < 0:
            raise OrgError(code="org_negative_staff")
        dep.iit_eligible_staff = int(iit_eligible_staff)
    if aliases is not None:
        dep.aliases = [a.strip() for a in aliases if a.strip()]
    session.add(dep)
    audit.record(session, user_id=actor.user_id, username=actor.username, action="department.update", entity="department",
                 entity_id=dep.id, organization_id=dep.organization_id, before=before, after=audit.snapshot(dep))
    return dep


def find_organization(session: Session, *, name: str) -> Optional[Organization]:
    """Exact name first, then the normalised name (spaces and common spellings ignored)."""
    org = session.exec(select(Organization).where(Organization.name == name.strip())).first()
    if org:
        return org
    key = normalize_name(name)
    for o in session.exec(select(Organization)):
        if normalize_name(o.name) == key:
            return o
    return None


def _visible(query, org_ids: Optional[Iterable[int]]):
    """Restrict an organisation query to ``org_ids`` (None: all), in SQL: thousands at a province office."""
    return query if org_ids is None else query.where(col(Organization.id).in_(sorted(org_ids)))


def list_organizations(session: Session, *, actor: Optional[Actor] = None) -> list[Organization]:
    q = _visible(select(Organization), None if actor is None else actor.org_ids)
    return list(session.exec(q.order_by(col(Organization.name))))


@dataclass(frozen=True)
class OrgOption:
    """What a switcher needs of an organisation: a few columns, not a loaded ORM object."""

    id: int
    name: str
    province: Optional[str]
    district: Optional[str]


def org_options(session: Session, *, org_ids: Optional[Iterable[int]] = None) -> list[OrgOption]:
    """The organisations among ``org_ids`` (None: all), by name: one narrow query (an actor's: ``actor.org_ids``)."""
    q = _visible(select(Organization.id, Organization.name, Organization.province, Organization.district), org_ids)
    return [OrgOption(*row) for row in session.exec(q.order_by(col(Organization.name)))]


def departments_of(session: Session, *, organization_id: int) -> list[Department]:
    return list(
        session.exec(
            select(Department)
            .where(Department.organization_id == organization_id)
            .order_by(col(Department.sort_order), col(Department.id))
        )
    )


def resolver_for(session: Session, *, organization_id: int) -> DepartmentResolver:
    """THE way to build an organisation's resolver: its departments with their aliases, and its
    abbreviation table (the standard list with the organisation's edits). Survey imports, plan
    owners, re-resolution after a mapping and the CLI's --department all come through here."""
    return DepartmentResolver(
        (DepartmentRef(d.id, d.name, tuple(d.aliases or ())) for d in departments_of(session, organization_id=organization_id)),
        abbreviations_for(session, organization_id=organization_id),
    )


def resolve_org_arg(session: Session, *, name: Optional[str]) -> Organization:
    """The organisation a CLI/UI call means: by name, or the only one there is."""
    if name:
        org = find_organization(session, name=name)
        if org is None:
            raise OrgError(code="org_not_found", name=name)
        return org
    orgs = list_organizations(session)
    if not orgs:
        raise OrgError(code="org_none")
    if len(orgs) > 1:
        raise OrgError(code="org_ambiguous", names=", ".join(o.name for o in orgs))
    return orgs[0]
