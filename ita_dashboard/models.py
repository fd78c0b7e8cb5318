"""SQLModel tables: the data model of docs/architecture.md.

Conventions:
- dates are stored as ISO ``date``/``datetime`` (UTC for datetimes); BE years only on screen,
  except ``fiscal_year`` which is the BE fiscal year number (2566, 2568, ...) as ITA names it;
- free text taken from a file is kept "as written" next to what we resolved it to;
- JSON columns hold small structured values (aliases, answer codes, a form's questions, before/after snapshots).

Every change here needs an Alembic migration in ``migrations/versions``.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum, StrEnum
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint, text
from sqlalchemy.orm import relationship
from sqlmodel import Field, Relationship, SQLModel, col


def utcnow() -> dt.datetime:
    """Aware UTC now; SQLModel's datetime columns refuse naive values."""
    return dt.datetime.now(dt.timezone.utc)


class Role(str, Enum):
    admin = "admin"
    executive = "executive"
    department_head = "department_head"
    viewer = "viewer"


class Status(str, Enum):
    not_started = "not_started"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


class Instrument(str, Enum):
    iit = "iit"
    eit = "eit"


class BatchKind(StrEnum):
    """What an import batch read. The values are what ``importbatch.kind`` stores (a plain string
    column, unchanged since the first schema): compare with the members, never with the strings."""

    measures = "measures"
    survey_iit = "survey_iit"
    survey_eit = "survey_eit"
    progress = "progress"  # a progress (status) sheet

    @classmethod
    def survey(cls, instrument: Instrument | str) -> "BatchKind":
        """The kind of a survey batch of ``instrument``."""
        return cls(f"survey_{Instrument(instrument).value}")

    @property
    def instrument(self) -> Optional[Instrument]:
        """The instrument of a survey batch; None for the other kinds."""
        return {"survey_iit": Instrument.iit, "survey_eit": Instrument.eit}.get(self.value)

    @property
    def is_survey(self) -> bool:
        return self.instrument is not None


class OitStatus(str, Enum):
    """Where an OIT item stands: ยังไม่เริ่ม / กำลังจัดทำ / เผยแพร่แล้ว / ตรวจแล้ว."""

    not_started = "not_started"
    in_progress = "in_progress"
    published = "published"
    checked = "checked"


class Organization(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    # เทศบาลนคร / เทศบาลเมือง / เทศบาลตำบล / อบจ. / อบต. / other (see framework.AGENCY_KINDS)
    kind: str = Field(default="other")
    # S / M / L as the EIT minimum-sample table uses it; None when unknown.
    size: Optional[str] = None
    province: Optional[str] = Field(default=None, index=True)  # roll-up filters
    district: Optional[str] = None
    # The agency's ITAS code (itas.nacc.go.th/go/iit/<code>) for QR posters.
    itas_code: Optional[str] = None
    # The agency's own website (https://naoo.go.th): OIT links elsewhere are flagged.
    website: Optional[str] = None
    # Invented data (demo) is marked in the UI.
    is_demo: bool = False
    created_at: dt.datetime = Field(default_factory=utcnow)


class Department(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("organization_id", "name"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    name: str
    # Other spellings seen in surveys and reports; resolution normalises before comparing.
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Staff with at least one year of service: the IIT population (ita-facts §4).
    iit_eligible_staff: int = 0
    sort_order: int = 0


class DepartmentAbbreviation(SQLModel, table=True):
    """One organisation's edit of the abbreviation table (issue 11).

    Every organisation starts from the standard list in code
    (``departments.STANDARD_ABBREVIATIONS``); a row here adds an abbreviation, changes what a
    standard one stands for, or (``active`` False) switches a standard one off for this
    organisation. Deleting the row brings the standard entry back. ``key`` is the abbreviation
    without dots or spaces ("สป"); it stands for a unit word (``expansion``) or for one
    registered department (``department_id``).
    """

    __table_args__ = (UniqueConstraint("organization_id", "key"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    key: str
    abbreviation: str  # as the admin wrote it: "สป."
    expansion: Optional[str] = None
    department_id: Optional[int] = Field(default=None, foreign_key="department.id", ondelete="CASCADE")
    active: bool = True
    updated_at: dt.datetime = Field(default_factory=utcnow)


class MeasureDepartment(SQLModel, table=True):
    """Responsible departments of a measure (many-to-many)."""

    measure_id: int = Field(foreign_key="measure.id", primary_key=True, ondelete="CASCADE")
    department_id: int = Field(foreign_key="department.id", primary_key=True, ondelete="CASCADE")


class Measure(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("organization_id", "fiscal_year", "number"),
        Index("ix_measure_org_year", "organization_id", "fiscal_year"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id")
    fiscal_year: int  # BE
    number: int  # order within the year's plan, 1-based
    section_number: Optional[int] = None
    section_title: Optional[str] = None
    title: str = Field(sa_column=Column(Text, nullable=False))
    steps: str = Field(default="", sa_column=Column(Text, nullable=False))
    owner_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    owner_all: bool = False  # "ทุกกอง" and kin: every department
    unresolved_owners: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    period_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    start_date: Optional[dt.date] = None
    end_date: Optional[dt.date] = None
    recurrence: Optional[str] = None  # monthly / quarterly / semiannual / ... comma-joined
    period_unparsed: bool = False  # flagged: text kept as written, dates not guessed
    output_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    outcome_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    indicator: Optional[str] = None  # ITA indicator / O-item it serves
    source_batch_id: Optional[int] = Field(default=None, foreign_key="importbatch.id")
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class ProgressUpdate(SQLModel, table=True):
    """Append-only log; the current state of a measure is its newest row by (as_of, id)."""

    __table_args__ = (Index("ix_progress_measure_asof", "measure_id", "as_of"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    measure_id: int = Field(foreign_key="measure.id")
    as_of: dt.date
    status: Status = Field(default=Status.not_started)
    percent: int = 0
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    evidence_url: Optional[str] = None
    user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    import_batch_id: Optional[int] = Field(default=None, foreign_key="importbatch.id")
    created_at: dt.datetime = Field(default_factory=utcnow)


class Activity(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    measure_id: Optional[int] = Field(default=None, foreign_key="measure.id")
    date: dt.date
    title: str = Field(sa_column=Column(Text, nullable=False))
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    # Photos live in the database so replicas keep no local state.
    photo: Optional[bytes] = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    photo_mime: Optional[str] = None
    user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    created_at: dt.datetime = Field(default_factory=utcnow)


class ImportBatch(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    fiscal_year: Optional[int] = None
    kind: str  # a BatchKind value (measures / survey_iit / survey_eit / progress): BatchKind(batch.kind)
    file_name: str
    sha256: str = Field(index=True)
    size_bytes: int = 0
    user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    created_at: dt.datetime = Field(default_factory=utcnow)
    read_count: int = 0
    imported_count: int = 0
    duplicate_count: int = 0
    rejected_count: int = 0
    # [{"row": 12, "column": "Timestamp", "reason": "..."}]
    rejected_rows: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    undone_at: Optional[dt.datetime] = None
    undone_by: Optional[int] = Field(default=None, foreign_key="user.id")
    # Survey batches: the form (header signature) the file was, and how its rows compared with
    # the form's stored state (services/survey_state.py): rows new, changed (the same response
    # ID, other content), unchanged, and rows no longer counted (vanished) after this import.
    form_id: Optional[int] = Field(default=None, foreign_key="surveyform.id")
    # sha256 of (file, column mapping asked for, the reader's code): the same file read the same
    # way is recognised without reading it again (services/survey_import.import_survey_file).
    parse_key: Optional[str] = None
    new_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    changed_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    unchanged_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    vanished_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # A survey import writes its rows in short transactions while its batch is ``staging`` (those
    # rows count nowhere), then flips it to ``done`` in one short transaction: the import is all
    # or nothing, and other writers get in between its chunks. The lease says which process
    # writes a staging batch and until when it is known alive (services/survey_staging.py).
    state: str = Field(default="done", sa_column_kwargs={"server_default": "done"})
    lease_owner: Optional[str] = None
    lease_until: Optional[dt.datetime] = None


class SurveyForm(SQLModel, table=True):
    """One survey form of an agency's year and instrument, stored once: its header signature,
    its questions in order and each question's scale (the answer labels seen, in order).

    A response's ``answer_codes`` index into these lists (see services/survey_forms.Codebook), so the
    question texts are not repeated in every response. Both lists only ever grow: codes stored
    earlier stay valid. Forms migrated from before forms existed have a ``legacy:`` signature.
    """

    __table_args__ = (UniqueConstraint("organization_id", "fiscal_year", "instrument", "signature"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id")
    fiscal_year: int
    instrument: Instrument
    signature: str
    questions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    scales: list[list[str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The answer columns its responses' keys are made of, when fewer than all (columns an owner
    # added at the right of an earlier form's: services/survey_keys.key_columns); NULL = all.
    key_columns: Optional[list[str]] = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    created_at: dt.datetime = Field(default_factory=utcnow)


def _counted_only():
    return text("vanished_by IS NULL")


class SurveyResponse(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("organization_id", "fiscal_year", "instrument", "respondent_key"),
        # Counting indexes hold counted responses only (every count filters on vanished_by IS NULL).
        Index("ix_response_org_year_instr_dept", "organization_id", "fiscal_year", "instrument", "department_id",
              sqlite_where=_counted_only(), postgresql_where=_counted_only()),
        Index("ix_response_org_year_instr_day", "organization_id", "fiscal_year", "instrument", "submitted_on",
              sqlite_where=_counted_only(), postgresql_where=_counted_only()),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id")
    fiscal_year: int
    instrument: Instrument
    submitted_at: dt.datetime  # aware, stored as UTC
    submitted_on: dt.date  # the local (Asia/Bangkok) date, for per-day/week counts in SQL
    department_id: Optional[int] = Field(default=None, foreign_key="department.id")
    department_text: str = ""  # as written in the export
    # sha256 of the normalised row: identical rows are one response, re-exports add nothing.
    respondent_key: str
    # The form's own identity of the response across exports (Microsoft Forms' ID, an e-mail
    # unique in the file), when the export has one: an edited response keeps it.
    respondent_ref: Optional[str] = None
    # Answers as codes against the form (``form_id``): one entry per form question, 0 = not
    # answered, k = the question's k-th scale label, a string = the answer text itself, [v] = a
    # non-text value; trailing zeros dropped. ``answers`` gives them back as {question: answer}.
    form_id: Optional[int] = Field(default=None, foreign_key="surveyform.id")
    answer_codes: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Respondent-level scores (0-100) pre-computed at import from the year's answer scale so the
    # overview can AVG() in SQL: ``score`` is the instrument mean, ``indicator_scores`` the
    # per-indicator means, slot k = k-th indicator of the instrument in the framework file.
    score: Optional[float] = None
    indicator_score_1: Optional[float] = None
    indicator_score_2: Optional[float] = None
    indicator_score_3: Optional[float] = None
    indicator_score_4: Optional[float] = None
    indicator_score_5: Optional[float] = None
    import_batch_id: Optional[int] = Field(default=None, foreign_key="importbatch.id", index=True)
    # Set when a newer export of the response's form no longer holds it: the row is kept (and
    # shown to the admin) but counted nowhere. The batch after which it stopped being counted.
    vanished_by: Optional[int] = Field(default=None, foreign_key="importbatch.id")
    form: Optional[SurveyForm] = Relationship(sa_relationship=relationship("SurveyForm"))

    @property
    def answers(self) -> dict[str, Any]:
        """{question: answer} as the export had it (non-empty answers, in the form's order)."""
        return decode_answers(self.answer_codes, self.form)


def decode_answers(codes: Any, form: Optional[SurveyForm]) -> dict[str, Any]:
    """A response's answer codes back to {question: answer}; see SurveyResponse.answer_codes."""
    if not codes or form is None:
        return {}
    questions, scales = form.questions, form.scales
    out: dict[str, Any] = {}
    for i, code in enumerate(codes):
        if code == 0 and isinstance(code, int):
            continue
        if isinstance(code, int) and not isinstance(code, bool):
            out[questions[i]] = scales[i][code - 1]
        elif isinstance(code, list):
            out[questions[i]] = code[0]
        else:
            out[questions[i]] = code
    return out


def counted():
    """The WHERE term of every count of responses: vanished rows are kept but never counted."""
    return col(SurveyResponse.vanished_by).is_(None)


class SurveyBatchResponse(SQLModel, table=True):
    """Which responses each survey batch contained (new or already stored), with the row each was
    on in that file. The counted state of a form is a function of its batches that are not
    undone (services/survey_state.py), so undoing any batch recomputes it exactly."""

    __table_args__ = (Index("ix_surveybatchresponse_response", "response_id"), {"sqlite_with_rowid": False})
    batch_id: int = Field(foreign_key="importbatch.id", primary_key=True)
    response_id: int = Field(foreign_key="surveyresponse.id", primary_key=True)
    row_number: Optional[int] = None


class SurveyTarget(SQLModel, table=True):
    """Target count per instrument; department_id NULL means the whole organisation."""

    __table_args__ = (UniqueConstraint("organization_id", "fiscal_year", "instrument", "department_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    fiscal_year: int
    instrument: Instrument
    department_id: Optional[int] = Field(default=None, foreign_key="department.id")
    target: int


class ItasSnapshot(SQLModel, table=True):
    """Totals the admin read off ITAS on a date, for agencies that only have those."""

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    fiscal_year: int
    as_of: dt.date
    iit_count: Optional[int] = None
    eit_count: Optional[int] = None
    user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    created_at: dt.datetime = Field(default_factory=utcnow)


class FormMapping(SQLModel, table=True):
    """Column mapping an admin confirmed for a survey form, remembered by header signature."""

    __table_args__ = (UniqueConstraint("organization_id", "signature"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id")
    signature: str
    mapping: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: dt.datetime = Field(default_factory=utcnow)


class FrameworkOverride(SQLModel, table=True):
    """An agency's own value for one framework key (e.g. ``eit_minimum`` or ``weights.iit``)."""

    __table_args__ = (UniqueConstraint("organization_id", "fiscal_year", "key"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id")
    fiscal_year: int
    key: str
    value: Any = Field(default=None, sa_column=Column(JSON, nullable=True))


class User(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True)
    display_name: str = ""
    password_hash: str
    role: Role
    # None = may see every organisation (a province office admin).
    organization_id: Optional[int] = Field(default=None, foreign_key="organization.id")
    department_id: Optional[int] = Field(default=None, foreign_key="department.id")
    active: bool = True
    must_change_password: bool = False
    # Failed logins in a row, counted atomically (auth.authenticate); they expire when the last
    # one is older than the failure window (ITA_LOCKOUT_WINDOW_MINUTES).
    failed_logins: int = 0
    last_failed_login_at: Optional[dt.datetime] = None
    locked_until: Optional[dt.datetime] = None
    last_login_at: Optional[dt.datetime] = None
    created_at: dt.datetime = Field(default_factory=utcnow)


class LoginSession(SQLModel, table=True):
    """A server-side login: the browser keeps a random token in a cookie, the database only its
    SHA-256 (``token_hash``), so a copy of the database or a backup opens no session.
    See :mod:`ita_dashboard.sessions`."""

    id: Optional[int] = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    method: str = Field(default="password", max_length=16)  # password / sso
    created_at: dt.datetime = Field(default_factory=utcnow)
    last_seen_at: dt.datetime = Field(default_factory=utcnow)
    expires_at: dt.datetime  # absolute end, whatever the activity
    revoked_at: Optional[dt.datetime] = None
    revoked_reason: Optional[str] = Field(default=None, max_length=32)


class OrgMembership(SQLModel, table=True):
    """A user's role in one more organisation (a province officer, a consultant, a group admin).

    The user's own row still holds the home organisation (``User.organization_id``, ``role``,
    ``department_id``), which wins for that organisation. A user with a home of NULL and no
    membership sees every organisation; one with memberships sees only home + memberships.
    """

    __table_args__ = (UniqueConstraint("user_id", "organization_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    role: Role
    department_id: Optional[int] = Field(default=None, foreign_key="department.id")
    created_at: dt.datetime = Field(default_factory=utcnow)


class AuditEvent(SQLModel, table=True):
    """Append-only: the app offers no way to edit or delete these rows."""

    id: Optional[int] = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow, index=True)
    user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    username: str = ""  # kept as text: survives the user's deletion and covers failed logins
    organization_id: Optional[int] = Field(default=None, foreign_key="organization.id", index=True)
    action: str
    entity: str = ""
    entity_id: Optional[str] = None
    before: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON, nullable=True))


class OitItem(SQLModel, table=True):
    """One OIT item (O1, O2, ...) of an agency's fiscal year: the agency's own, editable copy of
    the framework's list (``framework/oit_items.py``), with who publishes it and by when."""

    __table_args__ = (
        Index("ix_oititem_org_year", "organization_id", "fiscal_year"),
        # one active item per number and year; a removed item keeps its number in the history
        Index("uq_oititem_active_number", "organization_id", "fiscal_year", "number", unique=True,
              sqlite_where=text("removed_at IS NULL"), postgresql_where=text("removed_at IS NULL")),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id")
    fiscal_year: int  # BE
    number: str  # "O25"
    name: str = Field(sa_column=Column(Text, nullable=False))
    indicator: Optional[int] = None  # 9 การเปิดเผยข้อมูล / 10 การป้องกันการทุจริต
    sub_indicator: str = ""
    contents: str = Field(default="", sa_column=Column(Text, nullable=False))  # what it must contain
    covers: str = "current"  # the fiscal year its data is about: current / previous
    department_id: Optional[int] = Field(default=None, foreign_key="department.id")
    due_date: Optional[dt.date] = None
    origin: str = "admin"  # framework / admin / import / copy / demo
    confidence: Optional[str] = None  # of the framework's name and number (H/M/L/U), None when the agency's own
    removed_at: Optional[dt.datetime] = None  # removed by the admin; kept for its history
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class OitUpdate(SQLModel, table=True):
    """Append-only log of an item's status; its current state is the newest row by (as_of, id)."""

    __table_args__ = (Index("ix_oitupdate_item_asof", "item_id", "as_of"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="oititem.id")
    as_of: dt.date
    status: OitStatus = Field(default=OitStatus.not_started)
    url: Optional[str] = None  # where the item is published
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    evidence_url: Optional[str] = None
    user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    created_at: dt.datetime = Field(default_factory=utcnow)


class OitLinkCheck(SQLModel, table=True):
    """One visit of an item's URL by the link check: what came back, and what is wrong with it."""

    __table_args__ = (Index("ix_oitlinkcheck_item_at", "item_id", "checked_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="oititem.id")
    url: str = Field(sa_column=Column(Text, nullable=False))
    checked_at: dt.datetime = Field(default_factory=utcnow)
    ok: bool = False
    # broken / empty / other_domain / not_http / timeout / too_large / error; None when ok
    problem: Optional[str] = None
    status_code: Optional[int] = None
    content_type: Optional[str] = None
    final_url: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    size_bytes: Optional[int] = None
    user_id: Optional[int] = Field(default=None, foreign_key="user.id")
