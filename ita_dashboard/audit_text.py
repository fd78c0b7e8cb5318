"""The audit trail in plain Thai: what an action is called and what it changed.

``audit.py`` stores before/after as JSON dicts of model columns; an admin reading the trail wants
"สถานะ: ยังไม่เริ่ม → กำลังดำเนินการ", not ``{'status': 'in_progress', 'id': 7, ...}``. Fields
nobody reads (ids, timestamps, password hashes) are left out; values are shown as the screens show
them (Thai status and role words, Buddhist-era dates, department names, empty instead of None).
No streamlit here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, Optional

from . import thai
from .texts import role_label, status_label, t

# Column names that mean nothing to a reader of the trail.
_HIDDEN = {"id", "created_at", "updated_at", "user_id", "organization_id", "measure_id", "import_batch_id",
           "password_hash", "sort_order", "ids", "mapping", "sheet", "last_login_at", "failed_logins",
           "undone_by", "claim", "sha256", "size_bytes", "rejected_rows", "photo_mime", "written_key",
           "respondent_key", "revision", "photo_bytes", "source_batch_id"}

# The fields shown for a record that was created (or deleted): the ones that name it.
_NAMING = ("name", "title", "username", "display_name", "role", "department_id", "number", "status", "percent",
           "as_of", "date", "note", "target", "instrument", "fiscal_year", "value", "file_name", "file", "kind",
           "read", "imported", "duplicate", "rejected", "created", "updated", "unchanged", "rows",
           "deleted_responses", "iit_eligible_staff", "aliases", "written", "responses_resolved",
           "measures_changed", "iit_count", "eit_count", "method", "reason", "active", "must_change_password",
           "unresolved_owners", "unmatched_departments")

_EMPTY = ""
_ARROW = " → "


def action_label(action: str) -> str:
    """``login.success`` -> "เข้าสู่ระบบสำเร็จ"; an action without a Thai name stays as it is."""
    key = "audit_action_" + action.replace(".", "_")
    text = t(key)
    return action if text == key else text


def action_prefix_label(prefix: str) -> str:
    """The audit filter's groups (``login``, ``measure``...)."""
    key = f"audit_group_{prefix}"
    text = t(key)
    return prefix if text == key else text


def field_label(name: str) -> str:
    key = f"audit_field_{name}"
    text = t(key)
    return name if text == key else text


def value_text(name: str, value: Any, *, department_names: Mapping[int, str] | None = None) -> str:
    """One stored value as the screens show it."""
    if value is None or value == "" or value == [] or value == {}:
        return _EMPTY
    if name == "status":
        return status_label(str(value))
    if name == "role":
        return role_label(str(value))
    if name == "instrument":
        return str(value).upper()
    if name == "department_id":
        return (department_names or {}).get(value) or t("audit_other_department")
    if name in ("method",):
        return t("audit_method_sso") if value == "sso" else t("audit_method_password")
    if name == "reason":
        key = f"audit_reason_{value}"
        return t(key) if t(key) != key else str(value)
    if name == "percent":
        return f"{value}%"
    if isinstance(value, bool):
        return t("audit_yes") if value else t("audit_no")
    if isinstance(value, (list, tuple)):
        return ", ".join(value_text(name, v, department_names=department_names) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {value_text(k, v)}" for k, v in value.items())
    if isinstance(value, str) and name in ("as_of", "date", "start_date", "end_date", "locked_until", "undone_at",
                                                "created_at"):
        return _date_text(value)
    text = str(value)
    return text if len(text) <= 120 else text[:117] + "…"


def _date_text(iso: str) -> str:
    """An ISO date or datetime (UTC) as a Thai date; a datetime in Bangkok time."""
    try:
        if len(iso) <= 10:
            return thai.format_date_th(dt.date.fromisoformat(iso), abbr=True)
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    from zoneinfo import ZoneInfo

    return thai.format_datetime_th(moment.astimezone(ZoneInfo("Asia/Bangkok")))


def describe_change(before: Optional[Mapping[str, Any]], after: Optional[Mapping[str, Any]], *,
                    department_names: Mapping[int, str] | None = None) -> str:
    """What changed, one "field: old → new" per line; for a record that was created or deleted,
    the fields that name it ("field: value")."""
    names = department_names or {}
    before = dict(before or {}) if isinstance(before, Mapping) else {}
    after = dict(after or {}) if isinstance(after, Mapping) else {}
    lines: list[str] = []
    if before and after:
        for key in _ordered(set(before) | set(after)):
            old_text = value_text(key, before.get(key), department_names=names)
            new_text = value_text(key, after.get(key), department_names=names)
            if key not in before:  # a fact about the change (rows resolved, file name), not a changed field
                if new_text:
                    lines.append(f"{field_label(key)}: {new_text}")
            elif old_text != new_text:
                lines.append(f"{field_label(key)}: {old_text or '–'}{_ARROW}{new_text or '–'}")
    else:
        record = after or before
        prefix = "" if after else t("audit_removed") + " "
        for key in _ordered(set(record)):
            if record[key] is False:  # "not X" says nothing about a new record
                continue
            text = value_text(key, record[key], department_names=names)
            if text:
                lines.append(f"{prefix}{field_label(key)}: {text}")
                prefix = ""
    return "\n".join(lines)


def _ordered(keys: set[str]) -> list[str]:
    """Naming fields first, in their order; then the rest alphabetically; hidden ones dropped."""
    shown = [k for k in keys if k not in _HIDDEN]
    return sorted(shown, key=lambda k: (_NAMING.index(k) if k in _NAMING else len(_NAMING), k))


def describe_event(event, *, department_names: Mapping[int, str] | None = None) -> str:
    """An audit event's change in words; an agency's framework value says which value it is."""
    text = describe_change(event.before, event.after, department_names=department_names)
    if event.action == "framework.override" and event.entity_id:
        key = str(event.entity_id).split(":", 1)[-1]
        label = t(f"framework_key_{key}")
        what = label if label != f"framework_key_{key}" else key
        text = f"{what}\n{text}" if text else what
    return text
