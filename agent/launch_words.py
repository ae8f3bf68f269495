"""Reading a launch from a message: a new run, a follow-up of one, a change to a launch waiting for its yes.

Method and data are resolved against the catalogue and the disk (a path must exist), numbers and settings said in
words land in the call (agent/slots.py), a setting changed only by a direction or a multiple is asked about, and a
placement on a cluster backend is read from the words. Every value the user states lands in the call or is asked
about (agent/fidelity.py checks the call afterwards).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from agent.again_words import ref_as_id
from agent.annotating import launch_labels
from agent.fidelity import GO_AHEAD_WITHOUT, LAUNCH_TOOLS, NUMBER_FIELDS, unplaced_switches, written_numbers
from agent.grid_words import (
    DATA_DROP,
    SWEEP_DROP,
    SWEEP_ONLY,
    SWEEP_REPLACE,
    TOP_LEVEL_KEYS,
    edited_grid,
    edited_methods,
    find_grid,
)
from agent.prune_words import AT_THE_END, only_early_stopping, read_prune
from agent.reading import CONFIDENT, MARGIN, RUN_INTENTS, Reading, ask, run_problem
from agent.reply_words import DENY, RUN_NAMED, YES_THEN
from agent.run_refs import World, find_backend, find_runs, mask_runs
from agent.setting_words import assigned_name, find_knobs, named_settings, setting_before_value, short_for
from agent.slots import (
    BUILTIN_DATA,
    MILD_AUGMENTATION,
    MORE_OF_A_RUN,
    NUMBER,
    WORD_NUMBERS,
    find_assignments,
    find_cron,
    find_data,
    find_method,
    find_nodes,
    find_numbers,
    find_time,
    other_backbone,
    resolve_path,
    without_paths,
)
from agent.stop_words import mask_plateau, read_stop
from ssl_runtime.catalogue import BACKBONES, BUILTIN_DATASETS, METHODS, VISION_METHODS, method_settings, prose
from tools.launches import FIELD_KEYS, dotted_setting
from tools.metric_words import logged_by_every_run
from tools.registry import UNSUCCESSFUL
from tools.runs import runs_named
from tools.tool_table import LaunchArgs

TIMES = r"(?:\d+(?:\.\d+)?|two|three|four|five|six|seven|eight|nine|ten)\s*(?:x|times)"
"""A factor said as a count of times ("3x", "3 times", "three times")."""
MULTIPLE_WORDS = {"twice": 2.0, "double": 2.0, "triple": 3.0, "thrice": 3.0, "quadruple": 4.0, "half": 0.5,
                  "halve": 0.5, "a third of": 1 / 3, "a quarter of": 0.25, "a tenth of": 0.1}
"""A factor said in a word; longer words first in MULTIPLE_WORD, so "a third of" is not read as "a"."""
MULTIPLE_WORD = "|".join(w.replace(" ", r"\s+") for w in sorted(MULTIPLE_WORDS, key=len, reverse=True))
MULTIPLE_OF_SETTING = re.compile(
    rf"\b(?:{MULTIPLE_WORD}|{TIMES})\s+(?:the\s+|its\s+|my\s+)?"
    r"(?:default\s+|usual\s+|current\s+)?(learning[ _-]rate|lr|batch(?:[ _-]size)?|temperature|steps|epochs)\b", re.I)
"""A setting given as a multiple of a default ("twice the default learning rate"), which no extractor turns into a
value: it launched at the default, the multiple dropped."""
RELATIVE_SETTING = re.compile(
    r"\b(?:lower|higher|smaller|bigger|larger|reduced|increased|decreased|less|more|fewer)\s+(?P<a>learning[ _-]rate|lr|"
    r"batch(?:[ _-]size)?|temperature|steps|epochs)\b|\b(?:reduce|lower|raise|increase|decrease|drop|bump(?:\s+up)?|cut)\s+(?:the\s+|"
    r"its\s+)?(?P<b>learning[ _-]rate|lr|batch(?:[ _-]size)?|temperature)\b", re.I)
"""A setting changed by a direction and no value ("run 4 again with a lower lr", "reduce the temperature"): the launch
kept the old value, the change dropped."""
LONG_SPAN = re.compile(r"\b(?:overnight|over\s+(?:the\s+)?(?:night|weekend)|all\s+night|(?:till|until)\s+(?:the\s+)?"
                       r"morning)\b", re.I)
"""A span of time said in words ("overnight"): a length or a start the chat cannot tell apart, so it asks (it
launched the default length in silence)."""


class PathCheck:
    def __init__(self, base: Path | None, check: Callable[[str], bool] | None):
        self.base, self.check = base or Path.cwd(), check

    def exists(self, raw: str) -> bool:
        return self.check(raw) if self.check else resolve_path(raw, self.base) is not None


def _data_problem(text: str, cwd: PathCheck) -> tuple[str | None, Reading | None]:
    named = find_data(text)
    if named is None:  # a bare folder name counts when that folder is there: "pretrain moco on my images in imgs"
        for m in re.finditer(r"\b(?:on|in|at|from|under|using)\s+(?:the\s+|my\s+)?(?:folder\s+)?([\w.-]+)", text, re.I):
            if m.group(1).lower() not in ("the", "my", "a", *BUILTIN_DATA) and cwd.check is None \
                    and (cwd.base / m.group(1)).is_dir():
                return m.group(1), None
        return None, None
    if named.value in BUILTIN_DATA:
        return named.value, None
    if named.value is None:
        return None, ask(f"`{named.raw}` is not a built-in dataset (those are {', '.join(BUILTIN_DATA)}). Where is it "
                          "on disk? Give its folder, e.g. `pretrain simclr on /data/cifar10`.")
    if not cwd.exists(named.value):  # the request with a bundled set in its place: "ok use digits then" picks one
        return None, ask(f"I cannot find `{named.value}` on this machine. Check the path (relative paths start from "
                          f"{cwd.base}), or use the bundled `digits` or `shapes`.",
                          [_swap_words(text, named.raw, d) for d in BUILTIN_DATA])
    return named.value, None


def _multiple_without_value(text: str, args: dict, parent: str | None, intents, p: float) -> Reading | None:
    """A question when a setting is given as a multiple ("twice the default learning rate", "run 4 again with half
    the lr"): the value to use, with where to find the one it is a multiple of; None when there is none, or the value
    is given too. The chat knows neither a method's default nor a run's value here (it launched without the change)."""
    m = MULTIPLE_OF_SETTING.search(text)
    if not m or _value_given(m.group(1), args):
        return None
    setting = m.group(1).lower()
    lookup = f"what {setting} did run {parent} use?" if parent else None
    return ask(f"I read \"{m.group(0)}\", but I take settings as values, not as multiples: say the value (e.g. "
               "`lr 0.002`, `batch size 512`)." + (f" `{lookup}` gives run {parent}'s." if lookup else
               " The default learning rate is the method's base rate x batch/256; `sslpilot show RUN` gives an "
               "earlier run's."), [lookup] if lookup else [], intents[:3], p)


LENGTH_MULTIPLE = re.compile(
    rf"\b(?P<k>{MULTIPLE_WORD}|{TIMES})\s+(?:as\s+long|longer|as\s+many\s+"
    r"(?P<unit>steps|epochs|iterations)|the\s+(?:length|training(?:\s+time)?|schedule))\b", re.I)
"""A run's length as a multiple of its parent's ("train run 1 twice as long", "for 3x as many steps", "double the
length"): the steps (or epochs, when said) scaled; it was a forecast, or a relaunch with the length dropped."""
LONGER_ALONE = re.compile(r"^\W*(?:please\s+|can\s+you\s+|could\s+you\s+)?(?:train|run|pretrain|continue)\s+(?:run\s*#?\d+|it|"
                          r"that(?:\s+one)?|this(?:\s+one)?)\s+(?:for\s+)?(?:a\s+(?:bit|little)\s+)?(?:longer|more)"
                          r"(?:\s+please)?\W*$", re.I)
"""Train a run longer, and no amount ("train run 1 longer"): how much is asked, never guessed."""
MULTIPLE_KEYS = {"learningrate": "optim.lr", "lr": "optim.lr", "batch": "train.batch_size",
                 "batchsize": "train.batch_size", "temperature": "method_args.temperature", "steps": "train.steps",
                 "epochs": "train.epochs"}


def multiples_of_parent(text: str, args: dict) -> dict[str, float]:
    """Settings a follow-up gives as multiples of its parent's ("run 4 again with twice the batch size", "half the
    lr"): {config key: factor}, for the tool to make values of (LaunchArgs.scale). Not "twice the default lr" (the
    method's, not the run's), nor a setting whose value is given too."""
    out = {}
    for m in MULTIPLE_OF_SETTING.finditer(text):
        if re.search(r"\bdefault\b", m.group(0), re.I) or _value_given(m.group(1), args):
            continue
        out[MULTIPLE_KEYS[re.sub(r"[ _-]", "", m.group(1).lower())]] = factor_of(m.group(0))
    for m in LENGTH_MULTIPLE.finditer(text):  # "twice as long", "3x as many epochs"
        key = "train.epochs" if (m.group("unit") or "").lower() == "epochs" else "train.steps"
        if key not in out and not _value_given(key.split(".")[1], args):
            out[key] = factor_of(m.group("k"))
    return out


def factor_of(said: str) -> float:
    """The factor a multiple starts with: "twice the lr" 2, "a third of" 1/3, "3x" 3, "three times" 3."""
    word = said.lower()
    named = next((v for w, v in MULTIPLE_WORDS.items() if word.startswith(w)), None)
    if named is not None:
        return named
    count = re.match(r"\d+(?:\.\d+)?|[a-z]+", word).group(0)
    return float(count) if count[0].isdigit() else float(WORD_NUMBERS[count])


def _direction_without_value(text: str, args: dict, parent: str | None, intents, p: float) -> Reading | None:
    """A question when a setting is changed by a direction alone ("with a lower lr"): the value to use, and where to
    find the one it had; None when none is, or the value is given too ("lower the lr to 0.001")."""
    m = next((m for m in RELATIVE_SETTING.finditer(text) if not (_value_given(m.group("a") or m.group("b"), args) or
                                                                  re.search(r"\d", text[m.end():m.end() + 40]))), None)
    if not m:  # no direction, or a value said with each ("lower the lr of run 4 to 0.001": placed or asked about;
        return None  # "for 50 more steps with a lower lr": the steps have theirs, the lr has none)
    setting = (m.group("a") or m.group("b")).lower()
    example = {"lr": "lr 0.0005", "learning rate": "lr 0.0005", "temperature": "temperature 0.1", "steps": "500 steps",
               "epochs": "50 epochs"}.get(setting.replace("_", " ").replace("-", " "), "batch size 128")
    lookup = f"what {setting} did run {parent} use?" if parent else None
    which = f"how many {setting}" if setting in ("steps", "epochs") else f"which {setting}"
    return ask(f"I read \"{m.group(0)}\", but I take settings as values: {which} should it use? Say it "
               f"(e.g. `{example}`)" + (f"; `{lookup}` gives run {parent}'s." if lookup else "."),
               [lookup] if lookup else [], intents[:3], p)


def _value_given(setting: str, args: dict) -> bool:
    """Whether the launch also states the value of the setting a multiple names ("... twice the lr: lr 0.004")."""
    key = MULTIPLE_KEYS[re.sub(r"[ _-]", "", setting.lower())]
    field = next((f for f, k in FIELD_KEYS.items() if k == key), None)
    scaled = key == "optim.lr" and "optim.lr_scale" in args.get("overrides", {})  # "half the default lr": a scale
    return (field is not None and args.get(field) is not None) or key in args.get("overrides", {}) or scaled


def _swap_words(text: str, old: str, new: str) -> str:
    """The message with what it named replaced (case-insensitively): an option that keeps every other value."""
    return re.sub(re.escape(old), new, text, count=1, flags=re.I)


def method_and_data(text: str, cwd: PathCheck, method_text: str | None = None) -> tuple[dict, Reading | None]:
    """The method and data a launch names ({} for those it does not), or the question when one cannot be resolved
    (an unknown method, a folder that is not there). `method_text`: where to look for the method, if not `text`."""
    method, problem = method_problem(text if method_text is None else method_text)
    if problem:
        return {}, problem
    data, problem = _data_problem(text, cwd)
    if problem:
        return {}, problem
    return {k: v for k, v in (("method", method), ("data", data)) if v}, None


def method_problem(text: str) -> tuple[str | None, Reading | None]:
    named = find_method(text)
    if named is None:
        return None, None
    if named.value is None:  # the request as written, with a method sslpilot has in its place: "ok, simclr" picks one
        return None, ask(f"sslpilot has no `{named.raw}`. It can pretrain {prose()}. Which one?",
                          [_swap_words(text, named.raw, m) for m in ("simclr", "dino")])
    return named.value, None


TOP_LEVEL_ARGS = tuple(k for k in FIELD_KEYS if k != "num_gpus")  # launch arguments a `key=value` may name


def launch_args(text: str, method: str | None = None) -> dict:
    """Numbers, knobs and explicit `key=value` settings; the explicit ones win over what was read from words.
    `method`: the launch's when the message does not name it (a follow-up's parent's)."""
    args: dict = {}
    text = setting_before_value(text)  # "use 0.3 for the temperature"
    numbers = find_numbers(mask_plateau(text))  # "stop if the loss hasn't improved for 300 steps": no run length
    overrides = {**numbers.pop("overrides", {}), **find_knobs(text, method)}
    args.update(numbers)
    read = {**numbers, **overrides}
    for key, value in find_assignments(text).items():
        key = assigned_name(text, key)  # "learning rate = 5e-4": lr
        if key in TOP_LEVEL_ARGS:
            args[key] = value
        elif key in ("method", "data") and isinstance(value, str):  # "method=simclr": the launch's own, not a knob
            named = find_method(value) if key == "method" else None
            args[key] = named.value if named and named.value else value
        elif any(short_for(key, k) and v == value for k, v in read.items()):  # "temp=0.3",
            continue  # "bs=64": a short name of a setting the words were read as above
        else:  # a bare name is the section's that has it ("warmup_epochs=3"), else a method knob ("temperature=0.2")
            overrides[dotted_setting(key)] = value
    overrides.update(_stop_settings(text))
    if overrides:
        args["overrides"] = overrides
    return args


def _stop_settings(text: str) -> dict:
    """A launch told when to stop ("... and stop if it collapses", "... stop when the loss drops below 0.5", "...
    early stop if the loss plateaus"): the monitor's stop on failure, or a stop rule over a metric every run logs.
    Lengths are the run's steps, read elsewhere; a bar with no direction ("reaches") or a metric no run logs is left
    for the question back."""
    stop = read_stop(text)
    if not stop:
        return {}
    if stop.get("on_failure"):
        return {"monitor.on_failure": "stop"}
    if "stops" in stop and logged_by_every_run(stop["metric"]):  # a plateau
        wait = "".join(f" for {_plain(stop[f'for_{unit}'])} {unit}" for unit in ("steps", "epochs")
                       if f"for_{unit}" in stop)
        return {"monitor.stop_when": [f"{stop['metric']} stops {stop['stops'].replace('moving', 'improving')}{wait}"]}
    bar = [(op, stop[k]) for op, k in (("<", "below"), (">", "above")) if k in stop]
    if bar and logged_by_every_run(stop["metric"]):
        return {"monitor.stop_when": [f"{stop['metric']}{bar[0][0]}{bar[0][1]:g}"]}
    return {}


def _plain(n: float) -> str:
    """A count as a rule's text needs it: 1000000, not 1e+06."""
    return str(int(n)) if float(n).is_integer() else str(n)


def read_launch(intent: str, text: str, context: dict, world: World, p: float, intents, cwd) -> Reading:
    """A launch, schedule or sweep, with the name and tags the message gives the run."""
    text, labels = launch_labels(text)
    prune, rest = read_prune(text)
    if prune.get("prune_metric") in AT_THE_END:  # "prune by probe accuracy": measured only at a run's end
        return ask("The linear probe is measured when a run ends, so a sweep's runs cannot be compared on it halfway. "
                   "Stop the weak runs on the kNN monitor instead (kNN accuracy as they train, on labelled images)?",
                   [f"{rest}, with early stopping by knn accuracy"], intents[:3], p)
    if prune and find_grid(rest):  # "sweep lr 0.01 and 0.1 with hyperband": the sweep, then its early stopping
        reading = _launch_reading(intent, rest, context, world, p, intents, cwd)
        if reading.kind == "tool" and reading.tool == "launch_sweep":
            reading.args.update(prune)
    elif prune and not only_early_stopping(text):  # successive halving needs runs to compare
        return ask("Stopping the weak runs early (successive halving) compares the runs of a sweep, and this is one "
                   "run. Give it values to try (e.g. `lr 0.01 and 0.1`), or stop it on its own plateau?",
                   [f"{rest}, lr 0.01 and 0.1, with early stopping", f"{rest}, with early stopping"], intents[:3], p)
    else:  # "pretrain simclr with early stopping": the run's own plateau stop (stop_words)
        reading = _launch_reading(intent, text, context, world, p, intents, cwd)
    if reading.kind == "tool":
        reading.args.update(labels)
    return reading


def _launch_reading(intent: str, text: str, context: dict, world: World, p: float, intents, cwd) -> Reading:
    named, problem = method_and_data(text, cwd)
    if problem:
        return problem
    waits, problem = read_wait(text, world)
    if problem:
        return problem
    method, data = named.get("method"), named.get("data")
    other = other_backbone(text)
    if other:  # never a substitute for an architecture asked for by name
        return ask(f"sslpilot does not build `{other}`. Its backbones are {', '.join(BACKBONES)} (`backbone.name`), "
                    "or a local model folder (`backbone.pretrained=PATH`). Which one?",
                    [_swap_words(text, other, name) for name in (BACKBONES[1], BACKBONES[3])], intents[:3], p)
    args = launch_args(text)
    vague = _direction_without_value(text, args, None, intents, p)
    if vague:
        return vague
    default_lr = MULTIPLE_OF_SETTING.search(text)
    if default_lr and MULTIPLE_KEYS[re.sub(r"[ _-]", "", default_lr.group(1).lower())] == "optim.lr" and not \
            _value_given("lr", args):  # "half the default learning rate" of a new run: the default peak rate scaled
        args["overrides"] = {**args.get("overrides", {}), "optim.lr_scale": factor_of(default_lr.group(0))}
    multiple = _multiple_without_value(text, args, None, intents, p)
    if multiple:
        return multiple
    span = LONG_SPAN.search(text)
    if span and "train.max_minutes" not in args.get("overrides", {}):  # a span of time, not a length or a start
        hours = 48 if "weekend" in span.group(0).lower() else 8
        options = [_swap_words(text, span.group(0), f"for {hours} hours"), _swap_words(text, span.group(0),
                                                                                         "tonight at 11pm")]
        return ask(f"\"{span.group(0)}\": should it train for that long from now (say `for {hours} hours`: it stops "
                    "there with a checkpoint, its length fitted to the time), or start later (`tonight at 11pm`)?",
                    options, intents[:3], p)
    if MILD_AUGMENTATION.search(text) and "augment.strength" not in args.get("overrides", {}):
        return ask("How much weaker? `augment.strength` is 1.0 by default (the published recipe) and 0 makes both "
                    "views the same image; 0.5 is a common middle.",
                    [f"{text.rstrip('.!? ')}, augmentation strength {v}" for v in (0.5, 0.7)], intents[:3], p)
    if method:
        args["method"] = method
    if data:
        args["data"] = data
    if not method and not data:
        refs = find_runs(text, world, about_runs=False)
        if refs.ids:  # "run 4 again": a follow-up
            return read_relaunch(text, context, world, p, intents, cwd)
        return ask("Which method, on which data? e.g. `pretrain simclr on ./photos` or `dino on shapes`.",
                    ["pretrain simclr on digits", "pretrain dino on shapes"], intents[:3], p)
    if data and not method and not find_runs(text, world, about_runs=False).ids:
        return ask(f"Which method on {data}? e.g. {', '.join(VISION_METHODS)}.",
                    [f"pretrain {m} on {data}" for m in VISION_METHODS[:3]], intents[:3], p)
    placement, problem = read_placement(text, world)
    if problem:
        return problem
    args.update(placement)
    cron = find_cron(text)  # a cron written out wins over any time read from the words around it
    when = {"cron": cron} if cron else find_time(without_wait(text))
    if waits and not when:  # "queue byol after run 3 finishes": a launch now that waits, not a schedule
        args.update(waits)
        intent = "launch_pretraining"
    elif waits:
        ids = waits.get("after_runs") or [waits["after_run"]]
        return ask(f"Start it at a time, or once {runs_named(ids)} {'has' if len(ids) == 1 else 'have'} finished? A "
                   "launch can wait for one or the other, not both: say it without the time to wait.",
                   [without_wait(text).strip()], intents[:3], p)
    if intent == "schedule_pretraining" or when:
        if not when:
            return ask("When should it start? e.g. `tonight at 11pm`, `in 2 hours`, `every night at 2`.")
        return Reading("tool", "schedule_pretraining", {**args, **when}, confidence=p, intents=intents[:3])
    grid = find_grid(text)
    if grid:  # "lr 1e-3, 3e-3 and 1e-2": one run per value, and the single readings of those settings go
        return Reading("tool", "launch_sweep", {**_without_swept(args, grid), "grid": grid}, confidence=p,
                       intents=intents[:3])
    return Reading("tool", "launch_pretraining", args, confidence=p, intents=intents[:3])


# a launch that waits for other runs: "after run 3 finishes", "once #3 is done", "when runs 3 and 4 have succeeded",
# "after both run 1 and run 3 complete"; "after run 3" alone too, not "after run 3's warmup"
DONE_WORDS = (r"(?:finish(?:es|ed)?|complete[sd]?|ends?|ended|succeeds?|succeeded|stops?|stopped|wraps?\s+up|"
              r"(?:is|are)\s+(?:all\s+)?(?:done|finished|over|complete|completed|through)|"
              r"ha(?:s|ve)\s+(?:all\s+)?(?:finished|succeeded|completed|ended|been\s+done))")
RUN_LIST = (r"(?:both\s+)?(?:runs?\s*#?\s*|#)\d+(?!['\u2019]s)\b(?:\s*(?:,\s*and|,|and|&)\s*(?:runs?\s*)?#?\s*"
            r"\d+(?!['\u2019]s)\b)*")
AFTER_RUN = re.compile(rf"\b(?:after|once|when|as\s+soon\s+as)\s+(?P<runs>{RUN_LIST})(?P<done>\s+{DONE_WORDS}\b)?",
                       re.I)
# ... or the run going now: "after the current run finishes", "once the running one is done"
AFTER_CURRENT = re.compile(rf"\b(?:after|once|when|as\s+soon\s+as)\s+(?:the|my|our|this)\s+(?:current|running|"
                           rf"active|ongoing)\s+(?:run|one|job|training)(?:\s+{DONE_WORDS})?\b|\b(?:after|once|when)"
                           rf"\s+(?:the\s+)?(?:run|one|job)\s+(?:that'?s\s+|that\s+is\s+|in\s+progress|running)"
                           rf"(?:running)?(?:\s+now)?\s+{DONE_WORDS}\b", re.I)
# ... and any ending will do (Slurm's afterany): "whether or not it succeeds", "even if it fails", "no matter how"
ANY_ENDING = re.compile(r",?\s*\b(?:whether\s+or\s+not\s+(?:it|they|one|either)\s+\w+|whether\s+(?:it|they)\s+"
                        r"(?:succeeds?|fails?|works?)\s+or\s+not|even\s+if\s+(?:it|they|one|either|any)(?:\s+of\s+"
                        r"them)?\s+(?:fails?|crash(?:es)?|diverges?)|(?:success|succeed(?:ed)?|failed|pass)\s+or\s+"
                        r"(?:not|fail(?:ed|ure)?)|no\s+matter\s+(?:how|what)(?:\s+(?:it|they)\s+ends?)?|however\s+"
                        r"(?:it|they)\s+ends?|either\s+way|regardless(?:\s+of\s+(?:how\s+(?:it|they)\s+ends?|the\s+"
                        r"(?:outcome|result)))?|whatever\s+(?:happens|the\s+(?:outcome|result)))\b", re.I)


AFTER_DESCRIBED = re.compile(rf"\b(?:after|once|when|as\s+soon\s+as)\s+(?P<ref>(?:the|my|our)\s+(?!(?:current|running|active|"
                             rf"ongoing)\b)[\w.-]+(?:\s+[\w.-]+)?\s+(?:run|one|job|training))(?=\s+{DONE_WORDS}\b)", re.I)
"""A run waited for, described ("after the vicreg run is done"): written as its id before the launch is read, so
the wait is kept and its method is not taken for the launch's."""


def waits_described_as_ids(text: str, world: World) -> str:
    """`text` with a run it waits for by description written as "run N", when exactly one run fits."""
    return ref_as_id(text, AFTER_DESCRIBED.search(text), lambda ref: find_runs(ref, world).ids)


def _wait_said(text: str) -> re.Match | None:
    m = AFTER_RUN.search(text)
    if m and (m.group("done") or m.group(0).lower().startswith("after")):
        return m
    return AFTER_CURRENT.search(text)


def waits_for_a_run(text: str) -> bool:
    """Whether the message makes something wait for a run to finish ("after run 3 finishes", "once the current run
    is done")."""
    return _wait_said(text) is not None


def read_wait(text: str, world: World) -> tuple[dict, Reading | None]:
    """The runs a launch is to wait for (`after_run`, or `after_runs` for several) and whether any ending will do
    (`after_any`), or a question: a run that is not here, one that already ended when it must succeed, or "the
    current run" when none or several are running. "When run 3 ..." without an ending ("when run 3 collapsed") is
    not a wait."""
    m = _wait_said(text)
    if m is None:
        return {}, None
    any_ending = {"after_any": True} if ANY_ENDING.search(text) else {}
    if m.re is AFTER_RUN:
        ids = list(dict.fromkeys(re.findall(r"\d+", m.group("runs"))))
        missing = [rid for rid in ids if world.run(rid) is None]
        present = [rid for rid in ids if rid not in missing]
        if missing:
            offers = [f"after {runs_named(present)} {'finishes' if len(present) == 1 else 'finish'}"] if present else [
                f"after run {r.id} finishes" for r in world.runs[-2:]]
            return {}, ask(f"There is no run {missing[0]} here to wait for ({len(world.runs)} runs). Which run should "
                           "it wait for?", [_swap_words(text, m.group(0), o) for o in offers])
        ended = [world.run(rid) for rid in ids if world.run(rid).status in UNSUCCESSFUL]
        if ended and not any_ending:  # as tools.runs.waited_on refuses
            r = ended[0]
            if len(ids) == 1:
                return {}, ask(f"Run {r.id} already ended {r.status}, so a run waiting for it to succeed would never "
                               "start. Launch it now instead?", [without_wait(text)])
            return {}, ask(f"Run {r.id} already ended {r.status}, so a run waiting for {runs_named(ids)} to succeed "
                           "would never start. Launch it now instead, or once they have all ended, however they end?",
                           [without_wait(text), f"{text.rstrip('.!? ')}, whether or not they succeed"])
        return {**({"after_run": ids[0]} if len(ids) == 1 else {"after_runs": ids}), **any_ending}, None
    going = [r for r in world.runs if r.status in ("running", "queued")]  # "the current run"
    if len(going) == 1:
        return {"after_run": going[0].id, **any_ending}, None
    if not going:
        return {}, ask("No run is running or queued now, so there is nothing to wait for. Launch it now?",
                       [without_wait(text)])
    return {}, ask(f"Runs {', '.join(r.id for r in going)} are running or queued. Which should it wait for?",
                   [_swap_words(text, m.group(0), f"after run {r.id} finishes") for r in going[:3]])


def without_wait(text: str) -> str:
    """The message less its wait ("queue byol on digits after run 3 finishes, even if it fails" -> "queue byol on
    digits"), so the time read beside it is not "after run 3", and a question can offer the launch without it."""
    m = _wait_said(text)
    if m is None:
        return text
    rest = ANY_ENDING.sub(" ", text[:m.start()] + " " + text[m.end():])
    return re.sub(r"\s+", " ", rest).strip(" ,")


# "on the cluster", "to slurm", "on our gpu cluster", "on the ray cluster", "across 3 nodes"
CLUSTER = re.compile(r"\b(on|to|using|via)\s+(the\s+|our\s+|my\s+)?([\w-]+\s+)?"
                     r"(cluster|slurm|ray|hpc|supercomputer)\b|\b(\d+)\s*nodes?\b", re.I)


def read_placement(text: str, world: World) -> tuple[dict, Reading | None]:
    """"on the cluster", "on slurm", "on the ray cluster", "on <backend name>", "with 2 nodes": a cluster launch on
    a configured backend. A name wins; then the kind named (slurm, ray); the only candidate is used, several get a
    question, none gets how to add one."""
    named = find_backend(text, world)
    m = CLUSTER.search(text)
    if named is None and m is None:
        return {}, None
    nodes = find_nodes(text)
    out: dict = {"nodes": nodes} if nodes else {}
    if named:
        return {**out, "backend": named}, None
    kind = next((k for k in ("slurm", "ray") if m and re.search(rf"\b{k}\b", m.group(0).lower())), None)
    candidates = [b for b, k in world.backends.items() if kind in (None, k)]
    if not candidates:
        what = f"No {kind} cluster" if kind and world.backends else "No cluster"
        return {}, ask(f"{what} is set up yet. Add one with `sslpilot backend add NAME --kind slurm --partition P` "
                        "or `--kind ray --address http://HEAD:8265`, then ask again; or leave out the cluster to run "
                        "here.")
    if len(candidates) > 1:
        return {}, ask(f"Which cluster: {', '.join(candidates)}?", [f"{text} on {b}" for b in candidates[:3]])
    return {**out, "backend": candidates[0]}, None


# how people start a change to what was just proposed: "no, 500 steps", "actually 40 epochs", "make it byol"
CHANGE_WORDS = re.compile(r"^\W*(?:no|nah|nope|wait|actually|also|and|oh|hmm+|ok|okay|but|make|change|switch|set|use|"
                          r"lower|raise|increase|decrease|reduce|bump|double|halve|try|let'?s|can you|could you|"
                          r"please|then|rather|with)\b|\binstead\b", re.I)
A_SETTING_ALONE = re.compile(r"^\W*(?!(?:search|find|look|show|list|compare|diagnose|plot|what|which)\b)"
                             r"(?:[a-z_.-]+\s+){0,2}[a-z_.-]+\s*(?:=|:|\bto\b|\bof\b)?\s*-?\d[\d.,]*(?:e-?\d+)?\s*%?\W*$",
                             re.I)
"""A setting and its value and nothing else ("mask ratio 0.6", "lr: 0.1"): while a launch waits, a change of it,
whatever else the words might suggest (a search for "mask ratio")."""
LENGTHS = ("epochs", "steps")  # one replaces the other: "make it 300 steps" after "for 20 epochs"
WHEN = ("at", "cron")


DURATION_ALONE = re.compile(r"^(?=\W*\d+(?:\.\d+)?\s*(?:hours?|hrs?|minutes?|mins?)(?:\s+(?:instead|then|please))*\W*$)\W*",
                            re.I)
"""A length of time and nothing else ("25 minutes", "2 hours instead"): said to a waiting launch, how long it trains."""


def launch_changes(text: str, cwd: PathCheck | None = None, method: str | None = None) -> tuple[dict, Reading | None]:
    """The launch settings a message states on its own (numbers, knobs, `key=value`, method, data, time), with the
    question to ask when one of them cannot be resolved (an unknown method, a missing folder). `method`: the
    pending launch's."""
    cwd = cwd or PathCheck(None, None)
    text = DURATION_ALONE.sub(r"for \g<0>", text)  # "25 minutes" to a waiting launch: its time limit
    args = launch_args(text, method)
    named, problem = method_and_data(text, cwd, method_text=without_paths(text))
    if problem:
        return args, problem
    cron = find_cron(text)
    args.update({"cron": cron} if cron else find_time(text))
    args.update(named)
    return args, None


def pending_method(pending: dict, world: World | None = None) -> str | None:
    """The method a pending launch trains: its own, or its parent run's."""
    args = pending.get("args") or {}
    parent = world.run(str(args["parent_run"])) if world and args.get("parent_run") else None
    return args.get("method") or (parent.method if parent else None)


WAIT_EDITED = re.compile(r"^\W*(?:(?:no|nope|actually|wait|sorry|hmm+|oh|ok(?:ay)?|but|and|then)\W+)*(?:(?:make\s+it|have\s+it|"
                         r"let\s+it)\s+)?(?:(?:wait|start)\s+)?(?:(?:only|just)\s+)?(?:after|once|when)\b", re.I)
"""The wait of a waiting launch said again ("no, after run 1", "but only after run 3 finishes")."""
NO_WAIT = re.compile(r"\b(?:don'?t|do\s+not|no\s+need\s+to)\s+wait\b|\bwithout\s+waiting\b|\bstart\s+it\s+(?:right\s+)?"
                     r"(?:now|away|immediately)\b", re.I)
"""A waiting launch's wait taken off ("don't wait, start it now")."""
WAITS = ("after_run", "after_runs", "after_any")


def _wait_edit_said(text: str) -> bool:
    """Whether the message only says the wait again ("no, after run 1"): nothing after the wait but filler."""
    said = _wait_said(text) if WAIT_EDITED.match(text) else None
    return said is not None and not re.sub(r"[\W_]+|\b(?:instead|then|please|rather)\b", "", text[said.end():],
                                           flags=re.I)


def wait_edited(text: str, pending: dict, world: World, intents) -> Reading | None:
    """The waiting launch with its wait for other runs said again (WAIT_EDITED) or taken off (NO_WAIT); None when the
    message does neither. Read as anything else, "no, after run 1" showed run 1 and dropped the launch."""
    args = {k: v for k, v in (pending.get("args") or {}).items() if v not in (None, {}, [])}
    if pending.get("tool") not in LAUNCH_TOOLS:
        return None
    if NO_WAIT.search(text) and any(args.get(k) for k in WAITS):
        return Reading("tool", pending["tool"], {k: v for k, v in args.items() if k not in WAITS}, confidence=1.0,
                       intents=intents[:3])
    if not _wait_edit_said(text):  # "when run 3 finishes, launch byol on digits" is a request of its own
        return None
    waits, problem = read_wait(text, world)
    if problem:
        return problem
    return Reading("tool", pending["tool"], {**{k: v for k, v in args.items() if k not in WAITS}, **waits},
                   confidence=1.0, intents=intents[:3])


def changes_launch(text: str, pending: dict) -> bool:
    """Whether a message reads as a change of the waiting launch (agent/graph.py's gate holds the launch for `amend`
    then): a setting ("no, 500 steps"), an unknown method asked about ("no, use swav"), a waiting sweep's list
    edited ("no, only 0.3"), or a list of values ("seeds 0 and 1"; not "the lrs of runs 1 and 2")."""
    said, (text, labels) = text, launch_labels(text)  # "and tag it shapes-test": a tag, not the shapes data
    if labels and YES_THEN.match(said):  # "yes, and tag it as quick": a yes, then the queued run's tag
        labels = {}
    changes, problem = launch_changes(text, method=pending_method(pending))
    return bool(labels or changes or problem or edited_grid(text, (pending.get("args") or {}).get("grid") or {})
                or (find_grid(text) and not RUN_NAMED.search(text)) or _wait_edit_said(text)
                or NO_WAIT.search(text) and any((pending.get("args") or {}).get(k) for k in WAITS))


def amend(text: str, pending: dict, world: World, intents, cwd: PathCheck, asked: str | None = None,
          written: str | None = None) -> Reading | None:
    """The pending launch with what this message changes, when it changes something and reads as a change: not a
    whole new request (a method and data of its own), not a confident question about something else. `asked` is
    the setting the user's last message asked the launch about ("what batch size will it use?"), which a bare
    number now sets ("make it 128"). `written`: the message before its leading "and"/"also" came off, which
    says whether a method named is added to those compared or put in their place."""
    text, labels = launch_labels(text)  # "and tag it shapes-test": the launch's tags, and no dataset
    waits = wait_edited(text, pending, world, intents)
    if waits is not None:  # "no, after run 1": the wait said again (it showed run 1)
        return waits
    if pending.get("tool") not in LAUNCH_TOOLS or find_runs(text, world, about_runs=False).ids:
        return None  # a message that names one of your runs is about that run
    one = (pending.get("args") or {}).get("method")
    methods = edited_methods(written or text, (pending.get("args") or {}).get("methods") or ([one] if one else []))
    if methods:  # "also vicreg", "drop byol": the methods the waiting sweep compares
        return _methods_compared(pending["args"], methods, intents)
    grid = edited_grid(text, (pending.get("args") or {}).get("grid") or {})
    if grid:  # "add 3.0 too", "drop the 0.01": the waiting sweep's lists changed
        return Reading("tool", *_sweep_or_run({k: v for k, v in pending["args"].items() if v not in (None, {}, [])},
                                              grid), confidence=1.0, intents=intents[:3],
                       taken_out=bool(SWEEP_DROP.match(text) or SWEEP_ONLY.match(text) or SWEEP_REPLACE.match(text)
                                 or DATA_DROP.match(text)))
    reset = default_again(text, pending, intents)
    if reset is not None:  # "actually use the default batch size": the value given taken out
        return reset
    changes, problem = launch_changes(text, cwd, pending_method(pending, world))
    that = THAT_MULTIPLE.match(text) if not changes and problem is None else None
    shown = (pending.get("shown") or {}).get(asked) if that and asked else None
    if isinstance(shown, (int, float)):  # "half that": the value just set, scaled
        factor = factor_of(that.group("k"))
        value = shown * factor if isinstance(shown, float) or asked == "optim.lr" else max(1, round(shown * factor))
        method = pending_method(pending, world)
        changes, problem = launch_changes(_setting_said(asked, f"{value:g}", method), cwd, method)
    elif that:  # "double that" of two values, or of none the proposal showed: which
        return _which_multiplied(that.group("k"), pending, intents)
    bare = written_numbers(text) if asked and not changes and problem is None else []
    if len(bare) == 1:
        method = pending_method(pending, world)
        changes, problem = launch_changes(_setting_said(asked, f"{bare[0].value:g}", method), cwd, method)
    more = values_too(written or text, pending) if not changes and problem is None else None
    if more is not None:  # "try 0.1 and 0.5 as well": a run for each beside the waiting one
        return Reading("tool", *more, confidence=1.0, intents=intents[:3])
    second = another_run(written or text, pending, changes) if problem is None else None
    if second is not None:  # "and another one with batch 64": both runs, as a sweep of that one setting
        return second if isinstance(second, Reading) else Reading("tool", *second, confidence=1.0, intents=intents[:3])
    scaled = multiples_of_pending(text, pending) if problem is None else {}
    if isinstance(scaled, Reading):
        return scaled
    changes = {**changes, **scaled, "overrides": {**changes.get("overrides", {}), **scaled.get("overrides", {})}}
    if not changes["overrides"]:
        del changes["overrides"]
    grid = find_grid(text)  # "try lr 1e-3 and 3e-3 instead", "make it two runs, seeds 0 and 1": a sweep from here on
    numbers = written_numbers(text) if not changes and not grid and problem is None else []
    parts = unplaced_switches(text) if not changes and problem is None else []  # "and no blur": asked, not lost
    if not changes and problem is None and not numbers and not parts and not grid and not labels:
        return None
    top, p = intents[0]
    elsewhere = top not in (*LAUNCH_TOOLS, *RUN_INTENTS, "help") and p >= CONFIDENT and p - intents[1][1] >= MARGIN
    if elsewhere and not labels and not CHANGE_WORDS.search(text) and not A_SETTING_ALONE.match(text) \
            and not ANOTHER_RUN.match(text) and not CORRECTING.match(text):  # "search the literature
        # for temperature 0.5" is a search
        return None
    if numbers:  # "make that 250": a number for the launch, but which setting is the user's to say
        return _which_setting(numbers[0].value, pending, intents)
    if parts:  # the launch as it stands: the fidelity check asks about the part, the launch kept to go ahead with
        return Reading("tool", pending["tool"], {k: v for k, v in pending["args"].items() if v not in (None, {}, [])},
                       confidence=1.0, intents=intents[:3])
    if problem is not None:  # "no, use swav": asked about, never dropped
        return problem
    if "method" in changes and "data" in changes:  # a whole new request, read on its own
        return None
    placement, problem = read_placement(text, world)
    if problem:
        return problem
    args = {k: v for k, v in pending["args"].items() if v not in (None, {}, [])}
    for group in (LENGTHS, WHEN):
        if any(k in changes for k in group):
            for k in group:
                args.pop(k, None)
    overrides = {**args.get("overrides", {}), **changes.pop("overrides", {})}
    if "method" in changes:  # "no, make it moco" of methods compared: that one method now
        args.pop("methods", None)
    args.update(changes, **placement)
    if "data" in changes and "data.name" in (args.get("grid") or {}):  # "just shapes": one dataset, not the sweep's
        args["grid"] = {k: v for k, v in args["grid"].items() if k != "data.name"}
        if not args["grid"]:
            del args["grid"]
    if labels.get("tags"):
        args["tags"] = list(dict.fromkeys([*args.get("tags", []), *labels["tags"]]))
    if labels.get("name"):
        args["name"] = labels["name"]
    if overrides:
        args["overrides"] = overrides
    if grid:
        args = {**_without_swept(args, grid), "grid": {**args.get("grid", {}), **grid}}
    tool = "schedule_pretraining" if any(k in args for k in WHEN) else "launch_sweep" if args.get("grid") or \
        args.get("methods") else "launch_pretraining"
    if tool == "launch_pretraining":  # a sweep cut to one run ("just shapes") keeps no sweep's fields
        args = {k: v for k, v in args.items() if k in LaunchArgs.model_fields}
    return Reading("tool", tool, args, confidence=1.0, intents=intents[:3])


_A_QUESTION = (r"(?=\W*(?:(?:and|so|but|ok(?:ay)?|hmm?)\W+)?(?:how|what|which|where|when|is|are|will|would|does|do|"
               r"can|could|should|roughly|approximately)\b|.*\?\s*$)")
_NOT_PAST = r"(?!.*\b(?:did|was|were|has|had)\b)"  # not about what a run already did
PENDING_ASKED = re.compile(
    rf"^{_A_QUESTION}"
    r"(?=.*\b(?:it|that|this|they|the\s+(?:launch|sweep|job|training|new\s+run))\b|.*\b(?:will|would|'ll|going\s+to)\b)"
    rf"{_NOT_PAST}", re.I | re.S)
"""A question about "it" or what will be ("how long will that take?", "what batch size will it use?", "how many
runs is that?"), not about a run's past ("how long did run 4 take?")."""
LAUNCH_FACTS = re.compile(r"\b(?:long|time|takes?|last|minutes?|hours?|seconds?|batch(?:\s+size)?|steps?|epochs?|lr|"
                          r"learning\s+rate|rate|device|gpus?|cpu|memory|ram|fit|runs|cost|estimate\w*|settings?|"
                          r"config\w*|temperature|augment\w*|backbone|image\s+size|size|start|finish|done|optimi[sz]er|"
                          r"schedule|warm-?up|crops?|views?)\b", re.I)
"""What a launch's proposal shows: its length, time, cost, devices and settings (any setting named is one too)."""
SETTING_ALONE_ASKED = re.compile(r"^\W*(?:(?:and|so|ok(?:ay)?)\W+)?(?:what(?:'s|\s+is|\s+are)|how\s+(?:big|large|long|"
                                 r"many))\s+(?:the|its)\s+[\w -]{2,30}?\s*\??\s*$", re.I)
"""A setting asked about by its name alone ("what's the mask ratio?") while a launch waits: that launch's value."""
COST_ASKED = re.compile(r"\b(?:how\s+long|time|takes?|minutes?|hours?|cost|estimate\w*|expensive|compute)\b", re.I)
"""What a follow-up would take, asked before it is proposed ("how long would that take?")."""


BARE_VALUE = re.compile(r"^[\W_]*(?:(?:make\s+(?:it|that)|use|try|(?:set|change)\s+(?:it|that)\s+to|rather|instead|then|please)\s+)*"
                        r"[-+]?\d[\d.,e-]*"
                        r"(?:\s+(?:instead|then|please|rather))*[\W_]*$", re.I)
"""A number with nothing else that could say what it is for ("0.1", "make it 0.1 instead")."""
SETTING_ASKED = re.compile(rf"^{_A_QUESTION}{_NOT_PAST}", re.I | re.S)
"""A question that may name a setting of the waiting launch: not about the past of a run."""


THAT_MULTIPLE = re.compile(r"^\W*(?:(?:no|nah|actually|hmm+|ok(?:ay)?|wait)\W+)*(?:(?:make|set)\s+(?:it|that)\s+(?:to\s+)?)?"
                           rf"(?P<k>{MULTIPLE_WORD}|\d+(?:\.\d+)?\s*x|\d+\s+times)\s+"
                           r"(?:that|it|this|the\s+value|as\s+(?:much|many))(?:\s+(?:instead|then|please))*\W*$", re.I)
"""A multiple of the value just given ("half that", "double it", "make that 3 times as many"): the setting the previous
message set to the last number it wrote, scaled (the proposal shows it before any yes)."""


def asked_setting(previous: str | None, text: str = "") -> str | None:
    """The setting (a dotted key) the user's previous message asked the waiting launch about, if it was such a
    question naming one setting ("what batch size will it use?", "is 30 steps enough?", "what does the mask ratio
    do?"), which a bare number in the next message (`text`) then sets ("make it 128"). A no with a bare value
    ("no, 0.1") also corrects the one setting the previous message set to a number of its kind ("use lr 0.3", "20
    steps with lr 0.5")."""
    if not previous:
        return None
    if THAT_MULTIPLE.match(text):  # "lr 0.01" ... "half that": the value set, the last written of several
        numbers = written_numbers(previous)
        given = _values_given(previous, numbers[-1].value if numbers else None, same=True)
        return given[0] if len(given) == 1 else None
    if corrected_value(text):
        same = _values_given(previous, written_numbers(text)[-1].value)
        return same[0] if len(same) == 1 else None
    bare = written_numbers(text) if BARE_VALUE.match(text) else []
    if len(bare) == 1 and not bare[0].value.is_integer():  # "... for 20 steps with ema 0.99" ... "make it 0.996":
        same = _values_given(previous, bare[0].value)  # the one fraction set (a whole number may be a length or a
        if len(same) == 1:  # batch, and is asked about)
            return same[0]
    named = named_settings(previous)
    return named[0] if len(named) == 1 and SETTING_ASKED.search(previous) else None


def corrects_launch(previous: str | None, text: str) -> bool:
    """A no with one bare value after a message that set numbers ("... 20 steps with batch 64" ... "no, 128"): a
    correction of one of them, never a no to the launch; which one, when their kinds do not tell, is asked."""
    return bool(previous) and corrected_value(text) and bool(_values_given(previous))


def _numbers_given(args: dict) -> dict[str, int | float]:
    """The settings launch arguments (or a message's changes) set to numbers, by dotted key ("steps" is
    train.steps; "nodes" and the switches are no setting)."""
    given = {TOP_LEVEL_KEYS.get(k, k): v for k, v in args.items() if k != "overrides"} | (args.get("overrides") or {})
    return {k: v for k, v in given.items() if "." in k and isinstance(v, (int, float)) and not isinstance(v, bool)}


def _values_given(previous: str, like: float | None = None, same: bool = False) -> list[str]:
    """The settings the message set to numbers (dotted keys); with `like`, those whose value is of its kind, a whole
    number or not ("20 steps with lr 0.5" ... "no, 0.05" can only be the rate), or with `same`, that value."""
    return [k for k, v in _numbers_given(launch_changes(previous)[0]).items()
            if like is None or (float(v) == like if same else float(v).is_integer() == float(like).is_integer())]


CORRECTING = re.compile(r"^\W*(?:(?:actually|wait|hmm+|oh|sorry|oops|i\s+meant?|rather|on\s+second\s+thoughts?)\W+)+", re.I)
"""Words that take back the value just given ("actually make it 60", "sorry, 0.1"), as a no does."""


DEFAULT_AGAIN = re.compile(r"\b(?:use|go\s+back\s+to|back\s+to|reset|revert|restore|return\s+to|keep)\s+(?:it\s+|that\s+)?"
                           r"(?:to\s+)?the\s+(?:default|usual|original|standard)\s+(?P<what>[\w -]{2,30}?)"
                           r"(?:\s+(?:instead|again|please|then|after\s+all))*\W*$"
                           r"|\b(?:reset|revert|restore)\s+(?:the\s+)?(?P<what2>[\w -]{2,30}?)\s+(?:to\s+)?(?:(?:the|its)\s+)?"
                           r"default\W*$", re.I)
"""A setting of the waiting launch put back to its default ("actually use the default batch size", "go back to the
default temperature", "reset the lr to default"): the value given taken out, never kept."""


def default_again(text: str, pending: dict, intents) -> Reading | None:
    """The waiting launch with the one setting DEFAULT_AGAIN names taken out of it (its default then holds); None when
    the message is no such request, or names no single setting."""
    m = DEFAULT_AGAIN.search(text)
    keys = named_settings(m.group("what") or m.group("what2")) if m and pending.get("tool") in LAUNCH_TOOLS else []
    if len(keys) != 1:
        return None
    args = {k: v for k, v in (pending.get("args") or {}).items() if v not in (None, {}, [])}
    field = next((f for f, k in FIELD_KEYS.items() if k == keys[0]), None)
    args.pop(field, None)
    overrides = {k: v for k, v in (args.get("overrides") or {}).items() if k != keys[0]}
    args = {**{k: v for k, v in args.items() if k != "overrides"}, **({"overrides": overrides} if overrides else {})}
    return Reading("tool", pending["tool"], args, confidence=1.0, intents=intents[:3])


def corrected_value(text: str) -> bool:
    """A no (or an "actually") and one bare value ("no, 0.1", "nope, make it 0.1 instead", "actually make it 60"): the
    setting just set, corrected."""
    deny = DENY.match(text) or CORRECTING.match(text)
    rest = text[deny.end():] if deny else ""
    more = CORRECTING.match(rest)  # "no wait, 40"
    rest = rest[more.end():] if more else rest
    return deny is not None and not launch_changes(rest)[0] and len(written_numbers(rest)) == 1 and \
        BARE_VALUE.match(rest) is not None


def pending_asked(text: str, pending: dict, world: World, intents) -> Reading | None:
    """The waiting launch shown again when the message asks about it (PENDING_ASKED: its time, cost, devices or a
    setting), naming no run."""
    if pending.get("tool") not in LAUNCH_TOOLS or not (PENDING_ASKED.search(text) and (
            LAUNCH_FACTS.search(text) or named_settings(text)) or SETTING_ALONE_ASKED.match(text) and named_settings(text)):
        return None
    refs = find_runs(text, world)
    if refs.ids or refs.ambiguous or any(u != "(sweep)" for u in refs.unknown):  # "the sweep" is the one waiting
        return None
    args = {k: v for k, v in pending["args"].items() if v not in (None, {}, [])}
    return Reading("tool", pending["tool"], args, confidence=1.0, intents=intents[:3])


def multiples_of_pending(text: str, pending: dict) -> dict | Reading:
    """Settings a message gives as multiples while a launch waits for its yes ("make it twice the batch size", "half
    the lr", "twice as long"): values made from the numbers its proposal showed (`shown`: the user's, the parent's or
    the default), as launch arguments. A setting the proposal showed no number for ("method default x batch/256")
    is asked for as a value, the launch kept as it was."""
    said = multiples_of_parent(text, {})
    shown = pending.get("shown") or {}
    if "train.steps" in said and "train.steps" not in shown and "train.epochs" in shown:  # "twice as long", "double
        # the steps" of a launch given in epochs: its steps are epochs x batches an epoch, so the epochs scale them
        said["train.epochs"] = said.pop("train.steps")
    out: dict = {}
    for key, factor in said.items():
        value = shown.get(key)
        if value is None and key == "optim.lr":  # a rate chosen at the run's start: the multiple is of that rate
            out.setdefault("overrides", {})["optim.lr_scale"] = factor * shown.get("optim.lr_scale", 1.0)
            continue
        if value is None:
            name = {"optim.lr": "learning rate", "train.batch_size": "batch size"}.get(key, key.split(".")[-1])
            asked = ask(f"The launch shows no number for its {name} to multiply (it is chosen when the run starts), "
                        f"so say the value (e.g. `{name} {'0.002' if key == 'optim.lr' else '512'}`), or say "
                        f"`{GO_AHEAD_WITHOUT}` to keep it as it was.", [GO_AHEAD_WITHOUT], [], 1.0)
            asked.without = {"tool": pending["tool"],
                             "args": {k: v for k, v in pending["args"].items() if v not in (None, {}, [])}}
            return asked
        new = value * factor if key == "optim.lr" or isinstance(value, float) else max(1, round(value * factor))
        field = next((f for f, k in FIELD_KEYS.items() if k == key), None)
        if field:
            out[field] = new
        else:
            out.setdefault("overrides", {})[key] = new
    return out


def _methods_compared(args: dict, methods: list[str], intents) -> Reading:
    """The waiting launch with these methods compared: a sweep while two or more are left (or a grid), else one
    run of the one left."""
    args = {k: v for k, v in args.items() if v not in (None, {}, []) and k not in ("method", "methods")}
    args.update({"methods": methods} if len(methods) > 1 else {"method": methods[0]})
    if len(methods) > 1 or args.get("grid"):
        return Reading("tool", "launch_sweep", args, confidence=1.0, intents=intents[:3], taken_out=True)
    return Reading("tool", "launch_pretraining", {k: v for k, v in args.items() if k in LaunchArgs.model_fields},
                   confidence=1.0, intents=intents[:3], taken_out=True)


def _sweep_or_run(args: dict, grid: dict) -> tuple[str, dict]:
    """A sweep's arguments with its grid: a list of one value becomes that setting's single value, and a grid with
    no lists left is one run (the tool and its arguments)."""
    single = {k: v[0] for k, v in grid.items() if len(v) == 1}
    args = {**args, "grid": {k: v for k, v in grid.items() if len(v) > 1}}
    for key, value in single.items():
        field = next((f for f, k in FIELD_KEYS.items() if k == key), None)
        if key == "data.name":  # one dataset left of those swept ("drop shapes"): the launch's own data
            args["data"] = value
        elif field:
            args[field] = value
        else:
            args["overrides"] = {**args.get("overrides", {}), key: value}
    if args["grid"]:
        return "launch_sweep", args
    return "launch_pretraining", {k: v for k, v in args.items() if k in LaunchArgs.model_fields}


def _without_swept(args: dict, grid: dict) -> dict:
    """The launch's arguments less the single values of the settings the grid varies."""
    out = {**args, "overrides": dict(args.get("overrides") or {})}
    for key in grid:
        out.pop(next((k for k, v in TOP_LEVEL_KEYS.items() if v == key), ""), None)
        out["overrides"].pop(key, None)
    if not out["overrides"]:
        del out["overrides"]
    return out


_AND = r"^\W*(?:(?:and|also|plus|then|ok(?:ay)?)\W+)*"
_MAKE = r"(?:(?:add|launch|start|queue|make|do|run|train|i\s+want|i'd\s+like)\s+)?"
_THE_SAME = r"(?:(?:try|run|do|train|launch)\s+(?:it|that|this|the\s+same(?:\s+(?:run|thing))?)\s+)"
ANOTHER_RUN = re.compile(rf"(?:{_AND}{_MAKE}(?:another|a\s+second|one\s+more)(?:\s+(?:one|run|copy|version|variant))?|"
                         rf"^\W*(?:and\s+)?also\W+{_MAKE}(?:a|one)\s+(?:run|copy|version|variant)|"
                         rf"^\W*(?:and|also|plus)\W+{_MAKE}one(?:\s+(?:run|copy))?)(?=\s+(?:with|at|on|using|but|for)\b)"
                         rf"|^\W*(?:and\s+)?also\W+(?:{_THE_SAME}(?=(?:on|with|at|using)\b)|(?=on\b))"
                         r"|^\W*(?:and\s+)?(?:(?:the\s+)?same(?:\s+(?:thing|run|one))?\W+(?:but\s+)?)?"
                         rf"{_THE_SAME}?(?:on|with|at|using|for)\b.{{1,40}}?\s+(?:too|as\s+well)\W*$", re.I)
"""A second run beside the waiting one ("and another one with batch 64", "and one with lr 0.3", "one more at lr
1.0", "and another one for 40 steps", "also try it on shapes", "same but on shapes too", "and for 4 epochs as
well", "also a version with temperature 0.5"): the one setting it gives varies."""


def another_run(text: str, pending: dict, changes: dict) -> tuple[str, dict] | Reading | None:
    """The waiting launch and a second run that differs in the one setting the message gives, as a sweep of both
    values (the tool and its arguments); a question when the waiting launch keeps that setting's default, whose
    value is not written there; None when the message asks for no second run."""
    args = {k: v for k, v in (pending.get("args") or {}).items() if v not in (None, {}, [])}
    if not ANOTHER_RUN.match(text) or pending.get("tool") != "launch_pretraining" or args.get("grid"):
        return None
    given = {TOP_LEVEL_KEYS.get(k, k): v for k, v in changes.items() if k != "overrides"} | changes.get("overrides", {})
    if len(given) != 1:
        return None
    (key, value), = given.items()
    if key == "data":  # "and another one on digits": both built-in sets, a sweep of the data; else asked
        return _another_dataset(args, value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):  # a sweep varies numbers
        return None
    method = args.get("method")
    if key.startswith("method_args.") and method in METHODS and key.split(".", 1)[1] not in method_settings(method):
        return None  # "also a version with temperature 0.5" of VICReg, which has none: the launch tool says so
    field = next((f for f, k in TOP_LEVEL_KEYS.items() if k == key), None)
    first = args.get(field) if field else (args.get("overrides") or {}).get(key)
    if first is None:  # the value its proposal showed (a method's default temperature), where it showed one
        first = (pending.get("shown") or {}).get(key)
    if first is None:  # the launch still waits: "go ahead without it" is the one run as it was
        asked = ask(f"Two runs, one with `{key}` {value}: what should the other use? The waiting launch keeps the "
                    f"default. Say both values (`{key}={value},...`), or `{GO_AHEAD_WITHOUT}` for the one run as it "
                    "was.", [GO_AHEAD_WITHOUT], confidence=1.0)
        asked.without = {"tool": pending["tool"], "args": args}
        return asked
    if first == value:
        return None
    return _sweep_or_run(_without_swept(args, {key: []}), {key: [first, value]})


_VALUE = r"[-+]?\d[\d.]*(?:e[-+]?\d+)?"
VALUES_TOO = re.compile(rf"^\W*(?:(?:and|also|plus|maybe|let'?s)\W+)*(?:(?:also\s+)?(?:try|add|do|run)\s+)?(?:also\s+)?"
                        rf"(?P<values>{_VALUE}(?:\s*(?:,|and|or|&)\s*{_VALUE})*)\s+(?:too|as\s+well|also)\W*$"
                        rf"|^\W*(?:and\s+)?also\s+(?:try\s+)?(?P<values2>{_VALUE}(?:\s*(?:,|and|or|&)\s*{_VALUE})*)\W*$", re.I)
"""Values alone, said to be tried too ("try 0.1 and 0.5 as well", "also 0.3", "40 too"): more runs beside the
waiting one, of the one setting it was given a value of that kind."""


def values_too(text: str, pending: dict) -> tuple[str, dict] | None:
    """The waiting launch and a run for each value VALUES_TOO gives, as a sweep of the one setting the launch was
    given a number of their kind (whole or not: "temperature 0.2" ... "try 0.1 and 0.5 as well"); None when the
    message is no such list, or more than one setting (or none) could be meant, which is then asked about."""
    m = VALUES_TOO.match(text)
    args = {k: v for k, v in (pending.get("args") or {}).items() if v not in (None, {}, [])}
    if not m or pending.get("tool") != "launch_pretraining" or args.get("grid"):
        return None
    values = [float(v) for v in re.findall(_VALUE, m.group("values") or m.group("values2"))]
    whole = {v.is_integer() for v in values}
    given = _numbers_given(args)
    keys = [k for k, v in given.items() if {float(v).is_integer()} == whole]
    if len(keys) != 1:
        return None
    key = keys[0]
    new = [int(v) if isinstance(given[key], int) else v for v in values]
    return _sweep_or_run(_without_swept(args, {key: []}), {key: [given[key], *[v for v in new if v != given[key]]]})


def _another_dataset(args: dict, data: str) -> tuple[str, dict] | Reading | None:
    """The waiting launch and the same run on other data: a sweep over `data.name` when both are built-in sets (a
    folder is a path, which a sweep's one key cannot switch to); otherwise a question, the launch still waiting, so
    neither run is dropped by the other."""
    first = args.get("data")
    if first == data:
        return None
    if first in BUILTIN_DATASETS and data in BUILTIN_DATASETS:
        return _sweep_or_run(args, {"data.name": [first, data]})
    asked = ask(f"Two runs, the second on `{data}`: I launch them together only when both use the built-in sets "
                f"({' and '.join(BUILTIN_DATASETS)}). Say `{GO_AHEAD_WITHOUT}` to launch the waiting one as it was, "
                "then ask for the second.", [GO_AHEAD_WITHOUT], confidence=1.0)
    asked.without = {"tool": "launch_pretraining", "args": args}
    return asked


def _which_setting(value: float, pending: dict, intents) -> Reading:
    """Ask which of the pending launch's settings a bare number is for; the launch waits, unchanged, meanwhile."""
    args = pending["args"]
    fields = [k for k in NUMBER_FIELDS if args.get(k) is not None] or list(NUMBER_FIELDS)
    fields = [k for k in fields if (k == "lr") == (value < 1) and (k == "lr" or value == int(value))]
    n = f"{int(value)}" if value == int(value) else f"{value:g}"
    given = {k: v for k, v in (args.get("overrides") or {}).items() if isinstance(v, int | float) and not isinstance(
        v, bool) and float(v).is_integer() == float(value).is_integer() and k != "train.seed"}  # "hidden size 128"
    # ... "actually 64" (a seed names a draw, not an amount a bare number would change)
    now = ", ".join([*(f"{NUMBER_FIELDS[k]} {args[k]}" for k in NUMBER_FIELDS if args.get(k) is not None),
                     *(f"{_spoken(k)} {v:g}" for k, v in given.items())])
    options = [f"{n} {NUMBER_FIELDS[k]}" if k in LENGTHS else f"{NUMBER_FIELDS[k]} {n}" for k in fields]
    options += [_setting_said(k, n, pending_method(pending)) for k in given]
    asked = ask(f"Which setting of the launch should be {n}?" + (f" It has {now}." if now else "")
                 + f" Or say `{GO_AHEAD_WITHOUT}` to keep it as it was.", [*options, GO_AHEAD_WITHOUT], intents[:3], 1.0)
    asked.without = {"tool": pending["tool"], "args": {k: v for k, v in args.items() if v not in (None, {}, [])}}
    return asked


def _which_multiplied(factor: str, pending: dict, intents) -> Reading:
    """"double that" when it is not clear which value "that" is: asked, with each value the launch was given that a
    multiple can name (MULTIPLE_KEYS) offered."""
    given = _numbers_given(pending.get("args") or {})
    word = "half" if factor.lower().startswith("half") else factor.lower()
    options = [f"{word} the {_spoken(key)}" for key in dict.fromkeys(MULTIPLE_KEYS.values()) if key in given]
    return ask(f"Which value should \"{factor}\" apply to? Name the setting (e.g. `double the batch size`).",
               options or ["double the batch size"], intents[:3], 1.0)


def _spoken(key: str) -> str:
    return key.rsplit(".", 1)[-1].replace("_", " ")


def _setting_said(key: str, value: str, method: str | None) -> str:
    """A reply that sets `key` to `value`: in words where they read back as that setting ("hidden size 64"), else
    as `key=value`."""
    said = f"{value} minutes" if key == "train.max_minutes" else f"{_spoken(key)} {value}"  # DURATION_ALONE
    changes, problem = launch_changes(said, method=method)
    field = next((f for f, k in FIELD_KEYS.items() if k == key), None)  # "lr 0.01": the launch's own field, once
    return said if problem is None and (key in changes.get("overrides", {}) or field in changes) else f"{key}={value}"


A_RECOMMENDATION = re.compile(r"\b(?:recommend(?:ed|ation)|suggest(?:ed|ion)|proposed|advised)\b|\byour\s+(?:fix|"
                              r"change|advice)\b", re.I)
"""A follow-up that applies a recommendation ("launch the recommended fix for run 2", "try your suggestion on run 4")."""
A_FIX = re.compile(r"\b(?:the|a|that|your)\s+fix\b", re.I)
"""A follow-up named as the fix, with no run named ("launch the fix"): the fix of the run in focus."""


SETTING_OF_A_RUN = re.compile(rf"\s+of\s+(?:run\s*#?\d+|it|this\s+run|that\s+run)(?=\s+(?:to|=)\s*{NUMBER})", re.I)
"""A run named between a setting and its new value ("set the lr of run 1 to 0.01 and rerun it"): the setting's value
is read as if the run were not there."""
RUN_SETTING_SET = re.compile(rf"^\W*(?:please\s+)?(?:set|change|make|bump|raise|lower|increase|decrease|reduce|drop|up)\s+"
                             rf"(?:the\s+)?(?:[\w -]{{1,30}}?{SETTING_OF_A_RUN.pattern}|(?:run\s*#?\d+|its)(?:'s)?\s+"
                             rf"[\w -]{{1,30}}?(?=\s+(?:to|=)\s*{NUMBER}))", re.I)
"""A setting of a named run set to a value ("set the learning rate of run 3 to 0.1", "change run 2's batch size to
64"): a run's settings are fixed once it starts, so this is a follow-up of it, launched only when the message says
so ("... and rerun it")."""
RELAUNCH_SAID = re.compile(r"\b(?:re-?run|re-?launch|re-?start|again|anew|follow-?up|new\s+run|(?:launch|start|train|"
                           r"run)\s+(?:it|this|that|one|a\s+copy))\b", re.I)


THE_RUN_SAID = re.compile(r"\bit\b|\b(?:this|that|the\s+same)\s+(?:one|run)\b", re.I)
"""The run in focus, named by a pronoun in a relaunch ("train it for twice as long")."""


def read_relaunch(text: str, context: dict, world: World, p: float, intents, cwd) -> Reading:
    said = text
    text, labels = launch_labels(text)  # "launch it and tag it fix-try": its tags (never read as a dataset)
    refs = find_runs(text, world, about_runs=True)
    problem = run_problem(refs, world)
    if problem:
        return problem
    rec, focus = context.get("last_recommendation"), context.get("focus_run")
    ids = refs.ids or ([focus] if not refs.mentioned and not rec and focus and world.has(focus) and
                       THE_RUN_SAID.search(text) else [])  # "should I train run 1 longer?" ... "train it for twice
    # as long": the run in focus (after a recommendation, "launch it" is the recommendation's)
    parent = world.run(ids[0]) if ids else None
    args = launch_args(SETTING_OF_A_RUN.sub("", text), parent.method if parent else None)
    if ids:  # "launch the recommended fix for run 2", "relaunch run 2 with the fix"
        fixed = ids[0] if A_RECOMMENDATION.search(text) or A_FIX.search(text) else None
    else:  # "launch the fix" after run 2's diagnosis
        fixed = focus if A_FIX.search(text) and not refs.mentioned else None
    if fixed and not (rec and rec.get("run_id") == fixed):
        # "launch the recommended fix for run 2", or "launch the fix" after run 2's diagnosis, with none for run 2 in
        # this thread: the recommendation first, never run 2's config again unchanged; then the message read again
        # with it in hand, so that the launch it asked for (with any settings it gave) is proposed
        return Reading("tool", "recommend_next_step", {"run_id": fixed}, confidence=p, intents=intents[:3], then=said)
    if rec and not ids and not rec.get("launchable", True):  # "let it run", "audit it": nothing to launch
        return ask(f"Run {rec['run_id']}'s recommendation is no change to launch: {rec.get('rationale', '')}.",
                   [f"diagnose run {rec['run_id']}"])
    if ids and MORE_OF_A_RUN.search(text):  # further training of the run, not its config again from scratch
        args.update(parent_run=ids[0], from_parent_weights=True)
    elif ids:
        args["parent_run"] = ids[0]
        if rec and rec.get("run_id") == ids[0] and not args.get("overrides") and not any(
                k in args for k in ("epochs", "steps", "lr", "batch_size")):
            args["recommendation"] = rec
    elif rec:
        args.update(parent_run=rec["run_id"], recommendation=rec)
    else:
        return ask("A follow-up of which run? Ask for a recommendation first (`what should I try next for run 2?`), "
                    "or say e.g. `run 2 again with stop-gradient on`.")
    named, problem = method_and_data(text, cwd, mask_runs(text, world))  # "relaunch the byol run with vicreg": the
    if problem:  # method is vicreg; "byol" described the parent
        return problem
    args.update(named)
    args.update(labels)
    change = ((args.get("recommendation") or {}).get("change") or {})
    scale = multiples_of_parent(text, args) if args.get("parent_run") else {}
    if scale:  # "run 4 again with twice the batch size": the tool makes the value of run 4's (a recommendation's
        args["scale"] = scale  # value for that setting gives way: LaunchArgs._your_values_win)
    if not any(k in change for k in ("optim.lr", "train.batch_size", "method_args.temperature")):  # else it says how
        vague = _direction_without_value(text, args, args.get("parent_run"), intents, p) or (
            None if scale else _multiple_without_value(text, args, args.get("parent_run"), intents, p))
        if vague:
            return vague
    return Reading("tool", "launch_pretraining", args, confidence=p, intents=intents[:3])
