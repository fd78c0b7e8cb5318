"""This year against last: the same month of the previous fiscal year, and the survey counts at the
same point of the collection window (services/year_compare.py), on both databases."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from ita_dashboard import db
from ita_dashboard.importers.surveys import parse_survey_file
from ita_dashboard.models import OitItem, ProgressUpdate, Status
from ita_dashboard.permissions import Actor
from ita_dashboard.services import oit, uploads
from ita_dashboard.services.year_compare import compare_with_last_year, survey_point, year_ago
from tests import survey_files as sf
from tests.helpers import make_measure, make_org


def _import(engine, org: int, *, n: int, start: dt.datetime) -> None:
    data = sf.google_csv(sf.make_responses(n, start=start, step_minutes=24 * 60))  # one a day
    with db.session_scope(engine) as s:
        uploads.import_survey(s, actor=Actor.system(), organization_id=org, instrument="iit",
                              parsed=parse_survey_file(data), fiscal_year=None, file_name="iit.csv", data=data)


def test_year_ago_keeps_month_ends():
    assert year_ago(dt.date(2026, 3, 31)) == dt.date(2025, 3, 31)
    assert year_ago(dt.date(2024, 2, 29)) == dt.date(2023, 2, 28)


def test_the_same_month_of_last_year_side_by_side(engine):
    org = make_org(engine)
    # FY 2568: 2 measures, the first done in Feb 2025; FY 2569: 3 measures, one done in Feb 2026
    old = [make_measure(engine, org_id=org, year=2568, number=n) for n in (1, 2)]
    new = [make_measure(engine, org_id=org, year=2569, number=n, start=dt.date(2025, 10, 1), end=dt.date(2026, 3, 31))
           for n in (1, 2, 3)]
    with db.session_scope(engine) as s:
        s.add(ProgressUpdate(measure_id=old[0], as_of=dt.date(2025, 2, 10), status=Status.done, percent=100))
        s.add(ProgressUpdate(measure_id=old[1], as_of=dt.date(2025, 6, 10), status=Status.done, percent=100))
        s.add(ProgressUpdate(measure_id=new[0], as_of=dt.date(2026, 2, 10), status=Status.done, percent=100))
    # collection opens on 1 January both years (framework); 40 daily responses last year, 20 this year
    _import(engine, org, n=40, start=dt.datetime(2025, 1, 1, 9, 0))
    _import(engine, org, n=20, start=dt.datetime(2026, 1, 1, 9, 0))
    with db.session_scope(engine) as s:
        for year in (2568, 2569):
            oit.start_from_framework(s, organization_id=org, fiscal_year=year, actor=Actor.system())
        for item in s.exec(select(OitItem).where(OitItem.fiscal_year == 2568)).all()[:5]:
            oit.record_status(s, item_id=item.id, status="published", url="https://t.go.th/x", as_of=dt.date(2025, 2, 1),
                              actor=Actor.system())
        c = compare_with_last_year(s, organization_id=org, fiscal_year=2569, as_of=dt.date(2026, 2, 28))
    rows = {r.key: r for r in c.rows}
    assert c.last_as_of == dt.date(2025, 2, 28)
    assert (rows["measures_done"].this_year, rows["measures_done"].last_year) == (1, 1)
    assert (rows["measures_done"].this_total, rows["measures_done"].last_total) == (3, 2)
    # 58 days into both windows: every response of this year, 40 of last year's (all by 9 Feb 2025)
    assert c.last_survey_point == dt.date(2025, 2, 28)
    assert (rows["iit"].this_year, rows["iit"].last_year, rows["iit"].change) == (20, 40, -20)
    assert (rows["oit_ready"].this_year, rows["oit_ready"].last_year) == (0, 5)
    assert (rows["oit_ready"].this_total, rows["oit_ready"].last_total) == (17, 21)
    assert c.has_last_year


def test_the_survey_point_follows_the_window_when_it_moves(engine):
    from ita_dashboard.services.framework_overrides import set_override

    org = make_org(engine)
    with db.session_scope(engine) as s:
        # this year the window opens a month later (1 Feb): 10 days in is 11 Feb this year, 11 Jan last year
        set_override(s, organization_id=org, fiscal_year=2569, key="collection_window.start", value=[2, 1],
                     actor=Actor.system())
        assert survey_point(s, organization_id=org, fiscal_year=2569, as_of=dt.date(2026, 2, 11)) == dt.date(2025, 1, 11)
        # before the fiscal year's start it stays inside last fiscal year
        assert survey_point(s, organization_id=org, fiscal_year=2569, as_of=dt.date(2025, 10, 1)) >= dt.date(2024, 10, 1)


def test_a_first_year_has_nothing_to_compare(engine):
    org = make_org(engine)
    with db.session_scope(engine) as s:
        c = compare_with_last_year(s, organization_id=org, fiscal_year=2569, as_of=dt.date(2026, 1, 31))
    assert not c.has_last_year
