"""Meeting mode in a real browser: pick the month, walk through every slide with "next" on a
projector-sized window (1280x720), a screenshot per slide, then the PDF pack download."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.layout import chart_overlaps, main_scroll, metric_font_sizes
from tests.e2e.app_utils import TIMEOUT, choose, login, no_exception, open_page, select_year, selectbox

PROJECTOR = {"width": 1280, "height": 720}
SLIDES = ["ภาพรวมความคืบหน้า", "มาตรการตามกอง/ส่วนราชการ", "การตอบแบบวัด IIT/EIT ตามกอง/ส่วนราชการ",
          "รายการ OIT ที่ยังไม่พร้อม",
          "มาตรการที่เลยกำหนดและครบกำหนดในเดือนถัดไป", "กิจกรรมประจำเดือนมีนาคม 2566"]


def fits_the_projector(page) -> None:
    """The slide on screen: no scrolling at 1280x720, key numbers of at least 40 px, no chart label
    drawn over another label, a bar or a line."""
    main = page.get_by_test_id("stMain")
    size = main_scroll(page)
    assert size["scroll"] <= size["viewport"] and size["body"] <= size["viewport"], size
    fonts = metric_font_sizes(main)
    assert fonts and min(fonts) >= 40, fonts
    assert chart_overlaps(main) == []


def test_meeting_walks_through_every_slide(page, app_server, wait_for_app, screenshot_dir):
    login(page, app_server, wait_for_app, "naoo_admin")
    open_page(page, wait_for_app, "โหมดประชุม")
    select_year(page, wait_for_app, 2566)
    main = page.get_by_test_id("stMain")
    choose(page, selectbox(main, "ข้อมูล ณ สิ้นเดือน"), "มีนาคม 2566")
    wait_for_app(page)
    page.screenshot(path=str(screenshot_dir / "meeting-0-start.png"))

    page.set_viewport_size(PROJECTOR)
    main.get_by_role("button", name="เริ่มนำเสนอ").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stSidebar")).to_be_hidden()  # no sidebar while presenting
    for n, title in enumerate(SLIDES, start=1):
        expect(main.get_by_text(f"หน้า {n}/{len(SLIDES)}", exact=True)).to_be_visible(timeout=TIMEOUT)
        expect(main.get_by_role("heading", name=title)).to_be_visible()
        expect(main.get_by_text("ข้อมูล ณ 31 มีนาคม 2566", exact=False)).to_be_visible()
        no_exception(page)
        if n in (1, 2, 3):
            expect(main.get_by_test_id("stPlotlyChart").first).to_be_visible()
            page.wait_for_timeout(500)  # plotly's first layout
        fits_the_projector(page)
        page.screenshot(path=str(screenshot_dir / f"meeting-{n}.png"))
        next_button = main.get_by_role("button", name="ถัดไป")
        if n < len(SLIDES):
            next_button.click()
            wait_for_app(page)
        else:
            expect(next_button).to_be_disabled()

    # the same month all the way: back to the first slide, same numbers
    for _ in SLIDES[1:]:
        main.get_by_role("button", name="ก่อนหน้า").click()
        wait_for_app(page)
    expect(main.get_by_text("หน้า 1/6", exact=True)).to_be_visible()
    expect(main.get_by_test_id("stMetric").filter(has_text="มาตรการที่เสร็จแล้ว")
           .get_by_test_id("stMetricValue")).to_have_text("1 / 7")

    main.get_by_test_id("stPopover").get_by_role("button").click()  # downloads are in the menu
    with page.expect_download(timeout=TIMEOUT) as download:
        page.get_by_role("button", name="ดาวน์โหลดชุดนำเสนอ (PDF)").click()
    assert download.value.suggested_filename == "meeting_2566_2566-03-31.pdf"
    with open(download.value.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"

    page.get_by_role("button", name="เปลี่ยนเดือน / เริ่มใหม่").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stSidebar")).to_be_visible()
    expect(selectbox(main, "ข้อมูล ณ สิ้นเดือน")).to_be_visible()
    no_exception(page)


def test_a_full_month_fits_the_projector_too(page, app_server, wait_for_app, screenshot_dir):
    """September 2566, the year's last month: every department has answers and a measure is due
    on the day itself ("ครบกำหนดวันนี้")."""
    login(page, app_server, wait_for_app, "naoo_mayor")
    open_page(page, wait_for_app, "โหมดประชุม")
    select_year(page, wait_for_app, 2566)
    main = page.get_by_test_id("stMain")
    choose(page, selectbox(main, "ข้อมูล ณ สิ้นเดือน"), "กันยายน 2566")
    wait_for_app(page)
    page.set_viewport_size(PROJECTOR)
    main.get_by_role("button", name="เริ่มนำเสนอ").click()
    wait_for_app(page)
    for n in range(1, len(SLIDES) + 1):
        expect(main.get_by_text(f"หน้า {n}/{len(SLIDES)}", exact=True)).to_be_visible(timeout=TIMEOUT)
        if n in (1, 2, 3):
            expect(main.get_by_test_id("stPlotlyChart").first).to_be_visible()
            page.wait_for_timeout(500)
        if n == 5:
            expect(main.get_by_text("ครบกำหนดวันนี้").first).to_be_visible()
        no_exception(page)
        fits_the_projector(page)
        page.screenshot(path=str(screenshot_dir / f"meeting-sep-{n}.png"))
        if n < len(SLIDES):
            main.get_by_role("button", name="ถัดไป").click()
            wait_for_app(page)
