"""Runs named by their place in the last list the thread showed: "diagnose the top one", "show me the second run",
"compare the first two", "which of them is best?".

A list (list_runs), a ranking or a comparison leaves its runs, in the order shown, in the thread (`last_listed`,
agent/graph.py). A message that points into it is written with the runs named ("diagnose run 4"), then read as any
other. With no list in the thread the words are left alone, and the usual question back asks which run.
"""

from __future__ import annotations

import re

from tools.runs import runs_named

ORDINALS = {"first": 0, "1st": 0, "top": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
            "fifth": 4, "5th": 4, "bottom": -1}
COUNTS = {"two": 2, "three": 3, "four": 4, "five": 5, "2": 2, "3": 3, "4": 4, "5": 5}
PLACE_REF = re.compile(rf"\bthe\s+(?P<place>{'|'.join(ORDINALS)})\s+(?:one|run|job|entry|row)\b"
                       r"(?!\s+(?:i|we|you)\b|\s+(?:ever|of\s+all)\b)", re.I)
"""One run by its place ("the second one", "the top run"); not "the first run I launched" (the oldest)."""
LAST_LISTED = re.compile(r"\bthe\s+last\s+(?:one|run|job|entry|row)\s+(?:(?:in|on|of)\s+(?:that|the|this|your)\s+"
                         r"(?:list|table)|(?:you\s+)?(?:listed|shown|showed))\b", re.I)
"""The list's last run ("the last one in that list"); "the last one" alone is the newest run (agent/run_refs.py)."""
FIRST_N = re.compile(rf"\bthe\s+(?:first|top)\s+(?P<n>{'|'.join(COUNTS)})(?:\s+(?:runs|ones|rows|entries))?\b", re.I)
"""The first N runs of the list ("compare the first two", "the top 3 runs")."""
THEM_LISTED = re.compile(r"^(?:(?:all|both)\s+(?:of\s+)?)?(?:them|those|these)(?:\s+(?:runs?|ones|two|three|four|five))?"
                         r"(?:\s+(?:all|both|too))?$|^both(?:\s+(?:runs|ones))?$", re.I)
"""Every run the last list showed, as the whole of what an action names ("which runs collapsed?" ... "delete them",
"compare runs 1 and 3" ... "tag both as keep")."""
OF_THEM = re.compile(r"\b(?:which|what|who|any|none|one|each|either|neither|best|worst)\s+(?:one\s+)?(?:of|among)\s+"
                     r"(?P<them>them|those|these)(?:\s+runs)?\b", re.I)
"""A question over every run listed ("which of them is best?", "is any of those collapsed?"); not "compare all of
them", which understand.THEM_COMPARED reads."""


EACH_OF_THEM = re.compile(r"^\W*(?:(?:now|then|and|also|ok(?:ay)?|please|can\s+you|could\s+you)\W+)*(?:diagnose|judge|"
                          r"forecast|check|assess|rate|evaluate|recommend\s+(?:a\s+)?(?:fix(?:es)?|next\s+steps?)\s+for)\s+"
                          r"(?P<them>(?:all\s+|both\s+)?(?:of\s+)?(?:them|those|these|both)(?:\s+(?:runs|ones|two|three))?"
                          r"(?:\s+(?:all|both))?)\b", re.I)
"""A one-run request made of every run listed ("diagnose them", "judge both"): each of them, as "diagnose runs 1
and 2" is."""


def last_of_list(text: str, context: dict) -> str:
    """The message with "the last one in that list" written as that run, before anything reads "the last one" as the
    newest run (the fidelity check included)."""
    listed = context.get("last_listed") or []
    return LAST_LISTED.sub(runs_named(listed[-1:]), text) if listed else text


def resolve_listed(text: str, context: dict) -> str | None:
    """The message with its pointers into the last list written as the runs they point at, or None when it has
    none (or the thread has no list)."""
    listed = context.get("last_listed") or []
    if not listed:
        return None
    out = text
    place = PLACE_REF.search(out)
    if place:
        i = ORDINALS[place.group("place").lower()]
        if i >= len(listed):
            return None  # "the fifth one" of a list of three: left to the usual question
        out = out[:place.start()] + runs_named([listed[i]]) + out[place.end():]
    first = FIRST_N.search(out)
    if first and COUNTS[first.group("n").lower()] <= len(listed):
        out = out[:first.start()] + runs_named(listed[:COUNTS[first.group("n").lower()]]) + out[first.end():]
    of = OF_THEM.search(out)
    if of:
        out = out[:of.start("them")] + runs_named(listed) + out[of.end():]
    each = EACH_OF_THEM.search(out)
    if each and len(listed) > 1:
        out = out[:each.start("them")] + runs_named(listed) + out[each.end("them"):]
    return out if out != text else None
