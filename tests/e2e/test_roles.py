"""Trying to break in through the browser: pages a role must not reach, typed straight into the
address bar, and the lockout notice (for a name that has no account, so it tells nothing)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.app_utils import TIMEOUT, login, no_exception, screenshot

ADMIN_ONLY = ["นำเข้าข้อมูล", "ผู้ดูแลระบบ"]


def _nav_titles(page: Page) -> list[str]:
    """Link texts without the material icon names Streamlit puts before them."""
    links = page.get_by_test_id("stSidebarNav").get_by_role("link").all_inner_texts()
    return [text.strip().splitlines()[-1].strip() for text in links]


def _close_page_not_found(page: Page) -> None:
    """Streamlit answers an address that is no page of this session with a "page not found" dialog."""
    dialog = page.get_by_role("dialog")
    if dialog.count():
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0, timeout=TIMEOUT)


def _no_admin_content(page: Page) -> None:
    expect(page.get_by_role("tab", name="สำรอง/กู้คืนข้อมูล")).to_have_count(0)
    expect(page.get_by_role("heading", name=re.compile(r"^(ผู้ดูแลระบบ|นำเข้าข้อมูล) ·"))).to_have_count(0)


def test_anonymous_address_bar_to_admin_gets_the_login_screen(page: Page, app_server, wait_for_app):
    for path in ("admin", "upload"):
        page.goto(f"{app_server}/{path}")
        wait_for_app(page)
        no_exception(page)
        expect(page.get_by_role("button", name="เข้าสู่ระบบ")).to_be_visible(timeout=TIMEOUT)
        _no_admin_content(page)


def test_viewer_and_mayor_never_reach_admin_pages(page: Page, app_server, wait_for_app, screenshot_dir):
    for username in ("naoo_viewer", "naoo_mayor"):
        login(page, app_server, wait_for_app, username)
        titles = _nav_titles(page)
        assert "ภาพรวม" in titles and not set(ADMIN_ONLY) & set(titles), titles
        # the address bar: a new session, still logged in (the login-session cookie), and still
        # not the admin page
        page.goto(f"{app_server}/admin")
        wait_for_app(page)
        _close_page_not_found(page)
        expect(page.get_by_role("button", name="ออกจากระบบ")).to_be_visible(timeout=TIMEOUT)
        expect(page.get_by_role("button", name="เข้าสู่ระบบ")).to_have_count(0)
        _no_admin_content(page)
        screenshot(page, screenshot_dir / f"30_{username}_typed_admin_url.png")
        page.get_by_role("button", name="ออกจากระบบ").click()
        wait_for_app(page)


def test_lockout_notice_for_a_name_without_account(page: Page, app_server, wait_for_app, screenshot_dir):
    page.goto(app_server)
    wait_for_app(page)
    for _ in range(5):
        page.get_by_label("ชื่อผู้ใช้").fill("no_such_clerk")
        page.get_by_label("รหัสผ่าน").fill("wrong-password-1")
        page.get_by_role("button", name="เข้าสู่ระบบ").click()
        wait_for_app(page)
    notice = page.get_by_text(re.compile("ลองใหม่ได้หลังเวลา"))
    expect(notice).to_be_visible(timeout=TIMEOUT)
    assert re.search(r"25\d\d", notice.inner_text()), notice.inner_text()  # a Buddhist-era year
    no_exception(page)
    screenshot(page, screenshot_dir / "31_lockout_notice.png")
