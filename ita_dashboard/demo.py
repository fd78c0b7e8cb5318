"""Demo data: the two seed agencies with their real measures, plus invented context.

Real (from the published reports in data/demo/*.txt, parsed by the report-text importer):
organisation names and districts, fiscal years, every measure field, the activities of นาอ้อ.
Invented and flagged as demo (``Organization.is_demo``, shown in the UI): departments and their
head counts, the monthly progress history, survey responses and the demo accounts.
Everything is generated from a fixed random seed, so every load gives the same numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass, field
from typing import Optional

from sqlmodel import Session, select

from . import auth, thai
from .config import SEEDS_DIR
from .errors import ItaError
from .models import Instrument, Measure, Organization, Role, Status
from .permissions import Actor
from .services import orgs as orgs_svc
from .services import measures as measures_svc


class DemoError(ItaError, ValueError):
    """The example data cannot be loaded into this database."""

    codes = ("demo_loaded", "demo_org_exists")


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    department: Optional[str] = None


@dataclass
class DemoResult:
    organizations: list[str] = field(default_factory=list)
    accounts: list[DemoAccount] = field(default_factory=list)


@dataclass(frozen=True)
class DemoAgency:
    seed_file: str
    kind: str
    size: str
    # (name, IIT-eligible staff, aliases)
    departments: tuple[tuple[str, int, tuple[str, ...]], ...]
    account_prefix: str
    head_department: str
    iit_share: float  # fraction of eligible staff that answered (invented)
    eit_count: int
    oit_ready_share: float  # fraction of the OIT items published by the end of the collection window (invented)


AGENCIES = (
    DemoAgency(
        seed_file="000_17dbb9646109a181.txt",
        kind="เทศบาลตำบล",
        size="M",
        departments=(
            ("สำนักปลัดเทศบาล", 24, ("สำนักปลัด", "นิติการ", "ฝ่ายนิติการ", "ฝ่ายประชาสัมพันธ์", "เจ้าหน้าที่ฝ่ายประชาสัมพันธ์")),
            ("กองคลัง", 11, ()),
            ("กองช่าง", 10, ()),
            ("กองการศึกษา", 12, ()),
            ("กองสาธารณสุขและสิ่งแวดล้อม", 21, ()),
            ("กองสวัสดิการสังคม", 13, ()),
        ),
        account_prefix="naoo",
        head_department="กองคลัง",
        iit_share=0.86,
        eit_count=74,
        oit_ready_share=0.85,
    ),
    DemoAgency(
        seed_file="004_4d93f31d8314e9de.txt",
        kind="อบต.",
        size="M",
        departments=(
            ("สำนักปลัด อบต.", 14, ("สำนักปลัด", "สำนักปลัดองค์การบริหารส่วนตำบล")),
            ("กองคลัง", 7, ()),
            ("กองช่าง", 6, ()),
            ("กองการศึกษา ศาสนาและวัฒนธรรม", 9, ("กองการศึกษา",)),
        ),
        account_prefix="mluang",
        head_department="กองคลัง",
        iit_share=0.7,
        eit_count=36,
        oit_ready_share=0.7,
    ),
)

DEMO_PASSWORD = "demo-ita-2568"

# Question headers of an agency's own check-in form (answers on the framework's scales).
IIT_QUESTIONS = (
    "1. บุคลากรในหน่วยงานของท่าน ปฏิบัติงาน/ให้บริการแก่ผู้มาติดต่อ ตามขั้นตอนที่กำหนด มากน้อยเพียงใด",
    "2. หน่วยงานของท่าน ใช้จ่ายงบประมาณ ตามวัตถุประสงค์และคุ้มค่า มากน้อยเพียงใด",
    "3. ผู้บังคับบัญชาของท่าน มอบหมายงานอย่างเป็นธรรม มากน้อยเพียงใด",
    "4. บุคลากรในหน่วยงานของท่าน ใช้ทรัพย์สินของราชการ อย่างถูกต้อง มากน้อยเพียงใด",
    "5. ผู้บริหารของหน่วยงานของท่าน ให้ความสำคัญกับการแก้ไขปัญหาการทุจริต มากน้อยเพียงใด",
)
EIT_QUESTIONS = (
    "1. เจ้าหน้าที่ของหน่วยงานที่ท่านติดต่อ ปฏิบัติงาน/ให้บริการแก่ท่าน ตามขั้นตอนที่กำหนด มากน้อยเพียงใด",
    "2. การเผยแพร่ข้อมูลของหน่วยงานที่ท่านติดต่อ เข้าถึงง่าย ไม่ซับซ้อน มากน้อยเพียงใด",
    "3. หน่วยงานที่ท่านติดต่อ มีการปรับปรุงคุณภาพการปฏิบัติงาน/การให้บริการ ให้ดีขึ้น มากน้อยเพียงใด",
)
_ANSWERS = ("มากที่สุด", "มาก", "น้อย", "น้อยที่สุดหรือไม่มีเลย")


def demo_loaded(session: Session) -> bool:
    return session.exec(select(Organization).where(Organization.is_demo == True)).first() is not None  # noqa: E712


def load_demo(session: Session) -> DemoResult:
    """Load both seed agencies (idempotent: refuses when they are already there)."""
    from .importers.measures import parse_measures_file
    from .services.measure_import import create_activities, import_plan

    if demo_loaded(session):
        raise DemoError(code="demo_loaded")
    rng = random.Random(2568)
    actor = Actor.system()
    result = DemoResult()
    for agency in AGENCIES:
        data = (SEEDS_DIR / agency.seed_file).read_bytes()
        plan = parse_measures_file(data, filename=agency.seed_file)
        if orgs_svc.find_organization(session, name=plan.organization_name):
            raise DemoError(code="demo_org_exists", name=plan.organization_name)
        org = orgs_svc.create_organization(
            session, name=plan.organization_name, kind=agency.kind, size=agency.size,
            province=plan.province, district=plan.district, is_demo=True, actor=actor,
        )
        for name, staff, aliases in agency.departments:
            orgs_svc.add_department(session, organization_id=org.id, name=name, iit_eligible_staff=staff,
                                    aliases=aliases, actor=actor)
        year = plan.fiscal_year
        import_plan(session, organization_id=org.id, plan=plan, fiscal_year=year, user_id=None,
                    file_name=agency.seed_file, file_bytes=data)
        measures = session.exec(
            select(Measure).where(Measure.organization_id == org.id, Measure.fiscal_year == year).order_by(Measure.number)
        ).all()
        if plan.activities:
            create_activities(session, organization_id=org.id, fiscal_year=year, activities=plan.activities)
        _progress_history(session, measures=measures, fiscal_year=year, rng=rng, actor=actor)
        _surveys(session, org=org, agency=agency, fiscal_year=year, rng=rng)
        _oit_items(session, org=org, agency=agency, fiscal_year=year, rng=rng, actor=actor)
        result.organizations.append(org.name)
        result.accounts.extend(_accounts(session, org=org, agency=agency))
    return result


def _progress_history(session: Session, *, measures, fiscal_year: int, rng: random.Random, actor: Actor) -> None:
    """Monthly updates from each measure's start: in progress, rising, done by its end.

    The last measure of the year is left at 90 % so that the overview has an overdue item.
    """
    fy_start, fy_end = thai.fiscal_year_bounds(fiscal_year)
    for i, m in enumerate(measures):
        start = m.start_date or fy_start
        end = m.end_date or fy_end
        last = i == len(measures) - 1
        months = [(y, mo) for y, mo in thai.fiscal_months(fiscal_year) if thai.month_end(y, mo) >= start]
        for y, mo in months:
            as_of = min(thai.month_end(y, mo), fy_end)
            if as_of > end + dt.timedelta(days=31):
                break
            if as_of >= end and not last:
                status, pct = Status.done, 100
            else:
                span = max((end - start).days, 1)
                pct = min(95, max(10, int(100 * (as_of - start).days / span) + rng.randint(-5, 5)))
                pct = min(pct, 90) if last else pct
                status = Status.in_progress
            measures_svc.record_progress(
                session, measure_id=m.id, status=status, percent=pct, as_of=as_of,
                note=f"ข้อมูลตัวอย่าง: ความคืบหน้า ณ {thai.format_month_th(y, mo)}", actor=actor,
            )
            if status == Status.done:
                break


def _surveys(session: Session, *, org: Organization, agency: DemoAgency, fiscal_year: int, rng: random.Random) -> None:
    """Generate Google-Forms-like exports and push them through the real importer."""
    from .importers.surveys import parse_survey_file
    from .services.survey_import import import_survey

    # Collection from early January to late June of the fiscal year (ita-facts §5 pattern).
    start = dt.date(thai.be_to_ce(fiscal_year), 1, 5)
    stop = dt.date(thai.be_to_ce(fiscal_year), 6, 25)
    for instrument, questions in (("iit", IIT_QUESTIONS), ("eit", EIT_QUESTIONS)):
        rows = []
        for name, staff, _aliases in agency.departments:
            if instrument == Instrument.iit:
                n = int(round(staff * agency.iit_share * rng.uniform(0.75, 1.15)))
            else:
                n = int(round(agency.eit_count / len(agency.departments) * rng.uniform(0.6, 1.4)))
            for _ in range(n):
                day = start + dt.timedelta(days=int((stop - start).days * rng.random() ** 1.6))
                ts = dt.datetime.combine(day, dt.time(rng.randint(8, 16), rng.randint(0, 59), rng.randint(0, 59)))
                # IIT lands near 89 and EIT near 82: an EIT below the bar is the case the overview must show.
                weights = (0.7, 0.27, 0.03, 0.0) if instrument == Instrument.iit else (0.55, 0.37, 0.06, 0.02)
                answers = [rng.choices(_ANSWERS, weights=weights)[0] for _ in questions]
                rows.append((ts, name, answers))
        rows.sort(key=lambda r: r[0])
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["Timestamp", "ท่านสังกัดส่วนราชการใด" if instrument == Instrument.iit else "ส่วนราชการที่ท่านมาติดต่อ", *questions])
        for ts, name, answers in rows:
            w.writerow([f"{ts.month}/{ts.day}/{ts.year} {ts:%H:%M:%S}", name, *answers])
        data = buf.getvalue().encode("utf-8-sig")
        parsed = parse_survey_file(data, filename=f"demo_{instrument}.csv")
        import_survey(session, organization_id=org.id, instrument=instrument, parsed=parsed, fiscal_year=fiscal_year,
                      file_name=f"ตัวอย่าง_{instrument}_{fiscal_year}.csv", file_bytes=data, user_id=None)


# Items of 2566 beyond the framework's O42/O43 (the 2566 list had O1-O43; names here are the common
# basics every agency publishes, invented for the demo like everything else outside the seeds).
DEMO_EXTRA_OIT_2566 = (
    ("O1", "โครงสร้าง", 9), ("O2", "ข้อมูลผู้บริหาร", 9), ("O3", "อำนาจหน้าที่", 9), ("O5", "ข้อมูลการติดต่อ", 9),
    ("O8", "ข่าวประชาสัมพันธ์", 9), ("O12", "รายงานผลการดำเนินงานประจำปี", 9), ("O16", "รายงานการกำกับติดตามการใช้จ่ายงบประมาณ", 9),
    ("O20", "สรุปผลการจัดซื้อจัดจ้างหรือการจัดหาพัสดุรายเดือน", 9), ("O27", "แนวปฏิบัติการจัดการเรื่องร้องเรียนการทุจริต", 9),
    ("O32", "ประกาศนโยบาย No Gift Policy", 10), ("O36", "แผนปฏิบัติการป้องกันการทุจริต", 10),
)


def _oit_items(session: Session, *, org: Organization, agency: DemoAgency, fiscal_year: int, rng: random.Random,
               actor: Actor) -> None:
    """The year's OIT list (framework items, plus the basics for 2566), owners and due dates spread over
    the departments, and a status history: most items published by the end of the collection window."""
    from .models import OitStatus
    from .services import oit as oit_svc

    oit_svc.start_from_framework(session, organization_id=org.id, fiscal_year=fiscal_year, actor=actor)
    if fiscal_year == 2566:
        for number, name, indicator in DEMO_EXTRA_OIT_2566:
            oit_svc.add_item(session, organization_id=org.id, fiscal_year=fiscal_year, number=number, name=name,
                             indicator=indicator, origin="demo", actor=actor)
    org.website = f"https://demo-{agency.account_prefix}.example"
    session.add(org)
    deps = [d.id for d in orgs_svc.departments_of(session, organization_id=org.id)]
    states = oit_svc.item_states(session, organization_id=org.id, fiscal_year=fiscal_year)
    ce = thai.be_to_ce(fiscal_year)
    for i, item in enumerate(states):
        due = dt.date(ce, rng.choice((3, 4, 5)), 28)
        oit_svc.update_item(session, item_id=item.id, department_id=deps[i % len(deps)], due_date=due, actor=actor)
        started = due - dt.timedelta(days=rng.randint(30, 60))
        oit_svc.record_status(session, item_id=item.id, status=OitStatus.in_progress, as_of=started,
                              note="ข้อมูลตัวอย่าง", actor=actor)
        if rng.random() < agency.oit_ready_share:
            published = due - dt.timedelta(days=rng.randint(-20, 15))
            oit_svc.record_status(session, item_id=item.id, status=OitStatus.published, as_of=published,
                                  url=f"{org.website}/ita/{fiscal_year}/{item.number.lower()}", note="ข้อมูลตัวอย่าง",
                                  actor=actor)


def _accounts(session: Session, *, org: Organization, agency: DemoAgency) -> list[DemoAccount]:
    resolver = orgs_svc.resolver_for(session, organization_id=org.id)
    head_dep = resolver.resolve(agency.head_department)
    p = agency.account_prefix
    accounts = [
        DemoAccount(f"{p}_admin", DEMO_PASSWORD, Role.admin.value),
        DemoAccount(f"{p}_mayor", DEMO_PASSWORD, Role.executive.value),
        DemoAccount(f"{p}_finance", DEMO_PASSWORD, Role.department_head.value, agency.head_department),
        DemoAccount(f"{p}_viewer", DEMO_PASSWORD, Role.viewer.value),
    ]
    for a in accounts:
        auth.create_user(
            session, username=a.username, password=a.password, role=a.role, organization_id=org.id,
            department_id=head_dep if a.role == Role.department_head.value else None,
            display_name=f"{a.username} (ตัวอย่าง)",
        )
    return accounts
