"""OIT items tracked one by one: the agency's list, who publishes what by when, where, and its state.

The list of a fiscal year starts as a copy of the framework's (``framework/oit_items.py``), from an
xlsx, or from last year's; the admin then adds, renames, renumbers and removes items (a removed
item is kept, hidden, with its history). The state of an item on day D is its newest
:class:`OitUpdate` with ``as_of <= D`` (an append-only log, as measure progress is).

An item is **ready** on D when its state is เผยแพร่แล้ว or ตรวจแล้ว and the newest link check of
its URL (if any was made) found nothing wrong. The OIT estimate is the share of ready items per
indicator (9, 10), and the instrument the plain mean of its indicators, as the framework rolls up
(ita-facts section 10); items without an indicator make a group of their own in that mean, so
none is left out (the page says how many have none). It is an
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

from ..errors import ItaError
from .. import audit, linkcheck
from ..texts import t
from ..framework.oit_items import COVERS, number_key
from ..models import Department, OitItem, OitLinkCheck, OitStatus, OitUpdate, Organization, utcnow
from ..permissions import Actor, require_admin, require_update_oit_item
from .framework_overrides import framework_for

READY = (OitStatus.published, OitStatus.checked)
BANGKOK = ZoneInfo("Asia/Bangkok")
INDICATORS = (9, 10)
NO_INDICATOR = 0  # items whose indicator the agency has not set: a group of their own, so none is left out


class OitError(ItaError, ValueError):
    """Bad OIT input or request; ``str(exc)`` is a Thai message."""

    codes = (
        "oit_item_not_found", "oit_bad_number", "oit_name_empty", "oit_bad_indicator", "oit_bad_covers",
        "oit_department_not_found", "oit_number_taken", "oit_not_editable", "oit_year_has_items", "oit_bad_status",
        "oit_bad_link", "oit_url_required", "oit_copy_nothing", "oit_copy_exists",
    )


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
        ready = _is_ready(status, url, check_ok=check.ok if check else None, check_url=check.url if check else None)
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
    for ind in (*INDICATORS, NO_INDICATOR):
        group = [s for s in states if (s.indicator or NO_INDICATOR) == ind]
        if group:
            ready = sum(s.ready for s in group)
            by_indicator[ind] = {"items": len(group), "ready": ready, "score": round(100 * ready / len(group), 2)}
    ready = sum(s.ready for s in states)
    score = round(sum(v["score"] for v in by_indicator.values()) / len(by_indicator), 2)
    return OitEstimate(items=len(states), ready=ready, by_indicator=by_indicator, score=score)


def not_ready_by_department(states: list[OitItemState]) -> dict[str, list[OitItemState]]:
    """Items not ready, grouped by responsible department (None: no department set), for the meeting."""
    groups: dict[str, list[OitItemState]] = {}
    for s in states:
        if not s.ready:
            groups.setdefault(s.department_name or "", []).append(s)
    return dict(sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])))


def readiness_by_org(session: Session, *, org_q: Any, fiscal_year: int, as_of: Optional[dt.date] = None
                     ) -> dict[int, OitEstimate]:
    """The OIT estimate of every agency in ``org_q`` (ids, or a select of ids) at once, for the roll-up.

    Three queries whatever the number of agencies (items; each item's newest update; its newest
    link check, both by window function), then the same :func:`estimate` as one agency's page.
    Agencies without items are left out.
    """
    from sqlalchemy import select as sa_select

    as_of = as_of or dt.date.today()
    in_scope = col(OitItem.organization_id).in_(org_q)
    items = session.execute(sa_select(OitItem.id, OitItem.organization_id, OitItem.indicator).where(
        in_scope, OitItem.fiscal_year == fiscal_year, col(OitItem.removed_at).is_(None))).all()
    if not items:
        return {}
    scoped = sa_select(OitItem.id).where(in_scope, OitItem.fiscal_year == fiscal_year)
    rank = func.row_number().over(partition_by=OitUpdate.item_id,
                                  order_by=(col(OitUpdate.as_of).desc(), col(OitUpdate.id).desc())).label("n")
    upd = sa_select(OitUpdate.item_id, OitUpdate.status, OitUpdate.url, rank).where(
        col(OitUpdate.item_id).in_(scoped), OitUpdate.as_of <= as_of).subquery()
    latest = {i: (OitStatus(st), url) for i, st, url in session.execute(
        sa_select(upd.c.item_id, upd.c.status, upd.c.url).where(upd.c.n == 1))}
    end_of_day = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(0), tzinfo=BANGKOK).astimezone(dt.timezone.utc)
    crank = func.row_number().over(partition_by=OitLinkCheck.item_id, order_by=col(OitLinkCheck.id).desc()).label("n")
    chk = sa_select(OitLinkCheck.item_id, OitLinkCheck.ok, OitLinkCheck.url, crank).where(
        col(OitLinkCheck.item_id).in_(scoped), OitLinkCheck.checked_at < end_of_day).subquery()
    checks = {i: (ok, url) for i, ok, url in session.execute(sa_select(chk.c.item_id, chk.c.ok, chk.c.url).where(chk.c.n == 1))}
    by_org: dict[int, list[OitItemState]] = {}
    for item_id, org_id, indicator in items:
        status, url = latest.get(item_id, (OitStatus.not_started, None))
        check = checks.get(item_id)
        ready = _is_ready(status, url, check_ok=check[0] if check else None, check_url=check[1] if check else None)
        by_org.setdefault(org_id, []).append(_bare_state(item_id, indicator, status, ready))
    return {org_id: estimate(states) for org_id, states in by_org.items()}


def _is_ready(status: OitStatus, url: Optional[str], *, check_ok: Optional[bool], check_url: Optional[str]) -> bool:
    """Published or checked, and the newest check of that same URL (if any) found nothing wrong."""
    return status in READY and not (check_ok is False and check_url == url)


def _bare_state(item_id: int, indicator: Optional[int], status: OitStatus, ready: bool) -> OitItemState:
    return OitItemState(id=item_id, number="", name="", indicator=indicator, sub_indicator="", contents="", covers="current",
                        department_id=None, department_name=None, due_date=None, origin="", confidence=None, status=status,
                        url=None, note="", evidence_url=None, last_update=None, last_check=None, ready=ready, overdue=False)


# ---------------------------------------------------------------------------------------------
# The list: start, add, edit, remove


def _item(session: Session, item_id: int) -> OitItem:
    item = session.get(OitItem, item_id)
    if item is None or item.removed_at is not None:
        raise OitError(code="oit_item_not_found", item_id=item_id)
    return item


def normalize_number(number: Any) -> str:
    """"o 25", "O25", "๒๕" -> "O25"; a number is what ITA calls the item."""
    from ..thai import to_arabic_digits

    text = to_arabic_digits(str(number or "")).strip().upper().replace(" ", "")
    if text.isdigit():
        text = "O" + text
    if not (len(text) >= 2 and text[0] == "O" and text[1:].isdigit() and len(text) <= 4):
        raise OitError(code="oit_bad_number", number=number)
    return "O" + str(int(text[1:]))


def _check_fields(*, name: Optional[str] = None, indicator: Any = "keep", covers: Optional[str] = None) -> None:
    if name is not None and not name.strip():
        raise OitError(code="oit_name_empty")
    if indicator not in ("keep", None, 9, 10):
        raise OitError(code="oit_bad_indicator", indicator=indicator)
    if covers is not None and covers not in COVERS:
        raise OitError(code="oit_bad_covers")


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
        raise OitError(code="oit_department_not_found")


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
        raise OitError(code="oit_number_taken", number=number, fiscal_year=fiscal_year)
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
        raise OitError(code="oit_not_editable", fields=", ".join(sorted(unknown)))
    if "number" in changes:
        changes["number"] = normalize_number(changes["number"])
        if changes["number"] in _active_numbers(session, item.organization_id, item.fiscal_year, except_id=item.id):
            raise OitError(code="oit_number_taken", number=changes["number"], fiscal_year=item.fiscal_year)
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
        raise OitError(code="oit_year_has_items", fiscal_year=fiscal_year)
    fw = framework_for(session, organization_id=organization_id, fiscal_year=fiscal_year)
    for d in fw.oit_items:
        add_item(session, organization_id=organization_id, fiscal_year=fiscal_year, number=d.number, name=d.name_th,
                 indicator=d.indicator, sub_indicator=d.sub_indicator, contents=d.contents, covers=d.covers,
                 origin="framework", confidence=d.confidence, actor=actor)
    return len(fw.oit_items)


# ---------------------------------------------------------------------------------------------
# Status


def record_status(session: Session, *, item_id: int, status: OitStatus | str, url: Optional[str] = None,
                  note: str = "", evidence_url: Optional[str] = None, as_of: Optional[dt.date] = None,
                  actor: Actor) -> OitUpdate:
    """Append a status row for an item (admin, or the head of its department); audited.

    Published and checked items need the URL where they are published.
    """
    item = _item(session, item_id)
    require_update_oit_item(actor, organization_id=item.organization_id, department_id=item.department_id)
    try:
        status = OitStatus(status)
    except ValueError as exc:
        raise OitError(code="oit_bad_status", status=status) from exc
    url = (url or "").strip() or None
    for link in (url, (evidence_url or "").strip() or None):
        if link and not link.lower().startswith(("http://", "https://")):
            raise OitError(code="oit_bad_link")
    if status in READY and not url:
        raise OitError(code="oit_url_required")
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


def measures_report_item(session: Session, *, organization_id: int, report_year: int) -> Optional[OitItem]:
    """The OIT item that publishes the measures report of ``report_year``, in the agency's lists.

    It is the framework's ``measures_o_items.report`` item: in the next year's list when that item
    covers the previous year (O26 of 2569 is the report of 2568), else in the same year's list when
    it covers the current one (O43 of 2566). None when the agency's lists have no such item.
    """
    for year, covers in ((report_year + 1, "previous"), (report_year, "current")):
        number = framework_for(session, organization_id=organization_id, fiscal_year=year).measures_o_items.get("report")
        if not number:
            continue
        item = session.exec(select(OitItem).where(
            OitItem.organization_id == organization_id, OitItem.fiscal_year == year, OitItem.number == number,
            OitItem.covers == covers, col(OitItem.removed_at).is_(None))).first()
        if item is not None:
            return item
    return None


def mark_measures_report_published(session: Session, *, organization_id: int, report_year: int, url: str,
                                   actor: Actor) -> Optional[OitUpdate]:
    """Record the yearly measures report (made by this app) as published at ``url``: a status row
    of its OIT item (:func:`measures_report_item`). None when there is no such item."""
    item = measures_report_item(session, organization_id=organization_id, report_year=report_year)
    if item is None:
        return None
    return record_status(session, item_id=item.id, status=OitStatus.published, url=url,
                         note=t("oit_report_note", year=report_year), actor=actor)


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


def check_links(*, open_session: Callable[..., Any], organization_id: int, fiscal_year: int, actor: Actor,
                timeout: float = linkcheck.DEFAULT_TIMEOUT, max_bytes: int = linkcheck.DEFAULT_MAX_BYTES,
                progress: Optional[Callable[[int, int], None]] = None) -> list[tuple[OitItemState, linkcheck.LinkResult]]:
    """Visit every item's current URL (admin) and record what came back; returns (item, result) pairs.

    ``open_session(write=...)`` opens one unit of work (``db.session_scope`` bound to an engine, or
    the page's ``common.session``). The items are read in one short session, the visits happen with
    no session open (they can take minutes; no transaction or SQLite write lock waits on the
    network), and the results are written in a second short one, one row per item plus one audit
    event for the run. Visits run a few at a time: they wait on the network, not on the CPU.
    """
    with open_session() as session:
        require_admin(actor, organization_id)
        states = [s for s in item_states(session, organization_id=organization_id, fiscal_year=fiscal_year) if s.url]
        site = agency_site(session, organization_id=organization_id, urls=[s.url for s in states if s.url])
    results: list[tuple[OitItemState, linkcheck.LinkResult]] = []

    def visit(state: OitItemState) -> linkcheck.LinkResult:
        return linkcheck.check_url(state.url or "", site=site, timeout=timeout, max_bytes=max_bytes)

    with ThreadPoolExecutor(max_workers=4) as pool:
        for state, result in zip(states, pool.map(visit, states)):
            results.append((state, result))
            if progress:
                progress(len(results), len(states))
    now = utcnow()
    with open_session(write=True) as session:
        require_admin(actor, organization_id)
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


# ---------------------------------------------------------------------------------------------
# Import from a spreadsheet, and a new year from last year's


@dataclass
class OitImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    statuses: int = 0  # status rows recorded from the file's status/URL columns
    rejected: list[dict[str, Any]] = field(default_factory=list)
    unresolved_departments: list[str] = field(default_factory=list)


def import_list(session: Session, *, organization_id: int, fiscal_year: int, parsed: Any, actor: Actor) -> OitImportResult:
    """Merge a parsed list (``importers/oit_list.py``) into the agency's year (admin), all or nothing.

    Items are matched by number: a new number is added, a known one updated where the file says
    something different; items the file does not name are left as they are. A URL in the file
    with no status is taken as published there. Units resolve as survey departments do.
    """
    from .orgs import resolver_for

    require_admin(actor, organization_id)
    resolve = resolver_for(session, organization_id=organization_id).resolve
    existing = {i.number: i for i in session.exec(select(OitItem).where(
        OitItem.organization_id == organization_id, OitItem.fiscal_year == fiscal_year, col(OitItem.removed_at).is_(None)))}
    result = OitImportResult(rejected=list(parsed.rejected))
    unresolved: set[str] = set()
    for p in parsed.items:
        department_id = resolve(p.department_text) if p.department_text else None
        if p.department_text and department_id is None:
            unresolved.add(p.department_text)
        fields = {"name": p.name, "sub_indicator": p.sub_indicator, "contents": p.contents, "covers": p.covers}
        if p.indicator is not None:
            fields["indicator"] = p.indicator
        if department_id is not None:
            fields["department_id"] = department_id
        if p.due_date is not None:
            fields["due_date"] = p.due_date
        item = existing.get(p.number)
        if item is None:
            item = add_item(session, organization_id=organization_id, fiscal_year=fiscal_year, number=p.number,
                            origin="import", actor=actor, **fields)
            result.created += 1
        else:
            keep = {k: v for k, v in fields.items() if v or k == "covers"}
            changed = {k: v for k, v in keep.items() if getattr(item, k) != v}
            if changed:
                update_item(session, item_id=item.id, actor=actor, **changed)
                result.updated += 1
            else:
                result.unchanged += 1
        status = p.status or ("published" if p.url else None)
        current = next((x for x in item_states(session, organization_id=organization_id, fiscal_year=fiscal_year)
                        if x.id == item.id), None) if status else None
        if status and current is not None and (current.status.value, current.url) != (status, p.url or None):
            try:
                record_status(session, item_id=item.id, status=status, url=p.url, actor=actor)
                result.statuses += 1
            except OitError as exc:
                result.rejected.append({"row": p.row, "column": "", "reason": str(exc)})
    result.rejected.sort(key=lambda r: r["row"])
    result.unresolved_departments = sorted(unresolved)
    return result


@dataclass
class CopyPreview:
    """What starting a year from the previous one would add (shown before the admin confirms)."""

    from_year: int
    to_year: int
    measures: list[dict[str, Any]]  # {"number", "title", "owner_text", "start", "end"} with dates a year on
    oit_items: list[dict[str, Any]]  # {"number", "name", "department"}
    measures_already: int  # the new year has measures already: measures are not copied
    oit_already: int


def _shift_year(d: Optional[dt.date]) -> Optional[dt.date]:
    if d is None:
        return None
    try:
        return d.replace(year=d.year + 1)
    except ValueError:  # 29 Feb
        return d.replace(year=d.year + 1, day=28)


def copy_preview(session: Session, *, organization_id: int, to_year: int) -> CopyPreview:
    from ..models import Measure

    from_year = to_year - 1
    names = _department_names(session, organization_id)
    measures = session.exec(select(Measure).where(Measure.organization_id == organization_id,
                                                  Measure.fiscal_year == from_year).order_by(Measure.number)).all()
    items = session.exec(select(OitItem).where(OitItem.organization_id == organization_id, OitItem.fiscal_year == from_year,
                                               col(OitItem.removed_at).is_(None))).all()
    already_m = session.exec(select(func.count()).select_from(Measure).where(
        Measure.organization_id == organization_id, Measure.fiscal_year == to_year)).one()
    already_o = len(_active_numbers(session, organization_id, to_year))
    return CopyPreview(
        from_year=from_year, to_year=to_year,
        measures=[{"number": m.number, "title": m.title, "owner_text": m.owner_text,
                   "start": _shift_year(m.start_date), "end": _shift_year(m.end_date)} for m in measures],
        oit_items=[{"number": i.number, "name": i.name, "department": names.get(i.department_id) if i.department_id else None}
                   for i in sorted(items, key=lambda i: number_key(i.number))],
        measures_already=already_m, oit_already=already_o,
    )


def copy_from_previous_year(session: Session, *, organization_id: int, to_year: int, actor: Actor) -> dict[str, int]:
    """Start ``to_year`` from the previous year's measures and OIT items (admin): owners, sections,
    texts and dates a year on are kept; progress and statuses are not (the new year starts at
    "not started"). Refused for a part the new year already has, so nothing is doubled."""
    from ..models import Measure, MeasureDepartment

    require_admin(actor, organization_id)
    preview = copy_preview(session, organization_id=organization_id, to_year=to_year)
    if not preview.measures and not preview.oit_items:
        raise OitError(code="oit_copy_nothing", from_year=preview.from_year)
    if (preview.measures and preview.measures_already) or (preview.oit_items and preview.oit_already):
        raise OitError(code="oit_copy_exists", to_year=to_year)
    copied = {"measures": 0, "oit_items": 0}
    old_measures = session.exec(select(Measure).where(Measure.organization_id == organization_id,
                                                      Measure.fiscal_year == preview.from_year)).all()
    for m in old_measures:
        new = Measure(organization_id=organization_id, fiscal_year=to_year, number=m.number, section_number=m.section_number,
                      section_title=m.section_title, title=m.title, steps=m.steps, owner_text=m.owner_text,
                      owner_all=m.owner_all, unresolved_owners=list(m.unresolved_owners or []), period_text=m.period_text,
                      start_date=_shift_year(m.start_date), end_date=_shift_year(m.end_date), recurrence=m.recurrence,
                      period_unparsed=m.period_unparsed, indicator=m.indicator)
        session.add(new)
        session.flush()
        for dep in session.exec(select(MeasureDepartment.department_id).where(MeasureDepartment.measure_id == m.id)).all():
            session.add(MeasureDepartment(measure_id=new.id, department_id=dep))
        copied["measures"] += 1
    for i in session.exec(select(OitItem).where(OitItem.organization_id == organization_id,
                                                OitItem.fiscal_year == preview.from_year, col(OitItem.removed_at).is_(None))).all():
        add_item(session, organization_id=organization_id, fiscal_year=to_year, number=i.number, name=i.name,
                 indicator=i.indicator, sub_indicator=i.sub_indicator, contents=i.contents, covers=i.covers,
                 department_id=i.department_id, due_date=_shift_year(i.due_date), origin="copy",
                 confidence=i.confidence, actor=actor)
        copied["oit_items"] += 1
    session.flush()
    audit.record(session, user_id=actor.user_id, username=actor.username, action="year.copy", entity="organization",
                 entity_id=organization_id, organization_id=organization_id,
                 after={"from_year": preview.from_year, "to_year": to_year, **copied})
    return copied
