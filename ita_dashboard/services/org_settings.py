"""Settings an admin keeps on the organisation itself: its ITAS code (QR posters) and its website
(the OIT link check)."""

from __future__ import annotations

from typing import Optional

from sqlmodel import Session

from ..errors import ItaError
from .. import audit
from ..models import Organization
from ..permissions import Actor, require_admin
from ..posters import validate_itas_code


class OrgSettingsError(ItaError, ValueError):
    """Bad setting or unknown organisation; message in Thai."""

    codes = (
        "org_settings_org_not_found", "org_settings_bad_website",
    )


def _set(session: Session, *, organization_id: int, field: str, value: Optional[str], actor: Actor) -> Organization:
    """One organisation field (admins of that organisation), audited as ``organization.<field>``
    with the organisation before and after; nothing is written when the value is unchanged."""
    require_admin(actor, organization_id)
    org = session.get(Organization, organization_id)
    if org is None:
        raise OrgSettingsError(code="org_settings_org_not_found")
    if value == getattr(org, field):
        return org
    before = audit.snapshot(org)
    setattr(org, field, value)
    session.add(org)
    session.flush()
    audit.record(session, user_id=actor.user_id, action=f"organization.{field}", entity="organization",
                 entity_id=org.id, organization_id=org.id, before=before, after=audit.snapshot(org),
                 username=actor.username)
    return org


def set_itas_code(session: Session, *, organization_id: int, code: Optional[str], actor: Actor) -> Organization:
    """Store the agency's ITAS code (``itas.nacc.go.th/go/iit/<code>``); empty clears it.

    A pasted ITAS link is reduced to its code. Raises PermissionDenied or OrgSettingsError /
    ValueError (Thai).
    """
    require_admin(actor, organization_id)  # before looking at the value: an outsider learns nothing
    new = validate_itas_code(code) if (code or "").strip() else None
    return _set(session, organization_id=organization_id, field="itas_code", value=new, actor=actor)


def set_website(session: Session, *, organization_id: int, website: Optional[str], actor: Actor) -> Organization:
    """Store the agency's own website (``https://naoo.go.th``; a bare host gets ``https://``); empty
    clears it. The OIT link check flags items published elsewhere."""
    require_admin(actor, organization_id)
    text = (website or "").strip() or None
    if text is not None:
        if "://" not in text:
            text = "https://" + text
        if not _is_site(text):
            raise OrgSettingsError(code="org_settings_bad_website")
    return _set(session, organization_id=organization_id, field="website", value=text, actor=actor)


def _is_site(url: str) -> bool:
    """http(s), a host name with a dot (or an address), and a port that is a number when given."""
    import re
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for "https://javascript:alert(1)"
    except ValueError:
        return False
    host = parts.hostname or ""
    return parts.scheme.lower() in ("http", "https") and bool(re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", host))
