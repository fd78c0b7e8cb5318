"""The status sheet's columns, its Thai status labels and the sheet names: shared by building
the workbook (:mod:`.build`) and reading it back (:mod:`.parse`)."""

from __future__ import annotations

import re
from typing import ClassVar

from ...errors import ItaError
from ...models import Status

COL_KEY = "รหัส"
COL_NO = "ลำดับ"
COL_TITLE = "มาตรการ"
COL_OWNER = "ผู้รับผิดชอบ"
COL_PERIOD = "ระยะเวลา"
COL_CUR_STATUS = "สถานะปัจจุบัน"
COL_CUR_PERCENT = "ร้อยละปัจจุบัน"
COL_STATUS = "สถานะ"
COL_PERCENT = "ร้อยละ"
COL_NOTE = "หมายเหตุ"
COL_LINK = "ลิงก์หลักฐาน"
COL_DATE = "ณ วันที่"  # the per-row date column; its header carries a hint in brackets
AS_OF_LABEL = "ณ วันที่"  # the sheet-level cell above the header
_AS_OF_HINT = "← วันที่ของข้อมูลที่กรอก (แก้ได้ ใช้กับทุกแถวที่ไม่ได้ระบุวันที่ของตนเอง)"

HEADERS = (COL_KEY, COL_NO, COL_TITLE, COL_OWNER, COL_PERIOD, COL_CUR_STATUS, COL_CUR_PERCENT,
           COL_STATUS, COL_PERCENT, COL_NOTE, COL_LINK, COL_DATE)
_HEADER_TEXT = {COL_DATE: f"{COL_DATE} (ถ้าต่างจากด้านบน)"}
FILL_COLUMNS = (COL_STATUS, COL_PERCENT, COL_NOTE, COL_LINK)
_WIDTHS = {COL_KEY: 7, COL_NO: 7, COL_TITLE: 50, COL_OWNER: 24, COL_PERIOD: 22, COL_CUR_STATUS: 16,
           COL_CUR_PERCENT: 10, COL_STATUS: 18, COL_PERCENT: 10, COL_NOTE: 40, COL_LINK: 36, COL_DATE: 20}

# Thai labels as the dropdown shows them (always Thai: the sheet is a Thai document).
STATUS_LABELS: dict[Status, str] = {
    Status.not_started: "ยังไม่เริ่ม",
    Status.in_progress: "กำลังดำเนินการ",
    Status.done: "เสร็จแล้ว",
    Status.cancelled: "ยกเลิก",
}
_STATUS_WORDS: dict[str, Status] = {}
for _st, _label in STATUS_LABELS.items():
    _STATUS_WORDS[_label] = _st
    _STATUS_WORDS[_st.value] = _st
    _STATUS_WORDS[_st.value.replace("_", "")] = _st
for _word, _st in {
    "ยังไม่ดำเนินการ": Status.not_started, "notstarted": Status.not_started,
    "อยู่ระหว่างดำเนินการ": Status.in_progress, "ระหว่างดำเนินการ": Status.in_progress,
    "inprogress": Status.in_progress,
    "เสร็จ": Status.done, "เสร็จสิ้น": Status.done, "แล้วเสร็จ": Status.done,
    "ดำเนินการแล้วเสร็จ": Status.done, "ดำเนินการเสร็จแล้ว": Status.done,
    "canceled": Status.cancelled,
}.items():
    _STATUS_WORDS[_word] = _st

SHEET_NAME_SINGLE = "สถานะมาตรการ"
SHEET_NAME_UNASSIGNED = "ยังไม่ระบุกอง"
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


class StatusSheetError(ItaError, ValueError):
    """A status sheet that cannot be used as a whole; ``str(exc)`` is Thai."""

    codes: ClassVar[tuple[str, ...]] = (
        "status_sheet_org_not_found",
    )


def _key(text: str) -> str:
    """A header cell as compared: spaces collapsed, a trailing "(...)" hint dropped."""
    text = " ".join(str(text or "").split())
    return re.sub(r"\s*\(.*\)\s*$", "", text).strip()
