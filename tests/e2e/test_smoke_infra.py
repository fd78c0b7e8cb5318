"""The browser infrastructure itself: Debian's Chromium starts under Playwright and renders Thai.

No app server is needed; the app's own browser tests build on the same fixtures.
"""

from __future__ import annotations

import shutil
import subprocess
import urllib.parse

import pytest

THAI = "แดชบอร์ด ITA เทศบาลตำบลทดสอบ ปีงบประมาณ ๒๕๖๘"
HTML = f"""<!doctype html><html lang="th"><head><meta charset="utf-8"><title>smoke</title></head>
<body style="font-family: sans-serif; padding: 24px">
<h1 id="title">{THAI}</h1><p>ความคืบหน้ามาตรการ 75%</p></body></html>"""


def test_thai_fonts_are_installed():
    if not shutil.which("fc-list"):
        pytest.fail("fc-list not found (fontconfig): Chromium would render Thai as boxes")
    fonts = subprocess.run(["fc-list", ":lang=th", "family"], capture_output=True, text=True).stdout
    assert fonts.strip(), "no font with Thai glyphs: install fonts-thai-tlwg-ttf (scripts/test.sh does)"


def test_chromium_renders_thai_data_url(page, screenshot_dir):
    page.goto("data:text/html;charset=utf-8," + urllib.parse.quote(HTML))
    title = page.locator("#title")
    assert title.inner_text() == THAI
    box = title.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 10
    assert page.evaluate("navigator.language") == "th-TH"
    assert page.viewport_size == {"width": 1366, "height": 900}

    shot = screenshot_dir / "smoke_infra_thai.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 2000
