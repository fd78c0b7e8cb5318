"""Plotly figure builders: service data in, ``go.Figure`` out. Thai labels, BE years.

Colours are never the only cue: bars carry text labels and the 85 line is labelled.
Every label from data (department, measure, organisation names) goes through ``textsafe.plot``:
Plotly reads a small HTML subset in labels (``<a href>`` makes a link), data never forms one.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional, Sequence

import plotly.graph_objects as go

from . import thai
from .textsafe import plot
from .texts import t

FONT = "Sarabun, 'TH Sarabun New', Loma, Garuda, 'Noto Sans Thai', sans-serif"
COLORS = {
    "done": "#2e7d32",
    "in_progress": "#1976d2",
    "not_started": "#9e9e9e",
    "overdue": "#c62828",
    "cancelled": "#6d4c41",
    "target": "#ef6c00",
    "bar": "#1565c0",
}


def _layout(fig: go.Figure, *, title: str = "", height: int = 380) -> go.Figure:
    fig.update_layout(
        title=title or None,
        font=dict(family=FONT, size=15),
        height=height,
        margin=dict(l=10, r=40, t=90 if title else 40, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
        title_y=0.98, title_yanchor="top",
        plot_bgcolor="white",
    )
    fig.update_xaxes(gridcolor="#eee")
    fig.update_yaxes(gridcolor="#eee")
    return fig


def _thai_date_ticks(fig: go.Figure, dates: Sequence[dt.date], *, axis: str = "x", max_ticks: int = 7) -> None:
    """Month ticks labelled with Thai abbreviated month and BE year (at most ``max_ticks``, level)."""
    if not dates:
        return
    first, last = min(dates), max(dates)
    ticks, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        ticks.append(dt.date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    step = max(1, -(-len(ticks) // max_ticks))
    ticks = ticks[::step]
    labels = [thai.format_month_th(d.year, d.month, abbr=True) for d in ticks]
    getattr(fig, f"update_{axis}axes")(tickvals=ticks, ticktext=labels, tickangle=0)


def measures_by_department(rows) -> go.Figure:
    """Stacked horizontal bars per department: done / in progress / not started; overdue in the label."""
    names = [plot(r.name) for r in rows]
    fig = go.Figure()
    for key in ("done", "in_progress", "not_started", "cancelled"):
        values = [getattr(r, key) for r in rows]
        if not any(values):
            continue
        fig.add_bar(y=names, x=values, name=t(f"status_{key}"), orientation="h", marker_color=COLORS[key],
                    text=[v or "" for v in values], textposition="inside", textangle=0)
    overdue_labels = [f"{t('status_overdue')} {r.overdue}" if r.overdue else "" for r in rows]
    top = max([r.total for r in rows] + [1])
    fig.add_scatter(y=names, x=[r.total + top * 0.02 for r in rows], mode="text", text=overdue_labels,
                    textposition="middle right", cliponaxis=False,
                    textfont=dict(color=COLORS["overdue"]), showlegend=False, hoverinfo="skip")
    fig.update_layout(barmode="stack")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title=t("count"), dtick=1, range=[0, max([r.total for r in rows] + [1]) * 1.35])
    return _layout(fig, title=t("by_department"), height=max(260, 60 + 42 * len(rows)))


def progress_by_period(points) -> go.Figure:
    """Cumulative planned (due) vs done at the end of each month."""
    x = [p.label for p in points]
    fig = go.Figure()
    fig.add_scatter(x=x, y=[p.planned for p in points], name=t("planned"), mode="lines+markers",
                    line=dict(color=COLORS["target"], dash="dash"))
    fig.add_scatter(x=x, y=[p.done for p in points], name=t("done_cum"), mode="lines+markers+text",
                    text=[p.done for p in points], textposition="top center", line=dict(color=COLORS["done"], width=3))
    fig.update_yaxes(title=t("count"), rangemode="tozero", dtick=1)
    return _layout(fig, title=t("by_month"))


TIMELINE_STATES = ("done", "in_progress", "not_started", "overdue", "cancelled")
_DAY_MS = 86_400_000


def timeline_state(s) -> str:
    """The colour key of a measure on the timeline: overdue wins over its stored status."""
    return "overdue" if s.overdue else s.status.value


def measures_timeline(states, *, today: dt.date, real_today: Optional[dt.date] = None) -> go.Figure:
    """One bar per measure from its start to its end (the whole end day), coloured by state, and a
    line at ``today`` (the as-of date) labelled "วันนี้" when it is today, else "ณ <date>".

    On a date axis a bar's length is a duration in milliseconds from its ``base`` (what
    plotly express's timeline does): a length in days would be a few milliseconds wide.
    """
    rows = [s for s in states if s.start and s.end]
    labels = _timeline_labels(rows)
    fig = go.Figure()
    for key in TIMELINE_STATES:
        group = [s for s in rows if timeline_state(s) == key]
        if not group:
            continue
        fig.add_bar(
            y=[labels[s.id] for s in group],
            x=[((s.end - s.start).days + 1) * _DAY_MS for s in group],
            base=[s.start.isoformat() for s in group],
            orientation="h", marker_color=COLORS[key], name=t(f"status_{key}"),
            text=[f"{t(f'status_{key}')} {s.percent}%" for s in group], textposition="auto",
            insidetextanchor="start", textangle=0, cliponaxis=False, textfont=dict(size=13),
            hovertext=[f"{plot(s.title)}<br>{thai.format_period_th(s.start, s.end)} · {t(f'status_{key}')} {s.percent}%"
                       for s in group],
            hoverinfo="text",
        )
    # the measures in their own order (number), not grouped by state
    fig.update_yaxes(categoryorder="array", categoryarray=[labels[s.id] for s in rows], autorange="reversed")
    fig.update_xaxes(type="date")
    real_today = real_today or dt.date.today()
    label = (f"{t('today')} {thai.format_date_th(today, abbr=True)}" if today == real_today
             else t("as_of_short", date=thai.format_date_th(today, abbr=True)))
    fig.add_shape(type="line", x0=today.isoformat(), x1=today.isoformat(), y0=0, y1=1, yref="paper",
                  line=dict(color="#000", dash="dot", width=2))
    fig.add_annotation(x=today.isoformat(), y=1.0, yref="paper", text=label, showarrow=False, yanchor="bottom",
                       bgcolor="white")
    dates = [s.start for s in rows] + [s.end for s in rows] + [today]
    _thai_date_ticks(fig, dates)
    fig = _layout(fig, title=t("timeline"), height=max(280, 110 + 36 * len(rows)))
    fig.update_layout(barmode="overlay", legend=dict(y=1.08), margin=dict(t=120))
    return fig


def _timeline_labels(rows) -> dict[int, str]:
    """One y label per measure: "3. <title>"; a number used twice (numbering per section) gets its section."""
    numbers = [s.number for s in rows]
    out = {}
    for s in rows:
        short = f"{s.title[:40]}{'…' if len(s.title) > 40 else ''}"
        prefix = f"{s.section_number}.{s.number}" if numbers.count(s.number) > 1 and s.section_number else f"{s.number}."
        label = plot(f"{prefix} {short}")  # user text: Plotly shows it, never reads it as HTML
        while label in out.values():  # still the same text: keep the rows apart
            label += "\u200b"
        out[s.id] = label
    return out


def survey_label(d) -> str:
    """"20/24 (ขาดอีก 4)", "30/24 ✓", "85/36 ⚠" (more than the eligible staff), "7" (no target)."""
    if not d.target:
        return f"{d.responses:,}" + (" ⚠" if d.over_eligible else "")
    text = f"{d.responses:,}/{d.target:,}"
    if d.over_eligible:
        return text + " ⚠"
    return text + (" ✓" if d.met else f" ({t('gap')} {d.gap:,})")


def text_width_px(text: str, size: float) -> float:
    """About how wide ``text`` is drawn at ``size`` px (Thai marks above/below take no width)."""
    import unicodedata

    return sum(0 if unicodedata.category(c) == "Mn" else 0.56 for c in text) * size


def survey_by_department(status, *, font_size: int = 15) -> go.Figure:
    """Responses per department drawn inside a lighter bar as long as its target (a bullet), and
    the count/gap written after the longer of the two, so no label crosses a bar or a target.

    Only the organisation's own departments: responses under an unmatched name are listed
    apart (``status.unmatched``), not drawn as a department. At or over the target is green."""
    rows = status.departments
    names = [plot(r.name) for r in rows]
    fig = go.Figure()
    if any(r.target for r in rows):
        fig.add_bar(y=names, x=[r.target or 0 for r in rows], orientation="h", name=t("target"),
                    marker=dict(color="#ffe0b2", line=dict(color=COLORS["target"], width=1.5)), width=0.8,
                    hovertemplate="%{y}: " + t("target") + " %{x:,}<extra></extra>")
    colours = [COLORS["target"] if r.over_eligible else COLORS["done"] if r.met else COLORS["bar"] for r in rows]
    fig.add_bar(y=names, x=[r.responses for r in rows], orientation="h", name=t("responses"), marker_color=colours,
                width=0.45, hovertemplate="%{y}: " + t("responses") + " %{x:,}<extra></extra>")
    top = max([r.responses for r in rows] + [r.target or 0 for r in rows] + [1])
    labels = [survey_label(r) for r in rows]
    fig.add_scatter(y=names, x=[max(r.responses, r.target or 0) + top * 0.02 for r in rows], mode="text",
                    text=labels, textposition="middle right", showlegend=False, hoverinfo="skip", cliponaxis=False,
                    textfont=dict(size=font_size))
    fig.update_layout(barmode="overlay")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title=t("responses"), range=[0, top * 1.04])
    title = f"{status.instrument.upper()}: {t('completion_by_dept')}"
    fig = _layout(fig, title=title, height=max(260, 90 + 44 * len(rows)))
    # the labels run past the longest bar into the right margin, which is made as wide as they are
    fig.update_layout(margin=dict(r=int(max(text_width_px(x, font_size) for x in labels or [""])) + 16))
    return fig


INSTRUMENT_COLORS = {"iit": "#1565c0", "eit": "#00838f"}


def surveys_by_department(statuses, *, font_size: int = 15) -> go.Figure:
    """IIT and EIT in one chart, two rows per department (IIT above EIT), each a bullet: the
    responses inside a lighter bar as long as the target. Every label starts with its instrument
    and stands after the longer of bar and target, in a right margin as wide as the labels.
    Only the organisation's own departments; for the meeting screen (one full-width chart)."""
    first = statuses[0]
    names = [d.name for d in first.departments]
    n = len(names)
    fig = go.Figure()
    top = max([d.responses for s in statuses for d in s.departments]
              + [d.target or 0 for s in statuses for d in s.departments] + [1])
    offsets = {0: -0.2, 1: 0.2} if len(statuses) > 1 else {0: 0.0}
    ends = {}  # department -> the end of its longest bar, over every instrument
    for status in statuses:
        for d in status.departments:
            ends[d.name] = max(ends.get(d.name, 0), d.responses, d.target or 0)
    labels: dict[str, list[str]] = {name: [] for name in names}
    target_shown = False
    for k, status in enumerate(statuses):
        rows = {d.name: d for d in status.departments}
        ys = [i + offsets[k] for i in range(n)]
        deps = [rows.get(name) for name in names]
        targets = [(d.target or 0) if d else 0 for d in deps]
        if any(targets):
            fig.add_bar(y=ys, x=targets, orientation="h", width=0.36, name=t("target"), legendgroup="target",
                        showlegend=not target_shown, marker=dict(color="#ffe0b2", line=dict(color=COLORS["target"], width=1.5)),
                        hovertemplate=f"{status.instrument.upper()} " + t("target") + " %{x:,}<extra></extra>")
            target_shown = True
        colour = INSTRUMENT_COLORS.get(status.instrument, COLORS["bar"])
        fig.add_bar(y=ys, x=[d.responses if d else 0 for d in deps], orientation="h", width=0.2,
                    name=f"{status.instrument.upper()} {t('responses')}",
                    marker_color=[COLORS["target"] if d and d.over_eligible else COLORS["done"] if d and d.met else colour
                                  for d in deps],
                    hovertemplate=f"{status.instrument.upper()} " + t("responses") + " %{x:,}<extra></extra>")
        for name, d in zip(names, deps):
            if d:
                labels[name].append(f"{status.instrument.upper()} {survey_label(d)}")
    # one label per department, between its two rows and past the longer of its bars
    texts = [" · ".join(labels[name]) for name in names]
    fig.add_scatter(y=list(range(n)), x=[ends.get(name, 0) + top * 0.015 for name in names], mode="text",
                    text=texts, textposition="middle right", showlegend=False, hoverinfo="skip", cliponaxis=False,
                    textfont=dict(size=font_size))
    labels_all = texts
    fig.update_layout(barmode="overlay")
    fig.update_yaxes(tickvals=list(range(n)), ticktext=[plot(x) for x in names], range=[n - 0.5, -0.5], showgrid=False)
    fig.update_xaxes(title=t("responses"), range=[0, top * 1.03])
    fig = _layout(fig, height=max(260, 110 + 62 * n))
    fig.update_layout(margin=dict(r=int(max([text_width_px(x, font_size) for x in labels_all] + [0])) + 16, t=40))
    return fig


def cumulative_responses(by_day, *, target: Optional[int], window: tuple[dt.date, dt.date], today: dt.date,
                         instrument: str) -> go.Figure:
    """Responses so far against the target, over the collection window. The y axis has room
    above the target line, so the window's label (top of the plot) and the target's label (just
    above its line, left) never meet; the as-of line carries no label of its own."""
    days = [d for d, _ in by_day]
    total, ys = 0, []
    for _, n in by_day:
        total += n
        ys.append(total)
    fig = go.Figure()
    fig.add_scatter(x=days, y=ys, mode="lines", name=t("responses"), line=dict(color=COLORS["bar"], width=3), line_shape="hv",
                    customdata=[thai.format_date_th(d, abbr=True) for d in days],
                    hovertemplate="%{customdata}: %{y:,}<extra></extra>")  # plotly's own hover date is CE
    top = max([total, target or 0, 1])
    if target:
        fig.add_hline(y=target, line_color=COLORS["target"], line_dash="dash",
                      annotation_text=f"{t('target')} {target:,}", annotation_position="top left",
                      annotation_yshift=4)
    fig.add_vrect(x0=window[0], x1=window[1], fillcolor="#fff3e0", opacity=0.5, line_width=0,
                  annotation_text=t("collection_window"), annotation_position="top left")
    fig.add_vline(x=today.isoformat(), line_color="#000", line_dash="dot")
    _thai_date_ticks(fig, days + list(window) + [today])
    span = days + list(window) + [today]
    pad = dt.timedelta(days=10)  # the first month's label clear of the y axis's "0"
    fig.update_xaxes(range=[(min(span) - pad).isoformat(), (max(span) + pad).isoformat()])
    fig.update_yaxes(title=t("responses"), range=[0, top * 1.3])
    return _layout(fig, title=f"{instrument.upper()}: {t('cumulative')}")


def responses_per_period(by_day, *, instrument: str, weekly: bool = True) -> go.Figure:
    buckets: dict[dt.date, int] = {}
    for d, n in by_day:
        key = d - dt.timedelta(days=d.weekday()) if weekly else d
        buckets[key] = buckets.get(key, 0) + n
    xs = sorted(buckets)
    when = [t("week_of", date=thai.format_date_th(x, abbr=True)) if weekly else thai.format_date_th(x, abbr=True) for x in xs]
    fig = go.Figure(go.Bar(x=xs, y=[buckets[x] for x in xs], marker_color=COLORS["bar"], name=t("responses"),
                           customdata=when, hovertemplate="%{customdata}: %{y:,}<extra></extra>"))
    _thai_date_ticks(fig, xs)
    if xs:  # the first month's label clear of the y axis's "0"
        fig.update_xaxes(range=[(xs[0] - dt.timedelta(days=10)).isoformat(), (xs[-1] + dt.timedelta(days=10)).isoformat()])
    fig.update_yaxes(title=t("responses"))
    return _layout(fig, title=f"{instrument.upper()}: " + (t("per_week") if weekly else t("per_day")))


LABEL_X = 103  # score charts: every bar's label starts here, right of 100, so no label crosses the bar line


def score_bullets(scores: dict[str, Optional[float]], *, bar: float) -> go.Figure:
    """One bullet per instrument (and the total) against the passing bar, so a low EIT shows.

    Each label says in words whether the score passes, so colour is not the only cue. The labels
    stand in a column right of 100 and the passing bar's label above the plot: neither can
    fall on a bar, on the line or on each other."""
    keys = list(scores)
    names = [plot(k) for k in keys]  # the roll-up passes agency names: user text
    fig = go.Figure()
    values = [scores[k] if scores[k] is not None else 0 for k in keys]
    labels = [
        t("no_data") if scores[k] is None
        else f"{scores[k]:.2f} · " + (t("score_passes") if scores[k] >= bar else t("score_below"))
        for k in keys
    ]
    colors = [COLORS["done"] if (scores[k] or 0) >= bar else COLORS["overdue"] for k in keys]
    fig.add_bar(y=names, x=values, orientation="h", marker_color=colors, name=t("estimated_score"),
                hovertemplate="%{y}: %{x:.2f}<extra></extra>")
    fig.add_scatter(y=names, x=[LABEL_X] * len(names), mode="text", text=labels, textposition="middle right",
                    showlegend=False, hoverinfo="skip", cliponaxis=False)
    _passing_line(fig, bar)
    fig.update_xaxes(range=[0, 150], tickvals=[0, 20, 40, 60, 80, 100], title=t("estimated_score"))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(showlegend=False)
    fig = _layout(fig, height=130 + 50 * len(names))
    fig.update_layout(margin=dict(t=50))
    return fig


def _passing_line(fig: go.Figure, bar: float) -> None:
    """The passing bar: a line over the bars, its label above the plot area (paper y > 1)."""
    fig.add_shape(type="line", x0=bar, x1=bar, y0=0, y1=1, yref="paper", line=dict(color="#000", width=2))
    fig.add_annotation(x=bar, y=1.0, yref="paper", yanchor="bottom", text=t("passing_bar", bar=f"{bar:g}"),
                       showarrow=False)


def indicator_scores(status, *, framework, bar: float) -> go.Figure:
    inds = framework.instruments[status.instrument].indicators
    names = [plot(f"{i.number}. {i.name_th}") for i in inds]
    vals = [status.indicator_scores.get(i.number) for i in inds]
    fig = go.Figure()
    fig.add_bar(y=names, x=[v or 0 for v in vals], orientation="h",
                marker_color=[COLORS["done"] if (v or 0) >= bar else COLORS["overdue"] for v in vals],
                hovertemplate="%{y}: %{x:.2f}<extra></extra>")
    fig.add_scatter(y=names, x=[LABEL_X] * len(names), mode="text", showlegend=False, hoverinfo="skip",
                    text=[f"{v:.2f}" if v is not None else t("no_data") for v in vals], textposition="middle right",
                    cliponaxis=False)
    _passing_line(fig, bar)
    fig.update_xaxes(range=[0, 125], tickvals=[0, 20, 40, 60, 80, 100])
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(showlegend=False)
    return _layout(fig, title=f"{status.instrument.upper()}: {t('estimated_score')} ({t('indicator')})",
                   height=110 + 48 * len(names))
