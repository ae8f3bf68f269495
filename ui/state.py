"""Objects shared by the Streamlit pages: the home folder, the agent, the tool box, the chat thread."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import streamlit as st

from agent.session import Agent
from ssl_runtime.errors import SSLPilotError
from tools.agent_tools import ToolBox
from tools.home import Home


def home() -> Home:
    """$SSLPILOT_HOME (set by `sslpilot ui --home`), else ./.sslpilot."""
    return Home.resolve()


@st.cache_resource(show_spinner=False)
def _agent(root: str) -> Agent:
    return Agent(Home.resolve(root))


def agent() -> Agent:
    return _agent(str(home().root))


def toolbox() -> ToolBox:
    """The agent's own tools: the UI launches, cancels and resumes only through these."""
    return agent().toolbox


def thread_id() -> str:
    """The chat thread lives in the URL (?thread=...), so a reload keeps the conversation. Another user's thread
    does not open: the page starts a new one and says why."""
    from tools.access import current, thread_owner

    tid = st.query_params.get("thread")
    if tid and thread_owner(home(), tid) not in (None, current(home()).name):
        st.warning(f"Conversation `{tid}` belongs to another user; this is a new one.")
        tid = None
    if not tid:
        tid = uuid.uuid4().hex[:12]
        st.query_params["thread"] = tid
    return tid


def queue_prompt(text: str) -> None:
    """Button callbacks put a message here; the chat page sends it on the next run, as if typed."""
    st.session_state["queued_prompt"] = text


def show_page(main: Callable[[], None]) -> None:
    """Draw a page; an error the user can fix (a full disk, a locked database) shows as its one line with the fix,
    not as a traceback."""
    try:
        main()
    except SSLPilotError as exc:
        st.error(str(exc))
