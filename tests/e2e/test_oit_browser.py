"""OIT in a real browser: a department head marks an item published with a URL, the admin runs the
link check against the test's own HTTP server on 127.0.0.1, and the overview's OIT bar moves."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.app_utils import TIMEOUT, choose, login, no_exception, open_page, screenshot, select_year, selectbox
from tests.link_server import link_server

OIT_BAR = re.compile(r"^OIT \(ประมาณการ\)$")


def _oit_label(page: Page) -> str:
    """The text Plotly wrote beside the OIT bar of the overview's score chart ("94.44 · ผ่านเกณฑ์"):
    the bar label on the same line as the OIT tick (tick and bar orders differ in the SVG)."""
    chart = page.get_by_test_id("stPlotlyChart").first
    expect(chart).to_be_visible(timeout=TIMEOUT)
    page.wait_for_timeout(500)
    tick = chart.locator("g.ytick text").filter(has_text=OIT_BAR).first
    box = tick.bounding_box()
    y = box["y"] + box["height"] / 2
    labels = chart.locator("g.textpoint text, text.bartext")  # labels as a text column (or on the bars)
    best = min(range(labels.count()), key=lambda i: abs(_middle(labels.nth(i)) - y))
    return labels.nth(best).text_content()


def _middle(locator) -> float:
    box = locator.bounding_box()
    return box["y"] + box["height"] / 2


def _overview_oit(page: Page, wait_for_app) -> str:
    open_page(page, wait_for_app, "ภาพรวม")
    return _oit_label(page)


def _set_status(page: Page, wait_for_app, status: str, url: str = "") -> None:
    main = page.get_by_test_id("stMain")
    form = main.get_by_test_id("stForm").filter(has=page.get_by_text("ลิงก์ที่เผยแพร่ (เว้นว่างเพื่อใช้ลิงก์เดิม)"))
    choose(page, selectbox(form, "สถานะ"), status)
    if url:
        form.get_by_label("ลิงก์ที่เผยแพร่ (เว้นว่างเพื่อใช้ลิงก์เดิม)").fill(url)
    form.get_by_role("button", name="บันทึก").click()
    wait_for_app(page)
    expect(main.get_by_text(re.compile(rf"บันทึกสถานะ O\d+: {status} แล้ว")).first).to_be_visible(timeout=TIMEOUT)
    no_exception(page)


def _score(label: str) -> float:
    return float(re.match(r"[\d.]+", label).group())


def _context(browser):
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="th-TH", timezone_id="Asia/Bangkok")
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT)
    return ctx, page


def test_head_publishes_admin_checks_links_overview_moves(browser, app_server, wait_for_app, screenshot_dir):
    head, page = _context(browser)
    login(page, app_server, wait_for_app, "naoo_finance")
    select_year(page, wait_for_app, 2566)
    with link_server() as base:
        # one of the head's own items: back to "in progress", then published at the test server's page;
        # the overview's OIT bar (as of September 2566, the year's end) follows both
        open_page(page, wait_for_app, "OIT รายข้อ")
        _set_status(page, wait_for_app, "กำลังจัดทำ")
        pulled_back = _overview_oit(page, wait_for_app)
        open_page(page, wait_for_app, "OIT รายข้อ")
        _set_status(page, wait_for_app, "เผยแพร่แล้ว", f"{base}/ok")
        screenshot(page, screenshot_dir / "oit_head_saved.png")
        published = _overview_oit(page, wait_for_app)
        assert _score(published) > _score(pulled_back), (pulled_back, published)
        head.close()

        admin, apage = _context(browser)
        login(apage, app_server, wait_for_app, "naoo_admin")
        select_year(apage, wait_for_app, 2566)
        open_page(apage, wait_for_app, "OIT รายข้อ")
        main = apage.get_by_test_id("stMain")
        main.get_by_role("tab", name="ตรวจลิงก์").click()
        main.get_by_role("textbox", name="เว็บไซต์ของหน่วยงาน").fill(base)  # the test server is the agency's site here
        main.get_by_test_id("stForm").filter(has=apage.get_by_role("textbox", name="เว็บไซต์ของหน่วยงาน")) \
            .get_by_role("button", name="บันทึก").click()
        wait_for_app(apage)
        main.get_by_role("tab", name="ตรวจลิงก์").click()
        main.get_by_role("button", name="ตรวจลิงก์ทั้งหมด").click()
        wait_for_app(apage)
        expect(main.get_by_text(re.compile(r"ตรวจลิงก์ \d+ รายการ พบปัญหา \d+ รายการ")).first).to_be_visible(timeout=60_000)
        no_exception(apage)
        # the item at the test server answered 200; the demo's .example links cannot be reached
        expect(main.get_by_text("บันทึกเว็บไซต์ของหน่วยงานแล้ว")).to_have_count(0)  # the flash is gone
        table = main.get_by_test_id("stDataFrame").first
        expect(table).to_be_visible()
        screenshot(apage, screenshot_dir / "oit_admin_checked.png")
        admin.close()
