"""Who may do what. Checked in the services for every write, not only by hiding buttons.

Roles are scoped to organisations. A user has a home organisation on their own row
(``User.organization_id``/``role``/``department_id``; NULL home = every organisation) and may
hold roles in further organisations (``OrgMembership``): a province officer is an executive in
every agency of the province and an admin of none. ``Actor`` carries that map; every check below
asks for the role *in the organisation concerned*. ``actor.role``/``organization_id``/
``department_id`` are the primary organisation's (the home, else the first membership), so code
that reads them directly fails closed for the other organisations; ``actor.for_org(id)`` gives
the actor as seen from one organisation (the pages use the selected one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Iterable, Mapping, Optional

from .errors import ItaError
from .models import Role, User

# organisation id -> (role there, department there)
Grants = Mapping[int, tuple[Role, Optional[int]]]


class PermissionDenied(ItaError, PermissionError):
    """The actor may not do this; ``str(exc)`` is a Thai message."""

    codes: ClassVar[tuple[str, ...]] = (
        "permission_no_user", "permission_no_org_access", "permission_not_admin", "permission_not_own_measure",
        "permission_every_org_only", "permission_progress_roles", "permission_activity_roles",
        "permission_activity_needs_measure", "permission_not_own_oit_item", "permission_user_elsewhere",
        "status_sheet_nothing_editable",
        "membership_every_org_user", "membership_not_admin_in_province", "users_not_self",
    )


@dataclass(frozen=True)
class Actor:
    user_id: Optional[int]
    role: Role
    organization_id: Optional[int] = None  # None (and no grants): every organisation
    department_id: Optional[int] = None
    username: str = ""
    # None: the legacy single scope above; else every organisation the actor may see.
    grants: Optional[tuple[tuple[int, Role, Optional[int]], ...]] = field(default=None, compare=False)

    @classmethod
    def of(cls, user: User, *, memberships: Optional[Iterable] = None) -> "Actor":
        """The actor for ``user``; memberships (``OrgMembership`` rows) are read from the user's
        session when not given. A user detached from any session and given none keeps only the
        home scope; use :func:`load_actor` where a session is at hand."""
        if memberships is None:
            memberships = _memberships_from_session(user)
        grants: dict[int, tuple[Role, Optional[int]]] = {m.organization_id: (Role(m.role), m.department_id) for m in memberships}
        home = user.organization_id
        if not grants:
            return cls(user.id, Role(user.role), home, user.department_id, user.username)
        if home is not None:
            grants[home] = (Role(user.role), user.department_id)
        primary = home if home is not None else min(grants)
        role, dep = grants[primary]
        return cls(user.id, role, primary, dep, user.username, tuple((o, r, d) for o, (r, d) in sorted(grants.items())))

    @classmethod
    def system(cls) -> "Actor":
        """The command line: run by whoever can already write the database file."""
        return cls(None, Role.admin, None, None, "cli")

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin

    @property
    def is_admin_anywhere(self) -> bool:
        """Admin in at least one organisation (the admin pages then check the selected one)."""
        return self.is_admin or any(r == Role.admin for _, r, _ in self.grants or ())

    @property
    def org_ids(self) -> Optional[frozenset[int]]:
        """The organisations this actor may see; None = every organisation."""
        if self.grants is not None:
            return frozenset(o for o, _, _ in self.grants)
        return None if self.organization_id is None else frozenset({self.organization_id})

    def role_for(self, organization_id: int) -> Optional[Role]:
        """The actor's role in one organisation, None where it may not see it."""
        scope = self._scope(organization_id)
        return None if scope is None else scope[0]

    def department_for(self, organization_id: int) -> Optional[int]:
        scope = self._scope(organization_id)
        return None if scope is None else scope[1]

    def for_org(self, organization_id: int) -> "Actor":
        """This actor with ``role``/``organization_id``/``department_id`` of one organisation it
        sees (an every-organisation actor is returned unchanged)."""
        if self.grants is None:
            return self
        scope = self._scope(organization_id)
        if scope is None:
            raise PermissionDenied(code="permission_no_org_access")
        return Actor(self.user_id, scope[0], organization_id, scope[1], self.username, self.grants)

    def _scope(self, organization_id: int) -> Optional[tuple[Role, Optional[int]]]:
        if self.grants is not None:
            return next(((r, d) for o, r, d in self.grants if o == organization_id), None)
        if self.organization_id is None or self.organization_id == organization_id:
            return self.role, self.department_id
        return None


def _memberships_from_session(user: User) -> list:
    from sqlalchemy.orm import object_session
    from sqlmodel import select

    from .models import OrgMembership

    session = object_session(user)
    if session is None or user.id is None:
        return []
    return list(session.exec(select(OrgMembership).where(OrgMembership.user_id == user.id)))


def load_actor(session, *, user_id: int) -> Actor:
    """The actor of a user id with its memberships, read in ``session``."""
    user = session.get(User, user_id)
    if user is None:
        raise PermissionDenied(code="permission_no_user")
    return Actor.of(user)


def can_see_org(actor: Actor, organization_id: int) -> bool:
    return actor.role_for(organization_id) is not None


def require_org(actor: Actor, organization_id: int) -> None:
    if not can_see_org(actor, organization_id):
        raise PermissionDenied(code="permission_no_org_access")


def require_admin(actor: Actor, organization_id: Optional[int] = None) -> None:
    """Admin of ``organization_id`` (or, without one, in the actor's primary organisation)."""
    role = actor.role if organization_id is None else actor.role_for(organization_id)
    if role == Role.admin:
        return
    if role is None and actor.is_admin:
        raise PermissionDenied(code="permission_no_org_access")
    raise PermissionDenied(code="permission_not_admin")


def can_edit_measure(actor: Actor, *, organization_id: int, department_ids: Iterable[int], owner_all: bool) -> bool:
    """Admins edit every measure of their organisations; a department head only their department's."""
    role = actor.role_for(organization_id)
    if role is None:
        return False
    if role == Role.admin:
        return True
    department_id = actor.department_for(organization_id)
    if role == Role.department_head and department_id is not None:
        return owner_all or department_id in set(department_ids)
    return False


def require_edit_measure(actor: Actor, *, organization_id: int, department_ids: Iterable[int], owner_all: bool) -> None:
    if not can_edit_measure(actor, organization_id=organization_id, department_ids=department_ids, owner_all=owner_all):
        raise PermissionDenied(code="permission_not_own_measure")


# --- one rule per action ------------------------------------------------------------------------
# Every write asks one of these with the organisation it touches: never ``actor.is_admin`` or
# ``actor.role`` (the primary organisation's), which would let an admin of A write into B.


def is_every_org_admin(actor: Actor) -> bool:
    """An admin who sees every organisation (no home, no memberships; the command line)."""
    return actor.org_ids is None and actor.role == Role.admin


def require_every_org_admin(actor: Actor) -> None:
    """Creating an organisation, or an account that sees every organisation: an organisation's
    admin could otherwise make themselves a new organisation's admin, or an account above them."""
    if not is_every_org_admin(actor):
        raise PermissionDenied(code="permission_every_org_only")


def can_update_progress(actor: Actor, organization_id: int) -> bool:
    """May update the progress of some measure of the organisation (then :func:`can_edit_measure`
    says which): its admins, and its department heads who have a department there."""
    role = actor.role_for(organization_id)
    return role == Role.admin or (role == Role.department_head and actor.department_for(organization_id) is not None)


def require_update_progress(actor: Actor, organization_id: int) -> None:
    require_org(actor, organization_id)
    if not can_update_progress(actor, organization_id):
        raise PermissionDenied(code="permission_progress_roles")


def is_org_admin(actor: Actor, organization_id: int) -> bool:
    """Admin *in* this organisation: imports, mappings, deletions and the admin tools of its pages."""
    return actor.role_for(organization_id) == Role.admin


def can_add_activity(actor: Actor, organization_id: int) -> bool:
    """Whether the add-activity form is shown: the same people who update progress."""
    return can_update_progress(actor, organization_id)


def may_add_activity(actor: Actor, *, organization_id: int, measure_department_ids: Optional[Iterable[int]],
                     measure_owner_all: bool = False) -> bool:
    """:func:`require_add_activity` as a yes/no: the form offers exactly the measures (and "no
    measure") that the service will accept."""
    try:
        require_add_activity(actor, organization_id=organization_id, measure_department_ids=measure_department_ids,
                             measure_owner_all=measure_owner_all)
    except PermissionDenied:
        return False
    return True


def can_delete_activity(actor: Actor, organization_id: int) -> bool:
    """Deleting an activity: admins of its organisation only."""
    return is_org_admin(actor, organization_id)


def require_delete_activity(actor: Actor, organization_id: int) -> None:
    require_admin(actor, organization_id)


def require_add_activity(actor: Actor, *, organization_id: int, measure_department_ids: Optional[Iterable[int]],
                         measure_owner_all: bool = False) -> None:
    """An admin of the organisation adds any activity; a department head only one linked to a
    measure they may edit (``measure_department_ids`` None: no measure linked)."""
    require_org(actor, organization_id)
    role = actor.role_for(organization_id)
    if role == Role.admin:
        return
    if not can_update_progress(actor, organization_id):
        raise PermissionDenied(code="permission_activity_roles")
    if measure_department_ids is None:
        raise PermissionDenied(code="permission_activity_needs_measure")
    require_edit_measure(actor, organization_id=organization_id, department_ids=measure_department_ids,
                         owner_all=measure_owner_all)


def can_update_oit_item(actor: Actor, *, organization_id: int, department_id: Optional[int]) -> bool:
    """Admins update every OIT item of their organisations; a department head only the items its
    department is responsible for (an item without a department: admins only)."""
    role = actor.role_for(organization_id)
    if role == Role.admin:
        return True
    return (role == Role.department_head and department_id is not None
            and actor.department_for(organization_id) == department_id)


def require_update_oit_item(actor: Actor, *, organization_id: int, department_id: Optional[int]) -> None:
    require_org(actor, organization_id)
    if not can_update_oit_item(actor, organization_id=organization_id, department_id=department_id):
        raise PermissionDenied(code="permission_not_own_oit_item")


def require_admin_over_user(actor: Actor, user_org_ids: Optional[Iterable[int]]) -> None:
    """A reset, deactivation or role change of a user needs admin rights in every organisation
    where that user holds a role (home and memberships); ``None``: a user who sees every
    organisation, whom only an every-organisation admin may change."""
    if user_org_ids is None:
        require_every_org_admin(actor)
        return
    orgs = sorted(set(user_org_ids))
    if not orgs:
        require_every_org_admin(actor)
        return
    if not any(actor.role_for(o) == Role.admin for o in orgs):
        require_admin(actor, orgs[0])  # the plain "admins only" / "no access" message
    if any(actor.role_for(o) != Role.admin for o in orgs):
        raise PermissionDenied(code="permission_user_elsewhere")
