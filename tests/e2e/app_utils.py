"""Helpers shared by the browser tests: log in, wait for the app, pick in a selectbox, read
metrics, charts and grids, take whole-page screenshots. Test modules import from here, never from
each other (tests/test_layout_rules.py).

Streamlit 1.67 widgets are react-aria components: a selectbox is an ``input[role=combobox]``
whose popover (``stSelectboxVirtualDropdown``) holds ``role=option`` items and closes whenever an
ancestor scrolls, hence :func:`choose` scrolls first and retries.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

PASSWORD = "demo-ita-2568"  # every demo account's
ORG = "เทศบาลตำบลนาอ้อ"
TIMEOUT = 30_000
MAX_SHOT_HEIGHT = 12_000


def no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def screenshot(page: Page, path: Path) -> None:
    """A screenshot of the whole page.

    Streamlit scrolls inside ``stMain``, not the document, so ``full_page=True`` alone would stop
    at the viewport: make the viewport as tall as the content for the shot, then put it back.
    """
    size = page.viewport_size or {"width": 1366, "height": 900}
    height = page.evaluate(
        """() => Math.max(...['stMain', 'stSidebarContent']
                 .map(id => document.querySelector(`[data-testid="${id}"]`))
                 .filter(Boolean).map(e => e.scrollHeight), document.body.scrollHeight)""")
    tall = min(max(int(height), size["height"]), MAX_SHOT_HEIGHT)
    if tall > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": tall})
        page.wait_for_timeout(600)  # plotly relayouts on resize
    try:
        page.screenshot(path=str(path), full_page=True)
    finally:
        if tall > size["height"]:
            page.set_viewport_size(size)
            page.wait_for_timeout(300)


def login(page: Page, app_server: str, wait_for_app, username: str) -> None:
    page.goto(app_server)
    wait_for_app(page)
    no_exception(page)
    submit_login(page, wait_for_app, username)
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible(timeout=TIMEOUT)


def submit_login(page: Page, wait_for_app, username: str) -> None:
    """Fill in the login screen that is showing and log in."""
    page.get_by_label("ชื่อผู้ใช้").fill(username)
    page.get_by_label("รหัสผ่าน").fill(PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    wait_for_app(page)
    expect(page.get_by_role("button", name="ออกจากระบบ")).to_be_visible(timeout=TIMEOUT)
    no_exception(page)


def select_year(page: Page, wait_for_app, year: int) -> None:
    """Pick fiscal year ``year`` in the sidebar (the default is the latest year with data, which
    becomes 2568 once the import test has run)."""
    combo = selectbox(page.get_by_test_id("stSidebar"), "ปีงบประมาณ").get_by_role("combobox")
    if combo.input_value() != f"พ.ศ. {year}":
        choose(page, selectbox(page.get_by_test_id("stSidebar"), "ปีงบประมาณ"), f"พ.ศ. {year}")
        wait_for_app(page)
    expect(combo).to_have_value(f"พ.ศ. {year}")
    no_exception(page)


def nav_link(page: Page, title: str) -> Locator:
    return page.get_by_test_id("stSidebarNavLink").filter(has=page.get_by_text(title, exact=True))


def nav_titles(page: Page) -> list[str]:
    return [t.strip() for t in page.get_by_test_id("stSidebarNavLink").locator("p").all_inner_texts()]


def open_page(page: Page, wait_for_app, title: str) -> None:
    nav_link(page, title).click()
    wait_for_app(page)
    expect(nav_link(page, title)).to_have_attribute("aria-current", "page", timeout=TIMEOUT)
    no_exception(page)


def _root(scope: Locator | Page) -> Page:
    """The page: ``filter(has=...)`` needs a locator relative to the filtered element, not to ``scope``."""
    return scope.page if isinstance(scope, Locator) else scope


def selectbox(scope: Locator | Page, label: str) -> Locator:
    return scope.get_by_test_id("stSelectbox").filter(
        has=_root(scope).get_by_test_id("stWidgetLabel").get_by_text(label, exact=True))


def choose(page: Page, box: Locator, option: str | re.Pattern) -> None:
    """Pick ``option`` (text or regex) in a Streamlit selectbox; the caller waits for the rerun."""
    combo = box.get_by_role("combobox")
    dropdown = page.get_by_test_id("stSelectboxVirtualDropdown")
    item = dropdown.get_by_role("option").filter(has_text=option).first
    combo.scroll_into_view_if_needed()
    for _ in range(5):
        page.wait_for_timeout(300)  # let the scroll settle: a scroll closes the popover
        if combo.get_attribute("aria-expanded") != "true":
            combo.click()
        try:
            item.wait_for(state="visible", timeout=3_000)
            break
        except Exception:  # noqa: BLE001 -- popover closed by a late scroll/relayout: try again
            page.keyboard.press("Escape")
    item.click()


def confirm_and_expect_counts(page: Page, wait_for_app, tab: Locator, *, read: int, imported: int, duplicate: int,
                              rejected: int) -> None:
    """Press "confirm import" and check the four counts the upload page reports."""
    tab.get_by_role("button", name="ยืนยันนำเข้า").click()
    wait_for_app(page)
    no_exception(page)
    expect(metric(tab, "อ่าน")).to_have_text(str(read), timeout=TIMEOUT)
    for label, n in (("นำเข้า", imported), ("ซ้ำ", duplicate), ("ปฏิเสธ", rejected)):
        expect(metric(tab, label)).to_have_text(str(n))


def metric(scope: Locator | Page, label: str) -> Locator:
    """The value element of the st.metric whose label is exactly ``label``."""
    return scope.get_by_test_id("stMetric").filter(
        has=_root(scope).get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    ).get_by_test_id("stMetricValue")


def plotly_traces(scope: Locator) -> list[int]:
    """Number of data traces of every plotly chart drawn inside ``scope``."""
    return scope.locator(".js-plotly-plot").evaluate_all("els => els.map(e => (e.data || []).length)")


def expect_charts(page: Page, scope: Locator | None = None) -> int:
    scope = scope or page.get_by_test_id("stMain")
    charts = scope.get_by_test_id("stPlotlyChart")
    expect(charts.first).to_be_attached(timeout=TIMEOUT)
    expect(scope.locator(".js-plotly-plot .main-svg").first).to_be_attached(timeout=TIMEOUT)
    counts = plotly_traces(scope)
    assert counts, "no .js-plotly-plot inside the stPlotlyChart elements"
    assert all(n > 0 for n in counts), f"a chart has no data traces: {counts}"
    return charts.count()


def grid_rows(frame: Locator) -> int:
    """Data rows of an st.dataframe (glide grid's accessible table has aria-rowcount = rows + header)."""
    table = frame.locator("[role=grid]").first
    expect(table).to_be_attached(timeout=TIMEOUT)
    return int(table.get_attribute("aria-rowcount")) - 1


def grid_first_row(frame: Locator) -> str:
    return frame.locator("[role=row]").nth(1).inner_text()


def progress_form(page: Page) -> Locator:
    """The บันทึกความคืบหน้า form (the only form of the measures page with a percent slider)."""
    return page.get_by_test_id("stMain").get_by_test_id("stForm").filter(has=page.get_by_test_id("stSlider"))


def history_frame(page: Page) -> Locator:
    """The dataframe right under the ประวัติความคืบหน้า heading."""
    heading = page.get_by_test_id("stMain").get_by_test_id("stElementContainer").filter(
        has=page.get_by_role("heading", name="ประวัติความคืบหน้า", exact=True))
    expect(heading).to_have_count(1)
    return heading.locator("xpath=following-sibling::*[1]").get_by_test_id("stDataFrame")


def chart_trace(page: Page, key: str, name: str) -> dict:
    """x/y/text of the trace called ``name`` in the plotly chart ``st.plotly_chart(..., key=key)``."""
    data = page.locator(f".st-key-{key} .js-plotly-plot").evaluate(
        "(el, name) => (el.data || []).filter(t => t.name === name)"
        ".map(t => ({x: Array.from(t.x || []), y: Array.from(t.y || []), text: t.text}))", name)
    assert len(data) == 1, f"trace {name!r} in chart {key!r}: {data}"
    return data[0]
