"""OIT items: the agency's list, status log, permissions, estimate, and the link check against a
real local HTTP server (tests/link_server.py); the internet is never touched."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from ita_dashboard import db, linkcheck
from ita_dashboard.models import AuditEvent, OitItem, OitLinkCheck, OitStatus
from ita_dashboard.permissions import Actor, PermissionDenied
from ita_dashboard.services import oit
from link_server import link_server
from helpers import actor_for, dep_id, make_org, make_user


@pytest.fixture(autouse=True)
def _local_links(monkeypatch):
    monkeypatch.setenv("ITA_LINKCHECK_ALLOW_PRIVATE", "1")


@pytest.fixture
def org(engine):
    return make_org(engine)


def _start(engine, org_id, year=2569):
    with db.session_scope(engine) as s:
        return oit.start_from_framework(s, organization_id=org_id, fiscal_year=year, actor=Actor.system())


def _states(engine, org_id, year=2569, as_of=None):
    with db.session_scope(engine) as s:
        return oit.item_states(s, organization_id=org_id, fiscal_year=year, as_of=as_of)


def _by_number(engine, org_id, number, year=2569):
    return next(s for s in _states(engine, org_id, year) if s.number == number)


# --- linkcheck, no database ---------------------------------------------------------------------

def test_link_check_against_a_real_local_server():
    with link_server() as base:
        ok = linkcheck.check_url(f"{base}/ok", site="127.0.0.1")
        assert ok.ok and ok.status_code == 200 and "text/html" in ok.content_type and ok.final_url == f"{base}/ok"
        assert linkcheck.check_url(f"{base}/missing").problem == "broken"
        assert linkcheck.check_url(f"{base}/missing").status_code == 404
        assert linkcheck.check_url(f"{base}/error").problem == "broken"
        moved = linkcheck.check_url(f"{base}/moved", site="127.0.0.1")
        assert moved.ok and moved.final_url == f"{base}/ok"
        assert linkcheck.check_url(f"{base}/loop").problem == "broken"
        assert linkcheck.check_url(f"{base}/empty").problem == "empty"
        assert linkcheck.check_url(f"{base}/slow", timeout=0.5).problem == "timeout"
        assert linkcheck.check_url(f"{base}/pdf", site="127.0.0.1").ok
        other = linkcheck.check_url(f"{base}/to-elsewhere", site="127.0.0.1")
        assert other.problem == "other_domain" and other.final_url.startswith("http://localhost:")
        capped = linkcheck.check_url(f"{base}/ok", max_bytes=50, site="127.0.0.1")
        assert capped.size_bytes == 50


def test_the_timeout_bounds_the_whole_visit_and_tiny_files_are_empty():
    with link_server() as base:
        trickle = linkcheck.check_url(f"{base}/trickle", timeout=1.0)
        assert trickle.problem == "timeout"  # each read comes within 0.25 s, the whole page would take 10
        assert linkcheck.check_url(f"{base}/tiny.pdf").problem == "empty"


@pytest.mark.parametrize("address, public", [
    ("127.0.0.1", False), ("10.1.2.3", False), ("192.168.0.9", False), ("169.254.169.254", False),
    ("100.100.100.200", False), ("::1", False), ("::ffff:127.0.0.1", False), ("fd00::1", False),
    ("2002:7f00:1::", False), ("203.150.1.10", True), ("2001:4860:4860::8888", True),
])
def test_only_globally_routable_addresses_are_visited(address, public):
    assert linkcheck._public(address) is public


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "ftp://x.go.th/a", "naoo.go.th", ""])
def test_link_check_visits_only_http(url):
    assert linkcheck.check_url(url).problem == "not_http"


def test_link_check_refuses_private_addresses_unless_allowed(monkeypatch):
    monkeypatch.delenv("ITA_LINKCHECK_ALLOW_PRIVATE")
    with link_server() as base:
        assert linkcheck.check_url(f"{base}/ok").problem == "blocked"
        assert linkcheck.check_url(f"{base}/moved".replace("127.0.0.1", "localhost")).problem == "blocked"


def test_same_site():
    assert linkcheck.same_site("www.naoo.go.th", "naoo.go.th")
    assert linkcheck.same_site("naoo.go.th", "www.naoo.go.th")
    assert not linkcheck.same_site("evilnaoo.go.th", "naoo.go.th")
    assert not linkcheck.same_site("other.go.th", "naoo.go.th")


# --- the list -----------------------------------------------------------------------------------

def test_start_from_framework_copies_the_years_items_once(engine, org):
    assert _start(engine, org) == 17
    states = _states(engine, org)
    assert [s.number for s in states][:3] == ["O10", "O11", "O12"] and states[-1].number == "O26"
    o26 = states[-1]
    assert o26.covers == "previous" and o26.indicator == 10 and o26.confidence == "L" and o26.origin == "framework"
    assert all(s.status == OitStatus.not_started and not s.ready for s in states)
    with pytest.raises(oit.OitError, match="มีรายการ OIT อยู่แล้ว"):
        _start(engine, org)


def test_admin_adds_renames_renumbers_and_removes(engine, org):
    _start(engine, org)
    with db.session_scope(engine) as s:
        item = oit.add_item(s, organization_id=org, fiscal_year=2569, number="o 1", name="โครงสร้างและอำนาจหน้าที่",
                            indicator=9, actor=Actor.system())
        assert item.number == "O1"
        with pytest.raises(oit.OitError, match="มีรายการ O10"):
            oit.add_item(s, organization_id=org, fiscal_year=2569, number="O10", name="ซ้ำ", actor=Actor.system())
        with pytest.raises(oit.OitError, match="รูปแบบ"):
            oit.add_item(s, organization_id=org, fiscal_year=2569, number="X9", name="ผิด", actor=Actor.system())
        oit.update_item(s, item_id=item.id, number="๒", name="ผังโครงสร้าง", actor=Actor.system())
        with pytest.raises(oit.OitError, match="มีรายการ O10"):
            oit.update_item(s, item_id=item.id, number="O10", actor=Actor.system())
        o11 = s.exec(select(OitItem).where(OitItem.number == "O11", OitItem.organization_id == org)).one()
        oit.remove_item(s, item_id=o11.id, actor=Actor.system())
    numbers = [x.number for x in _states(engine, org)]
    assert numbers[0] == "O2" and "O11" not in numbers and len(numbers) == 17
    with db.session_scope(engine) as s:  # removed, not deleted: kept with its history
        assert s.exec(select(OitItem).where(OitItem.number == "O11")).one().removed_at is not None
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]
    assert actions.count("oit.item_add") == 18 and "oit.item_edit" in actions and "oit.item_remove" in actions


def test_status_is_a_log_and_only_the_department_head_of_the_item_updates_it(engine, org):
    _start(engine, org)
    head = make_user(engine, username="head", role="department_head", org_id=org, department="กองคลัง")
    other = make_user(engine, username="other", role="department_head", org_id=org, department="กองช่าง")
    viewer = make_user(engine, username="viewer", role="viewer", org_id=org)
    o12 = _by_number(engine, org, "O12")
    with db.session_scope(engine) as s:
        oit.update_item(s, item_id=o12.id, department_id=dep_id(engine, org, "กองคลัง"), due_date=dt.date(2026, 3, 31),
                        actor=Actor.system())
    with db.session_scope(engine) as s:
        for who in (other, viewer):
            with pytest.raises(PermissionDenied):
                oit.record_status(s, item_id=o12.id, status="in_progress", actor=actor_for(engine, who))
        with pytest.raises(oit.OitError, match="ต้องระบุลิงก์"):
            oit.record_status(s, item_id=o12.id, status="published", actor=actor_for(engine, head))
        with pytest.raises(oit.OitError, match="http"):
            oit.record_status(s, item_id=o12.id, status="published", url="javascript:alert(1)", actor=actor_for(engine, head))
        oit.record_status(s, item_id=o12.id, status="in_progress", as_of=dt.date(2026, 1, 10), actor=actor_for(engine, head))
        oit.record_status(s, item_id=o12.id, status="published", url="https://naoo.go.th/o12", as_of=dt.date(2026, 2, 1),
                          actor=actor_for(engine, head))
    on_jan = _by_number(engine, org, "O12")
    assert on_jan.status == OitStatus.published and on_jan.ready and on_jan.url == "https://naoo.go.th/o12"
    assert on_jan.department_name == "กองคลัง"
    before = next(x for x in _states(engine, org, as_of=dt.date(2026, 1, 31)) if x.number == "O12")
    assert before.status == OitStatus.in_progress and not before.ready
    late = next(x for x in _states(engine, org, as_of=dt.date(2026, 4, 1)) if x.number == "O12")
    assert not late.overdue  # published before its due date
    with db.session_scope(engine) as s:
        assert len(oit.history(s, item_id=o12.id)) == 2
        assert len(s.exec(select(AuditEvent).where(AuditEvent.action == "oit.status")).all()) == 2


def test_an_admin_of_another_organisation_cannot_touch_the_list(engine, org):
    other_org = make_org(engine, name="อบต.อื่น", kind="อบต.")
    admin_b = make_user(engine, username="admin_b", role="admin", org_id=other_org)
    _start(engine, org)
    o10 = _by_number(engine, org, "O10")
    with db.session_scope(engine) as s:
        for call in (
            lambda: oit.add_item(s, organization_id=org, fiscal_year=2569, number="O1", name="x", actor=actor_for(engine, admin_b)),
            lambda: oit.update_item(s, item_id=o10.id, name="y", actor=actor_for(engine, admin_b)),
            lambda: oit.remove_item(s, item_id=o10.id, actor=actor_for(engine, admin_b)),
            lambda: oit.record_status(s, item_id=o10.id, status="in_progress", actor=actor_for(engine, admin_b)),
            lambda: oit.start_from_framework(s, organization_id=org, fiscal_year=2568, actor=actor_for(engine, admin_b)),
        ):
            with pytest.raises(PermissionDenied):
                call()


def test_estimate_is_the_share_of_ready_items_per_indicator(engine, org):
    _start(engine, org)
    states = _states(engine, org)
    assert oit.estimate(states).score == 0.0
    nine = [x for x in states if x.indicator == 9]
    ten = [x for x in states if x.indicator == 10]
    with db.session_scope(engine) as s:
        for x in nine[:5] + ten[:7]:
            oit.record_status(s, item_id=x.id, status="published", url=f"https://naoo.go.th/{x.number}", actor=Actor.system())
    est = oit.estimate(_states(engine, org))
    assert est.items == 17 and est.ready == 12
    assert est.by_indicator[9] == {"items": 10, "ready": 5, "score": 50.0}
    assert est.by_indicator[10] == {"items": 7, "ready": 7, "score": 100.0}
    assert est.score == 75.0
    assert oit.estimate([]).score is None


def test_link_check_records_each_result_and_a_broken_link_is_not_ready(engine, org):
    _start(engine, org)
    states = _states(engine, org)
    with link_server() as base:
        paths = {"O10": "/ok", "O11": "/missing", "O12": "/error", "O13": "/moved", "O14": "/slow", "O15": "/empty",
                 "O16": "/to-elsewhere"}
        with db.session_scope(engine) as s:
            for x in states:
                if x.number in paths:
                    oit.record_status(s, item_id=x.id, status="published", url=base + paths[x.number], actor=Actor.system())
        seen = []
        results = oit.check_links(open_session=lambda **kw: db.session_scope(engine, **kw), organization_id=org,
                                  fiscal_year=2569, actor=Actor.system(), timeout=1.0,
                                  progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (7, 7)
    problems = {st.number: r.problem for st, r in results}
    assert problems == {"O10": None, "O11": "broken", "O12": "broken", "O13": None, "O14": "timeout", "O15": "empty",
                        "O16": "other_domain"}
    after = {x.number: x for x in _states(engine, org)}
    assert after["O10"].ready and after["O13"].ready and after["O13"].last_check.final_url.endswith("/ok")
    assert not after["O11"].ready and after["O11"].last_check.status_code == 404
    assert not after["O15"].ready
    with db.session_scope(engine) as s:
        assert len(s.exec(select(OitLinkCheck)).all()) == 7
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "oit.check_links")).one()
        assert event.after["checked"] == 7 and event.after["problems"]["O11"] == "broken"
    # a new URL after a broken check counts as ready again until it is checked
    with db.session_scope(engine) as s:
        oit.record_status(s, item_id=after["O11"].id, status="published", url="https://naoo.go.th/o11", actor=Actor.system())
    assert _by_number(engine, org, "O11").ready


def test_measures_report_item_is_marked_published_with_its_url(engine, org):
    _start(engine, org)  # 2569's list: O26 is the report of 2568
    with db.session_scope(engine) as s:
        u = oit.mark_measures_report_published(s, organization_id=org, report_year=2568,
                                               url="https://naoo.go.th/ita/o26.pdf", actor=Actor.system())
        assert u is not None
    o26 = _by_number(engine, org, "O26")
    assert o26.status == OitStatus.published and o26.url == "https://naoo.go.th/ita/o26.pdf"
    _start(engine, org, year=2566)  # 2566's O43 covers its own year
    with db.session_scope(engine) as s:
        item = oit.measures_report_item(s, organization_id=org, report_year=2566)
        assert item.number == "O43" and item.fiscal_year == 2566
        # no list holds the report of 2567 (2568's list was never started): nothing recorded
        assert oit.mark_measures_report_published(s, organization_id=org, report_year=2567, url="https://x.go.th",
                                                  actor=Actor.system()) is None


def test_the_agency_website_is_checked_and_audited(engine, org):
    from ita_dashboard.models import Organization
    from ita_dashboard.services.org_settings import OrgSettingsError, set_website

    with db.session_scope(engine) as s:
        set_website(s, organization_id=org, website="www.naoo.go.th", actor=Actor.system())
        assert s.get(Organization, org).website == "https://www.naoo.go.th"
        for bad in ("javascript:alert(1)", "ftp://naoo.go.th", "https://"):
            with pytest.raises(OrgSettingsError):
                set_website(s, organization_id=org, website=bad, actor=Actor.system())
        set_website(s, organization_id=org, website="https://www.naoo.go.th", actor=Actor.system())  # unchanged
        set_website(s, organization_id=org, website="", actor=Actor.system())
        assert s.get(Organization, org).website is None
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "organization.website")).all()
    assert len(events) == 2 and events[0].after["website"] == "https://www.naoo.go.th"
