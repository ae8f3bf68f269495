"""A sweep named as a whole: asked about ("which lr won the sweep?", "is the sweep done?") or launched again ("run
the same sweep with byol", "add lr 0.03 to the lrs sweep"). understand.py asks here once a message names a sweep of
this home."""

from __future__ import annotations

import re

from agent.grid_words import find_grid
from agent.launch_words import launch_args, method_and_data
from agent.reading import CONFIDENT, MANY_RUN_INTENTS, Reading, ask
from agent.run_refs import SWEEP_REF
from tools.launches import FIELD_KEYS

SWEEP_OUTCOME = re.compile(r"\b(?:best|worst|won|wins?|winner|winning|worked|top|find|found|results?|outcomes?|"
                           r"(?:turn|came|come|comes)\s+out|turned\s+out|go|went|summar\w*|learn(?:ed|t)?|keep|"
                           r"worth|pick|choose)\b", re.I)
"""What a sweep found, asked of it as a whole ("which lr won the sweep?", "how did the sweep go?"): its runs ranked."""
SWEEP_STATE = re.compile(r"\b(?:done|finished|over|complete(?:d)?|still\s+(?:running|training)|going|progress|"
                         r"status|how\s+far|left|remaining)\b", re.I)
"""Where a sweep has got to ("is the sweep done?", "how far along is the lrs sweep?"): its runs listed, each status."""
SWEEP_SHOWN = re.compile(r"^\W*(?:(?:please|pls|can\s+you|could\s+you)\s+)?(?:show|display|view|see|table)\b", re.I)
"""The sweep asked to be shown ("show me the sweep"): its runs side by side."""
ONE_RUN_READINGS = ("diagnose_run", "get_run", "forecast_run", "rank_checkpoints", "search_run_logs",
                    "search_literature", "help")
"""Readings that would answer a question about a whole sweep with one run's view, or with a search."""


def sweep_as_a_whole(text: str, sweep: str | None, top: str, p: float) -> str | None:
    """rank_runs (or compare_runs, to be shown it) for a question about one sweep as a whole, where the nearest
    reading is one run's view, a search, or none sure enough; None for anything else (a list, a launch, a cancel, a
    recommendation: their own readings)."""
    if not sweep or (top not in ONE_RUN_READINGS and p >= CONFIDENT):
        return None
    if top not in (*ONE_RUN_READINGS, *MANY_RUN_INTENTS, "list_runs"):  # an unsure list: "show me the sweep"
        return None
    if SWEEP_STATE.search(text) and not SWEEP_OUTCOME.search(text):
        return "list_runs"
    if SWEEP_OUTCOME.search(text):
        return "rank_runs"
    return "compare_runs" if SWEEP_SHOWN.search(text) else None


SWEEP_AGAIN = re.compile(r"^\W*(?:(?:please|pls|can\s+you|could\s+you|let'?s|now)\s+)?(?:(?:re-?)?run|repeat|redo|"
                         r"relaunch|launch|start|do|clone|copy|duplicate|extend|add|also\s+try|try)\b"
                         r"|\b(?:the\s+same|again)\b", re.I)
"""A sweep launched again ("run the same sweep with byol", "repeat the lrs sweep on shapes", "extend the sweep
with lr 0.03"): a verb of launching first, or "the same ... again"; never a question about it."""
EXTENDS = re.compile(r"\b(?:extend|add|append|also\s+try|more\s+values?)\b", re.I)
"""Values added to a sweep ("add lr 0.03 to the lrs sweep"): new runs in that sweep, not a repeat of it."""
NOT_AGAIN = re.compile(r"^\W*(?:what|which|how|why|did|does|do\s+you|is|was|were|are|should|show|list|compare|rank)\b"
                       r"|\?\s*$", re.I)


def sweep_again(text: str, sweep: str | None, intents, cwd) -> Reading | None:
    """launch_sweep(like_sweep=...) for a sweep of this home named to be run again or extended, with the changes
    the message gives (a method, data, settings; for an extension, the values to add); None otherwise."""
    if not sweep or not SWEEP_AGAIN.search(text) or NOT_AGAIN.search(text):
        return None
    rest = SWEEP_REF.sub(" ", text)  # the sweep and its name are no setting ("lrs") nor data
    args = launch_args(rest)
    grid = find_grid(rest)
    extend = bool(EXTENDS.search(text))
    if extend:  # "add lr 0.03": one value is still a value to add
        for field in ("lr", "batch_size"):
            if field in args:
                grid.setdefault(FIELD_KEYS[field], [args.pop(field)])
        for key, value in list((args.get("overrides") or {}).items()):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                grid.setdefault(key, [args["overrides"].pop(key)])
        if not args.get("overrides"):
            args.pop("overrides", None)
        if not grid:
            return ask(f"Which values should I add to the {sweep} sweep? Say e.g. `add lr 0.03 to the {sweep} "
                        "sweep`.", [], [("launch_sweep", 1.0)])
    named, problem = method_and_data(rest, cwd)
    if problem:
        return problem
    args.update({**named, **({"grid": grid} if grid else {})})
    return Reading("tool", "launch_sweep", {**args, "like_sweep": sweep, **({"extend": True} if extend else {})},
                   confidence=1.0, intents=[("launch_sweep", 1.0), *intents[:2]])
