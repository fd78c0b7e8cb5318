"""Admin: departments and head counts, targets, name mapping, users, the year's framework, audit trail,
backup and restore."""

import streamlit as st

from ita_dashboard.textsafe import md
from ita_dashboard.models import Role
from ita_dashboard.ui import admin_views, backup_views, common, widgets
from ita_dashboard.texts import t

ctx = common.page_context(roles=[Role.admin])
widgets.uploader_words()
st.title(f"{t('nav_admin')} · {md(ctx.org.name)}")

TABS = (("departments", admin_views.departments), ("target", admin_views.targets), ("map", admin_views.mapping),
        ("users", admin_views.users), ("framework", admin_views.framework), ("audit", admin_views.audit_log),
        ("backup_tab", backup_views.backup_restore))
for tab, (_, view) in zip(st.tabs([t(key) for key, _ in TABS]), TABS):
    with tab:
        view(ctx)
