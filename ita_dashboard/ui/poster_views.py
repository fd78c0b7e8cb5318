"""QR posters on the surveys page: the agency's ITAS code, a preview, PDF/PNG downloads."""

from __future__ import annotations

from typing import Optional

import streamlit as st

from ..textsafe import md
from .. import posters
from ..models import Organization
from ..permissions import PermissionDenied, is_org_admin
from ..services import org_settings
from . import common
from .strings import t

EXPANDER_KEY = "poster_open"
KINDS = ("iit", "eit", "other")


@st.cache_data(show_spinner=False, max_entries=16)
def _render(org_name: str, instrument: Optional[str], url: str, size: str, heading: str, note: str) -> tuple[bytes, bytes]:
    """(PDF, PNG) of one poster; cached, so reruns and page switches do not redraw it."""
    kwargs = dict(org_name=org_name, instrument=instrument, url=url, size=size, heading=heading or None,
                  note=note or None)
    return posters.poster_pdf(**kwargs), posters.poster_png(**kwargs)


def _expander(label: str):
    """An expander whose content only runs while it is open (Streamlit versions that can)."""
    try:
        return st.expander(label, key=EXPANDER_KEY, on_change="rerun")
    except TypeError:  # older Streamlit: no state tracking, the content always runs
        return st.expander(label)


def poster_section(ctx: common.PageContext) -> None:
    exp = _expander(t("poster_title"))
    if getattr(exp, "open", None) is False:
        return
    with exp:
        _poster_body(ctx)


def _itas_code_form(ctx: common.PageContext, code: Optional[str]) -> Optional[str]:
    """Admins set the ITAS code here; returns the code in force afterwards."""
    with st.form("poster_itas_form", border=False):
        new_code = st.text_input(t("poster_itas_code"), value=code or "", max_chars=200,
                                 help=t("poster_itas_code_help"), key="poster_itas_code")
        if st.form_submit_button(t("poster_save_code")):
            try:
                with common.session(write=True) as s:
                    org = org_settings.set_itas_code(s, organization_id=ctx.org_id, code=new_code, actor=ctx.actor)
                    code = org.itas_code
                st.success(t("poster_code_saved"))
            except (ValueError, PermissionDenied) as exc:
                st.error(md(str(exc)))
    return code


def _poster_body(ctx: common.PageContext) -> None:
    with common.session() as s:
        org = s.get(Organization, ctx.org_id)
        org_name, code = org.name, org.itas_code
    st.caption(t("poster_intro"))
    if is_org_admin(ctx.actor, ctx.org_id):
        code = _itas_code_form(ctx, code)
    st.markdown(t("poster_current_code", code=f"`{code}`") if code else t("poster_no_code"))

    c1, c2 = st.columns(2)
    kind = c1.radio(t("poster_kind"), KINDS, format_func=lambda k: t(f"poster_kind_{k}"), horizontal=True,
                    key="poster_kind")
    size = c2.radio(t("poster_size"), tuple(posters.PAGE_SIZES), horizontal=True, key="poster_size")
    if kind == "other":
        instrument = None
        url = st.text_input(t("poster_form_url"), max_chars=posters.MAX_URL, placeholder="https://",
                            key="poster_url").strip()
        if not url:
            st.info(t("poster_need_url"))
            return
    else:
        instrument = kind
        if not code:
            st.info(t("poster_need_code"))
            return
        url = posters.itas_link(code, kind)
    heading = st.text_area(t("poster_heading"), max_chars=posters.MAX_HEADING, height=80,
                           placeholder=posters.HEADINGS[instrument].replace(posters.ZWSP, ""),
                           help=t("poster_heading_help"), key="poster_heading")
    note = st.text_input(t("poster_note"), max_chars=posters.MAX_NOTE, key="poster_note")

    try:
        pdf, png = _render(org_name, instrument, url, size, heading.strip(), note.strip())
    except (ValueError, posters.ThaiFontMissing) as exc:
        st.error(md(str(exc)))
        return
    st.caption(t("poster_link"))
    st.code(url, language=None)
    b1, b2 = st.columns(2)
    b1.download_button(t("poster_download_pdf", size=size), pdf, key="poster_dl_pdf", mime="application/pdf",
                       file_name=posters.poster_filename(instrument, size, "pdf"), on_click="ignore")
    b2.download_button(t("poster_download_png"), png, key="poster_dl_png", mime="image/png",
                       file_name=posters.poster_filename(instrument, size, "png"), on_click="ignore")
    st.caption(t("poster_print_tip"))
    st.image(png, caption=t("poster_preview"), width=380)
