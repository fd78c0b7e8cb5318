"""Meeting mode: the slides as data, the PDF pack, and the page (AppTest) for every role."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess

import pytest
from PIL import Image
from sqlmodel import select

from ita_dashboard import db, meeting
from ita_dashboard.models import Organization, Status
from ita_dashboard.reports import meeting_pack
from ita_dashboard.services import activities as activities_svc
from ita_dashboard.services import measures as measures_svc
from ita_dashboard.services.summary import build_summary
from ita_dashboard.texts import t
from tests.helpers import actor_for, make_demo_db, make_measure, make_org, make_user
from tests.apptest_utils import run_app, texts

NAOO = "เทศบาลตำบลนาอ้อ"
needs_poppler = pytest.mark.skipif(not all(shutil.which(x) for x in ("pdftoppm", "pdftotext", "pdffonts", "pdfinfo")),
                                   reason="poppler-utils not installed (scripts/test.sh installs it as root)")


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    return make_demo_db(tmp_path_factory.mktemp("meeting") / "demo.db")


def squash(text: str) -> str:
    """Text without whitespace, sara am composed (pdftotext may give nikhahit + sara aa)."""
    return "".join(text.replace("\u0e4d\u0e32", "\u0e33").split())


def demo_deck(url: str, as_of: dt.date) -> tuple[meeting.MeetingDeck, dict]:
    engine = db.make_engine(url)
    try:
        with db.session_scope(engine) as s:
            org_id = s.exec(select(Organization.id).where(Organization.name == NAOO)).one()
            deck = meeting.build_deck(s, organization_id=org_id, fiscal_year=2566, as_of=as_of)
            summary = build_summary(s, organization_id=org_id, fiscal_year=2566, as_of=as_of).to_json_dict()
    finally:
        engine.dispose()
    return deck, summary


def numbers(slide: meeting.Slide) -> dict[str, str]:
    return {n.label: n.value for n in slide.numbers}


def slide(deck: meeting.MeetingDeck, key: str) -> meeting.Slide:
    return next(s for s in deck.slides if s.key == key)


# --- slides as data ---------------------------------------------------------------------------


@pytest.mark.parametrize("as_of", [dt.date(2022, 11, 30), dt.date(2023, 3, 31), dt.date(2023, 9, 30)])
def test_slides_show_the_overview_numbers(demo_url, as_of):
    deck, data = demo_deck(demo_url, as_of)
    assert [s.key for s in deck.slides] == list(meeting.SLIDE_KEYS)
    assert all(s.title for s in deck.slides)
    overall = numbers(deck.slides[0])
    m, iit, eit = data["measures"], data["surveys"]["iit"], data["surveys"]["eit"]
    assert overall[t("kpi_measures_done")] == f"{m['done']} / {m['total']}"
    assert overall[t("kpi_overdue")] == str(m["overdue"])
    assert overall[t("kpi_iit")] == f"{iit['responses']:,} / {iit['target']:,}"
    assert overall[t("kpi_eit")] == f"{eit['responses']:,} / {eit['target']:,}"
    assert overall[t("kpi_days_left")] == str(data["collection_window"]["days_left"])
    total = data["estimated_total"]
    assert overall[t("kpi_estimated_total")] == (f"{total:.2f}" if total is not None else t("meeting_no_data"))
    scores = {r.label: r.values[0] for r in deck.slides[0].charts[0].rows}
    assert scores["IIT"] == (iit["estimated_score"] or 0) and scores["EIT"] == (eit["estimated_score"] or 0)
    for r in deck.slides[0].charts[0].rows:  # pass or not in words, not only in colour
        if r.values[0]:
            assert r.text.endswith(t("score_below") if r.alert else t("score_passes")), r.text
    # the department charts hold the summary's per-department numbers
    by_dep = {r.label: r for r in slide(deck, "measures").charts[0].rows}
    for name, d in data["measures"]["by_department"].items():
        if d["total"]:
            assert sum(by_dep[name].values) == d["total"]
            assert by_dep[name].text.startswith(f"{d['done']}/{d['total']}")
    surveys = slide(deck, "surveys")
    iit_rows = {r.label: r for r in surveys.charts[0].rows}
    for name, d in iit["by_department"].items():
        if name in iit["unmatched_departments"]:  # not a department: listed apart, never a bar
            assert name not in iit_rows
            continue
        assert iit_rows[name].values == [float(d["responses"])] and iit_rows[name].target == d["target"]
    assert len(surveys.charts) == 2 and len(surveys.figures) == 1  # on screen both in one full-width chart
    assert "2566" in deck.subtitle and NAOO in deck.subtitle


def test_demo_deck_changes_with_the_as_of_month(demo_url):
    early, _ = demo_deck(demo_url, dt.date(2022, 11, 30))
    late, _ = demo_deck(demo_url, dt.date(2023, 9, 30))
    assert numbers(early.slides[0])[t("kpi_measures_done")] == "0 / 7"
    assert numbers(late.slides[0])[t("kpi_measures_done")] == "6 / 7"
    assert numbers(early.slides[0])[t("kpi_iit")].startswith("0 /")
    # the demo's March activity shows in March only, with a BE date
    march, _ = demo_deck(demo_url, dt.date(2023, 3, 31))
    acts = slide(march, "activities")
    assert acts.title == t("meeting_slide_activities", month="มีนาคม 2566")
    assert acts.rows and all("2566" in r.detail for r in acts.rows)
    assert not slide(early, "activities").rows and slide(early, "activities").empty_text


def test_slides_follow_the_progress_history(engine):
    org = make_org(engine, departments=(("สำนักปลัด", 10), ("กองคลัง", 5)))
    admin = actor_for(engine, make_user(engine, username="meet-admin", role="admin", org_id=org))
    m1 = make_measure(engine, org_id=org, number=1, title="ประชุมผู้บริหารเรื่องที่ต้องป้องกัน",
                      departments=["สำนักปลัด"], end=dt.date(2025, 3, 31))
    m2 = make_measure(engine, org_id=org, number=2, title="เผยแพร่ข้อมูลผู้ใช้บริการ", departments=["กองคลัง"],
                      end=dt.date(2024, 12, 31))
    make_measure(engine, org_id=org, number=3, title="ป้ายประชาสัมพันธ์", owner_all=True, end=dt.date(2025, 1, 20))
    with db.session_scope(engine) as s:
        measures_svc.record_progress(s, measure_id=m1, status=Status.in_progress, percent=30,
                                     as_of=dt.date(2024, 11, 10), actor=admin)
        measures_svc.record_progress(s, measure_id=m1, status=Status.done, percent=100,
                                     as_of=dt.date(2025, 1, 15), actor=admin)
        measures_svc.record_progress(s, measure_id=m2, status=Status.in_progress, percent=50,
                                     as_of=dt.date(2024, 12, 5), actor=admin)
        activities_svc.add_activity(s, organization_id=org, date=dt.date(2025, 1, 9), title="อบรมผู้บริหาร ที่ห้องประชุม",
                                    measure_id=m1, actor=admin)

    def deck_at(day: dt.date) -> tuple[meeting.MeetingDeck, dict]:
        with db.session_scope(engine) as s:
            return (meeting.build_deck(s, organization_id=org, fiscal_year=2568, as_of=day),
                    build_summary(s, organization_id=org, fiscal_year=2568, as_of=day).to_json_dict())

    dec, dec_data = deck_at(dt.date(2024, 12, 31))
    jan, jan_data = deck_at(dt.date(2025, 1, 31))
    for deck, data in ((dec, dec_data), (jan, jan_data)):
        assert numbers(deck.slides[0])[t("kpi_measures_done")] == f"{data['measures']['done']} / 3"
        assert numbers(deck.slides[0])[t("kpi_overdue")] == str(data["measures"]["overdue"])
    assert numbers(dec.slides[0])[t("kpi_measures_done")] == "0 / 3"
    assert numbers(jan.slides[0])[t("kpi_measures_done")] == "1 / 3"
    assert numbers(dec.slides[0])[t("kpi_overdue")] == "0"
    assert numbers(jan.slides[0])[t("kpi_overdue")] == "2"  # m2 ended 31 Dec, m3 20 Jan, neither done

    # due list: on 31 Dec m2 is due that very day ("ครบกำหนดวันนี้", not "next month", in red) and m3
    # (20 Jan) within a month; in January both overdue
    dec_due, jan_due = slide(dec, "due"), slide(jan, "due")
    assert [r.text.split(".")[0] for r in dec_due.rows] == ["2", "3"]
    assert [r.alert for r in dec_due.rows] == [True, False]
    assert dec_due.rows[0].detail.startswith("ครบกำหนดวันนี้") and "20 ม.ค. 2568" in dec_due.rows[1].detail
    assert numbers(dec_due) == {t("status_overdue"): "0", "ครบกำหนดวันนี้": "1", t("meeting_due_soon"): "1"}
    assert all(r.alert for r in jan_due.rows) and {r.text.split(".")[0] for r in jan_due.rows} >= {"2", "3"}
    assert numbers(jan_due)[t("status_overdue")] == "2"

    # measures by department: สำนักปลัด has m1 and m3 (everyone's)
    rows = {r.label: r for r in slide(jan, "measures").charts[0].rows}
    assert rows["สำนักปลัด"].text.startswith("1/2") and rows["กองคลัง"].text.startswith("0/2")

    # the activity of January, not in December
    assert [r.text for r in slide(jan, "activities").rows] == ["อบรมผู้บริหาร ที่ห้องประชุม"]
    assert "9 ม.ค. 2568" in slide(jan, "activities").rows[0].detail and "1" in slide(jan, "activities").rows[0].detail
    assert slide(dec, "activities").rows == []


def test_long_lists_are_cut_for_the_projector(engine):
    org = make_org(engine, departments=(("สำนักปลัด", 3),))
    for n in range(1, 12):
        make_measure(engine, org_id=org, number=n, title=f"มาตรการที่ {n}", departments=["สำนักปลัด"],
                     end=dt.date(2024, 11, 30))
    with db.session_scope(engine) as s:
        deck = meeting.build_deck(s, organization_id=org, fiscal_year=2568, as_of=dt.date(2024, 12, 31))
    due = slide(deck, "due")
    assert len(due.rows) == meeting.MAX_ROWS
    assert due.more_text == t("meeting_more", n=11 - meeting.MAX_ROWS)
    assert numbers(due)[t("status_overdue")] == "11"


# --- the PDF pack -----------------------------------------------------------------------------


@needs_poppler
def test_meeting_pack_pdf_one_page_per_slide_with_thai_text(demo_url, tmp_path):
    deck, _ = demo_deck(demo_url, dt.date(2023, 3, 31))
    pdf = meeting_pack.meeting_pdf(deck)
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) == len(deck.slides) == 6
    w, h = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert abs(w - 841.89) < 1 and abs(h - 595.28) < 1  # A4 landscape in points
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    font_rows = [line for line in fonts.splitlines()[2:] if line.strip()]
    assert font_rows and all(" yes " in f" {line} " for line in font_rows)  # embedded (and subset)
    # -raw: content-stream order (layout mode moves stacked tone marks); squash: pdftotext puts
    # spaces after some shaped Thai glyphs, as in tests/test_posters.py
    text = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout
    flat = squash(text)
    for s in deck.slides:
        assert squash(s.title) in flat, s.title
    for expected in ("หน้า 1/6", "หน้า 6/6", "มาตรการที่เสร็จแล้ว", "1 / 7", "51 / 91", "ขาดอีก 40",
                     "เกณฑ์ผ่าน 85", "ข้อมูล ณ 31 มีนาคม 2566", NAOO, "สำนักปลัดเทศบาล", "เป้าหมาย"):
        assert squash(expected) in flat, expected
    pages = text.split("\f")
    assert squash(t("meeting_slide_activities", month="มีนาคม 2566")) in squash(pages[meeting.SLIDE_KEYS.index("activities")])
    # rasterised, each page has ink: the slides are drawn, not blank pages
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(path), str(tmp_path / "page")], check=True)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == 6
    for png in pngs:
        img = Image.open(png).convert("L")
        assert img.getextrema()[0] < 100  # something dark is drawn


def test_chart_png_is_a_16_9_picture_of_one_chart(demo_url, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no poppler needed: PDFium comes with pypdfium2
    assert meeting_pack.png_available()
    deck, _ = demo_deck(demo_url, dt.date(2023, 3, 31))
    chart = slide(deck, "surveys").charts[0]
    png = meeting_pack.chart_png(deck, chart)
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and abs(img.width - 1500) <= 2 and abs(img.height - 845) <= 2
    assert meeting_pack.chart_filename(deck, chart) == "meeting_iit_by_department_2566-03-31.png"
    assert meeting_pack.pack_filename(deck) == "meeting_2566_2566-03-31.pdf"


def test_pdf_pack_of_an_empty_organisation(engine):
    org = make_org(engine, name="อบต.<b>ว่าง</b>", departments=())
    with db.session_scope(engine) as s:
        deck = meeting.build_deck(s, organization_id=org, fiscal_year=2568, as_of=dt.date(2025, 1, 31))
    assert not slide(deck, "measures").charts and not slide(deck, "surveys").charts
    pdf = meeting_pack.meeting_pdf(deck)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 1


# --- the page ---------------------------------------------------------------------------------


def start(at, month: dt.date):
    at.selectbox(key="meeting_month").set_value(month).run()
    at.button(key="meeting_start").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def counter(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**หน้า"))


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_meeting_page_walks_the_slides_with_the_month_fixed(monkeypatch, demo_url):
    at = run_app(monkeypatch, demo_url, username="naoo_admin", page="app_pages/meeting.py")
    assert t("meeting_intro") in texts(at)
    start(at, dt.date(2023, 3, 31))
    assert counter(at) == "**หน้า 1/6**"
    assert metrics(at)[t("kpi_measures_done")] == "1 / 7"
    assert not [s for s in at.selectbox if s.key == "meeting_month"]  # the month is fixed now
    assert at.button(key="meeting_prev").disabled
    titles = [at.title[0].value]
    for n in range(2, 7):
        at.button(key="meeting_next").click().run()
        assert not at.exception
        assert counter(at) == f"**หน้า {n}/6**"
        titles.append(at.title[0].value)
    # a slide title is escaped for markdown (textsafe.md: "กอง\\/ส่วน"); on screen it reads the same
    shown = [re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", x).replace("\u2060", "") for x in titles]
    assert shown == [s.title for s in demo_deck(demo_url, dt.date(2023, 3, 31))[0].slides]
    assert at.button(key="meeting_next").disabled
    assert "การประชุมประจำเดือน" in texts(at)  # the March activity
    at.button(key="meeting_prev").click().run()
    assert counter(at) == "**หน้า 5/6**"
    for _ in range(4):
        at.button(key="meeting_prev").click().run()
    assert counter(at) == "**หน้า 1/6**"
    assert metrics(at)[t("kpi_measures_done")] == "1 / 7"  # same month all the way through
    assert at.session_state["meeting"]["as_of"] == dt.date(2023, 3, 31)

    # restart: pick another month, the numbers follow the history
    at.button(key="meeting_restart").click().run()
    assert "meeting" not in at.session_state
    start(at, dt.date(2022, 11, 30))
    assert metrics(at)[t("kpi_measures_done")] == "0 / 7"
    assert metrics(at)[t("kpi_iit")].startswith("0 /")


@pytest.mark.parametrize("username", ["naoo_admin", "naoo_mayor", "naoo_finance", "naoo_viewer"])
def test_every_role_can_present(monkeypatch, demo_url, username):
    at = run_app(monkeypatch, demo_url, username=username, page="app_pages/meeting.py")
    start(at, dt.date(2023, 9, 30))
    assert counter(at) == "**หน้า 1/6**"
    assert metrics(at)[t("kpi_measures_done")] == "6 / 7"
    assert at.get("download_button")  # the PDF pack (and the chart PNGs)
