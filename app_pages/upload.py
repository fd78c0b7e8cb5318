"""Imports (admins): the year's measures plan/report, and IIT/EIT survey exports; batches can be undone."""

import streamlit as st

from ita_dashboard.textsafe import md
from ita_dashboard.ui import common, upload_views, widgets
from ita_dashboard.models import Role
from ita_dashboard.texts import t

ctx = common.page_context(roles=[Role.admin])
widgets.uploader_words()
st.title(f"{t('nav_upload')} · {md(ctx.org.name)}")

tab_survey, tab_measures, tab_batches = st.tabs([t("upload_survey"), t("upload_measures"), t("batches")])
with tab_survey:
    upload_views.survey_upload(ctx)
with tab_measures:
    upload_views.measures_upload(ctx)
with tab_batches:
    upload_views.batch_list(ctx)
