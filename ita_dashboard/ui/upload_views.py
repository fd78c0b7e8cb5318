"""Upload page sections: read → preview what was recognised → confirm → counts; batch history with undo."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from ..textsafe import md
from .. import thai
from ..errors import ItaError
from ..importers.surveys import BANGKOK, NO_DEPARTMENT
from ..importers.tabular import FileProblem
from ..models import BatchKind
from ..services import uploads
from . import common
from ..texts import t
from .widgets import batch_kind_label, rejected_frame

_UPLOAD_TYPES = ["csv", "xlsx", "xls", "ods", "txt", "docx"]


# Parsing a 100,000-row export takes seconds; every widget click reruns the page, so the parse
# is kept per file content (shared, read-only: the importers never modify a parsed file).
@st.cache_resource(max_entries=4, show_spinner=t("upload_reading_file"))
def _parse_survey(data: bytes, name: str, mapping_json: str = "null"):
    from ..importers.surveys import parse_survey_file

    # allow_non_survey: a file that does not look like survey answers is read anyway, so that the
    # page can say why and let the admin confirm ("นำเข้าต่อไป"); the CLI refuses such files.
    return parse_survey_file(data, filename=name, mapping=json.loads(mapping_json), allow_non_survey=True)


@st.cache_resource(max_entries=4, show_spinner=t("upload_reading_file"))
def _parse_measures(data: bytes, name: str):
    from ..importers.measures import parse_measures_file

    return parse_measures_file(data, filename=name, fiscal_year=None)



class ImportProgress:
    """The progress bar an import fills, chunk by chunk, that a click cannot cut short.

    Every ``st`` call is a point where Streamlit stops the script when the user clicks something,
    changes page or closes the tab (``ScriptControlException``). Called from inside the import,
    that would abandon the import half-way (its staging rows are then deleted). So the bar stops
    drawing at the first such request, the import runs to its end, and :meth:`done` raises the
    request afterwards, when the rows are safe."""

    def __init__(self, slot) -> None:
        self.slot = slot
        self.held: ScriptControlException | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.held is not None:
            return
        try:
            self.slot.progress(min(done / max(total, 1), 1.0))
        except ScriptControlException as exc:
            self.held = exc

    def done(self) -> None:
        if self.held is not None:
            raise self.held
        self.slot.empty()

def survey_upload(ctx: common.PageContext) -> None:
    instrument = st.radio(t("instrument"), ["iit", "eit"], horizontal=True, format_func=str.upper, key="up_instrument")
    file = st.file_uploader(t("choose_file"), type=["csv", "xlsx", "xls", "ods", "txt"], key="up_survey_file")
    if file is None:
        return
    data = file.getvalue()
    try:
        uploads.check_size(data)
        parsed = _parse_with_mapping(ctx, data, file.name)
    except FileProblem as exc:
        st.error(t("file_problem", reason=md(str(exc))))
        return
    st.subheader(t("preview"))
    if parsed.not_a_survey_reason:  # a register, an attendance list...: say so before anything else
        st.error(md(parsed.not_a_survey_reason))
    st.markdown(t("upload_recognised", recognised=t("recognised_columns"), time=md(parsed.timestamp_column),
                  department=t("department"), department_column=md(parsed.department_column or "–"),
                  questions=len(parsed.answer_columns), header_row=parsed.header_row,
                  sheet=md(parsed.sheet_name)))
    preview = pd.DataFrame([
        {t("upload_col_row"): r.row_number, t("upload_col_time"): thai.format_datetime_th(r.submitted_at), t("department"): r.department_text}
        for r in parsed.rows[:10]
    ])
    st.dataframe(preview, hide_index=True, width="stretch")
    if parsed.rejected:
        st.warning(f"{t('rejected_rows')}: {len(parsed.rejected)}")
        st.dataframe(rejected_frame(parsed.rejected[:50]), hide_index=True, placeholder="", width="stretch")
    import_anyway = True
    if parsed.not_a_survey_reason:
        import_anyway = st.checkbox(t("upload_import_anyway"),
                                    key=f"up_not_survey_ok_{parsed.signature}")
    if st.button(t("confirm_import"), type="primary", key="up_survey_confirm", disabled=not import_anyway):
        try:
            with st.spinner(t("upload_importing")):
                progress = ImportProgress(st.empty())  # filled chunk by chunk while the rows are written
                with common.session(write=True) as s:
                    if st.session_state.get("up_mapping_changed"):
                        uploads.remember_mapping(s, actor=ctx.actor, organization_id=ctx.org_id,
                                                 signature=parsed.signature, mapping=parsed.mapping_used)
                    r = uploads.import_survey(s, actor=ctx.actor, organization_id=ctx.org_id, instrument=instrument,
                                              parsed=parsed, fiscal_year=None, file_name=file.name, data=data,
                                              progress=progress)
                progress.done()
        except ItaError as exc:
            st.error(t("file_problem", reason=md(exc.message())))
            return
        st.success(t("import_done", read=r.read, imported=r.imported, duplicate=r.duplicate, rejected=r.rejected)
                   + f" · {instrument.upper()} {t('fiscal_year')} {t('year_be', year=r.fiscal_year)}")
        c = st.columns(4)
        for col, key in zip(c, ("read", "imported", "duplicate", "rejected")):
            col.metric(t(key), getattr(r, key))
        c = st.columns(4)
        for col, key in zip(c, ("new", "changed", "unchanged", "vanished")):
            col.metric(t(f"rows_{key}"), getattr(r, key))
        _vanished_table(r.vanished_rows)
        if r.unmatched_departments:
            st.warning(t("unmatched") + ": " + ", ".join(f"{md(k)} ({v})" for k, v in r.unmatched_departments.items()))


def measures_upload(ctx: common.PageContext) -> None:
    file = st.file_uploader(t("choose_file"), type=_UPLOAD_TYPES, key="up_measures_file")
    if file is None:
        return
    data = file.getvalue()
    try:
        uploads.check_size(data)
        plan = _parse_measures(data, file.name)
    except FileProblem as exc:
        st.error(t("file_problem", reason=md(str(exc))))
        return
    year = plan.fiscal_year or ctx.fiscal_year
    st.subheader(t("preview"))
    st.markdown(f"{md(plan.organization_name or ctx.org.name)} · {t('fiscal_year')} {year} · {len(plan.measures)} {t('measure')}")
    for w in plan.warnings:
        st.warning(md(w))
    st.dataframe(pd.DataFrame([
        {t("measure_no"): m.number, t("section"): m.section_title or "", t("measure"): m.title, t("owner"): m.owner_text,
         t("period"): m.period_text}
        for m in plan.measures
    ]), hide_index=True, width="stretch")
    if plan.skipped:  # every line with text that is not imported, with where and why
        st.warning(t("upload_skipped", n=len(plan.skipped)))
        st.dataframe(pd.DataFrame([
            {t("upload_col_place"): (t("upload_sheet", sheet=s.sheet) + " " if s.sheet else "") + s.place, t("upload_col_reason"): s.reason,
             t("upload_col_text"): s.text}
            for s in plan.skipped
        ]), hide_index=True, width="stretch")
    if st.button(t("confirm_import"), type="primary", key="up_measures_confirm"):
        try:
            with common.session(write=True) as s:
                r = uploads.import_measures(s, actor=ctx.actor, organization_id=ctx.org_id, plan=plan,
                                            fiscal_year=year, file_name=file.name, data=data)
        except ItaError as exc:
            st.error(t("file_problem", reason=md(exc.message())))
            return
        st.success(t("measures_import_done", created=r.created, updated=r.updated, unchanged=r.unchanged))
        if r.unresolved_owners:
            st.warning(t("unresolved_owner") + ": " + ", ".join(md(o) for o in r.unresolved_owners))


def batch_list(ctx: common.PageContext) -> None:
    from ..services.survey_import import rejected_rows_csv

    with common.session() as s:
        batches = uploads.list_batches(s, organization_id=ctx.org_id)
    if not batches:
        st.caption(t("upload_no_batches"))
        return
    for b in batches:
        label = (f"{batch_kind_label(b.kind)} · {md(b.file_name)} · "
                 f"{thai.format_datetime_th(common.local_time(b.created_at))} · "
                 f"{t('read')} {b.read_count} {t('imported')} {b.imported_count} {t('duplicate')} {b.duplicate_count} "
                 f"{t('rejected')} {b.rejected_count}"
                 + (f" · {t('rows_vanished')} {b.vanished_count}" if b.vanished_count else "")
                 + (f" · {t('undone')}" if b.undone_at else ""))
        with st.expander(label):
            if BatchKind(b.kind).is_survey and not b.undone_at and b.vanished_count:
                with common.session() as s:
                    _vanished_table(uploads.vanished_rows(s, organization_id=ctx.org_id, batch_id=b.id))
            if b.rejected_rows:
                st.dataframe(rejected_frame(b.rejected_rows[:200]), hide_index=True, placeholder="", width="stretch")
                st.download_button(t("download_rejected"), rejected_rows_csv(b), file_name=f"rejected_{b.id}.csv",
                                   mime="text/csv", key=f"rej_{b.id}")
            if BatchKind(b.kind).is_survey and not b.undone_at:
                if st.button(t("undo"), key=f"undo_{b.id}"):
                    try:
                        with common.session(write=True) as s:
                            uploads.undo_batch(s, actor=ctx.actor, batch_id=b.id)
                        st.rerun()
                    except ItaError as exc:
                        common.show_error(exc)


def _vanished_table(rows) -> None:
    """Rows no longer counted: the row of the file they were last in, when (Bangkok time, BE), department."""
    if not rows:
        return
    st.warning(t("vanished_note", n=len(rows)))
    st.dataframe(pd.DataFrame([
        {t("col_row"): v.row, t("col_file"): v.file_name,
         t("col_submitted"): thai.format_datetime_th(v.submitted_at.astimezone(BANGKOK)),
         t("department"): v.department_text or NO_DEPARTMENT}
        for v in rows
    ]), hide_index=True, width="stretch")


def _parse_with_mapping(ctx: common.PageContext, data: bytes, name: str):
    """Parse; apply the mapping remembered for this form; let the admin correct the two key columns."""
    parsed = _parse_survey(data, name)
    with common.session() as s:
        remembered = uploads.recall_mapping(s, organization_id=ctx.org_id, signature=parsed.signature)
    if remembered:
        parsed = _parse_survey(data, name, json.dumps(remembered, sort_keys=True))
        st.caption(t("upload_mapping_remembered"))
    m = parsed.mapping_used
    columns = [c for c in [m.get("timestamp"), m.get("department"), *m.get("ids", []), *m.get("ignored", []),
                           *m.get("answers", [])] if c]
    with st.expander(t("upload_edit_mapping")):
        c = st.columns(2)
        ts = c[0].selectbox(t("upload_time_column"), columns, index=columns.index(m["timestamp"]), key=f"map_ts_{parsed.signature}")
        dep_options = [None, *columns]
        dep = c[1].selectbox(t("department"), dep_options, index=dep_options.index(m.get("department")),
                             format_func=lambda v: t("upload_no_column") if v is None else v, key=f"map_dep_{parsed.signature}")
    changed = ts != m["timestamp"] or dep != m.get("department")
    st.session_state["up_mapping_changed"] = changed or bool(remembered)
    if changed:
        answers = [a for a in columns if a not in (ts, dep) and a not in m.get("ids", []) and a not in m.get("ignored", [])]
        mapping = {**m, "timestamp": ts, "department": dep, "answers": answers}
        parsed = _parse_survey(data, name, json.dumps(mapping, sort_keys=True))
    return parsed
