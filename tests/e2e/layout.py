"""Layout checks run in the browser: labels of a plotly chart that are drawn over another label,
a bar or a line; a page that scrolls; a table that scrolls sideways."""

from __future__ import annotations

from playwright.sync_api import Locator, Page

# Every label plotly drew (data labels, annotations, legend, axis titles and ticks, the title),
# every bar and every shape (the passing-bar line); which boxes overlap, with a pixel of slack for
# glyph boxes that touch. A bar's own inside text (.bartext) is meant to be on its bar: skipped.
_OVERLAPS_JS = """(el) => {
  const slack = 1.5;
  const box = (e) => { const r = e.getBoundingClientRect(); return {l: r.left, r: r.right, t: r.top, b: r.bottom}; };
  const name = (e) => (e.textContent || e.getAttribute('class') || e.tagName).trim().slice(0, 40);
  const visible = (b) => b.r - b.l > 0.5 && b.b - b.t > 0.5;
  const labels = [...el.querySelectorAll(
      '.textpoint text, .annotation-text, .legendtext, .g-gtitle text, .g-xtitle text, .g-ytitle text, '
      + '.xtick text, .ytick text')].filter(e => e.textContent.trim()).map(e => ({what: name(e), b: box(e)}))
      .filter(x => visible(x.b));
  // shapes that are lines (no fill); a shaded region such as the collection window holds its label
  const line = (e) => !e.closest('.shapelayer') || ['none', 'transparent'].includes(e.style.fill)
      || parseFloat(e.style.fillOpacity || '1') === 0;
  const solids = [...el.querySelectorAll('.bars .point path, .shapelayer path')].filter(line)
      .map(e => ({what: 'bar/line ' + (e.closest('.shapelayer') ? 'line' : 'bar'), b: box(e)})).filter(x => visible(x.b));
  const hit = (a, b) => Math.min(a.r, b.r) - Math.max(a.l, b.l) > slack && Math.min(a.b, b.b) - Math.max(a.t, b.t) > slack;
  const out = [];
  for (let i = 0; i < labels.length; i++) {
    for (let j = i + 1; j < labels.length; j++) if (hit(labels[i].b, labels[j].b)) out.push([labels[i].what, labels[j].what]);
    for (const s of solids) if (hit(labels[i].b, s.b)) out.push([labels[i].what, s.what]);
  }
  return out;
}"""


def chart_overlaps(scope: Locator | Page) -> list[list[str]]:
    """[label, what it is drawn over] for every plotly chart in ``scope``; [] when nothing collides."""
    out: list[list[str]] = []
    for plot in scope.locator(".js-plotly-plot").all():
        if plot.is_visible():
            out += plot.evaluate(_OVERLAPS_JS)
    return out


def main_scroll(page: Page) -> dict:
    """The main area's scroll height against the viewport's height."""
    return page.evaluate("""() => { const m = document.querySelector('[data-testid="stMain"]');
        return {scroll: m.scrollHeight, client: m.clientHeight, viewport: window.innerHeight,
                body: document.documentElement.scrollHeight}; }""")


def metric_font_sizes(scope: Locator) -> list[float]:
    """The computed font size (px) of the text in every st.metric value in ``scope``."""
    return scope.get_by_test_id("stMetricValue").evaluate_all(
        "els => els.map(e => { let t = e; while (t.firstElementChild) t = t.firstElementChild;"
        " return parseFloat(getComputedStyle(t).fontSize); })")


def sideways_scroll(frame: Locator) -> int:
    """How many pixels an st.dataframe would scroll sideways (0: every column is in view)."""
    return frame.locator(".dvn-scroller").first.evaluate("e => e.scrollWidth - e.clientWidth")
