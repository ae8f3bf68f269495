"""Fidelity: every value the user states explicitly lands in the tool call, or the chat asks.

A second, independent reading of the message: it lists what was stated (a `key=value`, a cron expression, a count
with its unit, a limit, a method, a path, a run, a format, a width) and checks each against the call the chat is
about to make. A stated value the call does not carry is a *drop*; the chat turns a reading with drops into a
question instead of acting on it. It runs on every turn, for the offline planner (agent/understand.py) and for an
LLM's tool calls (agent/graph.py).

A value only has to land where the tool has a place for it (the tool's argument model, tools/tool_table.py): "why
did run 2 collapse after 40 epochs?" mentions epochs as context, and diagnose_run takes no epochs. Explicit
`key=value` settings are the exception: they are always instructions, so one the tool cannot take is a drop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agent.annotating import launch_labels
from agent.grid_words import STEP_OF, TOP_LEVEL_KEYS
from agent.prune_words import read_prune
from agent.run_refs import A_FACTOR, SWEEP_REF, World, find_backend, find_runs
from agent.run_tool_words import without_period
from agent.setting_words import (
    EVAL_NAMES,
    KNOBS,
    LOWER_PRECISION_WORDS,
    SWITCHED_OFF,
    assigned_name,
    find_knobs,
    named_settings,
    settings_it_lacks,
    short_for,
)
from agent.slots import (
    ASSIGNMENT,
    AT_HOUR,
    DURATION,
    FREEZE_LAST_LAYER,
    PERCENT_SIGN,
    TEACHER_TEMP_WARMUP,
    WARMUP_EPOCHS,
    WARMUP_SHARE,
    epochs_said,
    find_cron,
    find_datasets,
    find_embedding_dim,
    find_import_format,
    find_limit,
    find_methods,
    find_nodes,
    find_numbers,
    find_paths,
    find_time,
    parse_value,
    without_paths,
)
from agent.trash_words import EXCEPT
from tools.insights import flatten
from tools.launches import setting_names
from tools.tool_table import BY_TOOL

ABBREVIATION = re.compile(r"[a-z]{1,2}/[a-z]{0,2}", re.I)  # w/, w/o, n/a, i/o: words, not paths
NUMBER_LIST = re.compile(r"[\d.e-]+(?:/[\d.e-]+)+", re.I)  # "lr 0.001/0.003": values to sweep, not a path
LAUNCH_TOOLS = ("launch_pretraining", "schedule_pretraining", "launch_sweep")
# a number as written: 20, 0.001, 3e-4, 2k, 1,500; not part of a word (resnet50, bf16, 1st) or of a dotted name
WRITTEN_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?(?:e-?\d+)?k?)(?![\w.]|\.\d)", re.I)
ATTACHED_PIXELS = re.compile(r"(?<![\w.])(\d+)px\b", re.I)  # "48px": a number WRITTEN_NUMBER's word boundary skips
# times of day, dates and delays: when a run starts, read by find_time, not a setting
TIME_SPAN = re.compile(r"\b\d{1,2}(?::\d{2})?\s*(?:am|pm)\b|\b\d{1,2}:\d{2}\b|\b\d{4}-\d{2}-\d{2}(?:t\d{2}:\d{2}(?::\d{2})?)?"
                       r"|\bin\s+\d+\s*(?:h|hrs?|hours?|m|mins?|minutes?|days?)\b"
                       rf"|{AT_HOUR}|{DURATION}", re.I)  # a duration is stated as train.max_minutes (setting_words.find_knobs)
KNOB_NAMES = {key.split(".")[-1] for _, key in KNOBS}  # method knobs by their own name: "temperature=0.2"
NUMBER_FIELDS = {"epochs": "epochs", "steps": "steps", "batch_size": "batch size", "lr": "learning rate"}


@dataclass(frozen=True)
class Stated:
    field: str  # the argument it belongs in ("overrides" for a key=value setting)
    raw: str  # as the user wrote it, for the question back
    value: Any


def stated(text: str, world: World) -> list[Stated]:
    """What the message states explicitly, each with the argument it belongs in."""
    out = [Stated("overrides", m.group(0), (assigned_name(text, m.group(1).lower()), parse_value(m.group(2))))
           for m in ASSIGNMENT.finditer(without_paths(text))]  # "learning rate = 5e-4" states lr
    cron = find_cron(text)
    if cron:
        out.append(Stated("cron", f"cron `{cron}`", cron))
    numbers = find_numbers(text)
    for key, words in NUMBER_FIELDS.items():
        value = numbers.get(key)
        if value is not None and not any(s.field == "overrides" and s.value[0] == key for s in out):
            out.append(Stated(key, f"{words} {value}", value))
    limit = find_limit(without_period(text))  # "from the last 2 days" is a span, not 2 runs
    if limit:
        out.append(Stated("limit", f"{limit} runs", limit))
    out += [Stated("method", n.raw, n.value) for n in find_methods(without_paths(text))]  # "simclr and byol"
    out += [Stated("data", d, d) for d in find_datasets(without_paths(text))]  # "on digits and shapes"
    out += [Stated("path", raw, raw) for _, raw in find_paths(text)
            if not ABBREVIATION.fullmatch(raw) and not NUMBER_LIST.fullmatch(raw)]
    names = {r.id: r.name for r in world.runs if r.name and r.name.lower() in text.lower()}
    out += [Stated("run", f"{names[i]} (run {i})" if i in names else f"run {i}", i)  # said as the user said it
            for i in find_runs(text, world, about_runs=False).ids]
    fmt = find_import_format(text)
    if fmt:
        out.append(Stated("format", f"format {fmt}", fmt))
    dim = find_embedding_dim(text)
    if dim:
        out.append(Stated("embedding_dim", f"dim {dim}", dim))
    backend = find_backend(text, world)
    if backend:
        out.append(Stated("backend", f"on {backend}", backend))
    nodes = find_nodes(text)
    if nodes:
        out.append(Stated("nodes", f"{nodes} nodes", nodes))
    when = None if cron else find_time(text)
    if when:
        out.append(Stated("at", "the time you gave", when))
    lasting = {key for _, keys in LASTING for key in keys}  # stated whole, with their words (unplaced_switches)
    out += [Stated("setting", f"{key}={value}", (key, value)) for key, value in find_knobs(without_paths(text)).items()
            if not any(s.field == "overrides" and s.value[0] in (key, key.split(".")[-1]) for s in out)
            and key.split(".")[-1] not in lasting]
    return out + written_numbers(text, cron) + unplaced_switches(text)


# what a training config has parts of: a negation of one of these asks for a change ("no blur", "without the last
# layer norm"), where "no rush", "no other changes" or "they have no labels" only describe
PARTS = re.compile(r"\b(?:jitter\w*|colou?r|blur\w*|flips?|flipping|solari[sz]\w*|gr[ae]y[ _-]?scale|crops?|cropping|"
                   r"aug\w*|norm\w*|bn|ln|bias(?:es)?|dropout|projector|projection|head|predictor|decoder|encoder|"
                   r"teacher|student|momentum|ema|schedul\w*|cosine|decay|warm[ _-]?up|clipping|precision|logging|"
                   r"loss|term|regulari[sz]\w*|penalty|sharpen\w*|temp\w*|mask\w*|cent(?:er|re)\w*|queue|bank|"
                   r"checkpoint\w*|prob\w*|knn|eval\w*|shuffl\w*|compil\w*|ddp|fp16|bf16|tf32|amp|pretrained|"
                   r"weights|layers?|tokens?|patch\w*|stop[ _-]?grad\w*)\b", re.I)
PART_SAID = re.compile(rf"\b(?:{SWITCHED_OFF}|(?:with|add|adding|use|using|include|including|plus|enable|turn\s+on)"
                       rf"(?!\s+{SWITCHED_OFF}\b))\s+"
                       rf"(?P<what>[\w'-]+(?:\s+[\w'-]+){{0,5}}?)(?=\s*[,.;:!?)]|\s+(?:and|for|on|at|but|then|please|"
                       rf"so|because|if|until|while|with|using|or)\b|\s*$)", re.I)


FROZEN = re.compile(r"\b(?:(?:un)?freez(?:e|es|ing)|frozen)\b(?:\s+(?:the\s+|its\s+|a\s+)?[\w'-]+){0,3}"
                    r"|\b[\w-]+\s+(?:frozen|locked)\b", re.I)
"""A part of the network frozen in words ("freeze the backbone", "keep the projector frozen"): no setting freezes
one (DINO's last layer aside, FREEZE_LAST_LAYER), so it is asked about, never dropped."""


LOWER_PRECISION = re.compile(rf"\b(?:{LOWER_PRECISION_WORDS})\b", re.I)
"""A lower precision asked for without naming it ("with mixed precision", "in half precision"): `train.precision`
bf16 or fp16, asked which unless a setting took it ("without mixed precision" is 32)."""
SIXTEEN_BITS = re.compile(rf"\b16[ -]?bits?\b|{LOWER_PRECISION.pattern}", re.I)


TWO_GLOBAL_CROPS = re.compile(r"\b(?:2|two)\s+global\s+crops?\b", re.I)
"""DINO's two global crops said as such: its design, not a number to place (any other count is asked about)."""


LASTING = ((FREEZE_LAST_LAYER, ("freeze_last_layer_steps", "freeze_last_layer_epochs")),
           (TEACHER_TEMP_WARMUP, ("teacher_temp_warmup_steps", "teacher_temp_warmup_epochs")),
           (WARMUP_EPOCHS, ("warmup_epochs",)), (WARMUP_SHARE, ("warmup_steps", "warmup_epochs")))
"""Things that last a while, in words, and the settings their length lands as (a tuple: Stated.value)."""


def unplaced_switches(text: str) -> list[Stated]:
    """Parts of the training the message turns off or asks for in words that no setting takes ("without color
    jitter", "with gaussian blur", "a wider projector"): a launch cannot carry them, so the chat asks instead of
    launching without. A part a setting takes ("no centering", "using the predictor") lands as that setting, and a
    number beside it ("a queue of 4096") is the numbers' rule's."""
    out = []
    rest = without_paths(text)
    for lasting, keys in LASTING:  # placed with its steps or epochs where the method has it (find_knobs); asked
        for m in lasting.finditer(rest):  # where it has not, or without a length
            said = m.group(0).strip()
            has_length = "steps" not in m.groupdict() or m.group("steps") or epochs_said(m) is not None
            out.append(Stated("switch", said, keys if has_length else said))
        rest = lasting.sub(" ", rest)
    out += [Stated("switch", m.group(0), ("precision",)) for m in LOWER_PRECISION.finditer(rest)]  # lands as
    rest = LOWER_PRECISION.sub(" ", rest)  # train.precision, else asked which (the question says the choices)
    for m in PART_SAID.finditer(rest):
        said = m.group(0).strip()
        if PARTS.search(m.group("what")) and not (WRITTEN_NUMBER.search(said) or find_knobs(said)
                                                  or find_methods(said)):  # "with clip": a method
            out.append(Stated("switch", said, said))
    out += [Stated("switch", m.group(0).strip(), m.group(0).strip()) for m in FROZEN.finditer(rest)]
    return out


CONTEXT_FIRST = re.compile(r"^(?P<context>[^:;,?!]{3,80}?)\s*[:;,]\s*(?=(?:please\s+|can\s+you\s+|could\s+you\s+)?"
                           r"(?:pretrain|train|launch|queue|start|kick\s+off|diagnose|compare|probe|show|list|rank|"
                           r"forecast|recommend|why|what|how)\b)", re.I)
"""A clause of context before the request ("my team of 4 needs a baseline: pretrain byol ...", "for my thesis chapter 2,
pretrain vicreg ..."): its numbers are not settings, where it speaks of the user (ABOUT_THE_USER) and the readers
find no setting in it."""
ABOUT_THE_USER = re.compile(r"\b(?:i|i'?m|i'?ve|my|me|we|our|us)\b", re.I)


def _without_context(text: str) -> str:
    m = CONTEXT_FIRST.match(text)
    context = m.group("context") if m else ""
    if not ABOUT_THE_USER.search(context) or find_numbers(context) or find_knobs(context) or find_time(context) \
            or named_settings(context):  # "with batch 64, pretrain simclr", "my lr is 0.01: ...": a setting said first
        return text
    return text[m.end():]


def written_numbers(text: str, cron: str | None = None) -> list[Stated]:
    """Every number the message writes outside its paths, settings, cron expression, times and a clause of context
    before it, with the words beside it: a launch must carry each one somewhere (a count, a rate, a setting, a device,
    a parent run), so that a value no extractor knows ("8 prefetch batches", "a decoder of 2 blocks") is asked about
    instead of silently left out."""
    rest = ASSIGNMENT.sub(" ", without_paths(_without_context(text)))  # a key=value is stated (and checked) as a setting
    if cron:
        rest = rest.replace(cron, " ")
    rest = TIME_SPAN.sub(" ", rest)
    for lasting, _ in LASTING:  # stated whole (unplaced_switches, find_knobs)
        rest = lasting.sub(" ", rest)
    rest = re.sub(STEP_OF, " ", rest)  # a range's step: its values carry it (grid_words.RANGE_STEPS)
    rest = TWO_GLOBAL_CROPS.sub(" global crops", rest)  # DINO's two, which no setting changes: said, not dropped
    rest = A_FACTOR.sub(" ", rest)  # "make that 3 times as many": a multiple, made a value by what it multiplies
    out = []
    for m in WRITTEN_NUMBER.finditer(rest):
        raw = m.group(1).lower().replace(",", "")
        value = float(raw[:-1]) * 1000 if raw.endswith("k") else float(raw)
        out.append(Stated("number", _with_its_words(rest, m), value))
    out += [Stated("number", m.group(0), float(m.group(1))) for m in ATTACHED_PIXELS.finditer(rest)]
    return out


STOP_WORDS = {"a", "an", "and", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"}


def _with_its_words(text: str, m: re.Match) -> str:
    """A number as the user wrote it with what it counts ("8 prefetch batches", "10% warmup"), or else the word
    that names it ("seed 42", "size of 4")."""
    number, end = m.group(1), m.end()
    if text[end:end + 1] == "%":
        number, end = number + "%", end + 1
    after = []
    for w in re.findall(r"[\w.-]+|[^\w\s]", text[end:end + 40]):
        if not re.fullmatch(r"[a-z][\w-]*", w, re.I) or w.lower() in STOP_WORDS or len(after) == 2:
            break
        after.append(w)
    if after:
        return " ".join([number, *after])
    before = re.findall(r"[\w.-]+", text[max(0, m.start() - 40):m.start()])
    take = next((i for i in range(len(before) - 1, -1, -1) if before[i].lower() not in STOP_WORDS), len(before))
    if take == len(before) or not re.fullmatch(r"[a-z][\w-]*", before[take], re.I):
        return number  # nothing names it, or a number does: the number alone
    return " ".join([*before[take:], number])


def _numbers_in(args: dict) -> list[float]:
    """The numbers a call carries: its values, the digits inside its strings (cuda:1, a parent run "3"), and how many
    values a swept setting has ("3 seeds")."""
    found: list[float] = []
    for v in flatten(args).values():
        if isinstance(v, list):
            found.append(float(len(v)))
        for item in v if isinstance(v, list) else [v]:
            if isinstance(item, (int, float)) and not isinstance(item, bool):
                found.append(float(item))
            elif isinstance(item, str):
                found += [float(d) for d in re.findall(r"\d+(?:\.\d+)?", item)]
    return found


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))
    return str(a).strip().lower() == str(b).strip().lower()


NUMBERS_LAND = ("run_linear_probe", "list_runs", "compare_runs")
"""Tools besides the launches that must carry every number the message writes ("with 1000 labelled examples", "the
5 best runs", "over the last 200 steps"): one left out is asked about, never dropped."""


def _takes(tool: str, s: Stated) -> bool:
    """Whether the tool has a place for this kind of value. A key=value that names a setting always needs one;
    one that names no setting ("why is loss=nan in run 2") describes, for a tool that takes no settings."""
    fields = BY_TOOL[tool].args.model_fields
    if s.field == "overrides" and not ({"overrides", "eval_overrides"} & fields.keys()):
        key = s.value[0]
        return key in setting_names() or key.startswith(("method_args.", "eval.")) or key in KNOB_NAMES
    if s.field == "at":  # a time on a launch makes it a schedule: the launch tool has no place for it
        return tool in LAUNCH_TOOLS
    if s.field in ("number", "setting", "switch"):  # elsewhere context ("why did run 2 collapse after 40 epochs?", "with a
        return tool in LAUNCH_TOOLS or (tool in NUMBERS_LAND and s.field == "number")  # resnet18?"); a launch must
        # carry a setting said in words too, and a probe, a list or a comparison every number
    place = {"path": ("data", "path", "checkpoints"), "run": ("run_id", "run_ids", "parent_run", "after_run", "after_runs"),
             "overrides": ("overrides", "eval_overrides")}.get(s.field, (s.field,))
    return s.field == "overrides" or any(f in fields for f in place)


def lands(s: Stated, args: dict) -> bool:
    flat = flatten(args)
    query = args.get("query")
    if s.field in ("method", "data") and isinstance(query, str) and s.raw.lower() in query.lower():
        return True  # searched for as written ("simclr vs byol"): the method filter is a ranking hint
    if s.field in ("overrides", "setting"):
        key, value = s.value
        short = key.removeprefix("eval.")
        short = EVAL_NAMES.get(short, short) if "eval_overrides" in args else short  # "k=50" is knn_k in a probe
        return any(any(_same(x, value) for x in (v if isinstance(v, list) else [v]))  # a swept setting: one of them
                   and (k == key or k.endswith("." + key) or k.endswith("." + short) or k == short
                        or short_for(key, k))  # "temp=0.3": placed as temperature
                   for k, v in flat.items())
    if s.field == "path":
        return any(_same(v, s.value) for v in flat.values()) or any(
            isinstance(v, list) and any(_same(x, s.value) for x in v) for v in args.values())
    if s.field == "at":  # a time is read once per message; relative ones ("in 2 hours") move, so: is one there?
        return bool(args.get("at") or args.get("cron"))
    if s.field == "run":
        ids = [args.get("run_id"), args.get("parent_run"), args.get("after_run"), *(args.get("run_ids") or []),
               *(args.get("after_runs") or [])]
        return any(_same(i, s.value) for i in ids if i is not None)
    if s.field == "number":  # a share in percent ("mask 60% of patches") is carried as a fraction
        said = [s.value, s.value / 100] if re.search(PERCENT_SIGN, s.raw, re.I) else [s.value]
        return any(_same(n, v) for n in _numbers_in(args) for v in said)
    if s.field == "switch" and isinstance(s.value, tuple):  # a warm-up or a frozen layer with its length (LASTING)
        return any(k.endswith("." + key) for k in flat for key in s.value)
    if s.field == "switch":  # a part no setting turns on or off: in the call only where a value the message gives
        named = named_settings(re.sub(r"batch[ _-]?norm\w*", " ", s.raw, flags=re.I))  # ("weak augmentations,
        return any(k == key or k.endswith("." + key) for k in flat for key in named)  # strength 0.5") sets it
    swept = (args.get("grid") or {}).get({**TOP_LEVEL_KEYS, "data": "data.name"}.get(s.field, ""), [])  # built-ins
    waits = [r for r in (args.get("overrides") or {}).get("monitor.stop_when") or [] if " stops " in r]
    return (_same(args.get(s.field), s.value) or any(_same(v, s.value) for v in swept)
            or _same(args.get(f"more_{s.field}"), s.value)  # a stop "after 3 more epochs" counts from now
            or _same(args.get(f"for_{s.field}"), s.value)  # a plateau's wait: "if it hasn't improved for 500 steps"
            or any(m.group(2) == s.field and _same(float(m.group(1)), s.value)  # the same, in a launch's stop rule
                   for m in (re.search(r" for ([\d.]+) (steps|epochs)$", r) for r in waits) if m))


QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”")
"""Words in quotes: a search's query as written, never a value or a run to place."""


def dropped(text: str, tool: str, args: dict, world: World) -> list[Stated]:
    """The stated values this call would drop (empty when everything the user said is in it); a number is named
    once, by the value it was read as when that one is dropped too."""
    if tool not in BY_TOOL:
        return []
    if tool in LAUNCH_TOOLS:  # "tag it baseline": the new run's own label (args name, tags), not the run so named
        text = launch_labels(text)[0]
    if args.get("like_sweep") or (tool == "cancel_run" and args.get("run_ids")):  # "repeat the lrs sweep", "cancel
        text = SWEEP_REF.sub(" ", text)  # the sweep": its runs are placed by its name (a cancel: those still going)
    if args.get("prune"):  # "with successive halving by the loss, eta 4": placed as the sweep's early stopping
        text = read_prune(text)[1]
    if tool == "delete_runs":  # "delete the collapsed runs except run 2": the run spared is placed by leaving it out
        text = EXCEPT.sub(" ", text)
    if tool in ("search_run_logs", "search_literature"):  # 'search for "lr 0.1 on run 2"': the quoted words are the query
        text = QUOTED.sub(" ", text)
    drops = [s for s in stated(text, world) if _takes(tool, s) and not lands(s, args)]
    parent = world.run(str(args["parent_run"])) if tool in LAUNCH_TOOLS and args.get("parent_run") else None
    if parent is not None:  # "fix the byol run": the method (or data) that described the parent is the follow-up's
        drops = [s for s in drops if (s.field, s.value) not in (("method", parent.method), ("data", parent.dataset))]
    named = {float(s.value) for s in drops if s.field != "number" and isinstance(s.value, (int, float))}
    return [s for s in drops if s.field != "number" or s.value not in named]


GO_AHEAD_WITHOUT = "go ahead without it"
# a reply to the question below that accepts the call as read, without what could not be placed
PROCEED = r"go ahead|proceed|go for it|do it"  # also a yes to a pending action (agent/graph.YES_ALONE)
GO_AHEAD = re.compile(rf"^\W*(?:(?:ok(?:ay)?|yes|yeah|sure|fine)\W+)?(?:{PROCEED})\b"
                      r"|\bwithout (?:it|them|that|those)\b|\b(?:ignore|skip|drop|leave out) (?:it|them|that|those)\b"
                      r"|\banyway\b", re.I)


AUGMENT_PARTS = re.compile(r"\b(?:jitter\w*|colou?r|blur\w*|flips?|flipping|solari[sz]\w*|gr[ae]y[ _-]?scale|crops?|"
                           r"cropping|aug\w*)\b", re.I)


def question(tool: str, args: dict, drops: list[Stated], message: str = "") -> str:
    """The question back about what could not be placed; the message lets it say which setting the
    launch's method lacks ("BYOL has no `hidden_size`; its own nearest are ...")."""
    offer = BY_TOOL[tool].offer.format(run=args.get("run_id", "?"))
    said = ", ".join(f"`{d.raw}`" for d in drops)
    text = (f"I read this as: {offer}. But you also said {said}, and I could not place "
            f"{'it' if len(drops) == 1 else 'them'} in that. Could you say it another way, or tell me to "
            f"{GO_AHEAD_WITHOUT}?")
    switches = [d.raw for d in drops if d.field == "switch" and not LOWER_PRECISION.search(d.raw)]  # its own hint
    if any(AUGMENT_PARTS.search(w) for w in switches):
        text += (" The augmentations have one setting, `augment.strength`: at 1 (the default) each method's published "
                 "recipe (random resized crops, flips, colour jitter, grayscale, and blur and solarisation where its "
                 "paper has them), less of each towards 0 (both views the same image); `augment.n_local_crops` sets "
                 "DINO's local crops.")
    elif any(FREEZE_LAST_LAYER.search(w.lower()) for w in switches):
        text += (" DINO's last layer is frozen for a number of steps or epochs, `method_args.freeze_last_layer_steps` "
                 "or `_epochs` (say e.g. `freeze the last layer for the first 50 steps` or `for the first epoch`); no "
                 "other part of a network can be frozen.")
    elif any(WARMUP_SHARE.search(w.lower()) for w in switches):
        text += (" A warm-up as a share of the run needs the run's length in the same message (say its steps or "
                 "epochs), or say the warm-up itself (`a 500-step warmup`, `warmup 2 epochs`); unset, it is 10% of the "
                 "run.")
    elif any(TEACHER_TEMP_WARMUP.search(w.lower()) for w in switches):
        text += (" DINO warms its teacher temperature up over a number of steps or epochs, "
                 "`method_args.teacher_temp_warmup_steps` or `_epochs` (say e.g. `warm up the teacher temperature from "
                 "0.04 to 0.07 over the first 300 steps` or `over the first 30 epochs`).")
    elif switches:
        text += " No setting of a run takes that; docs/configuration.md lists the ones there are."
    if any(SIXTEEN_BITS.search(d.raw) for d in drops):  # bf16 and fp16 are both 16-bit: which, not a guess
        text += (" Precision is `train.precision`: `bf16` (what `auto` picks on CUDA), `fp16` (with loss scaling) or "
                 "`32`; say which.")
    return text + settings_it_lacks(message, args.get("method")) if tool in LAUNCH_TOOLS else text
