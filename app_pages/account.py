"""The logged-in user's own account: who am I, change my password."""

import streamlit as st

from ita_dashboard.ui import common, gate
from ita_dashboard.texts import role_label, t
from ita_dashboard.textsafe import md

user = common.run_user()
if user is None:
    st.stop()
st.title(t("nav_account"))
st.markdown(f"**{md(user.display_name)}** ({md(user.username)}) · {role_label(user.role.value if hasattr(user.role, 'value') else user.role)}")
st.subheader(t("change_password"))
gate.change_password_screen(user)
