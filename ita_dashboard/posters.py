"""Print-ready QR posters for service desks: the agency's IIT/EIT links on ITAS, or any form link.

``poster_pdf`` draws an A4 or A5 page with fpdf2 and an embedded Thai TrueType font;
``poster_png`` draws the same layout as an image (for the on-screen preview and for sharing).
No streamlit here.

Thai needs a shaping engine to put vowel and tone marks in the right place (stacked marks such
as ที่, marks over tall letters such as ป้): the PDF uses fpdf2's text shaping (uharfbuzz), the
PNG Pillow's raqm layout, or else the PDF rasterised by poppler's ``pdftoppm``.

The font: TH Sarabun New or Sarabun when the machine has one, else the Laksaman files bundled
in ``assets/fonts`` (TLWG's version of TH Sarabun New; see the README there), else a TLWG
system font. Text typed by the user is drawn, never used as a file name or path.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Literal, Optional
from urllib.parse import urlsplit

ITAS_BASE = "https://itas.nacc.go.th/go"
INSTRUMENTS = ("iit", "eit")
PAGE_SIZES: dict[str, tuple[float, float]] = {"A4": (210.0, 297.0), "A5": (148.0, 210.0)}  # mm, portrait

ZWSP = "\u200b"  # in the texts below: a preferred line break between Thai words (never drawn)
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
        raise ValueError("กรุณาระบุรหัสหน่วยงานใน ITAS")
    if len(text) > MAX_CODE:
        raise ValueError(f"รหัสหน่วยงานใน ITAS ยาวเกิน {MAX_CODE} ตัวอักษร")
    if not _CODE_RE.fullmatch(text):
        raise ValueError("รหัสหน่วยงานใน ITAS ใช้ได้เฉพาะตัวอักษรภาษาอังกฤษ ตัวเลข ขีด (-) และขีดล่าง (_)")
    return text


def itas_link(code: str, instrument: str) -> str:
    """``https://itas.nacc.go.th/go/<iit|eit>/<code>``."""
    if instrument not in INSTRUMENTS:
        raise ValueError("แบบวัดต้องเป็น IIT หรือ EIT")
    return f"{ITAS_BASE}/{instrument}/{validate_itas_code(code)}"


def validate_form_url(url: str) -> str:
    """A form link for a poster: an absolute http(s) link without spaces, as a QR code can hold."""
    text = (url or "").strip()
    if not text:
        raise ValueError("กรุณาระบุลิงก์แบบสอบถาม")
    if len(text) > MAX_URL:
        raise ValueError(f"ลิงก์ยาวเกิน {MAX_URL} ตัวอักษร (ใช้ลิงก์แบบย่อแทน)")
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in text):
        raise ValueError("ลิงก์ต้องไม่มีช่องว่างหรืออักขระควบคุม")
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise ValueError("ลิงก์ไม่ถูกต้อง") from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or not parts.hostname:
        raise ValueError("ลิงก์ต้องขึ้นต้นด้วย http:// หรือ https:// และมีชื่อเว็บไซต์")
    return text


def poster_filename(instrument: Optional[str], size: str, ext: str) -> str:
    """ASCII download name, e.g. ``poster_iit_A4.pdf``; nothing typed by the user goes in it."""
    kind = instrument if instrument in INSTRUMENTS else "form"
    if size not in PAGE_SIZES or ext not in ("pdf", "png"):
        raise ValueError(f"bad poster size/extension: {size!r} {ext!r}")
    return f"poster_{kind}_{size}.{ext}"


# --- font -----------------------------------------------------------------------------------


class ThaiFontMissing(RuntimeError):
    """No Thai TrueType font could be found (the bundled one was removed, and none on the system)."""


@dataclass(frozen=True)
class ThaiFont:
    name: str
    regular: Path
    bold: Path


ASSET_FONT_DIR = Path(__file__).resolve().parent / "assets" / "fonts"

# (name, where, regular file names, bold file names); the first family found wins.
# "system" looks in the usual font folders, "bundled" in ASSET_FONT_DIR.
_FONT_CANDIDATES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("TH Sarabun New", "system", ("THSarabunNew.ttf",), ("THSarabunNew Bold.ttf", "THSarabunNew-Bold.ttf")),
    ("Sarabun", "system", ("Sarabun-Regular.ttf",), ("Sarabun-Bold.ttf", "Sarabun-SemiBold.ttf")),
    ("Laksaman (bundled)", "bundled", ("Laksaman.ttf",), ("Laksaman-Bold.ttf",)),
    ("Laksaman", "system", ("Laksaman.ttf",), ("Laksaman-Bold.ttf",)),
    ("Garuda", "system", ("Garuda.ttf",), ("Garuda-Bold.ttf",)),
    ("Loma", "system", ("Loma.ttf",), ("Loma-Bold.ttf",)),
)


def _system_font_dirs() -> list[Path]:
    home = Path.home()
    dirs = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), home / ".local/share/fonts",
            home / ".fonts", Path("/Library/Fonts"), home / "Library/Fonts"]
    if os.environ.get("WINDIR"):
        dirs.append(Path(os.environ["WINDIR"]) / "Fonts")
    return [d for d in dirs if d.is_dir()]


@lru_cache(maxsize=1)
def _system_font_index() -> dict[str, Path]:
    """Lower-cased file name -> first path found under the system font folders."""
    index: dict[str, Path] = {}
    for root in _system_font_dirs():
        for dirpath, _dirs, files in os.walk(root):
            for f in files:
                if f.lower().endswith(".ttf"):
                    index.setdefault(f.lower(), Path(dirpath) / f)
    return index


def _lookup(where: str, names: tuple[str, ...]) -> Optional[Path]:
    for n in names:
        if where == "bundled":
            p = ASSET_FONT_DIR / n
            if p.is_file():
                return p
        else:
            p = _system_font_index().get(n.lower())
            if p is not None and p.is_file():
                return p
    return None


@lru_cache(maxsize=1)
def find_thai_font() -> ThaiFont:
    for name, where, regular_names, bold_names in _FONT_CANDIDATES:
        regular = _lookup(where, regular_names)
        if regular is not None:
            return ThaiFont(name, regular, _lookup(where, bold_names) or regular)
    raise ThaiFontMissing(
        "ไม่พบฟอนต์ภาษาไทยสำหรับสร้างโปสเตอร์: ไฟล์ ita_dashboard/assets/fonts/Laksaman.ttf หายไป "
        "และในเครื่องไม่มี TH Sarabun New, Sarabun หรือฟอนต์ TLWG (Debian: apt-get install fonts-thai-tlwg-ttf)"
    )


def shaping_available() -> bool:
    """True when fpdf2 can shape Thai (uharfbuzz is installed)."""
    try:
        import uharfbuzz  # noqa: F401
    except ImportError:
        return False
    return True


def raqm_available() -> bool:
    """True when Pillow lays out Thai with libraqm (correct mark positions in the PNG)."""
    from PIL import features

    try:
        return bool(features.check("raqm"))
    except Exception:  # pragma: no cover - very old or odd Pillow builds
        return False


# --- layout ---------------------------------------------------------------------------------

PT_MM = 25.4 / 72
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


def _clean_text(text: Optional[str], *, limit: int, what: str, multiline: bool) -> str:
    """User text as drawn: control characters dropped, spaces collapsed, length bounded."""
    text = unicodedata.normalize("NFC", text or "")
    lines = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        kept = "".join(ch for ch in raw if ch == ZWSP or not unicodedata.category(ch).startswith("C"))
        lines.append(" ".join(kept.split()))
    out = ("\n" if multiline else " ").join(x for x in lines if x).strip()
    if len(out) > limit:
        raise ValueError(f"{what}ยาวเกิน {limit} ตัวอักษร")
    return out


def _spec(*, org_name, instrument, url, size, heading, note, instruction) -> _Spec:
    if instrument not in (*INSTRUMENTS, None):
        raise ValueError("แบบวัดต้องเป็น IIT, EIT หรือแบบสอบถามอื่น")
    if size not in PAGE_SIZES:
        raise ValueError("ขนาดโปสเตอร์ต้องเป็น A4 หรือ A5")
    org = _clean_text(org_name, limit=MAX_ORG, what="ชื่อหน่วยงาน", multiline=False)
    if not org:
        raise ValueError("กรุณาระบุชื่อหน่วยงาน")
    return _Spec(
        org_name=org,
        instrument=instrument,
        url=validate_form_url(url),
        size=size,
        heading=_clean_text(heading, limit=MAX_HEADING, what="หัวข้อ", multiline=True) or HEADINGS[instrument],
        note=_clean_text(note, limit=MAX_NOTE, what="หมายเหตุ", multiline=True),
        instruction=_clean_text(instruction, limit=MAX_NOTE, what="คำแนะนำ", multiline=True)
        or INSTRUCTIONS[instrument],
    )


class _Measure:
    """Text widths in mm, from the font itself (shared by the PDF and the PNG, so both wrap alike)."""

    def __init__(self, font: ThaiFont):
        from PIL import ImageFont

        engine = ImageFont.Layout.RAQM if raqm_available() else ImageFont.Layout.BASIC
        self._fonts = {
            False: ImageFont.truetype(str(font.regular), 1000, layout_engine=engine),
            True: ImageFont.truetype(str(font.bold), 1000, layout_engine=engine),
        }

    def __call__(self, text: str, size_pt: float, bold: bool) -> float:
        if not text:
            return 0.0
        return self._fonts[bold].getlength(text) / 1000 * size_pt * PT_MM


# Thai characters a line may not start with (marks, following vowels, mai yamok) / end with
# (leading vowels): a forced break inside a long word only falls between such clusters.
_NO_LINE_START = set("\u0e30\u0e31\u0e32\u0e33\u0e45\u0e46") | {chr(c) for c in range(0x0E34, 0x0E3B)} | {
    chr(c) for c in range(0x0E47, 0x0E4F)}
_NO_LINE_END = {chr(c) for c in range(0x0E40, 0x0E45)}


def _break_ok(word: str, i: int, *, url: bool) -> bool:
    if i <= 0 or i >= len(word):
        return False
    if word[i] in _NO_LINE_START or word[i - 1] in _NO_LINE_END or unicodedata.combining(word[i]):
        return False
    return url or not (word[i - 1].isascii() and word[i - 1].isalnum() and word[i].isascii() and word[i].isalnum())


def _tokens(paragraph: str, *, url: bool) -> list[tuple[str, str]]:
    """(piece, glue): glue is what joins the piece to the previous one on the same line."""
    if url:
        pieces = re.split(r"(?<=[/?&=])", paragraph)
        return [(p, "") for p in pieces if p]
    out: list[tuple[str, str]] = []
    glue = ""
    for part in re.split(r"( +|\u200b)", paragraph):
        if not part:
            continue
        if part == ZWSP:
            continue  # a break opportunity: the next piece joins with no space
        if part.isspace():
            glue = " "
        elif out and glue == " " and part[0].isdigit() and (out[-1][0][-1].isdigit() or out[-1][0][-1] == "."):
            # "โทร. 0 4281 1234": a space inside a number or after an abbreviation is not a break
            out[-1] = (f"{out[-1][0]} {part}", out[-1][1])
            glue = ""
        else:
            out.append((part, glue if out else ""))
            glue = ""
    return out


def _hard_break(word: str, width: float, fits: Callable[[str], bool], *, url: bool) -> list[str]:
    """A word wider than the line, cut where Thai allows (any character when nothing else fits)."""
    chunks: list[str] = []
    rest = word
    while rest and not fits(rest):
        cut = 0
        for i in range(1, len(rest)):
            if fits(rest[:i]) and _break_ok(rest, i, url=url):
                cut = i
            elif not fits(rest[:i]):
                break
        if cut == 0:  # no allowed break fits: cut after the longest part that does
            cut = max(1, next((i for i in range(len(rest), 0, -1) if fits(rest[:i])), 1))
            while cut < len(rest) and unicodedata.combining(rest[cut]):
                cut += 1
        chunks.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        chunks.append(rest)
    return chunks


def _greedy(tokens: list[tuple[str, str]], width: float, fits_w: Callable[[str, float], bool], *, url: bool) -> list[str]:
    lines: list[str] = []
    current = ""
    for piece, glue in tokens:
        candidate = f"{current}{glue}{piece}" if current else piece
        if fits_w(candidate, width):
            current = candidate
            continue
        if current:
            lines.append(current)
        if fits_w(piece, width):
            current = piece
        else:
            chunks = _hard_break(piece, width, lambda s: fits_w(s, width), url=url)
            lines.extend(chunks[:-1])
            current = chunks[-1]
    if current:
        lines.append(current)
    return lines


def _wrap(text: str, width: float, size: float, bold: bool, measure: _Measure, *, url: bool = False) -> list[str]:
    """Lines of at most ``width`` mm, balanced: the same number of lines as greedy filling needs,
    but as even as possible (a heading over two lines splits near its middle word break)."""

    def fits_w(s: str, w: float) -> bool:
        return measure(s.replace(ZWSP, ""), size, bold) <= w + 1e-6

    out: list[str] = []
    for paragraph in text.split("\n"):
        tokens = _tokens(paragraph, url=url)
        if not tokens:
            continue
        lines = _greedy(tokens, width, fits_w, url=url)
        widest_piece = max(measure(p.replace(ZWSP, ""), size, bold) for p, _ in tokens)
        if len(lines) > 1 and widest_piece <= width:
            lo, hi = widest_piece, width
            for _ in range(18):
                mid = (lo + hi) / 2
                if len(_greedy(tokens, mid, fits_w, url=url)) <= len(lines):
                    hi = mid
                else:
                    lo = mid
            lines = _greedy(tokens, hi, fits_w, url=url)
        out.extend(line.replace(ZWSP, "") for line in lines)
    return out


def _fit(text: str, *, width: float, size: float, min_size: float, max_lines: int, bold: bool,
         measure: _Measure, url: bool = False) -> tuple[list[str], float]:
    """Wrap at ``size``; shrink (down to ``min_size``) while more than ``max_lines`` lines are needed."""
    while True:
        lines = _wrap(text, width, size, bold, measure, url=url)
        if len(lines) <= max_lines or size <= min_size:
            return lines, size
        size = max(min_size, size - 1)


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
    from fpdf import FPDF

    spec = _spec(org_name=org_name, instrument=instrument, url=url, size=size, heading=heading, note=note,
                 instruction=instruction)
    font = find_thai_font()
    layout = _layout(spec, _Measure(font))

    pdf = FPDF(orientation="portrait", unit="mm", format=PAGE_SIZES[spec.size])
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.c_margin = 0
    pdf.add_font("thai", "", str(font.regular))
    pdf.add_font("thai", "B", str(font.bold))
    if shaping_available():
        pdf.set_text_shaping(True)
    pdf.set_title(spec.heading.replace(ZWSP, "").replace("\n", " "))
    pdf.set_author(spec.org_name)
    pdf.set_subject(spec.url)
    pdf.set_creator("ITA dashboard")
    pdf.set_lang("th")
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


def _png_pdftoppm(pdf: bytes, dpi: int) -> bytes:
    exe = shutil.which("pdftoppm")
    if exe is None:
        raise RuntimeError("pdftoppm not found")
    with tempfile.TemporaryDirectory(prefix="ita-poster-") as tmp:
        src = Path(tmp) / "poster.pdf"  # fixed names: nothing typed by the user reaches a path
        src.write_bytes(pdf)
        subprocess.run([exe, "-png", "-r", str(int(dpi)), "-singlefile", str(src), str(Path(tmp) / "page")],
                       check=True, capture_output=True, timeout=60)
        return (Path(tmp) / "page.png").read_bytes()


def poster_png(*, org_name: str, instrument: Optional[Literal["iit", "eit"]], url: str,
               size: Literal["A4", "A5"], heading: Optional[str] = None, note: Optional[str] = None,
               instruction: Optional[str] = None, dpi: int = 150,
               renderer: Literal["auto", "pillow", "pdftoppm"] = "auto") -> bytes:
    """The poster as a PNG (A4 at 150 dpi: 1240 x 1754 pixels), same layout as ``poster_pdf``.

    ``renderer="auto"``: Pillow when it has raqm (Thai marks placed by HarfBuzz), else the PDF
    rasterised by ``pdftoppm`` when poppler is installed, else Pillow's basic layout (marks may
    collide there; the PDF is still right).
    """
    if not 36 <= dpi <= 600:
        raise ValueError("ความละเอียดต้องอยู่ระหว่าง 36 ถึง 600 dpi")
    spec = _spec(org_name=org_name, instrument=instrument, url=url, size=size, heading=heading, note=note,
                 instruction=instruction)
    if renderer == "auto":
        renderer = "pillow" if raqm_available() or shutil.which("pdftoppm") is None else "pdftoppm"
    if renderer == "pdftoppm":
        pdf = poster_pdf(org_name=org_name, instrument=instrument, url=url, size=size, heading=heading, note=note,
                         instruction=instruction)
        return _png_pdftoppm(pdf, dpi)
    if renderer != "pillow":
        raise ValueError(f"unknown renderer {renderer!r}")
    return _png_pillow(spec, dpi)
