"""Activities: what the organisation did (a date, a title, a text, maybe a photo), optionally for a measure.

Photos are stored in the database (``Activity.photo``) so replicas keep no local files. A
photo is accepted by its content, never its name: PNG, JPEG or WebP magic bytes, at most 5 MB,
and (Pillow being installed with Streamlit) an image Pillow can open as that format, of at most
:data:`ita_dashboard.importers.guard.MAX_IMAGE_PIXELS` pixels by its header (checked before decoding). Listing
does not load photo bytes unless asked; :func:`activity_photo` loads one.

Who may add: an admin of the organisation, or a department head for a measure they may edit
(so a head always links the activity to one of their measures). Only admins delete. Every
write is audited.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Optional

from sqlmodel import Session, col, select

from ..errors import ItaError
from .. import audit, thai
from .. import permissions
from ..models import Activity, Measure, MeasureDepartment, Organization
from ..permissions import Actor, require_org

MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = ("png", "jpg", "jpeg", "webp")


class ActivityError(ItaError, ValueError):
    """Bad activity input; ``str(exc)`` is Thai."""

    codes = (
        "activity_photo_empty", "activity_photo_too_large", "activity_photo_type", "activity_photo_broken",
        "activity_measure_other_org", "activity_org_not_found", "activity_date_required", "activity_title_required",
        "activity_title_too_long", "activity_not_found",
    )


_PHOTO_MIMES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}  # what browsers and Word show


def photo_mime(data: bytes) -> Optional[str]:
    """image/png, image/jpeg or image/webp from the first bytes; None for anything else."""
    from ..importers.guard import image_kind

    return _PHOTO_MIMES.get(image_kind(data) or "")


_PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}


def check_photo(data: bytes) -> str:
    """The photo's MIME type, or ActivityError (Thai) when it is not a usable image."""
    if not data:
        raise ActivityError(code="activity_photo_empty")
    if len(data) > MAX_PHOTO_BYTES:
        raise ActivityError(code="activity_photo_too_large", limit=MAX_PHOTO_BYTES // (1024 * 1024))
    mime = photo_mime(data)
    if mime is None:
        raise ActivityError(code="activity_photo_type")
    from ..importers.guard import check_image
    from ..importers.tabular import FileProblem

    try:  # the pixel count from the header, before anything decodes it (decompression bombs)
        check_image(data, where="รูปภาพนี้")
    except FileProblem as exc:
        raise ActivityError(str(exc)) from exc
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with Streamlit
        return mime
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format
            img.verify()
    except Exception as exc:  # Pillow raises many types for broken files
        raise ActivityError(code="activity_photo_broken") from exc
    if fmt != _PIL_FORMATS[mime]:
        raise ActivityError(code="activity_photo_type")
    return mime


def _measure_of(session: Session, organization_id: int, measure_id: int) -> Measure:
    m = session.get(Measure, measure_id)
    if m is None or m.organization_id != organization_id:
        raise ActivityError(code="activity_measure_other_org")
    return m


def add_activity(
    session: Session,
    *,
    organization_id: int,
    date: dt.date,
    title: str,
    text: str = "",
    measure_id: Optional[int] = None,
    photo: Optional[bytes] = None,
    actor: Actor,
) -> Activity:
    """Add one activity (audited); PermissionDenied or ActivityError (Thai) when refused."""
    require_org(actor, organization_id)
    if session.get(Organization, organization_id) is None:
        raise ActivityError(code="activity_org_not_found", organization_id=organization_id)
    measure = _measure_of(session, organization_id, measure_id) if measure_id is not None else None
    dep_ids = None if measure is None else session.exec(
        select(MeasureDepartment.department_id).where(MeasureDepartment.measure_id == measure.id)).all()
    # The role in the organisation written to, not the actor's home role.
    permissions.require_add_activity(actor, organization_id=organization_id, measure_department_ids=dep_ids,
                                     measure_owner_all=bool(measure and measure.owner_all))
    if not isinstance(date, dt.date):
        raise ActivityError(code="activity_date_required")
    if isinstance(date, dt.datetime):
        date = date.date()
    title = " ".join((title or "").split())
    if not title:
        raise ActivityError(code="activity_title_required")
    if len(title) > 500:
        raise ActivityError(code="activity_title_too_long")
    mime = check_photo(photo) if photo else None
    row = Activity(organization_id=organization_id, measure_id=measure_id, date=date, title=title,
                   text=(text or "").strip(), photo=photo or None, photo_mime=mime, user_id=actor.user_id)
    session.add(row)
    session.flush()
    after = audit.snapshot(row)
    after["photo_bytes"] = len(photo) if photo else 0
    audit.record(session, user_id=actor.user_id, username=actor.username, action="activity.add", entity="activity",
                 entity_id=row.id, organization_id=organization_id, after=after)
    return row


@dataclass
class ActivityItem:
    id: int
    organization_id: int
    measure_id: Optional[int]
    measure_number: Optional[int]
    measure_title: Optional[str]
    date: dt.date
    title: str
    text: str
    photo_mime: Optional[str]
    user_id: Optional[int]
    created_at: dt.datetime
    photo: Optional[bytes] = None  # only with ``with_photos=True``

    @property
    def has_photo(self) -> bool:
        return self.photo_mime is not None


def list_activities(
    session: Session,
    *,
    organization_id: int,
    fiscal_year: int,
    month: Optional[tuple[int, int]] = None,
    measure_id: Optional[int] = None,
    with_photos: bool = False,
    limit: Optional[int] = None,
) -> list[ActivityItem]:
    """The fiscal year's activities, newest first; ``month`` is (CE year, month) inside the year."""
    lo, hi = thai.fiscal_year_bounds(fiscal_year)
    if month is not None:
        year, mo = month
        lo, hi = max(lo, dt.date(year, mo, 1)), min(hi, thai.month_end(year, mo))
    columns = [Activity.id, Activity.organization_id, Activity.measure_id, Measure.number, Measure.title,
               Activity.date, Activity.title, Activity.text, Activity.photo_mime, Activity.user_id, Activity.created_at]
    if with_photos:
        columns.append(Activity.photo)
    q = (
        select(*columns)
        .select_from(Activity)
        .outerjoin(Measure, Measure.id == Activity.measure_id)
        .where(Activity.organization_id == organization_id, Activity.date >= lo, Activity.date <= hi)
    )
    if measure_id is not None:
        q = q.where(Activity.measure_id == measure_id)
    q = q.order_by(col(Activity.date).desc(), col(Activity.id).desc())
    if limit:
        q = q.limit(limit)
    out = []
    for r in session.exec(q).all():
        out.append(ActivityItem(*r[:11], photo=bytes(r[11]) if with_photos and r[11] is not None else None))
    return out


def activity_photo(
    session: Session, *, activity_id: int, organization_id: Optional[int] = None
) -> Optional[tuple[bytes, str]]:
    """(bytes, mime) of the activity's photo; None when it has none (or is of another organisation)."""
    row = session.exec(
        select(Activity.organization_id, Activity.photo, Activity.photo_mime).where(Activity.id == activity_id)
    ).first()
    if row is None:
        return None
    org_id, data, mime = row
    if organization_id is not None and org_id != organization_id:
        return None
    if data is None or mime is None:
        return None
    return bytes(data), mime


def delete_activity(session: Session, *, activity_id: int, actor: Actor) -> None:
    """Delete an activity (admins of its organisation only); the audit keeps what it was."""
    row = session.get(Activity, activity_id)
    if row is None:
        raise ActivityError(code="activity_not_found")
    permissions.require_delete_activity(actor, row.organization_id)
    before = audit.snapshot(row)
    before["photo_bytes"] = len(row.photo) if row.photo else 0
    session.delete(row)
    session.flush()
    audit.record(session, user_id=actor.user_id, username=actor.username, action="activity.delete", entity="activity",
                 entity_id=activity_id, organization_id=before["organization_id"], before=before)
