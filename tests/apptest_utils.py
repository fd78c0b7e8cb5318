"""Helpers shared by the AppTest page tests: run app.py as a user and open a page, read the screen
as text. Test modules import from here, never from each other (tests/test_layout_rules.py)."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select
from streamlit.testing.v1 import AppTest

from ita_dashboard import db
from ita_dashboard.models import User

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 120  # first imports of plotly/pandas take longer than AppTest's default 3 s


def user_id(url: str, username: str) -> int:
    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        uid = s.exec(select(User.id).where(User.username == username)).one()
    engine.dispose()
    return uid


def run_app(monkeypatch, url: str, *, username: str | None = None, page: str | None = None, org: str | None = None) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    if username:
        at.session_state["auth_user_id"] = user_id(url, username)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [t.value for t in at.title] + [s.value for s in at.subheader]
    parts += [str(c.value) for c in at.caption] + [x.value for x in at.text]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [e.value for e in at.error] + [w.value for w in at.warning] + [i.value for i in at.info] + [s.value for s in at.success]
    return "\n".join(parts)
