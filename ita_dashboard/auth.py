"""Local accounts: argon2 password hashing, login with lockout, password rules.

Login failures give one message whatever the cause (unknown user, wrong password, inactive), and
an unknown user still costs one argon2 verification, so neither text nor timing tells whether an
account exists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, select

from . import audit
from .config import get_settings
from .models import Role, User, utcnow

_hasher = PasswordHasher()
# Verified against when the username is unknown, to spend the same time as a real check.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0")

MIN_PASSWORD_LENGTH = 8
_COMMON = {"password", "12345678", "123456789", "1234567890", "qwertyui", "password1", "11111111", "admin1234"}


class AuthError(ValueError):
    """A user-facing problem with credentials or account data (message in Thai)."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problems(password: str, *, username: str = "") -> list[str]:
    """Rules a clerk can live with: 8+ characters, not the username, not a well-known password."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"รหัสผ่านต้องยาวอย่างน้อย {MIN_PASSWORD_LENGTH} ตัวอักษร")
    if username and password.strip().lower() == username.strip().lower():
        problems.append("รหัสผ่านต้องไม่เหมือนชื่อผู้ใช้")
    if password.lower() in _COMMON or len(set(password)) <= 2:
        problems.append("รหัสผ่านนี้เดาง่ายเกินไป")
    return problems


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role | str,
    organization_id: Optional[int] = None,
    department_id: Optional[int] = None,
    display_name: str = "",
    must_change_password: bool = False,
    actor_id: Optional[int] = None,
) -> User:
    username = username.strip()
    if not username:
        raise AuthError("กรุณาระบุชื่อผู้ใช้")
    try:
        role = Role(role)
    except ValueError as exc:
        raise AuthError(f"บทบาทไม่ถูกต้อง: {role} (ใช้ได้: {', '.join(r.value for r in Role)})") from exc
    if role == Role.department_head and department_id is None:
        raise AuthError("หัวหน้าส่วนต้องระบุกอง/ส่วนราชการที่สังกัด")
    if session.exec(select(User).where(User.username == username)).first():
        raise AuthError(f"มีชื่อผู้ใช้ {username} อยู่แล้ว")
    problems = password_problems(password, username=username)
    if problems:
        raise AuthError("; ".join(problems))
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        organization_id=organization_id,
        department_id=department_id,
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    audit.record(
        session, user_id=actor_id, action="user.create", entity="user", entity_id=user.id,
        organization_id=organization_id, after=audit.snapshot(user),
    )
    return user


@dataclass
class LoginResult:
    user: Optional[User]
    message: str = ""  # Thai, shown as is
    locked_until: Optional[dt.datetime] = None


LOGIN_FAILED = "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง"


def authenticate(session: Session, *, username: str, password: str, now: Optional[dt.datetime] = None) -> LoginResult:
    """Check credentials, count failures, lock after too many; every outcome is audited."""
    settings = get_settings()
    now = now or utcnow()
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None:
        verify_password(_DUMMY_HASH, password)
        audit.record(session, user_id=None, username=username.strip()[:100], action="login.failure", entity="user")
        return LoginResult(None, LOGIN_FAILED)
    locked_until = _aware(user.locked_until)
    if locked_until and locked_until > now:
        verify_password(_DUMMY_HASH, password)
        audit.record(session, user_id=user.id, action="login.locked", entity="user", entity_id=user.id)
        return LoginResult(None, LOGIN_FAILED, locked_until=locked_until)
    ok = verify_password(user.password_hash, password)
    if not ok or not user.active:
        user.failed_logins += 1
        if user.failed_logins >= settings.lockout_failures:
            user.locked_until = now + dt.timedelta(minutes=settings.lockout_minutes)
            user.failed_logins = 0
        session.add(user)
        audit.record(session, user_id=user.id, action="login.failure", entity="user", entity_id=user.id)
        return LoginResult(None, LOGIN_FAILED, locked_until=_aware(user.locked_until) if user.locked_until and _aware(user.locked_until) > now else None)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.add(user)
    audit.record(session, user_id=user.id, action="login.success", entity="user", entity_id=user.id,
                 organization_id=user.organization_id)
    return LoginResult(user)


def change_password(session: Session, *, user_id: int, old_password: str, new_password: str) -> None:
    user = session.get(User, user_id)
    if user is None or not verify_password(user.password_hash, old_password):
        raise AuthError("รหัสผ่านเดิมไม่ถูกต้อง")
    if old_password == new_password:
        raise AuthError("รหัสผ่านใหม่ต้องไม่ซ้ำกับรหัสผ่านเดิม")
    problems = password_problems(new_password, username=user.username)
    if problems:
        raise AuthError("; ".join(problems))
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    session.add(user)
    audit.record(session, user_id=user.id, action="user.password_change", entity="user", entity_id=user.id,
                 organization_id=user.organization_id)


def _aware(value: Optional[dt.datetime]) -> Optional[dt.datetime]:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
