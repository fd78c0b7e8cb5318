"""Build the corpus files of the office formats: .ods (LibreOffice), .xls (Excel 97), UTF-16 text.

    python tests/data/corpus/build_formats.py            # the UTF-16 text files only (pure Python)
    python tests/data/corpus/build_formats.py --soffice  # also the .ods/.xls, through LibreOffice
    python tests/data/corpus/build_formats.py --protected  # the password-protected files and the .doc

The .ods and .xls files are committed: they were written by LibreOffice 7.4 (Debian 12's
``libreoffice-calc-nogui``) with ``soffice --headless --convert-to ods|xls``, so they carry what
LibreOffice really writes and hand-made XML would miss: ``table:number-columns-repeated="16363"``
and ``table:number-rows-repeated="1048489"`` for the empty columns and rows after the data, the
covered cells (``table:covered-table-cell``) of a merged title row, date cells as
``office:value-type="date"``, and, in .xls, BIFF8 records in an OLE2 compound file. CI never runs
LibreOffice; run this with ``--soffice`` only to make them again.

"Unicode text" is what Excel's *Save As → Unicode Text (*.txt)* writes: UTF-16 little-endian
with a BOM, tab-separated, CRLF line ends, a field quoted only when it holds a tab, a quote or
a line break. Some offices rename it .csv; both are here.
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SURVEYS = HERE / "surveys"
PLANS = HERE / "plans"
GOOGLE_CSV = SURVEYS / "google_forms_sample_en.csv"
MS_XLSX = SURVEYS / "microsoft_forms_sample.xlsx"

PLAN_TITLE = [
    "แผนปฏิบัติการมาตรการส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน",
    "ประจำปีงบประมาณ พ.ศ. ๒๕๖๘",
    "เทศบาลตำบลคลังตัวอย่าง อำเภอเมือง จังหวัดน่าน",
]
PLAN_HEADER = ["ลำดับ", "มาตรการ/โครงการ/กิจกรรม", "ขั้นตอนหรือวิธีการปฏิบัติ", "ระยะเวลาดำเนินการ",
               "ผู้รับผิดชอบ", "ผลการดำเนินการ(output)", "ผลลัพธ์หรือผลสัมฤทธิ์ (outcome)"]
PLAN_ROWS = [
    ["1", "จัดทำคู่มือการให้บริการประชาชน", "1. จัดทำคู่มือ\n2. เผยแพร่บนเว็บไซต์", "ตุลาคม 2567 - ธันวาคม 2567",
     "สำนักปลัดเทศบาล", "มีคู่มือ 1 เล่ม", "ประชาชนทราบขั้นตอน"],
    ["2", "เปิดเผยข้อมูลการจัดซื้อจัดจ้าง", "ประกาศแผนจัดซื้อจัดจ้างประจำปี", "1 มกราคม - 31 มีนาคม 2568",
     "กองคลัง", "ประกาศบนเว็บไซต์", "การจัดซื้อโปร่งใส"],
    ["3", "ประชุมชี้แจงการประเมิน ITA", "ประชุมบุคลากรทุกกอง", "1 พฤศจิกายน - 30 พฤศจิกายน 2567",
     "ทุกกอง", "ประชุม 1 ครั้ง", "บุคลากรเข้าใจการประเมิน"],
    ["4", "ตรวจสอบการใช้รถราชการ", "บันทึกการใช้รถทุกครั้ง", "ตุลาคม 2567 - กันยายน 2568",
     "กองช่าง", "สมุดบันทึกการใช้รถ", "ไม่มีการใช้รถเพื่อประโยชน์ส่วนตน"],
]


def unicode_text(rows: list[list[str]]) -> bytes:
    """Excel's "Unicode Text": UTF-16LE with BOM, tabs, CRLF."""
    buf = io.StringIO()
    csv.writer(buf, delimiter="\t", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return b"\xff\xfe" + buf.getvalue().encode("utf-16-le")


def build_text() -> None:
    rows = list(csv.reader(io.StringIO(GOOGLE_CSV.read_text(encoding="utf-8-sig"), newline="")))
    (SURVEYS / "google_forms_unicode_text.txt").write_bytes(unicode_text(rows))
    (SURVEYS / "google_forms_unicode_text_renamed.csv").write_bytes(unicode_text(rows))


def plan_xlsx(path: Path) -> None:
    """The plan as an office writes it in Excel: a title merged across the table, then the table."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment

    wb = Workbook()
    ws = wb.active
    ws.title = "แผน ITA 2568"
    width = len(PLAN_HEADER)
    for i, line in enumerate(PLAN_TITLE, start=1):
        ws.cell(row=i, column=1, value=line)
        ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=width)
        ws.cell(row=i, column=1).alignment = Alignment(horizontal="center")
    ws.append([])
    ws.append(PLAN_HEADER)
    for row in PLAN_ROWS:
        ws.append(row)
    for r in ws.iter_rows(min_row=len(PLAN_TITLE) + 3):
        for c in r:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    wb.save(path)


def far_cell_xlsx(path: Path) -> None:
    """A tiny sheet with one value at IV65536 (the last cell an .xls can hold)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws["A1"] = "Timestamp"
    ws["B1"] = "ส่วนราชการ"
    ws["IV65536"] = "x"
    wb.save(path)


def soffice(src: Path, fmt: str, dest: Path, *, infilter: str = "") -> None:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        raise SystemExit("LibreOffice (soffice) not found: apt-get install libreoffice-calc-nogui")
    with tempfile.TemporaryDirectory() as out:
        cmd = [exe, "--headless", "--norestore", f"-env:UserInstallation=file://{out}/profile"]
        if infilter:
            cmd.append(f"--infilter={infilter}")
        subprocess.run([*cmd, "--convert-to", fmt, "--outdir", out, str(src)], check=True, capture_output=True,
                       timeout=300)
        made = Path(out) / (src.stem + "." + fmt.split(":")[0])
        shutil.copyfile(made, dest)


def build_office() -> None:
    PLANS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        # Google Forms' CSV opened in LibreOffice Calc (UTF-8, comma) and saved as .ods.
        src = tmp_path / "libreoffice_google_forms.csv"
        shutil.copyfile(GOOGLE_CSV, src)
        soffice(src, "ods", SURVEYS / "libreoffice_google_forms.ods", infilter="CSV:44,34,76,1")
        # Microsoft Forms' xlsx opened in LibreOffice and saved as .ods, and as Excel 97 .xls.
        src = tmp_path / "libreoffice_microsoft_forms.xlsx"
        shutil.copyfile(MS_XLSX, src)
        soffice(src, "ods", SURVEYS / "libreoffice_microsoft_forms.ods")
        src = tmp_path / "excel97_microsoft_forms.xlsx"
        shutil.copyfile(MS_XLSX, src)
        soffice(src, "xls:MS Excel 97", SURVEYS / "excel97_microsoft_forms.xls")
        # A plan with merged title rows, saved from LibreOffice.
        src = tmp_path / "libreoffice_plan_merged_title.xlsx"
        plan_xlsx(src)
        soffice(src, "ods", PLANS / "libreoffice_plan_merged_title.ods")
        # A hostile .xls: one value at the last cell Excel 97 has (IV65536).
        src = tmp_path / "excel97_far_cell.xlsx"
        far_cell_xlsx(src)
        soffice(src, "xls:MS Excel 97", SURVEYS / "excel97_far_cell.xls")


# A password given in LibreOffice's Save As dialog ("Save with password") reaches the export
# filter as the store argument "Password": ODF encrypts content.xml and the other parts inside
# the zip and lists them with <manifest:encryption-data> in META-INF/manifest.xml; the MS Excel 97
# filter writes a FILEPASS record (RC4) after the workbook's BOF, and every record body after it
# is encrypted (sheet names included). --convert-to cannot pass a password, so a Basic macro in
# a throwaway profile stores the document as the dialog would.
_SAVE_WITH_PASSWORD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" script:language="StarBasic">
Sub SavePw(src As String, dst As String, flt As String)
  Dim a(0) As New com.sun.star.beans.PropertyValue
  a(0).Name = "Hidden" : a(0).Value = True
  doc = StarDesktop.loadComponentFromURL(ConvertToURL(src), "_blank", 0, a())
  Dim b(2) As New com.sun.star.beans.PropertyValue
  b(0).Name = "FilterName" : b(0).Value = flt
  b(1).Name = "Password" : b(1).Value = "ita2569"
  b(2).Name = "Overwrite" : b(2).Value = True
  doc.storeToURL(ConvertToURL(dst), b())
  doc.close(True)
End Sub
</script:module>
"""


def soffice_with_password(src: Path, filter_name: str, dest: Path) -> None:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        raise SystemExit("LibreOffice (soffice) not found: apt-get install libreoffice-calc-nogui")
    with tempfile.TemporaryDirectory() as out:
        profile = [exe, "--headless", "--norestore", f"-env:UserInstallation=file://{out}/profile"]
        subprocess.run([*profile, "--terminate_after_init"], check=True, capture_output=True, timeout=300)
        (Path(out) / "profile/user/basic/Standard/Module1.xba").write_text(_SAVE_WITH_PASSWORD, encoding="utf-8")
        made = Path(out) / ("made" + dest.suffix)
        subprocess.run([*profile, f'macro:///Standard.Module1.SavePw("{src}","{made}","{filter_name}")'],
                       check=True, capture_output=True, timeout=300)
        shutil.copyfile(made, dest)


def build_protected() -> None:
    """Password-protected exports and a Word 97 plan: files that must be refused with a clear line."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "microsoft_forms_sample.xlsx"
        shutil.copyfile(MS_XLSX, src)
        soffice_with_password(src, "calc8", SURVEYS / "refused_password_libreoffice.ods")
        soffice_with_password(src, "MS Excel 97", SURVEYS / "refused_password_excel97.xls")
        # Excel's File > Info > Protect Workbook > Encrypt with Password: an OLE2 compound file
        # holding EncryptionInfo (agile, AES-256) and EncryptedPackage (the xlsx zip, encrypted),
        # which is what msoffcrypto-tool writes too (pip install msoffcrypto-tool, outside the
        # project's venv: only this builder needs it).
        from msoffcrypto.format.ooxml import OOXMLFile

        with open(MS_XLSX, "rb") as plain, open(SURVEYS / "refused_password_excel.xlsx", "wb") as locked:
            OOXMLFile(plain).encrypt("ita2569", locked)
        # The Word plan opened in LibreOffice Writer and saved as Word 97-2003 (.doc): an OLE2
        # file with a WordDocument stream, which agencies still keep plans in.
        soffice(PLANS / "plan_word_merged.docx", "doc:MS Word 97", PLANS / "refused_word97_plan.doc")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--soffice", action="store_true", help="also write the .ods/.xls files with LibreOffice")
    ap.add_argument("--protected", action="store_true",
                    help="write the password-protected files and the .doc plan (LibreOffice, msoffcrypto-tool)")
    args = ap.parse_args()
    build_text()
    if args.soffice:
        build_office()
    if args.protected:
        build_protected()


if __name__ == "__main__":
    main()
