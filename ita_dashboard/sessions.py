"""Server-side login sessions, so a reload, a typed address or a bookmark keeps the login.

After a login the browser gets a random token (256 bits, :func:`secrets.token_urlsafe`) in a
cookie; the database keeps only its SHA-256 in ``LoginSession.token_hash``, with the user, when
it was made and last used, when it ends and whether it was revoked. A token is good while:

- its hash is in the table (a forged or edited token matches no row),
- it is not revoked (logout; a password change, an admin's reset, a lock or a deactivation of the
  user; a restore of the database: every one revokes),
- it has not passed ``expires_at`` (``ITA_SESSION_MAX_HOURS`` after the login, however active),
- its last use is within ``ITA_SESSION_IDLE_MINUTES``,
- the user is still active and not locked.

``last_seen_at`` is written at most once a minute per session (:data:`TOUCH_EVERY`), so a busy
page does not write the database on every click; the idle timeout is exact to that minute.
The token is compared by looking its hash up, never by comparing strings in Python.
Nothing here imports Streamlit: the cookie itself is the UI's business (``ui/common.py``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from .config import get_settings
from .models import LoginSession, User, utcnow

COOKIE_NAME = "ita_session"
TOKEN_BYTES = 32
TOUCH_EVERY = dt.timedelta(minutes=1)
KEEP_ENDED = dt.timedelta(days=30)  # ended sessions are deleted this long after their end

# Why a session ended (LoginSession.revoked_reason).
LOGOUT = "logout"
PASSWORD_CHANGE = "password_change"
PASSWORD_RESET = "password_reset"
LOCKED = "locked"
DEACTIVATED = "deactivated"
RESTORE = "restore"


def hash_token(token: str) -> str:
    """The stored form of a token: hex SHA-256 (a 256-bit random token needs no slow hash)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _aware(value: Optional[dt.datetime]) -> Optional[dt.datetime]:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Resumed:
    """A token that is still good: whose it is and how they logged in."""

    session_id: int
    user_id: int
    method: str


def start(session: Session, *, user_id: int, method: str = "password", now: Optional[dt.datetime] = None) -> str:
    """A new session for ``user_id``; returns the token (only its hash is stored)."""
    now = now or utcnow()
    settings = get_settings()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(LoginSession(
        token_hash=hash_token(token), user_id=user_id, method=method[:16], created_at=now, last_seen_at=now,
        expires_at=now + dt.timedelta(hours=settings.session_max_hours),
    ))
    # Housekeeping: sessions that ended long ago (expired or revoked) go.
    session.execute(delete(LoginSession).where(col(LoginSession.expires_at) < now - KEEP_ENDED))
    session.flush()
    return token


def resume(session: Session, token: Optional[str], *, now: Optional[dt.datetime] = None,
           touch: bool = True) -> Optional[Resumed]:
    """The session a token opens, or None (unknown, forged, revoked, expired, idle too long, or
    the user is inactive or locked). A good token's ``last_seen_at`` moves to ``now`` (unless
    ``touch`` is False: a check that must not write, e.g. while the database is busy)."""
    if not token or not isinstance(token, str) or len(token) > 256:
        return None
    now = now or utcnow()
    row = session.exec(select(LoginSession).where(LoginSession.token_hash == hash_token(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    idle = dt.timedelta(minutes=get_settings().session_idle_minutes)
    if now >= _aware(row.expires_at) or now - _aware(row.last_seen_at) > idle:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    locked = _aware(user.locked_until)
    if locked is not None and locked > now:
        return None
    if touch and now - _aware(row.last_seen_at) >= TOUCH_EVERY:
        session.execute(update(LoginSession).where(col(LoginSession.id) == row.id).values(last_seen_at=now))
    return Resumed(row.id, row.user_id, row.method)


def revoke(session: Session, token: Optional[str], *, reason: str = LOGOUT, now: Optional[dt.datetime] = None) -> bool:
    """End the session of one token; True when it was open."""
    if not token or not isinstance(token, str):
        return False
    result = session.execute(
        update(LoginSession)
        .where(LoginSession.token_hash == hash_token(token), col(LoginSession.revoked_at).is_(None))
        .values(revoked_at=now or utcnow(), revoked_reason=reason)
    )
    return bool(result.rowcount)


def revoke_user(session: Session, *, user_id: int, reason: str, keep_token: Optional[str] = None,
                now: Optional[dt.datetime] = None) -> int:
    """End every open session of ``user_id`` (but the one of ``keep_token``); returns how many."""
    q = update(LoginSession).where(col(LoginSession.user_id) == user_id, col(LoginSession.revoked_at).is_(None))
    if keep_token:
        q = q.where(LoginSession.token_hash != hash_token(keep_token))
    result = session.execute(q.values(revoked_at=now or utcnow(), revoked_reason=reason))
    return int(result.rowcount or 0)


def revoke_all(session: Session, *, reason: str = RESTORE, now: Optional[dt.datetime] = None) -> int:
    """End every open session of the database (after a restore); returns how many."""
    result = session.execute(
        update(LoginSession).where(col(LoginSession.revoked_at).is_(None))
        .values(revoked_at=now or utcnow(), revoked_reason=reason)
    )
    return int(result.rowcount or 0)
