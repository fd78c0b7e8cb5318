"""The overview: the summary's due list and department ranking, the data version behind the
page cache, and the page showing a write at once (no stale cache)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from ita_dashboard import db
from ita_dashboard.models import Instrument, Measure
from ita_dashboard.permissions import Actor
from ita_dashboard.services import measures as measures_svc
from ita_dashboard.services import surveys as surveys_svc
from ita_dashboard.services.data_version import data_version
from ita_dashboard.services.summary import build_summary, department_ranking
from ita_dashboard.services.summary_types import (CollectionWindow, DepartmentMeasures, DepartmentSurvey,
                                                  MeasuresSummary, OitSummary, Summary, SurveySummary)
from tests.helpers import make_measure, make_org
from tests.apptest_utils import run_app


@pytest.fixture
def org(engine):
    org_id = make_org(engine)
    make_measure(engine, org_id=org_id, number=1, title="เผยแพร่แผนจัดซื้อ", departments=["กองคลัง"],
                 end=dt.date(2024, 12, 31))
    make_measure(engine, org_id=org_id, number=2, title="ตรวจรับงานจ้าง", departments=["กองช่าง"],
                 end=dt.date(2025, 2, 15))
    make_measure(engine, org_id=org_id, number=3, title="ประชุมชี้แจง", owner_all=True, end=dt.date(2025, 9, 30))
    return org_id


def test_due_list_is_overdue_first_then_due_within_a_month(engine, org):
    with db.session_scope(engine) as s:
        data = build_summary(s, organization_id=org, fiscal_year=2568, as_of=dt.date(2025, 1, 31)).to_json_dict()
    assert [(d["number"], d["overdue"]) for d in data["due"]] == [(1, True), (2, False)]
    assert data["due"][0] == {"number": 1, "title": "เผยแพร่แผนจัดซื้อ", "end": "2024-12-31", "overdue": True,
                              "status": "not_started", "percent": 0}


def test_due_list_follows_the_history(engine, org):
    with db.session_scope(engine) as s:
        m1 = s.exec(select(Measure.id).where(Measure.organization_id == org, Measure.number == 1)).one()
        measures_svc.record_progress(s, measure_id=m1, status="done", percent=100, as_of=dt.date(2025, 1, 10),
                                     actor=Actor.system())
    with db.session_scope(engine) as s:
        before = build_summary(s, organization_id=org, fiscal_year=2568, as_of=dt.date(2025, 1, 5))
        after = build_summary(s, organization_id=org, fiscal_year=2568, as_of=dt.date(2025, 1, 31))
    assert [d.number for d in before.due] == [1]
    assert [d.number for d in after.due] == [2]


def test_department_ranking_puts_overdue_then_lowest_completion_first(engine, org):
    with db.session_scope(engine) as s:
        data = build_summary(s, organization_id=org, fiscal_year=2568, as_of=dt.date(2025, 1, 31))
    rows = department_ranking(data)
    names = [r.name for r in rows]
    assert names[0] == "กองคลัง"  # the only department with an overdue measure
    first = rows[0]
    assert first.behind and first.overdue == 1
    # without responses every department with a target is behind, and the percentages say 0
    assert all(r.iit_percent in (0.0, None) for r in rows)
    assert len(names) == len(set(names))


def ranking_input(measures: dict, iit: dict) -> Summary:
    """A summary holding only the departments' measures and IIT responses (the rest empty)."""
    def survey(by_department: dict) -> SurveySummary:
        return SurveySummary(responses=0, target=None, by_department={
            n: DepartmentSurvey(eligible=None, **d) for n, d in by_department.items()}, unmatched_departments=(),
            over_eligible=(), estimated_score=None, indicator_scores={}, scored_responses=0, itas_count=None,
            itas_as_of=None)

    return Summary(
        organization="", fiscal_year=2568, as_of=dt.date(2025, 1, 31), is_demo=False,
        measures=MeasuresSummary(total=0, done=0, in_progress=0, not_started=0, cancelled=0, overdue=0,
                                 by_department={n: DepartmentMeasures(in_progress=0, not_started=0, **d)
                                                for n, d in measures.items()}, unresolved_owners=()),
        surveys={Instrument.iit: survey(iit), Instrument.eit: survey({})}, oit_estimate=None,
        oit=OitSummary(items=0, ready=0, estimated_score=None, source=None, items_score=None, overdue=0,
                       by_indicator={}),
        estimated_total=None, estimated_level=None, level_held_back_by=(), passing_bar=85.0, below_bar=(),
        collection_window=CollectionWindow(start=dt.date(2025, 1, 1), end=dt.date(2025, 6, 30), days_left=150),
        due=())


def test_ranking_orders_by_completion_share_when_nothing_is_overdue():
    data = ranking_input({"ก": {"total": 1, "done": 1, "overdue": 0},
                          "ข": {"total": 1, "done": 1, "overdue": 0},
                          "ค": {"total": 0, "done": 0, "overdue": 0}},
                         {"ก": {"responses": 9, "target": 10},
                          "ข": {"responses": 2, "target": 10},
                          "ค": {"responses": 3, "target": None}})
    rows = department_ranking(data)
    assert [r.name for r in rows] == ["ข", "ก", "ค"]
    assert [r.behind for r in rows] == [True, True, False]
    assert rows[0].iit_percent == 20.0 and rows[0].iit_gap == 8


def test_data_version_changes_with_every_write(engine, org):
    with db.session_scope(engine) as s:
        v0 = data_version(s)
        surveys_svc.set_target(s, organization_id=org, fiscal_year=2568, instrument="iit", department_id=None,
                               target=30, actor=Actor.system())
    with db.session_scope(engine) as s:
        v1 = data_version(s)
    assert v1 != v0 and v1[1] == v0[1] + 1


def test_logins_and_password_changes_do_not_change_the_data_version(engine, org):
    """Every login writes an audit row; it must not empty every cached summary (issue 14 #9)."""
    from ita_dashboard import auth
    from tests.helpers import PASSWORD, make_user

    make_user(engine, username="reader", role="viewer", org_id=org)
    with db.session_scope(engine) as s:
        before = data_version(s)
    with db.session_scope(engine) as s:
        assert auth.authenticate(s, username="reader", password=PASSWORD).user is not None
        assert auth.authenticate(s, username="reader", password="wrong-password-1").user is None
    with db.session_scope(engine) as s:
        assert data_version(s) == before


def test_overview_shows_a_write_at_once_despite_the_cache(monkeypatch, tmp_path):
    """The page caches the summary; a progress update must still show on the next run."""
    from tests.helpers import make_demo_db

    url = make_demo_db(tmp_path / "demo.db")
    at = run_app(monkeypatch, url, username="naoo_admin")
    at.selectbox(key="as_of_month").set_value(dt.date(2023, 9, 30)).run()
    assert {m.label: m.value for m in at.metric}["มาตรการที่เสร็จแล้ว"] == "6 / 7"
    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        open_measure = next(m for m in measures_svc.measure_states(
            s, organization_id=_org_id(s, "เทศบาลตำบลนาอ้อ"), fiscal_year=2566, as_of=dt.date(2023, 9, 30))
            if m.status.value != "done")
        measures_svc.record_progress(s, measure_id=open_measure.id, status="done", percent=100,
                                     as_of=dt.date(2023, 9, 30), actor=Actor.system())
    engine.dispose()
    at.run()
    assert {m.label: m.value for m in at.metric}["มาตรการที่เสร็จแล้ว"] == "7 / 7"


def _org_id(session, name: str) -> int:
    from ita_dashboard.models import Organization

    return session.exec(select(Organization.id).where(Organization.name == name)).one()


def test_switcher_asks_for_the_province_first_when_there_are_many(monkeypatch, tmp_path):
    from ita_dashboard.services import orgs as orgs_svc
    from tests.helpers import make_user

    url = f"sqlite:///{tmp_path / 'many.db'}"
    engine = db.make_engine(url)
    db.migrate(engine)
    with db.session_scope(engine) as s:
        for i in range(40):
            orgs_svc.create_organization(s, name=f"อบต.ทดสอบ{i:02d}", kind="อบต.", province="เลย" if i < 25 else "น่าน",
                                         actor=Actor.system())
    make_user(engine, username="province", role="executive", org_id=None)
    engine.dispose()
    at = run_app(monkeypatch, url, username="province")
    province = at.sidebar.selectbox(key="_w_org_province")
    assert sorted(province.options) == ["น่าน", "เลย"]
    organisation = at.sidebar.selectbox(key="_w_org_id")
    # the first by name (the title escapes its markdown: "อบต\\.")
    assert len(organisation.options) == 25 and "อบต.ทดสอบ00" in at.title[0].value.replace("\\", "")
    province.set_value("น่าน").run()
    organisation = at.sidebar.selectbox(key="_w_org_id")
    assert len(organisation.options) == 15 and organisation.options[0] == "อบต.ทดสอบ25"
    assert "อบต.ทดสอบ25" in at.title[0].value.replace("\\", "")


def test_org_options_are_filtered_in_sql(engine):
    from ita_dashboard.services import orgs as orgs_svc

    ids = [make_org(engine, name=f"เทศบาล{i}") for i in range(3)]
    with db.session_scope(engine) as s:
        assert [o.id for o in orgs_svc.org_options(s, org_ids={ids[2], ids[0]})] == [ids[0], ids[2]]
        assert len(orgs_svc.org_options(s)) == 3
        assert orgs_svc.org_options(s, org_ids=set()) == []


def test_rollup_page_shows_a_write_at_once_despite_the_cache(monkeypatch, tmp_path):
    from ita_dashboard.models import Organization
    from ita_dashboard.texts import t
    from tests.helpers import make_demo_db, make_user

    url = make_demo_db(tmp_path / "demo.db")
    make_user(db.make_engine(url), username="everywhere", role="executive", org_id=None)
    at = run_app(monkeypatch, url, username="everywhere")
    at.switch_page("app_pages/rollup.py").run()
    org_id, year = at.session_state["org_id"], at.session_state["fiscal_year"]
    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        name = s.get(Organization, org_id).name
        surveys_svc.set_target(s, organization_id=org_id, fiscal_year=year, instrument="iit", department_id=None,
                               target=999, actor=Actor.system())
    engine.dispose()
    at.run()
    frame = at.dataframe[0].value.set_index(t("col_agency"))
    assert "/999 " in frame.loc[name, t("col_iit")]
