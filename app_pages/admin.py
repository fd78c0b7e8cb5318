"""Admin: departments and head counts, targets, name mapping, users, the year's framework, audit trail,
backup and restore."""

import streamlit as st

from ita_dashboard.textsafe import md
from ita_dashboard.models import Role
from ita_dashboard.ui import admin_views, backup_views, common, widgets
from ita_dashboard.texts import t

ctx = common.page_context(roles=[Role.admin])
widgets.thai_file_uploader()
st.title(f"{t('nav_admin')} · {md(ctx.org.name)}")

tabs = st.tabs([t("departments"), t("target"), t("map"), t("users"), t("framework"), t("audit"),
                 t("backup_tab")])
with tabs[0]:
    admin_views.departments(ctx)
with tabs[1]:
    admin_views.targets(ctx)
with tabs[2]:
    admin_views.mapping(ctx)
with tabs[3]:
    admin_views.users(ctx)
with tabs[4]:
    admin_views.framework(ctx)
with tabs[5]:
    admin_views.audit_log(ctx)
with tabs[6]:
    backup_views.backup_restore(ctx)
