import datetime as dt

import pytest
from sqlmodel import select

from ita_dashboard import db
from ita_dashboard.models import AuditEvent, ProgressUpdate, Status
from ita_dashboard.permissions import Actor, PermissionDenied
from ita_dashboard.services import measures as svc
from tests.helpers import actor_for, make_measure, make_org, make_user


@pytest.fixture
def setup(engine):
    org = make_org(engine)
    finance = make_measure(engine, org_id=org, number=1, title="เผยแพร่แผนจัดซื้อ", departments=["กองคลัง"])
    works = make_measure(engine, org_id=org, number=2, title="ตรวจรับงานจ้าง", departments=["กองช่าง"],
                         end=dt.date(2025, 9, 30))
    shared = make_measure(engine, org_id=org, number=3, title="ประชุมชี้แจง", owner_all=True, end=dt.date(2024, 12, 31))
    head = make_user(engine, username="head", role="department_head", org_id=org, department="กองคลัง")
    viewer = make_user(engine, username="viewer", role="viewer", org_id=org)
    execu = make_user(engine, username="mayor", role="executive", org_id=org)
    return engine, org, finance, works, shared, actor_for(engine, head), actor_for(engine, viewer), actor_for(engine, execu)


def test_progress_is_a_log_and_state_follows_as_of(setup):
    engine, org, finance, *_ , head, _, _ = setup
    with db.session_scope(engine) as s:
        svc.record_progress(s, measure_id=finance, status="in_progress", percent=40, as_of=dt.date(2024, 11, 30), actor=head)
        svc.record_progress(s, measure_id=finance, status="done", percent=80, as_of=dt.date(2025, 1, 31), actor=head,
                            evidence_url="https://example.go.th/plan.pdf")
    with db.session_scope(engine) as s:
        rows = s.exec(select(ProgressUpdate).where(ProgressUpdate.measure_id == finance)).all()
        assert len(rows) == 2  # never overwritten
        def state(day):
            return next(m for m in svc.measure_states(s, organization_id=org, fiscal_year=2568, as_of=day) if m.id == finance)
        assert state(dt.date(2024, 10, 31)).status == Status.not_started
        assert (state(dt.date(2024, 12, 31)).status, state(dt.date(2024, 12, 31)).percent) == (Status.in_progress, 40)
        done = state(dt.date(2025, 2, 28))
        assert (done.status, done.percent, done.evidence_url) == (Status.done, 100, "https://example.go.th/plan.pdf")


def test_overdue_when_end_passed_and_not_done(setup):
    engine, org, finance, works, shared, head, _, _ = setup
    with db.session_scope(engine) as s:
        states = {m.id: m for m in svc.measure_states(s, organization_id=org, fiscal_year=2568, as_of=dt.date(2025, 4, 15))}
    assert states[finance].overdue and states[shared].overdue and not states[works].overdue
    with db.session_scope(engine) as s:
        svc.record_progress(s, measure_id=shared, status="cancelled", percent=0, as_of=dt.date(2025, 1, 5), actor=head)
        states = {m.id: m for m in svc.measure_states(s, organization_id=org, fiscal_year=2568, as_of=dt.date(2025, 4, 15))}
    assert not states[shared].overdue


def test_department_head_edits_only_own_department(setup):
    engine, org, finance, works, shared, head, viewer, execu = setup
    with db.session_scope(engine) as s:
        svc.record_progress(s, measure_id=finance, status="in_progress", percent=10, actor=head)
        svc.record_progress(s, measure_id=shared, status="in_progress", percent=10, actor=head)  # ทุกกอง
    for actor, measure in ((head, works), (viewer, finance), (execu, finance)):
        with pytest.raises(PermissionDenied):
            with db.session_scope(engine) as s:
                svc.record_progress(s, measure_id=measure, status="done", percent=100, actor=actor)
    with db.session_scope(engine) as s:
        assert len(s.exec(select(ProgressUpdate).where(ProgressUpdate.measure_id == works)).all()) == 0


def test_other_organisation_admin_is_refused(setup):
    engine, org, finance, *_ = setup
    other = make_org(engine, name="อบต.อื่น", kind="อบต.")
    admin = actor_for(engine, make_user(engine, username="other_admin", role="admin", org_id=other))
    with pytest.raises(PermissionDenied):
        with db.session_scope(engine) as s:
            svc.record_progress(s, measure_id=finance, status="done", percent=100, actor=admin)


@pytest.mark.parametrize("kwargs, message", [
    ({"status": "finished", "percent": 10}, "สถานะ"),
    ({"status": "in_progress", "percent": 120}, "0 ถึง 100"),
    ({"status": "in_progress", "percent": "abc"}, "ตัวเลข"),
    ({"status": "in_progress", "percent": 10, "evidence_url": "javascript:alert(1)"}, "http"),
])
def test_bad_progress_input_is_refused_and_nothing_written(setup, kwargs, message):
    engine, org, finance, *_ = setup
    with pytest.raises(svc.ProgressError, match=message):
        with db.session_scope(engine) as s:
            svc.record_progress(s, measure_id=finance, actor=Actor.system(), **kwargs)
    with db.session_scope(engine) as s:
        assert s.exec(select(ProgressUpdate)).all() == []


def test_progress_is_audited_with_before_and_after(setup):
    engine, org, finance, *_ , head, _, _ = setup
    with db.session_scope(engine) as s:
        svc.record_progress(s, measure_id=finance, status="in_progress", percent=30, actor=head, as_of=dt.date(2024, 11, 1))
        svc.record_progress(s, measure_id=finance, status="in_progress", percent=60, actor=head, as_of=dt.date(2024, 12, 1))
    with db.session_scope(engine) as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "measure.progress").order_by(AuditEvent.id)).all()
    assert [e.username for e in events] == ["head", "head"]
    assert events[1].before["percent"] == 30 and events[1].after["percent"] == 60


def test_by_department_and_by_month(setup):
    engine, org, finance, works, shared, head, *_ = setup
    with db.session_scope(engine) as s:
        svc.record_progress(s, measure_id=finance, status="done", percent=100, as_of=dt.date(2025, 2, 10), actor=head)
        states = svc.measure_states(s, organization_id=org, fiscal_year=2568, as_of=dt.date(2025, 3, 31))
        from ita_dashboard.services.orgs import departments_of
        rows = {r.name: r for r in svc.progress_by_department(states, departments=departments_of(s, organization_id=org))}
        points = svc.progress_by_month(s, organization_id=org, fiscal_year=2568)
    assert (rows["กองคลัง"].total, rows["กองคลัง"].done) == (2, 1)  # own + ทุกกอง
    assert (rows["กองช่าง"].total, rows["กองช่าง"].done, rows["กองช่าง"].overdue) == (2, 0, 1)
    assert len(points) == 12
    by_label = {p.end: p for p in points}
    assert by_label[dt.date(2025, 1, 31)].done == 0 and by_label[dt.date(2025, 2, 28)].done == 1
    assert by_label[dt.date(2024, 12, 31)].planned == 1 and by_label[dt.date(2025, 3, 31)].planned == 2


def test_progress_by_quarter_and_round_are_cumulative_points(setup):
    engine, org, finance, works, shared, head, *_ = setup
    with db.session_scope(engine) as s:
        svc.record_progress(s, measure_id=finance, status="done", percent=100, as_of=dt.date(2025, 2, 10), actor=head)
        quarters = svc.progress_by_period(s, organization_id=org, fiscal_year=2568, granularity="quarter")
        rounds = svc.progress_by_period(s, organization_id=org, fiscal_year=2568, granularity="round")
    assert [p.label for p in quarters] == ["ไตรมาส 1", "ไตรมาส 2", "ไตรมาส 3", "ไตรมาส 4"]
    assert [(p.planned, p.done) for p in quarters] == [(1, 0), (2, 1), (2, 1), (3, 1)]
    assert [(p.label, p.end, p.done) for p in rounds] == [("รอบ 6 เดือน", dt.date(2025, 3, 31), 1),
                                                          ("รอบ 12 เดือน", dt.date(2025, 9, 30), 1)]
