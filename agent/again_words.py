"""The last request again for another run: "what about run 1?", "and run 4 too", "same for run 2", "now run 3"; and
the run in focus launched again with a change: "now the same with byol", "rerun it with lr 0.1".

Such a message names a run and nothing to do with it (or names no run at all): what to do is what the previous turn
did, or the run the thread is about. Read alone it would be a look at the run, a comparison or a question back, which
drops what the user meant.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from agent.run_refs import ONE_DESCRIBED
from agent.setting_words import find_asked

_RUN = r"(?:run|job|experiment)\s*#?\s*(?P<id>\d+)"
_TOO = r"(?:\s+(?:too|as\s+well|also|instead|then|please))*"
_IS_IT_OK = (r"(?:is|was|does|did)\s+(?:it|that\s+one)\s+(?:ok(?:ay)?|fine|alright|all\s+right|healthy|good|look\s+(?:ok(?:ay)?|"
             r"fine|good|healthy|right))")
"""A question of how the run is that any look at it answers ("..., is it ok?"), so the same request again serves."""
AGAIN_FOR_RUN = re.compile(
    rf"^\W*(?:(?:ok(?:ay)?|and|also|now|then|great|thanks?|no|nope|sorry|oops|wait|actually|oh|hmm+|rather)\W+)*"
    rf"(?:i\s+mean(?:t)?\s+)?"
    rf"(?:(?:what|how)\s+about\s+|(?:and\s+)?(?:the\s+)?same\s+(?:thing\s+)?(?:for|with|on)\s+|"
    rf"(?:now\s+)?do\s+(?:the\s+same|that|it|this)\s+(?:again\s+)?(?:for|with|on|to)\s+|(?:and\s+)?for\s+)?"
    rf"{_RUN}(?:'s|\u2019s)?{_TOO}(?:\W+{_IS_IT_OK})?\W*$", re.I)
"""A message that is a run and a follow-up word, nothing else ("and run 1 too", "what about run 1?", "no, I mean for
run 2", "and run 1's?", "and what about run 3, is it ok?")."""

AGAIN_FOR_DESCRIBED = re.compile(AGAIN_FOR_RUN.pattern.replace(_RUN, f"(?P<ref>{ONE_DESCRIBED})"), re.I)
"""The same follow-up naming its run by what it is ("and what about the simclr one?", "now the collapsed run")."""

AGAIN_FOR_NUMBER = re.compile(r"^\W*(?:and|also|now|then)\s+(?:(?:what|how)\s+about\s+|for\s+)?#?(?P<id>\d+)(?:\s+too)?\W*$|"
                              r"^\W*(?:what|how)\s+about\s+#?(?P<id2>\d+)\W*$", re.I)
"""The same with the run's bare id after a follow-up word ("and 2?", "what about 3?"): a number alone is not a run."""

SAID_ALONE = re.compile(rf"^\W*{_RUN}\W*$", re.I)
"""A run and nothing else ("run 1"): an answer to a question, or a look at the run, not the last request again."""


def again_for_run(text: str, previous: list[dict]) -> list[dict] | None:
    """The previous turn's calls (`previous`: [{"tool", "args"}], in order: "diagnose run 2 and recommend a fix" made
    two) for the run `text` names, when `text` asks for the same again (AGAIN_FOR_RUN) and each was about one run;
    None otherwise."""
    m = AGAIN_FOR_RUN.match(text) or AGAIN_FOR_NUMBER.match(text)
    if not m or SAID_ALONE.match(text) or not previous:
        return None
    if any("run_id" not in (c.get("args") or {}) or c["args"].get("run_ids") for c in previous):
        return None
    rid = m.group("id") or m.groupdict().get("id2")
    return [{"tool": c["tool"], "args": {**c["args"], "run_id": rid if isinstance(c["args"]["run_id"], str) else int(rid)}}
            for c in previous]


_LEAD = r"^\W*(?:(?:ok(?:ay)?|and|also|now|then|great|thanks?|cool|nice|perfect)\W+)*"
_CHANGE = r"\W*(?:but\s+|only\s+|just\s+)?(?:with|using|for|on|in)\s+(?P<change>\S.*)$"
SAME_AGAIN_WITH = re.compile(
    rf"{_LEAD}(?:(?:do|launch|train|run|start|queue)\s+)?(?:(?:the\s+)?same(?:\s+(?:thing|run|one))?(?:\s+again)?|"
    rf"(?:another|one\s+more)(?:\s+(?:one|run))?)"
    rf"(?:{_CHANGE}|\W*but\s+(?P<bare>\S.*)$)", re.I)
"""The launch just made, made again with a change ("now the same with byol", "same again but on shapes", "the same
thing but lr 0.1", "and another one with twice the lr")."""
RUN_IT_AGAIN_WITH = re.compile(
    rf"{_LEAD}(?:re-?run|re-?launch|(?:run|launch|train|start|queue)\s+(?:it|that|this)(?:\s+one)?\s+again\b)"
    rf"(?:\s+(?:it|that|this)(?:\s+one)?)?(?:{_CHANGE}|\W*$)", re.I)
"""The run in focus launched again ("rerun it with byol", "run it again with lr 0.1", "relaunch that one"); not
"restart it", which may mean resuming it."""


WHY_ALONE = re.compile(r"^\W*(?:(?:ok(?:ay)?|hmm+|but|and|so|really)\W+)*(?:why(?:\s+(?:(?:is|was)\s+(?:that|it)|not|so|"
                       r"though))?|how\s+come|how\s+so|on\s+what\s+(?:basis|grounds)|what\s+makes\s+you\s+say\s+(?:that|so)|"
                       r"says\s+who)\W*$", re.I)
"""A bare "why?" and its kin ("how come?", "how so?", "why is that?"), asked of the answer just given."""


def why_of_verdict(text: str, previous: list[dict]) -> str | None:
    """The run whose quality verdict the previous turn gave (a judge_run of one run), when `text` only asks why: its
    diagnosis holds the evidence the verdict rests on. Read alone, "why?" was the help text."""
    if WHY_ALONE.match(text) and [c["tool"] for c in previous] == ["judge_run"]:
        return str(previous[0]["args"].get("run_id") or "") or None
    return None


PROBE_INSTEAD = re.compile(r"^\W*(?:(?:ok(?:ay)?|and|so|then|hmm+)\W+)*(?:(?:what|how)\s+about\s+)?(?:with|using|by|from|"
                           r"on|of)\s+(?:the\s+|its\s+)?(?:linear\s+)?probe(?:\s+accuracy)?(?:\s+(?:instead|too|as\s+well))?\W*$|"
                           r"^\W*(?:(?:ok(?:ay)?|and|so|then)\W+)*(?:(?:forecast|what\s+about|how\s+about)\s+)?(?:the\s+|its\s+)?"
                           r"(?:linear\s+)?probe(?:\s+accuracy)?(?:\s+(?:instead|too|as\s+well))?\W*$", re.I)
"""The forecast just given asked again of the probe ("what about with the probe?", "and the probe?", "using the
probe instead"): the probe at the run's kept checkpoints, where it was a label-free metric."""


def probe_forecast(text: str, previous: list[dict]) -> dict | None:
    """forecast_run's arguments for the probe of the run the previous turn forecast without it, when `text` only asks
    for that; None otherwise. Read alone, "what about with the probe?" offered three readings."""
    if not PROBE_INSTEAD.match(text) or [c["tool"] for c in previous] != ["forecast_run"] or previous[0]["args"].get(
            "probe"):
        return None
    return {"run_id": previous[0]["args"]["run_id"], "probe": True}


A_VALUE_AGAIN = re.compile(r"^\W*(?:(?:no|nope|actually|wait|sorry|hmm+|oh|rather|i\s+meant?)\W+)*(?:(?:make|set|change)\s+"
                           r"(?:it|that|the\s+(?:value|number|bar))\s+(?:to\s+)?)?(?P<value>\d+(?:\.\d+)?)(?:\s+(?:instead|then|"
                           r"please))*\W*$", re.I)
"""A value said again for the one number the last message gave ("actually make it 80")."""


def value_said_again(previous: str | None, text: str) -> str | None:
    """The previous message with its one number (run ids aside) replaced by the one `text` says instead, so that a
    waiting action that is not a launch ("stop run 3 after 40 more steps" ... "actually make it 80") is proposed
    again with it; None when `text` is no such correction or the previous message has no single number."""
    m = A_VALUE_AGAIN.match(text)
    if not m or not previous:
        return None
    ids = r"\b(?:runs?\s*#?\s*|#)\d+(?:\s*(?:,|and|&)\s*(?:run\s*)?#?\d+)*"
    spans = [n.span() for n in re.finditer(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])", re.sub(ids, lambda r: "x" * len(r.group()),
                                                                                   previous))]
    if len(spans) != 1:
        return None
    (a, b), = spans
    return previous[:a] + m.group("value") + previous[b:]


def ref_as_id(text: str, m: re.Match | None, resolve: Callable[[str], list[str]]) -> str:
    """`text` with the run its match's "ref" group describes written as "run N", when `resolve` (the home's run
    references) finds exactly one; else `text` as it was."""
    ids = resolve(m.group("ref")) if m else []
    return text[:m.start("ref")] + f"run {ids[0]}" + text[m.end("ref"):] if len(ids) == 1 else text


def described_as_id(text: str, resolve: Callable[[str], list[str]]) -> str:
    """`text` with the run it describes written as "run N", when it is a follow-up naming one run by what it is
    (AGAIN_FOR_DESCRIBED) and exactly one run fits."""
    return ref_as_id(text, AGAIN_FOR_DESCRIBED.match(text), resolve)


def relaunch_of_focus(text: str, focus: str | None, previous: list[dict], waiting: bool = False) -> str | None:
    """`text` written as a follow-up of the run in focus ("run 4 again with byol"), to be read as any follow-up; None
    when it is not one. "The same" points at a launch only when the previous turn launched (its yes queued the run
    in focus), not while a launch still `waiting` for its yes is the one meant ("and another one with batch 64");
    "rerun it" needs only a run in focus."""
    if not focus or re.search(rf"\b(?:with|for|on|but)\s+{_RUN}", text, re.I):  # "same for run 2": the run named
        return None
    same = SAME_AGAIN_WITH.match(text)
    if same and not waiting and [c["tool"] for c in previous] == ["launch_pretraining"]:
        return f"train run {focus} again with {same.group('change') or same.group('bare')}"
    rerun = RUN_IT_AGAIN_WITH.match(text)
    if rerun:
        return f"train run {focus} again" + (f" with {rerun.group('change')}" if rerun.group("change") else "")
    return None


ANOTHER_SETTING = re.compile(r"^\W*(?:ok(?:ay)?\W+|then\W+)*(?:(?:and|also)\W+(?:(?:what|how)\s+about\s+|what(?:'s|\s+(?:is|"
                             r"was|were))?\s+|which\s+)?|(?:what|how)\s+about\s+|what(?:'s|\s+(?:is|was|were))?\s+|which\s+)"
                             r"(?:the\s+|its\s+|their\s+)?(?P<rest>[a-z][a-z\s.-]{0,39}?)\s*(?:too|then|as\s+well)?\W*$", re.I)
"""A short follow-up naming another setting of the run just looked up ("and what batch size?", "what about its lr?")."""

NOT_ONLY_A_SETTING = re.compile(r"\b(?:should|would|could|can|do|does|did|use[sd]?|using|is|are|was|were|best|good|"
                                r"better|recommend\w*|default|i|you|we|my)\b", re.I)
"""Words that make it a question of its own ("what lr should I use?", "what's the default batch size?"), not another
setting of the run just looked up."""


def another_setting(text: str, previous: list[dict]) -> dict | None:
    """get_run's arguments for the settings `text` names, of the run the previous turn looked up (a get_run of one
    run), when `text` is only a follow-up naming them; None otherwise. Read alone, "and what batch size?" was a
    literature search."""
    m = ANOTHER_SETTING.match(text)
    if not m or len(previous) != 1 or previous[0]["tool"] != "get_run" or re.search(r"\bruns?\s*#?\d", text, re.I):
        return None
    asked = find_asked(m.group("rest"))
    if not asked or len(text.split()) > 7 or NOT_ONLY_A_SETTING.search(m.group("rest")):
        return None
    return {"run_id": previous[0]["args"]["run_id"], "show": asked}
