"""The year's framework with the agency's own values applied.

Keys under ``agency.`` are the agency's self-assessed inputs that no export gives (today
``agency.oit_estimate``, the OIT score the admin expects); every other key is a framework
override validated by :func:`ita_dashboard.framework.load_framework`.
"""

from __future__ import annotations

from typing import Any, Optional

from sqlmodel import Session, select

from .. import audit
from ..errors import ItaError
from ..framework import Framework, load_framework
from ..models import FrameworkOverride
from ..permissions import Actor, require_admin


class FrameworkOverrideError(ItaError, ValueError):
    """An agency value the framework does not accept."""

    codes = ("unknown_value", "score_range")

AGENCY_PREFIX = "agency."
AGENCY_KEYS = ("agency.oit_estimate",)


def overrides_of(session: Session, *, organization_id: int, fiscal_year: int) -> dict[str, Any]:
    rows = session.exec(
        select(FrameworkOverride).where(
            FrameworkOverride.organization_id == organization_id, FrameworkOverride.fiscal_year == fiscal_year
        )
    ).all()
    return {r.key: r.value for r in rows}


def framework_for(session: Session, *, organization_id: int, fiscal_year: int) -> Framework:
    values = overrides_of(session, organization_id=organization_id, fiscal_year=fiscal_year)
    return load_framework(fiscal_year, overrides={k: v for k, v in values.items() if not k.startswith(AGENCY_PREFIX)} or None)


def agency_value(session: Session, *, organization_id: int, fiscal_year: int, key: str) -> Optional[Any]:
    return overrides_of(session, organization_id=organization_id, fiscal_year=fiscal_year).get(key)


def set_override(
    session: Session, *, organization_id: int, fiscal_year: int, key: str, value: Any, actor: Actor
) -> None:
    """Set (value not None) or remove (None) one agency value; validated and audited."""
    require_admin(actor, organization_id)
    if key.startswith(AGENCY_PREFIX):
        if key not in AGENCY_KEYS:
            raise FrameworkOverrideError(code="unknown_value", key=key)
        if value is not None and not (0 <= float(value) <= 100):
            raise FrameworkOverrideError(code="score_range")
    elif value is not None:
        current = overrides_of(session, organization_id=organization_id, fiscal_year=fiscal_year)
        current = {k: v for k, v in current.items() if not k.startswith(AGENCY_PREFIX)}
        current[key] = value
        try:
            load_framework(fiscal_year, overrides=current)
        except ValueError as exc:  # the framework's own check of a key/value: its sentence is the message
            raise FrameworkOverrideError(str(exc)) from exc
    row = session.exec(
        select(FrameworkOverride).where(
            FrameworkOverride.organization_id == organization_id,
            FrameworkOverride.fiscal_year == fiscal_year,
            FrameworkOverride.key == key,
        )
    ).first()
    before = {"value": row.value} if row else None
    if value is None:
        if row:
            session.delete(row)
    elif row:
        row.value = value
        session.add(row)
    else:
        session.add(FrameworkOverride(organization_id=organization_id, fiscal_year=fiscal_year, key=key, value=value))
    session.flush()
    audit.record(session, user_id=actor.user_id, username=actor.username, action="framework.override",
                 entity="frameworkoverride", entity_id=f"{fiscal_year}:{key}", organization_id=organization_id,
                 before=before, after={"value": value})
