"""Admin page sections. Every write goes through a service that checks the actor again."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from ..textsafe import md
from .. import audit, audit_text, thai
from ..errors import ItaError
from ..models import Instrument, Role
from ..services import aliases, orgs, surveys, users as users_svc
from ..services.framework_overrides import agency_value, framework_for, set_override
from . import abbreviation_views, common
from ..texts import role_label, t
from .thai_date import date_picker

_ERRORS = (ItaError,)  # the services' user-facing failures; anything else is a bug and shows as one


def _run(fn, ok: str = "") -> bool:
    try:
        with common.session(write=True) as s:
            fn(s)
        if ok:
            st.success(ok)
        return True
    except _ERRORS as exc:
        common.show_error(exc)
        return False


def departments(ctx: common.PageContext) -> None:
    with common.session() as s:
        deps = orgs.departments_of(s, organization_id=ctx.org_id)
    df = pd.DataFrame([{t("department"): d.name, t("eligible_staff"): d.iit_eligible_staff,
                        t("aliases"): ", ".join(d.aliases or [])} for d in deps],
                      index=pd.Index([d.id for d in deps], name="id"))  # the id rides along, hidden
    edited = st.data_editor(df, hide_index=True, disabled=[t("department")], key="dep_editor",
                            width="stretch")
    if st.button(t("save"), key="dep_save"):
        def save(s):
            for dep_id, row in edited.iterrows():
                orgs.update_department(s, department_id=int(dep_id), iit_eligible_staff=int(row[t("eligible_staff")]),
                                       aliases=[a for a in str(row[t("aliases")]).split(",")], actor=ctx.actor)
        if edited[t("eligible_staff")].isna().any():  # an emptied cell: said so (int(NaN) would be a crash)
            st.error(t("admin_eligible_staff_missing"))
        elif _run(save, t("saved")):
            st.rerun()
    with st.form("add_dep"):
        name = st.text_input(t("admin_add_department"))
        staff = st.number_input(t("eligible_staff"), 0, 100000, 0)
        if st.form_submit_button(t("admin_add")):
            if _run(lambda s: orgs.add_department(s, organization_id=ctx.org_id, name=name, iit_eligible_staff=int(staff),
                                                   actor=ctx.actor), t("saved")):
                st.rerun()


def targets(ctx: common.PageContext) -> None:
    st.caption(t("admin_targets_caption"))
    for inst in ("iit", "eit"):
        with common.session() as s:
            org_target, dep_targets = surveys.targets(s, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year, instrument=inst)
            explicit = surveys.explicit_targets(s, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year, instrument=inst)
            deps = orgs.departments_of(s, organization_id=ctx.org_id)
        st.subheader(inst.upper())
        ids = [0] + [d.id for d in deps]  # 0: the whole organisation; ids ride along as the hidden index
        names = [t("whole_org")] + [d.name for d in deps]
        old_values = [org_target] + [dep_targets.get(d.id) for d in deps]
        origins = [_target_origin(inst, None in explicit, org_target, whole=True)]
        origins += [_target_origin(inst, d.id in explicit, dep_targets.get(d.id)) for d in deps]
        frame = pd.DataFrame({t("department"): names,
                              t("target"): pd.array(old_values, dtype="Int64"),  # no target: an empty cell
                              t("target_origin"): origins}, index=pd.Index(ids, name="id"))
        edited = st.data_editor(frame, hide_index=True, disabled=[t("department"), t("target_origin")],
                                key=f"targets_{inst}", width="stretch", placeholder="",  # no target: empty
                                column_config={t("target"): st.column_config.NumberColumn(min_value=0, step=1,
                                                                                          format="%d")})
        if st.button(t("save"), key=f"targets_save_{inst}"):
            def save(s, edited=edited, old_values=old_values, inst=inst):
                for (dep_id, row), old in zip(edited.iterrows(), old_values):
                    value = row[t("target")]
                    value = None if value is None or pd.isna(value) else int(value)
                    if value != old:
                        surveys.set_target(s, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year, instrument=inst,
                                           department_id=int(dep_id) or None, target=value, actor=ctx.actor)
            if _run(save, t("saved")):
                st.rerun()
    st.subheader(t("admin_itas_snapshot"))
    with st.form("itas_snapshot"):
        lo, hi = thai.fiscal_year_bounds(ctx.fiscal_year)
        latest = max(lo, min(hi, dt.date.today()))
        c = st.columns([3, 1, 1])
        with c[0]:
            when = date_picker(t("as_of_date"), latest, key="itas_when", min_value=lo, max_value=latest)
        iit = c[1].number_input("IIT", 0, 1_000_000, 0)
        eit = c[2].number_input("EIT", 0, 1_000_000, 0)
        if st.form_submit_button(t("save")) and when is not None:
            _run(lambda s: surveys.record_itas_snapshot(s, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year,
                                                         as_of=when, iit_count=int(iit), eit_count=int(eit), actor=ctx.actor),
                 t("saved"))


def _target_origin(instrument: str, explicit: bool, value, *, whole: bool = False) -> str:
    """Where a target comes from, in words (the admin may overwrite any of them)."""
    if explicit:
        return t("target_origin_set")
    if value is None:
        return t("target_origin_none")
    if instrument == Instrument.iit:
        return t("target_origin_staff_sum") if whole else t("target_origin_staff")
    return t("target_origin_eit_minimum")


def mapping(ctx: common.PageContext) -> None:
    abbreviation_views.abbreviations(ctx)
    with common.session() as s:
        names = aliases.unresolved_names(s, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year)
        deps = orgs.departments_of(s, organization_id=ctx.org_id)
    if not names:
        st.success(t("admin_aliases_all_matched"))
        return
    st.caption(t("admin_aliases_caption"))
    for i, (name, n) in enumerate(sorted(names.items(), key=lambda kv: -kv[1])):
        c = st.columns([3, 3, 1])
        c[0].text(f"{name} ({n})")
        dep = c[1].selectbox(t("map_to"), [d.id for d in deps], key=f"map_dep_{i}",
                             format_func=lambda i: next(d.name for d in deps if d.id == i), label_visibility="collapsed")
        if c[2].button(t("map"), key=f"map_btn_{i}"):
            result = {}

            def do(s, name=name, dep=dep, result=result):
                result["n"] = aliases.map_alias(s, actor=ctx.actor, organization_id=ctx.org_id, written=name, department_id=dep)
            if _run(do):
                st.success(t("mapped", n=result["n"]))
                st.rerun()


def users(ctx: common.PageContext) -> None:
    with common.session() as s:
        people = users_svc.list_users(s, actor=ctx.actor, organization_id=ctx.org_id)
        deps = orgs.departments_of(s, organization_id=ctx.org_id)
    dep_names = {d.id: d.name for d in deps}
    st.dataframe(pd.DataFrame([{
        t("username"): u.username, t("display_name"): u.display_name, t("role"): role_label(Role(u.role).value),
        t("department"): dep_names.get(u.department_id, ""), t("admin_user_active"): "✓" if u.active else "✗",
        t("admin_user_locked_until"): _when(u.locked_until) if u.locked_until else "",
    } for u in people]), hide_index=True, placeholder="", width="stretch")
    with st.form("add_user"):
        st.subheader(t("add_user"))
        c = st.columns(2)
        username = c[0].text_input(t("username"))
        display = c[1].text_input(t("display_name"))
        role = c[0].selectbox(t("role"), [r.value for r in Role], format_func=role_label)
        dep = c[1].selectbox(t("department"), [None] + [d.id for d in deps],
                             format_func=lambda i: "–" if i is None else dep_names[i])
        password = st.text_input(t("temporary_password"), type="password")
        if st.form_submit_button(t("add_user")):
            if _run(lambda s: users_svc.create_user(s, actor=ctx.actor, username=username, password=password, role=role,
                                                    display_name=display, organization_id=ctx.org_id, department_id=dep),
                    t("saved")):
                st.rerun()
    with st.form("edit_user"):
        st.subheader(t("admin_edit_user"))
        ids = [u.id for u in people]
        uid = st.selectbox(t("username"), ids, format_func=lambda i: next(u.username for u in people if u.id == i))
        c = st.columns(3)
        role = c[0].selectbox(t("role"), [None] + [r.value for r in Role], format_func=lambda r: t("admin_unchanged") if r is None else role_label(r))
        active = c[1].selectbox(t("admin_user_active"), [None, True, False], format_func=lambda v: t("admin_unchanged") if v is None else t("admin_on" if v else "admin_off"))
        reset = c[2].text_input(t("admin_reset_password"), type="password")
        if st.form_submit_button(t("save")):
            if _run(lambda s: users_svc.update_user(s, actor=ctx.actor, user_id=uid, role=role, active=active,
                                                    reset_password=reset or None), t("saved")):
                st.rerun()


def framework(ctx: common.PageContext) -> None:
    with common.session() as s:
        fw = framework_for(s, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year)
        oit = agency_value(s, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year, key="agency.oit_estimate")
    st.caption(t("framework_year", year=ctx.fiscal_year)
               + (" " + t("framework_inherited", year=fw.inherited_from) if getattr(fw, "inherited_from", None) else ""))
    rows, sourced = [], []
    for code, inst in fw.instruments.items():
        weight_key = f"instruments.{code}.weight"
        src_weight = fw.source(weight_key)
        rows.append({t("instrument"): code.upper(), t("framework_name"): inst.name_th,
                     t("weight"): f"{inst.weight * 100:.0f}%" if inst.weight is not None else "",
                     t("confidence"): confidence_label(src_weight.get("confidence"))})
        sourced.append((t("framework_weight_of", instrument=code.upper()), src_weight))
    st.dataframe(pd.DataFrame(rows), hide_index=True, placeholder="", width="stretch")
    st.markdown("\n".join(  # the framework's own names (our TOML files), escaped all the same
        f"- **{code.upper()}** {t('framework_indicators')}: " + " · ".join(f"{i.number}\\. {md(i.name_th)}" for i in inst.indicators)
        for code, inst in fw.instruments.items()))
    size = t(f"org_size_{ctx.org.size}") if ctx.org.size else ""
    minimum = fw.eit_minimum(ctx.org.kind, ctx.org.size)
    st.write(f"{t('passing_bar', bar=f'{fw.passing_bar:g}')} · {t('eit_minimum')} ({md(ctx.org.kind)} {size}): "
             f"{minimum if minimum is not None else t('no_data')}")
    sourced += [(t("passing_bar", bar=f"{fw.passing_bar:g}"), fw.source("passing_bar")),
                (t("collection_window"), fw.source("collection_window"))]
    with st.expander(t("framework_sources")):
        st.caption(t("framework_sources_intro"))
        st.dataframe(pd.DataFrame([
            {t("framework_value"): name, t("source"): sources_label(entry.get("sources", [])),
             t("confidence"): confidence_label(entry.get("confidence")),
             t("framework_meaning"): confidence_meaning(entry.get("confidence"))}
            for name, entry in sourced
        ]), hide_index=True, placeholder="", width="stretch")
    with st.form("overrides"):
        st.subheader(t("admin_own_values"))
        c = st.columns(4)
        w_iit = c[0].number_input(t("admin_weight", instrument="IIT"), 0.0, 1.0, float(fw.instruments["iit"].weight or 0), 0.05)
        w_eit = c[1].number_input(t("admin_weight", instrument="EIT"), 0.0, 1.0, float(fw.instruments["eit"].weight or 0), 0.05)
        w_oit = c[2].number_input(t("admin_weight", instrument="OIT"), 0.0, 1.0, float(fw.instruments["oit"].weight or 0), 0.05)
        oit_v = c[3].number_input(t("oit_estimate"), 0.0, 100.0, float(oit or 0), 0.5)
        if st.form_submit_button(t("save")):
            def save(s):
                for code, v in (("iit", w_iit), ("eit", w_eit), ("oit", w_oit)):
                    if abs((fw.instruments[code].weight or 0) - v) > 1e-9:
                        set_override(s, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year,
                                     key=f"instruments.{code}.weight", value=v, actor=ctx.actor)
                set_override(s, organization_id=ctx.org_id, fiscal_year=ctx.fiscal_year, key="agency.oit_estimate",
                             value=oit_v or None, actor=ctx.actor)
            if _run(save, t("saved")):
                st.rerun()


def confidence_label(code) -> str:
    """H/M/L/U of the framework files in words."""
    return t(f"confidence_{code}") if code in ("H", "M", "L", "U") else ""


def confidence_meaning(code) -> str:
    return t(f"confidence_{code}_meaning") if code in ("H", "M", "L", "U") else ""


def sources_label(ids) -> str:
    """Source ids as a reader can follow them: S-numbers are the project's ITA fact sheet."""
    words = []
    for i in ids:
        if i == "APP":
            words.append(t("source_app"))
        elif i == "agency":
            words.append(t("source_agency"))
        else:
            words.append(t("source_ref", id=i))
    return ", ".join(words)


AUDIT_GROUPS = [None, "login", "user", "measure", "progress", "activit", "survey", "department", "organization",
                "framework", "backup"]


def audit_log(ctx: common.PageContext) -> None:
    c = st.columns(3)
    prefix = c[0].selectbox(t("action"), AUDIT_GROUPS, key="audit_group",
                            format_func=lambda v: t("all") if v is None else audit_text.action_prefix_label(v))
    who = c[1].text_input(t("who"))
    days = c[2].number_input(t("audit_days_back"), 1, 3650, 90)
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=int(days))
    with common.session() as s:
        events = audit.list_events(s, organization_id=ctx.org_id, action_prefix=prefix, username=who or None, since=since)
        dep_names = {d.id: d.name for d in orgs.departments_of(s, organization_id=ctx.org_id)}
    if not events:
        st.info(t("audit_none"))
        return
    changes = [audit_text.describe_event(e, department_names=dep_names) for e in events]
    df = pd.DataFrame([{
        t("when"): _when(e.at), t("who"): e.username or t("audit_system"), t("action"): audit_text.action_label(e.action),
        t("audit_change"): change.replace("\n", " · "),
    } for e, change in zip(events, changes)])
    picked = st.dataframe(df, hide_index=True, placeholder="", width="stretch", key="audit_table", on_select="rerun",
                          selection_mode="single-row",
                          column_config={t("audit_change"): st.column_config.TextColumn(width="large")})
    rows = list(picked.selection.rows) if picked and hasattr(picked, "selection") else []
    if rows and rows[0] < len(events):  # the whole change of the row clicked, line by line
        e = events[rows[0]]
        with st.container(border=True):
            st.caption(f"{_when(e.at)} · {audit_text.action_label(e.action)}")
            st.text(changes[rows[0]] or "–")
    else:
        st.caption(t("audit_click_hint"))
    st.download_button(t("audit_export"), audit.events_csv(events, when=_when), key="audit_csv",
                       file_name="audit.csv", mime="text/csv")


def _when(at: dt.datetime) -> str:
    return thai.format_datetime_th(common.local_time(at))
