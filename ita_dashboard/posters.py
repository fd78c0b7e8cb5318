"""Print-ready QR posters for service desks: the agency's IIT/EIT links on ITAS, or any form link.

``poster_pdf`` draws an A4 or A5 page with fpdf2 and an embedded Thai TrueType font;
``poster_png`` draws the same layout as an image (for the on-screen preview and for sharing).
No streamlit here.

Thai shaping, the font and line breaking live in ``pdf_fonts.py`` (shared with the meeting
pack): the PDF uses fpdf2's text shaping (uharfbuzz), the PNG Pillow's raqm layout, or else the
PDF rasterised (PDFium; the renderer keeps its old name ``pdftoppm``). Text typed by the user is drawn, never used as a file
name or path.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Optional
from urllib.parse import urlsplit

from .errors import ItaError
from .pdf_fonts import (  # noqa: F401 - font names re-exported for callers and tests of the posters
    ASSET_FONT_DIR, PT_MM, ZWSP, ThaiFont, ThaiFontMissing, find_thai_font, pdf_to_png, raqm_available,
    shaping_available, thai_fpdf,
)
from .pdf_fonts import NO_LINE_END as _NO_LINE_END, NO_LINE_START as _NO_LINE_START  # noqa: F401
from .pdf_fonts import TextMeasure as _Measure, fit_text as _fit, wrap_text as _wrap  # noqa: F401


class PosterError(ItaError, ValueError):
    """A poster request that cannot be drawn as given (code, link, size...); message in Thai."""

    codes: ClassVar[tuple[str, ...]] = (
        "poster_no_code", "poster_code_too_long", "poster_code_chars", "poster_bad_instrument", "poster_no_url",
        "poster_url_too_long", "poster_url_spaces", "poster_bad_url", "poster_url_scheme", "poster_org_too_long",
        "poster_heading_too_long", "poster_note_too_long", "poster_instruction_too_long", "poster_bad_kind",
        "poster_bad_size", "poster_no_org", "poster_bad_dpi",
    )


ITAS_BASE = "https://itas.nacc.go.th/go"
INSTRUMENTS = ("iit", "eit")
PAGE_SIZES: dict[str, tuple[float, float]] = {"A4": (210.0, 297.0), "A5": (148.0, 210.0)}  # mm, portrait

HEADINGS: dict[Optional[str], str] = {
    "iit": f"เชิญตอบแบบวัดการรับรู้{ZWSP}ของผู้มีส่วนได้ส่วนเสียภายใน (IIT)",
    "eit": f"เชิญตอบแบบวัดการรับรู้{ZWSP}ของผู้มีส่วนได้ส่วนเสียภายนอก (EIT)",
    None: "เชิญตอบแบบสอบถาม",
}
KICKER = f"การประเมินคุณธรรมและความโปร่งใส{ZWSP}ในการดำเนินงานของหน่วยงานภาครัฐ (ITA)"
INSTRUCTIONS: dict[Optional[str], str] = {
    "iit": "สแกน QR Code ด้วยกล้องโทรศัพท์มือถือ ใช้เวลาประมาณ 5 นาที ข้อมูลของท่านเป็นความลับ",
    "eit": "สแกน QR Code ด้วยกล้องโทรศัพท์มือถือ ใช้เวลาประมาณ 5 นาที ข้อมูลของท่านเป็นความลับ",
    None: "สแกน QR Code ด้วยกล้องโทรศัพท์มือถือ เพื่อเปิดแบบสอบถาม",
}

MAX_CODE = 64
MAX_URL = 500  # longer links make a dense QR code that phones read badly from a poster
MAX_ORG = 150
MAX_HEADING = 150
MAX_NOTE = 300

_CODE_RE = re.compile(r"[A-Za-z0-9_-]+")
_ITAS_URL_RE = re.compile(r"https?://itas\.nacc\.go\.th/go/(?:iit|eit)/([^/?#\s]+)/?", re.IGNORECASE)


# --- links ----------------------------------------------------------------------------------


def validate_itas_code(code: str) -> str:
    """The ITAS code as stored: letters, digits, ``-`` and ``_`` only.

    A whole ITAS link pasted instead of the code is accepted and reduced to its code.
    """
    text = (code or "").strip()
    m = _ITAS_URL_RE.fullmatch(text)
    if m:
        text = m.group(1)
    if not text:
        raise PosterError(code="poster_no_code")
    if len(text) > MAX_CODE:
        raise PosterError(code="poster_code_too_long", limit=MAX_CODE)
    if not _CODE_RE.fullmatch(text):
        raise PosterError(code="poster_code_chars")
    return text


def itas_link(code: str, instrument: str) -> str:
    """``https://itas.nacc.go.th/go/<iit|eit>/<code>``."""
    if instrument not in INSTRUMENTS:
        raise PosterError(code="poster_bad_instrument")
    return f"{ITAS_BASE}/{instrument}/{validate_itas_code(code)}"


def validate_form_url(url: str) -> str:
    """A form link for a poster: an absolute http(s) link without spaces, as a QR code can hold."""
    text = (url or "").strip()
    if not text:
        raise PosterError(code="poster_no_url")
    if len(text) > MAX_URL:
        raise PosterError(code="poster_url_too_long", limit=MAX_URL)
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in text):
        raise PosterError(code="poster_url_spaces")
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise PosterError(code="poster_bad_url") from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or not parts.hostname:
        raise PosterError(code="poster_url_scheme")
    return text


def poster_filename(instrument: Optional[str], size: str, ext: str) -> str:
    """ASCII download name, e.g. ``poster_iit_A4.pdf``; nothing typed by the user goes in it."""
    kind = instrument if instrument in INSTRUMENTS else "form"
    if size not in PAGE_SIZES or ext not in ("pdf", "png"):
        raise ValueError(f"bad poster size/extension: {size!r} {ext!r}")
    return f"poster_{kind}_{size}.{ext}"


# --- layout ---------------------------------------------------------------------------------

BLUE = (22, 64, 122)
DARK = (25, 25, 25)
GRAY = (80, 80, 80)
LINE_ASCENT = 1.0  # em above the baseline kept free in a line (Thai stacked marks)
LINE_HEIGHT = 1.45  # em per line


@dataclass
class _Line:
    text: str
    baseline: float  # mm from the top
    size: float  # pt
    bold: bool
    color: tuple[int, int, int]


@dataclass
class _Layout:
    width: float
    height: float
    frame_inset: float
    frame_width: float
    rule: tuple[float, float, float, float]  # x, y, w, h (mm) of the short bar under the heading
    qr_x: float
    qr_y: float
    qr_size: float
    lines: list[_Line] = field(default_factory=list)


@dataclass(frozen=True)
class _Spec:
    org_name: str
    instrument: Optional[str]
    url: str
    size: str
    heading: str
    note: str
    instruction: str


def _clean_text(text: Optional[str], *, limit: int, too_long: str, multiline: bool) -> str:
    """User text as drawn: control characters dropped, spaces collapsed, length bounded (else a
    :class:`PosterError` of code ``too_long``)."""
    text = unicodedata.normalize("NFC", text or "")
    lines = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        kept = "".join(ch for ch in raw if ch == ZWSP or not unicodedata.category(ch).startswith("C"))
        lines.append(" ".join(kept.split()))
    out = ("\n" if multiline else " ").join(x for x in lines if x).strip()
    if len(out) > limit:
        raise PosterError(code=too_long, limit=limit)
    return out


def _spec(*, org_name, instrument, url, size, heading, note, instruction) -> _Spec:
    if instrument not in (*INSTRUMENTS, None):
        raise PosterError(code="poster_bad_kind")
    if size not in PAGE_SIZES:
        raise PosterError(code="poster_bad_size")
    org = _clean_text(org_name, limit=MAX_ORG, too_long="poster_org_too_long", multiline=False)
    if not org:
        raise PosterError(code="poster_no_org")
    return _Spec(
        org_name=org,
        instrument=instrument,
        url=validate_form_url(url),
        size=size,
        heading=_clean_text(heading, limit=MAX_HEADING, too_long="poster_heading_too_long", multiline=True)
        or HEADINGS[instrument],
        note=_clean_text(note, limit=MAX_NOTE, too_long="poster_note_too_long", multiline=True),
        instruction=_clean_text(instruction, limit=MAX_NOTE, too_long="poster_instruction_too_long", multiline=True)
        or INSTRUCTIONS[instrument],
    )



def _layout(spec: _Spec, measure: _Measure) -> _Layout:
    W, H = PAGE_SIZES[spec.size]
    s = W / 210.0  # every length below is for A4 and scales with the page
    inset = 9 * s
    side = inset + 13 * s
    content_w = W - 2 * side
    top, bottom = inset + 11 * s, H - inset - 9 * s

    # (kind, payload, gap before in mm, share of the spare height added to that gap)
    blocks: list[tuple[str, object, float, float]] = []

    def text(t: str, size: float, min_size: float, max_lines: int, bold: bool, color, gap: float, flex: float,
             url: bool = False) -> None:
        lines, pt = _fit(t, width=content_w, size=size * s, min_size=min_size * s, max_lines=max_lines, bold=bold,
                         measure=measure, url=url)
        blocks.append(("text", (lines, pt, bold, color), gap * s, flex))

    if spec.instrument in INSTRUMENTS:
        text(KICKER, 15, 11, 2, False, GRAY, 0, 0)
    text(spec.heading, 36, 24, 2 if spec.heading == HEADINGS[spec.instrument] else 3, True, BLUE,
         3 if blocks else 0, 0.5)
    blocks.append(("rule", None, 3, 0))
    text(spec.org_name, 28, 18, 2, True, DARK, 5, 1)
    blocks.append(("qr", None, 3, 2))
    text(spec.url, 15, 10, 3, False, GRAY, 0, 0, url=True)
    text(spec.instruction, 21, 15, 3, False, DARK, 5, 2)
    if spec.note:
        text(spec.note, 18, 13, 5, False, BLUE, 5, 1)

    def height(kind: str, payload) -> float:
        if kind == "text":
            lines, pt, _b, _c = payload
            return len(lines) * pt * PT_MM * LINE_HEIGHT
        if kind == "rule":
            return 1.4 * s
        return 0.0

    fixed = sum(height(k, p) + gap for k, p, gap, _f in blocks)
    room = (bottom - top) - fixed
    qr_size = max(min(138 * s, room), 45 * s)  # past the minimum the note would have to go; it is bounded
    spare = max(room - qr_size, 0.0)
    flex_total = sum(f for *_x, f in blocks) or 1.0

    layout = _Layout(width=W, height=H, frame_inset=inset, frame_width=0.9 * s, rule=(0, 0, 0, 0),
                     qr_x=(W - qr_size) / 2, qr_y=0, qr_size=qr_size)
    y = top
    for kind, payload, gap, flex in blocks:
        y += gap + spare * flex / flex_total
        if kind == "text":
            lines, pt, bold, color = payload
            em = pt * PT_MM
            for line in lines:
                layout.lines.append(_Line(line, y + LINE_ASCENT * em, pt, bold, color))
                y += em * LINE_HEIGHT
        elif kind == "rule":
            rw = 36 * s
            layout.rule = ((W - rw) / 2, y, rw, 1.4 * s)
            y += 1.4 * s
        else:
            layout.qr_y = y
            y += qr_size
    return layout


def _qr_matrix(url: str) -> list[list[bool]]:
    import qrcode

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(url)
    qr.make(fit=True)
    return qr.get_matrix()


def _qr_png(url: str, module_px: int = 16) -> bytes:
    """The QR code (quiet zone included) as a black-and-white PNG, ``module_px`` pixels a module."""
    from PIL import Image

    matrix = _qr_matrix(url)
    n = len(matrix)
    img = Image.new("1", (n, n), 1)
    img.putdata([0 if dark else 1 for row in matrix for dark in row])
    img = img.resize((n * module_px, n * module_px), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


# --- PDF ------------------------------------------------------------------------------------


def poster_pdf(*, org_name: str, instrument: Optional[Literal["iit", "eit"]], url: str,
               size: Literal["A4", "A5"], heading: Optional[str] = None, note: Optional[str] = None,
               instruction: Optional[str] = None) -> bytes:
    """One-page poster PDF (portrait A4 or A5) with the Thai font embedded.

    ``instrument`` picks the default heading ("iit", "eit", or None for any other form);
    ``heading`` and ``instruction`` replace the defaults; ``note`` adds a line at the bottom.
    Raises ValueError (Thai message) on a bad link, size or text, ThaiFontMissing without a font.
    """
    spec = _spec(org_name=org_name, instrument=instrument, url=url, size=size, heading=heading, note=note,
                 instruction=instruction)
    pdf, font = thai_fpdf(orientation="portrait", format=PAGE_SIZES[spec.size])
    layout = _layout(spec, _Measure(font))
    pdf.set_title(spec.heading.replace(ZWSP, "").replace("\n", " "))
    pdf.set_author(spec.org_name)
    pdf.set_subject(spec.url)
    pdf.add_page()

    pdf.set_draw_color(*BLUE)
    pdf.set_line_width(layout.frame_width)
    i = layout.frame_inset
    pdf.rect(i, i, layout.width - 2 * i, layout.height - 2 * i, round_corners=True, corner_radius=4 * layout.width / 210)
    pdf.set_fill_color(*BLUE)
    pdf.rect(*layout.rule, style="F")

    for line in layout.lines:
        em = line.size * PT_MM
        pdf.set_font("thai", "B" if line.bold else "", line.size)
        pdf.set_text_color(*line.color)
        # fpdf2 puts the baseline of a cell at y + h/2 + 0.3 * font size; with h = em: y + 0.8 em
        pdf.set_xy(0, line.baseline - 0.8 * em)
        pdf.cell(layout.width, em, line.text, align="C")

    pdf.image(io.BytesIO(_qr_png(spec.url)), x=layout.qr_x, y=layout.qr_y, w=layout.qr_size, h=layout.qr_size,
              link=spec.url)
    return bytes(pdf.output())


# --- PNG ------------------------------------------------------------------------------------


def _png_pillow(spec: _Spec, dpi: int) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    font = find_thai_font()
    layout = _layout(spec, _Measure(font))
    engine = ImageFont.Layout.RAQM if raqm_available() else ImageFont.Layout.BASIC

    def px(mm: float) -> float:
        return mm / 25.4 * dpi

    W, H = round(px(layout.width)), round(px(layout.height))
    img = Image.new("RGB", (W, H), "white")
    draw = ImageDraw.Draw(img)
    i = px(layout.frame_inset)
    draw.rounded_rectangle((i, i, W - 1 - i, H - 1 - i), radius=px(4 * layout.width / 210), outline=BLUE,
                           width=max(1, round(px(layout.frame_width))))
    rx, ry, rw, rh = layout.rule
    draw.rectangle((px(rx), px(ry), px(rx + rw), px(ry + rh)), fill=BLUE)

    fonts: dict[tuple[bool, int], ImageFont.FreeTypeFont] = {}
    for line in layout.lines:
        size_px = max(1, round(line.size / 72 * dpi))
        key = (line.bold, size_px)
        if key not in fonts:
            fonts[key] = ImageFont.truetype(str(font.bold if line.bold else font.regular), size_px, layout_engine=engine)
        draw.text((W / 2, px(line.baseline)), line.text, font=fonts[key], fill=line.color, anchor="ms")

    matrix = _qr_matrix(spec.url)
    n = len(matrix)
    module = max(1, int(px(layout.qr_size) // n))  # whole pixels per module keep the code crisp
    qr = Image.new("L", (n, n), 255)
    qr.putdata([0 if dark else 255 for row in matrix for dark in row])
    qr = qr.resize((n * module, n * module), Image.Resampling.NEAREST)
    off_x = round(px(layout.qr_x) + (px(layout.qr_size) - n * module) / 2)
    off_y = round(px(layout.qr_y) + (px(layout.qr_size) - n * module) / 2)
    img.paste(qr, (off_x, off_y))

    buf = io.BytesIO()
    img.save(buf, format="PNG", dpi=(dpi, dpi), optimize=True)
    return buf.getvalue()


def poster_png(*, org_name: str, instrument: Optional[Literal["iit", "eit"]], url: str,
               size: Literal["A4", "A5"], heading: Optional[str] = None, note: Optional[str] = None,
               instruction: Optional[str] = None, dpi: int = 150,
               renderer: Literal["auto", "pillow", "pdftoppm"] = "auto") -> bytes:
    """The poster as a PNG (A4 at 150 dpi: 1240 x 1754 pixels), same layout as ``poster_pdf``.

    ``renderer="auto"``: Pillow when it has raqm (Thai marks placed by HarfBuzz), else the PDF
    rasterised by PDFium (renderer ``"pdftoppm"``, its old name).
    """
    if not 36 <= dpi <= 600:
        raise PosterError(code="poster_bad_dpi")
    spec = _spec(org_name=org_name, instrument=instrument, url=url, size=size, heading=heading, note=note,
                 instruction=instruction)
    if renderer == "auto":
        renderer = "pillow" if raqm_available() else "pdftoppm"
    if renderer == "pdftoppm":
        pdf = poster_pdf(org_name=org_name, instrument=instrument, url=url, size=size, heading=heading, note=note,
                         instruction=instruction)
        return pdf_to_png(pdf, dpi=dpi)
    if renderer != "pillow":
        raise ValueError(f"unknown renderer {renderer!r}")
    return _png_pillow(spec, dpi)
