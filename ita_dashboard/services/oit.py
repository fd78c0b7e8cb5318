"""OIT items tracked one by one: the agency's list, who publishes what by when, where, and its state.

The list of a fiscal year starts as a copy of the framework's (``framework/oit_items.py``), from an
xlsx, or from last year's; the admin then adds, renames, renumbers and removes items (a removed
item is kept, hidden, with its history). The state of an item on day D is its newest
:class:`OitUpdate` with ``as_of <= D`` (an append-only log, as measure progress is).

An item is **ready** on D when its state is เผยแพร่แล้ว or ตรวจแล้ว and the newest link check of
its URL (if any was made) found nothing wrong. The OIT estimate is the share of ready items per
indicator (9, 10), and the instrument the plain mean of its indicators, as the framework rolls up
(ita-facts section 10); items without an indicator count towards the instrument only. It is an
estimate of readiness, not NACC's score: a figure typed in from ITAS once results are out wins.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from .. import audit, linkcheck
from ..framework.oit_items import COVERS, number_key
from ..models import Department, OitItem, OitLinkCheck, OitStatus, OitUpdate, Organization, Role, utcnow
from ..permissions import Actor, PermissionDenied, require_admin, require_org
from .framework_overrides import framework_for

READY = (OitStatus.published, OitStatus.checked)
BANGKOK = ZoneInfo("Asia/Bangkok")
INDICATORS = (9, 10)


class OitError(ValueError):
    """Bad OIT input or request; ``str(exc)`` is a Thai message."""


@dataclass
class LinkCheckView:
    url: str
    checked_at: dt.datetime
    ok: bool
    problem: Optional[str]
    status_code: Optional[int]
    content_type: Optional[str]
    final_url: Optional[str]


@dataclass
class OitItemState:
    id: int
    number: str
    name: str
    indicator: Optional[int]
    sub_indicator: str
    contents: str
    covers: str
    department_id: Optional[int]
    department_name: Optional[str]
    due_date: Optional[dt.date]
    origin: str
    confidence: Optional[str]
    status: OitStatus
    url: Optional[str]
    note: str
    evidence_url: Optional[str]
    last_update: Optional[dt.date]
    last_check: Optional[LinkCheckView]
    ready: bool
    overdue: bool


@dataclass
class OitEstimate:
    items: int
    ready: int
    by_indicator: dict[int, dict[str, Any]] = field(default_factory=dict)  # {9: {"items", "ready", "score"}}
    score: Optional[float] = None  # None without items


# ---------------------------------------------------------------------------------------------
# Reading


def _department_names(session: Session, organization_id: int) -> dict[int, str]:
    rows = session.exec(select(Department.id, Department.name).where(Department.organization_id == organization_id))
    return dict(rows.all())


def item_states(session: Session, *, organization_id: int, fiscal_year: int,
                as_of: Optional[dt.date] = None) -> list[OitItemState]:
    """Every (not removed) item of the year with its state on ``as_of`` (default today), in number order."""
    as_of = as_of or dt.date.today()
    items = session.exec(
        select(OitItem).where(OitItem.organization_id == organization_id, OitItem.fiscal_year == fiscal_year,
                              col(OitItem.removed_at).is_(None))
    ).all()
    if not items:
        return []
    ids = [i.id for i in items]
    # newest by (as_of, id): the max id among the rows of the newest as_of of each item
    latest_day = (
        select(OitUpdate.item_id, func.max(OitUpdate.as_of).label("day"))
        .where(col(OitUpdate.item_id).in_(ids), OitUpdate.as_of <= as_of).group_by(OitUpdate.item_id).subquery()
    )
    newest = (
        select(func.max(OitUpdate.id))
        .join(latest_day, (OitUpdate.item_id == latest_day.c.item_id) & (OitUpdate.as_of == latest_day.c.day))
        .group_by(OitUpdate.item_id)
    )
    updates = {u.item_id: u for u in session.exec(select(OitUpdate).where(col(OitUpdate.id).in_(newest))).all()}
    end_of_day = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(0), tzinfo=BANGKOK)
    check_ids = (
        select(func.max(OitLinkCheck.id))
        .where(col(OitLinkCheck.item_id).in_(ids), OitLinkCheck.checked_at < end_of_day.astimezone(dt.timezone.utc))
        .group_by(OitLinkCheck.item_id)
    )
    checks = {c.item_id: c for c in session.exec(select(OitLinkCheck).where(col(OitLinkCheck.id).in_(check_ids))).all()}
    names = _department_names(session, organization_id)
    out = []
    for item in items:
        u = updates.get(item.id)
        status = OitStatus(u.status) if u else OitStatus.not_started
        url = u.url if u else None
        c = checks.get(item.id)
        check = LinkCheckView(c.url, c.checked_at, c.ok, c.problem, c.status_code, c.content_type, c.final_url) if c else None
        link_bad = check is not None and not check.ok and check.url == url
        ready = status in READY and not link_bad
        out.append(OitItemState(
            id=item.id, number=item.number, name=item.name, indicator=item.indicator, sub_indicator=item.sub_indicator,
            contents=item.contents, covers=item.covers, department_id=item.department_id,
            department_name=names.get(item.department_id) if item.department_id else None, due_date=item.due_date,
            origin=item.origin, confidence=item.confidence, status=status, url=url, note=u.note if u else "",
            evidence_url=u.evidence_url if u else None, last_update=u.as_of if u else None, last_check=check,
            ready=ready, overdue=bool(item.due_date and item.due_date < as_of and not ready),
        ))
    out.sort(key=lambda s: number_key(s.number))
    return out


def estimate(states: list[OitItemState]) -> OitEstimate:
    """Share of ready items per indicator and their plain mean; see the module docstring."""
    if not states:
        return OitEstimate(items=0, ready=0)
    by_indicator: dict[int, dict[str, Any]] = {}
    for ind in INDICATORS:
        group = [s for s in states if s.indicator == ind]
        if group:
            ready = sum(s.ready for s in group)
            by_indicator[ind] = {"items": len(group), "ready": ready, "score": round(100 * ready / len(group), 2)}
    ready = sum(s.ready for s in states)
    if by_indicator:
        score = round(sum(v["score"] for v in by_indicator.values()) / len(by_indicator), 2)
    else:
        score = round(100 * ready / len(states), 2)
    return OitEstimate(items=len(states), ready=ready, by_indicator=by_indicator, score=score)


def not_ready_by_department(states: list[OitItemState]) -> dict[str, list[OitItemState]]:
    """Items not ready, grouped by responsible department (None: no department set), for the meeting."""
    groups: dict[str, list[OitItemState]] = {}
    for s in states:
        if not s.ready:
            groups.setdefault(s.department_name or "", []).append(s)
    return dict(sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])))


def readiness_by_org(session: Session, *, org_ids: list[int], fiscal_year: int,
                     as_of: Optional[dt.date] = None) -> dict[int, OitEstimate]:
    """The OIT estimate of many agencies (the roll-up); agencies without items are left out."""
    with_items = session.exec(
        select(OitItem.organization_id).distinct().where(col(OitItem.organization_id).in_(org_ids),
                                                         OitItem.fiscal_year == fiscal_year,
                                                         col(OitItem.removed_at).is_(None))
    ).all()
    return {org_id: estimate(item_states(session, organization_id=org_id, fiscal_year=fiscal_year, as_of=as_of))
            for org_id in with_items}


# ---------------------------------------------------------------------------------------------
# The list: start, add, edit, remove


def _item(session: Session, item_id: int) -> OitItem:
    item = session.get(OitItem, item_id)
    if item is None or item.removed_at is not None:
        raise OitError(f"ไม่พบรายการ OIT รหัส {item_id}")
    return item


def normalize_number(number: Any) -> str:
    """"o 25", "O25", "๒๕" -> "O25"; a number is what ITA calls the item."""
    from ..thai import to_arabic_digits

    text = to_arabic_digits(str(number or "")).strip().upper().replace(" ", "")
    if text.isdigit():
        text = "O" + text
    if not (len(text) >= 2 and text[0] == "O" and text[1:].isdigit() and len(text) <= 4):
        raise OitError(f"เลขข้อ OIT ต้องเป็นรูปแบบ O1, O25 (ได้รับ “{number}”)")
    return "O" + str(int(text[1:]))


def _check_fields(*, name: Optional[str] = None, indicator: Any = "keep", covers: Optional[str] = None) -> None:
    if name is not None and not name.strip():
        raise OitError("ชื่อรายการ OIT ต้องไม่ว่าง")
    if indicator not in ("keep", None, 9, 10):
        raise OitError(f"ตัวชี้วัดต้องเป็น 9 หรือ 10 (ได้รับ “{indicator}”)")
    if covers is not None and covers not in COVERS:
        raise OitError("ช่วงข้อมูลต้องเป็นปีปัจจุบันหรือปีที่ผ่านมา")


def _active_numbers(session: Session, organization_id: int, fiscal_year: int, *, except_id: Optional[int] = None) -> set[str]:
    q = select(OitItem.number).where(OitItem.organization_id == organization_id, OitItem.fiscal_year == fiscal_year,
                                     col(OitItem.removed_at).is_(None))
    if except_id is not None:
        q = q.where(OitItem.id != except_id)
    return set(session.exec(q).all())


def _check_department(session: Session, organization_id: int, department_id: Optional[int]) -> None:
    if department_id is None:
        return
    dep = session.get(Department, department_id)
    if dep is None or dep.organization_id != organization_id:
        raise OitError("ไม่พบส่วนราชการนี้ในหน่วยงาน")


def add_item(session: Session, *, organization_id: int, fiscal_year: int, number: Any, name: str,
             indicator: Optional[int] = None, sub_indicator: str = "", contents: str = "", covers: str = "current",
             department_id: Optional[int] = None, due_date: Optional[dt.date] = None, origin: str = "admin",
             confidence: Optional[str] = None, actor: Actor) -> OitItem:
    """Add one item to the agency's list of the year (admin); audited."""
    require_admin(actor, organization_id)
    number = normalize_number(number)
    _check_fields(name=name, indicator=indicator, covers=covers)
    _check_department(session, organization_id, department_id)
    if number in _active_numbers(session, organization_id, fiscal_year):
        raise OitError(f"มีรายการ {number} ในปีงบประมาณ {fiscal_year} แล้ว")
    item = OitItem(organization_id=organization_id, fiscal_year=fiscal_year, number=number, name=name.strip(),
                   indicator=indicator, sub_indicator=(sub_indicator or "").strip(), contents=(contents or "").strip(),
                   covers=covers, department_id=department_id, due_date=due_date, origin=origin, confidence=confidence)
    session.add(item)
    session.flush()
    audit.record(session, user_id=actor.user_id, username=actor.username, action="oit.item_add", entity="oit_item",
                 entity_id=item.id, organization_id=organization_id, after=audit.snapshot(item))
    return item


_EDITABLE = ("number", "name", "indicator", "sub_indicator", "contents", "covers", "department_id", "due_date")


def update_item(session: Session, *, item_id: int, actor: Actor, **changes: Any) -> OitItem:
    """Rename, renumber, set the department, due date, indicator... of one item (admin); audited."""
    item = _item(session, item_id)
    require_admin(actor, item.organization_id)
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise OitError(f"แก้ไขไม่ได้: {', '.join(sorted(unknown))}")
    if "number" in changes:
        changes["number"] = normalize_number(changes["number"])
        if changes["number"] in _active_numbers(session, item.organization_id, item.fiscal_year, except_id=item.id):
            raise OitError(f"มีรายการ {changes['number']} ในปีงบประมาณ {item.fiscal_year} แล้ว")
    _check_fields(name=changes.get("name"), indicator=changes.get("indicator", "keep"), covers=changes.get("covers"))
    if "department_id" in changes:
        _check_department(session, item.organization_id, changes["department_id"])
    before = audit.snapshot(item)
    for key, value in changes.items():
        setattr(item, key, value.strip() if isinstance(value, str) else value)
    if audit.snapshot(item) == before:
        return item
    item.updated_at = utcnow()
    session.add(item)
    session.flush()
    audit.record(session, user_id=actor.user_id, username=actor.username, action="oit.item_edit", entity="oit_item",
                 entity_id=item.id, organization_id=item.organization_id, before=before, after=audit.snapshot(item))
    return item


def remove_item(session: Session, *, item_id: int, actor: Actor) -> None:
    """Take an item off the year's list (admin). It stays in the database, hidden, with its history."""
    item = _item(session, item_id)
    require_admin(actor, item.organization_id)
    before = audit.snapshot(item)
    item.removed_at = utcnow()
    session.add(item)
    session.flush()
    audit.record(session, user_id=actor.user_id, username=actor.username, action="oit.item_remove", entity="oit_item",
                 entity_id=item.id, organization_id=item.organization_id, before=before, after=audit.snapshot(item))


def start_from_framework(session: Session, *, organization_id: int, fiscal_year: int, actor: Actor) -> int:
    """Copy the framework's list of the year into the agency's (admin); refused when it has items.

    Returns how many were added (0 when the framework lists none for that year).
    """
    require_admin(actor, organization_id)
    if _active_numbers(session, organization_id, fiscal_year):
        raise OitError(f"ปีงบประมาณ {fiscal_year} มีรายการ OIT อยู่แล้ว")
    fw = framework_for(session, organization_id=organization_id, fiscal_year=fiscal_year)
    for d in fw.oit_items:
        add_item(session, organization_id=organization_id, fiscal_year=fiscal_year, number=d.number, name=d.name_th,
                 indicator=d.indicator, sub_indicator=d.sub_indicator, contents=d.contents, covers=d.covers,
                 origin="framework", confidence=d.confidence, actor=actor)
    return len(fw.oit_items)


# ---------------------------------------------------------------------------------------------
# Status


def can_update_item(actor: Actor, *, organization_id: int, department_id: Optional[int]) -> bool:
    """Admins update every item of their organisations; a department head only their department's."""
    role = actor.role_for(organization_id)
    if role == Role.admin:
        return True
    return role == Role.department_head and department_id is not None and actor.department_for(organization_id) == department_id


def record_status(session: Session, *, item_id: int, status: OitStatus | str, url: Optional[str] = None,
                  note: str = "", evidence_url: Optional[str] = None, as_of: Optional[dt.date] = None,
                  actor: Actor) -> OitUpdate:
    """Append a status row for an item (admin, or the head of its department); audited.

    Published and checked items need the URL where they are published.
    """
    item = _item(session, item_id)
    require_org(actor, item.organization_id)
    if not can_update_item(actor, organization_id=item.organization_id, department_id=item.department_id):
        raise PermissionDenied("คุณปรับสถานะได้เฉพาะรายการ OIT ที่กอง/ส่วนราชการของคุณรับผิดชอบ")
    try:
        status = OitStatus(status)
    except ValueError as exc:
        raise OitError(f"สถานะไม่ถูกต้อง: {status}") from exc
    url = (url or "").strip() or None
    for link in (url, (evidence_url or "").strip() or None):
        if link and not link.lower().startswith(("http://", "https://")):
            raise OitError("ลิงก์ต้องขึ้นต้นด้วย http:// หรือ https://")
    if status in READY and not url:
        raise OitError("รายการที่เผยแพร่แล้วต้องระบุลิงก์ (URL) ที่เผยแพร่")
    as_of = as_of or dt.date.today()
    previous = session.exec(
        select(OitUpdate).where(OitUpdate.item_id == item_id, OitUpdate.as_of <= as_of)
        .order_by(col(OitUpdate.as_of).desc(), col(OitUpdate.id).desc())
    ).first()
    update = OitUpdate(item_id=item_id, as_of=as_of, status=status, url=url, note=(note or "").strip(),
                       evidence_url=(evidence_url or "").strip() or None, user_id=actor.user_id)
    session.add(update)
    session.flush()
    audit.record(session, user_id=actor.user_id, username=actor.username, action="oit.status", entity="oit_item",
                 entity_id=item_id, organization_id=item.organization_id,
                 before=audit.snapshot(previous) if previous else None, after=audit.snapshot(update))
    return update


def history(session: Session, *, item_id: int) -> list[OitUpdate]:
    return list(session.exec(
        select(OitUpdate).where(OitUpdate.item_id == item_id).order_by(col(OitUpdate.as_of).desc(), col(OitUpdate.id).desc())
    ).all())


def mark_measures_report_published(session: Session, *, organization_id: int, fiscal_year: int, url: str,
                                   actor: Actor) -> Optional[OitUpdate]:
    """Record the yearly measures report (made by this app) as published at ``url``.

    The report is the framework's ``measures_o_items.report`` item (O26 in 2569, about the
    previous year). Returns None when the agency's list has no such item.
    """
    fw = framework_for(session, organization_id=organization_id, fiscal_year=fiscal_year)
    number = fw.measures_o_items.get("report")
    if not number:
        return None
    item = session.exec(select(OitItem).where(
        OitItem.organization_id == organization_id, OitItem.fiscal_year == fiscal_year, OitItem.number == number,
        col(OitItem.removed_at).is_(None))).first()
    if item is None:
        return None
    return record_status(session, item_id=item.id, status=OitStatus.published, url=url,
                         note="รายงานผลการดำเนินการตามมาตรการ (จัดทำจากแดชบอร์ด)", actor=actor)


# ---------------------------------------------------------------------------------------------
# Link check


def agency_site(session: Session, *, organization_id: int, urls: list[str]) -> Optional[str]:
    """The agency's own host: its website setting, else the host most of its item URLs use."""
    org = session.get(Organization, organization_id)
    if org is not None and org.website:
        host = linkcheck.host_of(org.website if "://" in org.website else "https://" + org.website)
        if host:
            return host
    hosts = Counter(h.removeprefix("www.") for h in (linkcheck.host_of(u) for u in urls) if h)
    return hosts.most_common(1)[0][0] if hosts else None


def check_links(session: Session, *, organization_id: int, fiscal_year: int, actor: Actor,
                timeout: float = linkcheck.DEFAULT_TIMEOUT, max_bytes: int = linkcheck.DEFAULT_MAX_BYTES,
                progress: Optional[Callable[[int, int], None]] = None) -> list[tuple[OitItemState, linkcheck.LinkResult]]:
    """Visit every item's current URL (admin) and record what came back; returns (item, result) pairs.

    Visits run a few at a time (they wait on the network, not on the CPU); the results are written
    in this session afterwards, one row per item, plus one audit event for the run.
    """
    require_admin(actor, organization_id)
    states = [s for s in item_states(session, organization_id=organization_id, fiscal_year=fiscal_year) if s.url]
    site = agency_site(session, organization_id=organization_id, urls=[s.url for s in states if s.url])
    results: list[tuple[OitItemState, linkcheck.LinkResult]] = []
    done = 0

    def visit(state: OitItemState) -> linkcheck.LinkResult:
        return linkcheck.check_url(state.url or "", site=site, timeout=timeout, max_bytes=max_bytes)

    with ThreadPoolExecutor(max_workers=4) as pool:
        for state, result in zip(states, pool.map(visit, states)):
            results.append((state, result))
            done += 1
            if progress:
                progress(done, len(states))
    now = utcnow()
    for state, r in results:
        session.add(OitLinkCheck(item_id=state.id, url=r.url, checked_at=now, ok=r.ok, problem=r.problem,
                                 status_code=r.status_code, content_type=r.content_type, final_url=r.final_url,
                                 size_bytes=r.size_bytes, user_id=actor.user_id))
    session.flush()
    audit.record(session, user_id=actor.user_id, username=actor.username, action="oit.check_links",
                 entity="organization", entity_id=organization_id, organization_id=organization_id,
                 after={"fiscal_year": fiscal_year, "checked": len(results), "site": site,
                        "problems": {s.number: r.problem for s, r in results if not r.ok}})
    return results
