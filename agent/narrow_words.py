"""A waiting action on several runs narrowed by the next message: "delete runs 1 and 2" ... "just run 1", "only 1 and
3", "not run 2", "keep run 2". The action is proposed again for the runs left, and waits for its own yes; a plain
"yes" after "just run 1" must never act on both (it did: the message was read alone, and the yes confirmed the
waiting delete of the two)."""

from __future__ import annotations

import re

NARROWABLE = ("delete_runs", "cancel_run")
_LEAD = r"^\W*(?:(?:no|nope|ok(?:ay)?|actually|wait|hmm+|sorry|oh|oops|make\s+(?:it|that))\W+)*"
_RUNS = r"(?:the\s+)?(?:runs?\s*#?\s*)?"
_IDS = r"\d+(?:\s*(?:,|and|&|or)\s*(?:runs?\s*#?\s*)?\d+)*"
_END = r"(?:\s+(?:please|then|for\s+now|instead))*\W*$"
_VERB = r"(?:(?:delete|remove|trash|cancel|stop)\s+)?"
ONLY = re.compile(rf"{_LEAD}(?:{_VERB}(?:just|only)\s+{_VERB}{_RUNS}(?P<ids>{_IDS})|{_VERB}{_RUNS}(?P<ids_before>{_IDS})\s+"
                  rf"only){_END}", re.I)
"""The runs to keep in the action ("just run 1", "only runs 1 and 3", "run 2 only", "no, delete only run 2")."""
NOT = re.compile(rf"{_LEAD}(?:(?:but\s+)?not|except|all\s+but|everything\s+but|keep|leave|skip|spare|without)\s+"
                 rf"{_RUNS}(?P<ids>{_IDS}){_END}", re.I)
"""The runs to take out of it ("not run 2", "keep run 2", "skip 3")."""


def narrowed(text: str, waiting: dict | None) -> dict | None:
    """The waiting action's arguments for the runs the message leaves in it, or None when the message does not
    narrow it (another tool, one run, runs it did not hold, or all of them or none left)."""
    if not waiting or waiting.get("tool") not in NARROWABLE:
        return None
    args = waiting.get("args") or {}
    held = [str(i) for i in args.get("run_ids") or []]
    if len(held) < 2:
        return None
    only, drop = ONLY.match(text), NOT.match(text)
    m = only or drop
    if not m:
        return None
    named = list(dict.fromkeys(re.findall(r"\d+", m.group("ids") or m.groupdict().get("ids_before") or "")))
    if not set(named) <= set(held):
        return None  # a run it did not hold: not a narrowing, read as usual
    left = [i for i in held if (i in named) == bool(only)]
    if not left or len(left) == len(held):
        return None
    if waiting["tool"] == "cancel_run" and len(left) == 1:
        return {"run_id": left[0]}
    return {"run_ids": left}
