"""Deleting runs and bringing them back, in words: "delete run 4", "remove runs 1 and 2", "delete the failed runs",
"restore run 4". A delete names its runs (by id, name or description) or a kind of finished run, and nothing else:
"delete everything", "delete all runs" and anything that is not only runs stay refused (agent/understand.REFUSE), and
the delete itself waits for a yes (tools/trash.py moves runs to a trash that `restore` empties back)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from agent.listed_words import THEM_LISTED
from agent.reply_words import UNDO
from agent.run_refs import ONE_DESCRIBED, World, find_runs, names_as_ids
from agent.slots import POLITE
from tools.registry import ACTIVE

DELETE = re.compile(rf"^\W*(?:(?:{POLITE}|alright|fine|yes|yeah|sure)\W+)*(?P<verb>delete|remove|trash|"
                    r"get\s+rid\s+of|throw\s+away|discard)\s+(?P<what>.+?)[\s?.!]*$", re.I)
_FROM_THE_TRASH = r"(?:\s+(?:from|out\s+of)\s+the\s+(?:trash|bin))?"
RESTORE = re.compile(r"^\W*(?:(?:pls|please|can\s+you|could\s+you)\W+)*(?:(?:restore|undelete|recover|un-?trash|"
                     rf"bring\s+back)\s+run\s*#?(?P<id>\d+)\b|(?:bring|get|put)\s+run\s*#?(?P<id2>\d+)\s+back)"
                     rf"{_FROM_THE_TRASH}[\s?.!]*$", re.I)
ONLY_RUNS = re.compile(r"^(?:(?:the\s+)?runs?\s*#?\d+|#\d+|\d+|,|and|&|the|run|runs|\s)+$", re.I)
"""Ids and the words between them ("runs 1 and 2", "run 4, run 5"), nothing else."""
THE_RUN_IN_FOCUS = re.compile(r"^(?:this|that|the)\s+(?:run|one|experiment)(?:\s+(?:too|again))?$", re.I)
IT_IN_FOCUS = re.compile(r"^(?:it|this|that)(?:\s+(?:too|again))?$", re.I)
"""The run being talked about ("diagnose run 2" ... "delete it", "trash that run"): the delete still waits for a yes."""
IT_AFTER_A_RUN = re.compile(r"^(?P<lead>[^,;.]+)[,;.]\s*(?:(?:and|so|just|please|then)\s+)*"
                            r"(?:delete|remove|trash|get\s+rid\s+of|discard)\s+it(?:\s+(?:please|then|now))?[\s?.!]*$", re.I)
"""A run named in a first clause, then "delete it" ("forget run 2, delete it", "run 3 is useless, remove it"): the
delete of that run, where the clause names one."""
KINDS = {
    "failed": lambda r: r.status in ("failed", "diverged"),
    "crashed": lambda r: r.status in ("failed", "diverged"),
    "diverged": lambda r: r.status == "diverged" or r.verdict == "diverged",
    "cancelled": lambda r: r.status == "cancelled",
    "interrupted": lambda r: r.status == "interrupted",
    "collapsed": lambda r: r.verdict in ("complete_collapse", "dimensional_collapse"),
}
AGE_UNITS = {"day": 86400.0, "week": 7 * 86400.0, "month": 30 * 86400.0}
A_KIND = re.compile(rf"^(?:all\s+)?(?:(?:the|my|of\s+the|of\s+my)\s+)*(?P<kind>{'|'.join(KINDS)})\s+"
                    r"(?:runs?|ones?|jobs?)(?:\s+(?:that\s+(?:are|were)\s+|which\s+(?:are|were)\s+)?(?:(?:older\s+than|"
                    r"ended\s+more\s+than|from\s+more\s+than)\s+(?P<n>\d+|an?|one)\s*(?P<unit>day|week|month)s?(?:\s+ago)?|"
                    r"more\s+than\s+(?P<n2>\d+|an?|one)\s*(?P<unit2>day|week|month)s?\s+old))?$", re.I)
"""A kind of finished run, optionally by age ("the failed runs older than a week"): the age counts from its end."""


TRAILING = re.compile(r"(?:[\s,]+(?:instead|please|pls|then|now|thanks|thank\s+you|as\s+well))+$|"
                      r"\s*[,;-]+\s*(?:it'?s|it\s+is|it\s+was|they'?re|they\s+are|they\s+were|because|since|as)\b[^,;]*$",
                      re.I)
"""Words after the runs that do not change which ("delete run 1 instead", "remove run 3 please", "get rid of run 2,
it's useless")."""
EVERY_RUN = re.compile(r"^(?:all|every|each)(?:\s+(?:of\s+)?(?:the|my))?\s+(?:runs?|ones?|jobs?|experiments?)$", re.I)
"""Every run, said as runs ("every run except run 1"); "everything" may be more than runs, and is refused."""
DESCRIBED_RUNS = re.compile(r"^(?:(?:the|my|all|every|both|of)\s+)*(?:[a-z-]+\s+){0,2}(?:runs|ones|jobs|experiments)$", re.I)
"""Runs described, not named ("the finished runs", "both byol runs"): which fit is said, and deleting them is asked by
name. Only such words: "the checkpoints of run 4" or "run 4 from the database" are refused."""
ANY_AGE = re.compile(r"^(?:all\s+)?(?:(?:the|my|of\s+the|of\s+my)\s+)*(?:runs?|ones?|jobs?|experiments?)\s+(?:that\s+(?:are|"
                     r"were)\s+)?(?:older\s+than|ended\s+more\s+than|more\s+than\s+\S+\s+\w+\s+old)", re.I)
"""Runs by age alone ("runs older than 2 weeks"): no bulk delete of every kind from the chat; the kinds are offered."""
EXCEPT = re.compile(r"[\s,]+(?:except(?:\s+for)?|but\s+not|other\s+than|apart\s+from|excluding|save|besides|"
                    r"leaving\s+out|not)\s+(?P<ids>.+)$", re.I)
"""Runs spared from a kind ("delete the failed runs except run 4"): the kind less those ids."""


_IT = r"(?:it|that(?:\s+(?:one|run))?|this(?:\s+(?:one|run))?|the\s+run)"
RESTORE_IT = re.compile(r"^\W*(?:(?:pls|please|can\s+you|could\s+you|actually|no|wait|oops|ok(?:ay)?|then)\W+)*(?:(?:restore|"
                        rf"undelete|recover|un-?trash|bring\s+back)\s+{_IT}(?:\s+back)?|(?:bring|get|put)\s+{_IT}\s+back)"
                        rf"{_FROM_THE_TRASH}(?:\s+(?:please|then))?[\s?.!]*$", re.I)
"""A restore of the run being talked about ("delete run 2" ... "actually, restore it", "oops, bring it back")."""


def read_restore(text: str, focus: str | None = None) -> str | None:
    """The id of a run to bring back from the trash (it is not in the home's runs, so it is not looked up there);
    `focus`, the run "it" names."""
    m = RESTORE.match(text)
    if m:
        return m.group("id") or m.group("id2")
    return focus if focus and RESTORE_IT.match(text) else None


def undo_of_delete(text: str, previous: list[dict], present: Callable[[str], bool]) -> list[str] | None:
    """The runs the previous turn moved to the trash, when `text` only takes it back; None otherwise, or when the
    delete was never done (`present`: whether a run is still in the home: a delete still waiting for its yes)."""
    if not UNDO.match(text) or [c["tool"] for c in previous] != ["delete_runs"]:
        return None
    ids = [str(i) for i in previous[0]["args"].get("run_ids") or []]
    return ids if ids and not any(present(i) for i in ids) else None


def read_delete(text: str, world: World, focus: str | None = None,
                listed: list[str] | None = None) -> tuple[str, list[str]] | None:
    """("ids", the ids written, or the run in `focus` for "delete it"), ("kind", the runs of that kind), ("listed",
    the runs of the last list, `listed`, for "delete them"), ("described", the runs that other words describe: "the
    finished runs", "every run except run 1"), or None when the words are not only runs."""
    said_first = IT_AFTER_A_RUN.match(text)
    named = find_runs(said_first.group("lead"), world) if said_first else None
    if named and len(named.ids) == 1 and not named.ambiguous:
        text = f"delete run {named.ids[0]}"  # "forget run 2, delete it": the run the first clause names
    m = DELETE.match(text)
    if not m:
        return None
    what = TRAILING.sub("", m.group("what").strip()) or m.group("what").strip()
    if listed and THEM_LISTED.match(what):
        return "listed", [i for i in listed if world.has(i)]
    if focus and world.has(focus) and (THE_RUN_IN_FOCUS.match(what) or IT_IN_FOCUS.match(what) and m["verb"].lower() !=
                                       "remove"):  # "remove it" may be the tag just added: only with "run"
        return "ids", [focus]
    what = names_as_ids(what, world)  # a run's name or its own tag stands for its id ("delete run siam-nostop",
    # "delete the baseline")
    if ONLY_RUNS.match(what) and re.search(r"\d", what):
        return "ids", list(dict.fromkeys(re.findall(r"\d+", what)))
    spared = EXCEPT.search(what)
    before = what[:spared.start()].strip() if spared else ""
    if spared and ONLY_RUNS.match(spared.group("ids")) and ONLY_RUNS.match(before) and re.search(r"\d", before):
        kept = set(re.findall(r"\d+", spared.group("ids")))  # "delete run 1, not run 2"
        return "ids", [i for i in dict.fromkeys(re.findall(r"\d+", before)) if i not in kept]
    if spared and ONLY_RUNS.match(spared.group("ids")) and A_KIND.match(before):
        kind = read_delete(f"delete {what[:spared.start()].strip()}", world)  # "the collapsed runs except run 2"
        kept = set(re.findall(r"\d+", spared.group("ids")))
        return "kind", [i for i in kind[1] if i not in kept] if kind else []
    if spared and ONLY_RUNS.match(spared.group("ids")) and EVERY_RUN.match(before):  # "every run except run 1"
        kept = set(re.findall(r"\d+", spared.group("ids")))
        return "described", [r.id for r in world.runs if r.id not in kept]
    if ANY_AGE.match(what):  # "delete runs older than 2 weeks": of which kind is asked (see _trash)
        return "age", []
    kind = A_KIND.match(what)
    if kind:
        age = _age_s(kind.group("n") or kind.group("n2"), kind.group("unit") or kind.group("unit2"))
        return "kind", of_kind(world, kind.group("kind").lower(), age)
    if re.fullmatch(ONE_DESCRIBED, what, re.I):  # "delete the latest run", "remove the byol one": the one run it
        # fits, waiting for a yes that names it (read as an order to delete files before, and refused)
        ids = find_runs(what, world, about_runs=True).ids
        return ("ids", ids) if len(ids) == 1 else None
    if DESCRIBED_RUNS.match(what):  # "the finished runs", "both finished runs": no kind deleted in bulk, asked about
        ids = find_runs(what, world, about_runs=True, groups=True).ids
        return ("described", ids) if ids else None
    return None


def of_kind(world: World, kind: str, older_than_s: float | None = None) -> list[str]:
    """The finished runs of a kind (KINDS), only those that ended more than `older_than_s` ago when it is given (a
    run still queued or running is never among them, though the monitor may have read it collapsed)."""
    keep, before = KINDS[kind], time.time() - older_than_s if older_than_s else None
    return [r.id for r in world.runs if keep(r) and r.status not in ACTIVE and (
        before is None or (r.ended_at is not None and r.ended_at < before))]


def _age_s(n: str | None, unit: str | None) -> float | None:
    if not unit:
        return None
    count = 1 if n is None or not n.isdigit() else int(n)
    return count * AGE_UNITS[unit.lower()]
