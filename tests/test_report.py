"""The yearly report (issue 5): docx/xlsx content and layout, fonts, Thai digits, the `report`
command, the round trip through `import-measures`, and the report page's downloads."""

from __future__ import annotations

import datetime as dt
import io

import docx
import pytest
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from docx.shared import Mm
from openpyxl import load_workbook
from PIL import Image
from sqlmodel import select

from ita_dashboard import db
from ita_dashboard.models import Measure
from ita_dashboard.permissions import Actor
from ita_dashboard.reports import docx_report
from ita_dashboard.reports import measures_table as rpt
from ita_dashboard.services import activities, orgs

from tests.cli_utils import assert_one_line_error, run

ORG = "องค์การบริหารส่วนตำบลทดลอง"
FY = 2568
THAI_DIGITS = set("๐๑๒๓๔๕๖๗๘๙")
FIELDS = ("number", "title", "steps", "owner_text", "period_text", "output_text", "outcome_text",
          "section_number", "section_title")

# Section 1 holds two measures, section 2 one; measure 3 runs Apr–Sep (only in the 12-month round).
MEASURES = [
    dict(number=1, section_number=1, section_title="กระบวนการปฏิบัติงานที่โปร่งใส", title="จัดทำคู่มือบริการประชาชน",
         steps="1. จัดทำคู่มือ\n2. เผยแพร่ทางเว็บไซต์ https://www.example.go.th/2568",
         owner_text="ทุกกอง", period_text="ตุลาคม 2567 - มีนาคม 2568",
         start_date=dt.date(2024, 10, 1), end_date=dt.date(2025, 3, 31),
         output_text="=มีคู่มือ 3 เล่ม", outcome_text="- ประชาชนทราบขั้นตอน\n- ลดเวลารอ"),
    dict(number=2, section_number=1, section_title="กระบวนการปฏิบัติงานที่โปร่งใส", title="ประเมินความเสี่ยงการทุจริต",
         steps="1. ประชุมคณะทำงาน\n2. จัดทำรายงาน", owner_text="กองคลัง",
         period_text="ตลอดปีงบประมาณ พ.ศ. 2568", start_date=dt.date(2024, 10, 1), end_date=dt.date(2025, 9, 30),
         output_text="1. มีรายงานประเมินความเสี่ยง", outcome_text="ความเสี่ยงลดลง"),
    dict(number=3, section_number=2, section_title="การใช้บริการ E-Service", title="พัฒนาระบบ E-Service",
         steps="1. ออกแบบแบบฟอร์ม\n2. เปิดใช้งาน", owner_text="สำนักปลัด",
         period_text="เมษายน - กันยายน 2568", start_date=dt.date(2025, 4, 1), end_date=dt.date(2025, 9, 30),
         output_text="+ระบบพร้อมใช้", outcome_text="ประชาชนยื่นคำร้องออนไลน์ได้"),
]


def _png(color: str, size=(400, 300), fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format=fmt)
    return buf.getvalue()


def fill(engine, *, sections: bool = True) -> int:
    """An organisation with the measures above and three activities (two with photos)."""
    with db.session_scope(engine) as s:
        org = orgs.create_organization(s, name=ORG, kind="อบต.", province="ศรีสะเกษ", district="ห้วยทับทัน",
                                       departments=["สำนักปลัด", "กองคลัง"], actor=Actor.system())
        ids = []
        for m in MEASURES:
            fields = dict(m) if sections else {**m, "section_number": None, "section_title": None}
            row = Measure(organization_id=org.id, fiscal_year=FY, **fields)
            s.add(row)
            s.flush()
            ids.append(row.id)
        activities.add_activity(s, organization_id=org.id, date=dt.date(2025, 3, 7), title="ประชุมประจำเดือน",
                                text="ชี้แจงมาตรการ No Gift Policy", measure_id=ids[0], photo=_png("red"),
                                actor=Actor.system())
        activities.add_activity(s, organization_id=org.id, date=dt.date(2024, 11, 20), title="อบรมบุคลากร",
                                text="", photo=_png("blue", (300, 600), "WEBP"), actor=Actor.system())
        activities.add_activity(s, organization_id=org.id, date=dt.date(2025, 4, 2), title="ประกาศเจตนารมณ์",
                                text="", actor=Actor.system())
        return org.id


def build(engine, org_id: int, *, round_: int = 12, thai_digits: bool = False) -> rpt.Report:
    with db.session_scope(engine) as s:
        return rpt.build_report(s, organization_id=org_id, fiscal_year=FY, round_=round_, thai_digits=thai_digits,
                                today=dt.date(2026, 1, 1))


def doc_text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


# ---------------------------------------------------------------- content


def test_numbered_lines_numbers_plain_lines_and_keeps_written_numbers():
    assert rpt.numbered_lines("ก\nข") == ["1. ก", "2. ข"]
    assert rpt.numbered_lines("๑. ก\n๒. ข") == ["๑. ก", "๒. ข"]
    assert rpt.numbered_lines("- ก\n- ข") == ["- ก", "- ข"]
    assert rpt.numbered_lines("ข้อเดียว") == ["ข้อเดียว"]
    assert rpt.numbered_lines("") == []


def test_thai_digits_keep_web_addresses():
    assert rpt.digits("ปี 2568 ดู https://a.go.th/2568", thai_digits=True) == "ปี ๒๕๖๘ ดู https://a.go.th/2568"
    assert rpt.digits("ปี 2568", thai_digits=False) == "ปี 2568"


def test_round_6_covers_october_to_march(engine):
    org_id = fill(engine)
    six, twelve = build(engine, org_id, round_=6), build(engine, org_id, round_=12)
    assert six.as_of == dt.date(2025, 3, 31) and twelve.as_of == dt.date(2025, 9, 30)
    assert [r.cells[0] for r in six.rows] == ["1. จัดทำคู่มือบริการประชาชน", "2. ประเมินความเสี่ยงการทุจริต"]
    assert len(twelve.rows) == 3
    assert [a.title for a in six.activities] == ["อบรมบุคลากร", "ประชุมประจำเดือน"]  # oldest first, April left out
    assert [a.date_text for a in twelve.activities] == ["20 พฤศจิกายน 2567", "7 มีนาคม 2568", "2 เมษายน 2568"]
    assert six.title_lines == [rpt.REPORT_TITLE, "ประจำปีงบประมาณ พ.ศ. 2568 (รอบ 6 เดือน)",
                               f"{ORG} อำเภอห้วยทับทัน จังหวัดศรีสะเกษ"]


# ---------------------------------------------------------------- docx


def _rpr_font_ok(rpr, *, bold: bool) -> None:
    assert rpr is not None
    fonts = rpr.find(qn("w:rFonts"))
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        assert fonts.get(qn(attr)) == "TH Sarabun New", attr
    assert fonts.get(qn("w:cstheme")) is None and fonts.get(qn("w:asciiTheme")) is None
    assert rpr.find(qn("w:sz")).get(qn("w:val")) == "32"
    assert rpr.find(qn("w:szCs")).get(qn("w:val")) == "32"
    if bold:
        assert rpr.find(qn("w:b")) is not None and rpr.find(qn("w:bCs")) is not None


def test_docx_layout_fonts_tables_and_activities(engine):
    org_id = fill(engine)
    document = docx.Document(io.BytesIO(docx_report.to_docx(build(engine, org_id))))

    section = document.sections[0]
    assert section.page_width > section.page_height
    assert abs(section.page_width - Mm(297)) < Mm(1) and abs(section.page_height - Mm(210)) < Mm(1)

    # fonts: defaults, styles and every run carry the complex-script slots
    styles = document.styles.element
    _rpr_font_ok(styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")), bold=False)
    for name in ("Normal", "Table Grid"):
        _rpr_font_ok(document.styles[name].element.rPr, bold=False)
    runs = document.element.body.iter(qn("w:r"))
    checked = 0
    for r in runs:
        if r.find(qn("w:t")) is not None:
            rpr = r.find(qn("w:rPr"))
            _rpr_font_ok(rpr, bold=rpr.find(qn("w:b")) is not None)
            checked += 1
    assert checked > 20
    font_table = document.part.part_related_by(RT.FONT_TABLE).blob.decode()
    assert 'w:name="TH Sarabun New"' in font_table and "Sarabun,Laksaman" in font_table

    # title, sections, tables
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[:3] == build(engine, org_id).title_lines
    assert "1. กระบวนการปฏิบัติงานที่โปร่งใส" in paragraphs and "2. การใช้บริการ E-Service" in paragraphs
    assert len(document.tables) == 2
    for table in document.tables:
        assert [c.text for c in table.rows[0].cells] == list(rpt.HEADERS)
        assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    first = document.tables[0]
    assert [r.cells[0].text for r in first.rows[1:]] == ["1. จัดทำคู่มือบริการประชาชน", "2. ประเมินความเสี่ยงการทุจริต"]
    steps = [p.text for p in first.rows[1].cells[1].paragraphs]
    assert steps == ["1. จัดทำคู่มือ", "2. เผยแพร่ทางเว็บไซต์ https://www.example.go.th/2568"]
    assert [p.text for p in first.rows[1].cells[5].paragraphs] == ["- ประชาชนทราบขั้นตอน", "- ลดเวลารอ"]

    # activities with BE dates and photos 8 cm wide (the WebP one converted, tall one capped in height)
    assert "กิจกรรม" in paragraphs
    text = "\n".join(paragraphs)
    assert "วันที่ 7 มีนาคม 2568" in text and "วันที่ 20 พฤศจิกายน 2567" in text and "ลงชื่อ" in text
    shapes = document.inline_shapes
    assert len(shapes) == 2
    assert any(abs(s.width - Mm(80)) < Mm(1) for s in shapes)
    assert all(s.height <= Mm(101) for s in shapes)


def test_docx_without_sections_is_one_table(engine):
    org_id = fill(engine, sections=False)
    document = docx.Document(io.BytesIO(docx_report.to_docx(build(engine, org_id))))
    assert len(document.tables) == 1 and len(document.tables[0].rows) == 4


def test_thai_digits_off_by_default_and_on_when_asked(engine):
    org_id = fill(engine)
    plain = doc_text(docx.Document(io.BytesIO(docx_report.to_docx(build(engine, org_id, round_=6)))))
    assert not THAI_DIGITS & set(plain)
    assert "พ.ศ. 2568 (รอบ 6 เดือน)" in plain

    thai = doc_text(docx.Document(io.BytesIO(docx_report.to_docx(build(engine, org_id, round_=6, thai_digits=True)))))
    assert "พ.ศ. ๒๕๖๘ (รอบ ๖ เดือน)" in thai and "๑. จัดทำคู่มือ" in thai and "วันที่ ๗ มีนาคม ๒๕๖๘" in thai
    assert "https://www.example.go.th/2568" in thai  # links keep working
    assert not set("0123456789") & set(thai.replace("https://www.example.go.th/2568", ""))


# ---------------------------------------------------------------- xlsx


def test_xlsx_text_cells_sections_and_activities_sheet(engine):
    org_id = fill(engine)
    wb = load_workbook(io.BytesIO(rpt.to_xlsx(build(engine, org_id))))
    assert wb.sheetnames == ["รายงาน", "กิจกรรม"]
    ws = wb["รายงาน"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[0][0] == rpt.REPORT_TITLE
    headers = [i for i, r in enumerate(rows) if tuple(r[:6]) == rpt.HEADERS]
    assert len(headers) == 1  # one header, repeated on every printed page; the sections are rows under it
    assert rows[headers[0] + 1][0] == "1. กระบวนการปฏิบัติงานที่โปร่งใส"
    formula_like = [c for r in ws.iter_rows() for c in r if isinstance(c.value, str) and c.value.startswith(("=", "+"))]
    assert {c.value for c in formula_like} == {"=มีคู่มือ 3 เล่ม", "+ระบบพร้อมใช้"}
    assert all(c.data_type == "s" for c in formula_like)
    acts = [[c.value for c in r] for r in wb["กิจกรรม"].iter_rows()]
    assert acts[0] == list(rpt.ACTIVITY_HEADERS)
    assert acts[2][:2] == ["7 มีนาคม 2568", "ประชุมประจำเดือน"] and acts[2][3] == "1. จัดทำคู่มือบริการประชาชน"


def test_xlsx_prints_a4_landscape_one_page_wide_with_the_header_on_every_page(engine):
    from ita_dashboard.reports.docx_report import COLUMN_WIDTHS_MM

    org_id = fill(engine)
    wb = load_workbook(io.BytesIO(rpt.to_xlsx(build(engine, org_id))))
    for name, widths_mm, columns in (("รายงาน", COLUMN_WIDTHS_MM, rpt.HEADERS),
                                     ("กิจกรรม", rpt.ACTIVITY_WIDTHS_MM, rpt.ACTIVITY_HEADERS)):
        ws = wb[name]
        setup = ws.page_setup
        assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9)  # 9: A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert (int(setup.fitToWidth), int(setup.fitToHeight)) == (1, 0)  # one page wide, as tall as needed
        header = next(r for r in ws.iter_rows() if tuple(c.value for c in r[:len(columns)]) == tuple(columns))
        row = header[0].row
        assert ws.print_title_rows == f"${row}:${row}"  # the header row repeats on every page
        # the Word report's column widths (in proportion: Excel counts characters, Word millimetres)
        widths = [ws.column_dimensions[chr(ord("A") + i)].width for i in range(len(columns))]
        assert [round(w * rpt.MM_PER_CHAR) for w in widths] == list(widths_mm)
        assert sum(widths_mm) == 257  # A4 landscape minus 2 cm margins
        body = [c for r in ws.iter_rows(min_row=row) for c in r[:len(columns)] if c.value]
        assert body and all(c.alignment.wrap_text for c in body)


# ---------------------------------------------------------------- the command and the round trip


@pytest.fixture
def report_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'source.db'}"
    engine = db.make_engine(url)
    db.migrate(engine)
    fill(engine)
    engine.dispose()
    return url


def _measures(url: str) -> list[dict]:
    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        rows = s.exec(select(Measure).where(Measure.fiscal_year == FY).order_by(Measure.number)).all()
        out = [{f: getattr(m, f) for f in FIELDS} for m in rows]
    engine.dispose()
    return out


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_report_imports_back_as_the_same_measures(report_db, tmp_path, fmt):
    out = tmp_path / f"report.{fmt}"
    p = run(report_db, "report", "--year", str(FY), "--round", "12", "--format", fmt, "-o", str(out), "--org", ORG)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == f"report written: {out} (3 measures, 3 activities)"
    assert out.is_file() and not [f for f in tmp_path.iterdir() if f.name.endswith(".tmp")]

    fresh = f"sqlite:///{tmp_path / f'fresh_{fmt}.db'}"
    assert run(fresh, "add-org", "อบต.ปลายทาง", "--kind", "อบต.").returncode == 0
    p = run(fresh, "import-measures", str(out), "--org", "อบต.ปลายทาง")
    assert p.returncode == 0, p.stderr
    assert "3 created" in p.stdout
    assert _measures(fresh) == _measures(report_db)


def test_report_thai_digits_flag_and_format_from_suffix(report_db, tmp_path):
    out = tmp_path / "r6.docx"
    p = run(report_db, "report", "--year", "๒๕๖๘", "--round", "6", "-o", str(out), "--thai-digits")
    assert p.returncode == 0, p.stderr
    assert "(2 measures, 2 activities)" in p.stdout
    assert "รอบ ๖ เดือน" in docx.Document(str(out)).paragraphs[1].text


@pytest.mark.parametrize("args, code, contains", [
    (("--org", "ไม่มีหน่วยงานนี้", "-o", "{dir}/x.docx"), 1, "ไม่พบหน่วยงาน"),
    (("--round", "7", "-o", "{dir}/x.docx"), 2, "invalid choice"),
    (("-o", "{dir}/missing/x.docx"), 1, "does not exist"),
    (("-o", "{dir}", "--format", "docx"), 1, "cannot write"),
    (("-o", "{dir}/x.pdf"), 2, "--format"),
])
def test_report_errors_leave_no_file(report_db, tmp_path, args, code, contains):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    args = [a.format(dir=out_dir) for a in args]
    base = ["report", "--year", str(FY)] + ([] if "--round" in args else ["--round", "12"])
    p = run(report_db, *base, *args)
    assert_one_line_error(p, code=code, contains=contains)
    assert p.stdout == ""
    assert list(out_dir.iterdir()) == []
    assert not [f for f in tmp_path.iterdir() if f.suffix == ".tmp"]  # no temporary file left either


# ---------------------------------------------------------------- the page


def test_report_page_offers_word_and_excel_and_thai_digits(monkeypatch, tmp_path):
    from tests.helpers import make_demo_db
    from tests.apptest_utils import run_app, texts

    url = make_demo_db(tmp_path / "demo.db")
    at = run_app(monkeypatch, url, username="naoo_admin", page="app_pages/report.py")
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["ดาวน์โหลด Word", "ดาวน์โหลด Excel"]
    assert "2566 \\(รอบ 12 เดือน\\)" in texts(at)  # markdown-escaped title line
    at.checkbox(key="report_thai_digits").check().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "๒๕๖๖ \\(รอบ ๑๒ เดือน\\)" in texts(at)
