"""AppTest for every page: with the demo data, with an empty organisation, and for each role.

AppTest runs the real scripts in-process against a real SQLite file (DATABASE_URL).
"""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from ita_dashboard import db
from ita_dashboard.demo import DEMO_PASSWORD
from sqlmodel import select

from tests.apptest_utils import REPO, TIMEOUT, run_app, texts, user_id
from tests.helpers import make_demo_db, make_org, make_user

PAGES = ["app_pages/overview.py", "app_pages/measures.py", "app_pages/surveys.py", "app_pages/oit.py", "app_pages/report.py",
         "app_pages/upload.py", "app_pages/admin.py", "app_pages/account.py"]


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    return make_demo_db(tmp_path_factory.mktemp("pages") / "demo.db")


def test_empty_database_shows_setup_and_loads_demo(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    at = run_app(monkeypatch, url)
    assert "เริ่มต้นใช้งาน" in texts(at)
    at.button(key="load_demo").click().run()
    assert not at.exception
    assert "naoo_admin" in texts(at)
    assert [b.label for b in at.button] == ["เข้าสู่ระบบ"]


def test_setup_creates_organisation_and_first_admin(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'setup.db'}"
    at = run_app(monkeypatch, url)
    form_inputs = at.text_input
    form_inputs[0].input("เทศบาลตำบลตัวอย่าง")
    at.text_input[-2].input("first-admin-99")
    at.text_input[-1].input("first-admin-99")
    at.button[0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "ภาพรวม" in texts(at)


def test_login_through_the_form(monkeypatch, demo_url):
    at = run_app(monkeypatch, demo_url)
    at.text_input[0].input("naoo_mayor")
    at.text_input[1].input(DEMO_PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert at.session_state["auth_user_id"] == user_id(demo_url, "naoo_mayor")
    assert "เทศบาลตำบลนาอ้อ" in texts(at)


def test_wrong_password_is_refused(monkeypatch, demo_url):
    at = run_app(monkeypatch, demo_url)
    at.text_input[0].input("naoo_mayor")
    at.text_input[1].input("wrong-password")
    at.button[0].click().run()
    assert "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in texts(at)
    assert "auth_user_id" not in at.session_state


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_demo_data_for_admin(monkeypatch, demo_url, page):
    at = run_app(monkeypatch, demo_url, username="naoo_admin", page=page)
    body = texts(at)
    assert "เทศบาลตำบลนาอ้อ" in body or page == "app_pages/account.py" or "รายงานผล" in body
    assert "ข้อมูลตัวอย่าง" in "\n".join(w.value for w in at.sidebar.warning) or page == "app_pages/account.py"


def test_overview_numbers(monkeypatch, demo_url):
    at = run_app(monkeypatch, demo_url, username="naoo_admin")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["มาตรการที่เสร็จแล้ว"] == "6 / 7"
    assert metrics["IIT ตอบแล้ว / เป้าหมาย"].endswith("/ 91")


def test_overview_as_of_month_follows_history(monkeypatch, demo_url):
    at = run_app(monkeypatch, demo_url, username="naoo_admin")
    at.selectbox(key="as_of_month").set_value(dt.date(2022, 11, 30)).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["มาตรการที่เสร็จแล้ว"] == "0 / 7"
    assert metrics["IIT ตอบแล้ว / เป้าหมาย"].startswith("0 /")
    at.selectbox(key="as_of_month").set_value(dt.date(2023, 9, 30)).run()
    assert {m.label: m.value for m in at.metric}["มาตรการที่เสร็จแล้ว"] == "6 / 7"


@pytest.mark.parametrize("username", ["naoo_viewer", "naoo_mayor", "naoo_finance"])
@pytest.mark.parametrize("page", ["app_pages/upload.py", "app_pages/admin.py"])
def test_non_admins_cannot_reach_admin_pages(monkeypatch, demo_url, username, page):
    # Not in their navigation ...
    at = run_app(monkeypatch, demo_url, username=username)
    with pytest.raises(Exception):
        at.switch_page(page).run()
    # ... and refused when the page script is run directly with their session.
    direct = AppTest.from_file(str(REPO / page), default_timeout=TIMEOUT)
    direct.session_state["auth_user_id"] = user_id(demo_url, username)
    direct.run()
    assert not direct.exception
    assert "ไม่มีสิทธิ์" in texts(direct)
    assert not any("นำเข้า" in (b.label or "") for b in direct.button)


def test_anonymous_direct_page_run_is_stopped(monkeypatch, demo_url):
    monkeypatch.setenv("DATABASE_URL", demo_url)
    at = AppTest.from_file(str(REPO / "app_pages/measures.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert not at.dataframe


@pytest.mark.parametrize("page", ["app_pages/admin.py", "app_pages/upload.py", "app_pages/account.py"])
def test_anonymous_address_bar_page_goes_through_the_login_gate(monkeypatch, demo_url, page):
    """Every run goes through app.py (there is no ``pages/`` folder, so Streamlit never enters its
    pages-directory mode): an anonymous session asking for a page gets app.py's login screen."""
    at = run_app(monkeypatch, demo_url, username="naoo_admin")  # registers the pages for switch_page
    del at.session_state["auth_user_id"]  # and now an anonymous session asks for one of them
    at.switch_page(page)
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["เข้าสู่ระบบ"]
    assert not at.tabs and [x.value for x in at.title] == ["แดชบอร์ด ITA"]


@pytest.mark.parametrize("page", ["app_pages/overview.py", "app_pages/admin.py", "app_pages/account.py"])
def test_user_and_actor_are_loaded_once_per_run(monkeypatch, demo_url, page):
    """app.py loads the user and actor past its gate; the page of that run reads them from there
    instead of asking the database again (page_context / run_user)."""
    from ita_dashboard.ui import common

    calls = {"current_user": 0, "load_actor": 0}

    def counted(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(common, "current_user", counted("current_user", common.current_user))
    monkeypatch.setattr(common, "load_actor", counted("load_actor", common.load_actor))
    at = run_app(monkeypatch, demo_url, username="naoo_admin")
    at.switch_page(page)
    calls.update(current_user=0, load_actor=0)
    at.run()
    assert not at.exception
    assert "เทศบาลตำบลนาอ้อ" in texts(at) or page == "app_pages/account.py"
    assert calls == {"current_user": 1, "load_actor": 1}
    # a page file run without app.py (no run context) still loads them itself, once, and refuses
    direct = AppTest.from_file(str(REPO / "app_pages/admin.py"), default_timeout=TIMEOUT)
    direct.session_state["auth_user_id"] = user_id(demo_url, "naoo_viewer")
    calls.update(current_user=0, load_actor=0)
    direct.run()
    assert not direct.exception
    assert "ไม่มีสิทธิ์" in texts(direct)
    assert calls == {"current_user": 1, "load_actor": 1}


def test_department_head_sees_form_only_for_own_measures(monkeypatch, demo_url):
    at = run_app(monkeypatch, demo_url, username="naoo_finance", page="app_pages/measures.py")
    # measure 2 (นิติการ → สำนักปลัดเทศบาล) is not กองคลัง's
    pick = at.selectbox(key="measure_pick")
    ids = list(pick.options)
    seen = []
    for option in range(len(ids)):
        at.selectbox(key="measure_pick").set_value(at.selectbox(key="measure_pick").options[option] and
                                                   _measure_id(demo_url, option + 1)).run()
        seen.append(len(at.slider) == 1)
    # seed 000: 1 ทุกส่วนราชการ, 2 นิติการ, 3 หัวหน้าส่วนทุกกอง, 4 คณะทำงาน (unresolved), 5 เจ้าหน้าที่ทุกคน, 6 ทุกคน+ฝ่าย, 7 ฝ่าย
    assert seen == [True, False, True, False, True, True, False]


@pytest.fixture
def empty_org_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'bare.db'}"
    engine = db.make_engine(url)
    db.migrate(engine)
    org = make_org(engine, name="อบต.ว่างเปล่า", kind="อบต.", size="S")
    make_user(engine, username="bare_admin", role="admin", org_id=org)
    engine.dispose()
    return url


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_no_data(monkeypatch, empty_org_url, page):
    at = run_app(monkeypatch, empty_org_url, username="bare_admin", page=page)
    # a title holding the organisation's name escapes its markdown ("อบต\\.") and shows the same text
    assert "อบต.ว่างเปล่า" in texts(at).replace("\\", "") or page in ("app_pages/account.py", "app_pages/report.py")


def _measure_id(url: str, number: int) -> int:
    from ita_dashboard.models import Measure, Organization

    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        mid = s.exec(select(Measure.id).join(Organization, Organization.id == Measure.organization_id)
                     .where(Organization.name == "เทศบาลตำบลนาอ้อ", Measure.number == number)).one()
    engine.dispose()
    return mid
