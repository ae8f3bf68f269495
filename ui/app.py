"""The Streamlit app: `sslpilot ui` runs this file. Pages live in ui/pages/, one file each."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from tools.access import acting_as
from ui import auth
from ui.state import home

PAGES = Path(__file__).parent / "pages"

st.set_page_config(page_title="sslpilot", layout="wide")
actor = auth.gate(home())  # the login form and a stop, when this home asks for one
nav = st.navigation([
    st.Page(PAGES / "chat.py", title="Chat", default=True),
    st.Page(PAGES / "runs.py", title="Runs", url_path="runs"),
    st.Page(PAGES / "run.py", title="Run", url_path="run"),
    st.Page(PAGES / "knowledge.py", title="Knowledge", url_path="knowledge"),
    st.Page(PAGES / "settings.py", title="Settings", url_path="settings"),
])
st.sidebar.caption(f"home: `{home().root}`")
st.sidebar.caption(f"signed in as **{actor.name}** ({actor.role})")
if actor.how in ("login", "oidc"):
    st.sidebar.button("Sign out", on_click=auth.sign_out, args=(home(), actor))
with acting_as(actor):  # every tool the pages call checks this actor's role
    nav.run()
