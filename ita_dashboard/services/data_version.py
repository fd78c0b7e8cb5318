"""A cheap number that changes whenever the data changes, for cache keys.

Every write records an :class:`~ita_dashboard.models.AuditEvent` in the same transaction
(the audit trail is append-only), so the pair (newest id, row count) changes with every
committed write. The count is part of the key because on PostgreSQL ids are handed out
before commit: a transaction holding a lower id may commit after one with a higher id,
which leaves the maximum unchanged but not the count.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from ..models import AuditEvent


def data_version(session: Session) -> tuple[int, int]:
    newest, count = session.exec(select(func.max(AuditEvent.id), func.count(AuditEvent.id))).one()
    return int(newest or 0), int(count or 0)
