"""Settings an admin keeps on the organisation itself: for now its ITAS code (QR posters)."""

from __future__ import annotations

from typing import Optional

from sqlmodel import Session

from .. import audit
from ..models import Organization
from ..permissions import Actor, require_admin
from ..posters import validate_itas_code


class OrgSettingsError(ValueError):
    """Bad setting or unknown organisation; message in Thai."""


def set_itas_code(session: Session, *, organization_id: int, code: Optional[str], actor: Actor) -> Organization:
    """Store the agency's ITAS code (``itas.nacc.go.th/go/iit/<code>``); empty clears it.

    Admins of the organisation only; a pasted ITAS link is reduced to its code; audited with the
    organisation before and after. Raises PermissionDenied or OrgSettingsError / ValueError (Thai).
    """
    require_admin(actor, organization_id)
    org = session.get(Organization, organization_id)
    if org is None:
        raise OrgSettingsError("ไม่พบหน่วยงาน")
    new = validate_itas_code(code) if (code or "").strip() else None
    if new == org.itas_code:
        return org
    before = audit.snapshot(org)
    org.itas_code = new
    session.add(org)
    session.flush()
    audit.record(session, user_id=actor.user_id, action="organization.itas_code", entity="organization",
                 entity_id=org.id, organization_id=org.id, before=before, after=audit.snapshot(org),
                 username=actor.username)
    return org


def set_website(session: Session, *, organization_id: int, website: Optional[str], actor: Actor) -> Organization:
    """Store the agency's own website (``https://naoo.go.th``); empty clears it. The OIT link check
    flags items published elsewhere. Admins of the organisation only; audited."""
    from ..linkcheck import host_of

    require_admin(actor, organization_id)
    org = session.get(Organization, organization_id)
    if org is None:
        raise OrgSettingsError("ไม่พบหน่วยงาน")
    text = (website or "").strip() or None
    if text is not None:
        if "://" not in text:
            text = "https://" + text
        if not text.lower().startswith(("http://", "https://")) or not host_of(text):
            raise OrgSettingsError("เว็บไซต์ต้องเป็นที่อยู่ เช่น https://www.naoo.go.th")
    if text == org.website:
        return org
    before = audit.snapshot(org)
    org.website = text
    session.add(org)
    session.flush()
    audit.record(session, user_id=actor.user_id, action="organization.website", entity="organization",
                 entity_id=org.id, organization_id=org.id, before=before, after=audit.snapshot(org),
                 username=actor.username)
    return org
