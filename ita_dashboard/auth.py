"""Local accounts: argon2 password hashing, login with lockout, password rules.

Login failures give one message whatever the cause (unknown user, wrong password, inactive), and
an unknown user still costs one argon2 verification, so neither text nor timing tells whether an
account exists. Lockout is shown with its end time; so that the notice does not give existing
accounts away either, failures for a username that has no account are counted too, replayed from
the audit trail (``login.failure`` rows carry the submitted name), and lock the same way.

Single sign-on (``st.login``, OIDC) is mapped to local accounts by :func:`sso_login`: the identity
provider proves who the person is, the local account (created by an admin) says what they may do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import and_, case, or_, update
from sqlmodel import Session, col, func, select

from . import audit
from . import sessions as login_sessions
from .config import get_settings
from .errors import ItaError
from .models import AuditEvent, Role, User, utcnow
from .texts import t

_hasher = PasswordHasher()
# Verified against when the username is unknown, to spend the same time as a real check.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0")

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
# A short list of what people type first; runs like 12345678 or abcdefgh are caught separately.
_COMMON = {
    "password", "password1", "password12", "password123", "passw0rd", "p@ssw0rd", "p@ssword", "qwertyui",
    "qwerty123", "qwertyuiop", "1q2w3e4r", "1qaz2wsx", "admin123", "admin1234", "administrator", "iloveyou",
    "abc12345", "abcd1234", "12341234", "11223344", "123123123", "welcome1", "changeme", "letmein1",
}
_RUNS = ("01234567890123456789", "98765432109876543210", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm")


class AuthError(ItaError, ValueError):
    """A user-facing problem with credentials or account data (message in Thai)."""
    codes: ClassVar[tuple[str, ...]] = (
        "auth_no_username", "auth_bad_role", "auth_head_needs_department", "auth_username_taken",
        "auth_wrong_old_password", "auth_same_password",
        "users_not_found", "users_head_needs_department", "users_department_other_org",  # services/users.py
    )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problems(password: str, *, username: str = "") -> list[str]:
    """Rules a clerk can live with (Thai messages): 8 to 128 characters of any kind (Thai, spaces
    and a passphrase are fine; no forced symbol mix), not the username, not a well-known password,
    a run such as 12345678, or two or fewer different characters."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(t("auth_password_too_short", n=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(t("auth_password_too_long", n=MAX_PASSWORD_LENGTH))
    if "\x00" in password:
        problems.append(t("auth_password_bad_char"))
    if username and password.strip().lower() == username.strip().lower():
        problems.append(t("auth_password_is_username"))
    lowered = password.lower()
    if lowered in _COMMON or len(set(password)) <= 2 or any(lowered in run for run in _RUNS):
        problems.append(t("auth_password_guessable"))
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
        raise AuthError(code="auth_no_username")
    try:
        role = Role(role)
    except ValueError as exc:
        raise AuthError(code="auth_bad_role", role=role, roles=", ".join(r.value for r in Role)) from exc
    if role == Role.department_head and department_id is None:
        raise AuthError(code="auth_head_needs_department")
    if session.exec(select(User).where(User.username == username)).first():
        raise AuthError(code="auth_username_taken", username=username)
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


def login_failed() -> str:
    """The one answer to every failed password login (which part was wrong is not said)."""
    return t("login_failed")


def authenticate(session: Session, *, username: str, password: str, now: Optional[dt.datetime] = None) -> LoginResult:
    """Check credentials, count failures, lock after too many; every outcome is audited.

    Unknown, inactive, locked and wrong-password attempts all answer :func:`login_failed`, each after
    one argon2 verification; a lock (``locked_until``) is reported for unknown names too.

    Counting is atomic: a failure is one ``UPDATE ... RETURNING`` that adds to the counter
    (restarting it when the last failure is older than the failure window) and sets the lock when
    the counter reaches ``ITA_LOCKOUT_FAILURES``, whatever other attempts run at the same time
    (PostgreSQL locks the row for the update; SQLite writes one transaction at a time). A right
    password logs in through a second conditional ``UPDATE`` that matches only while the account
    is not locked, so a lock set by a parallel attempt during the password check still holds.
    """
    now = (now or utcnow()).astimezone(dt.timezone.utc)
    name = username.strip()[:100]  # as the audit trail keeps it
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None:
        verify_password(_DUMMY_HASH, password)
        locked_until = _unknown_name_lock(session, username=name, now=now)
        if locked_until is not None:
            _record_at(session, now, user_id=None, username=name, action="login.locked", entity="user")
            return LoginResult(None, login_failed(), locked_until=locked_until)
        _record_at(session, now, user_id=None, username=name, action="login.failure", entity="user")
        return LoginResult(None, login_failed(), locked_until=_unknown_name_lock(session, username=name, now=now))
    locked_until = _aware(user.locked_until)
    if locked_until and locked_until > now:
        verify_password(_DUMMY_HASH, password)
        return _locked(session, user, now, locked_until)
    ok = verify_password(user.password_hash, password)
    if not ok or not user.active:
        locked_until = _count_failure(session, user, now)
        _record_at(session, now, user_id=user.id, username=user.username, action="login.failure", entity="user",
                   entity_id=user.id, organization_id=user.organization_id)
        return LoginResult(None, login_failed(), locked_until=locked_until if locked_until and locked_until > now else None)
    not_locked = or_(col(User.locked_until).is_(None), col(User.locked_until) <= now)
    done = session.execute(
        update(User).where(col(User.id) == user.id, not_locked)
        .values(failed_logins=0, last_failed_login_at=None, locked_until=None, last_login_at=now)
        .returning(User.id).execution_options(synchronize_session=False)
    ).first()
    session.refresh(user)
    if done is None:  # locked by a parallel attempt while the password was being checked
        return _locked(session, user, now, _aware(user.locked_until))
    _record_at(session, now, user_id=user.id, username=user.username, action="login.success", entity="user",
               entity_id=user.id, organization_id=user.organization_id)
    return LoginResult(user)


def _locked(session: Session, user: User, now: dt.datetime, locked_until: Optional[dt.datetime]) -> LoginResult:
    _record_at(session, now, user_id=user.id, username=user.username, action="login.locked", entity="user",
               entity_id=user.id, organization_id=user.organization_id)
    return LoginResult(None, login_failed(), locked_until=locked_until)


def _count_failure(session: Session, user: User, now: dt.datetime) -> Optional[dt.datetime]:
    """Add one failure to ``user`` in one statement; returns the account's ``locked_until``.

    The SET expressions all read the row as it is when the update runs (after any parallel update
    has committed), so N parallel failures add exactly N. A failure while the account is locked
    changes nothing (the lock runs its course). When the last failure is older than the failure
    window the counter starts again at one. Reaching the limit sets the lock, resets the counter
    and ends the user's open sessions.
    """
    settings = get_settings()
    lock_end = now + dt.timedelta(minutes=settings.lockout_minutes)
    locked_now = and_(col(User.locked_until).is_not(None), col(User.locked_until) > now)
    expired = or_(col(User.last_failed_login_at).is_(None),
                  col(User.last_failed_login_at) < now - dt.timedelta(minutes=settings.lockout_window_minutes))
    counted = case((expired, 1), else_=col(User.failed_logins) + 1)
    reaches = counted >= settings.lockout_failures
    row = session.execute(
        update(User).where(col(User.id) == user.id).values(
            failed_logins=case((locked_now, col(User.failed_logins)), (reaches, 0), else_=counted),
            last_failed_login_at=case((locked_now, col(User.last_failed_login_at)), else_=now),
            locked_until=case((locked_now, col(User.locked_until)), (reaches, lock_end), else_=col(User.locked_until)),
        ).returning(User.locked_until).execution_options(synchronize_session=False)
    ).first()
    session.refresh(user)
    locked_until = _aware(row[0]) if row is not None else None
    if locked_until is not None and locked_until > now:
        login_sessions.revoke_user(session, user_id=user.id, reason=login_sessions.LOCKED, now=now)
    return locked_until


def _unknown_name_lock(session: Session, *, username: str, now: dt.datetime) -> Optional[dt.datetime]:
    """When a username without an account is "locked" until, replaying its recent failures with
    the same rule as a real account (N failures, each within the failure window of the one
    before, lock for M minutes; then counting starts again)."""
    settings = get_settings()
    window = dt.timedelta(minutes=settings.lockout_window_minutes)
    # Far enough back for a chain of N failures, each within the window of the last, plus the lock.
    since = now - window * settings.lockout_failures - dt.timedelta(minutes=settings.lockout_minutes)
    rows = session.exec(
        select(AuditEvent.at).where(
            AuditEvent.username == username, col(AuditEvent.user_id).is_(None), AuditEvent.action == "login.failure",
            AuditEvent.at >= since, AuditEvent.at <= now,
        ).order_by(col(AuditEvent.at), col(AuditEvent.id))
    ).all()
    failures, last, locked_until = 0, None, None
    for at in rows:
        at = _aware(at)
        if locked_until is not None and at < locked_until:
            continue
        if last is not None and at - last > window:
            failures = 0
        failures, last = failures + 1, at
        if failures >= settings.lockout_failures:
            locked_until, failures = at + dt.timedelta(minutes=settings.lockout_minutes), 0
    return locked_until if locked_until is not None and locked_until > now else None


def _record_at(session: Session, at: dt.datetime, **kwargs: Any) -> AuditEvent:
    """An audit row dated ``at`` (the login's clock, so lockout replays use one time line)."""
    event = audit.record(session, **kwargs)
    event.at = at
    session.flush()
    return event


# --- single sign-on (OIDC through st.login) ----------------------------------------------------

SSO_DEFAULT_CLAIM = "email"



@dataclass(frozen=True)
class SsoPolicy:
    """How identities from the identity provider map to local accounts (``[ita_sso]`` in secrets).

    - ``claim``: the claim whose value must equal the local username. The default, ``email``,
      counts only when the provider vouches for it: ``email_verified`` is JSON ``true`` (the
      boolean; ``"true"``, ``1``, ``"1"``, a missing claim and anything else are not), and the
      value looks like an address (has an ``@``). Any other claim (``sub``, ``oid``,
      ``preferred_username``...) maps only because the admin configured it here.
    - ``trust_email_issuers``: providers (by their ``iss`` claim) that never send
      ``email_verified`` but only hand out addresses they own, such as a Microsoft Entra ID
      tenant (``https://login.microsoftonline.com/<tenant-id>/v2.0``): their ``email`` counts as
      verified. Only for the issuers listed, never for everyone.
    """

    claim: str = SSO_DEFAULT_CLAIM
    trust_email_issuers: tuple[str, ...] = ()

    def email_verified(self, claims: Mapping[str, Any]) -> bool:
        if claims.get("email_verified") is True:
            return True
        iss = claims.get("iss")
        return isinstance(iss, str) and bool(iss) and iss in self.trust_email_issuers


def sso_login(session: Session, *, claims: Mapping[str, Any], claim: str = SSO_DEFAULT_CLAIM,
              policy: Optional[SsoPolicy] = None, now: Optional[dt.datetime] = None) -> LoginResult:
    """Map an identity the OIDC provider vouched for to a local account, audited either way.

    The value of the policy's claim (default: the verified ``email``, see :class:`SsoPolicy`)
    must equal an active, unlocked account's username (an e-mail address matches whatever its
    case, when that picks one account; another claim matches exactly). Nothing is created: an
    identity without an account gets a Thai message asking the admin to create one, so nobody
    becomes an admin just by having an account at the identity provider. The local role applies.
    """
    policy = policy or SsoPolicy(claim=claim)
    claim = policy.claim or SSO_DEFAULT_CLAIM
    now = (now or utcnow()).astimezone(dt.timezone.utc)
    raw = claims.get(claim)
    value = raw.strip()[:100] if isinstance(raw, str) else ""
    if not value:
        return LoginResult(None, t("sso_no_claim", claim=claim))
    if claim == "email" and (not policy.email_verified(claims) or "@" not in value):
        _record_at(session, now, user_id=None, username=value, action="login.failure", entity="user",
                   after={"method": "sso", "reason": "email_not_verified"})
        return LoginResult(None, t("sso_unverified", value=value))
    user = session.exec(select(User).where(User.username == value)).first()
    if user is None and claim == "email":
        matches = session.exec(select(User).where(func.lower(User.username) == value.lower())).all()
        user = matches[0] if len(matches) == 1 else None
    if user is None or not user.active:
        _record_at(session, now, user_id=user.id if user else None, username=value, action="login.failure",
                   entity="user", entity_id=user.id if user else None,
                   after={"method": "sso", "reason": "inactive" if user else "no_account"})
        return LoginResult(None, t("sso_no_account", value=value))
    locked_until = _aware(user.locked_until)
    if locked_until is not None and locked_until > now:
        _record_at(session, now, user_id=user.id, username=user.username, action="login.locked", entity="user",
                   entity_id=user.id, organization_id=user.organization_id, after={"method": "sso"})
        return LoginResult(None, t("sso_locked", value=value), locked_until=locked_until)
    user.last_login_at = now
    session.add(user)
    _record_at(session, now, user_id=user.id, username=user.username, action="login.success", entity="user",
               entity_id=user.id, organization_id=user.organization_id, after={"method": "sso", "claim": claim})
    return LoginResult(user)


def change_password(session: Session, *, user_id: int, old_password: str, new_password: str,
                    keep_token: Optional[str] = None) -> None:
    """Change one's own password; every other session of the user ends (the one of
    ``keep_token``, the browser making the change, stays)."""
    user = session.get(User, user_id)
    if user is None or not verify_password(user.password_hash, old_password):
        raise AuthError(code="auth_wrong_old_password")
    if old_password == new_password:
        raise AuthError(code="auth_same_password")
    problems = password_problems(new_password, username=user.username)
    if problems:
        raise AuthError("; ".join(problems))
    before = {"must_change_password": user.must_change_password}
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    session.add(user)
    login_sessions.revoke_user(session, user_id=user.id, reason=login_sessions.PASSWORD_CHANGE, keep_token=keep_token)
    audit.record(session, user_id=user.id, action="user.password_change", entity="user", entity_id=user.id,
                 organization_id=user.organization_id, before=before, after={"must_change_password": False})


def _aware(value: Optional[dt.datetime]) -> Optional[dt.datetime]:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
