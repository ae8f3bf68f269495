"""Two requests in one message ("diagnose run 2 and tell me what to try next", "list my runs, then compare 1 and 2").

The chat reads one tool call a message. When a message holds a second request, led by its own verb after "and",
"then", a comma or a full stop, and the whole message reads as just one of its two parts, the other part was being
dropped. Then both are made, in the order written: the second is read with the first's run in focus ("... and what
should I change?"). When the first waits for a yes (a launch, a cancel), the second is not made, since it may
depend on it; the answer says how to ask for it next. A second request about "the better one" after a comparison or
a ranking is read once that result is back, which decides the run. (agent/planner.py makes the calls.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.ranked_words import BEST_REF, WORST_REF
from agent.reading import Reading
from agent.slots import METHOD_WORDS, find_data
from tools.runs import runs_named

_JOINED = r"\s*,\s*(?:and\s+)?(?:then\s+)?|\s+and\s+(?:then\s+)?(?:also\s+)?|\s*;\s*|\s+then\s+"
"""What joins two requests: a comma, "and", ";" or "then" (and a full stop, for a request with its own verb)."""
SECOND_REQUEST = re.compile(
    rf"(?:{_JOINED}|[.!?]\s+)"
    r"(?=(?:please\s+|also,?\s+|can\s+you\s+|could\s+you\s+)?(?:tell|show|give|recommend|suggest|diagnose|compare|probe|"
    r"rank|list|delete|remove|cancel|stop|kill|start|launch|re-?launch|re-?run|re-?train|restart|resume|queue|schedule|fix|"
    r"pretrain|train|tag|rename|note|forecast|judge|search|find|"
    r"what|why|how|which|is|are|should)\b)", re.I)
"""Where a second request starts: its verb or question word after "and", "then", a comma, ";" or a full stop."""


SECOND_LAUNCH = re.compile(rf"(?:{_JOINED})(?=(?:{METHOD_WORDS})\s+on\b)", re.I)
"""A second launch under the first's verb, led by its method and its data ("pretrain simclr on digits for 20 steps
and then byol on shapes"): each method on its own data, where read whole the pairs were lost (which of four?)."""
EACH_TAIL = re.compile(r"[,;]\s*(?P<said>[^,;]+?)\s+(?:each|both|for\s+both)\W*$", re.I)
"""Settings said of both launches at the end ("..., 20 steps each")."""
SAID_AFTER_PAIR = re.compile(rf"^(?:{METHOD_WORDS})\s+on\s+\S+?\W*\s+(?P<said>(?:for|with|at|using|in)\b.*?)\W*$", re.I)
"""Settings after the second pairing, where the first has none of its own: said of both."""
LAUNCH_VERB = re.compile(r"^\W*(?:(?:now|ok(?:ay)?|and|then|also|so|please|can\s+you|could\s+you)\W+)*(?:pre-?train|train|"
                         r"launch|run|start|queue)\b", re.I)
"""The verb a launch message opens with, said again for its second launch."""

EACH_ITS_OWN = re.compile(r"^(?P<verb>\W*(?:tag|label|mark)\s+)(?P<one>runs?\s*#?\d+\s+(?:as|with)\s+\S+)\s+and\s+"
                          r"(?P<two>runs?\s*#?\d+\s+(?:as|with)\s+\S+)", re.I)
"""Two runs given their own tags under one verb ("tag run 1 as best and run 2 as worst"): each its own request (read
whole, both runs got the last tag)."""


DESTRUCTIVE = ("cancel_run", "delete_runs")
"""Tools a message read whole must not end in when neither of its parts asks for them: its parts are read instead."""
CONDITION_FIRST = re.compile(r"^\W*(?:(?:and|but|so|then)\s+)?(?:if|when|once|unless|whenever|as\s+soon\s+as)\b", re.I)
"""A part that is a condition ("and if it collapses"), not a request of its own."""
ORDERING = ("compare_runs", "rank_runs")
"""Tools whose result says which run is better: a second request about "the better one" is read once it is back."""


@dataclass
class TwoRequests:
    first: Reading
    second: Reading | None  # None: read once the first is back (it names "the better one" the first decides)
    second_text: str
    run_both: bool  # False: the first waits for a yes, so the second is only named in the answer


def split_requests(text: str, whole: Reading, read, costly: tuple[str, ...]) -> TwoRequests | None:
    """The message's two requests, when it has two and read whole (`whole`) it keeps only one of them;
    `read(text, focus)` reads a part (focus: a run the part may mean by "it"), `costly` are the tools that wait for a
    yes."""
    own = EACH_ITS_OWN.search(text)
    if own:  # "tag run 1 as best and run 2 as worst": the verb said again for the second run
        text = f"{own.group('verb')}{own.group('one')} and {own.group('verb').strip()} {own.group('two')}" + \
            text[own.end():]
    m = SECOND_REQUEST.search(text)
    verb = LAUNCH_VERB.match(text)
    if not m and verb and whole.kind == "clarify":  # "pretrain simclr on digits and byol on shapes": the second
        m = SECOND_LAUNCH.search(text)  # launch has the first's verb
    if not m or not text[:m.start()].strip() or not text[m.end():].strip():
        return None
    first_text, second_text = text[:m.start()].strip(), text[m.end():].strip()
    if m.re is SECOND_LAUNCH:
        if not find_data(first_text):  # "pretrain simclr and byol on digits and shapes": methods listed, no pairs
            return None
        second_text = f"{verb.group(0).strip()} {second_text}"
        shared = EACH_TAIL.search(second_text)  # "..., 20 steps each"
        if not shared and not re.search(r"\d", first_text):  # "simclr on digits and byol on shapes for 20 steps"
            shared = SAID_AFTER_PAIR.match(text[m.end():].strip())
        if shared:  # both launches' settings
            first_text += f", {shared.group('said')}"
    first = read(first_text, None)
    if first.kind != "tool":
        return None
    if first.tool in ORDERING and (BEST_REF.search(second_text) or WORST_REF.search(second_text)) and _same(whole, first):
        return TwoRequests(first, None, second_text, run_both=True)  # "... and train the better one longer", "...
        # then relaunch the worse one with the fix" (it was dropped)
    second = read(_their_runs(second_text, first), first.args.get("run_id"))
    if second.kind != "tool" or _same(first, second):
        return None
    kept = _same(whole, first) or _same(whole, second) or (whole.kind == "tool" and whole.tool in (
        first.tool, second.tool) and not (carries(whole, first) and carries(whole, second))) or (  # read whole as
        # one part's tool and losing what a part said: "list my runs, then show the byol one" was the byol runs
        # listed (run 2 lost), "tag run 1 as good, and tag run 2 as bad" both runs tagged bad ("good" lost); "pretrain
        # simclr and tag it x" carries both parts, as do two changes to a waiting launch
        whole.kind in ("clarify", "refuse", "help")) or (whole.kind == "tool" and whole.tool in DESTRUCTIVE and
                                                         whole.tool not in (first.tool, second.tool) and not
                                                         CONDITION_FIRST.match(first_text))  # "show run 3 and stop
    # it if the loss goes below 4" was a cancel of run 3, which neither part asks for ("and if it collapses, stop
    # it" is one request: its condition, then the stop; "let run 3 go on for 30 minutes then stop it", one stop);
    # "diagnose run 2 and compare it with run 1" asked which run
    # to diagnose; "list my runs and delete the collapsed one" was refused whole, though each part is a request the
    # chat makes (each part passed its own refusal check when read); a whole not understood at all is its parts
    if not (kept or own):
        return None  # the whole message already reads as another call: it is left to that reading
    return TwoRequests(first, second, second_text, run_both=first.tool not in costly)


THEM = re.compile(r"\b(?:them|those|these|both(?:\s+of\s+them)?|the\s+two)\b", re.I)
"""The runs of the first request, named in the second ("compare runs 1 and 2 then rank them")."""


def _their_runs(second_text: str, first: Reading) -> str:
    """The second request with "them" written as the first request's runs, where it named several (read alone,
    "rank them" ranked every run)."""
    ids = [str(i) for i in first.args.get("run_ids") or []]
    if len(ids) < 2:
        return second_text
    return THEM.sub(runs_named(ids), second_text, count=1)


def _values(args) -> set[str]:
    """Every value in a call's arguments, nested ones included, as text."""
    if isinstance(args, dict):
        return set().union(*map(_values, args.values())) if args else set()
    if isinstance(args, list | tuple):
        return set().union(*map(_values, args)) if args else set()
    return set() if args in (None, False, "") else {str(args).lower()}


def carries(whole: Reading, part: Reading) -> bool:
    """Whether the whole message's call holds every value the part's call has."""
    return _values(part.args) <= _values(whole.args)


def _same(a: Reading, b: Reading) -> bool:
    return a.kind == b.kind == "tool" and a.tool == b.tool and a.args == b.args
