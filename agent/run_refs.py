"""Runs a message refers to: ids ("run 4", "#4", "r4", "run four", a bare number in a message about runs), names,
descriptions ("the last one", "the collapsed one", "the run on gpu 1"), groups ("my digits runs", "the collapsed byol
runs") and sweeps ("the lrs sweep"), read against the home's runs (`World`). A number a setting, a list of values,
a bar or a count takes is never a run: those are read first (`agent/slots.py`, `agent/setting_words.py`,
`agent/grid_words.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.grid_words import without_grid
from agent.setting_words import COMPARED, SETTING_VALUE
from agent.slots import (
    BUILTIN_DATA,
    CRON,
    METHOD_WORDS,
    NUMBER,
    UNIT_AFTER,
    WORD_NUMBERS,
    find_datasets,
    find_method,
)
from tools.registry import TERMINAL
from tools.run_notes import ORIGIN_TAGS


@dataclass
class RunInfo:
    id: str
    method: str = ""
    dataset: str = ""
    status: str = ""
    verdict: str | None = None
    name: str | None = None
    ended_at: float | None = None  # epoch seconds; None while it has not ended
    experiment: str | None = None  # the sweep or experiment it was launched in
    fix_of: str | None = None  # the run whose recommended change it was launched to try ("did the fix work?")
    device: str | None = None  # where it was placed: "cpu", "cuda:0", "cuda:0,1" ("the run on gpu 1")
    tags: tuple[str, ...] = ()  # the user's tags ("the baseline run", "the digits-study runs")


@dataclass
class World:
    """What the chat may refer to: the runs in the home, newest last."""

    runs: list[RunInfo] = field(default_factory=list)
    backends: dict[str, str] = field(default_factory=dict)  # cluster backend name -> kind (`sslpilot backend ls`)

    def run(self, run_id: str | None) -> RunInfo | None:
        return next((r for r in self.runs if r.id == run_id), None)

    def has(self, run_id: str) -> bool:
        return self.run(run_id) is not None

    def ids(self) -> list[str]:
        return [r.id for r in self.runs]


@dataclass
class RunRefs:
    ids: list[str] = field(default_factory=list)  # resolved, in the order named
    unknown: list[str] = field(default_factory=list)  # named but absent ("run 12" of 5 runs)
    ambiguous: list[list[str]] = field(default_factory=list)  # "the byol run" when there are two
    mentioned: bool = False  # the message points at runs itself (not through the thread)
    sweeps: list[str] = field(default_factory=list)  # "the sweep" with several here: their names, to ask which
    group: list[str] | None = None  # the runs a plural description named ("all the byol runs"), when it named one
    miscounted: tuple[int, list[str]] | None = None  # "both healthy runs" with one healthy: the count said, the runs


def find_backend(text: str, world: World) -> str | None:
    """A configured cluster backend named as the place to run: "on rc", "via hpc", "using cluster-a"."""
    low = text.lower()
    return next((b for b in world.backends if re.search(rf"\b(on|to|using|via)\s+{re.escape(b.lower())}\b", low)), None)


A_FACTOR = re.compile(r"\b\d+(?:\.\d+)?\s*(?:x|times)\s+(?=as\b|longer\b|more\b|the\b|that\b|it\b|this\b)", re.I)
"""A factor ("3 times as long", "3x the lr", "make that 3 times as many", "2x that"): no run, and no value of its
own (what it multiplies makes the value)."""


LABEL_COUNT = re.compile(r"\b\d[\d,]*k?\s+(?:held[ -]out\s+|labell?ed\s+|unlabell?ed\s+)?(?:[a-z]+\s+)?(?:images?|labels?|"
                         r"examples?|samples?|shots?|photos?|pictures?|pics|documents?|texts?|captions?)\b|\b\d+[- ]shot\b")
"""A count of images, texts or labels ("on 1000 labelled images", "500 unlabeled product photos", "10 labels per
class", "5-shot"): never a run."""


BAR = re.compile(rf"(?:{COMPARED})\s*{NUMBER}")
"""A bar a metric crosses ("rank < 4", "falls below 4"): its number is never a run."""


RUN_RANGE = re.compile(r"\bruns\s*#?\s*(\d+)\s*(?:-|\u2013|\bto\b|\bthrough\b|\bthru\b)\s*#?\s*(\d+)\b(?!\s*(?:steps?|epochs?))")
"""Runs given as a range ("runs 1 to 3", "runs 4-6"); "run 1 to run 3" is two runs."""


def _explicit_ids(text: str, about_runs: bool) -> list[str]:
    low = text.lower()
    for word, n in WORD_NUMBERS.items():
        low = re.sub(rf"\b(runs?\s+){word}\b(?!\s+(?:runs?|jobs?|experiments?|models?|more|others?|at)\b)", rf"\g<1>{n}",
                     low)  # "run four" is run 4; "can I run two runs at once?" names no run
    ids = re.findall(r"\b(?:runs?|id)\s*#?\s*(\d+)|#\s*(\d+)\b|\br(\d+)\b", low)
    found = [next(g for g in t if g) for t in ids]
    found += [f"-{n}" for n in re.findall(r"\bruns?\s+#?\s*-(\d+)\b", low)]  # "show run -1": no run, asked about
    listed = re.search(rf"\bruns?\s*#?\s*\d+((?:\s*(?:,|and|&|\bor\b|vs\.?|with|#)\s*#?\s*\d+(?!\d|{UNIT_AFTER}|"
                       rf"\s+(?:labell?ed\s+)?(?:labels?|examples?|samples?|shots?)\b|[- ]shot))+)", low)
    if listed:
        found += re.findall(r"\d+", listed.group(1))
    for a, b in RUN_RANGE.findall(low):  # "tag runs 1 to 3": runs 1, 2 and 3 (it tagged 1 and 3)
        if 0 < int(b) - int(a) <= 64:
            at = found.index(a) + 1 if a in found else len(found)
            found[at:at] = [str(i) for i in range(int(a) + 1, int(b))]  # the runs between, after the first
    if about_runs:  # bare numbers: "is 4 healthy?", "compare 2 and 5"
        cleaned = CRON.sub(" ", without_grid(low))  # "cron `30 1 * * *`" names no run 30
        cleaned = re.sub(r"(?<![\w.])-\d+", " ", cleaned)  # "run -1" is no run 1
        cleaned = re.sub(r"\b(?:last|latest|newest|recent|top|first)\s+\d+\b|\b\d+\s+(?:most\s+recent|latest|newest)\b|"
                         r"\b\d{1,3}\s+(?:(?:best|top|highest|strongest|leading|worst)\s+)?(?:[\w-]+\s+)?runs\b|"
                         r"\b\d{1,2}\s*(?:am|pm)\b|\b\d{1,3}\s+(?:(?:log|output)\s+)?lines?\b|=\s*\S+|\b(?:step|epoch|iteration|iter)\s*#?\s*\d[\d,]*k?\b|"
                         r"\b(?:gpus?|cuda|devices?|nodes?)\s*[:#]?\s*\d+(?:\s*(?:,|and|&)\s*\d+)*", " ",
                         cleaned)  # limits, times, lines of a log, settings, steps ("stop at step 300") and devices
        # are not runs
        cleaned = re.sub(rf"\b\d+(?:\.\d+)?{UNIT_AFTER}|\b\d{{4}}-\d{{2}}-\d{{2}}\S*|\b(?:lr|rate|temp\w*|ratio|"
                         rf"momentum|batch(?: size)?|bs|k|(?:random )?seed)\s*(?:[:=]|\bof\b|\bto\b|\bat\b)?\s*{NUMBER}|{NUMBER}e-?\d+|\d+\.\d+|/\S+", " ", cleaned)
        cleaned = re.sub(rf"(\bof\s+runs?\s*#?\d+\s+)(?:to|=)\s*{NUMBER}", r"\1", cleaned)  # "the batch size of run 2
        # to 64": a setting's new value, not a run 64
        cleaned = LABEL_COUNT.sub(" ", cleaned)  # "on 1000 labelled images", "10 labels per class", "5-shot"
        cleaned = SETTING_VALUE.sub(" ", cleaned)  # "a 128-d bottleneck", "with 4 transformer layers": a setting's
        cleaned = BAR.sub(" ", cleaned)  # "rank < 4", "below 4": a value a metric crosses
        cleaned = A_FACTOR.sub(" ", cleaned)  # "3 times as long"
        found += re.findall(r"(?<![\w.])(\d{1,6})(?![\w.])", cleaned)
    out: list[str] = []
    for i in found:
        i = str(int(i))
        if i not in out:
            out.append(i)
    return out


GROUP_REF = re.compile(r"\b(?:(?P<both>both\s+)?(?:of\s+)?(?:the\s+|my\s+|our\s+)(?!(?:the|my|our)\s+runs\b)|all\s+(?:of\s+)?"
                       r"(?:the\s+|my\s+|our\s+)?|(?P<both2>both\s+))(?!(?:the|my|our)\s+runs\b)"
                       r"(?P<what>[a-z][\w -]{1,40}?)\s+"
                       r"runs\b|\b(?:every|each)\s+(?P<one>[a-z][\w -]{1,40}?)\s+run\b|\b(?:all\s+(?:of\s+)?(?:the\s+|my\s+)?|"
                       r"(?:the|my|our)\s+)runs\s+(?:on|of|using|trained\s+on)\s+(?P<after>[a-z][\w-]{1,20})\b")


GROUP_WORDS = {"healthy": lambda r: r.verdict == "healthy",
               "collapsed": lambda r: r.verdict in ("complete_collapse", "dimensional_collapse"),
               "weak": lambda r: r.verdict == "weak_representation",
               "diverged": lambda r: r.status == "diverged" or r.verdict == "diverged",
               "failed": lambda r: r.status in ("failed", "diverged"),
               "finished": lambda r: r.status == "succeeded", "succeeded": lambda r: r.status == "succeeded",
               "running": lambda r: r.status == "running", "queued": lambda r: r.status == "queued"}
"""Words that pick runs out as a group, besides a method and a dataset ("the collapsed byol runs")."""


FILLER = {"my", "the", "of", "our", "all", "other", "both", "finished", "own"}
THE_OTHERS = re.compile(r"\b(?:the\s+)?others\b|\bthe\s+rest(?:\s+of\s+(?:them|my\s+runs|the\s+runs))?\b|"
                        r"\b(?:my|the|our|all\s+(?:my|the|our))\s+other\s+(?:runs|ones)\b", re.I)
"""Every run but those named ("how does run 1 rank against the others?", "compare run 2 with the rest")."""


def _group_of_runs(low: str, world: World) -> tuple[list[str], int | None] | None:
    """The runs a plural description names ("my digits runs", "all the healthy byol runs", "every shapes run", "the
    runs on shapes", "both finished runs"), oldest first, with the count it said ("both": 2), if any; None when the
    words are no such description (every word must be a method, a dataset, a verdict or status word, or a filler)."""
    m = GROUP_REF.search(low)
    if not m:
        return None
    words = (m.group("what") or m.group("one") or m.group("after")).split()
    keep: list = []
    count = 2 if m.group("both") or m.group("both2") else None  # "both finished runs": the two, or asked
    for w in words:
        method = find_method(w)
        if count is None and (w.isdigit() or w in WORD_NUMBERS) and w not in ("zero", "one", "0", "1"):
            count = int(WORD_NUMBERS.get(w, w))  # "my two finished runs": as many as that, or asked
        elif w in GROUP_WORDS:
            keep.append(GROUP_WORDS[w])
        elif method and method.value:
            keep.append(lambda r, v=method.value: r.method == v)
        elif w in BUILTIN_DATA or any(w == (r.dataset or "").lower() for r in world.runs):
            keep.append(lambda r, d=w: (r.dataset or "").lower() == d)
        elif w not in FILLER:
            return None
    if not keep and count is None:  # "all three runs": every run, if there are that many
        return None
    return [r.id for r in world.runs if all(k(r) for k in keep)], count


ONE_DESCRIBED = r"(?:the|that|my)\s+[\w.-]+(?:\s+[\w.-]+)?\s+(?:one|run|job|experiment|encoder|model)"
"""One run named by what it is, in a word or two ("the latest run", "the simclr one", "my collapsed run"): which
run, if any single one, find_runs says."""
ON_A_GPU = re.compile(r"\bthe\s+(?:run|job|one|training)\s+(?:on|using|that'?s\s+on)\s+gpu\s*#?\s*(\d+)\b")
"""A run described by the GPU it holds ("cancel the run on gpu 1"): the live run placed there, never run 1."""


OLDEST = (r"\bthe\s+(?:oldest|earliest|first)\s+(?:run|job|experiment|training)\s+(?:i|we)\s+(?:ever\s+)?(?:launched|"
          r"trained|ran|started|made|did)\b|\bthe\s+(?:oldest|earliest)\s+(?:one|run|job|experiment)\b"
          r"|\bmy\s+(?:very\s+)?(?:oldest|earliest|first)\s+(?:run|job|experiment)\b")
"""The oldest run ("the first run I launched", "the oldest one", "my first run"); "the first one" alone is a list's
(agent/listed_words.py)."""
LATEST_ENDED = re.compile(r"\b(?:last|latest|newest|most\s+recent)\s+(?P<how>finished|completed|ended|done|succeeded|"
                          r"successful)\s+(?:one|run|job|experiment|training)\b")
"""The newest run that has ended ("my latest finished run"), or that succeeded ("the last successful run")."""
DESCRIPTIONS = (OLDEST, LATEST_ENDED.pattern,
                r"\b(?:the\s+)?(?:last|latest|newest|most recent|previous)\s+(?:one|run|job|experiment|training)\b",
                r"\bthe (?:run|one|job) that(?:'?s| is) (?:still )?(?:training|running)\b",
                r"\bthe collaps\w+ (?:one|run|job|experiment)\b",
                r"\bthe (?:running|current|active|live) (?:one|run|job|training)\b",
                r"\bthe (?:diverged|crashed|failed|broken) (?:one|run|job)\b")


A_RUN = "run 0"
"""What a run named by a name or a description is written as, for the classifier."""


def _names_written(text: str, world: World, as_what) -> str:
    """Each run named by its name, or by a tag that only it has ("the baseline", "the baseline run"), written as_what;
    a tag that is also a word of quality or state stays ("which is the best run?" ranks, though a run is tagged best)."""
    for r in world.runs:
        if r.name:
            text = re.sub(rf"(?<![\w-]){re.escape(r.name)}(?![\w-])", as_what(r), text, flags=re.I)

    def one_tagged(m: re.Match) -> str:
        tagged = _tagged(m, world) if not m.group("many") and not NOT_A_BARE_TAG.fullmatch(m.group("tag")) else []
        return as_what(world.run(tagged[0])) if len(tagged) == 1 else m.group(0)

    return TAG_REF.sub(one_tagged, text)


def names_as_ids(text: str, world: World) -> str:
    """Run names written as their runs ("how good is anchor?": "how good is run 1?"), for the patterns that read a
    run by its id or a pronoun."""
    return _names_written(text, world, lambda r: f"run {r.id}")


def mask_runs(text: str, world: World) -> str:
    """Run names and descriptions written as a run's id ("run 0"), so the intent classifier sees a run named, as in
    "show run 3" (whose number it masks), not an odd word: "show the byol run" was "show run n" to it, a phrase no
    example has, and asked "show or list?"."""
    out = _names_written(text, world, lambda _: A_RUN)
    for pattern in DESCRIPTIONS:
        out = re.sub(pattern, A_RUN, out, flags=re.I)
    out = unname_sweeps(out, world)
    return re.sub(rf"\b(?:the|my|that|this)\s+({METHOD_WORDS})\s+(?:run|job|experiment|model|one|encoder|training)\b",
                  A_RUN, out, flags=re.I)



SWEEP_REF = re.compile(r"\b(?:the|my|that|this|last|latest|newest)\s+(?:(?:last|latest|newest)\s+)?(?:(?P<name>[\w.-]+)\s+)?"
                       r"(?:sweep|grid(?:[- ]search)?)\b|\b(?:sweep|experiment)\s+(?P<named>[\w.-]+)", re.I)


def _sweep_runs(low: str, world: World) -> list[tuple[str, list[str]]] | None:
    """The sweep a message points at, as (name, run ids): one pair when one sweep fits, several when more than one
    could ("the sweep" with two sweeps here, none named), [] when none does, None when it names no sweep."""
    groups: dict[str, tuple[str, list[str]]] = {}
    for r in world.runs:  # oldest first, so the last key is the newest sweep
        if r.experiment:
            groups.setdefault(r.experiment.lower(), (r.experiment, []))[1].append(r.id)
    for m in SWEEP_REF.finditer(low):
        name = m.group("name") or m.group("named")
        if name and name in groups:
            return [groups[name]]
        if m.group("named"):
            continue  # "sweep simclr's lr": a launch's verb, not a sweep of this home
        sweeps = [g for g in groups.values() if len(g[1]) > 1]
        return sweeps[-1:] if len(sweeps) == 1 or re.search(r"\b(?:last|latest|newest)\b", m.group(0)) else sweeps
    return None


def whole_sweep(text: str, refs: RunRefs, world: World) -> str | None:
    """The name of the one sweep a message points at when the runs it names are that sweep's and no others ("how did
    the lrs sweep go?", "the last sweep"); None otherwise (no sweep, two it could be, or other runs named too)."""
    swept = _sweep_runs(text.lower(), world)
    if not swept or len(swept) != 1 or len(swept[0][1]) < 2 or refs.unknown or refs.ambiguous:
        return None
    name, ids = swept[0]
    return name if sorted(refs.ids) == sorted(ids) else None


def unname_sweeps(text: str, world: World) -> str:
    """The message with each sweep of this home it names written as "the sweep" ("which lr won the lrs sweep?"):
    a sweep's name is a label, not a setting asked for ("lrs") nor a word for the classifier to weigh."""
    names = {r.experiment.lower() for r in world.runs if r.experiment}

    def unnamed(m: re.Match) -> str:
        name = m.group("name") or m.group("named")
        if not name or name.lower() not in names:
            return m.group(0)
        return "the sweep" if m.group("named") else m.group(0)[:m.start("name") - m.start()] + "sweep"

    return SWEEP_REF.sub(unnamed, text)


LAST_N_RUNS = re.compile(rf"\b(?:last|latest|newest|most\s+recent|previous)\s+({'|'.join(WORD_NUMBERS)}|\d+)\s+"
                         r"(?:runs|ones|jobs|experiments)\b")
"""The newest runs by count ("my last two runs", "the latest 3 runs"), as one group."""


METHOD_PAIR = re.compile(r"\b(?:the|my|our)\s+([a-z0-9_-]{2,16})\s*(?:and|&|vs\.?|versus|or)\s+(?:(?:the|my|our)\s+)?"
                         r"([a-z0-9_-]{2,16})\s+(?:runs?|ones|models|encoders)\b|"
                         r"\b(?:the|my|our)\s+([a-z0-9_-]{2,16})\s+(?:run|model|encoder)\s+(?:and|&|vs\.?|versus|or|than|"
                         r"from|to|with|against)\s+(?:(?:the|my|our)\s+)?([a-z0-9_-]{2,16})\b", re.I)
METHODS_WEIGHED = re.compile(r"\b([a-z0-9_-]{2,16})\s+(?:(?:is|was|are|were|did|does|do)\s+)?(?:(?:much|a\s+lot|any|far)\s+)?"
                             r"(?:better|worse|stronger|weaker)\s+than\s+([a-z0-9_-]{2,16})\b|"
                             r"\b([a-z0-9_-]{2,16})\s+(?:beat|beats|outperform\w*)\s+([a-z0-9_-]{2,16})\b", re.I)
ON_OWN_DATA = re.compile(r"\b(?:my|our)\s+(?:own\s+)?(?:data(?:set)?|images|photos|pictures|runs|folder)\b", re.I)
"""Two methods weighed on the user's data ("is byol worse than simclr on digits?", "did vicreg beat simclr on my
data?"): each method's runs there. Without their data named it is a question for the literature."""
COMPARED_PAIR = re.compile(r"\b(?:compare\w*|comparison|differ\w*|difference\w*|versus|vs|better|worse|stronger|"
                           r"weaker|won|wins?|beats?|beat|outperform\w*|side[ -]by[ -]side|head[ -]to[ -]head|next\s+to\s+each\s+other)\b")
"""Two runs named by their methods, set side by side ("how do the byol and simclr runs differ?", "which is better, the
byol or simclr run?", "is my byol run worse than my simclr one?"): each method's run.
Elsewhere ("order the byol and simclr runs") the words may name a group, every run of each, which is asked about."""


TAG_REF = re.compile(r"\b(?:the|my|that|this|those|these)\s+(?P<tag>[\w.-]+)(?:\s+(?:(?P<many>runs|ones|jobs|experiments|"
                     r"models)|one|run|job|experiment|model)\b|(?P<bare>(?![\w.-])))", re.I)
"""Runs named by a tag the user gave them ("the baseline run", "the broken one", "my digits-study runs"), or by the
tag alone ("relaunch the baseline") where it is a noun that tags one run (`_tagged`)."""
NOT_A_BARE_TAG = re.compile(r"(?:good|bad|best|worst|better|worse|broken|collapsed|healthy|failed|new|old|first|last|"
                            r"latest|final|same|other|next|running|done|finished|one|ones|run|runs|data|loss|lr|"
                            r"sweep|results?|settings?|config|weights|encoder|model|checkpoints?)", re.I)
"""Tags that said alone are other words ("is the best any good?", "the data", "the last"): a tag only with "run" or
"one" after it."""


def _tagged(m: re.Match, world: World) -> list[str]:
    """The runs a tag reference names, oldest first: none where the word is no user's tag of a run here (a tag the
    run got from how it was made, a method's name, or a bare word that tags several runs or reads as another word)."""
    tag = m.group("tag").lower()
    if tag in ORIGIN_TAGS or find_method(tag):
        return []
    tagged = [r.id for r in world.runs if tag in r.tags]
    if m.group("bare") is not None and (len(tagged) != 1 or len(tag) < 3 or NOT_A_BARE_TAG.fullmatch(tag)):
        return []
    return tagged


RUN_SAID_FIRST = re.compile(r"^\W*(?P<run>run\s*#?\d+)\s*(?:[—–:;-]+|,)\s*(?P<rest>.*?\bit\b.*)$", re.I | re.S)
"""A run named first, then asked about as "it" ("Run 1 — is it any good?", "run 3: stop it")."""


def run_said_first(text: str) -> str:
    """The message with a run named first and then called "it" written as one request ("is run 1 any good?")."""
    m = RUN_SAID_FIRST.match(text)
    return re.sub(r"\bit\b", m.group("run"), m.group("rest"), count=1) if m else text


def find_runs(text: str, world: World, about_runs: bool = True, groups: bool = False) -> RunRefs:
    """Run references: ids ("run 4", "#4", "r4", "run four", a bare number when the message is about runs),
    names, and descriptions ("the last one", "the collapsed one", "the running job", "the byol run")."""
    refs = RunRefs()
    low = text.lower()
    for rid in _explicit_ids(_names_written(text, world, lambda r: " "), about_runs):  # "vic-1" names a run, not run 1
        (refs.ids if world.has(rid) else refs.unknown).append(rid)
    at: dict[str, int] = {}
    for r in world.runs:
        m = re.search(rf"(?<![\w-]){re.escape(r.name.lower())}(?![\w-])", low) if r.name else None
        if m and r.id not in refs.ids:
            refs.ids.append(r.id)
            at[r.id] = m.start()
    described: list[tuple[int, list[str]]] = []  # (where its words stand, the runs it fits): in the order written
    for m in TAG_REF.finditer(low):  # "the broken one" after "tag run 2 as broken": the runs with that tag
        tagged = _tagged(m, world)[::-1]
        if not tagged:
            continue
        if m.group("many") or len(tagged) == 1:  # in the order written, with the ids and names
            for rid in reversed(tagged):
                if rid not in refs.ids:
                    refs.ids.append(rid)
                    at[rid] = m.start()
        else:
            described.append((m.start(), tagged))  # one asked of several: which
        low = low.replace(m.group(0), " " * len(m.group(0)))  # its words describe no other run ("broken")
    if at:  # "compare baseline with run 2": in the order written, names and ids together
        for rid in refs.ids:
            m = re.search(rf"(?<![\w.]){rid}(?![\w.])", low)
            at.setdefault(rid, m.start() if m else len(low))
        refs.ids.sort(key=lambda rid: at[rid])
    runs = list(reversed(world.runs))  # newest first
    m = re.search(r"\b(last|latest|newest|most recent|previous)\s+(one|run|job|experiment|training)\b|"
                  r"\bthe last one\b", low)
    if m:
        described.append((m.start(), [runs[0].id] if runs else []))
    ended = LATEST_ENDED.search(low)
    if ended:  # "my latest finished run": the newest that has ended (succeeded, for "successful")
        done = ("succeeded",) if ended.group("how").startswith("succe") else TERMINAL
        described.append((ended.start(), [r.id for r in runs if r.status in done][:1]))
    m = re.search(OLDEST, low)
    if m:  # "the first run I launched", "the oldest one"
        described.append((m.start(), [runs[-1].id] if runs else []))
    m = re.search(r"\b(collaps\w*)\s+(one|run|job|experiment)\b|\bthe collaps\w+ one\b", low)
    if m:
        described.append((m.start(), [r.id for r in runs if r.verdict in ("complete_collapse", "dimensional_collapse")][:1]))
    m = re.search(r"\bthe\s+healthy\s+(?:one|run)\b", low)
    if m:  # the newest healthy run
        described.append((m.start(), [r.id for r in runs if r.verdict == "healthy"][:1]))
    m = re.search(r"\b(running|current|active|live)\s+(one|run|job|training)\b|\bthe running\b|"
                  r"\b(run|one|job) that(?:'?s| is) (still )?(training|running)\b|\bthe (run|one|job) (still )?(training|running)\b",
                  low)
    if m:
        described.append((m.start(), [r.id for r in runs if r.status == "running"]))
    failed = re.search(r"\b(diverged|crashed|failed|broken|nan)\s+(one|run|job)\b", low)
    if failed:  # "the broken one" is also a run that collapsed (it found no run when none had failed)
        bad = ("diverged", *(("complete_collapse", "dimensional_collapse") if failed.group(1) == "broken" else ()))
        described.append((failed.start(), [r.id for r in runs if r.status in ("diverged", "failed") or r.verdict in bad][:1]))
    newest = LAST_N_RUNS.search(low)
    if newest:  # "compare my last two runs": the newest N, oldest first, all of them
        n = int(WORD_NUMBERS.get(newest.group(1), newest.group(1)))
        if len(runs) >= n > 1:
            refs.ids += [r.id for r in reversed(runs[:n]) if r.id not in refs.ids]
        else:
            refs.unknown.append("(described)")
    if refs.ids and THE_OTHERS.search(low):  # "run 1 against the others": every other run too
        refs.ids += [r.id for r in world.runs if r.id not in refs.ids]
    group, count = (_group_of_runs(low, world) if groups else None) or (None, None)
    if group is not None:  # "my digits runs", "every healthy run": all of them, named together (for the tools that
        # take runs; a list or a usage question reads the same words as its own filters)
        if group and count in (None, len(group)):
            refs.ids += [i for i in group if i not in refs.ids]
            refs.group = group
        else:
            refs.unknown.append("(described)")
            if group:  # "both healthy runs" where one is healthy: say so, never pick
                refs.miscounted = (count, group)
    on_gpu = ON_A_GPU.search(low)
    if on_gpu:  # "the run on gpu 1": the live run placed there
        gpu = on_gpu.group(1)
        described.append((on_gpu.start(), [r.id for r in runs if r.status in ("running", "queued") and gpu in
                                           re.findall(r"cuda:?(\d+)", (r.device or "").replace(",", ",cuda:"))]))
    for phrase in re.finditer(r"\b(?:the|my|that|this)\s+([a-z0-9 _-]{2,24}?)\s+(?:run|job|experiment|model|one|"
                              r"encoder|training)\b", low):
        named = find_method(phrase.group(1))
        if named and named.value:
            described.append((phrase.start(), [r.id for r in runs if r.method == named.value]))
    for pair in METHOD_PAIR.findall(low) if COMPARED_PAIR.search(low) else ():  # "the byol and simclr runs differ"
        methods = [find_method(w) for w in pair if w]
        if all(m and m.value for m in methods):
            described += [(low.find(m.raw.lower()), [r.id for r in runs if r.method == m.value]) for m in methods]
    data = find_datasets(low)
    for pair in METHODS_WEIGHED.findall(low) if data or ON_OWN_DATA.search(low) else ():
        methods = [find_method(w) for w in pair if w]
        groups = [[r.id for r in runs if r.method == m.value and (not data or r.dataset in data)]
                  for m in methods if m and m.value]
        if len(groups) == 2 and all(groups):  # "is byol worse than simclr on digits?": every run of each there
            refs.ids += [i for g in groups for i in reversed(g) if i not in refs.ids]
    swept = _sweep_runs(low, world)
    if swept is not None:  # "the lrs sweep", "experiment lrs": every run of it, named as a group
        if len(swept) == 1:
            refs.ids += [i for i in swept[0][1] if i not in refs.ids]
        elif swept:
            refs.ambiguous += [ids for _, ids in swept]
            refs.sweeps = [name for name, _ in swept]
        else:
            refs.unknown.append("(sweep)")
    for _, group in sorted(described, key=lambda d: d[0]):
        if len(group) == 1 and group[0] not in refs.ids:
            refs.ids.append(group[0])
        elif len(group) > 1:
            refs.ambiguous.append(group)
        elif not group:
            refs.unknown.append("(described)")
    refs.mentioned = bool(refs.ids or refs.unknown or refs.ambiguous)
    return refs
