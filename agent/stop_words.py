"""A stop that waits for something, read from words ("stop run 3 when the loss drops below 0.5", "kill it once it
collapses", "stop run 3 after 500 more steps", "... after 10 more epochs", "stop it when the loss stops falling",
"... if the loss hasn't improved for 500 steps"): the arguments of the stop_run_when tool,
or None when the words give no condition that tool can hold (then the chat asks; it never turns a conditional stop
into a stop now)."""

from __future__ import annotations

import re

from agent.slots import MORE, PERCENT_SIGN, WORD_NUMBERS, parse_count
from tools.metric_words import metric_key

_NUM = r"[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:e-?\d+)?"
_COUNT = r"\d[\d,]*(?:\.\d+)?k?|" + "|".join(WORD_NUMBERS)
_WHEN = r"\b(?:when(?:ever)?|once|if|as\s+soon\s+as|after|the\s+moment|until|till)\s+"
_DIRECTIONS = (
    (r"<=?|drops?\s+(?:below|under|beneath)|falls?\s+(?:below|under|beneath)|(?:goes|gets|is|comes|dips?|sinks?|"
     r"stays?)\s+(?:down\s+)?(?:below|under|beneath)|below|under|beneath|(?:is\s+)?(?:less|lower|smaller)\s+than", "below"),
    (r">=?|(?:rises?|climbs?|goes|gets|is|jumps?|grows?)\s+(?:up\s+)?(?:above|over|past|beyond)|exceeds?|passe?s?|cross(?:es)?|tops?|above|over|"
     r"(?:is\s+)?(?:greater|higher|larger|more|bigger)\s+than", "above"),
    (r"reach(?:es)?|hits?|(?:drops?|falls?|rises?|climbs?|gets|goes|comes)\s+(?:down\s+|up\s+)?to|=|equals?", "reaches"),
)
_METRIC = r"(?P<metric>[a-z][a-z0-9_/@.-]*(?:\s+[a-z][a-z0-9_/@.-]*){0,2}?)"
_OWNER = r"(?:the\s+|its\s+|it'?s\s+|run\s*#?\d+'?s\s+|(?:the\s+)?(?:run'?s|model'?s)\s+)?"
METRIC_BAR = re.compile(rf"{_WHEN}{_OWNER}{_METRIC}\s*(?P<dir>{'|'.join(d for d, _ in _DIRECTIONS)})\s*(?P<value>{_NUM})"
                        rf"(?![\w.])(?:\s*(?P<pct>{PERCENT_SIGN}))?", re.I)
METRIC_AFTER_BAR = re.compile(
    rf"{_WHEN}(?:it|the\s+run|run\s*#?\d+)\s+(?:scores?|lands?|ends?\s+up|does)?\s*(?P<dir>{'|'.join(d for d, _ in _DIRECTIONS)})"
    rf"\s*(?P<value>{_NUM})\s*(?P<pct>{PERCENT_SIGN})?\s+(?:on|in|for|at)\s+(?:the\s+|its\s+)?{_METRIC}(?=\s*(?:[,.?!;]|$)|"
    r"\s+(?:and|or|but|please)\b)", re.I)
"""The metric named after its bar ("once it scores above 0.9 on the knn monitor")."""
FAILURE = re.compile(rf"{_WHEN}(?:it|the\s+run|run\s*#?\d+|the\s+loss|its\s+loss|loss|(?:the|its)\s+(?:teacher|model|"
                     r"encoder|embeddings?|representations?|features|training))\s+(?:\w+\s+)?"
                     r"(?:collaps\w*|diverg\w*|blows?\s+up|explodes?|(?:goes|turns|becomes|is)\s+(?:nan|inf\w*)|nans?)\b"
                     r"|\bon\s+(?:a\s+)?(?:collapse|divergence|failure)\b", re.I)
_NO_LONGER = r"(?:stops?|(?:is|are)\s+no\s+longer|(?:is|are)\s*n[o']?t|isn't|aren't)\s+"
_NOT = r"(?:does\s*n[o']?t|doesn't|has\s*n[o']?t|hasn't|did\s*n[o']?t|didn't|won't)\s+"
_FALLING = (rf"{_NO_LONGER}(?:falling|dropping|decreasing|declining|shrinking|going\s+down|getting\s+"
            rf"(?:smaller|lower))|{_NOT}(?:go(?:ne)?\s+down|fall(?:en)?|drop(?:ped)?|decrease[ds]?)")
_RISING = (rf"{_NO_LONGER}(?:rising|increasing|growing|climbing|going\s+up|getting\s+(?:bigger|higher))|"
           rf"{_NOT}(?:go(?:ne)?\s+up|rise[ns]?|increase[ds]?|grow[ns]?)")
_MOVING = (rf"(?:has\s+|have\s+)?(?:plateau(?:s|ed|ing)?|(?:levels?|levelled|leveled)\s+(?:off|out)|flatten(?:s|ed)?"
           rf"(?:\s+out)?|stall(?:s|ed)?)|(?:is|goes|stays)\s+flat|{_NO_LONGER}(?:improving|getting\s+better|changing|"
           rf"moving)|{_NOT}(?:improved?|get(?:ten)?\s+better|got\s+better|change[ds]?)")
_WAIT = (rf"(?:\s+(?:any\s+more\s+|anymore\s+)?(?:for|in|over|within|after)\s+(?:(?:the\s+)?(?:last|next|past)\s+)?"
         rf"(?:(?P<n>{_COUNT})\s+(?:training\s+)?(?P<unit>steps?|iterations?|iters?|epochs?)\b))?")
_THERE = r"(?:there\s+(?:is|'s)\s+|there's\s+)?"
PLATEAU = re.compile(
    rf"{_WHEN}{_THERE}(?:{_OWNER}{_METRIC}\s+)?(?P<verb>{_FALLING}|{_RISING}|{_MOVING})\b{_WAIT}"
    rf"|{_WHEN}{_THERE}no\s+(?P<verb2>improvement|progress|change)\s+(?:(?:in|of|on)\s+"
    rf"{_OWNER}(?P<metric2>[a-z][a-z0-9_/@.-]*(?:\s+[a-z][a-z0-9_/@.-]*){{0,2}}?)\s+)?(?:for|in|over|within)\s+"
    rf"(?:(?:the\s+)?(?:last|next|past)\s+)?(?P<n2>{_COUNT})\s+(?:training\s+)?"
    r"(?P<unit2>steps?|iterations?|iters?|epochs?)\b"
    rf"|\bpatience\s+(?:of\s+)?(?P<n3>{_COUNT})\s+(?P<unit3>steps?|iterations?|iters?|epochs?)(?:\s+(?:on|for|of)\s+"
    rf"{_OWNER}(?P<metric3>[a-z][a-z0-9_/@.-]*(?:\s+[a-z][a-z0-9_/@.-]*){{0,2}}?))?(?=\s*[.!?]?\s*$|\s*,)", re.I)
"""A stop on a plateau: the metric (the loss when none is named), which way it stopped going (falling, rising or
moving: "plateaus", "stops improving") and, when given, how long to wait."""
EARLY_STOPPING = re.compile(r"\bearly[- ]?stopping\b", re.I)
"""Early stopping asked for with no condition ("with early stopping"): what Lightning's EarlyStopping does by
default, a stop when the loss stops improving, after the default wait."""
STEPS = re.compile(rf"\b(?:after|at|in|once\s+it\s+(?:hits|reaches|passes|gets\s+to)|when\s+it\s+(?:hits|reaches|passes|gets\s+to)|"
                   rf"(?:once|when|after)\s+it(?:\s+has|'s)\s+(?:run|done|trained|completed|finished)(?:\s+for)?|by)\s+(?:(?P<another>another|{MORE})\s+)?(?:step\s+(?P<at>\d[\d,]*k?)\b|(?P<n>{_COUNT})\s+"
                   rf"(?P<more>{MORE}\s+)?(?:training\s+)?(?:steps?|iterations?|iters?)\b)", re.I)
EPOCHS = re.compile(rf"\b(?:(?:after|at|by|once|when|in|within|(?:once|when)\s+it\s+(?:hits|reaches|passes|gets\s+to)|"
                    r"(?:once|when|after)\s+it(?:\s+has|'s)\s+(?:run|done|trained|completed|finished)(?:\s+for)?)\s+"
                    rf"(?:(?P<another>another|{MORE})\s+)?"
                    rf"(?:epoch\s+(?P<at>\d+)\b|(?P<n>{_COUNT})\s+(?P<more>{MORE}\s+)?(?:full\s+)?epochs?\b"
                    r"(?P<more_after>\s+more)?(?:\s+(?:are|have\s+been)\s+(?:done|complete\w*|finished))?)"
                    rf"|\bonce\s+(?P<n2>{_COUNT})\s+epochs?\s+(?:are|have\s+been)\s+(?:done|complete\w*|finished))", re.I)
MINUTES = re.compile(r"\b(?:in|after|within)\s+(?:(?:another|a\s+further)\s+)?(?P<n>\d+(?:\.\d+)?\s*|an?\s+|one\s+|"
                     r"half\s+an\s+|(?<=another\s))(?:more\s+)?(?P<unit>hours?|hrs?|h|minutes?|mins?)\b"
                     r"(?!\s+of\s+(?:data|images))"
                     r"|\b(?P<n2>\d+(?:\.\d+)?)\s*(?P<unit2>hours?|minutes?|mins?)\s+from\s+now\b", re.I)
PAST = re.compile(r"\b(?:\w+ed|was|were|went|got|blew|fell|broke|died|had|hit|ran|began|became)\s+(?:up\s+|out\s+)?$",
                  re.I)
"""A length after a verb in the past tells what happened ("it collapsed after 100 steps"): no condition."""
NOT_A_METRIC = re.compile(r"^(?:it|its|it's|this|that|run|the run|they|step|steps|epoch|epochs)$", re.I)


SUSTAINED = re.compile(r"\b(?:stays?|remains?|keeps?\s+(?:being|staying)?|sits?)\s+(?:above|over|below|under|beneath|at)\b"
                       rf".{{0,30}}?\b(?:for|over)\s+(?:(?:the\s+)?(?:next\s+)?)(?:{_COUNT}|an?)\s+(?:more\s+)?(?:steps?|"
                       r"iterations?|epochs?|minutes?|hours?)\b", re.I)
"""A bar that must hold for a while ("if its teacher entropy stays above 8 for 50 steps"): a stop rule fires the first
time its condition holds, so the wait cannot be kept; the chat asks instead of dropping it."""


def read_stop(text: str) -> dict | None:
    """stop_run_when's arguments (without the run), or None."""
    if SUSTAINED.search(text):
        return None  # the wait is asked about (understand._conditional_stop)
    if FAILURE.search(text):
        return {"on_failure": True}
    m = PLATEAU.search(text)
    if m:
        return _plateau(m)
    bar = METRIC_BAR.search(text)
    after = METRIC_AFTER_BAR.search(text)
    if after and (not bar or NOT_A_METRIC.match(bar.group("metric")) or re.match(r"it\s", bar.group("metric"), re.I)):
        bar = after  # "once it scores above 0.9 on the knn monitor": the metric follows the bar
    if bar and not NOT_A_METRIC.match(bar.group("metric")):
        direction = next(name for pattern, name in _DIRECTIONS if re.fullmatch(pattern, bar.group("dir"), re.I))
        value = float(bar.group("value")) / (100 if bar.group("pct") else 1)  # "above 90%": a share, as runs log it
        return {"metric": metric_key(bar.group("metric")), direction: value}
    steps, epochs = _ahead(STEPS, text), _ahead(EPOCHS, text)
    if bar and not any(m and m.start() <= bar.start("value") < m.end() for m in (steps, epochs)):
        return None  # "when it drops below 0.5": which value? the chat asks ("when it reaches 100 steps" is a step)
    m = steps
    if m:
        if m.group("at"):
            return {"at_step": parse_count(m.group("at"))}
        n = _number(m.group("n"))
        relative = m.group("another") or m.group("more") or m.group(0).lower().startswith("in ")
        return {"more_steps": n} if relative else {"at_step": n}
    m = epochs
    if m:
        raw = m.group("at") or m.group("n") or m.group("n2")
        relative = m.group("n") and (m.group("another") or m.group("more") or m.group("more_after") or
                                     re.match(r"(?:in|within)\b", m.group(0), re.I))
        return {"more_epochs" if relative else "epochs": float(_number(raw))}
    m = _ahead(MINUTES, text)
    if m:
        n, unit = (m.group("n"), m.group("unit")) if m.group("unit") else (m.group("n2"), m.group("unit2"))
        n = n.strip().lower()
        amount = 0.5 if n.startswith("half") else 1.0 if n in ("", "a", "an", "one") else float(n)
        return {"minutes": amount * 60 if unit.lower().startswith("h") else amount}
    if EARLY_STOPPING.search(text):
        return {"metric": "loss", "stops": "moving"}
    return None


def _plateau(m: re.Match) -> dict:
    words = m.group("metric") or m.group("metric2") or m.group("metric3")
    metric = "loss" if not words or NOT_A_METRIC.match(words) else metric_key(words)
    verb = m.group("verb")
    stops = "moving" if not verb else next(name for pattern, name in ((_FALLING, "falling"), (_RISING, "rising"),
                                                                       (_MOVING, "moving"))
                                            if re.fullmatch(pattern, verb, re.I))
    args = {"metric": metric, "stops": stops}
    n, unit = next(((m.group(a), m.group(b)) for a, b in (("n", "unit"), ("n2", "unit2"), ("n3", "unit3"))
                    if m.group(a)), (None, None))
    if n and unit.lower().startswith("epoch"):
        args["for_epochs"] = float(n) if re.fullmatch(r"\d+\.\d+", n) else _number(n)  # 2.5 epochs, not 2
    elif n:
        args["for_steps"] = _number(n)
    return args


def _ahead(pattern: re.Pattern, text: str) -> re.Match | None:
    """The first match that looks ahead, not one that tells what happened ("it collapsed after 100 steps")."""
    return next((m for m in pattern.finditer(text) if not PAST.search(text[:m.start()])), None)


def mask_condition(text: str) -> str:
    """The message without its condition, so that "below 12" or "step 1500" is not read as a run."""
    for pattern in (FAILURE, PLATEAU, METRIC_BAR, STEPS, EPOCHS, MINUTES):  # a run it names stays ("run 3's loss")
        text = pattern.sub(lambda m: " " + " ".join(re.findall(r"\brun\s*#?\d+(?!\d|\s*(?:steps?|epochs?|iter\w*)\b)",
                                                                   m.group(0), re.I)) + " ", text)
    return text


def mask_plateau(text: str) -> str:
    """The message without a plateau's wait, so that "for 300 steps" is not read as the run's length."""
    return PLATEAU.sub(" ", text)


def _number(raw: str) -> int:
    low = raw.lower()
    return WORD_NUMBERS[low] if low in WORD_NUMBERS else parse_count(low)


SECOND_CONDITION = re.compile(r"\s*,?\s+(?:or|and|and/or)\s+(?=(?:when(?:ever)?|once|if|after|at\s+(?:step|epoch)|in\s+"
                              r"\d+|as\s+soon\s+as|until)\b)", re.I)
JOINED = re.compile(r"\s*,?\s+(and|or|and/or)\s+", re.I)
"""Any "and"/"or", for two conditions the second of which leaves its "when" to the first ("loss < 1 and rank < 4")."""
FIRST_MET = re.compile(r"\s*,?\s*(?:whichever|which\s*ever)\s+(?:comes|happens|is)\s+(?:first|sooner|earlier)\W*$", re.I)


def two_conditions(text: str) -> tuple[str, str, str] | None:
    """The two conditions of "stop run 3 when the loss drops below 2 or after 30 minutes (whichever comes first)" or
    "when loss < 1 and rank < 4", each as written (the second with its "when" where the message left it to the
    first), and the word that joins them ("or", "and"), when both are conditions the stop tool holds and they
    differ; None otherwise."""
    plain = FIRST_MET.sub("", text)
    parts = SECOND_CONDITION.split(plain)
    if len(parts) != 2:
        parts = JOINED.split(plain)
        if len(parts) != 3:
            return None
        parts = [parts[0], parts[2]]
    start = CONDITION_START.search(parts[0])
    second = parts[1].strip()
    conditions = [parts[0][start.start():].strip() if start else "", second if CONDITION_START.match(second)
                  else f"when {second}"]
    read = [read_stop(c) for c in conditions]
    joined = "and" if re.search(r"\band\b(?!/)", plain[len(parts[0]):len(plain) - len(parts[1])]) else "or"
    return (*conditions, joined) if all(read) and read[0] != read[1] else None


CONDITION_START = re.compile(r"\b(?:when(?:ever)?|once|if|as\s+soon\s+as|until|after|at\s+(?:step|epoch)|in\s+\d+\s+"
                             r"(?:minutes?|mins?|hours?))\b", re.I)
"""Where a stop's condition begins ("stop runs 2 and 3 | when the loss drops below 5")."""


def first_time_condition(text: str) -> str | None:
    """A bar that must hold for a while said as the rule a run can keep, the first time it holds ("if its teacher
    entropy stays above 8 for 50 steps" -> "if its teacher entropy goes above 8"); None when it cannot be said."""
    sustained, start = SUSTAINED.search(text), CONDITION_START.search(text)
    if not sustained or not start or start.start() > sustained.start():
        return None
    condition = text[start.start():sustained.end()]
    condition = re.sub(r"\b(?:stays?|remains?|keeps?\s+(?:being|staying)?|sits?)\s+", "goes ", condition)
    return re.sub(r"\s+(?:for|over)\s+(?:(?:the\s+)?(?:next\s+)?)\S+\s+(?:more\s+)?\w+$", "", condition).strip() or None


LET_IT_RUN = re.compile(r"^\W*(?:(?:ok(?:ay)?|please|pls|then)\W+)*let\s+(?P<run>run\s*#?\d+|it|that(?:\s+run)?)\s+(?:go\s+on|run|"
                        r"continue|keep\s+going|train)\s+(?:for\s+)?(?:another\s+)?(?P<amount>\d+|an?|one)\s*(?:more\s+)?"
                        r"(?P<unit>minutes?|mins?|hours?|hrs?|h)(?:\s+more)?\s*,?\s*(?:and\s+)?then\s+(?:stop|kill|cancel)\s+"
                        r"(?:it|there)\W*$", re.I)
"""A live run given a while more, then stopped ("let run 3 go on for another 30 minutes then stop it"): a stop in that
time (it was read as continued pretraining from its weights, refused as the run was still running)."""


def let_it_run_then_stop(text: str) -> str:
    """The message as the stop it asks for: "let run 3 go on for another 30 minutes then stop it" is "stop run 3 in
    30 minutes"."""
    m = LET_IT_RUN.match(text)
    return f"stop {m.group('run')} in {m.group('amount')} {m.group('unit')}" if m else text
