"""QR posters: links, the PDF and PNG (page size, Thai text layer, the QR code read back), the font
lookup, the ITAS-code service, and the poster section of the surveys page.

Poppler's pdftoppm/pdftotext and zbar's zbarimg (Debian: poppler-utils, zbar-tools; .ci/run and
scripts/test.sh install them) check the output as a printer and a phone would see it; each check
is skipped, with the reason, only when its tool is missing.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from ita_dashboard import db, pdf_fonts, posters
from ita_dashboard.models import AuditEvent, Organization, User
from ita_dashboard.permissions import Actor, PermissionDenied
from ita_dashboard.services import org_settings
from tests.helpers import actor_for, make_demo_db, make_org, make_user

REPO = Path(__file__).resolve().parent.parent
ITAS_IIT = "https://itas.nacc.go.th/go/iit/7gbn2c"
ITAS_EIT = "https://itas.nacc.go.th/go/eit/7gbn2c"
ORG = "เทศบาลตำบลนาอ้อ"

needs_pdftoppm = pytest.mark.skipif(shutil.which("pdftoppm") is None,
                                    reason="pdftoppm not installed (Debian: poppler-utils)")
needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                     reason="pdftotext not installed (Debian: poppler-utils)")
needs_zbarimg = pytest.mark.skipif(shutil.which("zbarimg") is None,
                                   reason="zbarimg not installed (Debian: zbar-tools), so the QR code is not read back")


def squash(text: str) -> str:
    """Text without whitespace, sara am composed: pdftotext puts spaces after some Thai glyphs
    (ดำ เนิน) and may give nikhahit + sara aa for sara am."""
    return "".join(text.replace("\u0e4d\u0e32", "\u0e33").split())


def pdf_to_png(pdf: bytes, tmp_path: Path, dpi: int) -> Image.Image:
    src = tmp_path / "p.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-singlefile", "-f", "1", "-l", "1", str(src),
                    str(tmp_path / "page")], check=True, capture_output=True, timeout=60)
    return Image.open(tmp_path / "page.png")


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The text layer in content-stream order (-raw): pdftotext's layout mode sorts glyphs by
    position and so moves a tone mark stacked over an upper vowel (เพิ่ม, ชั้น) past the next letter."""
    src = tmp_path / "t.pdf"
    src.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-raw", str(src), "-"], check=True, capture_output=True, timeout=60).stdout.decode()


def read_qr(png: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "qr.png"
    path.write_bytes(png)
    out = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(path)],
                         capture_output=True, timeout=60)
    return out.stdout.decode().split()


# --- links ----------------------------------------------------------------------------------


def test_itas_link_is_built_from_the_code():
    assert posters.itas_link("7gbn2c", "iit") == ITAS_IIT
    assert posters.itas_link(" 7gbn2c ", "eit") == ITAS_EIT
    assert posters.itas_link("A-b_9", "iit") == "https://itas.nacc.go.th/go/iit/A-b_9"
    # the whole ITAS link pasted where the code goes
    assert posters.validate_itas_code("https://itas.nacc.go.th/go/eit/7gbn2c/") == "7gbn2c"
    assert posters.itas_link(ITAS_EIT, "iit") == ITAS_IIT


@pytest.mark.parametrize("code", ["", "   ", "ab c", "../etc/passwd", "abc/def", "abc?x=1", "รหัส", "a" * 65,
                                  "<script>", "https://evil.example/go/iit/abc"])
def test_itas_code_refuses_anything_but_letters_digits_dash_underscore(code):
    with pytest.raises(ValueError) as exc:
        posters.itas_link(code, "iit")
    assert any("\u0e00" <= ch <= "\u0e7f" for ch in str(exc.value)), "message should be Thai"


def test_itas_link_needs_iit_or_eit():
    with pytest.raises(ValueError):
        posters.itas_link("7gbn2c", "oit")


@pytest.mark.parametrize("url", ["https://forms.gle/AbC123", "http://example.go.th/survey?id=5&x=1",
                                 "https://docs.google.com/forms/d/e/1FAIpQL/viewform"])
def test_form_links_http_and_https_accepted(url):
    assert posters.validate_form_url(f"  {url} ") == url


@pytest.mark.parametrize("url", ["", "javascript:alert(1)", "ftp://example.com/x", "file:///etc/passwd",
                                 "www.example.com", "https://", "https:///path", "https://exa mple.com",
                                 "https://example.com/\x00", "https://example.com/" + "a" * 600])
def test_form_links_other_schemes_and_junk_refused(url):
    with pytest.raises(ValueError):
        posters.validate_form_url(url)


def test_file_names_are_ascii_and_ignore_user_text():
    assert posters.poster_filename("iit", "A4", "pdf") == "poster_iit_A4.pdf"
    assert posters.poster_filename("eit", "A5", "png") == "poster_eit_A5.png"
    assert posters.poster_filename(None, "A4", "pdf") == "poster_form_A4.pdf"
    with pytest.raises(ValueError):
        posters.poster_filename("iit", "../A4", "pdf")


# --- font and wrapping ----------------------------------------------------------------------


def test_bundled_font_is_there_and_used_without_system_fonts(monkeypatch):
    assert (posters.ASSET_FONT_DIR / "Laksaman.ttf").is_file()
    assert (posters.ASSET_FONT_DIR / "Laksaman-Bold.ttf").is_file()
    assert (posters.ASSET_FONT_DIR / "README.md").is_file()
    # the font lookup lives in pdf_fonts (shared with the meeting pack); posters re-exports it
    monkeypatch.setattr(pdf_fonts, "_system_font_index", lambda: {})
    posters.find_thai_font.cache_clear()
    try:
        font = posters.find_thai_font()
        assert font.name == "Laksaman (bundled)" and font.bold.name == "Laksaman-Bold.ttf"
        monkeypatch.setattr(pdf_fonts, "ASSET_FONT_DIR", Path("/nonexistent-font-dir"))
        posters.find_thai_font.cache_clear()
        with pytest.raises(posters.ThaiFontMissing, match="ฟอนต์ภาษาไทย"):
            posters.find_thai_font()
    finally:
        posters.find_thai_font.cache_clear()


def test_wrapping_keeps_thai_clusters_and_phone_numbers_together():
    measure = posters._Measure(posters.find_thai_font())
    # a narrow line forces breaks inside a word that has no spaces
    lines = posters._wrap("องค์การบริหารส่วนจังหวัดพระนครศรีอยุธยา", 30, 20, True, measure)
    assert len(lines) > 1 and "".join(lines) == "องค์การบริหารส่วนจังหวัดพระนครศรีอยุธยา"
    for line in lines:
        assert measure(line, 20, True) <= 30 + 1e-6
        assert line[0] not in posters._NO_LINE_START and line[-1] not in posters._NO_LINE_END
    lines = posters._wrap("สอบถามเพิ่มเติมได้ที่ สำนักปลัด โทร. 0 4281 1234 ในวันและเวลาราชการ", 90, 18, False, measure)
    assert any("โทร. 0 4281 1234" in line for line in lines), lines
    # the A4 heading: two lines split at the preferred break, the font shrunk a little to fit
    heading, size = posters._fit(posters.HEADINGS["iit"], width=166, size=36, min_size=24, max_lines=2, bold=True,
                                 measure=measure)
    assert heading == ["เชิญตอบแบบวัดการรับรู้", "ของผู้มีส่วนได้ส่วนเสียภายใน (IIT)"] and 28 <= size <= 36


# --- PDF ------------------------------------------------------------------------------------


CASES = [("iit", "A4", ITAS_IIT), ("eit", "A5", ITAS_EIT), (None, "A4", "https://forms.gle/AbC123")]


@pytest.mark.parametrize("instrument,size,url", CASES)
def test_pdf_is_one_page_of_the_right_size(instrument, size, url, tmp_path):
    pdf = posters.poster_pdf(org_name=ORG, instrument=instrument, url=url, size=size)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert b"/FontFile2" in pdf  # the TrueType font is embedded
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not installed (Debian: poppler-utils): page size not checked")
    img = pdf_to_png(pdf, tmp_path, dpi=50)
    w_mm, h_mm = posters.PAGE_SIZES[size]
    assert abs(img.width - w_mm / 25.4 * 50) <= 2 and abs(img.height - h_mm / 25.4 * 50) <= 2
    assert abs(img.height / img.width - 2 ** 0.5) < 0.01  # ISO A sizes


@needs_pdftotext
@pytest.mark.parametrize("instrument,size,url", CASES)
def test_pdf_text_layer_has_the_thai_text(instrument, size, url, tmp_path):
    note = "สอบถามเพิ่มเติมได้ที่ สำนักปลัด โทร. 0 4281 1234"
    pdf = posters.poster_pdf(org_name=ORG, instrument=instrument, url=url, size=size, note=note)
    text = squash(pdf_text(pdf, tmp_path))
    expected = [posters.HEADINGS[instrument].replace(posters.ZWSP, ""), ORG, url, note,
                posters.INSTRUCTIONS[instrument]]
    if instrument:
        expected.append(posters.KICKER.replace(posters.ZWSP, ""))
    for part in expected:
        assert squash(part) in text, part
    if instrument == "iit":
        assert squash("เชิญตอบแบบวัดการรับรู้ของผู้มีส่วนได้ส่วนเสียภายใน (IIT)") in text
        assert squash("ใช้เวลาประมาณ 5 นาที ข้อมูลของท่านเป็นความลับ") in text


@needs_pdftotext
def test_custom_heading_and_user_text_are_drawn_not_used_as_paths(tmp_path):
    pdf = posters.poster_pdf(org_name="../../etc/passwd", instrument=None, url="https://forms.gle/x", size="A5",
                             heading="แบบประเมินความพึงพอใจ\nจุดบริการ ชั้น 1", note="ขอบคุณค่ะ\x07")
    text = squash(pdf_text(pdf, tmp_path))
    for part in ("../../etc/passwd", "แบบประเมินความพึงพอใจ", "จุดบริการชั้น1", "ขอบคุณค่ะ"):
        assert squash(part) in text


def test_bad_input_is_refused_in_thai():
    for kwargs in (dict(url="javascript:alert(1)"), dict(size="A3"), dict(org_name="  "), dict(note="ก" * 400),
                   dict(instrument="oit")):
        args = dict(org_name=ORG, instrument="iit", url=ITAS_IIT, size="A4") | kwargs
        with pytest.raises(ValueError):
            posters.poster_pdf(**args)


@needs_pdftoppm
@needs_zbarimg
@pytest.mark.parametrize("instrument,size,url", CASES)
def test_pdf_qr_code_reads_back_as_the_link(instrument, size, url, tmp_path):
    pdf = posters.poster_pdf(org_name=ORG, instrument=instrument, url=url, size=size)
    img = pdf_to_png(pdf, tmp_path, dpi=100)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    assert read_qr(buf.getvalue(), tmp_path) == [url]


# --- PNG ------------------------------------------------------------------------------------


def renderers() -> list:
    out = [pytest.param("pillow", id="pillow")]
    out.append(pytest.param("pdftoppm", id="pdftoppm", marks=needs_pdftoppm))
    return out


@pytest.mark.parametrize("renderer", renderers())
@pytest.mark.parametrize("instrument,size,url", CASES[:2])
def test_png_has_the_page_size_at_150_dpi(renderer, instrument, size, url):
    png = posters.poster_png(org_name=ORG, instrument=instrument, url=url, size=size, renderer=renderer)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    img = Image.open(io.BytesIO(png))
    w_mm, h_mm = posters.PAGE_SIZES[size]
    assert abs(img.width - w_mm / 25.4 * 150) <= 2 and abs(img.height - h_mm / 25.4 * 150) <= 2


@needs_zbarimg
@pytest.mark.parametrize("renderer", renderers())
@pytest.mark.parametrize("instrument,size,url", CASES)
def test_png_qr_code_reads_back_as_the_link(renderer, instrument, size, url, tmp_path):
    png = posters.poster_png(org_name=ORG, instrument=instrument, url=url, size=size, renderer=renderer,
                             note="สอบถามเพิ่มเติมได้ที่ สำนักปลัด")
    assert read_qr(png, tmp_path) == [url]


def test_qr_is_large_on_the_page():
    measure = posters._Measure(posters.find_thai_font())
    for size, minimum in (("A4", 120), ("A5", 80)):
        spec = posters._spec(org_name=ORG, instrument="iit", url=ITAS_IIT, size=size, heading=None,
                             note="สอบถามเพิ่มเติมได้ที่ สำนักปลัด โทร. 0 4281 1234", instruction=None)
        layout = posters._layout(spec, measure)
        assert layout.qr_size >= minimum, (size, layout.qr_size)
        # nothing drawn below the frame
        assert max(line.baseline for line in layout.lines) < layout.height - layout.frame_inset


# --- the ITAS code service ------------------------------------------------------------------


def test_set_itas_code_admin_only_validated_and_audited(engine):
    org_id = make_org(engine)
    other_id = make_org(engine, name="เทศบาลตำบลอื่น")
    admin = actor_for(engine, make_user(engine, username="adm", role="admin", org_id=org_id))
    viewer = actor_for(engine, make_user(engine, username="view", role="viewer", org_id=org_id))
    head = actor_for(engine, make_user(engine, username="head", role="department_head", org_id=org_id,
                                       department="กองคลัง"))
    other_admin = actor_for(engine, make_user(engine, username="adm2", role="admin", org_id=other_id))

    for actor in (viewer, head, other_admin):
        with pytest.raises(PermissionDenied):
            with db.session_scope(engine) as s:
                org_settings.set_itas_code(s, organization_id=org_id, code="abc", actor=actor)
    with pytest.raises(ValueError, match="ITAS"):
        with db.session_scope(engine) as s:
            org_settings.set_itas_code(s, organization_id=org_id, code="ab/../c", actor=admin)
    with db.session_scope(engine) as s:
        assert s.get(Organization, org_id).itas_code is None

    with db.session_scope(engine) as s:
        org_settings.set_itas_code(s, organization_id=org_id, code="https://itas.nacc.go.th/go/iit/Ab12_x", actor=admin)
    with db.session_scope(engine) as s:
        org_settings.set_itas_code(s, organization_id=org_id, code="Ab12_x", actor=admin)  # unchanged: no event
        org_settings.set_itas_code(s, organization_id=org_id, code="", actor=Actor.system())  # cleared
    with db.session_scope(engine) as s:
        assert s.get(Organization, org_id).itas_code is None
        events = list(s.exec(select(AuditEvent).where(AuditEvent.action == "organization.itas_code")
                             .order_by(AuditEvent.id)))
        assert [(e.before["itas_code"], e.after["itas_code"]) for e in events] == [(None, "Ab12_x"), ("Ab12_x", None)]
        assert events[0].username == "adm" and events[0].organization_id == org_id


# --- the surveys page -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    return make_demo_db(tmp_path_factory.mktemp("posters") / "demo.db")


def surveys_page(monkeypatch, url: str, username: str) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        uid = s.exec(select(User.id).where(User.username == username)).one()
    engine.dispose()
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state["auth_user_id"] = uid
    at.session_state["poster_open"] = True  # the expander's state: open
    at.run()
    at.switch_page("app_pages/surveys.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_surveys_page_poster_section_for_admin(monkeypatch, demo_url):
    at = surveys_page(monkeypatch, demo_url, "naoo_admin")
    assert "โปสเตอร์ QR Code สำหรับจุดบริการ" in [e.label for e in at.expander]
    assert any("ยังไม่มีรหัสหน่วยงานใน ITAS" in i.value for i in at.info)

    at.text_input(key="poster_itas_code").input("bad code!")
    next(b for b in at.button if b.label == "บันทึกรหัส").click().run()
    assert not at.exception and any("ITAS" in e.value for e in at.error)

    at.text_input(key="poster_itas_code").input("7gbn2c")
    next(b for b in at.button if b.label == "บันทึกรหัส").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert [c.value for c in at.code] == [ITAS_IIT]
    assert len(at.get("image")) == 1
    assert [b.label for b in at.get("download_button")] == ["ดาวน์โหลด PDF (A4)", "ดาวน์โหลด PNG"]

    at.radio(key="poster_kind").set_value("eit")
    at.radio(key="poster_size").set_value("A5").run()
    assert not at.exception and [c.value for c in at.code] == [ITAS_EIT]
    assert [b.label for b in at.get("download_button")][0] == "ดาวน์โหลด PDF (A5)"

    at.radio(key="poster_kind").set_value("other").run()
    at.text_input(key="poster_url").input("javascript:alert(1)").run()
    assert any("http" in e.value for e in at.error) and not at.get("download_button")
    at.text_input(key="poster_url").input("https://forms.gle/AbC123").run()
    assert not at.exception and [c.value for c in at.code] == ["https://forms.gle/AbC123"]


def test_surveys_page_poster_section_for_viewer_has_no_code_form(monkeypatch, demo_url):
    at = surveys_page(monkeypatch, demo_url, "naoo_viewer")
    assert not at.exception
    assert not [w for w in at.text_input if w.key == "poster_itas_code"]
    assert not [b for b in at.button if b.label == "บันทึกรหัส"]
