"""Plotly figure builders: service data in, ``go.Figure`` out. Thai labels, BE years.

Colours are never the only cue: bars carry text labels and the 85 line is labelled.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Optional, Sequence

import plotly.graph_objects as go

from . import thai
from .ui.strings import t

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


def _thai_date_ticks(fig: go.Figure, dates: Sequence[dt.date], *, axis: str = "x") -> None:
    """Month ticks labelled with Thai abbreviated month and BE year."""
    if not dates:
        return
    first, last = min(dates), max(dates)
    ticks, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        ticks.append(dt.date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    step = max(1, len(ticks) // 12)
    ticks = ticks[::step]
    labels = [thai.format_month_th(d.year, d.month, abbr=True) for d in ticks]
    getattr(fig, f"update_{axis}axes")(tickvals=ticks, ticktext=labels)


def measures_by_department(rows) -> go.Figure:
    """Stacked horizontal bars per department: done / in progress / not started; overdue in the label."""
    names = [r.name for r in rows]
    fig = go.Figure()
    for key in ("done", "in_progress", "not_started", "cancelled"):
        values = [getattr(r, key) for r in rows]
        if not any(values):
            continue
        fig.add_bar(y=names, x=values, name=t(f"status_{key}"), orientation="h", marker_color=COLORS[key],
                    text=[v or "" for v in values], textposition="inside", textangle=0)
    overdue_labels = [f"{t('status_overdue')} {r.overdue}" if r.overdue else "" for r in rows]
    fig.add_scatter(y=names, x=[r.total for r in rows], mode="text", text=overdue_labels, textposition="middle right",
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


def measures_timeline(states, *, today: dt.date) -> go.Figure:
    """One bar per measure over its period, coloured by state, with a today line."""
    rows = [s for s in states if s.start and s.end]
    fig = go.Figure()
    for s in rows:
        key = "overdue" if s.overdue else s.status.value
        label = f"{s.number}. {s.title[:40]}{'…' if len(s.title) > 40 else ''}"
        fig.add_bar(
            y=[label], x=[(s.end - s.start).days + 1], base=[s.start.isoformat()], orientation="h",
            marker_color=COLORS[key], name=t(f"status_{key}"), legendgroup=key, showlegend=False,
            text=f"{t(f'status_{key}')} {s.percent}%", textposition="inside", textangle=0,
            hovertext=f"{s.title}<br>{s.period_text}", hoverinfo="text",
        )
    for key in ("done", "in_progress", "not_started", "overdue"):
        fig.add_bar(y=[None], x=[None], marker_color=COLORS[key], name=t(f"status_{key}"), orientation="h")
    fig.update_xaxes(type="date")
    fig.update_yaxes(autorange="reversed")
    fig.add_vline(x=today.isoformat(), line_color="#000", line_dash="dot")
    fig.add_annotation(x=today.isoformat(), y=1.0, yref="paper", text=f"{t('today')} {thai.format_date_th(today, abbr=True)}",
                       showarrow=False, yanchor="bottom")
    dates = [s.start for s in rows] + [s.end for s in rows]
    _thai_date_ticks(fig, dates)
    return _layout(fig, title=t("timeline"), height=max(260, 80 + 34 * len(rows)))


def survey_by_department(status) -> go.Figure:
    """Responses per department with the target drawn on each bar and the gap as text."""
    rows = status.by_department
    names = [r.name for r in rows]
    fig = go.Figure()
    labels = []
    for r in rows:
        if r.target:
            labels.append(f"{r.responses}/{r.target}" + (f" ({t('gap')} {r.gap})" if r.gap else " ✓"))
        else:
            labels.append(f"{r.responses}")
    fig.add_bar(y=names, x=[r.responses for r in rows], orientation="h", name=t("responses"),
                marker_color=[COLORS["done"] if r.target and not r.gap else COLORS["bar"] for r in rows],
                text=labels, textposition="outside")
    tx = [(r.target, r.name) for r in rows if r.target]
    if tx:
        fig.add_scatter(x=[a for a, _ in tx], y=[b for _, b in tx], mode="markers", name=t("target"),
                        marker=dict(symbol="line-ns-open", size=22, line=dict(width=3, color=COLORS["target"])), hoverinfo="x")
    fig.update_yaxes(autorange="reversed")
    top = max([r.responses for r in rows] + [r.target or 0 for r in rows] + [1])
    fig.update_xaxes(title=t("responses"), range=[0, top * 1.45])
    title = f"{status.instrument.upper()}: {t('completion_by_dept')}"
    return _layout(fig, title=title, height=max(260, 70 + 44 * len(rows)))


def cumulative_responses(by_day, *, target: Optional[int], window: tuple[dt.date, dt.date], today: dt.date,
                         instrument: str) -> go.Figure:
    days = [d for d, _ in by_day]
    total, ys = 0, []
    for _, n in by_day:
        total += n
        ys.append(total)
    fig = go.Figure()
    fig.add_scatter(x=days, y=ys, mode="lines", name=t("responses"), line=dict(color=COLORS["bar"], width=3), line_shape="hv")
    if target:
        fig.add_hline(y=target, line_color=COLORS["target"], line_dash="dash",
                      annotation_text=f"{t('target')} {target}", annotation_position="bottom right")
    fig.add_vrect(x0=window[0], x1=window[1], fillcolor="#fff3e0", opacity=0.5, line_width=0,
                  annotation_text=t("collection_window"), annotation_position="top left")
    fig.add_vline(x=today.isoformat(), line_color="#000", line_dash="dot")
    _thai_date_ticks(fig, days + list(window) + [today])
    fig.update_yaxes(title=t("responses"), rangemode="tozero")
    return _layout(fig, title=f"{instrument.upper()}: {t('cumulative')}")


def responses_per_period(by_day, *, instrument: str, weekly: bool = True) -> go.Figure:
    buckets: dict[dt.date, int] = {}
    for d, n in by_day:
        key = d - dt.timedelta(days=d.weekday()) if weekly else d
        buckets[key] = buckets.get(key, 0) + n
    xs = sorted(buckets)
    fig = go.Figure(go.Bar(x=xs, y=[buckets[x] for x in xs], marker_color=COLORS["bar"], name=t("responses")))
    _thai_date_ticks(fig, xs)
    fig.update_yaxes(title=t("responses"))
    return _layout(fig, title=f"{instrument.upper()}: " + ("จำนวนผู้ตอบรายสัปดาห์" if weekly else t("per_day")))


def score_bullets(scores: dict[str, Optional[float]], *, bar: float) -> go.Figure:
    """One bullet per instrument (and the total) against the passing bar, so a low EIT shows.

    Each label says in words whether the score passes, so colour is not the only cue."""
    names = [k for k in scores]
    fig = go.Figure()
    values = [scores[k] if scores[k] is not None else 0 for k in names]
    labels = [
        t("no_data") if scores[k] is None
        else f"{scores[k]:.2f} · " + (t("score_passes") if scores[k] >= bar else t("score_below"))
        for k in names
    ]
    colors = [COLORS["done"] if (scores[k] or 0) >= bar else COLORS["overdue"] for k in names]
    fig.add_bar(y=names, x=values, orientation="h", marker_color=colors, text=labels, textposition="outside",
                cliponaxis=False, name=t("estimated_score"))
    fig.add_vline(x=bar, line_color="#000", line_width=2, annotation_text=t("passing_bar", bar=f"{bar:g}"),
                  annotation_position="top")
    fig.update_xaxes(range=[0, 125], tickvals=[0, 20, 40, 60, 80, 100], title=t("estimated_score"))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(showlegend=False)
    return _layout(fig, height=110 + 50 * len(names))


def indicator_scores(status, *, framework, bar: float) -> go.Figure:
    inds = framework.instruments[status.instrument].indicators
    names = [f"{i.number}. {i.name_th}" for i in inds]
    vals = [status.indicator_scores.get(i.number) for i in inds]
    fig = go.Figure()
    fig.add_bar(y=names, x=[v or 0 for v in vals], orientation="h",
                marker_color=[COLORS["done"] if (v or 0) >= bar else COLORS["overdue"] for v in vals],
                text=[f"{v:.2f}" if v is not None else "ไม่มีข้อมูล" for v in vals], textposition="outside")
    fig.add_vline(x=bar, line_color="#000", line_width=2, annotation_text=t("passing_bar", bar=f"{bar:g}"),
                  annotation_position="bottom left")
    fig.update_xaxes(range=[0, 105])
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, title=f"{status.instrument.upper()}: {t('estimated_score')} ({t('indicator')})",
                   height=90 + 48 * len(names))


def oit_not_ready_by_department(counts: dict[str, int]) -> go.Figure:
    """OIT items not ready per responsible department (most first), for the meeting's OIT slide."""
    names = [html.escape(name) for name in counts]  # department names are user text: never markup
    values = list(counts.values())
    fig = go.Figure()
    fig.add_bar(y=names, x=values, orientation="h", marker_color=COLORS["not_started"], text=values,
                textposition="outside", cliponaxis=False, name=t("meeting_oit_not_ready"), showlegend=False)
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title=t("count"), dtick=1, range=[0, max(values + [1]) * 1.3])
    return _layout(fig, title=t("meeting_oit_by_department"), height=max(240, 60 + 42 * len(names)))
