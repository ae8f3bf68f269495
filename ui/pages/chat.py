"""Chat: the agent, with its evidence drawn as cards and plots. Confirmations are buttons."""

from __future__ import annotations

import json

import streamlit as st

from ssl_runtime.errors import SSLPilotError
from ui import cards
from ui.state import agent, home, queue_prompt, show_page, thread_id

EXAMPLES = ("list my runs", "why did run 1 collapse?", "what should I try next?",
            "pretrain simclr on digits for 20 epochs")


def run_turn(text: str, thread: str) -> None:
    """Send one message and show the tools working while it runs; the page redraws from the thread after."""
    with st.chat_message("user"):
        st.markdown(text)
    with st.chat_message("assistant"), st.status("Working...", expanded=False) as status:
        try:
            for ev in agent().stream(text, thread):
                if ev["event"] == "tool_call":
                    status.update(label=f"Running `{ev['name']}`...")
                    status.write(f"-> `{ev['name']}` {json.dumps(ev['args'], default=str)[:300]}")
                elif ev["event"] == "tool_result":
                    status.write(f"<- `{ev['name']}`: {ev['status']}")
            status.update(label="Done", state="complete")
        except SSLPilotError as exc:
            status.update(label="Failed", state="error")
            st.error(str(exc))
            st.stop()


def main() -> None:
    h = home()
    thread = thread_id()
    st.title("sslpilot chat")
    st.caption(f"thread `{thread}` - kept in the URL, so a reload continues it")
    with st.sidebar:
        if st.button("New conversation"):
            st.query_params["thread"] = ""
            st.session_state.pop("queued_prompt", None)
            st.rerun()

    transcript = agent().transcript(thread)
    if not transcript:
        st.info("Ask about your runs, or start one. For example:")
        cols = st.columns(len(EXAMPLES))
        for col, ex in zip(cols, EXAMPLES, strict=True):
            col.button(ex, key=f"ex-{ex}", on_click=queue_prompt, args=(ex,))
    last_rec = max((i for i, m in enumerate(transcript)
                    if any(t["name"] == "recommend_next_step" for t in m.get("tools", []))), default=-1)
    for i, msg in enumerate(transcript):
        with st.chat_message(msg["role"]):
            cards.render_message(h, msg, key=f"m{i}", latest_recommendation=i == last_rec)

    last = transcript[-1] if transcript else None
    if last and last["role"] == "assistant" and last.get("options"):  # a question back: its readings as buttons
        cols = st.columns(min(len(last["options"]), 4))
        for j, (col, option) in enumerate(zip(cols, last["options"], strict=False)):
            col.button(option, key=f"opt-{len(transcript)}-{j}", on_click=queue_prompt, args=(option,))

    held = agent().held_note(thread)
    if held:  # the disk is full: the answers above live in this process only, until there is room
        st.warning(held)
    pending = agent().pending(thread)
    if pending:
        c1, c2, _ = st.columns([1, 1, 4])
        c1.button("Confirm", type="primary", key="confirm", on_click=queue_prompt, args=("yes",))
        c2.button("Cancel", key="deny", on_click=queue_prompt, args=("no",))

    typed = st.chat_input("Ask about runs, diagnoses, papers... or start a run")
    text = typed or st.session_state.pop("queued_prompt", None)
    if text:
        run_turn(text, thread)
        st.rerun()


show_page(main)
