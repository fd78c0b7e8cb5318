"""Chart geometry: what plotly will draw, read back from the figure (no browser)."""

from __future__ import annotations

import datetime as dt

from ita_dashboard import charts
from ita_dashboard.models import Status
from ita_dashboard.services.measures import MeasureState

DAY_MS = 86_400_000


def state(n: int, start, end, *, status=Status.in_progress, percent=40, overdue=False, section=None) -> MeasureState:
    return MeasureState(
        id=n, number=n, section_number=section, section_title=None, title=f"มาตรการที่ {n} " + "ก" * (n * 10),
        owner_text="ทุกกอง", owner_all=True, department_ids=[], department_names=[], unresolved_owners=[],
        period_text="", start=start, end=end, period_unparsed=False, status=status, percent=percent, note="",
        evidence_url=None, last_update=None, overdue=overdue)


STATES = [
    state(1, dt.date(2022, 10, 1), dt.date(2023, 4, 30), status=Status.done, percent=100),
    state(2, dt.date(2022, 10, 1), dt.date(2022, 12, 31), overdue=True),
    state(3, dt.date(2023, 1, 1), dt.date(2023, 9, 30)),
    state(4, dt.date(2023, 3, 7), dt.date(2023, 3, 7), status=Status.not_started, percent=0),  # one day
    state(5, None, None),  # no dates: not drawn
]


def bars(fig):
    """(label, start, end inclusive, colour) of every bar drawn."""
    out = []
    for trace in fig.data:
        if trace.type != "bar":
            continue
        for y, x, base in zip(trace.y, trace.x, trace.base):
            assert x > 0, (y, x)
            start = dt.date.fromisoformat(str(base)[:10])
            assert x % DAY_MS == 0, x  # whole days
            end = start + dt.timedelta(days=x // DAY_MS - 1)
            out.append((y, start, end, trace.marker.color, trace.name))
    return out


def test_every_bar_runs_from_its_start_to_its_end():
    fig = charts.measures_timeline(STATES, today=dt.date(2023, 3, 31), real_today=dt.date(2023, 3, 31))
    drawn = bars(fig)
    assert len(drawn) == 4
    by_number = {int(y.split(".")[0]): (start, end) for y, start, end, _, _ in drawn}
    for s in STATES[:4]:
        assert by_number[s.number] == (s.start, s.end)
    # on a date axis: the x axis is dates and each bar is wider than a day (not a few milliseconds)
    assert fig.layout.xaxis.type == "date"
    assert all(x >= DAY_MS for tr in fig.data if tr.type == "bar" for x in tr.x)


def test_bars_are_coloured_by_state_and_listed_in_measure_order():
    fig = charts.measures_timeline(STATES, today=dt.date(2023, 3, 31), real_today=dt.date(2023, 3, 31))
    colours = {int(y.split(".")[0]): (colour, name) for y, _, _, colour, name in bars(fig)}
    assert colours[1] == (charts.COLORS["done"], "เสร็จแล้ว")
    assert colours[2] == (charts.COLORS["overdue"], "เลยกำหนด")  # overdue wins over "in progress"
    assert colours[3] == (charts.COLORS["in_progress"], "กำลังดำเนินการ")
    assert colours[4] == (charts.COLORS["not_started"], "ยังไม่เริ่ม")
    order = [int(y.split(".")[0]) for y in fig.layout.yaxis.categoryarray]
    assert order == [1, 2, 3, 4]


def test_line_says_today_or_the_as_of_date():
    fig = charts.measures_timeline(STATES, today=dt.date(2023, 3, 31), real_today=dt.date(2023, 3, 31))
    assert [a.text for a in fig.layout.annotations] == ["วันนี้ 31 มี.ค. 2566"]
    fig = charts.measures_timeline(STATES, today=dt.date(2023, 3, 31), real_today=dt.date(2025, 11, 30))
    assert [a.text for a in fig.layout.annotations] == ["ณ 31 มี.ค. 2566"]
    [line] = [s for s in fig.layout.shapes]
    assert (line.x0, line.x1) == ("2023-03-31", "2023-03-31")


def test_measure_numbers_repeated_per_section_stay_on_their_own_rows():
    twins = [state(1, dt.date(2022, 10, 1), dt.date(2022, 11, 30), section=1),
             state(1, dt.date(2023, 1, 1), dt.date(2023, 2, 28), section=2)]
    twins[1].id = 99
    fig = charts.measures_timeline(twins, today=dt.date(2023, 3, 31))
    labels = [y for y, *_ in bars(fig)]
    assert len(set(labels)) == 2
