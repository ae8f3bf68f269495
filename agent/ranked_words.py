""""The best one" after a ranking: the run it put first, named, or a question when the ranking had two leaders.

A ranking of runs orders them without labels; where the runs have a linear probe it also names the probe's best.
"Train the best one for 100 more steps", "what lr did the winner use?" right after it point at its leader. When the
label-free order and the probe agree, that is the run; when they pick different runs, the chat asks which, offering
the message back with each run named, never picking one for the user.
"""

from __future__ import annotations

import re

from tools.runs import run_sort

BEST_REF = re.compile(r"\b(?:the|that|my|our)\s+(?:best|better|winning|top|leading|strongest)\s+(?:one|run|config(?:uration)?|"
                      r"setting|model|encoder)\b|\bthe\s+winner\b|\bwhichever\s+(?:one\s+|run\s+)?(?:is|was|did|does)\s+"
                      r"better\b", re.I)
"""A run pointed at by its place in the last ranking or comparison ("the better one", "whichever did better")."""
WORST_REF = re.compile(r"\b(?:the|that|my|our)\s+(?:worse|worst|weaker|weakest|losing)\s+(?:one|run|config(?:uration)?|setting|"
                       r"model|encoder)\b|\bthe\s+loser\b", re.I)
"""The other end of it ("what should I do about the worse one?")."""
DONE_TO_BEST = re.compile(r"^\W*(?:(?:please|pls|can\s+you|could\s+you|would\s+you|now|then|ok(?:ay)?)\W+)*(?:"
                          r"recommend|suggest|diagnose|probe|forecast|judge|tag|label|rename|annotate|resume|fix|"
                          r"delete|remove|trash)\b", re.I)
"""A request led by what to do to a run, which "the best run" then names ("recommend something for the best run",
"delete the worst one"): with nothing ranked yet, the ranking comes first and decides which run."""
FAILED_VERDICTS = ("complete_collapse", "dimensional_collapse", "diverged", "not_learning")
"""Verdicts that put a run below a healthy one whatever the probe would say."""
ASKS_WHICH = re.compile(r"\bwhich\b|\b(?:is|was|'s|are)\s+(?:the|that)\s+(?:best|winning|top|leading|strongest|winner)\b",
                        re.I)
"""A question for the ranking itself ("which is the best one?", "what's the best run?"), not a reference to its
leader."""


WHICH_WON = re.compile(
    r"^\W*(?:(?:so|ok(?:ay)?|and|then|well)\W+)*(?:which|who)(?:\s+(?:one|run|model|encoder)s?|\s+of\s+(?:them|the\s+(?:two|"
    r"runs)|these|those|the\s+\w+))?(?:'s|\s+(?:is|was|did|does|looks?|performed|performs|came\s+out|comes\s+out))?\s+"
    r"(?:(?:the\s+)?(?:better|best|stronger|strongest|winner)(?:\s+(?:one|run))?|won|wins|ahead|on\s+top)"
    r"(?:\s+(?:of\s+(?:them|the\s+two|these|those)|then|overall|here|now))?\W*$", re.I)
"""A short question for the winner of the ranking or comparison just shown ("which one is better?", "so who won?"),
which names no runs of its own."""
BY_THE_PROBE = re.compile(
    r"^\W*(?:(?:so|ok(?:ay)?|and|but|then|well|hmm+)\W+)*(?:(?:is|does)\s+(?:that|this|it)\s+(?:the\s+same\s+as|agree\s+with|match)"
    r"\s+(?:what\s+)?(?:the\s+)?(?:linear\s+)?probe(?:\s+says?)?|(?:does|do|would)\s+(?:the\s+)?(?:linear\s+)?probe(?:s)?\s+"
    r"(?:agree|say\s+the\s+same|match|concur)|what\s+(?:does|do|would)\s+(?:the\s+)?(?:linear\s+)?probe(?:s)?\s+say|"
    r"(?:and\s+)?(?:by|with|according\s+to)\s+(?:the\s+)?(?:linear\s+)?probe|how\s+do\s+(?:they|these|those)\s+(?:rank|"
    r"compare|stack\s+up)\s+(?:by|on|with)\s+(?:the\s+)?(?:linear\s+)?probe)(?:\s+(?:too|then|here|though))?\W*$", re.I)
"""The probe's word on the ranking just shown ("does the probe agree?", "is that the same as what the probe says?",
"and by the probe?"): the runs side by side, best probe first, with its error."""
CHANGE_HELPED = re.compile(
    r"^\W*(?:(?:so|and|ok(?:ay)?|well|but|hmm+)\W+)*(?:(?:was|is)\s+(?:it|that|this)\s+worth\s+(?P<worth>(?:it|switching|"
    r"changing|going|moving|using)\b.*)|"
    r"(?:did|does|has|was)\s+(?:the\s+|that\s+|this\s+|my\s+)?"
    r"(?:(?:higher|lower|bigger|smaller|larger|longer|shorter|new|different|extra)\s+)?(?P<what>[a-z][\w .-]{0,30}?)\s+"
    r"(?:(?:really|actually)\s+)?(?:help|work|matter|make\s+(?:a|any)\s+difference|pay\s+off|improve\s+(?:it|things|anything|"
    r"the\s+(?:probe|results?|accuracy))|hurt|do\s+anything|change\s+anything)(?:\s+(?:then|at\s+all|much))?)\W*$", re.I)
"""Whether what differs between the runs just compared made a difference ("did the higher temperature help?", "did
the method change matter?", "was it worth switching to byol?"): the comparison again, whose answer says which run
the probe prefers, and by how much."""
ORDERED_HERE = re.compile(r"\b(?:compare|rank|side\s+by\s+side|versus|vs)\b", re.I)
"""Runs ordered by the message itself ("compare runs 1 and 4 and train the better one"): its "better one" is theirs,
read once that comparison is back, not the last one's."""


def leader_of_comparison(result: dict) -> dict:
    """What the thread keeps of a compare_runs result for "the better one": the probe's leader when its lead is more
    than twice its standard error (tools/insights.probe_lead), else none, and why."""
    rows = result.get("runs") or []
    ids = [str(r["run_id"]) for r in rows]
    lead = result.get("probe_lead")
    if lead and lead["resolved"]:
        worst = next((i for i in ids if i != str(lead["best"])), None) if len(ids) == 2 else None
        return {"label_free": None, "probe": str(lead["best"]), "worst": worst, "run_ids": ids, "compared": True}
    healthy = [str(r["run_id"]) for r in rows if r.get("verdict") == "healthy"]
    failed = [str(r["run_id"]) for r in rows if r.get("verdict") in FAILED_VERDICTS]
    training = [str(r["run_id"]) for r in rows if not r.get("verdict") and r.get("status") in ("queued", "running")]
    if len(healthy) == 1 and failed and len(healthy) + len(failed) + len(training) == len(rows):  # one healthy run
        # beside failed ones (and any still training, not judged yet): no probe needed
        return {"label_free": None, "probe": healthy[0], "worst": failed[0] if len(failed) == 1 else None,
                "run_ids": ids, "compared": True, "failed": failed, "training": training}
    if not lead:
        why = "not every run has a linear probe on the same data"
    elif lead["best_acc"] == lead["second_acc"]:
        why = f"runs {lead['best']} and {lead['second']} tie on the linear probe"
    else:
        why = (f"run {lead['best']} leads on the linear probe by {100 * lead['lead']:.1f} points, within twice its "
               f"standard error ({100 * lead['se']:.1f})")
    return {"label_free": None, "probe": None, "worst": None, "run_ids": ids, "compared": True, "why": why}


def leaders_of(result: dict) -> dict:
    """What the thread keeps of a rank_runs result: its label-free leader, the probe's best where every ranked run
    has a probe (None otherwise), and the runs ranked."""
    ranking = result.get("ranking") or []
    probes = [e.get("probe_acc") for e in ranking]
    probe_best = max(ranking, key=lambda e: e["probe_acc"])["run_id"] if ranking and None not in probes else None
    if probe_best is not None and ranking[0]["probe_acc"] == max(probes):
        probe_best = ranking[0]["run_id"]  # a tie at the top: the probe does not gainsay the label-free leader
    return {"label_free": ranking[0]["run_id"] if ranking else None, "probe": probe_best,
            "worst": ranking[-1]["run_id"] if len(ranking) > 1 and (None in probes or ranking[-1]["probe_acc"] ==
                                                                     min(probes)) else None,
            "run_ids": [e["run_id"] for e in ranking]}


ASKS_BEST = re.compile(r"\b(?:which|what(?:'s| is| was)?)\b.*\b(?:best|better|winner|strongest)\b|\b(?:show|find|give|"
                       r"get|tell)\s+(?:me\s+)?(?:the|my)\s+(?:best|strongest|top|winning)\b", re.I)
"""A question the ranking or comparison answers with one run ("which of my runs is best?", "show me the best run")."""


def answered_best(ranked: dict | None, said: str) -> str | None:
    """The one run a ranking or comparison named best when the user asked which is best, so that "is it any good?"
    next is about it; None when the two leaders differ or nothing settled it."""
    if not ranked or not ASKS_BEST.search(said):
        return None
    picks = {x for x in (ranked.get("label_free"), ranked.get("probe")) if x}
    return next(iter(picks)) if len(picks) == 1 else None


def resolve_best(text: str, context: dict) -> str | list[str] | None:
    """The message with "the best one" written as the run it points at (a str), the message once per candidate when
    the label-free order and the probe disagree (a list, to ask which), or None when the message points at no ranked
    run (no ranking in the thread, a question for the ranking itself, or no such words)."""
    ranked = context.get("last_ranking") or {}
    best, worst = BEST_REF.search(text), WORST_REF.search(text)
    m = best or worst
    if not (ranked.get("label_free") or ranked.get("compared")) or m is None or ASKS_WHICH.search(text) or \
            ORDERED_HERE.search(text[:m.start()]):
        return None
    if context.get("last_listed") not in (None, ranked.get("run_ids")):  # a list shown since: "the top one" is its
        return None  # (agent/listed_words.py)
    if m is worst:  # "the worse one": the other end, when the comparison or ranking says
        picks = [ranked["worst"]] if ranked.get("worst") else ranked["run_ids"]
    else:
        picks = list(dict.fromkeys(x for x in (ranked["label_free"], ranked.get("probe")) if x)) or ranked["run_ids"]
    written = [text[:m.start()] + f"run {rid}" + text[m.end():] for rid in picks]
    return written[0] if len(written) == 1 else written


def named_leader(r: dict) -> str | None:
    """The run a list of runs by probe or kNN names as the best ("which run has the best probe?"), or by a logged
    metric as its end ("which run has the lowest effective rank?"): its first row, when it has that value; the next
    question's "it"."""
    by = run_sort(r.get("sort") or "newest")
    runs = r.get("runs") or []
    if not by or not (r.get("sort") in ("probe", "knn") or by.logged) or not runs:
        return None
    return str(runs[0]["run_id"]) if isinstance(leading_value(r), (int, float)) else None


def leading_value(r: dict):
    """The value the first row of a sorted runs list is first by: its probe or kNN, or a logged metric's last."""
    by = run_sort(r.get("sort") or "newest")
    first = (r.get("runs") or [{}])[0]
    return (first.get("used") or {}).get(by.key) if by and by.logged else first.get(by.key) if by else None
