"""AppTest of the OIT page and the overview's OIT bar and rating, on the demo database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from ita_dashboard import db
from ita_dashboard.models import OitItem
from ita_dashboard.texts import t
from tests.apptest_utils import run_app, texts
from tests.helpers import make_demo_db


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    return make_demo_db(tmp_path_factory.mktemp("pages_oit") / "demo.db")


YEAR_END = dt.date(2023, 9, 30)  # FY 2566 is over: the head's form records as of its last day


def _dataframe_rows(at) -> list[dict]:
    return [row for df in at.dataframe for row in df.value.to_dict("records")]


def test_oit_page_shows_readiness_and_the_items(monkeypatch, demo_url):
    at = run_app(monkeypatch, demo_url, username="naoo_mayor", page="app_pages/oit.py")
    body = texts(at)
    assert t("oit_title") in body and t("oit_estimate_note") in body
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("oit_ready_items")].endswith("/ 13")
    rows = _dataframe_rows(at)
    assert {r[t("oit_col_number")] for r in rows} >= {"O42", "O43", "O1"}
    assert not at.get("form")  # an executive updates nothing here
    assert t("oit_admin_title") not in body


def test_department_head_marks_an_item_published_and_the_oit_estimate_moves(monkeypatch, tmp_path):
    from ita_dashboard.models import Department
    from ita_dashboard.services import oit, summary
    from tests.helpers import make_demo_db

    url = make_demo_db(tmp_path / "demo.db")
    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        item = s.exec(select(OitItem).where(OitItem.number == "O43")).first()
        org_id = item.organization_id
        finance = s.exec(select(Department).where(Department.name == "กองคลัง", Department.organization_id == org_id)).one()
        oit.record_status(s, item_id=item.id, status="in_progress", as_of=YEAR_END, actor=oit.Actor.system())
        item.department_id = finance.id
        s.add(item)
        item_id = item.id
        before = summary.build_summary(s, organization_id=org_id, fiscal_year=2566, as_of=YEAR_END).oit
    at = run_app(monkeypatch, url, username="naoo_finance", page="app_pages/oit.py")
    at.selectbox(key="oit_status_item").set_value(item_id).run()
    next(x for x in at.selectbox if x.label == t("oit_col_status")).set_value("published")
    next(x for x in at.text_input if x.label == t("oit_url_input")).input("https://demo-naoo.example/ita/o43")
    next(b for b in at.button if b.label == t("save")).click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert any(t("oit_saved", number="O43", status=t("oit_status_published")) in x.value for x in at.success)
    with db.session_scope(engine) as s:
        after = summary.build_summary(s, organization_id=org_id, fiscal_year=2566, as_of=YEAR_END).oit
        state = next(x for x in oit.item_states(s, organization_id=org_id, fiscal_year=2566, as_of=YEAR_END)
                     if x.number == "O43")
    assert state.url == "https://demo-naoo.example/ita/o43" and state.status.value == "published"
    assert after.ready == before.ready + 1 and after.estimated_score > before.estimated_score


def test_admin_sees_the_tools_and_the_overview_shows_the_level(monkeypatch, demo_url):
    at = run_app(monkeypatch, demo_url, username="naoo_admin", page="app_pages/oit.py")
    body = texts(at)
    assert t("oit_admin_title") in body
    assert [tab.label for tab in at.tabs][:4] == [t("oit_tab_edit"), t("oit_tab_import"), t("oit_tab_links"), t("oit_tab_copy")]
    at = run_app(monkeypatch, demo_url, username="naoo_admin")
    at.selectbox(key="as_of_month").set_value(dt.date(2023, 9, 30)).run()
    body = texts(at)
    assert t("level_estimated", level="ผ่าน") in body


def test_overview_compares_with_last_year_and_report_page_offers_the_oit_item(monkeypatch, demo_url):
    at = run_app(monkeypatch, demo_url, username="naoo_admin")
    assert any(e.label == t("compare_title", last=2565) for e in at.expander)
    assert t("compare_no_last_year", last=2565) in texts(at)
    at = run_app(monkeypatch, demo_url, username="naoo_admin", page="app_pages/report.py")
    assert any(e.label == t("oit_report_published_title") for e in at.expander)
    assert t("oit_report_item", number="O43", year=2566) in texts(at)
