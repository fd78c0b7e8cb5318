"""Every page as every demo account sees it at 1366x768 (a screenshot each, and of every tab of the
admin and import pages), and what issue 12 asks of the screens in a real browser: Buddhist-era
years only, no English from Streamlit's uploader, the measures table without sideways scrolling,
timeline bars as long as the measures, chart labels clear of each other, of bars and of lines.

Screenshots: test-artifacts/screenshots/role_<account>_<nn>_<page>.png (look at them).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.layout import chart_overlaps, sideways_scroll
from tests.e2e.app_utils import (TIMEOUT, expect_charts, login, nav_titles, no_exception, open_page, screenshot,
                                 select_year)

LAPTOP = {"width": 1366, "height": 768}
ACCOUNTS = {  # account -> the fiscal year of its agency's demo plan
    "naoo_admin": 2566, "naoo_mayor": 2566, "naoo_finance": 2566, "naoo_viewer": 2566,
    "mluang_admin": 2568, "mluang_mayor": 2568, "mluang_finance": 2568, "mluang_viewer": 2568,
}
SLUGS = {"ภาพรวม": "overview", "ภาพรวมหลายหน่วยงาน": "rollup", "มาตรการ": "measures", "แบบวัด IIT/EIT": "surveys",
         "รายงาน": "report", "โหมดประชุม": "meeting", "นำเข้าข้อมูล": "upload", "ผู้ดูแลระบบ": "admin",
         "บัญชีของฉัน": "account"}
TABBED = ("ผู้ดูแลระบบ", "นำเข้าข้อมูล")
# A Christian-era year (19xx/20xx) written as a year: what a BE screen must not show.
CE_YEAR = re.compile(r"(?<![\d/.:-])(19[5-9]\d|20[0-4]\d)(?![\d/.:-])")
STREAMLIT_ENGLISH = ("Browse files", "Drag and drop", "per file", "Upload")


def _screen_text(page: Page) -> str:
    """What a person reads: the main area and the sidebar (hidden elements are not in innerText)."""
    return page.evaluate("""() => ['stMain', 'stSidebar'].map(id => document.querySelector(`[data-testid="${id}"]`))
        .filter(Boolean).map(e => e.innerText).join('\\n')""")


def _check_screen(page: Page, where: str) -> None:
    no_exception(page)
    text = _screen_text(page)
    assert not CE_YEAR.findall(text), (where, CE_YEAR.findall(text))
    for word in STREAMLIT_ENGLISH:
        assert word not in text, (where, word)
    expect(page.get_by_test_id("stDateInput")).to_have_count(0)  # dates are picked in BE


@pytest.mark.parametrize("account", list(ACCOUNTS))
def test_every_page_for_every_role(page: Page, app_server, wait_for_app, screenshot_dir, account):
    page.set_viewport_size(LAPTOP)
    login(page, app_server, wait_for_app, account)
    select_year(page, wait_for_app, ACCOUNTS[account])
    for n, title in enumerate(nav_titles(page)):
        open_page(page, wait_for_app, title)
        if page.get_by_test_id("stPlotlyChart").count():
            expect_charts(page)
            page.wait_for_timeout(400)  # plotly's first layout
        _check_screen(page, f"{account} {title}")
        screenshot(page, screenshot_dir / f"role_{account}_{n:02d}_{SLUGS.get(title, 'page')}.png")
        if title in TABBED:
            main = page.get_by_test_id("stMain")
            tabs = main.get_by_role("tab")
            for k in range(1, tabs.count()):
                tabs.nth(k).click()
                wait_for_app(page)
                page.wait_for_timeout(300)
                _check_screen(page, f"{account} {title} tab {k}")
                screenshot(page, screenshot_dir / f"role_{account}_{n:02d}_{SLUGS[title]}_tab{k}.png")


def test_measures_page_at_1366(page: Page, app_server, wait_for_app, screenshot_dir):
    """The table shows state without sideways scrolling; the timeline draws every measure from its
    start to its end; no chart label is drawn over another label, a bar or a line."""
    page.set_viewport_size(LAPTOP)
    login(page, app_server, wait_for_app, "naoo_admin")
    select_year(page, wait_for_app, 2566)
    open_page(page, wait_for_app, "มาตรการ")
    main = page.get_by_test_id("stMain")
    table = page.locator(".st-key-measures_table")
    expect(table.get_by_test_id("stDataFrame")).to_be_visible(timeout=TIMEOUT)
    page.wait_for_timeout(500)
    # every column in view: the grid (drawn on a canvas) has nothing to scroll sideways
    assert sideways_scroll(table) <= 1
    header = table.locator("[role=columnheader]").all_text_contents()
    for column in ("สถานะ", "ร้อยละ", "สิ้นสุด", "อัปเดตล่าสุด"):
        assert any(column in h for h in header), (column, header)

    # a click on a row opens that measure below
    main.get_by_role("tab", name="ช่วงเวลาดำเนินการของมาตรการ").click()
    page.wait_for_timeout(800)
    chart = page.locator(".st-key-chart_timeline .js-plotly-plot")
    geometry = chart.evaluate("""el => {
        const xa = el._fullLayout.xaxis;
        return el.data.filter(t => t.type === 'bar').flatMap(t => Array.from(t.y).map((y, i) => ({
            y, start: xa.d2p(xa.d2c(t.base[i])), end: xa.d2p(xa.d2c(t.base[i]) + t.x[i]), base: t.base[i], ms: t.x[i]})));
    }""")
    assert len(geometry) == 7
    for bar in geometry:
        assert bar["end"] - bar["start"] > 20, bar  # pixels: a bar as long as its period, not a sliver
    widths = chart.locator(".bars .point path").evaluate_all("els => els.map(e => e.getBoundingClientRect().width)")
    assert len(widths) == 7 and min(widths) > 20, widths
    expect(chart.locator(".annotation-text").filter(has_text=re.compile(r"^ณ 30 ก\.ย\. 2566$"))).to_have_count(1)
    assert chart_overlaps(main) == []
    screenshot(page, screenshot_dir / "measures_timeline_1366.png")


def test_overview_and_surveys_charts_keep_labels_apart(page: Page, app_server, wait_for_app):
    page.set_viewport_size(LAPTOP)
    login(page, app_server, wait_for_app, "naoo_admin")
    select_year(page, wait_for_app, 2566)
    for title in ("ภาพรวม", "แบบวัด IIT/EIT"):
        open_page(page, wait_for_app, title)
        expect_charts(page)
        page.wait_for_timeout(600)
        assert chart_overlaps(page.get_by_test_id("stMain")) == [], title
