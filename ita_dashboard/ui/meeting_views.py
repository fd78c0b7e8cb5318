"""Meeting mode on screen: pick the month once, then one slide at a time in large type.

Session state: ``meeting`` holds the running presentation (user, organisation, fiscal year,
the as-of date fixed at the start, slide index); without it the start screen shows. The page
CSS is a fixed string; every user text (organisation, measure and activity titles) goes through
``widgets.md_escape`` into markdown, never into HTML.
"""

from __future__ import annotations

from typing import Any, Optional

import streamlit as st

from .. import meeting
from ..reports import meeting_pack
from . import common
from .strings import t
from .widgets import md_escape

STATE_KEY = "meeting"

# Large type for a projector and no sidebar while presenting (navigation comes back with
# "change month / restart"). Fixed text only: never format anything into it.
PRESENTATION_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stHeader"] {
  display: none !important;
}
[data-testid="stMainBlockContainer"] { padding-top: 1.2rem; padding-bottom: 2rem; max-width: 100%; }
[data-testid="stMain"] h1 { font-size: 2.6rem; line-height: 1.35; padding: 0.1rem 0 0.3rem 0; }
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p { font-size: 1.55rem; line-height: 1.6; }
[data-testid="stMain"] [data-testid="stCaptionContainer"] p { font-size: 1.2rem; }
[data-testid="stMetric"] { background: #f3f6fa; border-radius: 0.6rem; padding: 0.35rem 1rem; }
[data-testid="stMetricLabel"] { height: auto; min-height: 0; }
[data-testid="stMetricLabel"] p { font-size: 1.3rem !important; line-height: 1.5; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] > div { font-size: 2.6rem; line-height: 1.25; font-weight: 600; }
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] > div { font-size: 1.25rem; }
[data-testid="stMain"] [data-testid="stAlertContainer"] p { font-size: 1.5rem; }
.stButton button p, .stDownloadButton button p { font-size: 1.15rem; }
</style>"""


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
    st.title(f"{t('nav_meeting')} · {md_escape(ctx.org.name)}")
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

    head, prev, counter, nxt = st.columns([5, 1.6, 1.1, 1.6], vertical_alignment="center")
    head.caption(md_escape(deck.subtitle))
    prev.button(t("meeting_prev"), key="meeting_prev", icon=":material/arrow_back:", disabled=index == 0,
                on_click=_go, args=(-1, total), width="stretch")
    counter.markdown(f"**{t('meeting_page', n=index + 1, total=total)}**")
    nxt.button(t("meeting_next"), key="meeting_next", icon=":material/arrow_forward:", disabled=index == total - 1,
               on_click=_go, args=(1, total), width="stretch", type="primary")

    st.title(md_escape(slide.title))
    _numbers(slide.numbers)
    _rows(slide)
    _charts(deck, slide)
    if slide.note:
        st.caption(md_escape(slide.note))

    st.divider()
    left, right = st.columns(2)
    left.download_button(t("meeting_download_pdf"), data=lambda: meeting_pack.meeting_pdf(deck),
                         file_name=meeting_pack.pack_filename(deck), mime="application/pdf", key="meeting_pdf",
                         icon=":material/picture_as_pdf:")
    right.button(t("meeting_restart"), key="meeting_restart", on_click=_restart, icon=":material/restart_alt:")


def _numbers(numbers: list[meeting.BigNumber]) -> None:
    if not numbers:
        return
    per_row = len(numbers) if len(numbers) <= 4 else 3  # labels stay whole (a metric label never wraps)
    for start in range(0, len(numbers), per_row):
        cols = st.columns(per_row)
        for col, n in zip(cols, numbers[start:start + per_row]):
            col.metric(n.label, n.value, delta=n.note or None, delta_color="inverse" if n.alert else "off",
                       delta_arrow="off")


def _rows(slide: meeting.Slide) -> None:
    for r in slide.rows:
        detail = md_escape(r.detail)
        text = f"**{md_escape(r.text)}**"
        if r.detail:
            text += f"  \n:{'red' if r.alert else 'gray'}[{detail}]"
        elif r.alert:
            text = f":red[{text}]"
        st.markdown(text)
    if slide.more_text:
        st.caption(md_escape(slide.more_text))
    if not slide.rows and not slide.charts and slide.empty_text:
        st.info(md_escape(slide.empty_text))


def _charts(deck: meeting.MeetingDeck, slide: meeting.Slide) -> None:
    if not slide.charts:
        return
    cols = st.columns(len(slide.figures)) if len(slide.figures) > 1 else [st.container()]
    for i, (col, fig, chart) in enumerate(zip(cols, slide.figures, slide.charts)):
        with col:
            # theme=None: the figure's own fonts and colours (Streamlit's theme shrinks the type)
            st.plotly_chart(fig, width="stretch", key=f"meeting_fig_{slide.key}_{i}", theme=None,
                            config={"displaylogo": False})
            if meeting_pack.png_available():
                st.download_button(t("meeting_download_png"), data=_png_callback(deck, chart),
                                   file_name=meeting_pack.chart_filename(deck, chart), mime="image/png",
                                   key=f"meeting_png_{slide.key}_{i}", icon=":material/image:")


def _png_callback(deck: meeting.MeetingDeck, chart: meeting.BarChart):
    """Deferred: the PNG is drawn only when the button is clicked."""
    return lambda: meeting_pack.chart_png(deck, chart)
