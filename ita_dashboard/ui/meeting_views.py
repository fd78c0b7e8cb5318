"""Meeting mode on screen: pick the month once, then one slide at a time in large type.

Session state: ``meeting`` holds the running presentation (user, organisation, fiscal year,
the as-of date fixed at the start, slide index); without it the start screen shows. The page
CSS is a fixed string; every user text (organisation, measure and activity titles) goes through
``textsafe.md`` into markdown, never into HTML.
"""

from __future__ import annotations

from typing import Any, Optional

import streamlit as st

from .. import meeting
from ..reports import meeting_pack
from . import common
from ..texts import t
from ..textsafe import md

STATE_KEY = "meeting"

# Large type for a projector (1280x720) and no sidebar while presenting (navigation comes back with
# "change month / restart"). A slide must fit the screen without scrolling: tight gaps, one line per
# list row, key numbers large (>= 40 px; the paragraph rule must not reach into a metric).
# Fixed text only: never format anything into it.
PRESENTATION_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stHeader"] {
  display: none !important;
}
[data-testid="stMainBlockContainer"] { padding: 0.6rem 2.5rem 0.4rem 2.5rem; max-width: 100%; }
[data-testid="stMain"] [data-testid="stVerticalBlock"] { gap: 0.55rem; }
[data-testid="stMain"] h1 { font-size: 2.3rem; line-height: 1.3; padding: 0 0 0.25rem 0; }
[data-testid="stMain"] [data-testid="stMarkdown"] p { font-size: 1.45rem; line-height: 1.5; }
[data-testid="stMain"] .st-key-meeting_rows [data-testid="stMarkdown"] p {
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; margin: 0;
}
[data-testid="stMain"] [data-testid="stCaptionContainer"] p { font-size: 1.1rem; }
[data-testid="stMetric"] { background: #f3f6fa; border-radius: 0.6rem; padding: 0.3rem 0.9rem; }
[data-testid="stMetricLabel"] { height: auto; min-height: 0; }
[data-testid="stMetricLabel"] p { font-size: 1.15rem !important; line-height: 1.35; white-space: normal; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] > div,
[data-testid="stMetricValue"] p { font-size: 2.9rem !important; line-height: 1.2 !important; font-weight: 600; }
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] > div, [data-testid="stMetricDelta"] p {
  font-size: 1.15rem !important;
}
[data-testid="stMain"] [data-testid="stAlertContainer"] p { font-size: 1.4rem; }
.stButton button p, .stDownloadButton button p, [data-testid="stPopover"] button p { font-size: 1.15rem; }
</style>"""

ROW_TITLE_CHARS = 52  # a list row's title is cut here, so its date and state stay on the line

# The room a slide's charts may take below its title, numbers and rows, on a 1280x720 screen.
CHART_HEIGHT = {"overall": 300, "measures": 400, "surveys": 420}


def show(ctx: common.PageContext) -> None:
    state = _state(ctx)
    if state is None:
        start_screen(ctx)
    else:
        presentation(state)


def _state(ctx: common.PageContext) -> Optional[dict[str, Any]]:
    """The running presentation, if it belongs to this user, organisation and year."""
    state = st.session_state.get(STATE_KEY)
    if not state:
        return None
    if (state.get("user_id"), state.get("org_id"), state.get("fiscal_year")) != (ctx.user.id, ctx.org_id,
                                                                                 ctx.fiscal_year):
        st.session_state.pop(STATE_KEY, None)
        return None
    return state


def start_screen(ctx: common.PageContext) -> None:
    st.title(f"{t('nav_meeting')} · {md(ctx.org.name)}")
    st.write(t("meeting_intro"))
    month_end = common.as_of_month_picker(ctx.fiscal_year, key="meeting_month")
    if st.button(t("meeting_start"), type="primary", key="meeting_start", icon=":material/slideshow:"):
        st.session_state[STATE_KEY] = {
            "user_id": ctx.user.id, "org_id": ctx.org_id, "fiscal_year": ctx.fiscal_year,
            "as_of": common.effective_date(month_end), "slide": 0,
        }
        st.rerun()


def _go(step: int, total: int) -> None:
    state = st.session_state[STATE_KEY]
    state["slide"] = min(max(state["slide"] + step, 0), total - 1)


def _restart() -> None:
    st.session_state.pop(STATE_KEY, None)


def presentation(state: dict[str, Any]) -> None:
    st.html(PRESENTATION_CSS)
    with common.session() as s:
        deck = meeting.build_deck(s, organization_id=state["org_id"], fiscal_year=state["fiscal_year"],
                                  as_of=state["as_of"])
    total = len(deck.slides)
    index = min(max(int(state.get("slide", 0)), 0), total - 1)
    slide = deck.slides[index]

    head, prev, counter, nxt, menu = st.columns([5, 1.4, 1.0, 1.4, 1.6], vertical_alignment="center")
    head.caption(md(deck.subtitle))
    prev.button(t("meeting_prev"), key="meeting_prev", icon=":material/arrow_back:", disabled=index == 0,
                on_click=_go, args=(-1, total), width="stretch")
    counter.markdown(f"**{t('meeting_page', n=index + 1, total=total)}**")
    nxt.button(t("meeting_next"), key="meeting_next", icon=":material/arrow_forward:", disabled=index == total - 1,
               on_click=_go, args=(1, total), width="stretch", type="primary")
    with menu.popover(t("meeting_menu"), icon=":material/more_horiz:", width="stretch"):
        # downloads and restart live here: on the slide they would push the chart off the screen
        st.download_button(t("meeting_download_pdf"), data=lambda: meeting_pack.meeting_pdf(deck),
                           file_name=meeting_pack.pack_filename(deck), mime="application/pdf", key="meeting_pdf",
                           icon=":material/picture_as_pdf:")
        if meeting_pack.png_available():
            for i, chart in enumerate(slide.charts):
                st.download_button(t("meeting_download_png_of", title=chart.title), data=_png_callback(deck, chart),
                                   file_name=meeting_pack.chart_filename(deck, chart), mime="image/png",
                                   key=f"meeting_png_{slide.key}_{i}", icon=":material/image:")
        st.button(t("meeting_restart"), key="meeting_restart", on_click=_restart, icon=":material/restart_alt:")

    st.title(md(slide.title))
    _numbers(slide.numbers)
    _rows(slide)
    _charts(slide)
    if slide.note:
        st.caption(md(slide.note))


def _numbers(numbers: list[meeting.BigNumber]) -> None:
    """All of a slide's numbers on one row (six at most), so the chart keeps its room."""
    if not numbers:
        return
    for start in range(0, len(numbers), 6):
        row = numbers[start:start + 6]
        cols = st.columns(len(row))
        for col, n in zip(cols, row):
            col.metric(n.label, n.value, delta=n.note or None, delta_color="inverse" if n.alert else "off",
                       delta_arrow="off")


def _rows(slide: meeting.Slide) -> None:
    """One line per row (title, then its detail in grey or red); a title too long is cut with "…"."""
    if not slide.rows and not slide.more_text and not (not slide.charts and slide.empty_text):
        return
    with st.container(key="meeting_rows"):
        for r in slide.rows:
            title = r.text if len(r.text) <= ROW_TITLE_CHARS else r.text[:ROW_TITLE_CHARS].rstrip() + "…"
            text = f"**{md(title)}**"
            if r.detail:
                text += f" · :{'red' if r.alert else 'gray'}[{md(r.detail)}]"
            elif r.alert:
                text = f":red[{text}]"
            st.markdown(text)
        if slide.more_text:
            st.caption(md(slide.more_text))
        if not slide.rows and not slide.charts and slide.empty_text:
            st.info(md(slide.empty_text))


def _charts(slide: meeting.Slide) -> None:
    if not slide.charts:
        return
    height = CHART_HEIGHT.get(slide.key, 360)
    cols = st.columns(len(slide.figures)) if len(slide.figures) > 1 else [st.container()]
    for i, (col, fig) in enumerate(zip(cols, slide.figures)):
        fig.update_layout(height=height)
        with col:
            # theme=None: the figure's own fonts and colours (Streamlit's theme shrinks the type)
            st.plotly_chart(fig, width="stretch", key=f"meeting_fig_{slide.key}_{i}", theme=None,
                            config={"displaylogo": False, "displayModeBar": False})


def _png_callback(deck: meeting.MeetingDeck, chart: meeting.BarChart):
    """Deferred: the PNG is drawn only when the button is clicked."""
    return lambda: meeting_pack.chart_png(deck, chart)
