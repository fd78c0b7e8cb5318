"""Roles in further organisations (``OrgMembership``): grant, revoke, grant a whole province.

Only an admin of the organisation concerned grants or revokes a role there. A user with no home
organisation and no membership sees every organisation; their first membership narrows them to
the memberships, which only an every-organisation admin may do (a province officer is created
as a user without home and granted the province in the same transaction).
"""

from __future__ import annotations

from typing import Optional

from sqlmodel import Session, col, select

from ..errors import ItaError
from .. import audit
from ..models import Department, Organization, OrgMembership, Role, User
from ..permissions import Actor, PermissionDenied, require_admin


class MembershipError(ItaError, ValueError):
    """Bad membership input; message in Thai."""

    codes = (
        "membership_user_not_found", "membership_bad_role", "membership_home_org",
        "membership_head_needs_department", "membership_department_other_org", "membership_last",
        "membership_province_head", "membership_province_empty",
    )


def memberships_of(session: Session, *, user_id: int) -> list[OrgMembership]:
    return list(session.exec(select(OrgMembership).where(OrgMembership.user_id == user_id)
                             .order_by(col(OrgMembership.organization_id))))


def grant(
    session: Session, *, actor: Actor, user_id: int, organization_id: int, role: Role | str,
    department_id: Optional[int] = None,
) -> OrgMembership:
    """Give ``user_id`` ``role`` in one organisation (updates an existing membership); audited."""
    require_admin(actor, organization_id)
    user = session.get(User, user_id)
    if user is None:
        raise MembershipError(code="membership_user_not_found")
    try:
        role = Role(role)
    except ValueError as exc:
        raise MembershipError(code="membership_bad_role", role=role) from exc
    if user.organization_id == organization_id:
        raise MembershipError(code="membership_home_org")
    if user.organization_id is None and not memberships_of(session, user_id=user_id):
        # The first membership of a user without a home narrows them from every organisation
        # to this one: only an every-organisation actor may do that, and not to themselves.
        if actor.org_ids is not None or user.id == actor.user_id:
            raise PermissionDenied(code="membership_every_org_user")
    if role == Role.department_head:
        dep = session.get(Department, department_id) if department_id is not None else None
        if dep is None or dep.organization_id != organization_id:
            raise MembershipError(code="membership_head_needs_department")
    elif department_id is not None:
        dep = session.get(Department, department_id)
        if dep is None or dep.organization_id != organization_id:
            raise MembershipError(code="membership_department_other_org")
    row = session.exec(select(OrgMembership).where(
        OrgMembership.user_id == user_id, OrgMembership.organization_id == organization_id)).first()
    before = audit.snapshot(row) if row else None
    if row is None:
        row = OrgMembership(user_id=user_id, organization_id=organization_id, role=role, department_id=department_id)
    else:
        row.role, row.department_id = role, department_id
    session.add(row)
    session.flush()
    audit.record(session, user_id=actor.user_id, username=actor.username, action="membership.grant",
                 entity="orgmembership", entity_id=row.id, organization_id=organization_id,
                 before=before, after=audit.snapshot(row))
    return row


def revoke(session: Session, *, actor: Actor, user_id: int, organization_id: int) -> bool:
    """Remove a user's membership in one organisation; False when there was none."""
    require_admin(actor, organization_id)
    row = session.exec(select(OrgMembership).where(
        OrgMembership.user_id == user_id, OrgMembership.organization_id == organization_id)).first()
    if row is None:
        return False
    user = session.get(User, user_id)
    if user is not None and user.organization_id is None and len(memberships_of(session, user_id=user_id)) == 1:
        # Without home and memberships a user sees every organisation: deactivate instead.
        raise MembershipError(code="membership_last")
    before = audit.snapshot(row)
    session.delete(row)
    session.flush()
    audit.record(session, user_id=actor.user_id, username=actor.username, action="membership.revoke",
                 entity="orgmembership", entity_id=before.get("id"), organization_id=organization_id, before=before)
    return True


def grant_province(session: Session, *, actor: Actor, user_id: int, province: str, role: Role | str) -> int:
    """``role`` in every organisation of ``province`` the actor administers; returns how many.

    Organisations added to the province later need the same call again (it is idempotent).
    """
    if Role(role) == Role.department_head:
        raise MembershipError(code="membership_province_head")
    orgs = session.exec(select(Organization.id).where(Organization.province == province).order_by(col(Organization.id))).all()
    if not orgs:
        raise MembershipError(code="membership_province_empty", province=province)
    user = session.get(User, user_id)
    n = 0
    for org_id in orgs:
        if user is not None and user.organization_id == org_id:
            continue
        try:
            require_admin(actor, org_id)
        except PermissionDenied:
            continue
        grant(session, actor=actor, user_id=user_id, organization_id=org_id, role=role)
        n += 1
    if n == 0:
        raise PermissionDenied(code="membership_not_admin_in_province")
    return n
