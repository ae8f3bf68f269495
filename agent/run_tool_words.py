"""What a message adds to a one-run tool that the tool cannot do, and how a runs list is ordered or bounded in time.

"resume run 4 with a lower lr", "probe run 1 with a 3-layer MLP head", "diagnose run 2 but skip the first 40 steps",
"cancel run 3 and throw away its checkpoints", "probe run 1 on shapes": each was done as the plain tool, the rest of
what the user said dropped without a word. Each is now a question that says what the tool does and offers what
sslpilot can do instead, as messages to send back. A resume with a new setting "from its checkpoint" is the
continued pretraining it asks for (a new run from the run's final weights). A probe "on 1% of the labels" is a
setting (eval.label_fraction, setting_words.find_eval_settings), and "the runs from last week, sorted by probe" are
list_runs' period and sort.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.lookups import METRIC_WORDS, steps_window
from agent.run_refs import RunInfo
from agent.setting_words import named_settings
from agent.slots import find_datasets, find_paths
from agent.usage_words import SPAN, find_period
from tools.metric_words import metric_key

NONLINEAR_HEAD = re.compile(r"\b(?:mlp|non-?linear|(?:\d+|two|three|four)[- ]?layers?|hidden\s+layers?|"
                            r"fine-?tun\w*|full\s+fine-?tun\w*)\b", re.I)
"""A probe asked to be other than linear: sslpilot's probe is a logistic regression on frozen features, with kNN."""
PER_CLASS = re.compile(r"\b\d+\s+(?:labell?ed\s+)?(?:images?|labels?|examples?|samples?|shots?)\s+(?:per|a|for\s+each|"
                       r"of\s+each|each|in\s+each)\s+class\b|\b\d+[- ]shot\b", re.I)
"""A probe given a count of labels per class ("10 labels per class", "5-shot"): it learns from a share of each
class's labels (`eval.label_fraction`), not a count."""
LABEL_TOTAL = re.compile(r"\b\d[\d,]*k?\s+(?:labels|(?:images|examples|samples)\s+with\s+(?:their\s+)?labels)\b", re.I)
"""A probe given a count of labels in all ("on 500 labels"): a share is what it takes. ("1000 labelled examples" is
a probe on that many images, eval.max_images.)"""
PART_OF_RUN = re.compile(r"\b(?:skip|skipping|ignore|ignoring|exclude|excluding|without|drop|leave\s+out|cut)\s+"
                         r"(?:the\s+)?(?:first|last|initial|early|warm-?up)\b|\b(?:only|just)\s+(?:the\s+)?(?:first|"
                         r"last)\s+\d[\d,]*\s+(?:steps|epochs)\b|\b(?:from|after|starting\s+at)\s+step\s+\d+\s+on\b",
                         re.I)
"""A diagnosis asked of a part of a run: it reads the whole path (where the run started is part of the evidence)."""
DISCARD_CHECKPOINT = re.compile(r"\b(?:throw\s+away|delete|discard|remove|drop|wipe|free|don'?t\s+keep|do\s+not\s+keep|"
                                r"without\s+keeping|no\s+need\s+(?:to|for)\s+(?:keep|the))\b.{0,30}?\bcheckpoints?\b|"
                                r"\bcheckpoints?\b.{0,20}?\b(?:away|deleted|gone|removed)\b", re.I)
"""A cancel asked to drop the checkpoint, which a cancel keeps (so the run can be resumed)."""
FROM_WEIGHTS = re.compile(r"\bfrom\s+(?:its|the|their|that)\s+(?:last\s+|final\s+|latest\s+|saved\s+)?(?:checkpoint|"
                          r"weights|state)\b|\bwhere\s+it\s+(?:stopped|left\s+off)\b", re.I)
"""A resume with a change "from its checkpoint": continued pretraining from the run's final weights, a new run."""
WITH_CHANGE = re.compile(r"\b(?:but\s+)?(?:with|using|at)\s+(?P<said>.+?)\s*[.?!]?$", re.I)
ON_GPU = re.compile(r"\b(?:on|to|using)\s+(?:gpu|cuda)\s*[:#]?\s*\d+\b|\bcuda:\d+\b", re.I)
FORECAST_TO = re.compile(r"\b(?:to|at|until|till|for|by|after|up\s+to)\s+(?:step\s+)?\d[\d,]*(?:\.\d+)?k?\s*"
                         r"(?:total\s+)?(?:steps|epochs)\b", re.I)
"""A forecast asked at a length of the user's ("forecast run 1 to 10000 steps"): it reads 2x and 4x the run's."""
AT_A_STEP = re.compile(r"\b(?:at|by|after)\s+(?:step|epoch)\s+\d[\d,]*k?\b|\b(?:at|after)\s+\d[\d,]*k?\s+(?:steps|epochs)\b",
                       re.I)
FIRST_STEPS = steps_window("first|early|initial|opening")
"""A window of a run's first steps ("compare runs 1 and 2 on their first 50 steps"), which a comparison cannot read."""
LIST_SORT = re.compile(r"\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?|arranged?)\s+(?:them\s+|(?:(?:all\s+)?(?:my|our|the)\s+)?"
                       r"(?:[\w-]+\s+)?runs\s+)?by\s+(?:the(?:ir)?\s+|"
                       r"its\s+)?(?P<what>[\w -]{2,30}?)(?:\s*[,.?!]|\s+(?:best|highest|top|first|descending|"
                       r"newest|latest)\b|$)", re.I)
SORT_WORDS = (("knn", r"\bk-?nn\b|\bnearest\b|\bneighbou?r"), ("probe", r"\bprobe\b|\blinear\b|\baccuracy\b|\bacc\b"),
              ("oldest", r"\b(?:oldest|earliest)\b"), ("newest", r"\b(?:date|time|newest|latest|recent|created|age)\b"))
OLDEST_FIRST = re.compile(r"\b(?:oldest|earliest|first\s+launched)\s+(?:first|on\s+top|to\s+newest)\b|\bin\s+(?:the\s+)?order\s+"
                          r"(?:i\s+|they\s+were\s+)?(?:launched|created|made|started)\b", re.I)
"""A runs list oldest first ("list my runs, oldest first", "in the order I launched them")."""
LEADERBOARD = re.compile(r"\b(?:top|best|highest|strongest|leading|leaderboard|rank(?:ed|ing)?)\b.{0,40}?"
                         r"(?P<what>\bk-?nn\b|\bnearest[ -]neighbou?rs?\b|\b(?:linear[ -])?probe\b|\blinear\b|"
                         r"\baccuracy\b|\bacc\b)", re.I)
"""Runs ordered by a labelled metric ("the top 3 runs by probe accuracy", "which runs have the best kNN?"): a list
sorted by it, where "which run is best?" alone is the label-free ranking."""
RUN_SPEED = re.compile(r"\b(?:fastest|slowest|quickest|longest|shortest)\b(?!\s+(?!runs?\b|ones?\b|training\b|"
                       r"first\b|time\b|to\s+train\b)[a-z])|\b(?:by|in|of)\s+(?:(?:their|its|the|"
                       r"training)\s+)*(?:speed|throughput|images?\s+(?:per|a)\s+second|img/s|duration|training\s+"
                       r"time|how\s+long\s+(?:they|it)\s+(?:took|trained|ran))\b|\btook\s+the\s+(?:longest|least\s+"
                       r"time|most\s+time)\b|\b(?:most|least)\s+(?:time|images?\s+(?:per|a)\s+second)\b", re.I)
"""Runs ordered by how fast they trained or how long they took ("which run trained fastest?", "my runs by training
speed", "which of my runs took the longest?")."""
ACTION_START = re.compile(r"^\W*(?:please\s+)?(?:cancel|stop|kill|delete|remove|launch|start|re-?run|relaunch|resume|"
                          r"restart|continue|diagnose|probe|train|pretrain|queue|tag|rename|compare|forecast|rank)\b",
                          re.I)
"""A message that asks another tool to act ("cancel the slowest run"), not for a list."""


def speed_sort(text: str) -> str | None:
    """The order RUN_SPEED's words ask for: by speed (images a second), fastest or slowest first, or by training
    time, longest or shortest first ("quickest run": the shortest; "trained fastest": the most images a second)."""
    if not RUN_SPEED.search(text):
        return None
    if re.search(r"\bslowest\b|\b(?:lowest|least)\s+(?:throughput|images?)\b", text, re.I):
        return "slowest"
    if re.search(r"\bfastest\b|\bspeed\b|\bthroughput\b|\bimages?\s+(?:per|a)\s+second\b|\bimg/s\b", text, re.I):
        return "fastest"
    if re.search(r"\b(?:shortest|quickest)\b|\bleast\s+time\b|\bshortest\s+first\b", text, re.I):
        return "shortest"
    return "longest"


CHANGE_KIND = re.compile(r"\b(?P<a>data|model|retrieval)[- ](?:side\s+)?(?:change|fix|tweak|recommendation|suggestion|"
                         r"option|idea)s?\b|\bchange\s+(?:to|in|of)\s+the\s+(?P<b>data|model)\b|\bimprove\s+(?:its\s+|the\s+)?"
                         r"(?P<c>retrieval|recall)\b", re.I)
"""A kind of change asked for ("a data change for run 5", "what would you change to improve retrieval?")."""
RULED_OUT = re.compile(r"\b(?:not|(?:other\s+)?than|besides|except|apart\s+from|without|don'?t\s+(?:change|touch)|leaves?|leaving|"
                       r"keeps?|keeping)\s+"
                       r"(?:a\s+|an\s+|the\s+|any\s+|its\s+)?(?:(?:lowering|raising|changing|touching|tuning|"
                       r"lower|raise|change)\s+)?(?:the\s+|its\s+)?(?P<what>[\w -]{2,40}?)(?:\s+(?:change|alone))?"
                       r"(?=\s*[,.?!;]|\s*$|\s+(?:and|but|please)\b)", re.I)
"""Settings a recommendation must leave alone ("not a learning rate change", "other than lowering the lr", "a
different fix than the lr")."""
HOW_TO_IMPROVE = re.compile(r"\bhow\s+(?:do|can|could|should|would|might|to)\s+(?:i\s+|we\s+)?(?:improve|raise|boost|"
                            r"increase|lift|push\s+up|get\s+(?:\S+\s+){1,5}?(?:above|over|higher|better|past|beyond|up\s+to))\b",
                            re.I)
"""How to make a run better ("how do I get run 1 above 95% on the probe?", "how can I improve run 1's probe accuracy?"):
a recommendation, not the run's probe; "how do I get run 1's encoder?" is not one."""
DIFFERENT_FIX = re.compile(r"\b(?:a\s+)?(?:different|another|other|alternative)\s+(?:fix|change|suggestion|"
                           r"recommendation|remedy)\b", re.I)
"""Another fix asked for in one message ("give me a different fix for run 2 than lowering the learning rate")."""
CHANGE_ASKED = re.compile(r"\bwhat\s+(?:would|should|could)\s+(?:you|i|we)\s+change\b|" + CHANGE_KIND.pattern + "|" +
                          HOW_TO_IMPROVE.pattern + "|" + DIFFERENT_FIX.pattern, re.I)


ANOTHER_FIX = re.compile(r"^\W*(?:(?:ok(?:ay)?|hmm+|and|or|so|well|no|nah|then)\W+)*(?:(?:what|how)\s+about\s+|is\s+there\s+|"
                         r"(?:can\s+you\s+|could\s+you\s+)?(?:give\s+me|suggest|recommend|try)\s+|(?:have\s+you\s+)?got\s+|any\s+)?"
                         r"(?:something|anything|another|a\s+different|some\s+other|other)\b(?:\s+(?:one|change|fix|idea|"
                         r"suggestion|option|recommendation|thing)s?)?(?:\s+(?:else|different|new|instead|again|(?:other\s+)?than\s+.+|"
                         r"besides\s+.+|apart\s+from\s+.+|except\s+.+))*\W*$|^\W*(?:(?:ok(?:ay)?|hmm+|and|so|well)\W+)*(?:what\s+else\s+"
                         r"(?:could|can|should|would|might|do)\s+(?:i|we|you)\s+(?:try|do|change|suggest|recommend)|"
                         r"what\s+else(?:\s+(?:could|would|might|can)\s+(?:help|work))?(?=\W*$)|"
                         r"(?:any|what|which)\s+other\s+(?:ideas?|options?|suggestions?|changes?|fix(?:es)?|"
                         r"recommendations?))\b[^?]*\??\W*$", re.I)
"""Another recommendation asked for, right after one ("something other than the learning rate", "anything else?"):
read as a search of the literature before."""


NOT_THAT_EITHER = re.compile(r"^\W*(?:(?:and|but|ok(?:ay)?|also|so|no|nah|hmm+)\W+)*(?:not|nor|without|don'?t\s+"
                             r"(?:change|touch))\s+(?P<what>.+?)(?P<either>\s+(?:either|too|as\s+well))?\W*$", re.I)
"""A setting ruled out right after a recommendation ("and not the batch size either?", "no, not the learning rate"):
another recommendation that keeps away from it, and with "either" from the change just proposed too."""


KIND_SAID = re.compile(r"\b(?:about|with|in|to|changes?|changing|touch(?:es|ing)?|alters?|altering)\s+(?:the\s+|its\s+)?"
                       r"(?P<a>data|model|retrieval)\b(?!\s+(?:folder|set|path|dir))|\b(?P<b>data|model|retrieval)[- ]side\b",
                       re.I)
"""A kind of change named loosely ("something about the data", "on the model side", "something that changes the
data instead"), beside CHANGE_KIND."""
TURNED_DOWN = re.compile(r"\b(?:not\s+(?:that|this|it)(?:\s+one)?|something\s+else|anything\s+else|instead|"
                         r"(?:another|a\s+different|some\s+other|other)\s+(?:idea|change|fix|option|one|suggestion)s?)\b",
                         re.I)
"""The recommendation just given turned down ("not that", "... instead", "another idea")."""


def recommend_filters(text: str) -> dict:
    """recommend_next_step's category and avoid, from the words."""
    out: dict = {}
    m = CHANGE_KIND.search(text) or KIND_SAID.search(text)
    if m:
        out["category"] = {"recall": "retrieval"}.get(w := next(g for g in m.groups() if g).lower(), w)
    avoid = [k for r in RULED_OUT.finditer(text) for k in named_settings(r.group("what"))]
    if avoid:
        out["avoid"] = list(dict.fromkeys(avoid))
    return out


@dataclass
class Asked:
    """A question back: the text, and messages the user can send that do what sslpilot can."""

    question: str
    options: list[str] = field(default_factory=list)


HOW_MANY_RUNS = re.compile(r"^\W*(?:so\s+)?(?:what(?:'s|\s+is)\s+the\s+)?(?:how\s+many|count|number\s+of|total\s+number\s+of)\b(?!.{0,60}\b(?:at\s+once|"
                           r"in\s+parallel|concurrently|simultaneously|gpus?|steps?|epochs?|images?|hours?)\b).{0,60}?"
                           r"\bruns?\b", re.I)
"""A count of runs asked for ("how many runs failed this week?", "count my runs on digits"), not of steps, GPUs or
runs that may go at once."""


IN_TROUBLE = re.compile(r"\b(?:failing|fail|in\s+trouble|unhealthy|broken|going\s+(?:wrong|badly|bad|off\s+the\s+rails)|"
                        r"(?:have|having|has|had|with|run\s+into)\s+(?:any\s+)?(?:problems?|issues?|trouble)|wrong\s+with|"
                        r"problematic|struggling|misbehaving|crashing|in\s+a\s+bad\s+state|not\s+(?:going|doing)\s+"
                        r"(?:well|ok(?:ay)?))\b", re.I)
TROUBLE_RUNS = re.compile(r"\b(?:runs|jobs|trainings|experiments|anything|any\s+(?:of\s+(?:my|the|our)\s+)?(?:training\s+)?"
                          r"(?:runs?|jobs?|experiments?|trainings?)|which\s+(?:training\s+)?(?:run|job|experiment)|"
                          r"something)\b", re.I)
"""Runs in trouble asked for, none named ("are any runs failing right now?", "is anything broken?", "which of my runs
have problems?"): the runs that failed, diverged or were last diagnosed with a failure (list_runs' `trouble`), with
their count first; "why are my runs failing?" asks which of them to diagnose."""


SETTING_EXTREME = re.compile(r"\b(?P<end>largest|biggest|highest|greatest|most|smallest|lowest|least|fewest|tiniest|"
                             r"longest|shortest)\s+(?P<what>[\w -]{2,30}?)(?=\s*[,.?!]|$|\s+(?:of|in|among|and|first|"
                             r"last|setting|value|run|ones?|i|we|that|any)\b)", re.I)
"""A run picked by a setting's extreme ("which run used the largest batch size?", "my runs with the lowest lr
first"): the runs ordered by that setting, its values a column."""
ORDER_SPAN = re.compile(r"\bfrom\s+(?:the\s+)?(?P<end>lowest|smallest|least|fewest|highest|largest|biggest|most)\s+to\s+"
                        r"(?:the\s+)?(?:highest|largest|biggest|most|lowest|smallest|least|fewest)\s+(?P<what>[\w -]{2,30}?)"
                        r"(?=\s*[,.?!]|$)", re.I)
"""An order said as its span ("order my runs from lowest to highest batch size"): it starts at its first end."""
LOW_END = re.compile(r"^(?:smallest|lowest|least|fewest|tiniest|shortest)$", re.I)
LOW_FIRST = re.compile(r"\b(?:(?:smallest|lowest|least|fewest|shortest)\s+(?:ones?\s+)?first|ascending|increasing|"
                       r"(?:low|small)(?:est)?\s+to\s+(?:high|big|larg)\w*)\b", re.I)
"""An order said to start low ("lowest first", "from smallest to largest", "ascending"); else highest first."""


def setting_sort(text: str) -> str | None:
    """A runs list ordered by a setting ("sort my runs by batch size", "which run had the highest learning rate?"), as
    list_runs' sort ('-train.batch_size': highest first, unless the words say lowest); None when the order named is
    no setting (the probe, kNN, speed or age are SORT_WORDS' and speed_sort's)."""
    m = LIST_SORT.search(text) or ORDER_SPAN.search(text) or SETTING_EXTREME.search(text)
    if not m or any(re.search(pattern, m.group("what"), re.I) for _, pattern in SORT_WORDS):
        return None
    keys = [k for k in named_settings(m.group("what")) if k != "train.epochs" or "epoch" in m.group("what").lower()]
    if len(keys) != 1:
        return None
    low = LOW_END.match(m.group("end")) if "end" in m.groupdict() and m.group("end") else LOW_FIRST.search(text)
    return ("+" if low else "-") + keys[0]


RUNS_AT_A_LEVEL = re.compile(r"\bruns?\s+(?:with|that\s+(?:have|has|had|ended\s+(?:with|on))|having|whose)\s+(?:an?\s+|the\s+)?"
                             r"(?:(?:very|really|too|quite)\s+)?(?P<end>low|high|small|large|big)\s+(?P<what>[\w -]{2,30}?)"
                             r"(?=\s*[,.?!]|$|\s+(?:first|at\s+the\s+end|and|or)\b)", re.I)
"""Runs asked for by a level of a metric ("find runs with a low effective rank"): the runs by it, that end first."""
RUNS_BY = re.compile(r"\bruns\s+by\s+(?:the(?:ir)?\s+|its\s+)?(?P<what>[\w -]{2,30}?)(?:\s*[,.?!]|\s+(?:lowest|highest|"
                     r"smallest|largest|best|top|first|ascending|descending)\b|$)", re.I)
"""Runs listed by something ("list my runs by effective rank, lowest first")."""


def metric_sort(text: str) -> str | None:
    """A runs list ordered by a metric the runs log ("which run has the lowest effective rank?", "sort my runs by
    final loss", "runs with a high grad norm"), as list_runs' sort ('+health/rank'); None when the order named is no
    logged metric (a setting is setting_sort's: "the highest lr" is the one it was launched with)."""
    for pattern in (LIST_SORT, ORDER_SPAN, SETTING_EXTREME, RUNS_AT_A_LEVEL, RUNS_BY):  # the first that names a metric
        m = pattern.search(text)
        what = re.sub(r"^(?:the\s+)?(?:final|last|latest|ending|end)\s+", "", m.group("what").strip(), flags=re.I) \
            if m else ""
        named = METRIC_WORDS.fullmatch(what)
        if named:
            break
    else:
        return None
    end = m.groupdict().get("end")
    low = (end.lower() in ("low", "small") or LOW_END.match(end)) if end else LOW_FIRST.search(text)
    return ("+" if low else "-") + metric_key(named.group(1))


def list_filters(text: str) -> dict:
    """list_runs' period ("from last week", "today", "in the last 2 days", a date) and sort ("sorted by knn accuracy",
    "the best runs by knn", "the fastest runs")."""
    out: dict = {}
    period = find_period(text)
    if period:
        out["period"] = period
    m = LIST_SORT.search(text) or LEADERBOARD.search(text)
    sort = next((name for name, pattern in SORT_WORDS if re.search(pattern, m.group("what"), re.I)), None) if m else None
    if sort in (None, "newest"):  # "sorted by training time" is not "by time", newest first
        sort = speed_sort(text) or sort
    if sort is None and OLDEST_FIRST.search(text):  # "list my runs, oldest first"
        sort = "oldest"
    if sort is None:  # "sort my runs by batch size": '-train.batch_size'; "... by final loss": '-loss'
        sort = setting_sort(text) or metric_sort(text)
    if sort and sort != "newest":
        out["sort"] = sort
    if HOW_MANY_RUNS.search(text):
        out["count"] = True
    return out


def without_period(text: str) -> str:
    """The message less its span ("from the last 2 days"), whose number is no list limit."""
    return SPAN.sub(" ", text)


def asked_of_runs(intent: str, text: str, ids: list[str]) -> Asked | None:
    """What a message asks of a comparison that it cannot do: "compare runs 1 and 4 at step 100" (a comparison
    reads each run's final metrics and summary)."""
    if intent == "compare_runs" and AT_A_STEP.search(text) and len(ids) >= 2:
        step = AT_A_STEP.search(text).group(0)
        return Asked(f"A comparison reads each run's final metrics, not their values {step}. I can compare them as "
                     f"they ended, or give one run's values {step} (`what was run {ids[0]}'s loss {step}?`).",
                     [f"compare runs {' and '.join(ids)}", f"what was run {ids[0]}'s loss {step}?"])
    first = FIRST_STEPS.search(text)
    if intent == "compare_runs" and first and len(ids) >= 2:
        n = first.group(1)
        return Asked(f"A comparison reads each run's final metrics, or how they moved over their last steps, not "
                     f"{first.group(0).strip()}. I can compare them as they ended, over their last {n} steps, or give "
                     f"one run's values at step {n} (`what was run {ids[0]}'s loss at step {n}?`).",
                     [f"compare runs {' and '.join(ids)}", f"compare runs {' and '.join(ids)} over the last {n} steps",
                      f"what was run {ids[0]}'s loss at step {n}?"])
    return None


def asked_of_one_run(intent: str, text: str, run: RunInfo, changes: dict, direction: bool) -> Asked | dict | None:
    """What the message asks of `run` beyond what `intent`'s tool does: a question (Asked), a different call (a dict
    of launch arguments, for a resume with a new setting from its checkpoint), or None when the tool is the whole
    request. `changes` are the launch settings the message states (values), `direction` whether it changes one by a
    direction or a multiple only ("a lower lr", "half the learning rate")."""
    rid = run.id
    if intent == "resume_run":
        if changes and not direction and FROM_WEIGHTS.search(text):
            return {"parent_run": rid, "from_parent_weights": True, **changes}
        if changes or direction:
            m = WITH_CHANGE.search(text)
            said = m.group("said") if m else "the new setting"
            head = (f"Resuming run {rid} continues it as it was launched, from its last checkpoint: it cannot change "
                    f"`{said}`. I can train a new run from run {rid}'s final weights with ")
            if direction and not changes:  # "a lower lr": the value is the user's to say
                return Asked(head + f"a value you give (e.g. `continue run {rid} from its checkpoint with lr 0.0001`:"
                             " continued pretraining, a fresh optimiser and schedule), or resume it as it was.",
                             [f"resume run {rid}"])
            return Asked(head + "it (continued pretraining, a fresh optimiser and schedule), or resume it as it was. "
                         "Which?", [f"continue run {rid} from its checkpoint with {said}", f"resume run {rid}"])
        if ON_GPU.search(text):
            return Asked(f"A resume goes back to the queue, which puts run {rid} on the first free GPU it may use; it "
                         f"cannot pick one. To keep a run off other GPUs, set `SSLPILOT_GPUS` for the queue. Resume "
                         f"run {rid}?", [f"resume run {rid}"])
    if intent == "cancel_run" and DISCARD_CHECKPOINT.search(text):
        return Asked(f"A cancel keeps run {rid}'s last checkpoint, so it can be resumed. To free its disk, cancel it, "
                     f"then delete it once it has stopped (`delete run {rid}` moves it to the trash; `sslpilot trash "
                     "empty` frees the space). Cancel it now?", [f"cancel run {rid}"])
    if intent == "diagnose_run" and PART_OF_RUN.search(text):
        return Asked(f"A diagnosis reads run {rid} as a whole: where it started is part of the evidence (a collapse is "
                     "read against the run's own path). I can diagnose the whole run, or show its metrics at a step "
                     f"(`what was run {rid}'s loss at step 100?`).", [f"diagnose run {rid}"])
    if intent == "forecast_run" and FORECAST_TO.search(text):
        return Asked(f"The forecast reads run {rid} at 2x and 4x its length, with an 80% band; further out a curve "
                     f"fitted to one run says nothing I would trust. Forecast it at those?", [f"forecast run {rid}"])
    if intent == "run_linear_probe":
        per_class = PER_CLASS.search(text) or LABEL_TOTAL.search(text)
        if per_class:
            return Asked(f"A probe learns from a share of the labels, the same share of each class "
                         f"(`eval.label_fraction`), not from a count (`{per_class.group(0)}`). Which share? "
                         f"e.g. `probe run {rid} on 10% of the labels`; or probe it on all of them.",
                         [f"probe run {rid} on 10% of the labels", f"probe run {rid}"])
        if NONLINEAR_HEAD.search(text):
            return Asked("sslpilot's probe is linear (a logistic regression on the frozen features), with kNN beside "
                         "it; an MLP probe or fine-tuning is not built. Probe it linearly?", [f"probe run {rid}"])
        other = [d for d in (*find_datasets(text), *(raw for _, raw in find_paths(text))) if d != run.dataset]
        if other:
            return Asked(f"A probe measures run {rid} on its own data ({run.dataset or 'its training set'}), on the "
                         f"split it held out. To measure its encoder on `{other[0]}`, audit its checkpoint there: "
                         f"`sslpilot audit <home>/runs/{rid}/checkpoints/last.pt --data {other[0]}` (the chat takes "
                         f"`audit PATH on DATA` too). Probe it on its own data?", [f"probe run {rid}"])
    return None
