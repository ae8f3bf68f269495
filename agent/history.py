"""The chat's history (agent.db): langgraph's SQLite checkpointer, except that a full disk never costs the user their
answer or their conversation.

When a write for a thread fails for want of space, that thread is held in memory from then on (langgraph keeps a
turn's running state in memory anyway; the checkpointer only persists it), so the turn runs once, a launch or a
delete included, and a "yes" to what it proposed is still understood. At the start of the thread's next turn its
latest checkpoint, which carries the whole conversation, is written back to agent.db if there is space again. What
was stored before is never touched. Only this process holds a thread while the disk is full: a chat closed before
space returns cannot keep the turns it held, so the terminal chat prints the conversation as it closes
(`Agent.unsaved`), and its answers said so."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver

from tools.registry import DiskFullError, full_disk_error

HELD = ("This turn is held in memory only: {why}. Once there is room, your next message writes it to the "
        "conversation's history (while this chat stays open; a terminal chat closed first prints the conversation).")


def held_text(why: DiskFullError, answer: str) -> str:
    """The note a held turn's answer ends with; an answer that named the full disk already is not told it twice."""
    return HELD.format(why="the same full disk" if str(why) in answer else why)


class ChatHistory(SqliteSaver):
    def __init__(self, path: Path):
        super().__init__(sqlite3.connect(str(path), check_same_thread=False))
        self.folder = path.parent
        self.memory = InMemorySaver()
        self.held: dict[str, DiskFullError] = {}  # thread id -> why it is held in memory

    def get_tuple(self, config):
        thread = _thread(config)
        if thread in self.held:
            self._write_back(thread)
        if thread in self.held:
            return self.memory.get_tuple(config)
        try:
            return super().get_tuple(config)
        except sqlite3.OperationalError as exc:  # a new agent.db on a full disk cannot get its tables: none stored
            self._hold(thread, exc)
            return None

    def put(self, config, checkpoint, metadata, new_versions):
        thread = _thread(config)
        if thread not in self.held:
            try:
                return super().put(config, checkpoint, metadata, new_versions)
            except sqlite3.OperationalError as exc:
                self._hold(thread, exc)
                new_versions = checkpoint["channel_versions"]  # memory starts with every channel, not one step's
        return self.memory.put(config, checkpoint, metadata, new_versions)

    def put_writes(self, config, writes, task_id, task_path=""):
        thread = _thread(config)
        if thread not in self.held:
            try:
                return super().put_writes(config, writes, task_id, task_path)
            except sqlite3.OperationalError as exc:
                self._hold(thread, exc)
        self.memory.put_writes(config, writes, task_id, task_path)

    def held_because(self, thread_id: str) -> DiskFullError | None:
        """Why the thread's turns are held in memory (None: they are in agent.db)."""
        return self.held.get(thread_id)

    def _write_back(self, thread: str) -> None:
        latest = self.memory.get_tuple({"configurable": {"thread_id": thread, "checkpoint_ns": ""}})
        if latest is not None:
            try:
                super().put({"configurable": {"thread_id": thread, "checkpoint_ns": ""}}, latest.checkpoint,
                            latest.metadata, latest.checkpoint["channel_versions"])
            except sqlite3.OperationalError as exc:
                self._hold(thread, exc)
                return
        del self.held[thread]
        self.memory.delete_thread(thread)

    def _hold(self, thread: str, exc: sqlite3.OperationalError) -> None:
        """A full disk holds the thread in memory; anything else (a locked or corrupt file) is raised as it was."""
        try:
            self.conn.rollback()
        except sqlite3.Error:
            pass
        error = full_disk_error(str(exc), self.folder, "the chat's history")
        if error is None:
            raise exc
        self.held[thread] = error


def _thread(config) -> str:
    return str(config["configurable"]["thread_id"])
