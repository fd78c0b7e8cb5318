"""The upload guard (ita_dashboard/importers/guard.py): hostile files are refused with one Thai
line, under 300 MB of peak memory, by every path that reads an upload.

The bombs are built in the test's memory/tmp dir (tests/hostile_files.py), never committed.
Peak memory is measured as ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` inside a fresh
wrapper process that runs the command line (or a parser) as its only child, so earlier tests'
subprocesses do not count. Time is not asserted.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import hostile_files as hf
from ita_dashboard.importers import guard
from ita_dashboard.importers.measures import parse_measures_file
from ita_dashboard.importers.surveys import parse_survey_file
from ita_dashboard.importers.tabular import FileProblem, read_sheets

REPO = Path(__file__).resolve().parent.parent
PEAK_LIMIT_MB = 300

_WRAPPER = """
import json, resource, subprocess, sys
p = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"rc": p.returncode, "stdout": p.stdout, "stderr": p.stderr, "peak_mb": peak_kb / 1024}))
"""


def run_measured(args: list[str], tmp_path: Path) -> dict:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'guard.db'}"}
    env.pop("ITA_DEBUG", None)
    p = subprocess.run([sys.executable, "-c", _WRAPPER, *args], capture_output=True, text=True, env=env, cwd=REPO,
                       timeout=600)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def cli_measured(tmp_path: Path, *args: str) -> dict:
    """The command in a child process, against a database holding one organisation (the import
    commands look the organisation up before reading the file: the file must be what is refused)."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'guard.db'}"}
    p = subprocess.run([sys.executable, "-m", "ita_dashboard", "add-org", "เทศบาลตำบลทดสอบ"], capture_output=True,
                       text=True, env=env, cwd=REPO, timeout=300)
    assert p.returncode == 0 or "มีหน่วยงาน" in p.stderr, p.stderr
    return run_measured([sys.executable, "-m", "ita_dashboard", *args], tmp_path)


def assert_refused(result: dict, *needles: str) -> str:
    assert result["rc"] == 1, result
    lines = [line for line in result["stderr"].splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result["stderr"], result["stderr"]
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert result["peak_mb"] < PEAK_LIMIT_MB, f"peak {result['peak_mb']:.0f} MB: {lines[0]}"
    return lines[0]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------------------------
# Through the command line, in a child process: refusal and peak memory


@pytest.fixture(scope="module")
def xlsx_bomb(tmp_path_factory) -> Path:
    data = hf.xlsx_deflate_bomb(1150)
    assert len(data) < 8 * hf.MiB
    return write(tmp_path_factory.mktemp("bomb"), "responses.xlsx", data)


def test_xlsx_deflate_bomb_refused_as_survey_and_as_plan(xlsx_bomb: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(xlsx_bomb) as zf:
        assert zf.getinfo("xl/worksheets/sheet1.xml").file_size > 1_000_000_000
    assert_refused(cli_measured(tmp_path, "import-survey", str(xlsx_bomb), "--instrument", "iit"),
                   "sheet1.xml", "อัดระเบิด")
    assert_refused(cli_measured(tmp_path, "import-measures", str(xlsx_bomb)), "อัดระเบิด")


def test_ods_deflate_bomb_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "responses.ods", hf.ods_deflate_bomb(1100))
    assert_refused(cli_measured(tmp_path, "import-survey", str(path), "--instrument", "eit"), "content.xml", "อัดระเบิด")


def test_docx_with_a_bomb_document_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "plan.docx", hf.docx_document_bomb(1100))
    assert_refused(cli_measured(tmp_path, "import-measures", str(path)), "word/document.xml", "อัดระเบิด")


def test_docx_with_a_pixel_bomb_image_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "plan.docx", hf.docx_image_bomb())
    assert_refused(cli_measured(tmp_path, "import-measures", str(path)), "word/media/image1.png", "ล้านพิกเซล")


def test_docx_with_a_deflate_bomb_image_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "plan.docx", hf.docx_image_deflate_bomb(1100))
    assert_refused(cli_measured(tmp_path, "import-measures", str(path)), "word/media/image1.png", "อัดระเบิด")


@pytest.mark.parametrize("ref", ["XFD1048576", "ZZ200000"])
def test_far_cell_sheets_refused_before_calamine_allocates(ref: str, tmp_path: Path) -> None:
    """XFD1048576 made calamine abort the process (512 GiB); ZZ200000 took 6.8 GB."""
    for dimension in (True, False):  # the declared dimension, and the real extent alone
        path = write(tmp_path, f"status_{dimension}.xlsx", hf.xlsx_far_cell(ref, dimension=dimension))
        assert path.stat().st_size < 3000
        assert_refused(cli_measured(tmp_path, "import-survey", str(path), "--instrument", "iit"), ref, "Form Responses 1")
        assert_refused(cli_measured(tmp_path, "import-measures", str(path)), ref)


def test_status_workbook_far_cell_refused_in_a_child(tmp_path: Path) -> None:
    path = write(tmp_path, "status.xlsx", hf.xlsx_far_cell("XFD1048576", dimension=False))
    code = ("import sys\nfrom ita_dashboard.services.status_sheet import parse_status_workbook\n"
            "from ita_dashboard.importers.tabular import FileProblem\n"
            "try:\n    parse_status_workbook(open(sys.argv[1], 'rb').read())\n"
            "except FileProblem as exc:\n    print(exc, file=sys.stderr); sys.exit(1)\n")
    assert_refused(run_measured([sys.executable, "-c", code, str(path)], tmp_path), "XFD1048576")


def test_zip_lying_about_its_sizes_refused(tmp_path: Path) -> None:
    data = hf.xlsx_lying_sizes(600)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.getinfo("xl/worksheets/sheet1.xml").file_size == 4096  # the lie passes the declared checks
    guard.check_zip(data)
    path = write(tmp_path, "liar.xlsx", data)
    assert_refused(cli_measured(tmp_path, "import-survey", str(path), "--instrument", "iit"), "ขนาดที่ไฟล์ประกาศไว้")
    assert_refused(cli_measured(tmp_path, "import-measures", str(path)), "ขนาดที่ไฟล์ประกาศไว้")


# ---------------------------------------------------------------------------------------------
# The guard's rules, in process (small files)


def test_ods_repeated_filled_cells_and_far_rows_refused() -> None:
    # A few bytes repeated into 20 million filled cells.
    repeat_bomb = (b'<table:table-row table:number-rows-repeated="200000">'
                   b'<table:table-cell table:number-columns-repeated="100" office:value-type="float" office:value="1"/>'
                   b"</table:table-row>")
    with pytest.raises(FileProblem, match="Sheet1"):
        guard.check_upload(hf.ods_rows(repeat_bomb))
    far = (b'<table:table-row table:number-rows-repeated="700000"><table:table-cell table:number-columns-repeated="16384"/>'
           b'</table:table-row><table:table-row><table:table-cell table:number-columns-repeated="600"/>'
           b'<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>')
    with pytest.raises(FileProblem, match="WC700002"):
        guard.check_upload(hf.ods_rows(far))
    wide = (b'<table:table-row><table:table-cell table:number-columns-repeated="5000"/>'
            b'<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>')
    with pytest.raises(FileProblem, match="2,000"):
        guard.check_upload(hf.ods_rows(wide))


def test_ods_libreoffice_trailing_repeats_and_merged_cells_pass() -> None:
    """What LibreOffice writes after every table (1,048,575 empty rows of 16,384 empty cells) is not data."""
    rows = (b'<table:table-row><table:table-cell office:value-type="date" office:date-value="2025-01-14T18:29:56">'
            b"<text:p>14/01/2025 18:29:56</text:p></table:table-cell>"
            b'<table:table-cell table:number-columns-spanned="2" office:value-type="string"><text:p>Finance</text:p>'
            b"</table:table-cell><table:covered-table-cell/><table:table-cell table:number-columns-repeated=\"16381\"/>"
            b"</table:table-row>")
    data = hf.ods_rows(rows)
    guard.check_upload(data)
    sheets = read_sheets(data)
    assert sheets[0].rows[0][:2] == ["Timestamp", "Department"]
    assert sheets[0].rows[1][0] == dt.datetime(2025, 1, 14, 18, 29, 56)


def test_prefixed_and_r_less_xlsx_cells_are_placed_as_calamine_places_them() -> None:
    """The fast scan hands odd spellings to the exact tokenizer: a prefixed far cell is still found."""
    xml = (b'<?xml version="1.0"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b'<x:sheetData><x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>a</x:t></x:is></x:c></x:row>'
           b'<x:row r="300000"><x:c r="ZZ300000"><x:v>1</x:v></x:c></x:row></x:sheetData></x:worksheet>')
    with pytest.raises(FileProblem, match="ZZ300000"):
        guard.check_upload(hf.xlsx_with_sheet(hf.deflated(xml, "xl/worksheets/sheet1.xml")))
    cells = b"".join(b"<c><v>1</v></c>" for _ in range(2100))  # r-less: columns A.. by position
    xml = hf.SHEET_HEAD + b"<sheetData><row>" + cells + b"</row></sheetData></worksheet>"
    with pytest.raises(FileProblem, match="2,100"):
        guard.check_upload(hf.xlsx_with_sheet(hf.deflated(xml, "xl/worksheets/sheet1.xml")))


def test_members_count_and_ratio_and_total() -> None:
    many = hf.zip_bytes([hf.deflated(b"x", f"xl/m{i}.xml") for i in range(1001)])
    with pytest.raises(FileProblem, match="1,001"):
        guard.check_upload(many)
    # Under the size caps, but compressed 1,000 times: no real document does that.
    row = b'<row><c t="inlineStr"><is><t>' + b"E" * 1000 + b"</t></is></c></row>"
    ratio = hf.xlsx_with_sheet(hf.deflated_repeat("xl/worksheets/sheet1.xml", hf.SHEET_HEAD + b"<sheetData>",
                                                  row * 1000, 50, b"</sheetData></worksheet>"))
    with pytest.raises(FileProblem, match="เท่า"):
        guard.check_upload(ratio)
    ok = hf.xlsx_far_cell("B3", dimension=True)
    guard.check_upload(ok)
    assert read_sheets(ok)[0].rows[0] == ["Timestamp", "Department"]


def test_real_exports_pass_the_guard() -> None:
    corpus = REPO / "tests" / "data" / "corpus"
    for path in [*corpus.glob("surveys/*.xlsx"), *corpus.glob("surveys/*.ods"), *corpus.glob("plans/*.ods"),
                 corpus / "surveys" / "excel97_microsoft_forms.xls"]:
        if not path.name.startswith("refused_password_"):  # saved with a password: refused below
            guard.check_upload(path.read_bytes())


@pytest.mark.parametrize("name", ["refused_password_excel.xlsx", "refused_password_libreoffice.ods",
                                  "refused_password_excel97.xls"])
def test_password_protected_files_are_named_so(name: str) -> None:
    """Excel's Encrypt with Password (OLE2 EncryptedPackage), LibreOffice's ODF encryption and an
    Excel 97 FILEPASS: the guard says password, not "damaged" or a sheet of garbage dimensions."""
    data = (REPO / "tests" / "data" / "corpus" / "surveys" / name).read_bytes()
    with pytest.raises(FileProblem) as err:
        guard.check_upload(data)
    assert err.value.code == "guard_encrypted"
    with pytest.raises(FileProblem) as err:
        parse_measures_file(data)
    assert err.value.code == "guard_encrypted"


def test_word97_doc_is_named_not_a_workbook() -> None:
    data = (REPO / "tests" / "data" / "corpus" / "plans" / "refused_word97_plan.doc").read_bytes()
    with pytest.raises(FileProblem) as err:
        parse_measures_file(data)
    assert err.value.code == "measures_file_doc"
    with pytest.raises(FileProblem) as err:
        parse_survey_file(data)
    assert err.value.code == "survey_word_file"
    with pytest.raises(FileProblem) as err:
        read_sheets(data)
    assert err.value.code == "tabular_word"


def test_xls_far_cell_refused_by_its_biff_records() -> None:
    data = (REPO / "tests" / "data" / "corpus" / "surveys" / "excel97_far_cell.xls").read_bytes()
    with pytest.raises(FileProblem, match="IV65536"):
        guard.check_upload(data)
    with pytest.raises(FileProblem, match="IV65536"):
        parse_survey_file(data)


def test_limits_follow_the_upload_limit(monkeypatch) -> None:
    monkeypatch.setenv("ITA_MAX_UPLOAD_MB", "10")
    assert guard.max_rows() == 10 * 1024 * 1024 // guard.MIN_ROW_BYTES
    with pytest.raises(FileProblem, match="163,840"):
        guard.check_upload(hf.xlsx_far_cell("B200000", dimension=False))
    monkeypatch.setenv("ITA_MAX_UPLOAD_MB", "50")
    guard.check_upload(hf.xlsx_far_cell("B200000", dimension=False))  # 2 columns x 200,000: not sparse-big


def test_odt_is_named_not_a_spreadsheet() -> None:
    data = hf.zip_bytes([hf.stored("mimetype", b"application/vnd.oasis.opendocument.text"),
                         hf.deflated(b"<x/>", "content.xml")])
    with pytest.raises(FileProblem, match=r"\.odt"):
        parse_survey_file(data)


# ---------------------------------------------------------------------------------------------
# Photos and backups


def test_activity_photo_pixel_bomb_refused_before_decoding() -> None:
    from ita_dashboard.services.activities import ActivityError, check_photo

    with pytest.raises(ActivityError, match="ล้านพิกเซล"):
        check_photo(hf.png_header(30_000, 30_000))
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buf, "PNG")
    assert check_photo(buf.getvalue()) == "image/png"


def test_backup_with_a_bomb_member_refused_before_reading(tmp_path: Path) -> None:
    from ita_dashboard import backup, db
    from ita_dashboard.permissions import Actor

    engine = db.make_engine(f"sqlite:///{tmp_path / 'restore.db'}")
    db.migrate(engine)
    bomb = hf.zip_bytes([hf.deflated_repeat("manifest.json", b'{"app": "ita-dashboard", "pad": "', b" " * hf.MiB, 300, b'"}')])
    path = write(tmp_path, "backup.zip", bomb)
    with pytest.raises(backup.BackupError) as err:
        backup.restore_backup(engine, source=path, actor=Actor.system())
    # the backup's own cap on its manifest answers first, naming the member; the zip guard stands behind it
    assert err.value.code == "too_large" and err.value.params["member"] == "manifest.json"
    engine.dispose()


def test_measures_docx_and_plan_refusals_in_process() -> None:
    with pytest.raises(FileProblem, match="image1.png"):
        parse_measures_file(hf.docx_image_bomb())


def test_status_workbook_filled_and_saved_as_ods_reads_like_the_xlsx(engine) -> None:
    """A head opens the downloaded status workbook in LibreOffice, fills it and saves it as .ods."""
    from openpyxl import load_workbook

    from helpers import make_measure, make_org
    from ita_dashboard import db
    from ita_dashboard.services import status_sheet as ss

    org = make_org(engine)
    make_measure(engine, org_id=org, number=1, title="เผยแพร่แผนจัดซื้อจัดจ้าง", departments=["กองคลัง"])
    make_measure(engine, org_id=org, number=2, title="ตรวจรับงานจ้าง", departments=["กองช่าง"])
    with db.session_scope(engine) as s:
        xlsx = ss.build_status_workbook(s, organization_id=org, fiscal_year=2568, as_of=dt.date(2025, 3, 31),
                                        per_department=False)
    wb = load_workbook(io.BytesIO(xlsx))
    ws = wb.worksheets[0]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    h = next(i for i, r in enumerate(rows) if "รหัส" in r)
    status_col, percent_col = rows[h].index("สถานะ"), rows[h].index("ร้อยละ")
    rows[h + 1][status_col], rows[h + 1][percent_col] = "กำลังดำเนินการ", 40
    rows[h + 2][status_col] = "เสร็จแล้ว"
    ws.cell(h + 2, status_col + 1).value, ws.cell(h + 2, percent_col + 1).value = "กำลังดำเนินการ", 40
    ws.cell(h + 3, status_col + 1).value = "เสร็จแล้ว"
    buf = io.BytesIO()
    wb.save(buf)
    from_xlsx = ss.parse_status_workbook(buf.getvalue())
    ods = hf.ods_workbook({ws.title: rows})
    guard.check_upload(ods)
    from_ods = ss.parse_status_workbook(ods)
    assert [(r.measure_id, r.status, r.percent) for r in from_ods.rows] == \
        [(r.measure_id, r.status, r.percent) for r in from_xlsx.rows]
    assert len(from_ods.rows) == 2 and from_ods.as_of == from_xlsx.as_of


def test_a_far_cell_written_with_other_whitespace_is_still_found() -> None:
    """``<c\\tr="XFD1048576">`` in ``<row\\tr=...>``, no dimension: XML allows any whitespace after the
    tag name, calamine reads it, so the guard's fast count must not pass it by (found in review)."""
    xml = (hf.SHEET_HEAD + b"<sheetData>" + hf.HEADER_ROW
           + b'<row\tr="1048576"><c\tr="XFD1048576" t="inlineStr"><is><t>x</t></is></c\t></row>'
           + b"</sheetData></worksheet>")
    data = hf.xlsx_with_sheet(hf.deflated(xml, "xl/worksheets/sheet1.xml"))
    with pytest.raises(FileProblem, match="XFD1048576"):
        guard.check_upload(data)


def test_an_ods_part_behind_xlsx_parts_is_scanned_too() -> None:
    """calamine falls back to ODS when a zip's xlsx parts fail to open: a zip with both must have its
    content.xml checked like any .ods (found in review)."""
    far = (b'<table:table-row table:number-rows-repeated="20000000"><table:table-cell office:value-type="string">'
           b"<text:p>x</text:p></table:table-cell></table:table-row>")
    content = hf.deflated(hf.ODS_HEAD + far + hf.ODS_TAIL, "content.xml")
    broken_wb = hf.deflated(b"<workbook>not xml", "xl/workbook.xml")
    data = hf.zip_bytes([hf.deflated(hf._CT, "[Content_Types].xml"), hf.deflated(hf._RELS, "_rels/.rels"), broken_wb,
                         hf.deflated(hf.SHEET_HEAD + b"<sheetData/></worksheet>", "xl/worksheets/sheet1.xml"), content])
    with pytest.raises(FileProblem):
        guard.check_upload(data)
