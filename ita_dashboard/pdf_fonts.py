"""Thai text in PDFs and images: the font, line breaking, and rasterising a PDF page.

Shared by the QR posters (``posters.py``) and the meeting pack (``reports/meeting_pack.py``).

Thai needs a shaping engine to put vowel and tone marks in the right place (stacked marks such
as ที่, marks over tall letters such as ป้): PDFs use fpdf2's text shaping (uharfbuzz), images
Pillow's raqm layout, or else the PDF rasterised by PDFium (pypdfium2).

The font: TH Sarabun New or Sarabun when the machine has one, else the Laksaman files bundled
in ``assets/fonts`` (TLWG's version of TH Sarabun New; see the README there), else a TLWG
system font. No streamlit here.
"""

from __future__ import annotations

import io
import os
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

if TYPE_CHECKING:
    from fpdf import FPDF

ZWSP = "\u200b"  # in texts: a preferred line break between Thai words (never drawn)
PT_MM = 25.4 / 72  # millimetres per point



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

# --- measuring and breaking lines ----------------------------------------------------------


class TextMeasure:
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
NO_LINE_START = set("\u0e30\u0e31\u0e32\u0e33\u0e45\u0e46") | {chr(c) for c in range(0x0E34, 0x0E3B)} | {
    chr(c) for c in range(0x0E47, 0x0E4F)}
NO_LINE_END = {chr(c) for c in range(0x0E40, 0x0E45)}


def _break_ok(word: str, i: int, *, url: bool) -> bool:
    if i <= 0 or i >= len(word):
        return False
    if word[i] in NO_LINE_START or word[i - 1] in NO_LINE_END or unicodedata.combining(word[i]):
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


def wrap_text(text: str, width: float, size: float, bold: bool, measure: TextMeasure, *, url: bool = False) -> list[str]:
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


def fit_text(text: str, *, width: float, size: float, min_size: float, max_lines: int, bold: bool,
         measure: TextMeasure, url: bool = False) -> tuple[list[str], float]:
    """Wrap at ``size``; shrink (down to ``min_size``) while more than ``max_lines`` lines are needed."""
    while True:
        lines = wrap_text(text, width, size, bold, measure, url=url)
        if len(lines) <= max_lines or size <= min_size:
            return lines, size
        size = max(min_size, size - 1)

# --- fpdf2 and rasterising ------------------------------------------------------------------


def thai_fpdf(*, orientation: str, format) -> tuple[FPDF, ThaiFont]:
    """An empty fpdf2 document in mm with the Thai font registered as family ``"thai"`` (regular
    and ``"B"``), embedded, and HarfBuzz shaping on when uharfbuzz is installed."""
    from fpdf import FPDF

    font = find_thai_font()
    pdf = FPDF(orientation=orientation, unit="mm", format=format)
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.c_margin = 0
    pdf.add_font("thai", "", str(font.regular))
    pdf.add_font("thai", "B", str(font.bold))
    if shaping_available():
        pdf.set_text_shaping(True)
    pdf.set_creator("ITA dashboard")
    pdf.set_lang("th")
    return pdf, font


def pdftoppm_available() -> bool:
    """Whether a PDF can be rasterised: always, through PDFium (pypdfium2, a wheel with no system
    dependency). The name stays from when this needed poppler's ``pdftoppm``."""
    return True


def pdf_to_png(pdf: bytes, *, dpi: int, page: int = 1) -> bytes:
    """One page of ``pdf`` as a PNG, rasterised by PDFium. The PDF carries its shaped Thai glyphs,
    so the picture is exactly the PDF, whatever fonts or layout engines the machine has."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        image = document[page - 1].render(scale=dpi / 72).to_pil()
    finally:
        document.close()
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()
