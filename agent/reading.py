"""What the chat understood of a message, and the questions every reading shares.

A Reading is a tool call or a question back (agent/understand.py decides which); `ask` builds a question; a run
named that is not there, or a description that fits several runs or sweeps, is asked about by `run_problem`, never
guessed. Readings of launches (agent/launch_words.py) and of everything else (agent/understand.py) use them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.run_refs import World
from agent.slots import WORD_NUMBERS
from tools.tool_table import RUN_TOOLS

# Below this probability, or with the second reading this close, the chat asks which reading was meant. Chosen on
# the training examples' cross-validated predictions: 0.35/0.1 answers 95% of them at 93% accuracy (0.55 answers
# 83%). A wrong choice between read-only views costs a re-ask; launches and cancels still wait for a "yes"; and a
# wrong run or dataset is prevented by the slot checks, not by this threshold.
CONFIDENT = 0.35
MARGIN = 0.1
CHAINED_AT_MOST = 3
"""Calls one message may make in turn ("diagnose run 2 and relaunch it with the fix": the diagnosis, the
recommendation, the launch proposed; "diagnose my three runs": each)."""
RUN_INTENTS = (*RUN_TOOLS, "compare_runs", "relaunch")
MANY_RUN_INTENTS = ("rank_runs", "compare_runs")  # what reads several runs together


@dataclass
class Reading:
    """What the chat understood: a tool call, or a question with the readings to choose from."""

    kind: str  # "tool" | "clarify" | "refuse" | "help"
    tool: str | None = None
    args: dict = field(default_factory=dict)
    confidence: float = 0.0
    question: str = ""
    options: list[str] = field(default_factory=list)  # messages the user can send back (buttons in the UI)
    intents: list[tuple[str, float]] = field(default_factory=list)
    # a question about values the call could not place: the call as read, made if the user says to go ahead
    without: dict | None = None
    taken_out: bool = False  # values the message named to remove ("drop the 0.01"): none of them is dropped by mistake
    then: str | None = None  # a message read again once this call is back, with its result in the context


NUMBER_WORDS = {n: w for w, n in WORD_NUMBERS.items()}


def ask(question: str, options: list[str] | None = None, intents=None, confidence: float = 0.0) -> Reading:
    return Reading("clarify", question=question, options=options or [], intents=intents or [], confidence=confidence)


def run_problem(refs, world: World) -> Reading | None:
    """A named run that is not there, or a description that fits several: ask, never guess."""
    known = ", ".join(world.ids()) or "none yet"
    missing = [u for u in refs.unknown if u != "(described)"]
    if "(sweep)" in missing and not refs.ids:
        return ask("No runs here were launched as a sweep, so I cannot tell which runs you mean. Name them (e.g. "
                    f"`compare runs {' and '.join(world.ids()[-2:]) or '1 and 2'}`), or launch a sweep with a list of "
                    "values (`sweep simclr's lr: 1e-3, 3e-3, 1e-2 on digits`).", ["list my runs"])
    missing = [u for u in missing if u != "(sweep)"]
    if missing:
        return ask(f"There is no run {missing[0]} in this home (runs: {known}). Which run did you mean?",
                    [f"show run {r}" for r in world.ids()[-3:]])
    if refs.sweeps and not refs.ids:
        return which_sweep(refs, None)
    if refs.ambiguous and not refs.ids:
        group = refs.ambiguous[0]
        return ask(f"That fits runs {', '.join(group)}. Which one?", [f"show run {r}" for r in group[:4]])
    if refs.miscounted and not refs.ids:
        count, fit = refs.miscounted
        which = f"only run {fit[0]} fits" if len(fit) == 1 else f"{len(fit)} runs fit ({', '.join(fit)})"
        return ask(f"You said {NUMBER_WORDS.get(count, count)} runs, but {which} that description (runs: {known}). Which "
                   "runs did you mean?", [f"show run {r}" for r in fit[-3:]])
    if "(described)" in refs.unknown and not refs.ids:
        return ask(f"No run fits that description (runs: {known}). Which run did you mean?",
                    [f"show run {r}" for r in world.ids()[-3:]])
    return None


def which_sweep(refs, text: str | None) -> Reading:
    """"the sweep" with several here: ask which, each offered as the message with that sweep named."""
    which = " or ".join(f"`{n}` (runs {', '.join(g)})" for n, g in zip(refs.sweeps, refs.ambiguous, strict=False))
    said = re.compile(r"\b(?:the|my|that|this)\s+(?:sweep|grid(?:[- ]search)?)\b", re.I)
    options = [said.sub(f"the {n} sweep", text, count=1) if text and said.search(text) else
               f"list the runs of the {n} sweep" for n in refs.sweeps[-4:]]
    return ask(f"There is more than one sweep here: which did you mean, {which}?", options)
