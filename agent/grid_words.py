"""A sweep's lists of values in words ("lr 1e-3, 3e-3 and 1e-2", "temperature 0.1 or 0.2", "2, 4 and 6 layers",
"3 seeds"): what `launch_sweep` varies, and the spans a run reference must not be read from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from agent.setting_words import (
    INT_SWEEPS,
    METHOD_SETTING_KEYS,
    METHOD_SETTINGS,
    SWEEPABLE,
    _setting_of,
    _written_value,
    named_settings,
    optimiser_momentum,
)
from agent.slots import (
    BUILTIN_DATA,
    METHOD_WORDS,
    NUMBER,
    UNIT_AFTER,
    WORD_NUMBERS,
    find_method,
    find_methods,
    parse_value,
)
from tools.launches import FIELD_KEYS, dotted_setting

_ITEM = rf"{NUMBER}(?!{UNIT_AFTER}|\w|\.\d)"  # "0.99 or 0.996, 20 epochs each": the 20 counts epochs


LIST_OF = rf"({_ITEM}(?:\s*(?:,\s*(?:and|or)?|\band\b|\bor\b|/|\bvs\.?|\bversus\b)\s*{_ITEM})+)"


TOP_LEVEL_KEYS = {**FIELD_KEYS, "seed": "train.seed"}  # "lr=1e-3,3e-3" sweeps optim.lr


GRID_ASSIGNMENT = rf"(?<![\w./-])([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)*)\s*=\s*({NUMBER}(?:,{NUMBER})+)"


_COUNT = r"(\d+|" + "|".join(WORD_NUMBERS) + r")"


SEED_COUNT = (rf"\b{_COUNT}\s+(?:random\s+|different\s+)?seeds\b"  # "3 seeds"
              rf"|\b{_COUNT}\s+(?:(?:{METHOD_WORDS})\s+)?runs?\b[^.;]*?\b(?:different|random|separate)\s+seeds\b"
              rf"|(?:\b(twice|thrice)|\b{_COUNT}\s+times)\b(?!\s+(?:the|as|more|less|an?|that|its|my|this|"
              r"higher|lower|larger|smaller|bigger|faster|slower|longer|shorter|default|over|per)\b)")
"""A launch repeated at other seeds, as people say it ("3 seeds", "3 runs with different seeds", "twice", "5 times";
not "twice the learning rate" or "3 times as long"): a sweep over seeds 0..N-1 (seed_count)."""


def seed_count(low: str) -> int | None:
    """How many seeds SEED_COUNT asks for, or None."""
    m = re.search(SEED_COUNT, low)
    if not m:
        return None
    word = next(g for g in m.groups() if g)
    return {"twice": 2, "thrice": 3}.get(word) or (int(word) if word.isdigit() else WORD_NUMBERS[word])


@dataclass
class GridList:
    """One list of values a sweep would vary, as written: its config key, the values' text and where they are."""

    key: str
    values: str  # "1e-3, 3e-3 and 1e-2"; an assignment's "1e-3,3e-3"
    start: int  # the values' span in the message
    end: int
    phrase: tuple[int, int]  # the whole phrase, name and all: blanked by without_grid
    assignment: bool = False
    spread: list[float] | None = None  # a range's values, worked out (RANGE_STEPS, RANGE_COUNT)
    claimed: bool = False  # one setting's value and the next setting's: no list, but a list read over it is tangled


OF_WHOM = r"(?:\s+(?:of|for)\s+(?:the\s+|my\s+)?[a-z_-]+(?:\s+runs?)?(?:\s+on\s+[\w./~-]+)?)?"
"""Whose setting, between its name and its values ("the lr of simclr on digits over ...")."""
STEP_OF = rf"\b(?:in|with|by|at)\s+(?:steps?|increments?|intervals?)\s+of\s+{NUMBER}"
"""A range's step ("in steps of 0.1"): stated with its range, whose values carry it."""
RANGE_STEPS = rf"(?:from\s+)?(?P<a>{NUMBER})\s+(?:to|through|up\s+to)\s+(?P<b>{NUMBER})\s+(?:in|with|by|at)\s+(?:steps?|" \
              rf"increments?|intervals?)\s+of\s+(?P<c>{NUMBER})"  # STEP_OF with its value named
"""A range by its step, after a setting's name ("temperature from 0.1 to 0.5 in steps of 0.1"): a to b inclusive."""
RANGE_COUNT = rf"(?:between|from)\s+(?P<a>{NUMBER})\s+(?:and|to)\s+(?P<b>{NUMBER})"
"""A range by its count ("5 learning rates between 1e-4 and 1e-2", "lr over 4 values from 1e-3 to 1e-1"): evenly
spaced, on a log scale when it spans ten times or more (as W&B's log-uniform for rates) or runs between powers of
two (batch sizes), else on a linear one."""
MAX_SPREAD = 16  # more values than this from a range is no sweep anyone meant; the question says so


def spread(a: float, b: float, n: int, whole: bool) -> list[float]:
    """n values from a to b (RANGE_COUNT), each to 3 significant digits (whole numbers for integer settings)."""
    powers_of_two = whole and a > 0 and b > 0 and all(float(x).is_integer() and int(x) & (int(x) - 1) == 0
                                                      for x in (a, b))
    if a > 0 and b > 0 and (max(a, b) / min(a, b) >= 10 or powers_of_two):
        values = [a * (b / a) ** (i / (n - 1)) for i in range(n)]
    else:
        values = [a + (b - a) * i / (n - 1) for i in range(n)]
    return [round(v) if whole else float(f"{v:.3g}") for v in values]


def stepped(a: float, b: float, c: float, whole: bool) -> list[float]:
    """a to b inclusive in steps of c (RANGE_STEPS), rounded to the step's own decimals."""
    decimals = max(0, -int(f"{abs(c):e}".split("e")[1]))
    count = int(round((b - a) / c)) + 1 if c and (b - a) / c >= 0 else 0
    values = [round(a + i * c, decimals + 2) for i in range(min(count, MAX_SPREAD + 1))]
    return [round(v) for v in values] if whole else values


def _ranges(low: str, pattern: str, key: str) -> GridList | None:
    """A range of values for one setting, after its name (RANGE_STEPS) or after a count of it (RANGE_COUNT)."""
    whole = key in INT_SWEEPS
    m = re.search(rf"\b(?:{pattern})s?{OF_WHOM}\s+{RANGE_STEPS}", low)
    if m:
        values = stepped(float(m.group("a")), float(m.group("b")), float(m.group("c")), whole)
    else:
        m = re.search(rf"\b{_COUNT}\s+(?:different\s+|values\s+of\s+(?:the\s+)?)?(?:{pattern})s?\s+{RANGE_COUNT}", low) or \
            re.search(rf"\b(?:{pattern})s?{OF_WHOM}\s+(?:over|across|at|with)\s+{_COUNT}\s+values\s+{RANGE_COUNT}", low)
        if not m:
            return None
        n = int(m.group(1)) if m.group(1).isdigit() else WORD_NUMBERS[m.group(1)]
        if not 2 <= n <= MAX_SPREAD:
            return None
        values = spread(float(m.group("a")), float(m.group("b")), n, whole)
    if not 2 <= len(values) <= MAX_SPREAD or len(set(values)) < len(values):
        return None  # a range that gives one value, too many, or repeats after rounding: asked, not guessed
    return GridList(key, m.group(0), m.start(), m.end(), m.span(), spread=values)


COUNTED_FIRST = {"augment.n_local_crops", "optim.lr"}
"""Launch settings written value first as readily as name first ("over 2 and 4 local crops", "at 1e-3 and 1e-2
learning rates")."""


def _grid_lists(low: str, keep_tangled: bool = False) -> list[GridList]:
    """Each list of values a sweep would vary; a setting only some methods have (METHOD_SETTINGS) under the name the
    message's method gives it ("dino's bottleneck over 64, 128 and 256", "mlm with 2, 4 and 6 layers")."""
    found = [GridList(m.group(1), m.group(2), m.start(2), m.end(2), m.span(), True)
             for m in re.finditer(GRID_ASSIGNMENT, low)]
    named = find_method(low)
    method = named.value if named else None
    settings = [(p + "s?", f"method_args.{name}", value_first) for p, names, value_first in METHOD_SETTINGS
                if (name := _setting_of(method, names))]
    named_before = "|".join(p for p, _ in SWEEPABLE)
    for pattern, key, value_first in [*((p, k, k in COUNTED_FIRST) for p, k in SWEEPABLE), *settings]:
        m = re.search(rf"\b(?:{pattern})\b{OF_WHOM}\s*(?:of|=|:|at|to|in|over|across|from|among)?\s*{LIST_OF}",
                      low)  # "lr of simclr on digits over"
        if not m and value_first:  # "2, 4 and 6 layers": the last value is the setting's count; ", and" ends a list
            m = re.search(rf"\b({NUMBER}(?:\s*(?:,(?!\s*and\b)\s*(?:or\b)?|\band\b|\bor\b|/)\s*{NUMBER})+)(?:-?d\b|"
                          rf"[ -]dim(?:ension(?:al)?)?s?)?(?:\s+|-)(?:{pattern})\b", low)
            if m and re.search(rf"\b(?:{named_before})\s*[:=]?\s*(?:of|to|at)?\s*$", low[:m.start(1)]):
                m = None  # "batch 128 and 3 layer projector": the first value is the batch's, so no list
            if m:
                found = [_cut_before(g, m.start(1)) for g in found]  # "hidden size 128 or 256, and 2 or 4 layers"
        listed = GridList(key, m.group(1), m.start(1), m.end(1), m.span()) if m else None
        if listed and m.end(1) == m.end() and _names_next(low, m.end()):
            listed = _last_dropped(listed)  # "a batch of 96 and 10 warmup steps": the 10 is the warm-up's
        if listed and LENGTH_NEXT.match(low, listed.end) and float(re.findall(NUMBER, listed.values)[-1]).is_integer():
            listed = replace(listed, claimed=True)  # "batch 64 and 20 or 40 steps": a batch of 20, or a length? asked
            # (it swept batches of 64 and 20)
        if listed and all(g.key != key for g in found):
            found.append(listed)
        elif not m and all(g.key != key for g in found) and (ranged := _ranges(low, pattern, key)):
            found.append(ranged)  # "temperature from 0.1 to 0.5 in steps of 0.1", "5 lrs between 1e-4 and 1e-2"
    lengths = [g for g in _lengths(low) if all(o.key != g.key for o in found)]
    for length in lengths:  # "temperature 0.1 and 0.2, 30 and 60 steps": the temperatures end where the steps begin
        found = [_cut_before(g, length.start) for g in found]
    found += lengths
    tangled = {id(g) for g in found for o in found if o is not g and not (g.assignment or o.assignment)
               and g.start < o.end and o.start < g.end}  # "hidden size 128 and 256 and 2 or 4 layers": whose values
    return [g for g in found if keep_tangled or (id(g) not in tangled and not g.claimed)]  # are which: asked


_LAST_JOIN = r"(?:,\s*)?(?:\band\b|\bor\b|/|\bvs\.?|\bversus\b)"
LENGTH_LIST = re.compile(rf"\b(?P<values>(?:{NUMBER}\s*,\s*)*{NUMBER}\s*{_LAST_JOIN}\s*{NUMBER})\s+(?P<unit>steps?|"
                         r"epochs?)\b(?!\s+(?:of\s+)?(?:lr\s+|linear\s+)?warm)")
"""The run's length with several values, value first ("for 20 and 40 steps", "1, 2 or 4 epochs"): a sweep over
train.steps or train.epochs; not a warm-up's ("5 and 10 epochs of warmup"), and not with a comma alone before the
last value ("on gpu 1, 30 epochs" is one length)."""
NOT_A_LENGTH_BEFORE = re.compile(r"\b(?:gpus?|cuda|devices?|runs?|nodes?|top|#)\s*[:#]?\s*$")
"""A word whose number the first value is ("on gpu 1 and 30 epochs")."""
LENGTH_SAID_AGAIN = re.compile(rf"\b(?P<a>{NUMBER})\s+(?P<unit>steps?|epochs?)\s*(?:,\s*|\s+)(?:(?:and|or|vs\.?|versus)\s+"
                               r"(?:then\s+)?|then\s+)(?:also\s+)?(?:(?:one|another(?:\s+one)?|a\s+second(?:\s+one)?|the\s+same)\s+)?"
                               rf"(?:(?:with|at|for)\s+)?(?P<b>{NUMBER})\s+(?P=unit)\b")
"""The length said again with its unit ("20 steps and 40 steps", "20 steps and another for 40 steps", "with 20 steps
and then 40 steps", "for 40 steps, then also for 80 steps"): one list."""


LENGTH_NEXT = re.compile(rf"\s*(?:or|/|vs\.?)\s*{NUMBER}\s+(?:steps?|epochs?)\b")
"""A length offered as the other choice right after a list's last whole value ("batch 64 and 20 or 40 steps"): that
value may be a length too. Not after "and" ("lr 0.1 and 0.3 and 20 steps" sweeps rates for 20 steps)."""
SETTING_BEFORE = re.compile(r"\b(?:" + "|".join([p for p, _ in SWEEPABLE] + [p for p, _, _ in METHOD_SETTINGS])
                            + rf")\s*[:=]?\s*(?:of|to|at)?\s*(?:{NUMBER}\s*(?:,|/)\s*)*(?:{NUMBER}\s*(?:and|or)\s+)?$")
"""Any setting's name right before a value, or before a list the value ends: the value is that setting's. A list's
"and" or "or" comes before its last value, so a comma after it starts another ("temperature 0.1 and 0.2, 30 and 60
steps"; "hidden size 128 or 256, and 20 or 40 steps")."""


def _lengths(low: str) -> list[GridList]:
    """The run's length swept (LENGTH_LIST), from after any values that follow another setting's name ("batch 64 and
    20 steps" sweeps nothing; "hidden size 128 or 256, and 20 or 40 steps" sweeps 20 and 40 steps)."""
    found, pos = [], 0
    while m := LENGTH_LIST.search(low, pos):
        named = SETTING_BEFORE.search(low[:m.start()]) or NOT_A_LENGTH_BEFORE.search(low[:m.start()])
        first = re.match(NUMBER, low[m.start():])
        pos = m.start() + first.end()
        if named:  # the first value is that setting's: read on from the next one
            continue
        key = "train.steps" if m.group("unit").startswith("step") else "train.epochs"
        found.append(GridList(key, m.group("values"), m.start("values"), m.end("values"), m.span()))
        pos = m.end()
    return found


SETTING_NAMED_NEXT = re.compile(r"(?:\s+|-)(?:" + "|".join([p for p, _ in SWEEPABLE] + [p for p, _, _ in METHOD_SETTINGS])
                                + r")\b")
"""Any setting's name, whichever method has it, right after a value (compiled once: read on every launch message)."""


def _names_next(low: str, end: int) -> bool:
    """Whether another setting's name follows a list's last value, joined by "and", at once ("96 and 10 warmup
    steps"): "<value> <name>" gives that setting its value, so the value is not the list's. Not when the name has
    its own value ("batch 64 and 128 momentum 0.99"), nor after "or" ("hidden size 128 or 256 and 2 or 4 layers":
    whose values are which is asked)."""
    named = SETTING_NAMED_NEXT.match(low, end)
    return named is not None and re.search(rf"(?:,|\band)\s*{NUMBER}$", low[:end]) is not None \
        and not re.match(rf"\s*(?:of|=|:|at|to)?\s*{NUMBER}", low[named.end():])


def _last_dropped(g: GridList) -> GridList:
    """A name-first list without its last value (_names_next); with fewer than two values left, the values stay
    claimed by the setting they follow, which varies nothing ("text hidden size 256 and 3 text layers" is no list
    of 256 and 3 layers)."""
    last = list(re.finditer(NUMBER, g.values))[-1]
    cut = _cut_before(g, g.start + last.start())
    return cut if cut.end < g.end else replace(g, claimed=True)


def _cut_before(g: GridList, start: int) -> GridList:
    """A list read by a setting's name, cut where a list read by its noun begins, when two of its values are left."""
    if g.assignment or not g.start < start < g.end:
        return g
    head = re.sub(r"[\s,]*(?:\b(?:and|or)\b[\s,]*)*$", "", g.values[:start - g.start])
    if len(re.findall(NUMBER, head)) < 2:
        return g
    return GridList(g.key, head, g.start, g.start + len(head), (g.phrase[0], g.start + len(head)))


def without_grid(text: str) -> str:
    """The message with its sweep lists blanked: "seeds 0, 1, 2 and 3" names no runs."""
    low = text.lower()
    for g in _grid_lists(low, keep_tangled=True):
        a, b = g.phrase
        low = low[:a] + " " * (b - a) + low[b:]
    return re.sub(SEED_COUNT, " ", low)


SAID_AGAIN = re.compile(rf"\b(?P<name>[a-z][\w.-]*(?:\s+[a-z][\w.-]*){{0,2}}?)\s+(?P<a>{NUMBER}(?:\s*(?:,|\band\b|\bor\b)\s*"
                        rf"{NUMBER})*)(?:\s*,\s*(?:and\s+|or\s+)?(?:then\s+)?|\s+(?:and|or|then)\s+(?:then\s+)?)(?:also\s+)?"
                        r"(?:(?:one|another(?:\s+one)?|a\s+second(?:\s+one)?|a\s+run|the\s+same(?:\s+(?:thing|run|one))?"
                        r"(?:\s+again)?)\s+(?:with|at|using)\s+)?"
                        rf"(?P=name)\s+(?P<b>{NUMBER})(?![\w.])")
"""A setting named again with its second value ("lr 0.1 and lr 0.3", "batch 64 and also one with batch 128", "batch
64, then the same with batch 128"): one setting with two values, as "lr 0.1 and 0.3"."""


def _one_setting_twice(m: re.Match) -> bool:
    """Whether SAID_AGAIN's match names one setting twice: its name is a setting's, and not the tail of another
    one's ("warmup teacher temp 0.04 and teacher temp 0.07" are two settings)."""
    name = named_settings(m.group("name"))
    before = m.string[:m.start()].split()
    return bool(name) and (not before or named_settings(f"{before[-1]} {m.group('name')}") == name)


ANOTHER_LENGTH = re.compile(rf"\b(?P<a>{NUMBER})\s+(?P<unit>steps?|epochs?)\b(?P<mid>[^.;]{{0,60}}?),?\s+and\s+(?:then\s+)?"
                            rf"(?:another|a\s+second|one\s+more)(?:\s+(?:one|run))?\s+(?:for|with|at)\s+(?P<b>{NUMBER})\s+"
                            r"(?P=unit)\b")
"""A second run of another length said after the first run's other settings ("for 20 steps on digits, and another for
30 steps"): one list of lengths."""


def _said_once(low: str) -> str:
    """`low` with each setting named again before its next value (SAID_AGAIN) named once, and a length's unit said
    once (LENGTH_SAID_AGAIN)."""
    low = LENGTH_SAID_AGAIN.sub(lambda m: f"{m.group('a')} and {m.group('b')} {m.group('unit')}", low)
    low = ANOTHER_LENGTH.sub(lambda m: f"{m.group('a')} and {m.group('b')} {m.group('unit')}{m.group('mid')}", low)
    while True:
        once = SAID_AGAIN.sub(lambda m: f"{m.group('name')} {m.group('a')} and {m.group('b')}"
                              if _one_setting_twice(m) else m.group(0), low)
        if once == low:
            return low
        low = once


def find_grid(text: str) -> dict[str, list]:
    """What a sweep varies: a setting with two or more values ("lr 1e-3, 3e-3 and 1e-2", "temperature 0.1 or 0.2",
    `optim.lr=1e-3,3e-3`), a range ("from 0.1 to 0.5 in steps of 0.1", "5 lrs between 1e-4 and 1e-2"), or "N seeds"
    (seeds 0..N-1). Config keys to the values, in the order written."""
    low = _said_once(text.lower())
    grid: dict[str, list] = {}
    for g in _grid_lists(low):
        key = g.key
        if g.assignment:
            key = TOP_LEVEL_KEYS.get(key) or dotted_setting(key)
            grid[key] = [parse_value(v) for v in g.values.split(",")]
        elif g.spread is not None and key not in grid:
            grid[key] = g.spread
        elif key not in grid:
            written = re.findall(NUMBER, g.values)
            values = [float(v) for v in written]
            grid[key] = [int(v) for v in values] if key in INT_SWEEPS else [_written_value(v) for v in written] \
                if key in METHOD_SETTING_KEYS else values
    named = find_method(low)
    if "method_args.ema_momentum" in grid and optimiser_momentum(low, named.value if named else None):
        grid["optim.momentum"] = grid.pop("method_args.ema_momentum")  # "simclr with sgd momentum 0.8 and 0.9"
    n = seed_count(low)
    if n and "train.seed" not in grid and 2 <= n <= 64:
        grid["train.seed"] = list(range(n))
    return grid


_VALUES = rf"(?P<values>{NUMBER}(?:\s*(?:,|\band\b|\bor\b)\s*{NUMBER})*)"
_NAMED = r"(?:(?P<name>[a-z][\w .-]*?)\s+(?:of\s+)?)?"
SWEEP_ADD = re.compile(rf"^\W*(?:(?:and|also|ok(?:ay)?|then)\W+)*(?:add|include|plus|also\s+try|try)\s+(?:(?:an?|the)\s+)?"
                       rf"{_NAMED}{_VALUES}(?:\s+(?:too|as\s+well|also))?\W*$", re.I)
"""A value added to a waiting sweep's list ("add 3.0 too", "also try lr 0.03")."""
SWEEP_ADD_BARE = (re.compile(rf"^\W*(?:and|also|plus)\s+(?:(?:an?|the)\s+)?{_NAMED}{_VALUES}(?:\s+(?:too|as\s+well))?\W*$",
                             re.I), re.compile(rf"^\W*{_NAMED}{_VALUES}\s+(?:too|as\s+well)\W*$", re.I))
"""The same with no verb ("and 1.0", "lr 1.0 too")."""
SWEEP_DROP = re.compile(rf"^\W*(?:(?:and|also|ok(?:ay)?|then|actually)\W+)*(?:drop|remove|skip|exclude|leave\s+out|"
                        rf"get\s+rid\s+of)\s+(?:the\s+)?{_NAMED}{_VALUES}(?:\s+(?:one|ones|value|values|runs?))?\W*$", re.I)
"""A value taken out of a waiting sweep's list ("drop the 0.01", "remove batch 128")."""
SWEEP_ONLY = re.compile(rf"^\W*(?:(?:no|nope|and|ok(?:ay)?|then|actually|wait|hmm+)\W+)*(?:(?:just|only)\s+(?:(?:keep|use|try|"
                        rf"run)\s+)?|(?:keep|use|try|run)\s+(?:just|only)\s+)(?:the\s+)?{_NAMED}{_VALUES}(?:\s+(?:one|ones|value|"
                        rf"values|runs?))?(?:\s+(?:then|please|instead))*\W*$", re.I)
"""A waiting sweep's list cut to the values named ("no, only 0.3", "just keep lr 0.1 and 0.3")."""
_NAME = _NAMED.replace("(?P<name>", "(?:")  # the same, uncaptured: SWEEP_REPLACE names it twice
SWEEP_REPLACE = re.compile(rf"^\W*(?:(?:no|and|ok(?:ay)?|then|actually|wait)\W+)*(?:(?:replace|swap)\s+(?:the\s+)?{_NAME}"
                           rf"(?P<old>{NUMBER})\s+(?:with|for|by)\s+(?P<new>{NUMBER})|(?:change|make)\s+(?:the\s+)?{_NAME}"
                           rf"(?P<old2>{NUMBER})\s+(?:to|into)\s+(?P<new2>{NUMBER})|(?P<new3>{NUMBER})\s+instead\s+of\s+"
                           rf"(?:the\s+)?(?P<old3>{NUMBER}))\W*$", re.I)
"""One value of a waiting sweep's list put in another's place ("replace 0.1 with 0.05", "0.05 instead of 0.1")."""


SWEEP_NEW_LIST = re.compile(rf"^\W*(?P<lead>(?:(?:no|nope|actually|ok(?:ay)?|then|wait|hmm+)\W+)*)(?:(?P<make>(?:make|change)\s+(?:it|that|"
                            rf"them|those)\s+(?:to\s+|into\s+)?)|use\s+|try\s+)?(?:the\s+)?{_NAMED}{_VALUES}"
                            r"(?P<instead>(?:\s+(?:instead|then|please))+)?\W*$", re.I)
"""A waiting sweep's one list said anew ("make it 30 and 60 instead", "0.1 and 0.3 instead", "no, 5 and 10"): those
values in its place."""
DATA_DROP = re.compile(r"^\W*(?:(?:no|nope|and|also|ok(?:ay)?|then|actually|wait)\W+)*(?:drop|remove|skip|exclude|leave\s+out|"
                       rf"get\s+rid\s+of|without|not|no\s+more)\s+(?:the\s+)?(?:on\s+)?(?P<data>{'|'.join(BUILTIN_DATA)})"
                       r"(?:\s+(?:one|ones|runs?|data(?:set)?))?(?:\s+(?:then|please|instead))*\W*$", re.I)
"""A dataset taken out of a waiting sweep over the built-in datasets ("drop shapes"): it was read as a move to it."""


METHODS_EDITED = re.compile(
    r"^\W*(?:(?:no|nope|and|ok(?:ay)?|then|actually|wait|hmm+)\W+)*(?:(?P<add>add|include|plus|also(?:\s+(?:try|run|"
    r"train|do|with|add|include))?|(?:the\s+)?same(?:\s+(?:thing|run|one))?\s+(?:with|for|using)|and|with)|(?P<drop>drop|remove|skip|exclude|leave\s+out|get\s+rid\s+of|without|not|no\s+more)|"
    r"(?P<only>(?:just|only)(?:\s+(?:keep|use|try|run|train|do))?|(?:keep|use|try|run|train|do)\s+(?:just|only)))\s+"
    r"(?P<rest>.+?)\W*$|^\W*(?P<bare>.+?)\s+(?:too|as\s+well)\W*$", re.I)
"""A waiting comparison of methods edited ("also vicreg", "drop byol", "only simclr", "that one too", "and the same
with byol")."""
METHOD_INSTEAD = re.compile(
    r"^\W*(?:(?:no|nope|actually|wait|sorry|hmm+|oh)\W+)*(?:not\s+(?P<old>[a-z0-9 _-]+?)\s*[,;]\s*(?:but\s+)?(?:use\s+|make\s+it\s+|"
    r"try\s+|do\s+)?(?P<new>[a-z0-9 _-]+?)|(?:use\s+|make\s+it\s+|try\s+)?(?P<new2>[a-z0-9 _-]+?)\s*,?\s+(?:not|instead\s+of|"
    r"rather\s+than)\s+(?P<old2>[a-z0-9 _-]+?)|(?:swap|replace|exchange|switch)\s+(?:out\s+)?(?P<old3>[a-z0-9 _-]+?)\s+"
    r"(?:for|with|by)\s+(?P<new3>[a-z0-9 _-]+?))(?:\s+(?:please|then|instead))*\W*$", re.I)
"""One method put in another's place ("no not simclr, byol", "byol instead of simclr", "use byol, not simclr", "swap
byol for moco")."""
_AROUND_METHODS = {"the", "a", "an", "one", "ones", "run", "runs", "and", "or", "too", "as", "well", "also", "please",
                   "then", "instead", "method", "methods", "with", "of", "them", "it", "for"}


def _only_methods(words: str) -> bool:
    """Whether the words name one method and nothing else but its joiners ("the byol one")."""
    named = find_methods(words)
    rest = set(re.findall(r"[a-z0-9]+", words.lower())) - _AROUND_METHODS
    return len(named) == 1 and not rest - set(re.findall(r"[a-z0-9]+", named[0].raw.lower()))


def edited_methods(text: str, methods: list[str]) -> list[str] | None:
    """A waiting sweep's methods compared (`methods`) with methods added, taken out or kept alone, in the order
    they stand; None when the message is not such an edit (a word besides methods and their joiners, a method
    to take out that is not there). A waiting launch of one method (`methods` its one) becomes a comparison when
    a method is added ("also add moco", "and moco", "byol too"; "with moco" may mean in its place)."""
    swap = METHOD_INSTEAD.match(text)
    if swap and methods:  # "no not simclr, byol": byol in simclr's place
        pair = next(p for p in (("old", "new"), ("old2", "new2"), ("old3", "new3")) if swap.group(p[0]))
        old, new = (find_method(swap.group(g)) for g in pair)
        words = tuple(swap.group(g) for g in pair)
        if old and new and old.value in methods and new.value and all(_only_methods(w) for w in words):
            return list(dict.fromkeys(new.value if x == old.value else x for x in methods))
    m = METHODS_EDITED.match(text)
    if not m or not methods or len(methods) < 2 and not (m.group("bare") or m.group("add") and m.group(
            "add").lower() != "with"):
        return None
    rest = m.group("rest") or m.group("bare")
    named = find_methods(rest)
    words = set(re.findall(r"[a-z0-9]+", rest.lower())) - _AROUND_METHODS
    if not named or words - {w for n in named for w in re.findall(r"[a-z0-9]+", n.raw.lower())}:
        return None
    values = [n.value for n in named]
    if m.group("drop"):
        kept = [x for x in methods if x not in values] if set(values) <= set(methods) else None
    elif m.group("only"):
        kept = [x for x in methods if x in values] if set(values) <= set(methods) else None
    else:
        kept = list(dict.fromkeys([*methods, *values]))
    return kept or None


def _list_said_anew(anew: re.Match, grid: dict[str, list]) -> dict[str, list] | None:
    """SWEEP_NEW_LIST's reading: the grid with the one list (or the list named) said again; {} where the values are
    of another kind than the list's ("make it 30 and 60" of a sweep of rates: asked); None where the words name no
    list of the grid ("only 0.3" is SWEEP_ONLY's)."""
    values = re.findall(NUMBER, anew.group("values"))
    named = next((k for p, k in SWEEPABLE if anew.group("name") and re.fullmatch(
        rf"(?:{p})", anew.group("name").strip(), re.I)), None)
    numeric = [k for k in grid if k != "data.name"]
    key = named if named in grid else numeric[0] if len(numeric) == 1 and not anew.group("name") else None
    if key is None or len(values) < 2:
        return None
    whole = key in INT_SWEEPS or all(float(v).is_integer() for v in grid[key])
    if any(float(v).is_integer() != whole for v in values):
        return {}
    return {**grid, key: [int(float(v)) if key in INT_SWEEPS else float(v) for v in values]}


def edited_grid(text: str, grid: dict[str, list]) -> dict[str, list] | None:
    """A waiting sweep's grid with values added (SWEEP_ADD), taken out (SWEEP_DROP, DATA_DROP), kept alone
    (SWEEP_ONLY) or said anew (SWEEP_NEW_LIST), or None when the message is none of these, or it cannot tell which
    list (several, none named, or values of another kind): then it is read as any change to a launch. A list left
    with one value stays in the grid with it (the caller makes it a single setting)."""
    dropped_data = DATA_DROP.match(text)
    if dropped_data and dropped_data.group("data").lower() in grid.get("data.name", []):  # "drop shapes"
        return {**grid, "data.name": [d for d in grid["data.name"] if d != dropped_data.group("data").lower()]}
    anew = SWEEP_NEW_LIST.match(text)
    if anew and grid and (anew.group("make") or anew.group("instead") or re.search(r"\b(?:no|nope|actually|wait)\b",
                                                                                   anew.group("lead"), re.I)):
        said = _list_said_anew(anew, grid)  # "make it 30 and 60 instead", "no, 5 and 10"
        if said is not None:  # {}: values of another kind than the list's, asked
            return said or None
    swap = SWEEP_REPLACE.match(text)
    if swap and grid:  # "replace 0.1 with 0.05": in its place, in the list that has it
        old = float(next(filter(None, swap.group("old", "old2", "old3"))))
        new = float(next(filter(None, swap.group("new", "new2", "new3"))))
        keys = [k for k in grid if old in grid[k]]
        if len(keys) != 1 or new in grid[keys[0]]:
            return None
        cast = int if keys[0] in INT_SWEEPS else float
        return {**grid, keys[0]: [cast(new) if v == old else v for v in grid[keys[0]]]}
    m = next(filter(None, (p.match(text) for p in (SWEEP_ADD, *SWEEP_ADD_BARE, SWEEP_DROP, SWEEP_ONLY))), None)
    if not m or not grid:
        return None
    values = [float(v) for v in re.findall(NUMBER, m.group("values"))]
    named = next((k for p, k in SWEEPABLE if m.group("name") and re.fullmatch(rf"(?:{p})", m.group("name").strip(),
                                                                             re.I)), None)
    if m.re in (SWEEP_ADD, *SWEEP_ADD_BARE):
        key = named if named in grid else next(iter(grid)) if len(grid) == 1 and not m.group("name") else None
        if key is None:
            return None
        new = [int(v) if key in INT_SWEEPS else v for v in values if v not in grid[key]]
        return {**grid, key: [*grid[key], *new]}
    keys = [named] if named in grid else [k for k in grid if any(v in grid[k] for v in values)]
    if len(keys) != 1 or not all(v in grid[keys[0]] for v in values):
        return None
    kept = [v for v in grid[keys[0]] if (v in values) == (m.re is SWEEP_ONLY)]
    return {**grid, keys[0]: kept} if kept else None
