"""Import batch kinds (models.BatchKind): the enum the code compares with, over the plain string
column ``importbatch.kind`` that databases have held since the first schema (no migration)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from ita_dashboard import db
from ita_dashboard.models import BatchKind, ImportBatch, Instrument
from ita_dashboard.ui.widgets import batch_kind_label
from tests.helpers import make_org

PACKAGE = Path(__file__).resolve().parent.parent / "ita_dashboard"
# what importbatch.kind holds in every database written so far
STORED = {"measures": None, "survey_iit": Instrument.iit, "survey_eit": Instrument.eit, "progress": None}


def sources() -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py")}


def test_the_enum_values_are_the_stored_strings():
    assert {k.value: k.instrument for k in BatchKind} == STORED
    assert [k for k in BatchKind if k.is_survey] == [BatchKind.survey_iit, BatchKind.survey_eit]
    assert {BatchKind.survey(i) for i in Instrument} == {BatchKind.survey_iit, BatchKind.survey_eit}
    assert BatchKind.survey("eit") is BatchKind.survey_eit
    assert f"{BatchKind.survey_iit}" == "survey_iit"  # formats as the stored string, not "BatchKind.survey_iit"


def test_every_kind_has_a_label():
    for kind in BatchKind:
        assert batch_kind_label(kind) != kind.value, kind


def test_every_batch_the_code_makes_has_an_enum_kind():
    made = 0
    for path, src in sources().items():
        for m in re.finditer(r"ImportBatch\(", src):
            call = src[m.end():m.end() + 600]
            kind = re.search(r"\bkind=([^,\n]+)", call)
            if kind is None:
                continue
            made += 1
            assert kind.group(1).startswith(("BatchKind.", "earlier.kind")), (path.name, kind.group(1))
    assert made >= 4  # measures, survey (new and read again), progress


def test_no_kind_is_compared_as_a_string():
    for path, src in sources().items():
        assert not re.search(r"kind\.(startswith|removeprefix)\(\s*[\"']survey", src), path.name
        assert not re.search(r"kind\s*==\s*f?[\"'](measures|progress|survey)", src), path.name


def test_old_databases_values_parse_and_new_ones_are_stored_as_plain_strings(engine):
    org_id = make_org(engine)
    with db.session_scope(engine) as s:  # as an older version wrote them
        for value in STORED:
            s.execute(text("INSERT INTO importbatch (organization_id, kind, file_name, sha256, size_bytes, created_at, "
                           "read_count, imported_count, duplicate_count, rejected_count, rejected_rows) "
                           "VALUES (:org, :kind, :name, 'x', 0, CURRENT_TIMESTAMP, 0, 0, 0, 0, '[]')"),
                      {"org": org_id, "kind": value, "name": f"old-{value}"})
        s.add(ImportBatch(organization_id=org_id, kind=BatchKind.survey_eit, file_name="new", sha256="y"))
    with db.session_scope(engine) as s:
        got = {b.file_name: BatchKind(b.kind) for b in s.exec(select(ImportBatch))}
        raw = s.execute(text("SELECT kind FROM importbatch WHERE file_name = 'new'")).scalar_one()
    assert {name: kind.instrument for name, kind in got.items() if name.startswith("old-")} == {
        f"old-{v}": i for v, i in STORED.items()}
    assert got["new"] is BatchKind.survey_eit and raw == "survey_eit" and type(raw) is str
    with db.session_scope(engine) as s:
        assert s.exec(select(ImportBatch.file_name).where(ImportBatch.kind == BatchKind.survey_iit)).all() == [
            "old-survey_iit"]


@pytest.mark.parametrize("value", ["", "survey", "survey_oit", "Measures"])
def test_unknown_kinds_are_refused(value):
    with pytest.raises(ValueError):
        BatchKind(value)
