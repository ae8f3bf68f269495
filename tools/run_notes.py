"""A run's name, tags and notes: what W&B and MLflow users keep beside a run to find it again.

Each change is an `annotate` event in the run's folder (the source of truth, so `sslpilot registry rebuild` keeps
it); the registry applies the events in order to the run's row (`apply`, called from tools/registry.py). Who may
change a run is checked where the change is asked for (tools/runs.annotate). Notes are
the user's text: stored and shown as data, never read as instructions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from pydantic import BaseModel, Field, field_validator, model_validator

from ssl_runtime.errors import SSLPilotError
from ssl_runtime.run_folder import RunFolder
from tools.records import Run

TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,39}$")
MAX_NAME = 80
MAX_NOTE = 2000
MAX_TAGS = 32
ORIGIN_TAGS = ("chat", "sweep", "follow-up", "scheduled", "imported", "audit")
"""Tags a run gets from how it was made (tools/agent_tools.py, runs.py, followup.py, scheduler.py, audit.py), beside
the user's own: they name no run the user picked out (agent/run_refs.py)."""
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_tag(tag: str) -> str:
    """A tag as stored: trimmed, lower case (W&B and MLflow tags are case-sensitive; here "Best" and "best" would
    only split a filter), one word of letters, digits and _ . : + -."""
    t = str(tag).strip().strip("'\"`").lower()
    if not TAG.match(t):
        raise SSLPilotError(f"tag {tag!r} is not one word of letters, digits and _ . : + - (at most 40)",
                            field="tags", fix="e.g. `baseline`, `lr-sweep`, `v2`")
    return t


class Annotation(BaseModel):
    """One change to a run's name, tags or notes (a note is added to the notes, newest last)."""

    name: str | None = Field(None, max_length=MAX_NAME)
    add_tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    remove_tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    note: str | None = Field(None, max_length=MAX_NOTE)

    @field_validator("name", "note")
    @classmethod
    def _text(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = _CONTROL.sub(" ", v).strip()
        if not v:
            raise ValueError("is empty")
        return v

    @field_validator("add_tags", "remove_tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(clean_tag(t) for t in v))

    @model_validator(mode="after")
    def _something(self) -> Annotation:
        if self.name is None and not self.add_tags and not self.remove_tags and self.note is None:
            raise ValueError("nothing to change: give a name, tags to add or remove, or a note")
        return self

    def describe(self) -> str:
        parts = [f"named {self.name!r}"] if self.name else []
        parts += [f"tagged {', '.join(self.add_tags)}"] if self.add_tags else []
        parts += [f"untagged {', '.join(self.remove_tags)}"] if self.remove_tags else []
        parts += ["noted"] if self.note else []
        return "; ".join(parts)


def tags_of(run: Run) -> list[str]:
    return list(json.loads(run.tags_json or "[]"))


def reset(run: Run) -> None:
    """Before the folder's events are replayed from the start: the name the config gave, no tags, no notes."""
    run.name = json.loads(run.config_json or "{}").get("name")
    run.tags_json, run.notes = "[]", ""


def apply(run: Run, event: dict) -> None:
    """Apply one `annotate` event to a registry row (in place)."""
    if event.get("name"):
        run.name = str(event["name"])[:MAX_NAME]
    tags = [t for t in tags_of(run) if t not in (event.get("remove_tags") or [])]
    tags += [t for t in (event.get("add_tags") or []) if t not in tags]
    run.tags_json = json.dumps(tags)
    if event.get("note"):
        run.notes = "\n".join(x for x in (run.notes, str(event["note"])[:MAX_NOTE]) if x)


def record(folder: RunFolder, change: Annotation, user: str | None = None) -> None:
    """Write the change into the run folder, where the registry reads it."""
    folder.event("annotate", change.describe() + (f" by {user}" if user else ""), user=user,
                 **change.model_dump(exclude_none=True, exclude_defaults=True))


def record_initial(folder: RunFolder, tags: Iterable[str] = (), notes: str = "") -> None:
    """The tags and notes a run is created with (a chat launch, a sweep, an import), written like any later change."""
    tags = [t for t in tags if t]
    if tags or notes:
        record(folder, Annotation(add_tags=tags, note=notes or None))
