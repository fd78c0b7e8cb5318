"""The OIT page's sections: readiness per indicator, the items table, a department head's status
form, and the admin's tools (start the list, import it, add/edit/remove, check links, copy last year).

User and file text (item names, URLs, notes) is shown in dataframes or with ``st.text``, never as
markdown; links are shown as plain text columns, so no data becomes a clickable link.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

import pandas as pd
import streamlit as st

from ..textsafe import md
from .. import thai
from ..importers.oit_list import parse_oit_list
from ..importers.tabular import FileProblem
from ..models import OitStatus, Role
from ..permissions import PermissionDenied, can_update_oit_item, is_org_admin
from ..services import oit as oit_svc
from ..services.orgs import departments_of
from ..services.uploads import check_size
from . import common, thai_date
from .strings import t

STATUSES = [s.value for s in OitStatus]
_FLASH = "oit_flash"


def status_text(status: str) -> str:
    return t(f"oit_status_{status}")


def problem_text(problem: Optional[str]) -> str:
    return t("oit_link_ok") if problem is None else t(f"oit_problem_{problem}")


def _flash(message: str) -> None:
    st.session_state[_FLASH] = message


def show_flash() -> None:
    if message := st.session_state.pop(_FLASH, None):
        st.toast(message, icon=":material/check_circle:")
        st.success(message)


# ---------------------------------------------------------------- reading


def readiness_section(states: list[oit_svc.OitItemState], *, itas_score: Optional[float]) -> None:
    est = oit_svc.estimate(states)
    c = st.columns(4)
    c[0].metric(t("oit_ready_items"), f"{est.ready} / {est.items}")
    for col, ind in zip(c[1:3], oit_svc.INDICATORS):
        v = est.by_indicator.get(ind)
        col.metric(t("oit_indicator", n=ind), f"{v['score']:.0f}" if v else "–",
                   help=t("oit_indicator_help", ready=v["ready"], items=v["items"]) if v else None)
    c[3].metric(t("oit_estimate_label"), f"{est.score:.2f}" if est.score is not None else "–")
    st.caption(t("oit_estimate_note"))
    if itas_score is not None:
        st.info(t("oit_itas_wins", score=f"{itas_score:.2f}"), icon=":material/verified:")


def items_table(states: list[oit_svc.OitItemState]) -> None:
    """One row per item; state, due date and the last check come before the long texts, so they
    are visible at 1366 px without scrolling sideways."""
    rows = []
    for s in states:
        check = s.last_check
        rows.append({
            t("oit_col_number"): s.number,
            t("oit_col_status"): ("✓ " if s.ready else ("⚠ " if s.overdue else "")) + status_text(s.status.value),
            t("oit_col_due"): thai.format_date_th(s.due_date, abbr=True) if s.due_date else "",
            t("oit_col_check"): problem_text(check.problem) if check else "",
            t("oit_col_department"): s.department_name or "",
            t("oit_col_name"): s.name,
            t("oit_col_indicator"): s.indicator or "",
            t("oit_col_url"): s.url or "",
        })
    small = st.column_config.TextColumn(width="small")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                 column_config={t("oit_col_number"): small, t("oit_col_due"): small, t("oit_col_check"): small,
                                t("oit_col_indicator"): st.column_config.NumberColumn(width="small"),
                                t("oit_col_name"): st.column_config.TextColumn(width="medium"),
                                t("oit_col_url"): st.column_config.TextColumn(width="medium")})
    overdue = [s.number for s in states if s.overdue]
    if overdue:
        st.warning(t("oit_overdue", items=", ".join(md(n) for n in overdue)), icon=":material/schedule:")


# ---------------------------------------------------------------- a department head's status form


def status_form(ctx: common.PageContext, states: list[oit_svc.OitItemState]) -> None:
    mine = [s for s in states if can_update_oit_item(ctx.actor, organization_id=ctx.org_id, department_id=s.department_id)]
    if not mine:
        if ctx.actor.role == Role.department_head:
            st.caption(t("oit_none_mine"))
        return
    st.subheader(t("oit_update_title"))
    by_id = {s.id: s for s in mine}
    item_id = st.selectbox(t("oit_pick_item"), list(by_id), key="oit_status_item",
                           format_func=lambda i: f"{by_id[i].number} {by_id[i].name}")
    current = by_id[item_id]
    # A past fiscal year is updated as of its last day, so its overview (as of a month in it) sees it.
    first_day, last_day = thai.fiscal_year_bounds(ctx.fiscal_year)
    default_day = max(min(dt.date.today(), last_day), first_day)
    with st.form("oit_status_form", clear_on_submit=True):
        status = st.selectbox(t("oit_col_status"), STATUSES, index=STATUSES.index(current.status.value),
                              format_func=status_text)
        url = st.text_input(t("oit_url_input"), value="", placeholder=current.url or "https://")
        note = st.text_area(t("note"), height=80)
        evidence = st.text_input(t("oit_evidence"), placeholder="https://")
        as_of = thai_date.date_picker(t("oit_as_of"), default_day, key="oit_status_as_of", min_value=first_day,
                                      max_value=default_day)
        if st.form_submit_button(t("save"), type="primary") and as_of is not None:
            try:
                with common.session(write=True) as s:
                    oit_svc.record_status(s, item_id=item_id, status=status, url=url or current.url, note=note,
                                          evidence_url=evidence or None, as_of=as_of, actor=ctx.actor)
            except (oit_svc.OitError, PermissionDenied) as exc:
                common.show_error(exc)
            else:
                _flash(t("oit_saved", number=md(current.number), status=status_text(status)))
                st.rerun()


# ---------------------------------------------------------------- admin tools


def admin_tools(ctx: common.PageContext, states: list[oit_svc.OitItemState]) -> None:
    if not is_org_admin(ctx.actor, ctx.org_id):
        return
    st.subheader(t("oit_admin_title"))
    tabs = st.tabs([t("oit_tab_edit"), t("oit_tab_import"), t("oit_tab_links"), t("oit_tab_copy")])
    with tabs[0]:
        _start_or_add(ctx, states)
        if states:
            _edit(ctx, states)
    with tabs[1]:
        _import(ctx)
    with tabs[2]:
        _links(ctx, states)
    with tabs[3]:
        _copy(ctx)


def _start_or_add(ctx: common.PageContext, states: list[oit_svc.OitItemState]) -> None:
    if not states:
        st.info(t("oit_empty_year", year=ctx.fiscal_year))
        if st.button(t("oit_start_framework"), key="oit_start", type="primary"):
            try:
                with common.session(write=True) as s:
                    n = oit_svc.start_from_framework(s, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year,
                                                     actor=ctx.actor)
            except (oit_svc.OitError, PermissionDenied) as exc:
                common.show_error(exc)
            else:
                _flash(t("oit_started", n=n) if n else t("oit_framework_has_none", year=ctx.fiscal_year))
                st.rerun()
    with st.form("oit_add_form", clear_on_submit=True):
        st.markdown(f"**{t('oit_add_title')}**")
        c = st.columns([1, 4, 1])
        number = c[0].text_input(t("oit_col_number"), placeholder="O1")
        name = c[1].text_input(t("oit_col_name"))
        indicator = c[2].selectbox(t("oit_col_indicator"), [9, 10, None], format_func=lambda v: "–" if v is None else str(v))
        if st.form_submit_button(t("oit_add")):
            try:
                with common.session(write=True) as s:
                    oit_svc.add_item(s, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year, number=number, name=name,
                                     indicator=indicator, actor=ctx.actor)
            except (oit_svc.OitError, PermissionDenied) as exc:
                common.show_error(exc)
            else:
                _flash(t("oit_added", number=md(number)))
                st.rerun()


def _edit(ctx: common.PageContext, states: list[oit_svc.OitItemState]) -> None:
    st.markdown(f"**{t('oit_edit_title')}**")
    by_id = {s.id: s for s in states}
    item_id = st.selectbox(t("oit_pick_item"), list(by_id), key="oit_edit_item",
                           format_func=lambda i: f"{by_id[i].number} {by_id[i].name}")
    item = by_id[item_id]
    with common.session() as s:
        deps = departments_of(s, organization_id=ctx.org_id)
    dep_ids = [None] + [d.id for d in deps]
    dep_names = {d.id: d.name for d in deps}
    with st.form(f"oit_edit_form_{item_id}"):
        c = st.columns([1, 4])
        number = c[0].text_input(t("oit_col_number"), value=item.number)
        name = c[1].text_input(t("oit_col_name"), value=item.name)
        c = st.columns(3)
        department = c[0].selectbox(t("oit_col_department"), dep_ids, index=dep_ids.index(item.department_id),
                                    format_func=lambda d: "–" if d is None else dep_names[d])
        with c[1]:
            year_start, year_end = thai.fiscal_year_bounds(ctx.fiscal_year)
            has_due = st.checkbox(t("oit_has_due"), value=item.due_date is not None, key=f"oit_has_due_{item_id}")
            picked = thai_date.date_picker(t("oit_col_due"), item.due_date or year_end, key=f"oit_due_{item_id}",
                                           min_value=year_start.replace(year=year_start.year - 1),
                                           max_value=year_end.replace(year=year_end.year + 1))
        indicator = c[2].selectbox(t("oit_col_indicator"), [9, 10, None], index=[9, 10, None].index(item.indicator),
                                   format_func=lambda v: "–" if v is None else str(v))
        contents = st.text_area(t("oit_col_contents"), value=item.contents, height=80)
        c = st.columns(2)
        save = c[0].form_submit_button(t("save"), type="primary")
        remove = c[1].form_submit_button(t("oit_remove"))
    due = picked if has_due else None
    if save and not (has_due and picked is None):  # an impossible date says so under the pickers
        try:
            with common.session(write=True) as s:
                oit_svc.update_item(s, item_id=item_id, number=number, name=name, department_id=department, due_date=due,
                                    indicator=indicator, contents=contents, actor=ctx.actor)
        except (oit_svc.OitError, PermissionDenied) as exc:
            common.show_error(exc)
        else:
            _flash(t("oit_edited", number=md(number)))
            st.rerun()
    if remove:
        st.session_state["oit_confirm_remove"] = item_id
    if st.session_state.get("oit_confirm_remove") == item_id:
        st.warning(t("oit_remove_confirm", number=md(item.number)))
        c = st.columns(2)
        if c[0].button(t("oit_remove_yes"), key="oit_remove_yes", type="primary"):
            with common.session(write=True) as s:
                oit_svc.remove_item(s, item_id=item_id, actor=ctx.actor)
            st.session_state.pop("oit_confirm_remove", None)
            _flash(t("oit_removed", number=md(item.number)))
            st.rerun()
        if c[1].button(t("oit_cancel"), key="oit_remove_no"):
            st.session_state.pop("oit_confirm_remove", None)
            st.rerun()


def _import(ctx: common.PageContext) -> None:
    st.caption(t("oit_import_help"))
    upload = st.file_uploader(t("oit_import_file"), type=["xlsx", "xls", "csv", "ods"], key="oit_import_upload")
    if upload is None:
        return
    data = upload.getvalue()
    try:
        check_size(data)
        parsed = parse_oit_list(data)
    except (FileProblem, ValueError) as exc:
        common.show_error(exc)
        return
    st.dataframe(pd.DataFrame([{t("oit_col_number"): i.number, t("oit_col_name"): i.name,
                                t("oit_col_department"): i.department_text, t("oit_col_status"): status_text(i.status) if i.status else "",
                                t("oit_col_url"): i.url or ""} for i in parsed.items]), hide_index=True, width="stretch")
    if parsed.rejected:
        st.warning(t("oit_import_rejected", n=len(parsed.rejected)))
        st.dataframe(pd.DataFrame(parsed.rejected).rename(columns={"row": t("row"), "column": t("column"), "reason": t("reason")}),
                     hide_index=True, width="stretch")
    if parsed.items and st.button(t("oit_import_confirm", n=len(parsed.items)), key="oit_import_go", type="primary"):
        try:
            with common.session(write=True) as s:
                r = oit_svc.import_list(s, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year, parsed=parsed,
                                        actor=ctx.actor)
        except (oit_svc.OitError, PermissionDenied) as exc:
            common.show_error(exc)
        else:
            _flash(t("oit_imported", created=r.created, updated=r.updated, unchanged=r.unchanged))
            st.rerun()


def _links(ctx: common.PageContext, states: list[oit_svc.OitItemState]) -> None:
    from ..services.org_settings import OrgSettingsError, set_website

    with st.form("oit_website_form"):
        website = st.text_input(t("oit_website"), value=ctx.org.website or "", placeholder="https://www.example.go.th",
                                help=t("oit_website_help"))
        if st.form_submit_button(t("save")):
            try:
                with common.session(write=True) as s:
                    set_website(s, organization_id=ctx.org_id, website=website, actor=ctx.actor)
            except (OrgSettingsError, PermissionDenied) as exc:
                common.show_error(exc)
            else:
                _flash(t("oit_website_saved"))
                st.rerun()
    with_url = [s for s in states if s.url]
    st.caption(t("oit_links_help", n=len(with_url)))
    if not with_url:
        return
    if st.button(t("oit_check_links"), key="oit_check_links", type="primary"):
        bar = st.progress(0.0, text=t("oit_checking"))

        def progress(done: int, total: int) -> None:
            bar.progress(done / total, text=t("oit_checking_n", done=done, total=total))

        results = oit_svc.check_links(open_session=common.session, organization_id=ctx.org_id,
                                      fiscal_year=ctx.fiscal_year, actor=ctx.actor, progress=progress)
        bad = [(st_, r) for st_, r in results if not r.ok]
        _flash(t("oit_checked", n=len(results), bad=len(bad)))
        st.rerun()


def _copy(ctx: common.PageContext) -> None:
    with common.session() as s:
        preview = oit_svc.copy_preview(s, organization_id=ctx.org_id, to_year=ctx.fiscal_year)
    st.caption(t("oit_copy_help", from_year=preview.from_year, to_year=preview.to_year))
    if not preview.measures and not preview.oit_items:
        st.info(t("oit_copy_nothing", year=preview.from_year))
        return
    if preview.measures_already or preview.oit_already:
        st.info(t("oit_copy_already", year=preview.to_year))
        return
    st.write(t("oit_copy_preview", measures=len(preview.measures), items=len(preview.oit_items)))
    if preview.measures:
        st.dataframe(pd.DataFrame([{t("oit_col_number"): m["number"], t("title"): m["title"],
                                    t("oit_col_department"): m["owner_text"],
                                    t("oit_col_due"): thai.format_date_th(m["end"], abbr=True) if m["end"] else ""}
                                   for m in preview.measures]), hide_index=True, width="stretch")
    if preview.oit_items:
        st.dataframe(pd.DataFrame([{t("oit_col_number"): i["number"], t("oit_col_name"): i["name"],
                                    t("oit_col_department"): i["department"] or ""} for i in preview.oit_items]),
                     hide_index=True, width="stretch")
    if st.checkbox(t("oit_copy_understood"), key="oit_copy_ok") and st.button(t("oit_copy_go"), key="oit_copy_go", type="primary"):
        try:
            with common.session(write=True) as s:
                copied = oit_svc.copy_from_previous_year(s, organization_id=ctx.org_id, to_year=ctx.fiscal_year,
                                                         actor=ctx.actor)
        except (oit_svc.OitError, PermissionDenied) as exc:
            common.show_error(exc)
        else:
            _flash(t("oit_copied", measures=copied["measures"], items=copied["oit_items"]))
            st.rerun()


def measures_report_published(ctx: common.PageContext) -> None:
    """On the report page (admins): record where this year's report is published, on its OIT item."""
    if not is_org_admin(ctx.actor, ctx.org_id):
        return
    with common.session() as s:
        item = oit_svc.measures_report_item(s, organization_id=ctx.org_id, report_year=ctx.fiscal_year)
        item_view = (item.number, item.fiscal_year) if item else None
    with st.expander(t("oit_report_published_title")):
        if item_view is None:
            st.info(t("oit_report_no_item", year=ctx.fiscal_year))
            return
        st.caption(t("oit_report_item", number=md(item_view[0]), year=item_view[1]))
        with st.form("oit_report_published_form", clear_on_submit=True):
            url = st.text_input(t("oit_url_input_required"), placeholder="https://")
            if st.form_submit_button(t("oit_report_mark"), type="primary"):
                try:
                    with common.session(write=True) as s:
                        oit_svc.mark_measures_report_published(s, organization_id=ctx.org_id,
                                                               report_year=ctx.fiscal_year, url=url, actor=ctx.actor)
                except (oit_svc.OitError, PermissionDenied) as exc:
                    common.show_error(exc)
                else:
                    st.toast(t("oit_saved", number=md(item_view[0]), status=status_text("published")),
                             icon=":material/check_circle:")
                    st.success(t("oit_saved", number=md(item_view[0]), status=status_text("published")))
