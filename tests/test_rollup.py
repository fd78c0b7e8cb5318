"""The roll-up (services/rollup.py): one row per agency, agreeing with each agency's summary,
scoped to what the actor may see, and not one query per agency."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from ita_dashboard import db
from ita_dashboard.models import Instrument, Organization, SurveyResponse
from ita_dashboard.permissions import Actor
from ita_dashboard.services import framework_overrides, memberships, rollup, summary, surveys
from ita_dashboard.services import measures as measures_svc
from tests.helpers import actor_for, dep_id, make_measure, make_org, make_user

FY = 2568
AS_OF = dt.date(2025, 6, 30)


def _place(engine, org_id: int, province: str, district: str) -> None:
    with db.session_scope(engine) as s:
        org = s.get(Organization, org_id)
        org.province, org.district = province, district
        s.add(org)


def _responses(engine, org_id: int, instrument: str, scores: list[float], *, day=dt.date(2025, 3, 1)) -> None:
    with db.session_scope(engine) as s:
        for i, v in enumerate(scores):
            s.add(SurveyResponse(
                organization_id=org_id, fiscal_year=FY, instrument=Instrument(instrument),
                submitted_at=dt.datetime(day.year, day.month, day.day, 3, tzinfo=dt.timezone.utc), submitted_on=day,
                respondent_key=f"{instrument}-{org_id}-{day}-{i}", answers={},
                score=v, indicator_score_1=v, indicator_score_2=min(v + 10, 100), indicator_score_3=v,
                indicator_score_4=v, indicator_score_5=v,
            ))


@pytest.fixture
def world(engine):
    """Three agencies in two provinces with measures, progress, responses, targets and overrides."""
    a = make_org(engine, name="เทศบาลตำบลเอ")
    b = make_org(engine, name="อบต.บี", kind="อบต.", size="S", departments=(("สำนักปลัด", 7), ("กองคลัง", 0)))
    c = make_org(engine, name="เทศบาลเมืองซี", kind="เทศบาลเมือง", size="L")
    _place(engine, a, "ลำปาง", "เกาะคา")
    _place(engine, b, "ลำปาง", "เมือง")
    _place(engine, c, "เชียงใหม่", "สันทราย")
    m1 = make_measure(engine, org_id=a, number=1, end=dt.date(2025, 3, 31))
    m2 = make_measure(engine, org_id=a, number=2, end=dt.date(2025, 3, 31))
    make_measure(engine, org_id=a, number=3, end=dt.date(2025, 9, 30))
    m4 = make_measure(engine, org_id=b, number=1, end=dt.date(2025, 1, 31))
    make_measure(engine, org_id=a, year=2567, number=1)  # another year: not counted
    with db.session_scope(engine) as s:
        sysa = Actor.system()
        measures_svc.record_progress(s, measure_id=m1, status="done", percent=100, as_of=dt.date(2025, 2, 1), actor=sysa)
        measures_svc.record_progress(s, measure_id=m2, status="done", percent=100, as_of=dt.date(2025, 8, 1), actor=sysa)  # after AS_OF
        measures_svc.record_progress(s, measure_id=m4, status="cancelled", percent=0, as_of=dt.date(2025, 1, 1), actor=sysa)
        surveys.set_target(s, organization_id=c, fiscal_year=FY, instrument="iit", department_id=None, target=40, actor=sysa)
        surveys.set_target(s, organization_id=a, fiscal_year=FY, instrument="eit", department_id=None, target=12, actor=sysa)
        finance_b = dep_id(engine, b, "กองคลัง")
        surveys.set_target(s, organization_id=b, fiscal_year=FY, instrument="iit", department_id=finance_b, target=3, actor=sysa)
        framework_overrides.set_override(s, organization_id=a, fiscal_year=FY, key="agency.oit_estimate", value=90, actor=sysa)
        framework_overrides.set_override(s, organization_id=c, fiscal_year=FY, key="agency.oit_estimate", value=70, actor=sysa)
    _responses(engine, a, "iit", [80, 90, 100])
    _responses(engine, a, "eit", [60, 70])
    _responses(engine, a, "eit", [10], day=dt.date(2025, 8, 1))  # after AS_OF
    _responses(engine, c, "iit", [50])
    _responses(engine, c, "eit", [95, 85])
    return engine, a, b, c


def test_rollup_agrees_with_each_agency_summary(world):
    engine, *orgs = world
    with db.session_scope(engine) as s:
        rows = {r.organization_id: r for r in rollup.rollup(s, actor=Actor.system(), fiscal_year=FY, as_of=AS_OF)}
        assert set(rows) == set(orgs)
        for org_id in orgs:
            want = summary.build_summary(s, organization_id=org_id, fiscal_year=FY, as_of=AS_OF).to_json_dict()
            got = rows[org_id]
            assert (got.measures_total, got.measures_done, got.measures_overdue) == (
                want["measures"]["total"], want["measures"]["done"], want["measures"]["overdue"]), got.name
            for inst in ("iit", "eit"):
                assert getattr(got, f"{inst}_responses") == want["surveys"][inst]["responses"], (got.name, inst)
                assert getattr(got, f"{inst}_target") == want["surveys"][inst]["target"], (got.name, inst)
                assert getattr(got, f"{inst}_score") == want["surveys"][inst]["estimated_score"], (got.name, inst)
            assert got.oit_score == want["oit_estimate"]
            assert got.estimated_total == want["estimated_total"], got.name
            assert got.passing_bar == want["passing_bar"] == 85


def test_rollup_known_figures(world):
    engine, a, b, c = world
    with db.session_scope(engine) as s:
        rows = {r.organization_id: r for r in rollup.rollup(s, actor=Actor.system(), fiscal_year=FY, as_of=AS_OF)}
    ra, rb, rc = rows[a], rows[b], rows[c]
    assert (ra.measures_total, ra.measures_done, ra.measures_overdue) == (3, 1, 1)  # m2 done only in August
    assert (rb.measures_total, rb.measures_done, rb.measures_overdue) == (1, 0, 0)  # cancelled is never overdue
    assert (ra.iit_responses, ra.eit_responses, ra.eit_target) == (3, 2, 12)
    assert ra.iit_target == 19  # head counts 10 + 5 + 4
    assert rb.iit_target == 10  # 7 staff + an explicit department target of 3
    assert rc.iit_target == 40 and rc.iit_ratio == pytest.approx(1 / 40)
    assert rb.iit_score is None and rb.estimated_total is None and rb.measures_ratio == 0


def test_scope_filters_and_ranking(world):
    engine, a, b, c = world
    with db.session_scope(engine) as s:
        lampang = rollup.rollup(s, actor=Actor.system(), fiscal_year=FY, as_of=AS_OF, scope=rollup.Scope(province="ลำปาง"))
        assert {r.organization_id for r in lampang} == {a, b}
        kinds = rollup.rollup(s, actor=Actor.system(), fiscal_year=FY, as_of=AS_OF, scope=rollup.Scope(kind="อบต."))
        assert [r.organization_id for r in kinds] == [b]
        district = rollup.rollup(s, actor=Actor.system(), fiscal_year=FY, as_of=AS_OF,
                                 scope=rollup.Scope(province="ลำปาง", district="เกาะคา"))
        assert [r.organization_id for r in district] == [a]
        options = rollup.filter_options(s, actor=Actor.system(), province="ลำปาง")
        everything = rollup.rollup(s, actor=Actor.system(), fiscal_year=FY, as_of=AS_OF)
    assert options["province"] == sorted(["ลำปาง", "เชียงใหม่"])
    assert options["district"] == sorted(["เกาะคา", "เมือง"])
    by_score = rollup.ranked(everything, by="score")
    assert [r.organization_id for r in by_score][-1] == b  # no total: last
    assert by_score[0].estimated_total >= by_score[1].estimated_total
    assert [r.organization_id for r in rollup.ranked(everything, by="measures")] == [a, b, c]  # c has no measures
    assert [r.organization_id for r in rollup.weakest(everything, by="measures", n=1)] == [b]
    with pytest.raises(ValueError):
        rollup.ranked(everything, by="nonsense")


def test_rollup_shows_only_the_actors_organisations(world):
    engine, a, b, c = world
    own = make_user(engine, username="admin_a", role="admin", org_id=a)
    officer = make_user(engine, username="province", role="executive", org_id=None)
    with db.session_scope(engine) as s:
        assert memberships.grant_province(s, actor=Actor.system(), user_id=officer, province="ลำปาง", role="executive") == 2
    with db.session_scope(engine) as s:
        mine = rollup.rollup(s, actor=actor_for(engine, own), fiscal_year=FY, as_of=AS_OF)
        province = rollup.rollup(s, actor=actor_for(engine, officer), fiscal_year=FY, as_of=AS_OF)
        options = rollup.filter_options(s, actor=actor_for(engine, officer))
    assert [r.organization_id for r in mine] == [a]
    assert {r.organization_id for r in province} == {a, b}
    assert options["province"] == ["ลำปาง"]


def test_rollup_query_count_does_not_grow_with_agencies(engine):
    """Grouped SQL: the same number of statements for 2 agencies as for 12."""
    def statements(n_orgs: int) -> int:
        for i in range(n_orgs):
            org = make_org(engine, name=f"อบต.นับ{n_orgs}-{i}", kind="อบต.")
            make_measure(engine, org_id=org)
            _responses(engine, org, "iit", [70.0])
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            with db.session_scope(engine) as s:
                rows = rollup.rollup(s, actor=Actor.system(), fiscal_year=FY, as_of=AS_OF)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert len(rows) >= n_orgs
        return len(seen)

    assert statements(2) == statements(10)
