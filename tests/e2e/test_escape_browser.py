"""User text is text, in the browser (issue 13 point 6): with markdown and HTML links and images
in the names (tests/hostile_names.py), no page of an admin or a viewer shows a link or an image
that points at the payloads' host, and the browser never asks that host for anything (the probe
saw a viewer's page load ``https://evil.example/track.png`` from an organisation name)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.app_utils import TIMEOUT, no_exception, submit_login
from tests.hostile_names import EVIL_HOST

MEETING = "โหมดประชุม"  # last: the running meeting hides the sidebar
VIEWER_PAGES = ["ภาพรวม", "มาตรการ", "แบบวัด IIT/EIT", "OIT รายข้อ", "รายงาน", "บัญชีของฉัน", MEETING]
ADMIN_PAGES = ["นำเข้าข้อมูล", "ผู้ดูแลระบบ"] + VIEWER_PAGES

# Every link and image the page holds, HTML and SVG (Plotly draws <a xlink:href> and <image>).
_LINKS_AND_IMAGES = """(host) => {
  const out = [];
  for (const el of document.querySelectorAll('a, img, image, iframe, source, video, audio, object, embed')) {
    for (const attr of ['href', 'xlink:href', 'src', 'srcset', 'data', 'poster']) {
      const v = el.getAttribute(attr);
      if (v && v.includes(host)) out.push(`${el.tagName} ${attr}=${v}`);
    }
  }
  const bg = [...document.querySelectorAll('*')].map(e => getComputedStyle(e).backgroundImage)
    .filter(v => v && v.includes(host));
  return out.concat(bg);
}"""


def _open(page: Page, wait_for_app, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    wait_for_app(page)
    no_exception(page)


def _found(page: Page) -> list[str]:
    return page.evaluate(_LINKS_AND_IMAGES, EVIL_HOST)


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_hostile_names_form_no_link_image_or_request(page: Page, hostile_server, wait_for_app, role):
    url, admin, viewer = hostile_server
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if EVIL_HOST in r.url else None)
    page.route(f"**/*{EVIL_HOST}*/**", lambda route: route.abort())  # never leaves the machine
    page.goto(url)
    wait_for_app(page)
    submit_login(page, wait_for_app, admin if role == "admin" else viewer)
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible(timeout=TIMEOUT)
    found: dict[str, list[str]] = {}
    for title in ADMIN_PAGES if role == "admin" else VIEWER_PAGES:
        _open(page, wait_for_app, title)
        if title == "ภาพรวม":
            heading = page.locator("h1").first.inner_text().replace("\u2060", "")  # the joiners are invisible
        if title == MEETING:  # every slide
            page.locator(".st-key-meeting_start button").click()
            wait_for_app(page)
            for n in range(10):
                found[f"{title} {n + 1}"] = _found(page)
                nxt = page.locator(".st-key-meeting_next button")
                if not nxt.count() or nxt.is_disabled():
                    break
                nxt.click()
                wait_for_app(page)
        found[title] = _found(page)
    page.wait_for_timeout(500)  # late image loads
    assert {k: v for k, v in found.items() if v} == {}
    assert asked == []
    # the payload was on the page, shown as the characters typed (else this test proves nothing)
    assert "อบต.ภัย [ลิงก์](https://evil.example/org) ![x](https://evil.example/track.png)" in heading
