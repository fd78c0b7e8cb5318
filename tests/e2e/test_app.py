"""The app itself in a real browser: login, every page, progress updates by a department head,
and a survey import through the real upload widget.

Each test gets its own browser context (the ``page`` fixture), so the sessions of different users
never mix. They share one app server (demo data, FY 2566 for เทศบาลตำบลนาอ้อ) and are written so
that the order they run in does not matter: counts are compared before/after, not hard-coded
(except for the import of the fixture file, the only thing that writes FY 2568 survey data), and
each test picks its fiscal year in the sidebar, since the default year moves to 2568 after that import.

The helpers (login, waiting, selectboxes, screenshots) are in app_utils.py.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.e2e.app_utils import (ORG, TIMEOUT, chart_trace, choose, confirm_and_expect_counts, expect_charts,
                                 grid_first_row, grid_rows, history_frame, login, metric, nav_link, nav_titles,
                                 no_exception, open_page, progress_form, screenshot, select_year, selectbox)

DATA = Path(__file__).resolve().parent / "data"
IIT_SAMPLE = DATA / "iit_google_forms_2568.csv"  # copy of shared/samples/iit_google_forms_2568.csv: 64 rows
CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"

ADMIN_PAGES = ["ภาพรวม", "มาตรการ", "แบบวัด IIT/EIT", "OIT รายข้อ", "รายงาน", "โหมดประชุม", "นำเข้าข้อมูล", "ผู้ดูแลระบบ", "บัญชีของฉัน"]


def _timeline_text(page: Page, number: str) -> str:
    """The text on measure ``number``'s bar in the measures timeline chart (one trace per state)."""
    texts = page.locator(".st-key-chart_timeline .js-plotly-plot").evaluate(
        "(el, prefix) => (el.data || []).flatMap(t => Array.from(t.y || [])"
        ".map((y, i) => String(y || '').startsWith(prefix) ? (Array.isArray(t.text) ? t.text[i] : t.text) : null))"
        ".filter(x => x !== null)", f"{number}. ")
    assert len(texts) == 1, texts
    return texts[0]


# --- 1. every page as admin ------------------------------------------------------------------

PAGE_CHECKS = [
    # (nav title, screenshot, heading, another page-specific text, has charts)
    ("ภาพรวม", "01_overview.png", f"ภาพรวม · {ORG}", "กอง/ส่วนราชการ เรียงจากที่ตามหลังมากที่สุด", True),
    ("มาตรการ", "02_measures.png", f"มาตรการ · {ORG}", "บันทึกความคืบหน้า", True),
    ("แบบวัด IIT/EIT", "03_surveys.png", f"แบบวัด IIT/EIT · {ORG}", "ช่วงเก็บแบบวัด", True),
    ("OIT รายข้อ", "03b_oit.png", f"OIT รายข้อ · {ORG}", "รายการที่พร้อม", False),
    ("รายงาน", "04_report.png", f"รายงาน · {ORG}",
     "ดาวน์โหลด Excel", False),
    ("นำเข้าข้อมูล", "05_upload.png", f"นำเข้าข้อมูล · {ORG}", "นำเข้าผลแบบวัด IIT/EIT", False),
    ("ผู้ดูแลระบบ", "06_admin.png", f"ผู้ดูแลระบบ · {ORG}", "บันทึกการเปลี่ยนแปลง", False),
    ("บัญชีของฉัน", "07_account.png", "บัญชีของฉัน", "naoo_admin (ตัวอย่าง)", False),
]


def test_admin_opens_every_page(page, app_server, wait_for_app, screenshot_dir):
    page.goto(app_server)
    wait_for_app(page)
    expect(page.get_by_role("heading", name="แดชบอร์ด ITA")).to_be_visible()
    screenshot(page, screenshot_dir / "00_login.png")
    login(page, app_server, wait_for_app, "naoo_admin")

    assert nav_titles(page) == ADMIN_PAGES
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("naoo_admin (ตัวอย่าง) · ผู้ดูแลระบบ")).to_be_visible()
    select_year(page, wait_for_app, 2566)  # the demo plan's year

    for title, shot, heading, text, has_charts in PAGE_CHECKS:
        open_page(page, wait_for_app, title)
        main = page.get_by_test_id("stMain")
        expect(main.get_by_role("heading", name=heading).first).to_be_visible(timeout=TIMEOUT)
        expect(main.get_by_text(text, exact=False).first).to_be_visible(timeout=TIMEOUT)
        if has_charts:
            assert expect_charts(page) > 0
        no_exception(page)
        screenshot(page, screenshot_dir / shot)

    # a few contents worth a browser check beyond the headings
    open_page(page, wait_for_app, "ภาพรวม")
    main = page.get_by_test_id("stMain")
    expect(metric(main, "มาตรการที่เสร็จแล้ว")).to_have_text(re.compile(r"^\d+ / \d+$"))
    assert expect_charts(page) >= 1
    open_page(page, wait_for_app, "มาตรการ")
    assert expect_charts(page) == 3  # by department, by month, timeline (one per tab)
    open_page(page, wait_for_app, "แบบวัด IIT/EIT")
    assert expect_charts(page) >= 2  # IIT and EIT tabs both have demo responses in FY 2566


# --- 2. a department head updates progress ------------------------------------------------------

def test_department_head_updates_own_measure_only(page, app_server, wait_for_app, screenshot_dir):
    login(page, app_server, wait_for_app, "naoo_finance")
    assert nav_titles(page) == ["ภาพรวม", "มาตรการ", "แบบวัด IIT/EIT", "OIT รายข้อ", "รายงาน", "โหมดประชุม", "บัญชีของฉัน"]
    expect(nav_link(page, "นำเข้าข้อมูล")).to_have_count(0)
    expect(nav_link(page, "ผู้ดูแลระบบ")).to_have_count(0)
    select_year(page, wait_for_app, 2566)  # the demo plan's year
    main = page.get_by_test_id("stMain")
    done_before = metric(main, "มาตรการที่เสร็จแล้ว").inner_text()
    overdue_before = int(metric(main, "เลยกำหนด").inner_text())
    screenshot(page, screenshot_dir / "10_finance_overview.png")

    open_page(page, wait_for_app, "มาตรการ")
    main = page.get_by_test_id("stMain")
    choose(page, selectbox(main, "มาตรการ"), re.compile(r"^\s*1\. "))
    wait_for_app(page)
    expect(main.get_by_role("heading", name=re.compile(r"^1\. ")).first).to_be_visible()
    expect(main.get_by_text("ผู้รับผิดชอบ: ทุกส่วนราชการ")).to_be_visible()

    form = progress_form(page)
    expect(form).to_have_count(1)
    expect(main.get_by_text("คุณแก้ไขได้เฉพาะมาตรการของกอง/ส่วนราชการของคุณ")).to_have_count(0)
    history = history_frame(page)
    rows_before = grid_rows(history)
    assert _timeline_text(page, "1") == "เสร็จแล้ว 100%"
    done_line_before = chart_trace(page, "chart_by_month", "เสร็จแล้ว (สะสม)")
    assert rows_before > 0

    # the as-of date defaults to the last day of the FY's last month, 30 กันยายน 2566, in BE pickers
    expect(form.get_by_test_id("stDateInput")).to_have_count(0)
    for label, value in (("ณ วันที่", "30"), ("เดือน", "กันยายน"), ("ปี พ.ศ.", "2566")):
        expect(selectbox(form, label).get_by_role("combobox")).to_have_value(value)

    choose(page, selectbox(form, "สถานะ"), "กำลังดำเนินการ")
    slider = form.get_by_test_id("stSlider").locator("input[type=range]")
    slider.focus()
    page.keyboard.press("Home")
    for _ in range(17):  # step 5 -> 85
        page.keyboard.press("ArrowRight")
    expect(slider).to_have_value("85")
    note = "e2e: ทดสอบบันทึกความคืบหน้าโดยหัวหน้ากองคลัง"
    form.get_by_label("หมายเหตุ").fill(note)
    screenshot(page, screenshot_dir / "11_finance_measure1_form.png")
    form.get_by_role("button", name="บันทึก").click()
    wait_for_app(page)
    no_exception(page)

    history = history_frame(page)
    expect(history.locator("[role=grid]").first).to_have_attribute("aria-rowcount", str(rows_before + 2),
                                                                  timeout=TIMEOUT)
    newest = grid_first_row(history)  # newest first
    for part in ("30 ก.ย. 2566", "กำลังดำเนินการ", "85", note):
        assert part in newest, f"{part!r} not in the newest history row {newest!r}"
    # the measures table at the top reflects the new state too
    # ... and so do the charts: the timeline bar of measure 1, the cumulative "done" line
    # measure 1 ended in April 2566: back "in progress" on 30 Sep it is overdue
    assert _timeline_text(page, "1") == "เลยกำหนด 85%"
    done_line_after = chart_trace(page, "chart_by_month", "เสร็จแล้ว (สะสม)")
    assert done_line_after["y"][-1] == done_line_before["y"][-1] - 1, (done_line_before, done_line_after)
    screenshot(page, screenshot_dir / "12_finance_measure1_saved.png")

    # measure 2 belongs to นิติการ -> สำนักปลัดเทศบาล: read-only for กองคลัง
    choose(page, selectbox(main, "มาตรการ"), re.compile(r"^\s*2\. "))
    wait_for_app(page)
    no_exception(page)
    expect(main.get_by_role("heading", name=re.compile(r"^2\. ")).first).to_be_visible()
    expect(main.get_by_text("คุณแก้ไขได้เฉพาะมาตรการของกอง/ส่วนราชการของคุณ")).to_be_visible()
    expect(progress_form(page)).to_have_count(0)
    expect(main.get_by_test_id("stSlider")).to_have_count(0)
    screenshot(page, screenshot_dir / "13_finance_measure2_readonly.png")

    # the overview counts one measure fewer as done and one more overdue
    open_page(page, wait_for_app, "ภาพรวม")
    done_after = metric(page.get_by_test_id("stMain"), "มาตรการที่เสร็จแล้ว").inner_text()
    before, total = (int(x) for x in done_before.split(" / "))
    assert done_after == f"{before - 1} / {total}", (done_before, done_after)
    expect(metric(page.get_by_test_id("stMain"), "เลยกำหนด")).to_have_text(str(overdue_before + 1))
    screenshot(page, screenshot_dir / "14_finance_overview_after.png")


# --- 3. survey import through the upload widget -------------------------------------------------

def _upload_and_preview(page: Page, wait_for_app, file: Path, *, use_chooser: bool = False) -> Locator:
    """Put ``file`` into the survey uploader and wait for the preview; returns the survey tab."""
    main = page.get_by_test_id("stMain")
    survey_tab = main.get_by_role("tabpanel").first
    uploader = survey_tab.get_by_test_id("stFileUploader")
    chip = uploader.get_by_test_id("stFileChip")
    if chip.count():  # a file from before: remove it first, as a user would
        uploader.get_by_test_id("stFileChipDeleteBtn").click()
        wait_for_app(page)
        expect(chip).to_have_count(0)
        expect(survey_tab.get_by_text("ตัวอย่างข้อมูลที่อ่านได้")).to_have_count(0)
    if use_chooser:
        # what a user does: click "เลือกไฟล์" and pick the file in the browser's file chooser (the
        # click also clears the input, so the same file can be chosen again and fires "change")
        with page.expect_file_chooser() as chooser:
            uploader.get_by_role("button", name="เลือกไฟล์", exact=True).click()
        chooser.value.set_files(str(file))
    else:
        uploader.locator("input[type=file]").set_input_files(str(file))
    wait_for_app(page)
    no_exception(page)
    expect(survey_tab.get_by_text("ตัวอย่างข้อมูลที่อ่านได้")).to_be_visible(timeout=TIMEOUT)
    expect(chip).to_have_count(1)
    expect(chip).to_contain_text(file.suffix)  # the widget shows the (shortened) file name
    expect(survey_tab.get_by_text("คอลัมน์ที่ระบบจำได้")).to_be_visible()
    expect(survey_tab.get_by_test_id("stMetric")).to_have_count(0)  # no counts before confirming
    return survey_tab


def test_admin_imports_survey_file_and_sees_it(page, app_server, wait_for_app, screenshot_dir, tmp_path):
    sample = tmp_path / IIT_SAMPLE.name
    shutil.copy(IIT_SAMPLE, sample)
    login(page, app_server, wait_for_app, "naoo_admin")
    select_year(page, wait_for_app, 2566)  # the import must not depend on the selected year
    open_page(page, wait_for_app, "นำเข้าข้อมูล")
    main = page.get_by_test_id("stMain")
    survey_tab = main.get_by_role("tabpanel").first
    survey_tab.get_by_test_id("stRadio").get_by_text("IIT", exact=True).click()
    wait_for_app(page)
    expect(survey_tab.get_by_role("radio", name="IIT")).to_be_checked()

    survey_tab = _upload_and_preview(page, wait_for_app, sample)
    expect(survey_tab.get_by_text(re.compile(r"เวลา = \*?Timestamp"))).to_be_visible()
    assert grid_rows(survey_tab.get_by_test_id("stDataFrame").first) == 10  # preview shows 10 rows
    screenshot(page, screenshot_dir / "20_upload_preview.png")

    confirm_and_expect_counts(page, wait_for_app, survey_tab, read=64, imported=64, duplicate=0, rejected=0)
    expect(survey_tab.get_by_text("นำเข้าแล้ว: อ่าน 64 แถว นำเข้า 64 ซ้ำ 0 ปฏิเสธ 0")).to_be_visible()
    expect(survey_tab.get_by_text("ยังจับคู่กับกองไม่ได้")).to_have_count(0)  # every department matched
    screenshot(page, screenshot_dir / "21_upload_imported.png")

    # the same file again: every row is a duplicate
    survey_tab = _upload_and_preview(page, wait_for_app, sample, use_chooser=True)
    confirm_and_expect_counts(page, wait_for_app, survey_tab, read=64, imported=0, duplicate=64, rejected=0)
    screenshot(page, screenshot_dir / "22_upload_again_duplicates.png")

    # both batches are in the import history
    main.get_by_role("tab", name="ประวัติการนำเข้า").click()
    wait_for_app(page)
    batches = main.get_by_test_id("stExpander").filter(has_text=sample.name)
    expect(batches).to_have_count(2)
    screenshot(page, screenshot_dir / "23_upload_batches.png")

    # FY 2568 now has data: pick it in the sidebar, then look at the surveys page
    sidebar = page.get_by_test_id("stSidebar")
    choose(page, selectbox(sidebar, "ปีงบประมาณ"), "พ.ศ. 2568")
    wait_for_app(page)
    no_exception(page)
    expect(selectbox(sidebar, "ปีงบประมาณ").get_by_role("combobox")).to_have_value("พ.ศ. 2568")
    open_page(page, wait_for_app, "แบบวัด IIT/EIT")
    expect(selectbox(page.get_by_test_id("stSidebar"), "ปีงบประมาณ").get_by_role("combobox")).to_have_value(
        "พ.ศ. 2568")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("tab", name="IIT")).to_have_attribute("aria-selected", "true")
    iit_tab = main.get_by_role("tabpanel").first
    expect(metric(iit_tab, "ผู้ตอบ")).to_have_text("64", timeout=TIMEOUT)
    assert expect_charts(page, iit_tab) >= 3
    screenshot(page, screenshot_dir / "24_surveys_2568_iit.png")

    main.get_by_role("tab", name="EIT").click()
    page.wait_for_timeout(300)
    eit_tab = main.get_by_role("tabpanel")  # only the shown panel counts as visible
    expect(metric(eit_tab, "ผู้ตอบ")).to_have_text("0")
    expect(eit_tab.get_by_text("ยังไม่มีผู้ตอบ EIT ในปีงบประมาณนี้")).to_be_visible()
    no_exception(page)
    screenshot(page, screenshot_dir / "25_surveys_2568_eit.png")


def test_file_that_is_not_a_survey_needs_an_explicit_import_anyway(page, app_server, wait_for_app, screenshot_dir,
                                                                   tmp_path):
    """Issue 11: an asset register is not imported as responses by a click: the page says why and
    the confirm button stays disabled until "นำเข้าต่อไป" is ticked."""
    register = tmp_path / "ทะเบียนครุภัณฑ์.xlsx"
    shutil.copy(CORPUS / "surveys" / "refused_asset_register.xlsx", register)
    login(page, app_server, wait_for_app, "naoo_admin")
    open_page(page, wait_for_app, "นำเข้าข้อมูล")
    survey_tab = _upload_and_preview(page, wait_for_app, register)
    expect(survey_tab.get_by_test_id("stAlert").filter(has_text="ไม่ใช่คำตอบแบบสำรวจ")).to_be_visible()
    confirm = survey_tab.get_by_role("button", name="ยืนยันนำเข้า")
    expect(confirm).to_be_disabled()
    screenshot(page, screenshot_dir / "26_upload_not_a_survey.png")
    survey_tab.get_by_test_id("stCheckbox").filter(has_text="นำเข้าต่อไป").locator("label").click()
    wait_for_app(page)
    expect(confirm).to_be_enabled()
    confirm_and_expect_counts(page, wait_for_app, survey_tab, read=12, imported=12, duplicate=0, rejected=0)
