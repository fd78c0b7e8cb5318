"""User management for admins (create is in auth.create_user); every change audited.

An organisation's admin manages the people of that organisation, and only as far as their own
rights go: a reset, a deactivation or a role change of a user needs admin rights in *every*
organisation where that user holds a role (home and memberships), so the admin of A cannot take
over a user who is also admin of B. Listings carry no password hashes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from sqlmodel import Session, col, select

from .. import audit
from .. import auth
from .. import sessions as login_sessions
from ..auth import AuthError, hash_password, password_problems
from ..models import Department, OrgMembership, Role, User
from ..permissions import (Actor, PermissionDenied, is_every_org_admin, require_admin, require_admin_over_user,
                           require_every_org_admin)


@dataclass(frozen=True)
class UserListing:
    """What the admin page shows of a user: the role and department in the organisation listed,
    never the password hash."""

    id: int
    username: str
    display_name: str
    role: Role
    department_id: Optional[int]
    active: bool
    locked_until: Optional[dt.datetime]
    home_organization_id: Optional[int]
    must_change_password: bool


def list_users(session: Session, *, actor: Actor, organization_id: Optional[int]) -> list[UserListing]:
    """The users who hold a role in ``organization_id`` (home or membership), by username.

    Without an organisation (only for an every-organisation admin): every user, home roles.
    Users who see every organisation are listed only to an every-organisation admin.
    """
    if organization_id is None:
        require_every_org_admin(actor)
        users = session.exec(select(User).order_by(col(User.username))).all()
        return [_listing(u, Role(u.role), u.department_id) for u in users]
    require_admin(actor, organization_id)
    out: dict[int, UserListing] = {}
    for u in session.exec(select(User).where(User.organization_id == organization_id)):
        out[u.id] = _listing(u, Role(u.role), u.department_id)
    rows = session.exec(select(User, OrgMembership).join(OrgMembership, col(OrgMembership.user_id) == col(User.id))
                        .where(OrgMembership.organization_id == organization_id)).all()
    for u, m in rows:
        out.setdefault(u.id, _listing(u, Role(m.role), m.department_id))
    if is_every_org_admin(actor):
        for u in session.exec(select(User).where(col(User.organization_id).is_(None))):
            out.setdefault(u.id, _listing(u, Role(u.role), u.department_id))
    return sorted(out.values(), key=lambda x: x.username)


def _listing(u: User, role: Role, department_id: Optional[int]) -> UserListing:
    return UserListing(u.id, u.username, u.display_name, role, department_id, u.active, u.locked_until,
                       u.organization_id, u.must_change_password)


def user_org_ids(session: Session, user: User) -> Optional[set[int]]:
    """Every organisation where ``user`` holds a role; None for a user who sees every organisation."""
    members = set(session.exec(select(OrgMembership.organization_id).where(OrgMembership.user_id == user.id)).all())
    if user.organization_id is None and not members:
        return None
    return members | ({user.organization_id} if user.organization_id is not None else set())


def update_user(
    session: Session, *, actor: Actor, user_id: int, role: Optional[str] = None, active: Optional[bool] = None,
    department_id: Optional[int] = None, reset_password: Optional[str] = None,
) -> User:
    """Change a user's home role, department, active flag or password (a temporary one).

    Needs admin rights in every organisation where the user holds a role. A reset, a
    deactivation or a lock release ends the user's open sessions.
    """
    user = session.get(User, user_id)
    if user is None:
        raise AuthError(code="users_not_found")
    require_admin_over_user(actor, user_org_ids(session, user))
    _check_department(session, department_id=department_id, organization_id=user.organization_id)
    if user.id == actor.user_id and (active is False or (role is not None and role != Role.admin.value)):
        raise PermissionDenied(code="users_not_self")
    before = audit.snapshot(user)
    if role is not None:
        user.role = Role(role)
    if department_id is not None:
        user.department_id = department_id
    if user.role == Role.department_head and user.department_id is None:
        raise AuthError(code="users_head_needs_department")
    if active is not None:
        user.active = active
        if not active:
            login_sessions.revoke_user(session, user_id=user.id, reason=login_sessions.DEACTIVATED)
    if reset_password:
        problems = password_problems(reset_password, username=user.username)
        if problems:
            raise AuthError("; ".join(problems))
        user.password_hash = hash_password(reset_password)
        user.must_change_password = True
        user.failed_logins = 0
        user.last_failed_login_at = None
        user.locked_until = None
        login_sessions.revoke_user(session, user_id=user.id, reason=login_sessions.PASSWORD_RESET)
    session.add(user)
    audit.record(session, user_id=actor.user_id, username=actor.username, action="user.update", entity="user",
                 entity_id=user.id, organization_id=user.organization_id, before=before, after=audit.snapshot(user))
    return user


def create_user(
    session: Session, *, actor: Actor, username: str, password: str, role: str, organization_id: Optional[int],
    department_id: Optional[int] = None, display_name: str = "",
) -> User:
    """An admin creates an account with a temporary password (changed at first login)."""
    if organization_id is None:
        # an account that sees every organisation: only an admin who sees every organisation
        require_every_org_admin(actor)
    else:
        require_admin(actor, organization_id)
    _check_department(session, department_id=department_id, organization_id=organization_id)
    return auth.create_user(
        session, username=username, password=password, role=role, organization_id=organization_id,
        department_id=department_id, display_name=display_name, must_change_password=True, actor_id=actor.user_id,
    )


def _check_department(session: Session, *, department_id: Optional[int], organization_id: Optional[int]) -> None:
    """A department given to a user must belong to the user's organisation."""
    if department_id is None:
        return
    dep = session.get(Department, department_id)
    if dep is None or (organization_id is not None and dep.organization_id != organization_id):
        raise AuthError(code="users_department_other_org")
