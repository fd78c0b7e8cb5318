"""User text that tries to become markup: the payloads of issue 13 point 6 ("user text is text"),
a checker that tells whether a rendered source could still form a link or an image from them, and
a database (the demo, with these payloads in the names users and files write).

Shared by tests/test_escape.py (AppTest on every page) and tests/e2e/test_escape_browser.py.
"""

from __future__ import annotations

import datetime as dt
import re

EVIL_HOST = "evil.example"

# One list for the helper unit tests: each must show as written and form no markup.
PAYLOADS = [
    "[ลิงก์](https://evil.example/phish)",
    "![รูป](https://evil.example/track.png)",
    "[x]: https://evil.example/ref\n[ref]",
    '<img src="https://evil.example/track.png">',
    "<img src=https://evil.example/track.png onerror=alert(1)>",
    '<a href="https://evil.example/phish">คลิก</a>',
    "<script>alert(1)</script>",
    "<https://evil.example/auto>",
    "<phish@evil.example>",
    "https://evil.example/bare",
    "http://evil.example",
    "www.evil.example/path",
    "WWW.EVIL.EXAMPLE",
    "phish@evil.example",
    "mailto:phish@evil.example",
    "**หนา** _เอียง_ ~~ขีด~~ `code` $x^2$",
    "# หัวข้อ",
    "- รายการ\n1. ลำดับ\n> อ้างอิง",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    ":red[แดง] :blue-background[ฟ้า] :material/home: :streamlit: :smile:",
    "&lt;img src=x&gt; &#60;a&#62;",
    "\\[escaped](https://evil.example/bs)",
    '<b>หนา</b><br><i>x</i><span style="color:red">s</span><sup>1</sup>',
]

# The names written into the hostile database (one payload mix per kind of user text).
ORG_NAME = "อบต.ภัย [ลิงก์](https://evil.example/org) ![x](https://evil.example/track.png)"
DEPT_NAME = 'กองภัย <img src="https://evil.example/track.png"> <a href="https://evil.example/dep">d</a>'
MEASURE_TITLE = "มาตรการภัย <https://evil.example/m> https://evil.example/bare **หนา** :red[แดง]"
ACTIVITY_TITLE = "กิจกรรมภัย www.evil.example phish@evil.example :material/home: [a](https://evil.example/act)"
OIT_NAME = 'รายการภัย [oit](https://evil.example/oit) <a href="https://evil.example/oit2">a</a>'
UNMATCHED_DEPT = "กองนอกภัย ![u](https://evil.example/u.png) https://evil.example/u"
NAMES = [ORG_NAME, DEPT_NAME, MEASURE_TITLE, ACTIVITY_TITLE, OIT_NAME, UNMATCHED_DEPT]

_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
WJ = "\u2060"


def markdown_problems(source: str) -> list[str]:
    """What in a markdown source could still become a link, an image, raw HTML, an autolink or a
    Streamlit directive (the text is inert only when each of these is escaped or broken)."""
    active = _ESCAPED.sub("\x01", source)  # escaped punctuation is a plain character
    resolved = _ESCAPED.sub(r"\1", source)  # the text after escapes: GFM autolinks and icons work on it
    found = []
    for name, pattern, text in [
        ("link or image", r"\]\s*[\(\[]|^\s*\[[^\]]*\]:", active),
        ("raw HTML or autolink", r"<[A-Za-z/!?]", active),
        ("entity", r"&(#\d+|#x[0-9a-f]+|[a-z]+);", active),
        ("literal autolink", r"(?i)https?://|mailto:\w|www\.|[\w.+-]@[\w-]", resolved),
        ("directive or icon", r":(red|blue-background)\[(แดง|ฟ้า)|:material/|:streamlit:|:smile:", resolved),
    ]:
        if re.search(pattern, text, re.M):
            found.append(name)
    return found


def plotly_problems(label: str) -> list[str]:
    """A Plotly label forms no tag (link, image, break, bold, style)."""
    return ["tag"] if re.search(r"<\s*/?\s*[A-Za-z]", label) else []


def make_hostile_db(path) -> str:
    """The demo data with hostile names in the first organisation, one of its departments, a
    measure, an activity, an OIT item and survey answers under an unmatched department."""
    from sqlmodel import select

    from ita_dashboard import db
    from ita_dashboard.models import Activity, Department, Measure, OitItem, Organization, SurveyResponse
    from tests.helpers import make_demo_db

    url = make_demo_db(path)
    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        org = s.exec(select(Organization).order_by(Organization.id)).first()
        org.name = ORG_NAME
        dep = s.exec(select(Department).where(Department.organization_id == org.id).order_by(Department.id)).first()
        dep.name = DEPT_NAME
        measure = s.exec(select(Measure).where(Measure.organization_id == org.id).order_by(Measure.id)).first()
        measure.title = MEASURE_TITLE
        act = s.exec(select(Activity).where(Activity.organization_id == org.id).order_by(Activity.date.desc())).first()
        act.title = ACTIVITY_TITLE
        for i, item in enumerate(s.exec(select(OitItem).where(OitItem.organization_id == org.id)).all()):
            item.name = f"{OIT_NAME} {i}"  # every item: the ones not ready are listed on the meeting slide
        responses = s.exec(select(SurveyResponse).where(SurveyResponse.organization_id == org.id)
                           .order_by(SurveyResponse.id).limit(5)).all()
        for r in responses:
            r.department_id = None
            r.department_text = UNMATCHED_DEPT
        org_id = org.id
    engine.dispose()
    return url, org_id


__all__ = ["PAYLOADS", "NAMES", "EVIL_HOST", "markdown_problems", "plotly_problems", "make_hostile_db", "dt"]


def visible(source: str) -> str:
    """What markdown shows for a source escaped by ``textsafe.md``: escapes resolved, joiners gone."""
    return _ESCAPED.sub(r"\1", source).replace(WJ, "")
