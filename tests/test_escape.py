"""User text is text (issue 13 point 6): the two escapes, and every page with hostile names.

Names, titles and file text written as markdown or HTML reach titles, captions, alerts, the
report's ``st.table`` and Plotly labels. ``textsafe.md`` and ``textsafe.plot`` keep them text:
the unit tests run a list of hostile payloads through both; the AppTest puts payloads into an
organisation, a department, a measure, an activity, an OIT item and an unmatched survey
department, runs every page for an admin and a viewer, and reads every element that renders
markdown (and every chart's labels) for anything that could still become a link or an image.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from ita_dashboard import charts, db, textsafe
from ita_dashboard.ui import widgets
from tests.helpers import make_user
from tests.hostile_names import (DEPT_NAME, MEASURE_TITLE, NAMES, ORG_NAME, PAYLOADS,
                                 UNMATCHED_DEPT, make_hostile_db, markdown_problems, plotly_problems)

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 120
ASCII_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _visible(escaped: str) -> str:
    """What markdown shows for an escaped source: escapes resolved, word joiners invisible."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", escaped).replace(textsafe.WJ, "")


# --- the helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS + NAMES)
def test_md_shows_the_text_and_forms_no_markup(payload):
    escaped = textsafe.md(payload)
    assert _visible(escaped) == payload  # readable: the same characters on screen
    assert markdown_problems(escaped) == []
    unescaped = re.sub(r"\\[!-/:-@\[-`{-~]", "", escaped)
    assert not ASCII_PUNCT & set(unescaped), unescaped  # no emphasis, heading, list, table, math either


def test_the_checker_sees_each_payload_unescaped():
    """The check above can fail: on the raw payloads it finds the links, images and HTML."""
    linky = [p for p in PAYLOADS + NAMES if "evil" in p or "<" in p or ":material" in p]
    assert linky and all(markdown_problems(p) for p in linky), [p for p in linky if not markdown_problems(p)]


def test_md_of_nothing_and_of_plain_thai():
    assert textsafe.md(None) == "" and textsafe.md("") == ""
    assert textsafe.md("กองคลัง 2568") == "กองคลัง 2568"
    assert not hasattr(widgets, "md_escape")  # one helper, one name: textsafe.md


@pytest.mark.parametrize("payload", PAYLOADS + NAMES)
def test_plot_shows_the_text_and_forms_no_tag(payload):
    import html

    escaped = textsafe.plot(payload)
    assert plotly_problems(escaped) == []
    assert html.unescape(escaped) == payload.replace("\n", " ")  # Plotly shows the entities as characters
    assert textsafe.plot("กองคลัง") == "กองคลัง"


def _figure_strings(fig: go.Figure) -> list[str]:
    out = []

    def walk(node):
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, dict):
            for k, v in node.items():
                if k not in ("hovertemplate", "texttemplate"):  # the app's own templates
                    walk(v)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v)

    walk(json.loads(fig.to_json()))
    return out


def _tagged(fig: go.Figure) -> list[str]:
    return [s for s in _figure_strings(fig) if plotly_problems(s.replace("<br>", ""))]


def test_chart_labels_carry_no_tag_from_data():
    import datetime as dt
    from types import SimpleNamespace as NS

    from ita_dashboard.models import Status as MeasureStatus

    names = [DEPT_NAME, UNMATCHED_DEPT, '<a href="https://evil.example/x">x</a><br><b>b</b>']
    rows = [NS(name=n, done=1, in_progress=1, not_started=0, cancelled=0, overdue=1, total=2) for n in names]
    deps = [NS(name=n, responses=3, target=5, met=False, over_eligible=False, gap=2) for n in names]
    status = NS(instrument="iit", departments=deps)
    states = [NS(id=i, number=i, section_number=None, title=MEASURE_TITLE + f" {i}", start=dt.date(2024, 10, 1),
                 end=dt.date(2025, 3, 31), overdue=False, status=MeasureStatus.in_progress, percent=50)
              for i in (1, 2)]
    figs = [charts.measures_by_department(rows), charts.survey_by_department(status),
            charts.surveys_by_department([status, NS(instrument="eit", departments=deps)]),
            charts.score_bullets({ORG_NAME: 80.0, names[2]: 90.0}, bar=85),
            charts.measures_timeline(states, today=dt.date(2025, 1, 1))]
    for fig in figs:
        strings = _figure_strings(fig)
        assert any("evil" in s for s in strings)  # the names are there...
        assert _tagged(fig) == []  # ...as text


# --- every page, with the payloads in the database -------------------------------------------------


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory):
    url, org_id = make_hostile_db(tmp_path_factory.mktemp("escape") / "hostile.db")
    engine = db.make_engine(url)
    admin = make_user(engine, username="esc_admin", role="admin", org_id=None)  # every organisation: roll-up too
    viewer = make_user(engine, username="esc_viewer", role="viewer", org_id=org_id)
    with db.session_scope(engine) as s:
        from sqlmodel import select

        from ita_dashboard.models import Measure
        mid = s.exec(select(Measure.id).where(Measure.title == MEASURE_TITLE)).one()
    engine.dispose()
    return {"url": url, "admin": admin, "viewer": viewer, "measure_id": mid, "org_id": org_id}


def _elements(node):
    children = getattr(node, "children", None)
    if children:
        yield node
        for child in children.values():
            yield from _elements(child)
    else:
        yield node


# Elements whose value is shown as plain text (or is a widget's own value): not markdown.
_PLAIN_VALUE = {"text", "code", "json", "arrow_data_frame", "dataframe", "selectbox", "multiselect", "text_input",
                "text_area", "number_input", "date_input", "time_input", "checkbox", "toggle", "radio", "slider",
                "select_slider", "color_picker", "download_button", "button", "plotly_chart"}


def _check_page(at: AppTest) -> tuple[list, list]:
    """(problems, texts with "evil" seen in markdown sinks); charts and tables included."""
    assert not at.exception, [e.message for e in at.exception]
    problems, seen = [], []
    for el in _elements(at._tree):
        kind = getattr(el, "type", "") or ""
        sources = []
        label = getattr(el, "label", None)
        if isinstance(label, str):
            sources.append(label)
        value = getattr(el, "value", None)
        if kind not in _PLAIN_VALUE and isinstance(value, str):
            sources.append(value)
        if kind == "radio":
            sources += [o for o in (getattr(el, "options", None) or []) if isinstance(o, str)]
        if kind == "table":
            frame = value
            sources += [str(c) for c in frame.index] + [str(c) for c in frame.to_numpy().ravel()]
        for text in sources:
            if "evil" in text.lower():
                seen.append(text)
                if p := markdown_problems(text):
                    problems.append((kind, p, text[:160]))
        proto = getattr(el, "proto", None)
        spec = getattr(proto, "spec", None) if proto is not None else None
        if kind == "text" and isinstance(value, str) and "evil" in value:
            seen.append(value)  # st.text: plain text, nothing to escape; counted as reached
        if isinstance(spec, str) and "evil" in spec:
            strings = []

            def walk(node, strings=strings):
                if isinstance(node, str):
                    strings.append(node)
                elif isinstance(node, dict):
                    for k, v in node.items():
                        if k not in ("hovertemplate", "texttemplate"):
                            walk(v)
                elif isinstance(node, list):
                    for v in node:
                        walk(v)

            walk(json.loads(spec))
            seen += [x for x in strings if "evil" in x]
            problems += [("plotly", s[:160]) for s in strings if "evil" in s and plotly_problems(s.replace("<br>", " "))]
    for toast in getattr(at, "toast", []):
        if "evil" in toast.value and markdown_problems(toast.value):
            problems.append(("toast", toast.value[:160]))
    return problems, seen


VIEWER_PAGES = ["app_pages/overview.py", "app_pages/measures.py", "app_pages/surveys.py", "app_pages/oit.py", "app_pages/report.py",
                "app_pages/meeting.py", "app_pages/account.py"]
PAGES = {"viewer": VIEWER_PAGES, "admin": VIEWER_PAGES + ["app_pages/rollup.py", "app_pages/upload.py", "app_pages/admin.py"]}


def _run(monkeypatch, url, user_id, page, org_id) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.session_state["auth_user_id"] = user_id
    at.session_state["org_id"] = org_id
    at.session_state["fiscal_year"] = 2568
    at.run()
    at.switch_page(page).run()
    return at


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_every_page_shows_hostile_names_as_text(monkeypatch, hostile_db, role):
    seen_all, problems_all = [], []
    for page in PAGES[role]:
        at = _run(monkeypatch, hostile_db["url"], hostile_db[role], page, hostile_db["org_id"])
        problems, seen = _check_page(at)
        problems_all += [(page, *p) for p in problems]
        seen_all += seen
        if page == "app_pages/meeting.py":  # every slide of the deck
            at.button(key="meeting_start").click().run()
            for _ in range(20):
                problems, seen = _check_page(at)
                problems_all += [(page + " slide", *p) for p in problems]
                seen_all += seen
                if at.button(key="meeting_next").disabled:
                    break
                at.button(key="meeting_next").click().run()
        if page == "app_pages/measures.py":  # the measure's own detail view: title, subheader, form
            at.selectbox(key="measure_pick").set_value(hostile_db["measure_id"]).run()
            problems, seen = _check_page(at)
            problems_all += [(page + " detail", *p) for p in problems]
            seen_all += seen
    assert problems_all == []
    body = "\n".join(seen_all)
    # the payloads did reach the page: markdown sinks, charts, plain text (else this test proves nothing)
    for marker in ("อบต\\.ภัย", "กองภัย", "มาตรการภัย", "กิจกรรมภัย", "รายการภัย", "กองนอกภัย"):
        assert marker in body or marker.replace("\\", "") in body, marker
