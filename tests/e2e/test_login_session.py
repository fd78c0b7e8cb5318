"""A reload keeps the login (issue 12 #2), in a real browser: F5, a typed address and the back
button after a logout, and a cookie someone edited."""

from __future__ import annotations

import secrets

from playwright.sync_api import Page, expect

from tests.e2e.app_utils import ORG, TIMEOUT, login, no_exception, open_page, screenshot

COOKIE = "ita_session"
WHO = "naoo_admin (ตัวอย่าง) · ผู้ดูแลระบบ"


def _session_cookie(page: Page) -> dict:
    found = [c for c in page.context.cookies() if c["name"] == COOKIE]
    assert len(found) == 1, page.context.cookies()
    return found[0]


def _logged_in_as_admin(page: Page, heading: str) -> None:
    expect(page.get_by_test_id("stSidebar").get_by_text(WHO)).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("stMain").get_by_role("heading", name=heading).first).to_be_visible(timeout=TIMEOUT)
    no_exception(page)


def _login_screen(page: Page) -> None:
    expect(page.get_by_role("button", name="เข้าสู่ระบบ")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    expect(page.get_by_role("button", name="ออกจากระบบ")).to_have_count(0)
    no_exception(page)


def test_reload_and_typed_address_keep_the_login_and_logout_ends_it(page: Page, app_server, wait_for_app,
                                                                     screenshot_dir):
    login(page, app_server, wait_for_app, "naoo_admin")
    open_page(page, wait_for_app, "มาตรการ")
    measures_url = page.url
    assert measures_url.rstrip("/").endswith("/measures"), measures_url
    page.wait_for_function(f"document.cookie.includes('{COOKIE}=')", timeout=TIMEOUT)
    cookie = _session_cookie(page)
    assert cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert not cookie["secure"]  # plain http here; over https the page adds Secure
    assert cookie["expires"] > 0  # survives closing the tab, until ITA_SESSION_MAX_HOURS

    # F5: the same page, the same user, no login form
    page.reload()
    wait_for_app(page)
    assert page.url == measures_url
    _logged_in_as_admin(page, f"มาตรการ · {ORG}")
    screenshot(page, screenshot_dir / "40_reload_keeps_login.png")

    # a typed address (or a bookmark) lands on the page asked for, still logged in
    page.goto(f"{app_server}/report")
    wait_for_app(page)
    _logged_in_as_admin(page, f"รายงาน · {ORG}")

    # log out, then the back button: the login screen, and a reload does not bring the login back
    page.get_by_role("button", name="ออกจากระบบ").click()
    wait_for_app(page)
    _login_screen(page)
    page.go_back()
    wait_for_app(page)
    _login_screen(page)
    page.reload()
    wait_for_app(page)
    _login_screen(page)
    assert not [c for c in page.context.cookies() if c["name"] == COOKIE and c["value"]]
    screenshot(page, screenshot_dir / "41_back_after_logout.png")


def test_a_revoked_token_put_back_gets_the_login_screen(page: Page, app_server, wait_for_app):
    """The cookie of a logged-out session, copied back into the browser, opens nothing: the
    server revoked it, whatever the browser keeps."""
    login(page, app_server, wait_for_app, "naoo_admin")
    page.wait_for_function(f"document.cookie.includes('{COOKIE}=')", timeout=TIMEOUT)
    old = _session_cookie(page)
    page.get_by_role("button", name="ออกจากระบบ").click()
    wait_for_app(page)
    page.context.add_cookies([{k: old[k] for k in ("name", "value", "domain", "path", "sameSite")}])
    page.reload()
    wait_for_app(page)
    _login_screen(page)


def test_a_tampered_or_forged_cookie_gets_the_login_screen(page: Page, app_server, wait_for_app, screenshot_dir):
    login(page, app_server, wait_for_app, "naoo_admin")
    page.wait_for_function(f"document.cookie.includes('{COOKIE}=')", timeout=TIMEOUT)
    real = _session_cookie(page)
    value = real["value"]
    tampered = value[:-1] + ("A" if value[-1] != "A" else "B")
    for forged in (tampered, secrets.token_urlsafe(32), "1", "' OR '1'='1"):
        page.context.add_cookies([{"name": COOKIE, "value": forged, "domain": real["domain"], "path": "/",
                                   "sameSite": "Strict"}])
        page.goto(f"{app_server}/measures")
        wait_for_app(page)
        _login_screen(page)
    screenshot(page, screenshot_dir / "42_tampered_cookie.png")
    # the real token still works (editing a copy did not end it)
    page.context.add_cookies([{k: real[k] for k in ("name", "value", "domain", "path", "sameSite")}])
    page.goto(f"{app_server}/measures")
    wait_for_app(page)
    _logged_in_as_admin(page, f"มาตรการ · {ORG}")
