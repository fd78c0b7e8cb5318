"""Who changed what: every write adds an AuditEvent in the same transaction as the change.

The app offers no way to edit or delete audit rows; readers only list and export them.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, Optional

from sqlmodel import Session, col, select

from .models import AuditEvent


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return str(value)


def snapshot(obj: Any, *, exclude: tuple[str, ...] = ("password_hash", "photo")) -> dict[str, Any]:
    """A JSON-safe dict of a model's columns, for before/after."""
    data = obj.model_dump() if hasattr(obj, "model_dump") else dict(obj)
    return {k: _jsonable(v) for k, v in data.items() if k not in exclude}


def record(
    session: Session,
    *,
    user_id: Optional[int],
    action: str,
    entity: str = "",
    entity_id: Any = None,
    organization_id: Optional[int] = None,
    before: Optional[dict[str, Any]] = None,
    after: Optional[dict[str, Any]] = None,
    username: str = "",
) -> AuditEvent:
    if not username and user_id is not None:
        from .models import User

        user = session.get(User, user_id)
        username = user.username if user else ""
    event = AuditEvent(
        user_id=user_id,
        username=username,
        organization_id=organization_id,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
    )
    session.add(event)
    return event


def list_events(
    session: Session,
    *,
    organization_id: Optional[int] = None,
    action_prefix: Optional[str] = None,
    username: Optional[str] = None,
    since: Optional[dt.datetime] = None,
    limit: int = 500,
) -> list[AuditEvent]:
    q = select(AuditEvent)
    if organization_id is not None:
        q = q.where((AuditEvent.organization_id == organization_id) | (col(AuditEvent.organization_id).is_(None)))
    if action_prefix:
        q = q.where(col(AuditEvent.action).startswith(action_prefix))
    if username:
        q = q.where(AuditEvent.username == username)
    if since is not None:
        q = q.where(AuditEvent.at >= since)
    q = q.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(limit)
    return list(session.exec(q))
