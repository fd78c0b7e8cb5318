"""The meeting pack: every meeting slide on its own A4 landscape page, as one PDF.

Large Thai type with the font embedded and shaped by HarfBuzz (``pdf_fonts``). The charts are
drawn here with fpdf2 (rectangles and shaped labels) from the slides' ``BarChart`` data rather
than exported from plotly: plotly's static export (kaleido) needs a Chromium on the server at
run time and took about 3 s a chart here, where these take milliseconds and need nothing but the
font. ``chart_png`` gives one chart as a PNG: its own small PDF page rasterised by PDFium.
No streamlit here.
"""

from __future__ import annotations

import unicodedata
from typing import Optional

from .. import thai
from ..meeting import BarChart, BigNumber, MeetingDeck, Slide, SlideRow
from ..pdf_fonts import PT_MM, TextMeasure, fit_text, pdf_to_png, pdftoppm_available, thai_fpdf
from ..texts import t

PAGE = (297.0, 210.0)  # A4 landscape, mm
CHART_PAGE = (254.0, 143.0)  # one chart alone (16:9), for the PNG
MARGIN = 14.0
LINE = 1.4  # line height in em

BLUE = (22, 64, 122)
DARK = (25, 25, 25)
GRAY = (90, 90, 90)
LIGHT = (225, 225, 225)
RED = (198, 40, 40)
TARGET = (239, 108, 0)
BOX = (243, 246, 250)

__all__ = ["meeting_pdf", "chart_pdf", "chart_png", "pack_filename", "chart_filename", "png_available"]


def _rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def pack_filename(deck: MeetingDeck) -> str:
    """ASCII download name with Buddhist-era dates: ``meeting_2566_2566-03-31.pdf`` (nothing typed by a user in it)."""
    return f"meeting_{int(deck.fiscal_year)}_{thai.file_date(deck.as_of)}.pdf"


def chart_filename(deck: MeetingDeck, chart: BarChart) -> str:
    key = "".join(c for c in chart.key if c.isascii() and (c.isalnum() or c == "_")) or "chart"
    return f"meeting_{key}_{thai.file_date(deck.as_of)}.png"


def png_available() -> bool:
    return pdftoppm_available()


class _Painter:
    """Text and charts on an fpdf2 page, positioned by baselines in mm."""

    def __init__(self, pdf, measure: TextMeasure):
        self.pdf = pdf
        self.measure = measure

    def text(self, x: float, baseline: float, w: float, text: str, *, size: float, bold: bool = False,
             color=DARK, align: str = "L") -> None:
        em = size * PT_MM
        self.pdf.set_font("thai", "B" if bold else "", size)
        self.pdf.set_text_color(*color)
        # fpdf2 puts a cell's baseline at y + h/2 + 0.3 * font size; with h = em: y + 0.8 em
        self.pdf.set_xy(x, baseline - 0.8 * em)
        self.pdf.cell(w, em, text, align=align)

    def lines(self, x: float, top: float, w: float, text: str, *, size: float, bold: bool = False, color=DARK,
              max_lines: int = 2, min_size: Optional[float] = None, align: str = "L") -> float:
        """Wrapped (and if need be shrunk) text from ``top``; returns the height used."""
        lines, pt = fit_text(text, width=w, size=size, min_size=min_size or size * 0.75, max_lines=max_lines,
                             bold=bold, measure=self.measure)
        if len(lines) > max_lines:  # still too long at the smallest size: cut the last line
            lines = lines[:max_lines]
            lines[-1] = self._ellipsis(lines[-1], w, pt, bold)
        em = pt * PT_MM
        for i, line in enumerate(lines):
            self.text(x, top + em * (1.0 + i * LINE), w, line, size=pt, bold=bold, color=color, align=align)
        return em * LINE * len(lines)

    def _ellipsis(self, line: str, w: float, size: float, bold: bool) -> str:
        while line and self.measure(line + "…", size, bold) > w:
            line = line[:-1]
            while line and _is_mark(line[-1]):  # never leave a base letter without its marks' room
                line = line[:-1]
        return line + "…"

    # --- slide parts ------------------------------------------------------------------------

    def numbers(self, x: float, top: float, w: float, numbers: list[BigNumber]) -> float:
        if not numbers:
            return 0.0
        per_row = len(numbers) if len(numbers) <= 4 else 3
        gap = 5.0
        box_w = (w - gap * (per_row - 1)) / per_row
        box_h = 31.0
        y = top
        for i, n in enumerate(numbers):
            col = i % per_row
            if i and col == 0:
                y += box_h + gap
            bx = x + col * (box_w + gap)
            self.pdf.set_fill_color(*BOX)
            self.pdf.rect(bx, y, box_w, box_h, style="F", round_corners=True, corner_radius=2)
            if n.alert:
                self.pdf.set_fill_color(*RED)
                self.pdf.rect(bx, y, 1.6, box_h, style="F")
            inner = box_w - 8
            self.lines(bx + 4, y + 1.5, inner, n.label, size=14, color=GRAY, max_lines=1, min_size=10)
            value_pt = fit_text(n.value, width=inner, size=30, min_size=18, max_lines=1, bold=True,
                                measure=self.measure)[1]
            self.text(bx + 4, y + 20.5, inner, n.value, size=value_pt, bold=True, color=RED if n.alert else DARK)
            if n.note:
                self.lines(bx + 4, y + 22.0, inner, n.note, size=12, color=RED if n.alert else GRAY, max_lines=1,
                           min_size=9)
        return y + box_h - top

    def rows(self, x: float, top: float, w: float, rows: list[SlideRow], more: str) -> float:
        y = top
        for r in rows:
            y += self.lines(x, y, w, r.text, size=19, bold=True, color=DARK, max_lines=2, min_size=15)
            if r.detail:
                y += self.lines(x, y, w, r.detail, size=15, color=RED if r.alert else GRAY, max_lines=1, min_size=11)
            y += 2.5
        if more:
            y += self.lines(x, y, w, more, size=14, color=GRAY, max_lines=1)
        return y - top

    def chart(self, chart: BarChart, x: float, top: float, w: float, h: float) -> None:
        pdf = self.pdf
        y = top + self.lines(x, top, w, chart.title, size=16, bold=True, color=BLUE, max_lines=1, min_size=11)
        # legend
        items = [(s.label, _rgb(s.color), "box") for s in chart.series] if len(chart.series) > 1 else []
        if chart.target_label and any(r.target for r in chart.rows):
            items.append((chart.target_label, TARGET, "tick"))
        if items:
            lx = x
            for label, color, kind in items:
                if kind == "box":
                    pdf.set_fill_color(*color)
                    pdf.rect(lx, y + 1.6, 4, 4, style="F")
                else:
                    pdf.set_draw_color(*color)
                    pdf.set_line_width(0.9)
                    pdf.line(lx + 2, y + 0.8, lx + 2, y + 6.4)
                self.text(lx + 5.5, y + 5.2, 60, label, size=12, color=GRAY)
                lx += 5.5 + self.measure(label, 12, False) + 6
            y += 8.5
        if chart.reference is not None:
            y += 6.0  # room for the reference line's label above the bars
        n = max(len(chart.rows), 1)
        plot_h = top + h - y - (6.0 if chart.scale_max is not None else 1.0)
        row_h = min(15.0, plot_h / n)
        size = max(9.0, min(16.0, row_h / PT_MM / 1.9))
        label_w = min(0.4 * w, max(self.measure(r.label, size, False) for r in chart.rows) + 3) if chart.rows else 0
        text_w = min(0.3 * w, max([self.measure(r.text, size, True) for r in chart.rows] + [0]) + 3)
        bx, bw = x + label_w, max(w - label_w - text_w, 10.0)
        axis = chart.axis_max or 1.0

        def xpos(v: float) -> float:
            return bx + min(max(v, 0.0), axis) / axis * bw

        if chart.scale_max is not None:  # a value axis with gridlines (scores 0-100)
            pdf.set_line_width(0.2)
            for tick in range(0, int(axis) + 1, 20):
                pdf.set_draw_color(*LIGHT)
                pdf.line(xpos(tick), y, xpos(tick), y + row_h * n)
                self.text(xpos(tick) - 10, y + row_h * n + 4.5, 20, str(tick), size=10, color=GRAY, align="C")
        for i, r in enumerate(chart.rows):
            ry = y + i * row_h
            bar_h = row_h * 0.62
            bar_y = ry + (row_h - bar_h) / 2
            mid = ry + row_h / 2 + 0.35 * size * PT_MM  # a baseline that centres the text on the bar
            label = r.label
            if self.measure(label, size, False) > label_w - 3:
                label = self._ellipsis(label, label_w - 3, size, False)
            self.text(x, mid, label_w - 3, label, size=size, color=DARK, align="R")
            left = 0.0
            for value, s in zip(r.values, chart.series):
                if value <= 0:
                    continue
                color = RED if (r.alert and len(chart.series) == 1 and chart.reference is not None) else _rgb(s.color)
                pdf.set_fill_color(*color)
                pdf.rect(xpos(left), bar_y, xpos(left + value) - xpos(left), bar_h, style="F")
                if len(chart.series) > 1 and xpos(left + value) - xpos(left) > self.measure(f"{value:g}", size, True) + 2:
                    self.text(xpos(left), mid, xpos(left + value) - xpos(left), f"{value:g}", size=size, bold=True,
                              color=(255, 255, 255), align="C")
                left += value
            end = xpos(left)
            if r.target:
                pdf.set_draw_color(*TARGET)
                pdf.set_line_width(1.0)
                pdf.line(xpos(r.target), ry + row_h * 0.08, xpos(r.target), ry + row_h * 0.92)
                end = max(end, xpos(r.target))
            if r.text:
                self.text(end + 1.5, mid, max(x + w - end - 1.5, 5), r.text, size=size, bold=True,
                          color=RED if r.alert else DARK)
        pdf.set_draw_color(*GRAY)
        pdf.set_line_width(0.3)
        pdf.line(bx, y, bx, y + row_h * n)
        if chart.reference is not None:
            value, label = chart.reference
            pdf.set_draw_color(0, 0, 0)
            pdf.set_line_width(0.6)
            pdf.line(xpos(value), y - 1, xpos(value), y + row_h * n)
            self.text(xpos(value) - 40, y - 2.0, 80, label, size=12, bold=True, color=DARK, align="C")


def _is_mark(ch: str) -> bool:
    """A Thai vowel or tone mark drawn above or below its letter (never left alone at a cut)."""
    return unicodedata.category(ch) == "Mn"


def _slide_page(p: _Painter, deck: MeetingDeck, slide: Slide, number: int, total: int) -> None:
    pdf = p.pdf
    pdf.add_page()
    W, H = PAGE
    x, w = MARGIN, W - 2 * MARGIN
    counter = t("meeting_page", n=number, total=total)
    counter_w = p.measure(counter, 14, False) + 2
    p.text(W - MARGIN - counter_w, MARGIN + 6, counter_w, counter, size=14, color=GRAY, align="R")
    y = MARGIN - 2 + p.lines(x, MARGIN - 2, w - counter_w - 4, slide.title, size=30, bold=True, color=BLUE,
                             max_lines=1, min_size=20)
    y += p.lines(x, y - 1, w, deck.subtitle, size=14, color=GRAY, max_lines=1, min_size=10)
    pdf.set_fill_color(*BLUE)
    pdf.rect(x, y + 1, 40, 1.2, style="F")
    y += 6
    bottom = H - MARGIN
    if slide.note:
        note_h = 11 * PT_MM * LINE
        p.lines(x, bottom - note_h, w, slide.note, size=11, color=GRAY, max_lines=1, min_size=8)
        bottom -= note_h + 2
    y += p.numbers(x, y, w, slide.numbers) + 6
    if slide.rows or slide.more_text:
        y += p.rows(x, y, w, slide.rows, slide.more_text) + 3
    if slide.charts:
        gap = 8.0
        cw = (w - gap * (len(slide.charts) - 1)) / len(slide.charts)
        for i, chart in enumerate(slide.charts):
            p.chart(chart, x + i * (cw + gap), y, cw, max(bottom - y, 30))
    elif not slide.rows and slide.empty_text:
        p.lines(x, y + 4, w, slide.empty_text, size=20, color=GRAY, max_lines=2)


def meeting_pdf(deck: MeetingDeck) -> bytes:
    """The whole pack: one A4 landscape page per slide, in the deck's order."""
    pdf, font = thai_fpdf(orientation="landscape", format="A4")
    pdf.set_title(f"{t('meeting_pack_title')} · {deck.subtitle}")
    pdf.set_author(deck.organization)
    painter = _Painter(pdf, TextMeasure(font))
    for i, slide in enumerate(deck.slides, start=1):
        _slide_page(painter, deck, slide, i, len(deck.slides))
    return bytes(pdf.output())


def chart_pdf(deck: MeetingDeck, chart: BarChart) -> bytes:
    """One chart alone on a 16:9 page, with the organisation and as-of date under it."""
    W, H = CHART_PAGE
    pdf, font = thai_fpdf(orientation="portrait", format=CHART_PAGE)  # (width, height) as given
    pdf.set_title(chart.title)
    pdf.set_author(deck.organization)
    pdf.add_page()
    p = _Painter(pdf, TextMeasure(font))
    note_h = 12 * PT_MM * LINE
    p.lines(8, H - 6 - note_h, W - 16, deck.subtitle, size=12, color=GRAY, max_lines=1, min_size=8)
    p.chart(chart, 8, 6, W - 16, H - 14 - note_h)
    return bytes(pdf.output())


def chart_png(deck: MeetingDeck, chart: BarChart, *, dpi: int = 150) -> bytes:
    """The chart as a PNG (1500 x 845 pixels at 150 dpi)."""
    return pdf_to_png(chart_pdf(deck, chart), dpi=dpi)

