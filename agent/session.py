"""One conversation turn in, the chat JSON shape out (docs/architecture.md):
{"thread_id", "answer", "tool_calls": [{"name", "args", "status"}], "pending_confirmation": null | {"tool", "args"}}."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agent.backends import make_chat_model
from agent.graph import build_graph, tool_result
from agent.history import ChatHistory, held_text
from tools.access import AccessDenied, Actor, acting_as, claim_thread, current, thread_owner
from tools.agent_tools import ToolBox
from tools.home import Home
from tools.registry import DiskFullError, full_disk_said_plainly


class Agent:
    def __init__(self, home: Home, llm: str | None = None, model=None,
                 on_launch: Callable[[str], None] | None = None):
        self.home = home
        self.toolbox = ToolBox(home, on_launch=on_launch)
        self.checkpointer = ChatHistory(home.root / "agent.db")
        self.graph = build_graph(self.toolbox, model or make_chat_model(llm, home=home), self.checkpointer)

    def chat(self, message: str, thread_id: str | None = None, actor: Actor | None = None) -> dict:
        """One turn as `actor` (default: this process's login, tools/access.py): the tools check their role, and
        the thread becomes theirs."""
        thread_id = thread_id or uuid.uuid4().hex[:12]
        actor = actor or current(self.home)
        self._claim(thread_id, actor)
        config = {"configurable": {"thread_id": thread_id}, "recursion_limit": 25}
        before = len(self.graph.get_state(config).values.get("messages", []))
        with acting_as(actor), self._history_said_plainly():
            state = self.graph.invoke({"messages": [HumanMessage(content=message)]}, config)
        new = state["messages"][before:]
        results = {m.tool_call_id: m for m in new if isinstance(m, ToolMessage)}
        calls = []
        for m in new:
            if isinstance(m, AIMessage):
                for c in m.tool_calls:
                    calls.append({"name": c["name"], "args": c["args"],
                                  "status": _status(results.get(c["id"]), m.additional_kwargs.get("confirmed"))})
        last = next((m for m in reversed(new) if isinstance(m, AIMessage) and m.content), None)
        clarify = last.additional_kwargs.get("clarify") if last is not None else None
        answer = str(last.content) if last is not None else ""
        if (held := self.checkpointer.held_because(thread_id)) is not None:
            answer = f"{answer}\n\n{held_text(held, answer)}".strip()
        return {"thread_id": thread_id, "answer": answer, "tool_calls": calls,
                "pending_confirmation": state.get("pending"), "options": clarify["options"] if clarify else []}

    def stream(self, message: str, thread_id: str, actor: Actor | None = None):
        """The same turn as `chat`, as events while it happens: tool_call, tool_result, answer, done."""
        actor = actor or current(self.home)
        self._claim(thread_id, actor)
        config = {"configurable": {"thread_id": thread_id}, "recursion_limit": 25}
        said = ""
        with acting_as(actor), self._history_said_plainly():
            for ev in self._stream(message, config):
                said += ev.get("text", "")
                if ev["event"] == "done" and (held := self.checkpointer.held_because(thread_id)) is not None:
                    yield {"event": "answer", "text": held_text(held, said), "options": []}
                yield ev

    def held_note(self, thread_id: str) -> str | None:
        """What a page shows under a conversation the full disk holds in memory (ChatHistory); None when it is kept."""
        held = self.checkpointer.held_because(thread_id)
        return held_text(held, "") if held is not None else None

    def unsaved(self, thread_id: str, actor: Actor | None = None) -> list[dict] | None:
        """The conversation (as `transcript`) when the full disk still holds it in memory only, its write-back tried
        once more: what a chat that is closing shows, so that what the user said is not lost with the process. None
        when agent.db has it."""
        if self.checkpointer.held_because(thread_id) is None:
            return None
        turns = self.transcript(thread_id, actor)  # reading the thread tries the write-back first (ChatHistory)
        return turns if self.checkpointer.held_because(thread_id) is not None else None

    def _claim(self, thread_id: str, actor: Actor) -> None:
        """The thread becomes the actor's. On a full disk the registry cannot record that: the turn goes on, and
        the next turn with room claims it (the history's own writes say the disk is full, ChatHistory)."""
        try:
            claim_thread(self.home, thread_id, actor)
        except DiskFullError:
            pass

    def _history_said_plainly(self):
        """Each turn is saved to agent.db as it happens (and a new agent.db gets its tables on first read): on a full
        disk sqlite3's bare words become the registry's one line naming the disk and what frees it."""
        return full_disk_said_plainly(self.home.root, "the chat's history")

    def _stream(self, message: str, config: dict):
        for update in self.graph.stream({"messages": [HumanMessage(content=message)]}, config, stream_mode="updates"):
            for data in update.values():
                for m in (data or {}).get("messages", []):
                    if isinstance(m, AIMessage) and m.tool_calls:
                        for c in m.tool_calls:
                            yield {"event": "tool_call", "name": c["name"], "args": c["args"]}
                    elif isinstance(m, ToolMessage):
                        yield {"event": "tool_result", "name": m.name, "status": _status(m, None),
                               "result": tool_result(m)}
                    elif isinstance(m, AIMessage) and m.content:
                        clarify = m.additional_kwargs.get("clarify")
                        yield {"event": "answer", "text": str(m.content), "options": clarify["options"] if clarify else []}
        yield {"event": "done", "pending_confirmation": self.graph.get_state(config).values.get("pending")}

    def _check_reader(self, thread_id: str, actor: Actor | None) -> None:
        owner = thread_owner(self.home, thread_id)
        name = (actor or current(self.home)).name
        if owner is not None and owner != name:
            raise AccessDenied(f"conversation {thread_id} belongs to another user", field="thread",
                               fix="start a new conversation")

    def transcript(self, thread_id: str, actor: Actor | None = None) -> list[dict]:
        """The visible conversation (user messages and answers), each answer with the tool results behind it
        ({"name", "args", "result"}), so a UI can redraw cards and plots for earlier turns after a reload."""
        self._check_reader(thread_id, actor)
        with self._history_said_plainly():
            state = self.graph.get_state({"configurable": {"thread_id": thread_id}}).values
        out: list[dict] = []
        tools: list[dict] = []
        args: dict[str, dict] = {}
        for m in state.get("messages", []):
            if isinstance(m, HumanMessage):
                out.append({"role": "user", "content": str(m.content)})
                tools = []
            elif isinstance(m, AIMessage):
                for c in m.tool_calls:
                    args[c["id"]] = c["args"]
                if m.content:
                    clarify = m.additional_kwargs.get("clarify")
                    out.append({"role": "assistant", "content": str(m.content), "tools": tools,
                                "options": clarify["options"] if clarify else []})
                    tools = []
            elif isinstance(m, ToolMessage):
                tools.append({"name": m.name, "args": args.get(m.tool_call_id, {}), "result": tool_result(m)})
        return out

    def pending(self, thread_id: str, actor: Actor | None = None) -> dict | None:
        """The action waiting for the user's yes/no in this thread, if any."""
        self._check_reader(thread_id, actor)
        with self._history_said_plainly():
            return self.graph.get_state({"configurable": {"thread_id": thread_id}}).values.get("pending")


def _status(msg: ToolMessage | None, confirmed: bool | None) -> str:
    if msg is None:
        return "not_run"
    try:
        data = json.loads(msg.content) if isinstance(msg.content, str) else {}
    except json.JSONDecodeError:
        return "error"
    if isinstance(data, dict) and "untrusted_data" in data:
        data = data["untrusted_data"]
    if isinstance(data, dict) and "error" in data or msg.status == "error":
        return "error"
    if isinstance(data, dict) and "pending_confirmation" in data:
        return "pending_confirmation"
    return "executed" if confirmed else "ok"
