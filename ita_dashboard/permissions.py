"""Who may do what. Checked in the services for every write, not only by hiding buttons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from .models import Role, User


class PermissionDenied(PermissionError):
    """The actor may not do this; ``str(exc)`` is a Thai message."""


@dataclass(frozen=True)
class Actor:
    user_id: Optional[int]
    role: Role
    organization_id: Optional[int] = None  # None: every organisation
    department_id: Optional[int] = None
    username: str = ""

    @classmethod
    def of(cls, user: User) -> "Actor":
        return cls(user.id, Role(user.role), user.organization_id, user.department_id, user.username)

    @classmethod
    def system(cls) -> "Actor":
        """The command line: run by whoever can already write the database file."""
        return cls(None, Role.admin, None, None, "cli")

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin


def can_see_org(actor: Actor, organization_id: int) -> bool:
    return actor.organization_id is None or actor.organization_id == organization_id


def require_org(actor: Actor, organization_id: int) -> None:
    if not can_see_org(actor, organization_id):
        raise PermissionDenied("คุณไม่มีสิทธิ์เข้าถึงข้อมูลของหน่วยงานนี้")


def require_admin(actor: Actor, organization_id: Optional[int] = None) -> None:
    if not actor.is_admin:
        raise PermissionDenied("เฉพาะผู้ดูแลระบบเท่านั้นที่ทำรายการนี้ได้")
    if organization_id is not None:
        require_org(actor, organization_id)


def can_edit_measure(actor: Actor, *, organization_id: int, department_ids: Iterable[int], owner_all: bool) -> bool:
    """Admins edit every measure of their organisations; a department head only their department's."""
    if not can_see_org(actor, organization_id):
        return False
    if actor.is_admin:
        return True
    if actor.role == Role.department_head and actor.department_id is not None:
        return owner_all or actor.department_id in set(department_ids)
    return False


def require_edit_measure(actor: Actor, *, organization_id: int, department_ids: Iterable[int], owner_all: bool) -> None:
    if not can_edit_measure(actor, organization_id=organization_id, department_ids=department_ids, owner_all=owner_all):
        raise PermissionDenied("คุณแก้ไขได้เฉพาะมาตรการของกอง/ส่วนราชการของคุณเท่านั้น")
