"""Entities in a message (Rasa calls them slots): run references, methods, data, numbers with units, knobs,
times. Each extractor reports what the user wrote even when it does not resolve (an unknown method, a
missing path, run 12 of 5), so the chat can ask instead of substituting a default.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from rapidfuzz.distance import OSA
from text_to_num import alpha2digit

from ssl_runtime.catalogue import (
    ALIASES,
    BACKBONES,
    BUILTIN_DATASETS,
    METHODS,
    OPTIMIZERS,
    SCHEDULES,
)
from tools.tool_table import TOOLS

METHOD_ALIASES = ALIASES  # every spelling of a method, from the catalogue
METHOD_WORDS = "|".join(m.replace("_", " ") for m in METHODS)  # "the byol run", "my barlow twins model"
# SSL methods people ask for that sslpilot does not have: named, they get a question, never a substitute
OTHER_METHODS = ("swav", "nnclr", "msn", "ibot", "data2vec", "pirl", "deepcluster", "ijepa", "jepa", "dinov2",
                 "simclrv2", "tico", "vicregl", "wmse", "supcon", "beit", "mocov1", "obow", "esvit", "sela")
BUILTIN_DATA = BUILTIN_DATASETS
OTHER_DATASETS = ("cifar10", "cifar100", "cifar", "imagenet", "imagenet1k", "mnist", "stl10", "coco", "svhn",
                  "tinyimagenet", "places365", "inat", "fashionmnist")
WORD_NUMBERS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve "
                                           "thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty".split())}
MORE = r"(?:more|extra|additional|further)"  # "100 more steps" counts steps
_AMOUNT = r"(\d+(?:\.\d+)?|an?|one|half\s+an?)"  # "2", "an", "half an", "half a"
DURATION = (r"\bfor\s+(?:about\s+|around\s+|roughly\s+|~\s*)?(\d+(?:\.\d+)?|an?|one|half\s+an?|another(?:\s+\d+(?:\.\d+)?)?)"
            r"\s*(?:(?:more|extra)\s+)?(hours?|hrs?|h|minutes?|mins?)\b"
            r"|\b(\d+(?:\.\d+)?)[- ](hours?|minutes?)\s+(?:of\s+)?(?:[a-z0-9-]+\s+){0,2}(?:training|run|budget)\b"
            r"|\b(?:(?:a|the)\s+)?(?:max(?:imum)?|limit|cap|time\s+limit|time\s+budget|budget)\s+(?:(?:it|the\s+run|that)\s+)?"
            rf"(?:of|at|to)?\s*{_AMOUNT}\s*"
            rf"(hours?|hrs?|h|minutes?|mins?)\b|\b(?:at\s+most|no\s+(?:more|longer)\s+than)\s+{_AMOUNT}\s*(hours?|hrs?|h|"
            r"minutes?|mins?)\b|\b(\d+(?:\.\d+)?)\s*(hours?|hrs?|minutes?|mins?)\s+(?:max(?:imum)?|at\s+most|tops)\b"
            rf"|\b(?:stop|end|kill|halt)\s+(?:it|the\s+run|training)\s+after\s+{_AMOUNT}\s*(hours?|hrs?|h|minutes?|mins?)\b"
            rf"|\b(?:make|change|set)\s+(?:it|that|the\s+(?:time|limit|budget))\s+(?:to\s+|into\s+)?{_AMOUNT}\s*(hours?|hrs?|"
            r"minutes?|mins?)\b(?!\s+(?:from\s+now|later|ago|before|after)\b)"
            rf"|\b(?:i|we)(?:'ve|\s+have)?\s+(?:only\s+|just\s+)?(?:have|got)\s+(?:about\s+|around\s+|roughly\s+)?{_AMOUNT}\s*"
            r"(hours?|hrs?|h|minutes?|mins?)\b"
            rf"|\b(?:finish|be\s+done|end)\s+(?:with)?in\s+{_AMOUNT}\s*(hours?|hrs?|h|minutes?|mins?)\b")
"""How long to train ("for 2 hours", "for 90 minutes", "a 3-hour run", "a max of 5 minutes", "at most 2 hours", "and stop
it after 10 minutes", "make it 25 minutes", "I only have an hour", "it has to finish within 2 hours"):
`train.max_minutes`, not a run or a count."""
COMPOUND_DURATION = re.compile(r"\b(?P<h>\d+|an?|one)\s*(?:hours?|hrs?|h)\s+and\s+a\s+half\b"
                               r"|\b(?P<h2>\d+)\s*(?:hours?|hrs?|h)\s*(?:and\s+)?(?P<m>\d{1,2})\s*(?:minutes?|mins?|m)\b"
                               r"|\b(?P<h3>\d+)h(?P<m3>\d{2})\b", re.I)
"""A length in hours and minutes ("an hour and a half", "1 hour 30 minutes", "2h15m", "1h30")."""


def durations_in_minutes(text: str) -> str:
    """The message with each length in hours and minutes written in minutes ("an hour and a half" is "90 minutes"):
    the readers of a run's length take one unit, and read "an hour and a half" as an hour."""
    def minutes(m: re.Match) -> str:
        if m.group("h"):
            return f"{60 * (1 if m.group('h').lower() in ('a', 'an', 'one') else int(m.group('h'))) + 30} minutes"
        hours, mins = (m.group("h2"), m.group("m")) if m.group("h2") else (m.group("h3"), m.group("m3"))
        return f"{60 * int(hours) + int(mins)} minutes"
    return COMPOUND_DURATION.sub(minutes, text)
MORE_OF_A_RUN = re.compile(rf"\b(?:\d[\d,]*(?:\.\d+)?k?\s+{MORE}|another\s+\d[\d,]*(?:\.\d+)?k?|{MORE}\s+\d[\d,]*k?)\s+"
                           r"(?:training\s+)?(?:epochs?|steps?|iterations?|iters?|hours?|minutes?|mins?)\b"
                           r"|\banother\s+(?:hour|half\s+hour)\b|\bextend\w*\b.{0,40}?\bby\s+\d", re.I)
"""Training a run further ("100 more steps", "another 2 epochs", "extend run 2 by 500 steps"): continued
pretraining from its final weights, for that many steps."""
ADVICE = re.compile(r"^\W*(?:should|shall)\s+(?:i|we)\b|^\W*(?:how\s+(?:many|much|long)|is|are|does|do|did|was|were|has|"
                    r"have|why|what|when|which|(?:would|will|could|might)\s+(?!you\b|u\b))\b|\bworth\b|\bpay\s+off\b",
                    re.I)  # "will run 3 improve with 500 more steps?" asks; "will you train it ...?" asks for it
"""A question that mentions training further ("should I train run 1 for 500 more steps?", "is another 1000 steps
worth it?", "why did run 2 collapse after 100 more steps?") asks for advice or an answer, not for the run; "can you
train run 2 for 3 more epochs?" asks for the run."""
PERCENT_SIGN = r"(?:%|percent\b|per\s*cent\b|pct\b)"
"""A number's percent sign in any spelling ("60%", "60 percent", "60 per cent", "60 pct"): one place for every reading."""
# what a number followed by it counts ("64px", "8 workers", "2k"): never a run, a listed value or an hour
COUNT_UNITS = rf"k\b|epochs?|steps?|gpus?|{PERCENT_SIGN}|px|pixels?|images?|crops?|layers?|heads?|workers?|nodes?|dims?|classes|checkpoints?|" \
              r"neighbou?rs?|x\b"
UNIT_AFTER = rf"(?:\s*|-)(?:{MORE}\s+)?(?:{COUNT_UNITS}|minutes?|mins?|hours?|h\b|am|pm|:\d)"  # "3-layer" too
NUMBER = r"[0-9]+(?:\.[0-9]+)?(?:e-?[0-9]+)?"
NOT_A_CLOCK = rf"\s*(?:{COUNT_UNITS}|x\s*\d|minutes?\b|mins?\b|hours?\b|hrs?\b|seconds?\b|secs?\b)"  # "at 64px" is a size,
# and "cap it at 5 minutes" a length, not a time of day
VALUE_AT = ("weight", "coefficient", "coeff", "coef", "ratio", "rate", "lr", "size", "dim", "temperature", "temp",
            "momentum", "strength", "decay", "probability", "dropout", "fraction", "share", "scale", "lambda", "seed",
            "clipping", "clip", "mu", "nu", "tau")
"""Words whose value follows "at" ("the variance coefficient at 15", "the lr at 3e-4"): a setting, never a time."""
AT_HOUR = "".join(rf"(?<!\b{w} )" for w in VALUE_AT) + \
    rf"\bat\s+([01]?\d|2[0-3])(?::(\d{{2}}))?(?!\d|[.,]\d|e-?\d|{NOT_A_CLOCK})"
"""A time of day written "at H" or "at H:MM" (find_time; fidelity sets it aside): an hour, not "at 64px", "at 1.0"
or a setting's value."""
TEACHER_TEMP_WARMUP = re.compile(
    rf"\b(?:(?:warm(?:ing)?[ _-]?up|ramp(?:ing)?(?:\s+up)?|rais(?:e|ing)|increas(?:e|ing)|anneal(?:ing)?)\s+(?:the\s+|its\s+)?"
    rf"teacher[ _-]?temp(?:erature)?|teacher[ _-]?temp(?:erature)?(?:\s+(?:is|being))?\s+(?:warm(?:ed|ing)?[ _-]?up|"
    rf"ramp(?:ed|ing)?(?:\s+up)?|rais(?:ed|ing)|increas(?:ed|ing)|anneal(?:ed|ing)|warm[ _-]?up)"
    rf"|(?:warm|ramp)(?:ing)?\s+(?:the\s+|its\s+)?teacher[ _-]?temp(?:erature)?\s+up)"
    rf"(?:\s+from\s+(?P<start>{NUMBER}))?\s+(?:up\s+)?to\s+(?P<end>{NUMBER})"
    r"(?:\s+(?:over|during|for|across|in|within)\s+(?:the\s+)?(?:first\s+)?(?:(?P<steps>\d[\d,]*k?)\s*steps?|"
    r"(?P<in_epochs>(?P<epochs>\d+(?:\.\d+)?|an?|one)?\s*epochs?))\b)?", re.I)
"""DINO's teacher temperature warmed up ("warm up the teacher temperature from 0.04 to 0.07 over the first 100 steps"):
`warmup_teacher_temp`, `teacher_temp` and `teacher_temp_warmup_steps`, or `_epochs` said in epochs (`epochs_said`); its
length is never the run's, and not said at all it is asked about."""


STATUS_WORDS = re.compile(r"\b(running|queued|queue|failed|diverged|succeeded|finished|cancell?ed|interrupted|"
                          r"in progress|training now)\b")


def squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


# ---- methods and data --------------------------------------------------------------------------------

@dataclass
class Named:
    """Something the user named: resolved to a value, or not (then `raw` says what they wrote)."""

    raw: str
    value: str | None = None
    suggestion: str | None = None


def _clean_gradient_clipping(low: str) -> str:
    return re.sub(r"grad(?:ient)?[ _-]?clip(?:ping)?|clip[ _-]grad(?:ient)?s?", " ", low)


def _named_methods(text: str) -> tuple[list[str], list[tuple[int, Named]]]:
    """The message's words, and each method it names by a whole alias (and each known method sslpilot lacks,
    unresolved) with its word position: longest phrase first ("masked language model" before "masked"), no word
    read twice."""
    low = _clean_gradient_clipping(text.lower())
    words = re.findall(r"[a-z0-9]+", low)
    taken: set[int] = set()
    found: list[tuple[int, Named]] = []
    for n in (3, 2, 1):
        for i in range(len(words) - n + 1):
            span = set(range(i, i + n))
            key = "".join(words[i:i + n])
            if span & taken:
                continue
            if key in METHOD_ALIASES:
                if key == "clip" and re.search(r"\bclip(?:ping)?\s*(?:=|to|at|of)?\s*[0-9]", low):
                    continue
                found.append((i, Named(" ".join(words[i:i + n]), METHOD_ALIASES[key])))
            elif n == 1 and key in OTHER_METHODS:
                found.append((i, Named(key)))
            else:
                continue
            taken |= span
    return words, found


def find_method(text: str) -> Named | None:
    """A method by alias, tolerant of spaces, hyphens and small typos ("sim clr", "moco-v3", "barlowtwins",
    "simcrl"); a known method sslpilot lacks (SwAV) comes back unresolved."""
    words, found = _named_methods(text)
    if found:
        return found[0][1]
    for w in words:  # typos: one edit away from a method name of 4+ letters
        if len(w) >= 4 and not w.isdigit():
            close = difflib.get_close_matches(w, [a for a in METHOD_ALIASES if len(a) >= 4], n=1, cutoff=0.8)
            if close and w not in COMMON_WORDS:
                return Named(w, METHOD_ALIASES[close[0]])
    return None


def find_methods(text: str) -> list[Named]:
    """Every method sslpilot has that the message names by an alias, once each, in the order written ("simclr and
    byol"): what a one-method reading would leave out."""
    out: list[Named] = []
    for _, named in sorted(_named_methods(text)[1], key=lambda x: x[0]):
        if named.value and all(o.value != named.value for o in out):
            out.append(named)
    return out


def find_datasets(text: str) -> list[str]:
    """Every built-in dataset the message names as a word, in the order written ("on digits and shapes")."""
    low = text.lower()
    hits = [(m.start(), d) for d in BUILTIN_DATA for m in [re.search(rf"\b{d}\b", low)] if m]
    return [d for _, d in sorted(hits)]


COMMON_WORDS = {"mode", "made", "more", "make", "code", "done", "dine", "dinner", "diner", "clips", "flip",
                "mask", "model", "models", "simple", "claim", "climb", "byte", "maybe", "vice", "moon"}



def _command_verbs() -> tuple[str, ...]:
    """The verbs a request starts with: each tool's own offer ("diagnose run {run}", "cancel run {run}") and the
    launch's words."""
    offered = {spec.offer.split()[0].strip(",") for spec in TOOLS}
    return tuple(sorted(offered | {"pretrain", "train", "relaunch", "rerun", "kill", "sweep", "evaluate"}))


COMMAND_VERBS = _command_verbs()
POLITE = (r"(?:please|pls|plz|ok(?:ay)?|now|then|and|so|hey|hi|just|can\s+you|could\s+you|would\s+you|i'?d\s+like\s+to|"
          r"i\s+would\s+like\s+to|i\s+want\s+to|i\s+wanna|let'?s|go\s+ahead\s+and)")
"""The words a request may open with before its verb ("can you kill run 3?", "I'd like to get rid of run 2")."""
_LEAD = rf"^\W*(?:{POLITE}\W+)*"
NOT_TYPOS = {"retrain", "diagnosis", "sleep", "lunch", "audio", "trail", "brain", "grain", "drain", "sweet", "stock",
             "shown", "starch", "search", "stops", "steep"}
"""Words a first word may be that lie one edit from a verb ("retrain" from "pretrain"): never mended."""


def _mended(word: str, vocabulary: tuple[str, ...]) -> str | None:
    """The one word of `vocabulary` a typo of 5+ letters is one edit from (a swap counts one; two for 8+ letters);
    None for a word that holds one ("deleted", "undelete") or is near two."""
    low = word.lower()
    if len(low) < 5 or not low.isalpha() or low in NOT_TYPOS or any(v in low for v in vocabulary):  # the verb
        # itself, an inflection ("deleted") or a longer word ("undelete")
        return None
    near = [v for v in vocabulary if OSA.distance(low, v) <= (2 if len(low) >= 8 else 1)]
    return near[0] if len(near) == 1 else None


def typos_mended(text: str) -> str:
    """A request's first verb and the unit after a number read through a small typo ("jugde run 1", "cancle run 3",
    "reccomend something", "20 stpes"): the rules that read them know the words, and the classifier alone
    is not sure of them. Nothing else is touched: names, tags, notes and paths stay as written."""
    first = re.match(rf"{_LEAD}([A-Za-z]+)\b", text)
    verb = _mended(first.group(1), COMMAND_VERBS) if first else None
    if verb:
        text = text[:first.start(1)] + verb + text[first.end(1):]
    return re.sub(r"(?<=\d )([A-Za-z]{5,})\b", lambda m: _mended(m.group(1), ("steps", "epochs")) or m.group(1), text)


PATH_TOKEN = r"(?:\"[^\"]+\"|'[^']+'|`[^`]+`|(?:~|\.{1,2})?/[^\s,;]+|[A-Za-z0-9_.-]+/[^\s,;]*|~[^\s,;]*)"


def find_data(text: str) -> Named | None:
    """A built-in dataset (tolerant of a small typo after on/in/from/using/with: "on digts"), a path (after
    on/in/at/from/under/using/with/folder, or quoted, or starting with / ~ ./), or a dataset name that is neither
    (CIFAR-10 is not built in: the chat asks for its folder)."""
    for m in re.finditer(rf"(?:\b(?:on|in|at|from|under|using|with|folder|dir|directory|data)\s*:?\s+(?:the\s+|my\s+)?"
                         rf"(?:folder\s+|images?\s+(?:in|at|under)\s+|pictures?\s+(?:in|at|under)\s+)?)({PATH_TOKEN})",
                         text, re.I):
        raw = m.group(1).strip("\"'`").rstrip(".?!,")
        if "/" in raw or raw.startswith("~"):
            return Named(raw, raw)
    m = re.search(r"(?<![\w/])((?:~|\.{1,2})?/[^\s,;\"'`]+|\"[^\"]*/[^\"]*\"|'[^']*/[^']*')", text)
    if m:
        raw = m.group(1).strip("\"'").rstrip(".?!,")
        return Named(raw, raw)
    low = text.lower()
    for d in BUILTIN_DATA:
        if re.search(rf"\b{d}\b", low):
            return Named(d, d)
    for d in OTHER_DATASETS:
        if d in squash(low):
            return Named(d)
    for m in re.finditer(r"\b(?:on|in|from|using|with)\s+(?:the\s+|my\s+)?([a-z]{4,})\b", low):
        close = difflib.get_close_matches(m.group(1), BUILTIN_DATA, n=1, cutoff=0.8)  # "digts": a typo, as for methods
        if close:
            return Named(m.group(1), close[0])
    return None


def find_paths(text: str) -> list[tuple[str, str]]:
    """Every path in the message, in order, each with the word before it ("from", "on", "using"...): for
    messages that name several (checkpoints to audit and the images to audit them on)."""
    out = []
    for m in re.finditer(rf"(?:\b(\w+)\s+)?({PATH_TOKEN})", text):
        raw = m.group(2).strip("\"'`").rstrip(".?!,")
        if "/" in raw or raw.startswith("~") or re.search(r"\.(ckpt|pth?|safetensors|csv|wandb|db)$", raw):
            out.append(((m.group(1) or "").lower(), raw))
    return out


def resolve_path(raw: str, cwd: Path | None = None) -> Path | None:
    p = Path(raw).expanduser()
    if not p.is_absolute():
        p = (cwd or Path.cwd()) / p
    return p if p.exists() else None


NOT_THIS_ONE = re.compile(r"[,;]?\s*(?:(?:but|and)\s+)?(?:not|rather\s+than|instead\s+of)\s+(?:(?:on|with|using|in)\s+)?"
                          r"(?:the\s+)?(?P<what>[\w-]+)(?:\s+(?:data(?:set)?|one|method))?\b(?=\s*(?:[,;.!?]|$))", re.I)
"""A dataset or method named only to be ruled out ("..., not on shapes", "... rather than simclr"), at the end of a
clause."""


def without_ruled_out(text: str) -> str:
    """The message without a dataset or method it rules out: "on digits, not on shapes" names digits alone, and
    "pretrain simclr, not on shapes" no data (asked about; it trained on shapes). In a question ("is run 1 not on
    shapes?") the words stay unless the rest names another of the kind."""
    asked = bool(ADVICE.search(text) or text.rstrip().endswith("?"))
    for m in reversed(list(NOT_THIS_ONE.finditer(text))):
        rest = text[:m.start()] + text[m.end():]
        what = m.group("what")
        if what.lower() in BUILTIN_DATA and (find_data(rest) or not asked) or (find_method(what) or Named("")).value \
                and ((find_method(without_paths(rest)) or Named("")).value or not asked):
            text = rest
    return text


RULED_OUT_FIRST = re.compile(
    r"^\W*(?:(?:no|ok|okay|hmm+|actually|wait)\W+)?(?:(?:don'?t|do\s+not|let'?s\s+not|let\s+us\s+not|better\s+not|"
    r"i'?d\s+rather\s+not|i\s+(?:don'?t|do\s+not)\s+want\s+to)\s+(?:use|train(?:\s+on)?|pretrain(?:\s+on)?|run|try|go\s+with|"
    r"do)\s+(?:it\s+)?(?:on\s+|with\s+)?(?:the\s+)?(?P<what>[\w-]+)(?:\s+(?:data(?:set)?|method))?|(?P<that>scratch\s+that|"
    r"forget\s+(?:that|it)))\s*[,;.:\u2014-]\s*(?:(?:but|and)\s+)?(?:just\s+|instead\s+)?(?P<rest>\S.*)$", re.I | re.S)
"""A dataset or method ruled out, or the request taken back, before what is wanted instead ("don't use shapes, use
digits", "let's not use simclr, use byol", "scratch that, use byol")."""


def without_ruled_out_first(text: str) -> str:
    """The request after a dataset or method ruled out first, when it names another of that kind ("don't use shapes,
    use digits" is "use digits"; it swept both), or after "scratch that" when it names a method or dataset ("scratch
    that, use byol" swaps the method; it searched the literature). Left as written otherwise."""
    m = RULED_OUT_FIRST.match(text)
    if not m:
        return text
    rest = m.group("rest")
    method, data = (find_method(without_paths(rest)) or Named("")).value, find_data(rest)
    if m.group("that"):
        return rest if method or data else text
    what = m.group("what").lower()
    if what in BUILTIN_DATA and data or (find_method(what) or Named("")).value and method:
        return rest
    return text


CORRECTED = re.compile(r"\s*[,;\u2014-]?\s*\b(?:actually|no\s*,?\s*wait|wait\s*,?\s*no|no(?=\s*,)|sorry|i\s+meant?|or\s+rather|"
                       r"make\s+(?:that|it)|correction|oops)\b\s*[,:]?\s*(?P<new>\d{1,3}(?:,\d{3})+|\d*\.?\d+(?:e-?\d+)?k?|"
                       r"[a-z][\w-]*)(?=\s*(?:[,;.!?]|$)|\s+(?:for|on|with|and|at|please)\b)", re.I)
"""A value corrected as it is said ("for 20 steps, actually 30", "lr 1e-3, no wait, 3e-4", "on shapes, I mean
digits", "vicreg, or rather byol"): a number, method or dataset, ending its clause."""
_A_NUMBER = re.compile(r"(?<![\w.])(?:\d{1,3}(?:,\d{3})+|\d*\.?\d+(?:e-?\d+)?k?)(?![\w.]|\.\d)", re.I)


def self_corrected(text: str) -> str:
    """The message with each value corrected as it is said put in place of the value it corrects, the one of its
    kind said last before it: "for 20 steps, actually 30" is "for 30 steps". Left as written where nothing of the
    kind comes before ("actually, 30 steps") or the word is no number, method or dataset ("what actually happened")."""
    for m in reversed(list(CORRECTED.finditer(text))):
        new, before = m.group("new"), text[:m.start()]
        if new[0].isdigit() or new[0] == ".":
            spans = [(x.start(), x.end()) for x in _A_NUMBER.finditer(before)]
        elif new.lower() in BUILTIN_DATA:
            spans = [(x.start(), x.end()) for x in re.finditer(rf"\b(?:{'|'.join(BUILTIN_DATA)})\b", before, re.I)]
        elif (find_method(new) or Named("")).value:
            spans = sorted(x.span() for n in find_methods(before) if n.value
                           for x in re.finditer(rf"\b{re.escape(n.raw)}\b", before, re.I))
        else:
            continue
        if spans:
            a, b = spans[-1]
            text = before[:a] + new + before[b:] + text[m.end():]
    return text


DECLINED_FIRST = re.compile(r"^\W*(?:(?:please|ok|okay|no)\W+)?(?P<declined>(?:don'?t|do\s+not|no\s+need\s+to|never\s*mind|"
                            r"i\s+(?:don'?t|do\s+not)\s+(?:want|need)(?:\s+you)?\s+to)\s+[^,;.]{1,60}?)\s*[,;.]?\s+"
                            r"(?:just|only|instead|rather)\b[\s,]*(?P<rest>\S.*)$"
                            r"|^\W*not\s+run\s*#?\d+\s*[,;.]\s*(?P<other>\S.*)$", re.I | re.S)
"""A request made after what is not wanted ("don't cancel run 3, just tell me how it's doing", "no need to probe,
just show me run 1", "not run 2, diagnose run 1")."""


def without_declined(text: str) -> str:
    """The request of a message that first says what it does not want: "no need to probe, just show me run 1" is
    "show me run 1" (it probed). A run named in the declined part is what "it" means after it ("I don't want to delete
    run 2, just tag it as bad" tags run 2; it was refused as a deletion)."""
    m = DECLINED_FIRST.match(text)
    if not m:
        return text
    if m.group("other"):
        return m.group("other")
    named = re.search(r"\brun\s*#?\d+\b", m.group("declined"), re.I)
    return re.sub(r"\bit\b", named.group(0), m.group("rest"), count=1, flags=re.I) if named else m.group("rest")


# ---- numbers with units --------------------------------------------------------------------------------

def parse_count(raw: str) -> int:
    raw = raw.replace(",", "").lower()
    mult = 1000 if raw.endswith("k") else 1_000_000 if raw.endswith("m") else 1
    return int(float(raw.rstrip("km")) * mult)


_SPELLED = "|".join([*sorted(WORD_NUMBERS, key=len, reverse=True), "thirty", "forty", "fifty", "sixty", "seventy",
                     "eighty", "ninety", "hundred", "thousand"])
_SPELLED_RUN = rf"(?:{_SPELLED})(?:(?:\s+and\s+|[\s-]+)(?:{_SPELLED}))*"
SPELLED_COUNT = re.compile(
    rf"\b(?:an?\s+(?=hundred|thousand))?{_SPELLED_RUN}\b(?=\s+(?:{MORE}\s+)?(?:training\s+|warm-?up\s+)?(?:steps?|epochs?|"
    r"iterations?|iters?|images?|samples?|checkpoints?|(?:local\s+)?crops?|gpus?|minutes?|mins?|hours?)\b)"
    rf"|(?<=\bbatch\s)(?:size\s+)?(?:of\s+)?{_SPELLED_RUN}\b|(?<=\bbatch\ssize\s)(?:of\s+)?{_SPELLED_RUN}\b", re.I)
"""A count spelled out before what it counts ("twenty steps", "a hundred epochs", "two thousand images", "fifteen
minutes") or after "batch" ("batch size sixty-four"): written in digits before any extractor reads it, so that none
drops it. "Run one", "two runs" and "one more thing" count no unit and stay words."""


def counts_in_digits(text: str) -> str:
    """The message with each SPELLED_COUNT in digits (text2num reads the words; a lone word it leaves, as English
    "one" is often no number, is read from WORD_NUMBERS), and a decimal written without its zero (".005") with it."""
    def digits(m: re.Match) -> str:
        said = m.group(0)
        lead = re.match(r"(?:size\s+)?(?:of\s+)?", said, re.I).group(0)  # "batch size of sixty-four"
        words = re.sub(r"^an?\s+", "one ", said[len(lead):], flags=re.I)
        number = WORD_NUMBERS.get(words.lower()) if words.lower() in WORD_NUMBERS else alpha2digit(words, "en")
        return f"{lead}{number}" if re.fullmatch(r"\d+", str(number).strip()) else said

    return powers_in_e(re.sub(r"(?<![\w.])\.(\d)", r"0.\1", SPELLED_COUNT.sub(digits, text)))


SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
POWER_OF_TEN = re.compile(r"(?<![\w.])(?:(?P<mantissa>\d+(?:\.\d+)?)\s*(?:x|\u00d7|\*|\u22c5|\u00b7)\s*)?10\s*"
                          r"(?:\^|\*\*)\s*\(?(?P<power>[-+\u2212]?\s*\d{1,2})\)?(?![\w.])"
                          r"|(?<![\w.])(?:(?P<mantissa2>\d+(?:\.\d+)?)\s*(?:x|\u00d7|\*|\u22c5|\u00b7)\s*)?10"
                          r"(?P<power2>[\u207b\u207a]?[\u2070\u00b9\u00b2\u00b3\u2074-\u2079]{1,2})", re.I)
"""A number in a power of ten ("3 x 10^-4", "3×10⁻⁴", "10**-3", "10^4 steps"): written "3e-4" (or "10000") before
any extractor reads it."""


def powers_in_e(text: str) -> str:
    """The message with each POWER_OF_TEN written in e-notation, which every value extractor reads."""
    def e(m: re.Match) -> str:
        mantissa = m.group("mantissa") or m.group("mantissa2") or "1"
        power = (m.group("power") or m.group("power2")).translate(SUPERSCRIPTS).replace("\u2212", "-").replace(" ", "")
        value = float(mantissa) * 10 ** int(power) if int(power) >= 0 else None
        return f"{value:.0f}" if value is not None and value.is_integer() else f"{mantissa}e{int(power)}"

    return POWER_OF_TEN.sub(e, text)


WARMUP_LENGTH = re.compile(r"\bwarm[ _-]?up\s*(?:of|for|:|=)?\s*(\d[\d,]*k?)\s*steps?\b|\b(\d[\d,]*k?)\s*[- ]?(?:warm[ _-]?up\s+"
                           r"steps?|steps?\s+(?:of\s+)?(?:lr\s+)?warm[ _-]?up)\b")
"""A warm-up's length in steps ("a 20-step warmup", "warmup of 30 steps", "10 warmup steps"): optim.warmup_steps,
never the run's length."""

EPOCH_COUNT = r"\d+(?:\.\d+)?|an?|one"
WARMUP_EPOCHS = re.compile(rf"\bwarm[ _-]?up\s*(?:of|for|:|=|over|lasting)?\s*(?:the\s+first\s+)?(?P<e1>{EPOCH_COUNT})\s*"
                           rf"epochs?\b|\b(?P<e2>{EPOCH_COUNT})\s*[- ]?epochs?\s+(?:of\s+)?(?:lr\s+|linear\s+)?"
                           rf"warm[ _-]?up\b|\b(?P<e3>{EPOCH_COUNT})[- ]epoch\s+(?:lr\s+|linear\s+)?warm[ _-]?up\b|"
                           rf"\b(?P<e4>{EPOCH_COUNT})\s+(?:lr\s+|linear\s+)?warm[ _-]?up\s+epochs?\b|"
                           r"\bwarm[ _-]?up[ _-]epochs?\s*(?:of|:|=|to|at)?\s*(?P<e5>\d+(?:\.\d+)?)\b")
"""A warm-up said in epochs ("warmup 10 epochs", "a 10 epoch warmup", "5 epochs of warmup", "5 warmup epochs",
"warmup epochs 5"): `optim.warmup_epochs`
(`epochs_said`), which the run turns into steps; its count is never the run's length nor a number of steps."""

WARMUP_SHARE = re.compile(rf"\b(?P<a>\d+(?:\.\d+)?)\s*{PERCENT_SIGN}\s*(?:lr\s+|linear\s+)?warm[ _-]?up\b|\bwarm[ _-]?up\s*"
                          rf"(?:of|for|over|:|=)?\s*(?:the\s+first\s+)?(?P<b>\d+(?:\.\d+)?)\s*{PERCENT_SIGN}"
                          r"(?:\s+of\s+(?:the\s+)?(?:run|training|steps|schedule))?")
"""A warm-up as a share of the run ("a 5% warmup", "warmup over the first 10% of training"): its steps or epochs
where the message gives the run's length (find_knobs), else asked."""

FREEZE_LAST_LAYER = re.compile(
    r"\b(?:(?:freez\w*|lock\w*)\s+(?:the\s+|its\s+)?(?:last|output|final|prototypes?)(?:\s+layer)?|frozen\s+(?:last|"
    r"output|final|prototype)\s+layer|(?:the\s+|its\s+)?"
    r"(?:last|output|final|prototype)\s+layer\s+(?:frozen|locked))(?:\s+(?:for|during)\s+(?:the\s+)?(?:first\s+)?"
    r"(?:(?P<steps>\d[\d,]*k?)\s*steps?|(?P<in_epochs>(?P<epochs>\d+(?:\.\d+)?|an?|one)?\s*epochs?))\b)?")
"""DINO's frozen last layer ("freeze the last layer for the first 100 steps", "... for the first epoch"):
method_args.freeze_last_layer_steps or `_epochs` (`epochs_said`), never the run's length; without a length it is
asked about."""


def epochs_said(m: re.Match) -> float | None:
    """The epochs a warm-up or a frozen layer lasts, from its match (WARMUP_EPOCHS, FREEZE_LAST_LAYER,
    TEACHER_TEMP_WARMUP): "10" -> 10, "a"/"one" or "the first epoch" -> 1; None where it was not said in epochs."""
    groups = m.groupdict()
    if "in_epochs" in groups and not groups["in_epochs"]:
        return None
    count = next((groups[g] for g in ("epochs", "e1", "e2", "e3", "e4", "e5") if groups.get(g)), None)
    return float(count) if count and count[0].isdigit() else 1.0


GPU_INDEX = re.compile(r"\bgpu\s*#?\s*(\d+)\b|\bcuda:(\d+)\b", re.I)
"""One GPU named by its index ("gpu 1", "GPU #2", "cuda:1"): a launch's device, or the GPU a question asks about."""


ON_A_GPU = re.compile(r"\b(?:on|use|using|with|onto|via)\s+(?:the\s+|a\s+|my\s+|one\s+|single\s+)*(?:gpu|cuda)\b"
                      r"(?!\s*(?:memory|hours?|time|usage|util\w*|#?\d))", re.I)
"""A launch put on a GPU without its index ("train it on the gpu", "use cuda")."""
OFF_THE_GPU = re.compile(r"\b(?:don'?t|do\s+not|never|not|no|without)\s+(?:use\s+|using\s+|(?:run\s+(?:it\s+)?)?on\s+)?"
                         r"(?:the\s+|a\s+|any\s+|my\s+)?(?:gpus?|cuda)\b(?!\s*(?:memory|hours?|time|usage|#?\d))", re.I)
"""A launch kept off the GPU ("but don't use the gpu", "not on the gpu", "without cuda"): the CPU."""
ASKED_OF_IT = re.compile(r"^\W*(?:will|would|can|could|does|is|are|did|should)\s+(?:it|this|that|they|the\s+\w+)\b")
"""A question about a launch ("will it run on the gpu?"), not a change to it."""


def gpu_index(m: re.Match) -> int:
    return int(m.group(1) or m.group(2))


def find_numbers(text: str) -> dict:
    """epochs, steps ("2k steps", "10k"), batch_size ("batch 64", "bs 32"), lr ("lr 3e-4"), device, GPUs."""
    out: dict = {}
    low = re.sub(rf"\b(\d[\d,]*(?:\.\d+)?k?)\s+{MORE}\s+(?=(?:training\s+)?(?:epochs?|steps?|iterations?|iters?)\b)",
                 r"\1 ", text.lower())  # "100 more steps" counts steps
    low = re.sub(r"\b(?:every|each)\s+\d[\d,]*k?\s*(?:steps?|epochs?|iterations?|iters?)\b", " ", low)  # an interval
    low = WARMUP_LENGTH.sub(" warmup ", low)  # the warm-up's length, not the run's
    low = WARMUP_EPOCHS.sub(" warmup ", low)
    low = FREEZE_LAST_LAYER.sub(" ", low)  # nor the frozen last layer's
    low = TEACHER_TEMP_WARMUP.sub(" ", low)  # nor the teacher temperature's warm-up
    m = re.search(r"(?<![\d.])(\d+)\s*epochs?\b", low) or re.search(r"epochs?\s*[:=]?\s*(?:of|to)?\s*(\d+)\b(?!\.\d)", low)
    if m:
        out["epochs"] = int(m.group(1))
    m = re.search(r"((?<![\w.])-(?=\d))?(\d[\d,]*(?:\.\d+)?k?)\s*(?:training\s+|optimi[sz]er\s+)?(?:steps?|iterations?|iters?)\b", low) \
        or re.search(r"(?:steps?|iterations?)\s*[:=]?\s*(?:of|to)?\s*(\d[\d,]*k?)\b", low)
    if m:  # "-5 steps" keeps its sign, for the launch to refuse (it trained 5)
        out["steps"] = parse_count(m.group(m.lastindex)) * (-1 if m.lastindex == 2 and m.group(1) else 1)
    m = (re.search(r"\b(?:batch(?:[ _-]?size)?|bs)\s*[:=]?\s*(?:(?:set|fixed|kept)\s+)?(?:of|to|at)?\s*(\d+)", low)
         or re.search(r"(\d+)\s*(?:images\s+)?(?:per batch|batch(?:[ _-]?size)?\b)", low))
    if m:
        out["batch_size"] = int(m.group(1))
    m = re.search(rf"(?:\blr\b|learning[ _-]rate)\s*[:=]?\s*(?:(?:set|fixed|kept)\s+)?(?:of|to|at)?\s*({NUMBER})", low) or \
        re.search(rf"(?<![\w.-])({NUMBER})\s+(?:peak\s+|base\s+)?(?:lr|learning[ _-]rate)\b(?!\s*(?:schedul|decay|warm))", low)
    if m:  # "lr 3e-4"; value first, "a 2e-3 lr"
        out["lr"] = float(m.group(1))
    gpus = re.search(r"\b(\d+)\s*gpus\b|\b(\d+)\s*x\s*gpu", low)
    m = GPU_INDEX.search(low)
    if m and not gpus:
        out["device"] = f"cuda:{gpu_index(m)}"
    elif re.search(r"\bcpu\b(?!\s*(?:workers?|cores?|threads?|count))", low) or OFF_THE_GPU.search(low):
        out["device"] = "cpu"
    elif ON_A_GPU.search(low) and not gpus and not ASKED_OF_IT.match(low):  # "on the gpu", "use cuda": one GPU,
        # whichever the queue finds free ("will it run on the gpu?" asks)
        out["device"] = "cuda"
    if gpus:
        out.setdefault("overrides", {})["train.num_gpus"] = int(gpus.group(1) or gpus.group(2))
    return out


def find_duration(text: str) -> float | None:
    """Minutes of training the message gives a run, or None."""
    m = re.search(DURATION, text, re.I)
    if not m:
        return None
    amount, unit = next((m.group(i), m.group(i + 1)) for i in range(1, m.re.groups, 2) if m.group(i))
    amount = amount.lower().removeprefix("another").strip()  # "for another hour", "for another 2 hours"
    n = 0.5 if amount.startswith("half") else 1.0 if amount in ("", "a", "an", "one") else float(amount)
    return n * 60 if unit.lower().startswith("h") else n


OTHER_BACKBONES = r"efficientnet[\w-]*|convnext[\w-]*|swin[\w-]*|regnet[\w-]*|mobilenet[\w-]*|densenet[\w-]*|" \
                  r"deit[\w-]*|wide[ _-]?resnet[\w-]*|resnet[ _-]?(?:34|101|152)|vit[ _-]?(?:base|large|huge|b|l|h)\b[\w/-]*|" \
                  r"(?:a\s+)?transformer(?![ _-]?(?:layers?|blocks?|heads?)\b)(?:\s+backbone)?"  # a text model's layers
"""Architectures people ask for that sslpilot does not build: named, they get a question, never a substitute."""


def _spelling(name: str) -> str:
    """How people write a backbone's name: resnet18 as resnet-18, resnet 18 or ResNet18; vit_small as ViT-small."""
    return re.sub(r"(?<=[a-z])(?=\d)|_", "[ _-]?", name)


def _backbone_named(low: str) -> str | None:
    """The first backbone sslpilot builds that the (lower-case) message names, by any spelling."""
    return next((n for n in BACKBONES if re.search(rf"\b{_spelling(n)}\b", low)), None)


PATCH_SIDE = re.compile(r"\bpatch(?:[ _-]?size)?\s*(?:of|:|=|to)?\s*(\d{1,2})(?:\s*(?:px|pixels?))?\b(?!\s*[x×%.])|"
                        r"\b(\d{1,2})\s*(?:[x×]\s*\d{1,2}\s*)?(?:-?\s*(?:px|pixels?)\s*|-)?patch(?:es)?\b|"
                        r"\bpatch(?:es)?\s+of\s+(\d{1,2})\s*(?:px|pixels?)\b")
"""A ViT's patch side ("patch size 4", "4x4 patches", "16px patches", "patches of 8 pixels"): backbone.patch_size,
never the images' size."""


def find_architecture(text: str) -> dict:
    """The backbone (by any spelling of a name sslpilot builds), its width ("half-width", "width 0.5"), a ViT's patch
    side (PATCH_SIDE), its input size in pixels ("64px", "96 pixels", "128x128 images"), the optimiser and the learning-rate schedule, as config
    keys. Every name comes from the catalogue."""
    low, out = text.lower(), {}
    patch = PATCH_SIDE.search(low)
    if patch:
        out["backbone.patch_size"] = int(next(g for g in patch.groups() if g))
        low = PATCH_SIDE.sub(" ", low)
    backbone = _backbone_named(low)
    if backbone:
        out["backbone.name"] = backbone
    m = re.search(rf"(?<!decoder )(?<!decoder_)\bwidth(?:[ _-]multiplier)?\s*[:=]?\s*(?:of|to)?\s*({NUMBER})", low)
    if m or re.search(r"\bhalf[ -]width\b", low):
        out["backbone.width"] = float(m.group(1)) if m else 0.5
    m = re.search(r"\b(\d{2,4})\s*(?:px|pixels?)\b", low) or re.search(r"\b(\d{2,4})\s*[x×]\s*(\d{2,4})\b", low)
    crop = m and (re.search(r"\bcrops?\b(?:\s+\w+){0,2}\s*$", low[:m.start()])  # "local crops of 48px", "48px local
                  or re.match(r"[ -]*(?:local[ _-]|global[ _-])?crops?\b", low[m.end():]))  # crops": a crop's size
    if m and not crop and (m.lastindex == 1 or m.group(1) == m.group(2)):
        out["data.image_size"] = int(m.group(1))
    for name in OPTIMIZERS:
        if re.search(rf"\b{name}\b", low):
            out["optim.name"] = name
            break
    for name in SCHEDULES:
        m = re.search(rf"\b{name}\s+(?:learning[ _-]rate|lr|schedule|decay)\b|\b{name}\s+(?:lr\s+)?schedul", low)
        if m:
            others = [s for s in SCHEDULES if s != name]  # "don't use a cosine schedule": the other one
            ruled_out = RULED_OUT_BEFORE.search(low[:m.start()]) and len(others) == 1
            out["optim.schedule"] = others[0] if ruled_out else name
            break
    if "optim.schedule" not in out and NO_SCHEDULE.search(low):  # "with no lr schedule": the rate held constant
        out["optim.schedule"] = "constant"
    return out


RULED_OUT_BEFORE = re.compile(r"\b(?:no|not|without|don'?t\s+(?:use|want)|do\s+not\s+(?:use|want)|instead\s+of|rather\s+than)"
                              r"\s+(?:an?\s+|the\s+)?$")
"""Words that rule out what follows them ("don't use a cosine schedule", "constant instead of cosine")."""
NO_SCHEDULE = re.compile(r"\b(?:no|without(?:\s+an?)?|don'?t\s+(?:use\s+an?|decay\s+the))\s+(?:learning[ _-]rate\s+|lr\s+)?"
                         r"(?:schedul(?:e|ing)|decay)\b", re.I)
"""The rate held where it is ("no lr schedule", "without lr decay"): the constant schedule (SCHEDULES' other)."""
MILD_AUGMENTATION = re.compile(r"\b(?:weak|light|mild|soft|gentle|less)(?:er)?\s+(?:data\s+)?augmentations?\b", re.I)
"""Augmentation asked for as weaker without a strength: how much weaker is the user's to say."""


def other_backbone(text: str) -> str | None:
    """An architecture the message asks for that sslpilot does not build (EfficientNet, ViT-B, "a transformer")."""
    low = text.lower()
    if _backbone_named(low):
        return None
    m = re.search(rf"\b(?:{OTHER_BACKBONES})", low)
    return m.group(0).strip() if m else None


ASSIGNMENT = re.compile(r"(?<![\w./-])([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)*)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s,;`)?!]+)", re.I)
CRON = re.compile(r"(?:\bcron\b\s*(?:expression|schedule|string)?\s*[:=]?\s*[`'\"]?|`)"
                  r"((?:[\d*/,-]+\s+){4}[\d*/,a-z-]+)[`'\"]?", re.I)


BARE_CRON = re.compile(r"(?<![\w.*/,-])((?:[\d*/,-]+\s+){4}[\d*/,-]+)(?![\w.*/,-])")
"""Five cron fields written without the word "cron" ("at 0 3 * * *"): one, where a field is a "*"."""


def parse_value(raw: str):
    """A value as written: true/false, a number, or the text (quotes dropped)."""
    raw = raw.strip().strip("'\"").removesuffix(".")  # "with k=50." ends a sentence, not the value
    low = raw.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if low in ("null", "none"):
        return None
    try:
        return int(raw)
    except ValueError:
        try:
            return float(raw)
        except ValueError:
            return raw


def find_assignments(text: str) -> dict:
    """Explicit `key=value` settings ("set method_args.predictor=false", "feature_norm=standardize"), keys as written."""
    return {m.group(1).lower(): parse_value(m.group(2)) for m in ASSIGNMENT.finditer(without_paths(text))}


def find_cron(text: str) -> str | None:
    """A cron expression the user wrote out ("cron 0 3 * * 1", "`30 1 * * *`"): five fields, kept as written."""
    m = CRON.search(text) or next((b for b in BARE_CRON.finditer(text) if "*" in b.group(1)), None)
    return " ".join(m.group(1).split()) if m else None


def find_limit(text: str) -> int | None:
    """How many runs a listing asks for: "the last 20 runs", "3 most recent", "top 5", "the two best", "which 3 runs",
    "the 3 slowest", "limit 15"."""
    low = text.lower()
    count = rf"(\d{{1,3}}|{'|'.join(WORD_NUMBERS)})"
    m = (re.search(rf"\b(?:last|latest|newest|recent|top|first|best)\s+{count}\b", low)
         or re.search(rf"\b{count}\s+(?:most\s+recent|latest|newest|last|best|top|highest|strongest|leading|fastest|"
                      r"slowest|quickest|longest|shortest)\b", low)
         or re.search(rf"\bwhich\s+{count}\s+runs\b", low)
         or re.search(r"\blimit\s*[:=]?\s*(\d{1,3})\b", low))
    return (int(m.group(1)) if m.group(1).isdigit() else WORD_NUMBERS[m.group(1)]) if m else None


def without_paths(text: str) -> str:
    """The message with its paths blanked: a folder called vicreg_logs says nothing about the method."""
    return re.sub(r"(?:~|\.{1,2})?/[^\s,;`'\"]+|[A-Za-z0-9_.-]+/[^\s,;`'\"]*", " ", text)


def find_import_format(text: str) -> str | None:
    """The log format the user names for an import: "format is tensorboard", "--format csv", "mlflow logs"."""
    m = re.search(r"\b(?:format|--format)\s*(?:is|=|:)?\s*(tensorboard|mlflow|csv|wandb|sslpilot)\b|"
                  r"\b(tensorboard|mlflow|csv|wandb)\s+(?:format|logs?|events?|files?|folders?|runs?)\b", text.lower())
    return (m.group(1) or m.group(2)) if m else None


def find_nodes(text: str) -> int | None:
    m = re.search(r"\b(\d+)\s*nodes?\b", text.lower())
    return int(m.group(1)) if m else None


def find_embedding_dim(text: str) -> int | None:
    """The projection width a logged z-std was measured on: "projector output dim 2048", "embedding dim 512"."""
    m = re.search(r"\b(?:proj(?:ector|ection)?|embedding|output|z)(?:[ _-](?:output|out))?[ _-]?dim(?:ension)?s?"
                  r"\s*(?:is|of|=|:)?\s*(\d{1,7})\b", text.lower())
    return int(m.group(1)) if m else None


def find_time(text: str, now: datetime | None = None) -> dict:
    """'at 2am', 'tonight at 23:00', 'tomorrow at 9', 'in 2 hours', 'every night at 2' -> {"at"} or {"cron"}."""
    now = now or datetime.now()
    low = text.lower()
    m = re.search(r"\b(\d{4}-\d{2}-\d{2})[t ](\d{2}:\d{2})", low)
    if m:
        return {"at": f"{m.group(1)}T{m.group(2)}"}
    m = re.search(r"\bin\s+(\d+|an?|one)\s*(minutes?|mins?|hours?|h)\b", low)
    if m:
        n = 1 if m.group(1) in ("a", "an", "one") else int(m.group(1))
        delta = timedelta(hours=n) if m.group(2).startswith("h") else timedelta(minutes=n)
        return {"at": (now + delta).replace(second=0, microsecond=0).isoformat(timespec="minutes")}
    hm = re.search(rf"{AT_HOUR}\s*(am|pm)?|\b(\d{{1,2}})(?::(\d{{2}}))?\s*(am|pm)\b", low)
    hour = minute = None
    if hm:
        g = hm.groups()
        hour, minute, half = (int(g[0]), int(g[1] or 0), g[2]) if g[0] else (int(g[3]), int(g[4] or 0), g[5])
        evening = re.search(r"\bevening\b", low) or (re.search(r"\b(tonight|night|nightly)\b", low) and hour >= 6)
        if hour < 12 and (half == "pm" or (half is None and hour >= 1 and evening)):
            hour += 12  # "every evening at 7" is 19:00, "every night at 3" stays 03:00
        if half == "am" and hour == 12:
            hour = 0
    if hour is None and re.search(r"\b(midnight|noon|midday)\b", low):
        hour = 0 if "midnight" in low else 12
    every_hours = EVERY_HOURS.search(low)
    if every_hours:  # "every 6 hours", "hourly"
        n = every_hours.group(1)
        return {"cron": f"0 */{int(n)} * * *" if n and int(n) > 1 else "0 * * * *"}
    days = _recurring_days(low)
    daily = DAILY.search(low)
    if days is not None or daily:
        if days is not None and hour is None and not daily:
            return {}  # "every wednesday": at what time is the user's to say
        return {"cron": f"{minute or 0} {hour if hour is not None else 2} * * {days or '*'}"}
    if WEEKLY.search(low):
        return {}  # "weekly": which day and time are the user's to say
    day = ONE_DAY.search(low)
    if hour is not None or day or re.search(r"\b(tonight|tomorrow)\b", low):
        if hour is None:
            hour = 23 if "tonight" in low else 9
        when = now.replace(hour=hour % 24, minute=minute or 0, second=0, microsecond=0)
        if day:  # "this friday at 8pm", "on monday at 3am": the next such day (today if still ahead)
            when += timedelta(days=(DAY_NAMES.index(day.group(1)[:3]) - when.weekday()) % 7)
            if when <= now:
                when += timedelta(days=7)
        elif "tomorrow" in low or when <= now:
            when += timedelta(days=1)
        return {"at": when.isoformat(timespec="minutes")}
    return {}


def asks_to_recur(text: str) -> bool:
    """Whether the message asks for a repeating launch ("every wednesday", "weekly", "every 6 hours", "nightly"),
    with or without its time: a schedule, never a launch now with the repetition dropped."""
    low = text.lower()
    return bool(EVERY_HOURS.search(low) or WEEKLY.search(low) or _recurring_days(low) is not None or DAILY.search(low))


DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # datetime.weekday() order
DAY = r"(mon|tues|wednes|thurs|fri|satur|sun)(?:day)?"
DAILY = re.compile(r"\b(every|each)\s+(night|day|morning|evening)|\bnightly\b|\bdaily\b")
EVERY_HOURS = re.compile(r"\b(?:every|each)\s+(\d+)?\s*(?:hours?|hrs?|h)\b|\bhourly\b")
WEEKLY = re.compile(r"\bweekly\b|\b(?:every|each|once\s+a)\s+week\b")
ONE_DAY = re.compile(rf"\b(?:this|next|on|coming)\s+{DAY}\b(?!s)")
"""One day named for a one-off start ("this friday at 8pm", "on monday at 3am"); "on mondays" recurs."""


def _recurring_days(low: str) -> str | None:
    """The cron day-of-week field a message asks to repeat on: "every monday", "on mondays and thursdays",
    "weekdays", "every weekend", "saturday and sunday" after "every"; None when it names no recurring days."""
    if re.search(r"\b(?:every|each)\s+week\s?day\b|\bweek\s?days\b|\bmonday\s+(?:to|through|-)\s+friday\b", low):
        return "1-5"
    if re.search(r"\b(?:every|each)\s+weekend\b|\bweekends\b", low):  # "over the weekend" is a length, not a day
        return "0,6"
    m = re.search(rf"\b(?:every|each)\s+((?:{DAY}(?:\s*(?:,|and|&)\s*)?)+)|\b(?:on\s+)?((?:{DAY}s(?:\s*(?:,|and|&)\s*)?)+)",
                  low)
    if not m:
        return None
    named = re.findall(DAY, m.group(1) or m.group(3))
    cron = sorted({(DAY_NAMES.index(d[:3]) + 1) % 7 for d in named})  # cron: 0 = sunday
    return ",".join(map(str, cron))
