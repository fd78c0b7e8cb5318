"""User management for admins (create is in auth.create_user); every change audited."""

from __future__ import annotations

from typing import Optional

from sqlmodel import Session, col, select

from .. import audit
from .. import auth
from ..auth import AuthError, hash_password, password_problems
from ..models import Department, Role, User
from ..permissions import Actor, PermissionDenied, require_admin


def list_users(session: Session, *, actor: Actor, organization_id: Optional[int]) -> list[User]:
    require_admin(actor)
    q = select(User).order_by(col(User.username))
    if organization_id is not None:
        q = q.where((User.organization_id == organization_id) | (col(User.organization_id).is_(None)))
    return list(session.exec(q))


def update_user(
    session: Session, *, actor: Actor, user_id: int, role: Optional[str] = None, active: Optional[bool] = None,
    department_id: Optional[int] = None, reset_password: Optional[str] = None,
) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise AuthError("ไม่พบผู้ใช้")
    require_admin(actor, user.organization_id) if user.organization_id else require_admin(actor)
    if user.organization_id is None and actor.organization_id is not None:
        # an organisation's admin must not reset the password of (or demote) a province-wide account
        raise PermissionDenied("แก้ไขผู้ใช้ที่เห็นทุกหน่วยงานได้เฉพาะผู้ดูแลระดับจังหวัด")
    _check_department(session, department_id=department_id, organization_id=user.organization_id)
    if user.id == actor.user_id and (active is False or (role is not None and role != Role.admin.value)):
        raise PermissionDenied("ผู้ดูแลระบบไม่สามารถปิดบัญชีหรือลดสิทธิ์ของตนเองได้")
    before = audit.snapshot(user)
    if role is not None:
        user.role = Role(role)
    if department_id is not None:
        user.department_id = department_id
    if user.role == Role.department_head and user.department_id is None:
        raise AuthError("หัวหน้าส่วนต้องระบุกอง/ส่วนราชการที่สังกัด")
    if active is not None:
        user.active = active
    if reset_password:
        problems = password_problems(reset_password, username=user.username)
        if problems:
            raise AuthError("; ".join(problems))
        user.password_hash = hash_password(reset_password)
        user.must_change_password = True
        user.failed_logins = 0
        user.locked_until = None
    session.add(user)
    audit.record(session, user_id=actor.user_id, username=actor.username, action="user.update", entity="user",
                 entity_id=user.id, organization_id=user.organization_id, before=before, after=audit.snapshot(user))
    return user


def create_user(
    session: Session, *, actor: Actor, username: str, password: str, role: str, organization_id: Optional[int],
    department_id: Optional[int] = None, display_name: str = "",
) -> User:
    """An admin creates an account with a temporary password (changed at first login)."""
    require_admin(actor, organization_id) if organization_id else require_admin(actor)
    if organization_id is None and actor.organization_id is not None:
        raise PermissionDenied("สร้างผู้ใช้ที่เห็นทุกหน่วยงานได้เฉพาะผู้ดูแลระดับจังหวัด")
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
        raise AuthError("กอง/ส่วนราชการที่เลือกไม่ใช่ของหน่วยงานนี้")
