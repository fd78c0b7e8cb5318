"""Imports as the UI and CLI run them: permission check, size limit, then the importer.

The importers themselves (services.measure_import, services.survey_import) take plain ids; this
module is the gate that decides whether the actor may import at all (admins only).
"""

from __future__ import annotations

from typing import Optional

from sqlmodel import Session, col, select

from ..config import get_settings
from ..errors import ItaError
from ..importers.tabular import FileProblem
from ..models import ImportBatch
from ..permissions import Actor, require_admin
from .survey_staging import DONE


class UploadError(ItaError, ValueError):
    """An import batch request that cannot be carried out."""

    codes = ("batch_not_found",)


def check_size(data: bytes) -> None:
    limit = get_settings().max_upload_mb
    if len(data) > limit * 1024 * 1024:
        raise FileProblem(code="upload_too_large", limit=limit)


def import_measures(session: Session, *, actor: Actor, organization_id: int, plan, fiscal_year: int,
                    file_name: str, data: bytes):
    from .measure_import import import_plan

    require_admin(actor, organization_id)
    check_size(data)
    return import_plan(session, organization_id=organization_id, plan=plan, fiscal_year=fiscal_year,
                       user_id=actor.user_id, file_name=file_name, file_bytes=data)


def import_survey(session: Session, *, actor: Actor, organization_id: int, instrument: str, parsed,
                  fiscal_year: Optional[int], file_name: str, data: bytes, progress=None):
    """``progress(done, total)``: called after each write transaction (services/survey_import.py)."""
    from . import survey_import

    require_admin(actor, organization_id)
    check_size(data)
    return survey_import.import_survey(session, organization_id=organization_id, instrument=instrument, parsed=parsed,
                                       fiscal_year=fiscal_year, file_name=file_name, file_bytes=data,
                                       user_id=actor.user_id, progress=progress)


def undo_batch(session: Session, *, actor: Actor, batch_id: int) -> None:
    from . import survey_undo

    batch = session.get(ImportBatch, batch_id)
    if batch is None:
        raise UploadError(code="batch_not_found")
    require_admin(actor, batch.organization_id)
    survey_undo.undo_batch(session, batch_id=batch_id, user_id=actor.user_id)


def vanished_rows(session: Session, *, organization_id: int, batch_id: Optional[int] = None):
    """Survey rows kept but no longer counted (of one batch, or all), for the admin to see."""
    from . import survey_undo

    return survey_undo.vanished_responses(session, organization_id=organization_id, batch_id=batch_id)


def list_batches(session: Session, *, organization_id: int, limit: int = 50) -> list[ImportBatch]:
    return list(session.exec(
        select(ImportBatch).where(ImportBatch.organization_id == organization_id,
                                  ImportBatch.state == DONE)  # not an import still being written
        .order_by(col(ImportBatch.created_at).desc(), col(ImportBatch.id).desc()).limit(limit)
    ))


def recall_mapping(session: Session, *, organization_id: int, signature: str):
    from . import survey_forms

    return survey_forms.recall_mapping(session, organization_id=organization_id, signature=signature)


def remember_mapping(session: Session, *, actor: Actor, organization_id: int, signature: str, mapping: dict) -> None:
    from . import survey_forms

    require_admin(actor, organization_id)
    survey_forms.remember_mapping(session, organization_id=organization_id, signature=signature, mapping=mapping,
                                  user_id=actor.user_id)
