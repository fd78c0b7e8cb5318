"""Who changed what: every write adds an AuditEvent in the same transaction as the change.

The app offers no way to edit or delete audit rows; readers only list and export them. As a
second line, a ``before_flush`` hook refuses any ORM session that would update or delete a
stored AuditEvent (the tests also check that no code in the package issues such a statement).
A database trigger would stop raw SQL too; it is left out on purpose: whoever can run raw SQL
on the database can drop a trigger as well, and restore replaces whole tables.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import json
from typing import Any, Iterable, Optional

from sqlalchemy import event as sa_event
from sqlmodel import Session, col, select

from .models import AuditEvent
from .textsafe import sheet_cell


class AuditTrailReadOnly(RuntimeError):
    """Something tried to change or delete a stored audit event."""


@sa_event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session, _flush_context, _instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditTrailReadOnly("audit events cannot be changed or deleted")


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


def events_csv(events: Iterable[AuditEvent], *, when=lambda at: at.isoformat()) -> bytes:
    """The events as CSV for Excel (UTF-8 with BOM): when, who, action, entity, before, after.

    ``when`` formats the timestamp (the admin page passes Thai, Bangkok time); before/after are
    JSON; every cell that would start a formula is prefixed with an apostrophe.
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["เวลา", "ผู้ใช้", "การกระทำ", "รายการ", "รหัสรายการ", "ก่อน", "หลัง"])
    for e in events:
        w.writerow([sheet_cell("" if x is None else str(x)) for x in (
            when(e.at), e.username, e.action, e.entity, e.entity_id or "",
            json.dumps(e.before, ensure_ascii=False) if e.before is not None else "",
            json.dumps(e.after, ensure_ascii=False) if e.after is not None else "",
        )])
    return "\ufeff".encode("utf-8") + buf.getvalue().encode("utf-8")
