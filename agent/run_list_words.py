"""A list of runs edited by the next message: the runs of a waiting delete or cancel, or of the comparison just shown.

"just run 1", "only 1 and 3" and "not run 2" keep or take out runs; "and run 3", "add run 3 too" add one; "drop run 1
and add run 3" does both; "swap run 1 for run 3" replaces one, and "no, run 3" puts it in place of the list. Read
alone, such a message was another request: "just run 1" then "yes" deleted both runs of "delete runs 1 and 2", "and
run 2" replaced "delete run 1" instead of joining it, and "drop run 1 and add run 3" after a comparison was not
understood. The edited action is proposed again and
waits for its own yes; the edited comparison is shown.
"""

from __future__ import annotations

import re

NARROWABLE = ("delete_runs", "cancel_run")
_LEAD = (r"^\W*(?:(?:no|nope|ok(?:ay)?|actually|wait|hmm+|sorry|oh|oops|and|also|now|then|great|thanks?|cool|nice|"
         r"perfect|make\s+(?:it|that)|i\s+mean[t]?)\W+)*")
_CORRECTING = re.compile(r"\b(?:no|nope|actually|sorry|oops|i\s+mean[t]?)\b", re.I)
"""In the lead, words that say the runs named are the ones meant instead ("wait, no, run 2")."""
_RUNS = r"(?:the\s+)?(?:(?:runs?|jobs?|experiments?)\s*#?\s*)?"
_RUN_WORD = r"(?:the\s+)?(?:runs?|jobs?|experiments?)\s*#?\s*"
_IDS = r"\d+(?:\s*(?:,|and|&|or)\s*(?:(?:runs?|jobs?)\s*#?\s*)?\d+)*"
_TAIL = (r"(?:\s+(?:too|as\s+well|also|please|then|for\s+now|instead|in(?:\s+there)?|"
         r"(?:to|from|in)\s+(?:it|that|this|them|the\s+(?:comparison|table|list)))\b)*")
_OUT_OF_ACTION = r"(?:but\s+)?not|except|all\s+but|everything\s+but|keep|leave|skip|spare|without"
"""Words that take a run out of a waiting delete or cancel ("keep run 2": do not delete it)."""
_OUT_OF_LIST = (r"(?:but\s+)?not|except|without|drop|remove|take\s+out|leave\s+out|exclude|minus|skip|"
                r"get\s+rid\s+of")
"""Words that take a run out of a comparison ("drop run 1"; there "keep" keeps it in)."""
_SEP = re.compile(r"\s*(?:,|;|&|\band\b|\bthen\b|\bbut\b)+\s*|\s+", re.I)
_END = re.compile(r"\W*$")


def _clauses(out_words: str, act: str) -> list[tuple[str, re.Pattern]]:
    """Each way a message edits the list, as (kind, pattern); `act`, the verbs of what the list is for ("delete run 2
    too")."""
    return [
        ("swap", re.compile(rf"(?:swap|replace|switch)\s+(?:out\s+)?{_RUNS}(?P<old>\d+)\s+(?:for|with|by)\s+{_RUNS}"
                            rf"(?P<new>\d+){_TAIL}", re.I)),
        ("only", re.compile(rf"(?:{act}\s+)?(?:just|only)\s+(?:{act}\s+)?{_RUNS}(?P<ids>{_IDS}){_TAIL}|(?:{act}\s+)?"
                            rf"{_RUNS}(?P<ids_before>{_IDS})\s+only{_TAIL}", re.I)),
        ("out", re.compile(rf"(?:{out_words})\s+{_RUNS}(?P<ids>{_IDS}){_TAIL}", re.I)),
        ("in", re.compile(rf"(?:(?:also\s+)?(?:add|include|throw\s+in|bring\s+in|put\s+in|plus)\s+{_RUNS}|"
                          rf"(?:{act}\s+)?{_RUN_WORD})(?P<ids>{_IDS}){_TAIL}", re.I)),
    ]


CLAUSES = {"delete_runs": _clauses(_OUT_OF_ACTION, r"(?:delete|remove|trash)"),
           "cancel_run": _clauses(_OUT_OF_ACTION, r"(?:cancel|stop|kill)"),
           "compare_runs": _clauses(_OUT_OF_LIST, r"(?:compare|show|include)")}
ADDING = re.compile(r"\b(?:and|also|too|as\s+well|plus|add|include|throw|bring|put)\b", re.I)
"""A run named with no verb is added only when something says so ("and run 3", "run 3 too"; not "run 3")."""


def edited_list(text: str, held: list[str], clauses: list[tuple[str, re.Pattern]]) -> list[str] | None:
    """`held` as the message edits it, or None when the message is not such an edit: another request, a run to take
    out that was not there, nothing changed, or nothing left."""
    lead = re.match(_LEAD, text, re.I)
    pos, edits = lead.end() if lead else 0, []
    while True:
        found = next(((kind, m) for kind, pattern in clauses if (m := pattern.match(text, pos))), None)
        if not found:
            return None
        edits.append(found)
        pos = found[1].end()
        if _END.match(text, pos):
            break
        sep = _SEP.match(text, pos)
        if not sep or not sep.end() > pos:
            return None
        pos = sep.end()
    runs = list(held)
    for kind, m in edits:
        if kind == "swap":
            old, new = m.group("old"), m.group("new")
            if old not in runs or new in runs:
                return None
            runs[runs.index(old)] = new
            continue
        named = list(dict.fromkeys(re.findall(r"\d+", m.group("ids") or m.groupdict().get("ids_before") or "")))
        if kind == "in":
            if not re.match(r"\W*(?:also\s+)?(?:add|include|throw|bring|put|plus)\b", m.group(0), re.I) \
                    and not ADDING.search(text[:m.start("ids")] + " " + text[m.end("ids"):]):  # not the list's "and"
                if len(edits) == 1 and _CORRECTING.search(text[:lead.end() if lead else 0]):
                    runs = named  # "delete run 1" ... "wait, no, run 2": the run meant, in its place
                    continue
                return None
            runs += [i for i in named if i not in runs]
        elif not set(named) <= set(runs):
            return None  # a run it did not hold: not an edit, read as usual
        elif kind == "only":
            runs = [i for i in runs if i in named]
        else:
            runs = [i for i in runs if i not in named]
    return runs if runs and runs != list(held) else None


def runs_of(args: dict) -> list[str]:
    """The runs an action's arguments name (`run_id` or `run_ids`), as strings."""
    return [str(i) for i in ([args["run_id"]] if args.get("run_id") else args.get("run_ids") or [])]


def narrowed(text: str, waiting: dict | None) -> dict | None:
    """The waiting delete's or cancel's arguments for the runs the message leaves in it or adds to it, or None when
    the message does not edit it."""
    if not waiting or waiting.get("tool") not in NARROWABLE:
        return None
    args = waiting.get("args") or {}
    held = runs_of(args)
    runs = edited_list(text, held, CLAUSES[waiting["tool"]]) if held else None
    if not runs:
        return None
    if waiting["tool"] == "cancel_run" and len(runs) == 1:
        return {"run_id": runs[0]}
    return {"run_ids": runs}


def edited_comparison(text: str, previous: list[dict], at_most: int) -> list[dict] | None:
    """The previous turn's comparison (or ranking: "rank runs 1 and 2" ... "add run 3 to that") again with the runs
    the message adds, takes out or swaps, when that turn was one comparison or ranking of named runs (a ranking the
    signals refused is followed by its comparison: the ranking is what is asked again). "What about run 3?" stays
    the usual reading: run 3 alone, or the same request for it. None otherwise, or when fewer than two runs or more
    than `at_most` would be left."""
    if [c["tool"] for c in previous] not in (["compare_runs"], ["rank_runs"], ["rank_runs", "compare_runs"]):
        return None
    held = [str(i) for i in (previous[0].get("args") or {}).get("run_ids") or []]
    runs = edited_list(text, held, CLAUSES["compare_runs"]) if held else None
    if not runs or not 2 <= len(runs) <= at_most:
        return None
    return [{"tool": previous[0]["tool"], "args": {**previous[0]["args"], "run_ids": runs}}]
