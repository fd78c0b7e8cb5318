"""A 2 KB xlsx with one cell at XFD1048576 once killed the whole Streamlit server (calamine asked for
512 GiB and the process aborted). Uploaded through the running app, as a status workbook by a
department head and as a survey by an admin, it is refused with one Thai line and the server
stays up: its health check answers and a new page load works.
"""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.app_utils import TIMEOUT, login, no_exception, open_page, screenshot, select_year

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import hostile_files as hf  # noqa: E402

REFUSAL = "XFD1048576"


def _server_alive(page: Page, app_server: str, wait_for_app) -> None:
    with urllib.request.urlopen(f"{app_server}/_stcore/health", timeout=10) as resp:
        assert resp.read().decode().strip() == "ok"
    # a new browser context: no login cookie, so a fresh visitor's login screen must come up
    context = page.context.browser.new_context()
    fresh = context.new_page()
    try:
        fresh.goto(app_server)
        wait_for_app(fresh)
        expect(fresh.get_by_label("ชื่อผู้ใช้")).to_be_visible(timeout=TIMEOUT)
        no_exception(fresh)
    finally:
        context.close()


def _bomb(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(hf.xlsx_far_cell("XFD1048576", dimension=False))
    assert path.stat().st_size < 3000
    return path


def test_department_head_status_workbook_far_cell_refused(page, app_server, wait_for_app, screenshot_dir, tmp_path):
    login(page, app_server, wait_for_app, "naoo_finance")
    select_year(page, wait_for_app, 2566)  # the demo plan's year (other tests may add later years' data)
    open_page(page, wait_for_app, "มาตรการ")
    main = page.get_by_test_id("stMain")
    expander = main.get_by_test_id("stExpander").filter(has_text="อัปเดตความคืบหน้าด้วยไฟล์ Excel")
    expander.get_by_text("อัปเดตความคืบหน้าด้วยไฟล์ Excel").first.click()
    uploader = expander.get_by_test_id("stFileUploader")
    expect(uploader).to_be_visible(timeout=TIMEOUT)
    uploader.locator("input[type=file]").set_input_files(str(_bomb(tmp_path, "สถานะมาตรการ.xlsx")))
    wait_for_app(page)
    error = main.get_by_test_id("stAlertContentError").filter(has_text=REFUSAL)
    expect(error).to_have_count(1, timeout=TIMEOUT)
    expect(error).to_contain_text("ใช้ไฟล์นี้ไม่ได้")
    no_exception(page)
    screenshot(page, screenshot_dir / "30_status_workbook_far_cell_refused.png")
    _server_alive(page, app_server, wait_for_app)


def test_admin_survey_far_cell_refused(page, app_server, wait_for_app, screenshot_dir, tmp_path):
    login(page, app_server, wait_for_app, "naoo_admin")
    open_page(page, wait_for_app, "นำเข้าข้อมูล")
    main = page.get_by_test_id("stMain")
    survey_tab = main.get_by_role("tabpanel").first
    uploader = survey_tab.get_by_test_id("stFileUploader")
    uploader.locator("input[type=file]").set_input_files(str(_bomb(tmp_path, "responses.xlsx")))
    wait_for_app(page)
    error = survey_tab.get_by_test_id("stAlertContentError").filter(has_text=REFUSAL)
    expect(error).to_have_count(1, timeout=TIMEOUT)
    expect(survey_tab.get_by_text("ตัวอย่างข้อมูลที่อ่านได้")).to_have_count(0)
    no_exception(page)
    screenshot(page, screenshot_dir / "31_survey_far_cell_refused.png")
    _server_alive(page, app_server, wait_for_app)


def test_admin_survey_saved_with_a_password_is_refused_in_thai(page, app_server, wait_for_app, screenshot_dir):
    """Excel's "Encrypt with Password" (an OLE2 file, not a zip): one Thai line saying so, no preview."""
    corpus = Path(__file__).resolve().parent.parent / "data" / "corpus" / "surveys"
    login(page, app_server, wait_for_app, "naoo_admin")
    open_page(page, wait_for_app, "นำเข้าข้อมูล")
    main = page.get_by_test_id("stMain")
    survey_tab = main.get_by_role("tabpanel").first
    uploader = survey_tab.get_by_test_id("stFileUploader")
    uploader.locator("input[type=file]").set_input_files(str(corpus / "refused_password_excel.xlsx"))
    wait_for_app(page)
    error = survey_tab.get_by_test_id("stAlertContentError").filter(has_text="รหัสผ่าน")
    expect(error).to_have_count(1, timeout=TIMEOUT)
    expect(survey_tab.get_by_text("ตัวอย่างข้อมูลที่อ่านได้")).to_have_count(0)
    no_exception(page)
    screenshot(page, screenshot_dir / "32_survey_password_refused.png")
