"""The import gate: only admins import, undo or remember mappings; sizes are limited."""

import pytest
from sqlmodel import select

from ita_dashboard import db
from ita_dashboard.importers.surveys import parse_survey_file
from ita_dashboard.importers.tabular import FileProblem
from ita_dashboard.models import FormMapping, SurveyResponse
from ita_dashboard.permissions import PermissionDenied
from ita_dashboard.services import uploads
from tests import survey_files as sf
from tests.helpers import actor_for, make_org, make_user


@pytest.fixture
def org(engine):
    org_id = make_org(engine, departments=[(d, 5) for d in sf.DEPARTMENTS])
    admin = actor_for(engine, make_user(engine, username="admin", role="admin", org_id=org_id))
    viewer = actor_for(engine, make_user(engine, username="viewer", role="viewer", org_id=org_id))
    head = actor_for(engine, make_user(engine, username="head", role="department_head", org_id=org_id,
                                       department="กองคลัง"))
    return engine, org_id, admin, viewer, head


def test_only_admins_import_and_undo(org):
    engine, org_id, admin, viewer, head = org
    data = sf.google_csv(sf.make_responses(12))
    parsed = parse_survey_file(data, filename="x.csv")
    for actor in (viewer, head):
        with pytest.raises(PermissionDenied):
            with db.session_scope(engine) as s:
                uploads.import_survey(s, actor=actor, organization_id=org_id, instrument="iit", parsed=parsed,
                                      fiscal_year=None, file_name="x.csv", data=data)
    with db.session_scope(engine) as s:
        r = uploads.import_survey(s, actor=admin, organization_id=org_id, instrument="iit", parsed=parsed,
                                  fiscal_year=None, file_name="x.csv", data=data)
    assert r.imported == 12
    with pytest.raises(PermissionDenied):
        with db.session_scope(engine) as s:
            uploads.undo_batch(s, actor=viewer, batch_id=r.batch_id)
    with db.session_scope(engine) as s:
        uploads.undo_batch(s, actor=admin, batch_id=r.batch_id)
    with db.session_scope(engine) as s:
        assert s.exec(select(SurveyResponse)).all() == []


def test_remembered_mapping_is_admin_only_and_recalled(org):
    engine, org_id, admin, viewer, _ = org
    parsed = parse_survey_file(sf.google_csv(sf.make_responses(3)), filename="x.csv")
    with pytest.raises(PermissionDenied):
        with db.session_scope(engine) as s:
            uploads.remember_mapping(s, actor=viewer, organization_id=org_id, signature=parsed.signature,
                                     mapping=parsed.mapping_used)
    with db.session_scope(engine) as s:
        uploads.remember_mapping(s, actor=admin, organization_id=org_id, signature=parsed.signature,
                                 mapping={**parsed.mapping_used, "department": None})
    with db.session_scope(engine) as s:
        assert len(s.exec(select(FormMapping)).all()) == 1
        recalled = uploads.recall_mapping(s, organization_id=org_id, signature=parsed.signature)
    again = parse_survey_file(sf.google_csv(sf.make_responses(3)), filename="x.csv", mapping=recalled)
    assert again.department_column is None


def test_upload_size_limit(monkeypatch):
    monkeypatch.setenv("ITA_MAX_UPLOAD_MB", "1")
    with pytest.raises(FileProblem, match="1 MB"):
        uploads.check_size(b"x" * (1024 * 1024 + 1))
    uploads.check_size(b"x" * 1024)
