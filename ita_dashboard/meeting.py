"""Meeting mode: the monthly staff meeting's slides as plain data, for one organisation, fiscal
year and as-of date.

Every slide carries its big numbers, its list rows and its bar charts twice over: as simple
``BarChart`` data (drawn by ``reports/meeting_pack.py`` into the PDF and the per-chart PNG) and
as plotly figures from ``charts.py`` (drawn on screen). Both come from the same service results,
so the screen and the PDF always show the same numbers. The overall numbers are
``build_summary``'s, the ones the overview page and ``summary --json`` show. No streamlit here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Optional

import plotly.graph_objects as go
from sqlmodel import Session

from . import charts, thai
from .models import Instrument, Status
from .services import activities as activities_svc
from .services import measures as measures_svc
from .services import oit as oit_svc
from .services import surveys as surveys_svc
from .services.orgs import departments_of
from .services.summary import build_summary
from .services.summary_types import Summary
from .ui.strings import status_label, t

MAX_ROWS = 8  # list rows on one slide: more would not be readable on a projector
SCREEN_FONT_SIZE = 20  # plotly font size on the projector (the pages use 15)
SLIDE_KEYS = ("overall", "measures", "surveys", "oit", "due", "activities")


@dataclass
class BigNumber:
    label: str
    value: str
    note: str = ""
    alert: bool = False  # drawn in red: behind the target, overdue, below the passing bar


@dataclass
class SlideRow:
    text: str  # may hold user text (a measure or activity title): escape it on screen
    detail: str = ""
    alert: bool = False


@dataclass
class BarSeries:
    key: str
    label: str
    color: str


@dataclass
class BarRow:
    label: str
    values: list[float]  # one per series, stacked
    text: str = ""  # written after the bar
    target: Optional[float] = None  # a tick across the bar
    alert: bool = False


@dataclass
class BarChart:
    key: str  # ASCII, used in download file names
    title: str
    series: list[BarSeries]
    rows: list[BarRow]
    reference: Optional[tuple[float, str]] = None  # a vertical line with its label (the passing bar)
    scale_max: Optional[float] = None  # fixed axis end (scores: 100); else from the data
    target_label: str = ""  # legend text for the target tick

    @property
    def axis_max(self) -> float:
        if self.scale_max is not None:
            return self.scale_max
        top = max([sum(r.values) for r in self.rows] + [r.target or 0 for r in self.rows] + [1])
        return float(top)


@dataclass
class Slide:
    key: str
    title: str
    numbers: list[BigNumber] = field(default_factory=list)
    rows: list[SlideRow] = field(default_factory=list)
    charts: list[BarChart] = field(default_factory=list)
    figures: list[go.Figure] = field(default_factory=list)  # the charts for the screen (surveys: both in one)
    empty_text: str = ""  # shown when the slide has no rows and no charts
    more_text: str = ""  # "n more" under a shortened list
    note: str = ""


@dataclass
class MeetingDeck:
    organization: str
    fiscal_year: int
    as_of: dt.date
    is_demo: bool
    slides: list[Slide]

    @property
    def subtitle(self) -> str:
        return t("meeting_subtitle", org=self.organization, year=self.fiscal_year,
                 date=thai.format_date_th(self.as_of))


def build_deck(session: Session, *, organization_id: int, fiscal_year: int, as_of: dt.date) -> MeetingDeck:
    """The slides (``SLIDE_KEYS``) as of the end of day ``as_of``; the activities are those of its month.

    The page passes the end of the chosen month, or today while that month is still running
    (``ui.common.effective_date``), as the overview does.
    """
    data = build_summary(session, organization_id=organization_id, fiscal_year=fiscal_year, as_of=as_of)
    states = measures_svc.measure_states(session, organization_id=organization_id, fiscal_year=fiscal_year,
                                         as_of=as_of)
    departments = departments_of(session, organization_id=organization_id)
    by_dep = measures_svc.progress_by_department(states, departments=departments)
    instruments = [surveys_svc.instrument_status(session, organization_id=organization_id, fiscal_year=fiscal_year,
                                                 instrument=i.value, as_of=as_of) for i in Instrument]
    month_activities = activities_svc.list_activities(session, organization_id=organization_id,
                                                      fiscal_year=fiscal_year, month=(as_of.year, as_of.month))
    slides = [
        overall_slide(data),
        measures_slide(data, by_dep),
        surveys_slide(instruments),
        oit_slide(data, oit_svc.item_states(session, organization_id=organization_id, fiscal_year=fiscal_year,
                                            as_of=as_of)),
        due_slide(measures_svc.measures_due(states, as_of=as_of), as_of=as_of, has_plan=bool(states)),
        activities_slide(month_activities, month=as_of),
    ]
    for slide in slides:
        for fig in slide.figures:  # drawn with theme=None on screen: keep room for the labels
            fig.update_layout(font_size=SCREEN_FONT_SIZE)
            fig.update_xaxes(automargin=True, title_standoff=16)  # the axis title clear of the tick labels
            fig.update_yaxes(automargin=True)
    return MeetingDeck(organization=data.organization, fiscal_year=fiscal_year, as_of=as_of,
                       is_demo=bool(data.is_demo), slides=slides)


# --- the slides -------------------------------------------------------------------------------


def _ratio(n: int, target: Optional[int]) -> str:
    return f"{n:,} / {target:,}" if target else f"{n:,} / –"


def _gap_note(n: int, target: Optional[int]) -> tuple[str, bool]:
    if not target:
        return t("no_target"), False
    if n < target:
        return f"{t('gap')} {target - n:,}", True
    return t("meeting_target_met"), False


def _score(v: Optional[float]) -> str:
    return f"{v:.2f}" if v is not None else t("meeting_no_data")


def _score_with_verdict(v: Optional[float], bar: float) -> str:
    """The score and, in words, whether it passes: colour is not the only cue on a printout."""
    if v is None:
        return _score(v)
    return f"{_score(v)} · " + (t("score_passes") if v >= bar else t("score_below"))


def overall_slide(data: Summary) -> Slide:
    m, bar = data.measures, data.passing_bar
    numbers = [
        BigNumber(t("kpi_measures_done"), f"{m.done} / {m.total}"),
        BigNumber(t("kpi_overdue"), str(m.overdue), alert=m.overdue > 0),
    ]
    for key, s in data.surveys.items():
        note, behind = _gap_note(s.responses, s.target)
        numbers.append(BigNumber(t(f"kpi_{key.value}"), _ratio(s.responses, s.target), note=note, alert=behind))
    numbers.append(BigNumber(t("kpi_days_left"), str(data.collection_window.days_left)))
    total = data.estimated_total
    numbers.append(BigNumber(t("kpi_estimated_total"), _score(total), note=t("passing_bar", bar=f"{bar:g}"),
                             alert=total is not None and total < bar))
    oit_label = t("oit_source_itas") if data.oit.source == "itas" else t("oit_source_items")
    scores = {"IIT": data.iit.estimated_score, "EIT": data.eit.estimated_score,
              oit_label: data.oit_estimate, t("meeting_total_weighted"): total}
    chart = BarChart(
        key="scores", title=t("meeting_scores_title"),
        series=[BarSeries("score", t("estimated_score"), charts.COLORS["bar"])],
        rows=[BarRow(name, [v or 0.0], text=_score_with_verdict(v, bar), alert=v is not None and v < bar)
              for name, v in scores.items()],
        reference=(bar, t("passing_bar", bar=f"{bar:g}")), scale_max=100.0,
    )
    fig = charts.score_bullets(scores, bar=bar)  # untitled on screen: the slide title says it
    below = [k.upper() for k in data.below_bar]
    rows = [SlideRow(t("meeting_below_bar", bar=f"{bar:g}", names=", ".join(below)), alert=True)] if below else []
    if data.estimated_level:
        held = [k.upper() for k in data.level_held_back_by]
        rows.append(SlideRow(t("level_estimated", level=data.estimated_level),
                             t("level_held_back", level=data.estimated_level, names=", ".join(held)) if held else ""))
    return Slide("overall", t("meeting_slide_overall"), numbers=numbers, rows=rows, charts=[chart], figures=[fig],
                 note=t("estimate_note"))


def measures_slide(data: Summary, by_dep: list[measures_svc.DepartmentProgress]) -> Slide:
    m = data.measures
    numbers = [BigNumber(t("kpi_measures_done"), f"{m.done} / {m.total}"),
               BigNumber(t("status_in_progress"), str(m.in_progress)),
               BigNumber(t("kpi_overdue"), str(m.overdue), alert=m.overdue > 0)]
    rows = [r for r in by_dep if r.total]
    slide = Slide("measures", t("meeting_slide_measures"), numbers=numbers, empty_text=t("meeting_no_measures"))
    if not rows:
        return slide
    keys = [k for k in ("done", "in_progress", "not_started", "cancelled") if any(getattr(r, k) for r in rows)]
    slide.charts.append(BarChart(
        key="measures_by_department", title=t("by_department"),
        series=[BarSeries(k, status_label(k), charts.COLORS[k]) for k in keys],
        rows=[BarRow(r.name, [float(getattr(r, k)) for k in keys],
                     text=f"{r.done}/{r.total}" + (f" · {t('status_overdue')} {r.overdue}" if r.overdue else ""),
                     alert=r.overdue > 0) for r in rows],
    ))
    slide.figures.append(charts.measures_by_department(rows))
    return slide


def surveys_slide(instruments: list[surveys_svc.InstrumentStatus]) -> Slide:
    slide = Slide("surveys", t("meeting_slide_surveys"), empty_text=t("meeting_no_departments"))
    for st in instruments:
        note, behind = _gap_note(st.responses, st.target)
        slide.numbers.append(BigNumber(t(f"kpi_{st.instrument}"), _ratio(st.responses, st.target), note=note,
                                       alert=behind))
    for st in instruments:
        if not st.departments:
            continue
        rows = [BarRow(d.name, [float(d.responses)], text=charts.survey_label(d), target=d.target,
                       alert=bool(d.target and d.gap) or d.over_eligible) for d in st.departments]
        slide.charts.append(BarChart(
            key=f"{st.instrument}_by_department", title=f"{st.instrument.upper()}: {t('completion_by_dept')}",
            series=[BarSeries("responses", t("responses"), charts.COLORS["bar"])], rows=rows,
            target_label=t("target"),
        ))
    if slide.charts:  # on screen one full-width chart of both (half a screen each left no room for labels)
        slide.figures.append(charts.surveys_by_department(instruments, font_size=SCREEN_FONT_SIZE))
    return slide


def oit_slide(data: Summary, states: list[oit_svc.OitItemState]) -> Slide:
    """OIT items not ready, one row per responsible department (the most behind first), its items named."""
    oit = data.oit
    not_ready = oit_svc.not_ready_by_department(states)
    overdue = sum(s.overdue for s in states)
    slide = Slide("oit", t("meeting_slide_oit"), empty_text=t("meeting_oit_all_ready") if states else t("meeting_no_oit"),
                  note=t("oit_estimate_note"), numbers=[
                      BigNumber(t("oit_ready_items"), f"{oit.ready} / {oit.items}"),
                      BigNumber(t("oit_estimate_label"), _score(oit.items_score),
                                alert=oit.items_score is not None and oit.items_score < data.passing_bar),
                      BigNumber(t("status_overdue"), str(overdue), alert=overdue > 0),
                  ])
    for dep, items in list(not_ready.items())[:MAX_ROWS]:
        names = ", ".join(f"{i.number} {i.name}" for i in items)
        late = sum(i.overdue for i in items)
        count = t("meeting_oit_count", n=len(items)) + (f" · {t('status_overdue')} {late}" if late else "")
        slide.rows.append(SlideRow(f"{dep or t('meeting_oit_no_department')} · {count}", names, alert=late > 0))
    if len(not_ready) > MAX_ROWS:
        slide.more_text = t("meeting_more", n=len(not_ready) - MAX_ROWS)
    return slide


def due_text(end: Optional[dt.date], as_of: dt.date) -> str:
    """"ครบกำหนดวันนี้" for a measure due on the as-of date, else "ครบกำหนด <date>"."""
    if end is None:
        return t("due_on", date="–")
    if end == as_of:
        return t("due_today")
    return t("due_on", date=thai.format_date_th(end, abbr=True))


def due_slide(due: list[measures_svc.MeasureState], *, as_of: dt.date, has_plan: bool = True) -> Slide:
    overdue = sum(1 for s in due if s.overdue)
    today = sum(1 for s in due if not s.overdue and s.end == as_of)
    numbers = [BigNumber(t("status_overdue"), str(overdue), alert=overdue > 0)]
    if today:
        numbers.append(BigNumber(t("due_today"), str(today), alert=True))
    numbers.append(BigNumber(t("meeting_due_soon"), str(len(due) - overdue - today)))
    slide = Slide("due", t("meeting_slide_due"), numbers=numbers,
                  empty_text=t("none_due") if has_plan else t("meeting_no_measures"))
    for s in due[:MAX_ROWS]:
        state = status_label(s.status.value) + (f" {s.percent}%" if s.status != Status.done else "")
        detail = f"{due_text(s.end, as_of)} · {state}"
        slide.rows.append(SlideRow(f"{s.number}. {s.title}",
                                   f"{t('status_overdue')} · {detail}" if s.overdue else detail,
                                   alert=s.overdue or s.end == as_of))
    if len(due) > MAX_ROWS:
        slide.more_text = t("meeting_more", n=len(due) - MAX_ROWS)
    return slide


def activities_slide(items: list[activities_svc.ActivityItem], *, month: dt.date) -> Slide:
    label = thai.format_month_th(month.year, month.month)
    slide = Slide("activities", t("meeting_slide_activities", month=label),
                  numbers=[BigNumber(t("meeting_activity_count"), str(len(items)))],
                  empty_text=t("meeting_no_activities", month=label))
    for a in sorted(items, key=lambda a: (a.date, a.id))[:MAX_ROWS]:  # in date order, as the month went
        detail = thai.format_date_th(a.date, abbr=True)
        if a.measure_number is not None:
            detail += f" · {t('measure')} {a.measure_number}"
        slide.rows.append(SlideRow(a.title, detail))
    if len(items) > MAX_ROWS:
        slide.more_text = t("meeting_more", n=len(items) - MAX_ROWS)
    return slide
