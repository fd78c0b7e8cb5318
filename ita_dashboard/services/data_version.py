"""A cheap number that changes whenever the data changes, for cache keys.

Every write records an :class:`~ita_dashboard.models.AuditEvent` in the same transaction
(the audit trail is append-only), so the pair (newest id, row count) changes with every
committed write. The count is part of the key because on PostgreSQL ids are handed out
before commit: a transaction holding a lower id may commit after one with a higher id,
which leaves the maximum unchanged but not the count.

Events that change no data the pages show (logins, failed logins, locks, a password change, a
backup being written) are left out: every login writes one, and counting them would empty every
cached summary and roll-up whenever anybody anywhere logs in.
"""

from __future__ import annotations

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from ..models import AuditEvent


NOT_DATA_PREFIXES = ("login.",)
NOT_DATA_ACTIONS = ("user.password_change", "backup.create")


def data_version(session: Session) -> tuple[int, int]:
    data_writes = and_(*(~col(AuditEvent.action).startswith(p) for p in NOT_DATA_PREFIXES),
                       col(AuditEvent.action).not_in(NOT_DATA_ACTIONS))
    newest, count = session.exec(select(func.max(AuditEvent.id), func.count(AuditEvent.id)).where(data_writes)).one()
    return int(newest or 0), int(count or 0)
