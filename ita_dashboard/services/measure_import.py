"""Write a parsed measures plan into the database: the only place measures are created from files.

Re-importing the same (or a corrected) plan updates the year's measures instead of adding
copies: an existing measure of the same organisation and year matches by its normalised title,
else by its number. Measures missing from the new file are never deleted, only reported.
Everything happens in the caller's session (``db.session_scope``): on any error nothing is kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import ClassVar, Iterable, Optional, Sequence

from sqlmodel import Session, col, select

from ..errors import ItaError
from .. import audit, thai
from . import orgs
from ..departments import DepartmentResolver, means_all_departments, normalize_name, split_owner_text
from ..importers.measures import ParsedActivity, ParsedMeasure, ParsedPlan
from ..models import Activity, BatchKind, Department, ImportBatch, Measure, MeasureDepartment, Organization, utcnow
from ..texts import t

_TEXT_FIELDS = ("section_number", "section_title", "title", "steps", "owner_text", "period_text",
                "output_text", "outcome_text")
_DERIVED_FIELDS = ("start_date", "end_date", "recurrence", "period_unparsed", "owner_all", "unresolved_owners")


class MeasureImportError(ItaError, ValueError):
    """A plan that cannot be imported as given; ``str(exc)`` is a Thai message."""

    codes: ClassVar[tuple[str, ...]] = (
        "measure_import_bad_year", "measure_import_no_measures", "measure_import_no_title",
        "measure_import_bad_number", "measure_import_duplicate_number", "measure_import_org_not_found",
        "measure_import_measure_elsewhere", "measure_import_no_alias", "measure_import_department_elsewhere",
    )


@dataclass
class ImportSummary:
    batch_id: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Owner texts no department matched, as written (once each), for the alias-mapping screen.
    unresolved_owners: list[str] = field(default_factory=list)
    # Measures of the year that the file no longer lists: kept, shown to the admin.
    missing: list[str] = field(default_factory=list)
    # Measures whose period could not be read (number, text as written).
    unparsed_periods: list[tuple[int, str]] = field(default_factory=list)
    measure_ids: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Lines of the file with text that did not become (part of) a measure, each
    # {"row", "where", "reason", "code", "text"[, "table" | "sheet"]}: nothing is dropped unsaid.
    skipped: list[dict] = field(default_factory=list)


@dataclass
class ActivitySummary:
    created: int = 0
    duplicates: int = 0
    skipped_undated: list[str] = field(default_factory=list)
    activity_ids: list[int] = field(default_factory=list)


# ---------------------------------------------------------------- owners and periods


@dataclass(frozen=True)
class OwnerResolution:
    owner_all: bool
    department_ids: tuple[int, ...]
    unresolved: tuple[str, ...]


def resolve_owners(owner_text: str, *, resolver: DepartmentResolver) -> OwnerResolution:
    """"ทุกกอง" and kin → every department; otherwise each written unit → a department, or kept
    as written in ``unresolved`` (never guessed)."""
    if means_all_departments(owner_text):
        return OwnerResolution(True, tuple(d.id for d in resolver.departments), ())
    ids: list[int] = []
    unresolved: list[str] = []
    for part in split_owner_text(owner_text):
        dep_id = resolver.resolve(part)
        if dep_id is None:
            if part not in unresolved:
                unresolved.append(part)
        elif dep_id not in ids:
            ids.append(dep_id)
    return OwnerResolution(False, tuple(ids), tuple(unresolved))


def _period_fields(period_text: str, *, fiscal_year: int) -> dict:
    if not period_text.strip():
        return {"start_date": None, "end_date": None, "recurrence": None, "period_unparsed": False}
    p = thai.parse_period(period_text, fiscal_year=fiscal_year)
    return {
        "start_date": p.start if p.ok else None,
        "end_date": p.end if p.ok else None,
        "recurrence": ",".join(p.recurrence) or None,
        "period_unparsed": not p.ok,
    }


def _linked_ids(session: Session, measure_id: int) -> set[int]:
    return set(session.exec(select(MeasureDepartment.department_id).where(MeasureDepartment.measure_id == measure_id)))


def _set_links(session: Session, measure_id: int, wanted: Iterable[int]) -> bool:
    """Make the measure's department links exactly ``wanted``; True when something changed."""
    wanted, current = set(wanted), _linked_ids(session, measure_id)
    for dep_id in current - wanted:
        link = session.get(MeasureDepartment, (measure_id, dep_id))
        if link is not None:
            session.delete(link)
    for dep_id in wanted - current:
        session.add(MeasureDepartment(measure_id=measure_id, department_id=dep_id))
    return wanted != current


# ---------------------------------------------------------------- matching a plan to the year's measures


def _where(m: ParsedMeasure) -> str:
    return m.source_place or t("measure_import_row_place", row=m.source_row)


def _check_plan(plan: ParsedPlan, *, fiscal_year: int) -> None:
    if not 2400 <= int(fiscal_year) <= 2700:
        raise MeasureImportError(code="measure_import_bad_year", year=fiscal_year)
    if not plan.measures:
        raise MeasureImportError(code="measure_import_no_measures")
    seen: dict[int, ParsedMeasure] = {}
    for m in plan.measures:
        if not (m.title or "").strip():
            raise MeasureImportError(code="measure_import_no_title", number=m.number, place=_where(m))
        if m.number < 1:
            raise MeasureImportError(code="measure_import_bad_number", title=m.title[:40], number=m.number)
        if m.number in seen:
            raise MeasureImportError(code="measure_import_duplicate_number", number=m.number,
                                     first=_where(seen[m.number]), second=_where(m))
        seen[m.number] = m


def _match(parsed: Sequence[ParsedMeasure], existing: Sequence[Measure]) -> list[Optional[Measure]]:
    """For each parsed measure the existing one it updates (title first, then number), or None."""
    result: list[Optional[Measure]] = [None] * len(parsed)
    free = list(existing)
    for i, pm in enumerate(parsed):
        key = normalize_name(pm.title)
        hit = next((m for m in free if normalize_name(m.title) == key), None)
        if hit is not None:
            result[i] = hit
            free.remove(hit)
    parsed_keys = {normalize_name(pm.title) for pm in parsed}
    for i, pm in enumerate(parsed):
        if result[i] is not None:
            continue
        hit = next((m for m in free if m.number == pm.number and normalize_name(m.title) not in parsed_keys), None)
        if hit is not None:
            result[i] = hit
            free.remove(hit)
    return result


def _park_numbers(session: Session, measures: Iterable[Measure]) -> None:
    """Move numbers out of the way (negative, unique by id) so renumbering never trips the
    (organization, year, number) unique constraint halfway through."""
    parked = False
    for m in measures:
        m.number = -int(m.id)
        session.add(m)
        parked = True
    if parked:
        session.flush()


def _snapshot(m: Measure, dep_ids: Iterable[int]) -> dict:
    snap = {f: getattr(m, f) for f in ("number", *_TEXT_FIELDS, *_DERIVED_FIELDS)}
    snap["unresolved_owners"] = list(snap["unresolved_owners"] or [])
    snap["department_ids"] = sorted(dep_ids)
    return snap


# ---------------------------------------------------------------- the import


def import_plan(
    session: Session,
    *,
    organization_id: int,
    plan: ParsedPlan,
    fiscal_year: int,
    user_id: Optional[int],
    file_name: str,
    file_bytes: bytes,
) -> ImportSummary:
    """Create or update the year's measures from a parsed plan, in the caller's transaction."""
    if session.get(Organization, organization_id) is None:
        raise MeasureImportError(code="measure_import_org_not_found", organization_id=organization_id)
    _check_plan(plan, fiscal_year=fiscal_year)
    batch = ImportBatch(
        organization_id=organization_id, fiscal_year=fiscal_year, kind=BatchKind.measures, file_name=file_name or "",
        sha256=hashlib.sha256(file_bytes or b"").hexdigest(), size_bytes=len(file_bytes or b""),
        user_id=user_id, read_count=len(plan.measures),
    )
    session.add(batch)
    session.flush()
    summary = ImportSummary(batch_id=batch.id, warnings=list(plan.warnings),
                            skipped=[s.as_dict() for s in getattr(plan, "skipped", ())])

    existing = list(session.exec(
        select(Measure).where(Measure.organization_id == organization_id, Measure.fiscal_year == fiscal_year)
        .order_by(col(Measure.number))
    ))
    matches = _match(plan.measures, existing)
    matched_ids = {m.id for m in matches if m is not None}
    missing = [m for m in existing if m.id not in matched_ids]
    original_numbers = {m.id: m.number for m in existing}
    _renumber_missing(session, missing=missing, plan=plan, existing=existing, summary=summary)
    _park_numbers(session, [m for pm, m in zip(plan.measures, matches) if m is not None and m.number != pm.number])

    resolver = orgs.resolver_for(session, organization_id=organization_id)
    for pm, current in zip(plan.measures, matches):
        _upsert_one(session, pm=pm, current=current, organization_id=organization_id, fiscal_year=fiscal_year,
                    batch_id=batch.id, resolver=resolver, summary=summary,
                    original_number=original_numbers.get(current.id) if current is not None else None,
                    user_id=user_id)

    batch.imported_count = summary.created + summary.updated
    batch.duplicate_count = summary.unchanged
    session.add(batch)
    audit.record(
        session, user_id=user_id, action="measures.import", entity="import_batch", entity_id=batch.id,
        organization_id=organization_id,
        after={"file_name": file_name, "fiscal_year": fiscal_year, "created": summary.created,
               "updated": summary.updated, "unchanged": summary.unchanged, "missing": summary.missing,
               "unresolved_owners": summary.unresolved_owners,
               "skipped_count": len(summary.skipped),
               "skipped": [{k: s.get(k) for k in ("row", "where", "reason")} for s in summary.skipped[:100]]},
    )
    session.flush()
    return summary


def _renumber_missing(session: Session, *, missing: list[Measure], plan: ParsedPlan,
                      existing: list[Measure], summary: ImportSummary) -> None:
    """Kept measures whose number the new file gives to another one move to the end."""
    taken = {pm.number for pm in plan.measures}
    next_free = max([*taken, *(m.number for m in existing)], default=0) + 1
    clashing = [m for m in missing if m.number in taken]
    _park_numbers(session, clashing)
    for m in missing:
        if m in clashing:
            m.number = next_free
            next_free += 1
            session.add(m)
        summary.missing.append(f"{m.number}. {m.title}")
    if missing:
        summary.warnings.append(t("measures_kept_missing", n=len(missing)))
    session.flush()


def _upsert_one(session: Session, *, pm: ParsedMeasure, current: Optional[Measure], organization_id: int,
                fiscal_year: int, batch_id: int, resolver: DepartmentResolver, summary: ImportSummary,
                original_number: Optional[int], user_id: Optional[int] = None) -> None:
    """Create or update one measure; each one created or changed gets its own audit event
    (before/after with its departments), besides the batch's summary event."""
    owners = resolve_owners(pm.owner_text, resolver=resolver)
    values = {f: getattr(pm, f) for f in _TEXT_FIELDS}
    values.update(_period_fields(pm.period_text, fiscal_year=fiscal_year))
    values.update(owner_all=owners.owner_all, unresolved_owners=list(owners.unresolved))
    for text in owners.unresolved:
        if text not in summary.unresolved_owners:
            summary.unresolved_owners.append(text)
    if values["period_unparsed"]:
        summary.unparsed_periods.append((pm.number, pm.period_text))

    if current is None:
        measure = Measure(organization_id=organization_id, fiscal_year=fiscal_year, number=pm.number,
                          source_batch_id=batch_id, **values)
        session.add(measure)
        session.flush()
        _set_links(session, measure.id, owners.department_ids)
        summary.created += 1
        summary.measure_ids.append(measure.id)
        audit.record(session, user_id=user_id, action="measure.create", entity="measure", entity_id=measure.id,
                     organization_id=organization_id, after=_snapshot(measure, owners.department_ids))
        return

    before = _snapshot(current, _linked_ids(session, current.id))
    before["number"] = original_number  # the number before it was parked out of the way
    current.number = pm.number
    for name, value in values.items():
        setattr(current, name, value)
    links_changed = _set_links(session, current.id, owners.department_ids)
    after = _snapshot(current, owners.department_ids)
    if after != before or links_changed:
        current.source_batch_id = batch_id
        current.updated_at = utcnow()
        summary.updated += 1
        audit.record(session, user_id=user_id, action="measure.update", entity="measure", entity_id=current.id,
                     organization_id=organization_id, before=before, after=after)
    else:
        summary.unchanged += 1
    session.add(current)
    session.flush()
    summary.measure_ids.append(current.id)


# ---------------------------------------------------------------- activities


def create_activities(
    session: Session,
    *,
    organization_id: int,
    fiscal_year: int,
    activities: Iterable[ParsedActivity],
    measure_id: Optional[int] = None,
    user_id: Optional[int] = None,
) -> ActivitySummary:
    """Add the report's activities; one already there (same date and title) is not added twice.

    An activity without a date cannot be stored (the date is what the timeline shows): it is
    returned in ``skipped_undated`` for the admin to add by hand.
    """
    if session.get(Organization, organization_id) is None:
        raise MeasureImportError(code="measure_import_org_not_found", organization_id=organization_id)
    if measure_id is not None:
        measure = session.get(Measure, measure_id)
        if measure is None or measure.organization_id != organization_id:
            raise MeasureImportError(code="measure_import_measure_elsewhere")
    result = ActivitySummary()
    for a in activities:
        title = (a.title or "").strip()
        if a.date is None:
            result.skipped_undated.append(title)
            continue
        if _activity_exists(session, organization_id=organization_id, date=a.date, title=title):
            result.duplicates += 1
            continue
        row = Activity(organization_id=organization_id, measure_id=measure_id, date=a.date, title=title,
                       text=(a.text or "").strip(), user_id=user_id)
        session.add(row)
        session.flush()
        result.created += 1
        result.activity_ids.append(row.id)
    if result.created:
        audit.record(session, user_id=user_id, action="activities.import", entity="activity",
                     organization_id=organization_id,
                     after={"fiscal_year": fiscal_year, "created": result.created, "ids": result.activity_ids})
    return result


def _activity_exists(session: Session, *, organization_id: int, date: dt.date, title: str) -> bool:
    rows = session.exec(select(Activity).where(Activity.organization_id == organization_id, Activity.date == date))
    key = normalize_name(title)
    return any(normalize_name(r.title) == key for r in rows)


# ---------------------------------------------------------------- alias mapping


def map_owner_alias(
    session: Session, *, organization_id: int, written: str, department_id: int, user_id: Optional[int] = None
) -> int:
    """Remember ``written`` as another name of a department and re-resolve the organisation's
    measures that could not place it; returns how many measures changed."""
    written = " ".join((written or "").split())
    if not written:
        raise MeasureImportError(code="measure_import_no_alias")
    dep = session.get(Department, department_id)
    if dep is None or dep.organization_id != organization_id:
        raise MeasureImportError(code="measure_import_department_elsewhere")
    before_aliases = list(dep.aliases or [])
    known = {normalize_name(x) for x in (dep.name, *before_aliases)}
    if normalize_name(written) not in known:
        dep.aliases = [*before_aliases, written]  # a new list: JSON columns do not track in-place changes
        session.add(dep)
        session.flush()

    # Every measure with owners still unplaced is tried again: the new alias is the only thing
    # that changed, so whatever resolves now ("ฝ่ายนิติการ" once "นิติการ" is known) resolves
    # because of it, exactly as a re-import would.
    changed = reresolve_owners(session, organization_id=organization_id)
    audit.record(
        session, user_id=user_id, action="department.alias_map", entity="department", entity_id=dep.id,
        organization_id=organization_id, before={"aliases": before_aliases},
        after={"aliases": list(dep.aliases), "written": written, "measures_changed": changed},
    )
    session.flush()
    return changed


def reresolve_owners(session: Session, *, organization_id: int, resolver: Optional[DepartmentResolver] = None) -> int:
    """Place the owner texts no department matched, in every measure of the organisation, with the
    current names, aliases and abbreviation table; returns how many measures changed."""
    resolver = resolver or orgs.resolver_for(session, organization_id=organization_id)
    changed = 0
    for m in list(session.exec(select(Measure).where(Measure.organization_id == organization_id))):
        if m.unresolved_owners and _reresolve(session, m, resolver=resolver):
            changed += 1
    return changed


def _reresolve(session: Session, m: Measure, *, resolver: DepartmentResolver) -> bool:
    """Place the measure's unresolved owner texts with the current aliases; True when any did."""
    still: list[str] = []
    found: set[int] = set()
    for text in m.unresolved_owners or []:
        dep_id = resolver.resolve(text)
        if dep_id is None:
            still.append(text)
        else:
            found.add(dep_id)
    if not found:
        return False
    _set_links(session, m.id, _linked_ids(session, m.id) | found)
    m.unresolved_owners = still
    m.updated_at = utcnow()
    session.add(m)
    session.flush()
    return True
