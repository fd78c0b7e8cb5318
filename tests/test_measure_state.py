"""services/measure_state: the one definition of a measure's state as of a date and of overdue.

The overdue rule is written once in Python and once as SQL; these tests run both over the same
table of cases on each backend and require the same answer, and check that the replay, the
"newest update" of a measure and the shared select pick the same row.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import case, select

from ita_dashboard import db
from ita_dashboard.models import Measure, ProgressUpdate, Status
from ita_dashboard.services import measure_state
from ita_dashboard.services import measures as measures_svc
from tests.helpers import make_measure, make_org

D = dt.date(2025, 3, 31)
# (end date, [(update date, status), ...] in insertion order, expected overdue on D)
CASES = [
    (None, [], False),                                                   # no end date: never overdue
    (dt.date(2025, 3, 30), [], True),                                    # ended, never updated
    (D, [], False),                                                      # ends on D itself: not yet
    (dt.date(2025, 4, 1), [], False),                                    # ends after D
    (dt.date(2025, 1, 31), [(dt.date(2025, 1, 1), Status.in_progress)], True),
    (dt.date(2025, 1, 31), [(dt.date(2025, 1, 1), Status.not_started)], True),
    (dt.date(2025, 1, 31), [(dt.date(2025, 1, 1), Status.done)], False),
    (dt.date(2025, 1, 31), [(dt.date(2025, 1, 1), Status.cancelled)], False),
    (dt.date(2025, 1, 31), [(dt.date(2025, 4, 1), Status.done)], True),  # done only after D
    (dt.date(2025, 1, 31), [(D, Status.done)], False),                   # done on D counts
    (dt.date(2025, 1, 31), [(dt.date(2025, 1, 1), Status.done), (dt.date(2025, 2, 1), Status.in_progress)], True),
    # two updates on one day: the later row (higher id) is the state
    (dt.date(2025, 1, 31), [(dt.date(2025, 2, 1), Status.done), (dt.date(2025, 2, 1), Status.in_progress)], True),
    (dt.date(2025, 1, 31), [(dt.date(2025, 2, 1), Status.in_progress), (dt.date(2025, 2, 1), Status.done)], False),
    # inserted out of date order: the newest date wins over the newest row
    (dt.date(2025, 1, 31), [(dt.date(2025, 3, 1), Status.done), (dt.date(2025, 2, 1), Status.in_progress)], False),
]


@pytest.fixture
def cases(engine):
    org = make_org(engine)
    ids = []
    for n, (end, updates, _) in enumerate(CASES, start=1):
        mid = make_measure(engine, org_id=org, number=n, end=end, start=None)
        with db.session_scope(engine) as s:
            for as_of, status in updates:
                s.add(ProgressUpdate(measure_id=mid, as_of=as_of, status=status, percent=0))
                s.flush()
        ids.append(mid)
    return engine, org, ids


def test_overdue_in_python_and_in_sql_agree_on_every_case(cases):
    engine, org, ids = cases
    q = measure_state.measures_as_of(Measure.organization_id == org, as_of=D).subquery()
    overdue = case((measure_state.overdue_sql(end=q.c.end_date, status=q.c.status, as_of=D), 1), else_=0)
    with db.session_scope(engine) as s:
        rows = {mid: (end, status, flag) for mid, end, status, flag in
                s.execute(select(q.c.measure_id, q.c.end_date, q.c.status, overdue))}
    assert sorted(rows) == sorted(ids)
    for mid, (end, _updates, expected) in zip(ids, CASES):
        got_end, status, sql_flag = rows[mid]
        python = measure_state.is_overdue(end=got_end, status=None if status is None else Status(status), as_of=D)
        assert (python, bool(sql_flag)) == (expected, expected), (end, _updates)


def test_newest_update_replay_and_select_pick_the_same_state(cases):
    engine, org, ids = cases
    q = measure_state.measures_as_of(Measure.organization_id == org, as_of=D)
    with db.session_scope(engine) as s:
        selected = {mid: status for mid, _org, _end, status, *_ in s.execute(q)}
        history = measure_state.history_rows(s, measure_ids=ids)
        listed = {m.id: m for m in measures_svc.measure_states(s, organization_id=org, fiscal_year=2568, as_of=D)}
        for mid, (_end, _updates, expected) in zip(ids, CASES):
            assert listed[mid].overdue == expected
        for mid in ids:
            newest = measure_state.newest_update(s, measure_id=mid, as_of=D)
            replayed = measure_state.status_on(history.get(mid, ()), D)
            from_select = Status(selected[mid]) if selected[mid] is not None else measure_state.NO_UPDATE
            assert (newest.status if newest else measure_state.NO_UPDATE) == replayed == from_select == listed[mid].status
            assert listed[mid].last_update == (newest.as_of if newest else None)


def test_closed_states_are_never_overdue_and_open_ones_are():
    late = dt.date(2025, 1, 1)
    for status in Status:
        assert measure_state.is_overdue(end=late, status=status, as_of=D) == (status not in measure_state.CLOSED)
    assert measure_state.is_overdue(end=late, status=None, as_of=D)
