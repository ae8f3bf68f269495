"""Entities in a message (Rasa calls them slots): run references, methods, data, numbers with units, knobs,
times. Each extractor reports what the user wrote even when it does not resolve (an unknown method, a
missing path, run 12 of 5), so the chat can ask instead of substituting a default.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from ssl_runtime.catalogue import (
    ALIASES,
    BACKBONES,
    BUILTIN_DATASETS,
    METHODS,
    OPTIMIZERS,
    SCHEDULES,
    method_settings,
)
from tools.launches import FIELD_KEYS

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
DURATION = (r"\bfor\s+(?:about\s+|around\s+|roughly\s+|~\s*)?(\d+(?:\.\d+)?|an?|one|half\s+an|another(?:\s+\d+(?:\.\d+)?)?)"
            r"\s*(?:(?:more|extra)\s+)?(hours?|hrs?|h|minutes?|mins?)\b"
            r"|\b(\d+(?:\.\d+)?)[- ](hours?|minutes?)\s+(?:of\s+)?(?:[a-z0-9-]+\s+){0,2}(?:training|run|budget)\b")
"""How long to train ("for 2 hours", "for 90 minutes", "a 3-hour run"): `train.max_minutes`, not a run or a count."""
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
# what a number followed by it counts ("64px", "8 workers", "2k"): never a run, a listed value or an hour
COUNT_UNITS = r"k\b|epochs?|steps?|gpus?|%|percent\b|per\s*cent\b|pct\b|px|pixels?|images?|crops?|layers?|heads?|workers?|nodes?|dims?|classes|" \
              r"neighbou?rs?|x\b"
UNIT_AFTER = rf"(?:\s*|-)(?:{MORE}\s+)?(?:{COUNT_UNITS}|minutes?|mins?|hours?|h\b|am|pm|:\d)"  # "3-layer" too
NUMBER = r"[0-9]+(?:\.[0-9]+)?(?:e-?[0-9]+)?"
NOT_A_CLOCK = rf"\s*(?:{COUNT_UNITS}|x\s*\d)"  # "at 64px" is a size, not a time of day
VALUE_AT = ("weight", "coefficient", "coeff", "coef", "ratio", "rate", "lr", "size", "dim", "temperature", "temp",
            "momentum", "strength", "decay", "probability", "dropout", "fraction", "share", "scale", "lambda", "seed",
            "clipping", "clip", "mu", "nu", "tau")
"""Words whose value follows "at" ("the variance coefficient at 15", "the lr at 3e-4"): a setting, never a time."""
AT_HOUR = "".join(rf"(?<!\b{w} )" for w in VALUE_AT) + \
    rf"\bat\s+([01]?\d|2[0-3])(?::(\d{{2}}))?(?!\d|[.,]\d|e-?\d|{NOT_A_CLOCK})"
"""A time of day written "at H" or "at H:MM" (find_time; fidelity sets it aside): an hour, not "at 64px", "at 1.0"
or a setting's value."""
# knob: (patterns of what people write, the config key); values are parsed next to the words
KNOBS: list[tuple[str, str]] = [
    (r"(?<!warmup )(?<!warm-up )(?<!warm up )(?<!initial )(?<!starting )(?<!start )teacher[ _-]?temp(?:erature)?"
     r"(?![ _-]warm)", "method_args.teacher_temp"),
    (r"student[ _-]?temp(?:erature)?", "method_args.student_temp"),
    (r"(?<!teacher )(?<!student )(?:temp(?:erature)?|tau)", "method_args.temperature"),
    (r"ema(?:[ _-]momentum)?|momentum", "method_args.ema_momentum"),
    (r"center(?:ing)?[ _-]momentum", "method_args.center_momentum"),
    (r"mask(?:ing)?[ _-]ratio", "method_args.mask_ratio"),
    (r"queue(?:[ _-]size)?", "method_args.queue_size"),
    (r"(?:keys?|negatives?)\s+(?:in\s+(?:the|its|a)\s+)?(?:memory\s+|momentum\s+)?queue", "method_args.queue_size"),
    (r"proj(?:ection|ector)?[ _-]?(?:dim|size|output)", "method_args.proj_dim"),
    (r"proj(?:ection|ector)?[ _-]?hidden(?:[ _-]dim)?", "method_args.proj_hidden_dim"),
    (r"(?:local[ _-]crops?|n[ _-]local[ _-]crops)", "augment.n_local_crops"),
    (r"aug(?:mentation)?[ _-]?strength|strength", "augment.strength"),
    (r"grad(?:ient)?[ _-]?clip(?:ping)?|clip[ _-]grad(?:ient)?s?", "train.grad_clip"),
    (r"weight[ _-]decay|wd", "optim.weight_decay"),
    (r"warm[ _-]?up(?:[ _-]steps)?", "optim.warmup_steps"),
    (r"lambda[ _-]?offdiag|off[ _-]?diagonal(?: weight)?", "method_args.lambda_offdiag"),
    (r"out[ _-]?dim|prototypes", "method_args.out_dim"),
    (r"checkpoints?[ _-]?(?:every|interval)", "train.checkpoint_every"),
    (r"log(?:ging)?(?:\s+(?:the\s+)?(?:metrics|loss))?\s+every|log(?:ging)?[ _-](?:every|interval)", "train.log_every"),
    (r"health(?:\s+(?:metrics|checks?|batch))?\s+every|health[ _-](?:every|interval)", "train.health_every"),
    (r"checkpoints?|keep[ _-]checkpoints", "train.keep_checkpoints"),
    (r"(?:random[ _-])?seed", "train.seed"),
    (r"image[ _-]?size|resolution", "data.image_size"),
    (r"val(?:idation)?[ _-]?(?:split|fraction|share)", "data.val_fraction"),
]
INT_KNOBS = {"method_args.queue_size", "method_args.proj_dim", "method_args.proj_hidden_dim", "augment.n_local_crops",
             "optim.warmup_steps", "method_args.out_dim", "train.checkpoint_every", "train.keep_checkpoints",
             "train.log_every", "train.health_every",
             "train.seed", "data.image_size"}
PARTS_AFTER = r"(?:projector|projection|predictor|heads?|decoder|mlp|image|vision|cnn|resnet|vit|backbone)\b"
"""A part named after a count ("a 3-layer projector", "a 6-layer image tower"): the count is that part's, which no
setting takes, so it is not the model's layers."""
METHOD_SETTINGS: list[tuple[str, tuple[str, ...], bool]] = [
    (r"bottleneck(?:[ _-]?(?:dim(?:ension)?s?|size|width))?", ("bottleneck_dim",), True),
    (r"pred(?:ictor)?[ _-]?hidden(?:[ _-]?(?:dim(?:ension)?s?|size|width|layer))?", ("pred_hidden_dim",), True),
    (r"(?:warm[ _-]?up|starting|initial|start)[ _-]teacher[ _-]?temp(?:erature)?", ("warmup_teacher_temp",), False),
    (r"teacher[ _-]?temp(?:erature)?[ _-]warm[ _-]?up[ _-]steps", ("teacher_temp_warmup_steps",), False),
    (r"block[ _-]?size|(?:sequence|seq|context|block|input)[ _-]?(?:length|len|size|window)|max(?:imum)?[ _-]"
     r"(?:sequence|seq)[ _-]?(?:length|len)", ("block_size", "max_length"), False),
    (r"blocks|contexts?|sequences", ("block_size",), False),  # "blocks of 64 tokens"; "16 sequences" counts them
    (r"tokens?[ _-](?:blocks?|sequences?|contexts?(?:[ _-]window)?)|tokens?\s+per\s+(?:block|sequence|sample|example)",
     ("block_size",), True),  # "256-token blocks", "128 tokens per sequence"
    (r"(?:max(?:imum)?[ _-])?caption[ _-]?(?:length|len)|max(?:imum)?[ _-](?:text[ _-])?(?:length|len|tokens)|"
     r"captions?\s+(?:of\s+)?up\s+to|tokens?[ _-]captions?|tokens?\s+per\s+caption", ("max_length", "block_size"), True),
    (r"(?:tokeni[sz]er(?:'s)?[ _-])?vocab(?:ulary)?(?:[ _-]size)?", ("vocab_size",), True),
    (r"(?:model[ _-])?hidden[ _-]?(?:size|dim(?:ension)?|width)|model[ _-](?:width|dim(?:ension)?)|d[ _-]?model",
     ("hidden_size", "text_hidden_size"), True),
    (r"text[ _-](?:encoder|tower|transformer|model)[ _-]?hidden[ _-]?(?:size|dim(?:ension)?|width)", ("text_hidden_size",),
     False),
    (r"text[ _-](?:(?:encoder|tower|transformer|model)[ _-])?layers|layers?\s+(?:(?:in|of)\s+the\s+)?(?:text|caption)"
     r"\s+(?:encoder|tower|transformer|model)", ("text_layers",), True),
    (r"(?:transformer|model|language[ _-]model|decoder[ _-]only)[ _-]layers|num[ _-]layers|layers|(?:transformer[ _-])?"
     r"blocks?\s+deep", ("num_layers",), True),
    (r"text[ _-](?:(?:encoder|tower|transformer|model)[ _-])?(?:attention[ _-])?heads|heads?\s+(?:(?:in|of)\s+the\s+)?"
     r"(?:text|caption)\s+(?:encoder|tower|transformer|model)", ("text_heads",), True),
    (r"(?:attention[ _-])?heads|num[ _-]heads", ("num_heads",), True),
    (r"dropout(?:[ _-](?:rate|prob(?:ability)?|p))?", ("dropout",), False),
    (r"(?:shared[ _-]|joint[ _-]|common[ _-])?embed(?:ding)?[ _-]?(?:dim(?:ension)?s?|size|width)", ("embed_dim",), True),
    (r"(?:mlm|mask(?:ing)?)[ _-](?:prob(?:ability)?|rate|fraction|share)", ("mlm_probability", "mask_ratio"), False),
    (r"max(?:imum)?[ _-]logit[ _-]scale|logit[ _-]scale[ _-](?:max(?:imum)?|clamp|cap|ceiling)", ("max_logit_scale",),
     False),
    (r"variance[ _-](?:weight|coef(?:ficient)?|coeff|term[ _-]weight)", ("mu",), False),
    (r"covariance[ _-](?:weight|coef(?:ficient)?|coeff|term[ _-]weight)", ("nu",), False),
    (r"(?:invariance|similarity)[ _-](?:weight|coef(?:ficient)?|coeff|term[ _-]weight)", ("lambda_",), False),
]
"""Settings some methods have, in words -> (pattern, the `method_args` names it may mean, in order, whether the value
may come first ("a 512-d bottleneck")). The first name the launch's method has is taken (the language models'
`num_layers`, CLIP's `text_layers`); a method with none of them, or no method named, leaves the number unplaced,
so the chat asks ("a hidden size of 1024" for BYOL: its projector's or its predictor's?)."""
MASK_SHARE = re.compile(rf"\bmask(?:ing)?\s+({NUMBER})\s*(?:%|percent|per\s*cent)\s+of\s+(?:the\s+|its\s+)?(?:input\s+)?"
                        r"(?:tokens|patches|words|inputs)\b")
"""A masked share in percent ("mask 25% of tokens"): the masked LM's probability, MAE's ratio."""
SIZED_PROJECTOR = re.compile(r"\b(\d+)(?:-?d|[ -]dim(?:ension(?:al)?)?s?)\s+proj(?:ection|ector)\b")
"""A projector by its size ("a 4096-d projector", "a 128-dim projection head"): the size of what it outputs."""
TEACHER_TEMP_WARMUP = re.compile(
    rf"\b(?:(?:warm(?:ing)?[ _-]?up|ramp(?:ing)?(?:\s+up)?|rais(?:e|ing)|increas(?:e|ing)|anneal(?:ing)?)\s+(?:the\s+|its\s+)?"
    rf"teacher[ _-]?temp(?:erature)?|teacher[ _-]?temp(?:erature)?(?:\s+(?:is|being))?\s+(?:warm(?:ed|ing)?[ _-]?up|"
    rf"ramp(?:ed|ing)?(?:\s+up)?|rais(?:ed|ing)|increas(?:ed|ing)|anneal(?:ed|ing)|warm[ _-]?up)"
    rf"|(?:warm|ramp)(?:ing)?\s+(?:the\s+|its\s+)?teacher[ _-]?temp(?:erature)?\s+up)"
    rf"(?:\s+from\s+(?P<start>{NUMBER}))?\s+(?:up\s+)?to\s+(?P<end>{NUMBER})"
    r"(?:\s+(?:over|during|for|across|in|within)\s+(?:the\s+)?(?:first\s+)?(?:(?P<steps>\d[\d,]*k?)\s*steps?|"
    r"(?P<epochs>\d+|an?|one)?\s*epochs?)\b)?", re.I)
"""DINO's teacher temperature warmed up ("warm up the teacher temperature from 0.04 to 0.07 over the first 100 steps"):
`warmup_teacher_temp`, `teacher_temp` and, in steps, `teacher_temp_warmup_steps`; its length is never the run's, and
said in epochs or not at all it is asked about."""
SWITCHES: dict[str, tuple[str, object, object]] = {
    "method_args.predictor": (r"predictor(?![ _-]?(?:hidden|dim|size|width|layers?|depth)\b)", False, True),
    "method_args.stop_gradient": (r"stop[ _-]?grad(?:ient)?s?", False, True),
    "method_args.norm_pix_loss": (r"norm(?:ali[sz]ed)?[ _-]?pix(?:el)?s?(?:[ _-](?:loss|targets?))?|pixel[ _-]?norm(?:ali"
                                  r"[sz]ation)?(?:[ _-]loss)?|normali[sz]ed\s+pixel\s+targets?", False, True),
    "method_args.learn_temperature": (r"learn(?:ed|able|t|ing)?\s+(?:the\s+)?(?:temp(?:erature)?|logit\s+scale)",
                                      False, True),
    "train.tensorboard": (r"tensorboard(?:\s+(?:logging|logs|events))?", False, True),
    "train.compile": (r"torch[ ._-]?compile|compil(?:e|ation)", False, True),
    "method_args.center_momentum": (r"(?:teacher\s+)?cent(?:er|re)(?:ing)?(?!\s*crop)", 1.0, None),  # the centre stays at zero
    "augment.n_local_crops": (r"local[ _-]crops?|multi[ _-]?crops?", 0, 6),  # DINO's six
    "method_args.nu": (r"covariance(?:[ _-](?:term|loss|regulari[sz]ation|penalty))?", 0.0, None),
    "method_args.mu": (r"variance(?:[ _-](?:term|loss|regulari[sz]ation|penalty|hinge))?", 0.0, None),
    "method_args.lambda_": (r"invariance(?:[ _-](?:term|loss))?", 0.0, None),
    "method_args.queue_size": (r"(?:memory\s+|momentum\s+|negatives?\s+|key\s+)?queue|memory[ _-]bank", 0, None),  # MoCo v3: keys from the batch
    "train.precision": (r"mixed[ _-]precision|amp|autocast|bf16|fp16|half[ _-]precision", "32", None),
    "train.grad_clip": (r"grad(?:ient)?[ _-]?(?:norm[ _-])?clip(?:ping)?|clip(?:ping)?[ _-]grad(?:ient)?s?", None, None),
    "train.keep_checkpoints": (r"(?:keep(?:ing)?\s+)?(?:any\s+)?(?:intermediate\s+)?checkpoints", 0, None),  # last.pt is always kept
    "optim.warmup_steps": (r"(?:lr\s+|learning[ _-]rate\s+)?warm[ _-]?up", 0, None),
    "optim.weight_decay": (r"weight[ _-]decay", 0, None),
    "method_args.ema_momentum": (r"ema", 0.0, None),  # the target is the online network, copied each step
    "method_args.head_batch_norm": (r"(?:batch[ _-]?norm(?:ali[sz]ation)?|bn)\s+(?:layers?\s+)?(?:in|on)\s+(?:the\s+|its\s+)?"
                                    r"(?:dino\s+)?head|head(?:'s)?\s+batch[ _-]?norm", False, True),  # DINO's, by name
}
"""What a launch may turn off (or, where the third value is set, on) in words: config key -> (what people write,
the value "without it" means, the value "with it" means). "no centering", "without the predictor", "turn off
tensorboard", "the warmup turned off"; a value written next to the words wins ("warmup 500")."""
SWITCHED_OFF = r"(?:without|no|disable|disabled|disabling|turn(?:ed|ing)?\s+off|switch(?:ed)?\s+off|remove|removed|" \
               r"drop|skip(?:ping)?|zero|omit|exclude|(?:take|leave)\s+out|get\s+rid\s+of|strip(?:\s+out)?|" \
               r"(?:don'?t|do\s+not|never)(?:\s+(?:use|save|keep|add|apply|do))?)"
OFF_AFTER = r"(?:(?:turned|switched)\s+)?off|disabled|removed"
SWITCHED_ON = r"(?:with|enable|enabled|turn\s+on|add|restore|use|using|include)"
ON_AFTER = r"(?:(?:turned|switched)\s+)?on|enabled|back"


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


# ---- numbers with units --------------------------------------------------------------------------------

def parse_count(raw: str) -> int:
    raw = raw.replace(",", "").lower()
    mult = 1000 if raw.endswith("k") else 1_000_000 if raw.endswith("m") else 1
    return int(float(raw.rstrip("km")) * mult)


WARMUP_LENGTH = re.compile(r"\bwarm[ _-]?up\s*(?:of|for|:|=)?\s*(\d[\d,]*k?)\s*steps?\b|\b(\d[\d,]*k?)\s*[- ]?(?:warm[ _-]?up\s+"
                           r"steps?|steps?\s+(?:of\s+)?(?:lr\s+)?warm[ _-]?up)\b")
"""A warm-up's length in steps ("a 20-step warmup", "warmup of 30 steps", "10 warmup steps"): optim.warmup_steps,
never the run's length."""

WARMUP_EPOCHS = re.compile(r"\bwarm[ _-]?up\s*(?:of|for|:|=|over|lasting)?\s*(?:the\s+first\s+)?(?:\d+(?:\.\d+)?|an?|one)\s*"
                           r"epochs?\b|\b(?:\d+(?:\.\d+)?|an?|one)\s*[- ]?epochs?\s+(?:of\s+)?(?:lr\s+|linear\s+)?"
                           r"warm[ _-]?up\b|\b(?:\d+(?:\.\d+)?|an?|one)[- ]epoch\s+(?:lr\s+|linear\s+)?warm[ _-]?up\b")
"""A warm-up said in epochs ("warmup 10 epochs", "a 10 epoch warmup", "5 epochs of warmup"): the warm-up is set in
steps (`optim.warmup_steps`), so it is asked about; its count is never the run's length nor a number of steps."""

FREEZE_LAST_LAYER = re.compile(
    r"\b(?:(?:freez\w*|lock\w*)\s+(?:the\s+|its\s+)?(?:last|output|final|prototypes?)(?:\s+layer)?|frozen\s+(?:last|"
    r"output|final|prototype)\s+layer|(?:the\s+|its\s+)?"
    r"(?:last|output|final|prototype)\s+layer\s+(?:frozen|locked))(?:\s+(?:for|during)\s+(?:the\s+)?(?:first\s+)?"
    r"(?:(?P<steps>\d[\d,]*k?)\s*steps?|(?:\d+|an?|one)?\s*epochs?)\b)?")
"""DINO's frozen last layer ("freeze the last layer for the first 100 steps"): its steps are
method_args.freeze_last_layer_steps, never the run's length; said in epochs, or without a length, it is asked about."""


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
    m = re.search(r"(\d[\d,]*(?:\.\d+)?k?)\s*(?:training\s+|optimi[sz]er\s+)?(?:steps?|iterations?|iters?)\b", low) \
        or re.search(r"(?:steps?|iterations?)\s*[:=]?\s*(?:of|to)?\s*(\d[\d,]*k?)\b", low)
    if m:
        out["steps"] = parse_count(m.group(1))
    m = (re.search(r"\b(?:batch(?:[ _-]?size)?|bs)\s*[:=]?\s*(?:of|to)?\s*(\d+)", low)
         or re.search(r"(\d+)\s*(?:images\s+)?(?:per batch|batch(?:[ _-]?size)?\b)", low))
    if m:
        out["batch_size"] = int(m.group(1))
    m = re.search(rf"(?:\blr\b|learning[ _-]rate)\s*[:=]?\s*(?:of|to|at)?\s*({NUMBER})", low)
    if m:
        out["lr"] = float(m.group(1))
    gpus = re.search(r"\b(\d+)\s*gpus\b|\b(\d+)\s*x\s*gpu", low)
    m = GPU_INDEX.search(low)
    if m and not gpus:
        out["device"] = f"cuda:{gpu_index(m)}"
    elif re.search(r"\bcpu\b(?!\s*(?:workers?|cores?|threads?|count))", low):
        out["device"] = "cpu"
    if gpus:
        out.setdefault("overrides", {})["train.num_gpus"] = int(gpus.group(1) or gpus.group(2))
    return out


def find_duration(text: str) -> float | None:
    """Minutes of training the message gives a run, or None."""
    m = re.search(DURATION, text, re.I)
    if not m:
        return None
    amount, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    amount = amount.lower().removeprefix("another").strip()  # "for another hour", "for another 2 hours"
    n = 0.5 if amount.startswith("half") else 1.0 if amount in ("", "a", "an", "one") else float(amount)
    return n * 60 if unit.lower().startswith("h") else n


METHOD_SETTING_KEYS = {f"method_args.{name}" for _, names, _ in METHOD_SETTINGS for name in names}
SETTING_VALUE = re.compile("|".join(
    rf"\b(?:{p})\b\s*(?:[:=]|of|to|at|is)?\s*{NUMBER}k?|\b{NUMBER}k?(?:-?d\b|[ -]dim(?:ension(?:al)?)?s?)?(?:\s+|-)(?:{p})\b"
    for p in [*(p for p, key in KNOBS if not key.startswith("train.")), *(p for p, _, _ in METHOD_SETTINGS)]))
"""A number written as a method's setting, for any method ("queue size 4096", "a 128-d bottleneck"): never a run.
The run's own settings are left out: "the last checkpoint of 1" names run 1."""


LABEL_COUNT = re.compile(r"\b\d[\d,]*\s+(?:held[ -]out\s+|labell?ed\s+|unlabell?ed\s+)?(?:images?|labels?|examples?|"
                         r"samples?|shots?)\b|\b\d+[- ]shot\b")
"""A count of images or labels ("on 1000 labelled images", "10 labels per class", "5-shot"): never a run."""


def _setting_of(method: str | None, names: tuple[str, ...]) -> str | None:
    """The first of `names` that the method has; None when no method is known or it has none of them."""
    have = method_settings(method) if method in METHODS else frozenset()
    return next((n for n in names if n in have), None)


def _written_value(raw: str, percent: bool = False) -> int | float:
    value = float(raw[:-1]) * 1000 if raw.endswith("k") else float(raw)
    if percent:
        return value / 100
    return int(value) if value.is_integer() and "." not in raw and "e" not in raw else value


def find_method_settings(low: str, method: str | None) -> dict:
    """Settings some methods have (METHOD_SETTINGS, a masked share, a sized projector, DINO's teacher warm-up), each
    under the name the launch's method gives it; one the method lacks is left out, so its number stays unplaced and
    is asked about."""
    out: dict = {}
    for pattern, names, value_first in METHOD_SETTINGS:
        name = _setting_of(method, names)
        key = f"method_args.{name}"
        if not name or key in out:
            continue
        m = re.search(rf"\b(?:{pattern})\b(?:\s+(?:set\s+to|of|to|at|is|=|:)|\s*[:=])?\s*({NUMBER}k?)(?!\d|\s*(?:px|"
                      rf"pixels?)\b)(\s*(?:%|percent\b))?", low)
        if not m and value_first:  # "a 512-d bottleneck", "a 4-layer text encoder"; not "a 3-layer projector"
            m = re.search(rf"\b({NUMBER}k?)()(?:-?d\b|[ -]dim(?:ension(?:al)?)?s?)?(?:\s+|-)(?:{pattern})\b"
                          rf"(?!\s+{PARTS_AFTER})", low)
        if m:
            out[key] = _written_value(m.group(1), bool(m.group(2)))
    share = MASK_SHARE.search(low)
    name = _setting_of(method, ("mlm_probability", "mask_ratio"))
    if share and name:
        out.setdefault(f"method_args.{name}", _written_value(share.group(1), percent=True))
    sized = SIZED_PROJECTOR.search(low)
    if sized and _setting_of(method, ("proj_dim",)):
        out.setdefault("method_args.proj_dim", int(sized.group(1)))
    warm = TEACHER_TEMP_WARMUP.search(low)
    if warm and warm.group("steps") and _setting_of(method, ("teacher_temp_warmup_steps",)):
        out["method_args.teacher_temp"] = float(warm.group("end"))
        if warm.group("start"):
            out["method_args.warmup_teacher_temp"] = float(warm.group("start"))
        out["method_args.teacher_temp_warmup_steps"] = parse_count(warm.group("steps"))
    return out


def find_switches(text: str) -> dict:
    """Settings the message turns off or on in words (SWITCHES): "no centering" -> center_momentum 1.0."""
    low = text.lower()
    out: dict = {}
    for key, (pattern, off, on) in SWITCHES.items():
        if re.search(rf"\b{SWITCHED_OFF}\s+(?:the\s+|a\s+|an\s+|any\s+)?(?:{pattern})\b|\b(?:{pattern})\s+(?:{OFF_AFTER})\b",
                     low):
            out[key] = off
        elif on is not None and re.search(rf"\b{SWITCHED_ON}\s+(?:the\s+|a\s+|an\s+)?(?:{pattern})\b|\b(?:{pattern})\s+"
                                          rf"(?:{ON_AFTER})\b", low):
            out[key] = on
    return out


def find_knobs(text: str, method: str | None = None) -> dict:
    """Method and training knobs by name or synonym, with the value written next to them. `method`: the launch's
    (a pending launch's, a follow-up's parent's), unless the message names one; it decides what a setting some
    methods have means (METHOD_SETTINGS)."""
    low = text.lower()
    named = find_method(text)
    method = named.value if named and named.value else method  # a method the message names wins
    out: dict = find_method_settings(low, method)
    low = TEACHER_TEMP_WARMUP.sub(" ", low)  # its temperatures are read above, never as the teacher's alone
    for pattern, key in KNOBS:  # a number that counts pixels is a size, not the knob's value ("crops of 48px")
        m = re.search(rf"\b(?:{pattern})\b\s*[:=]?\s*(?:of|to|at|=)?\s*({NUMBER})(?!\d|\s*(?:px|pixels?|epochs?)\b)", low) \
            or re.search(rf"\b({NUMBER})(?:\s+|-)(?:{pattern})\b", low)  # "a 16384-key queue"
        if m and key not in out:
            val = m.group(1)
            out[key] = int(float(val)) if key in INT_KNOBS else float(val)
    out.update({k: v for k, v in find_switches(low).items() if k not in out})
    out.update(find_architecture(text))
    frozen = FREEZE_LAST_LAYER.search(low)
    if frozen and frozen.group("steps"):
        out["method_args.freeze_last_layer_steps"] = parse_count(frozen.group("steps"))
    warmup = WARMUP_LENGTH.search(low)  # "a 20-step warmup", "a warmup of 1k steps": the count with its unit
    if warmup:
        out["optim.warmup_steps"] = parse_count(warmup.group(1) or warmup.group(2))
    if re.search(r"\b(?:without|no)\s+(?:any\s+)?(?:data\s+)?augmentations?\b", low):
        out.setdefault("augment.strength", 0.0)  # both views the same image
    elif re.search(r"\b(?:full|strong|standard|default|published)\s+(?:data\s+)?augmentations?\b", low):
        out.setdefault("augment.strength", 1.0)
    lam = re.search(rf"\b(?:lambda|λ)\s*[:=]?\s*(?:of|to|=)?\s*({NUMBER})", low)
    named = [n.value for _, n in _named_methods(text)[1]] if lam else []
    key = LAMBDA_KEYS.get(named[0]) if named else None
    if key and key not in out:
        out[key] = float(lam.group(1))  # the paper's own name for the method's weight
    minutes = find_duration(text)
    if minutes:
        out["train.max_minutes"] = minutes
    if "train.precision" in out:
        pass  # "without bf16": switched off above
    elif re.search(r"\bbf16\b", low):
        out["train.precision"] = "bf16"
    elif re.search(r"\bfp16\b", low):
        out["train.precision"] = "fp16"
    elif re.search(r"\bfp32\b|full precision", low):
        out["train.precision"] = "32"
    return out


EVAL_NAMES = {"k": "knn_k", "temperature": "knn_temperature", "norm": "feature_norm", "images": "max_images"}
"""Short names people give a probe's settings in a `key=value` ("probe run 2 with k=50")."""
EVAL_WORDS: list[tuple[str, str, object]] = [
    (r"\bstandardi[sz]ed?\b|\bz[ -]?scor", "feature_norm", "standardize"),
    (r"\bl2[ -]?normali[sz]", "feature_norm", "l2"),
    (r"\bmean[ -]?pool", "pooling", "mean"),
    (r"\bcls(?:[ -]token)?\b", "pooling", "cls"),
]
"""Probe settings said in words: (pattern, EvalConfig field, value)."""


LABEL_SHARE = re.compile(r"\b(\d+(?:\.\d+)?)\s*(?:%|percent|per\s*cent|pct)\s+(?:of\s+(?:the\s+|its\s+|my\s+)?)?"
                         r"(?:the\s+)?(?:labels?|labell?ed\s+(?:data|images|examples|samples|set))\b")


def find_eval_settings(text: str) -> dict:
    """A probe's settings: `feature_norm=standardize`, `eval.knn_k=50`, "k=50", "50 neighbours", "standardised
    features", "mean pooling", "on 5000 images" (at most that many, with the time budget lifted to an hour so the
    sample is not cut short)."""
    low = text.lower()
    found: dict = {}
    for pattern, key, value in EVAL_WORDS:
        if re.search(pattern, low):
            found.setdefault(key, value)
    m = re.search(r"\b(\d+)\s+(?:nearest\s+)?neighbou?rs\b|\bknn[ _-]?k\s*[:=]?\s*(\d+)", low)
    if m:
        found["knn_k"] = int(m.group(1) or m.group(2))
    m = re.search(r"\b(\d[\d,]*)\s+(?:held[ -]out\s+|labell?ed\s+)?(?:images|examples|samples)\b", low)
    if m:
        found.update(max_images=int(m.group(1).replace(",", "")), time_budget_s=3600.0)
    m = LABEL_SHARE.search(low)
    if m and 0 < float(m.group(1)) <= 100:  # "on 1% of the labels": the semi-supervised protocol
        found["label_fraction"] = float(m.group(1)) / 100
    for key, value in find_assignments(text).items():
        key = key.removeprefix("eval.")
        found[EVAL_NAMES.get(key, key)] = value
    return found
LAMBDA_KEYS = {"barlow_twins": "method_args.lambda_offdiag", "vicreg": "method_args.lambda_"}
"""A bare "lambda" is the method's own weight in its paper: Barlow Twins' off-diagonal weight, VICReg's invariance."""
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


def find_architecture(text: str) -> dict:
    """The backbone (by any spelling of a name sslpilot builds), its width ("half-width", "width 0.5"), its input
    size in pixels ("64px", "96 pixels", "128x128 images"), the optimiser and the learning-rate schedule, as config
    keys. Every name comes from the catalogue."""
    low, out = text.lower(), {}
    backbone = _backbone_named(low)
    if backbone:
        out["backbone.name"] = backbone
    m = re.search(rf"\bwidth(?:[ _-]multiplier)?\s*[:=]?\s*(?:of|to)?\s*({NUMBER})", low)
    if m or re.search(r"\bhalf[ -]width\b", low):
        out["backbone.width"] = float(m.group(1)) if m else 0.5
    m = re.search(r"\b(\d{2,4})\s*(?:px|pixels?)\b", low) or re.search(r"\b(\d{2,4})\s*[x×]\s*(\d{2,4})\b", low)
    crop = m and re.search(r"\bcrops?\b(?:\s+\w+){0,2}\s*$", low[:m.start()])  # "local crops of 48px": a crop's size
    if m and not crop and (m.lastindex == 1 or m.group(1) == m.group(2)):
        out["data.image_size"] = int(m.group(1))
    for name in OPTIMIZERS:
        if re.search(rf"\b{name}\b", low):
            out["optim.name"] = name
            break
    for name in SCHEDULES:
        if re.search(rf"\b{name}\s+(?:learning[ _-]rate|lr|schedule|decay)\b|\b{name}\s+(?:lr\s+)?schedul", low):
            out["optim.schedule"] = name
            break
    return out


MILD_AUGMENTATION = re.compile(r"\b(?:weak|light|mild|soft|gentle|less)(?:er)?\s+(?:data\s+)?augmentations?\b", re.I)
"""Augmentation asked for as weaker without a strength: how much weaker is the user's to say."""


def other_backbone(text: str) -> str | None:
    """An architecture the message asks for that sslpilot does not build (EfficientNet, ViT-B, "a transformer")."""
    low = text.lower()
    if _backbone_named(low):
        return None
    m = re.search(rf"\b(?:{OTHER_BACKBONES})", low)
    return m.group(0).strip() if m else None


# what a sweep varies, as people write it, and the config key: the launch knobs, the rate, the batch, the seed
SWEEPABLE: list[tuple[str, str]] = [(r"learning[ _-]rates?|lrs?", "optim.lr"),
                                    (r"batch[ _-]?sizes?|batch(?:es)?|bs", "train.batch_size"),
                                    *[(p + "s?", k) for p, k in KNOBS if k != "train.seed"],
                                    (r"(?:random[ _-])?seeds?", "train.seed")]
INT_SWEEPS = {*INT_KNOBS, "train.batch_size"}

# what a question about a run's settings names ("what learning rate did run 4 use?"): the sweepable knobs, the
# switches, and settings no launch message sets by name; each to its config key
ASKABLE: list[tuple[str, str]] = [*SWEEPABLE, *[(SWITCHES[k][0], k) for k in ("method_args.predictor",
                                                                                "method_args.stop_gradient")],
                                  (r"optimi[sz]ers?", "optim.name"),
                                  (r"(?:lr[ _-]|learning[ _-]rate[ _-])?schedules?", "optim.schedule"),
                                  (r"backbones?|architectures?|arch", "backbone.name"),
                                  (r"(?:backbone[ _-])?width", "backbone.width"),
                                  (r"precision|dtype|bf16|fp16", "train.precision"),
                                  (r"devices?|gpus?|hardware", "train.device"),
                                  (r"(?:training[ _-])?steps", "train.steps"),
                                  (r"epochs", "train.epochs"),
                                  (r"augmentations?|augs?", "augment.strength"),
                                  (r"time[ _-]?limit|max[ _-]?minutes", "train.max_minutes")]
ASKED_TIME = re.compile(r"\bhow\s+(?:long|fast|quick(?:ly)?|much\s+time)\b|\bwall[ -]?(?:clock|time)\b|\bduration\b|"
                        r"\bthroughput\b|\bspeed\b|\b(?:images?|imgs?|samples?)\s*(?:/|per|a)\s*s(?:ec(?:ond)?)?\b|"
                        r"\brun[ -]?time\b|\btraining\s+time\b|\btime\s+(?:it|did|was)\b|\btook\b|\beta\b|"
                        r"\btime\s+(?:is\s+)?(?:left|remaining)\b|\bwhen\s+will\b.{0,30}\b(?:finish|end|be\s+done|complete)\b", re.I)
ASKED_FILES = re.compile(r"\b(?:where|which\s+(?:folder|path|file))\b.{0,40}\b(?:encoder|weights|checkpoints?|model|"
                         r"artifacts?|outputs?|files?|saved|stored|exported|written)\b|\bhow\b.{0,20}\bload\b|"
                         r"\bpath\s+(?:of|to)\b.{0,30}\b(?:encoder|weights|checkpoints?|model)\b", re.I)
ASKED_CONFIG = re.compile(r"\b(?:config(?:uration)?s?|settings|hyper-?param(?:eter)?s|hparams|set-?up|recipe)\b", re.I)


def named_settings(text: str) -> list[str]:
    """The config keys a message names (find_asked without the whole config, the time and the files)."""
    return [k for k in find_asked(text) if k not in ("config", "time", "files")]


def find_asked(text: str) -> list[str]:
    """The settings a question about a run asks for, as `get_run(show=...)` takes them: config keys in the order
    written (a word inside a longer one counts once: "lr schedule" is the schedule), "time" for its wall time or
    speed, "config" for the whole config."""
    low = text.lower()
    spans = []
    for pattern, key in ASKABLE:
        m = re.search(rf"\b(?:{pattern})\b", low)
        if m and key not in (k for *_, k in spans):
            spans.append((m.start(), m.end(), key))
    kept = [(a, b, k) for a, b, k in spans
            if not any(a2 <= a and b <= b2 and (b2 - a2) > (b - a) for a2, b2, _ in spans)]
    keys = [k for *_, k in sorted(kept)]
    if ASKED_FILES.search(text):  # "where is run 1's encoder saved?": its files, not its checkpoint settings
        keys = [k for k in keys if k != "train.keep_checkpoints"] + ["files"]
    if ASKED_TIME.search(text):
        keys.append("time")
    if ASKED_CONFIG.search(text) and not keys:
        keys.append("config")
    return keys
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


def _grid_lists(low: str, keep_tangled: bool = False) -> list[GridList]:
    """Each list of values a sweep would vary; a setting only some methods have (METHOD_SETTINGS) under the name the
    message's method gives it ("dino's bottleneck over 64, 128 and 256", "mlm with 2, 4 and 6 layers")."""
    found = [GridList(m.group(1), m.group(2), m.start(2), m.end(2), m.span(), True)
             for m in re.finditer(GRID_ASSIGNMENT, low)]
    named = find_method(low)
    method = named.value if named else None
    settings = [(p + "s?", f"method_args.{name}", value_first) for p, names, value_first in METHOD_SETTINGS
                if (name := _setting_of(method, names))]
    for pattern, key, value_first in [*((p, k, False) for p, k in SWEEPABLE), *settings]:
        m = re.search(rf"\b(?:{pattern})\b(?:\s+(?:of|for)\s+(?:the\s+|my\s+)?[a-z_-]+(?:\s+runs?)?"
                      r"(?:\s+on\s+[\w./~-]+)?)?\s*"
                      rf"(?:of|=|:|at|to|in|over|across|from|among)?\s*{LIST_OF}", low)  # "lr of simclr on digits over"
        if not m and value_first:  # "2, 4 and 6 layers": the last value is the setting's count; ", and" ends a list
            m = re.search(rf"\b({NUMBER}(?:\s*(?:,(?!\s*and\b)\s*(?:or\b)?|\band\b|\bor\b|/)\s*{NUMBER})+)(?:-?d\b|"
                          rf"[ -]dim(?:ension(?:al)?)?s?)?(?:\s+|-)(?:{pattern})\b", low)
            if m:
                found = [_cut_before(g, m.start(1)) for g in found]  # "hidden size 128 or 256, and 2 or 4 layers"
        if m and all(g.key != key for g in found):
            found.append(GridList(key, m.group(1), m.start(1), m.end(1), m.span()))
    tangled = {id(g) for g in found for o in found if o is not g and not (g.assignment or o.assignment)
               and g.start < o.end and o.start < g.end}  # "hidden size 128 and 256 and 2 or 4 layers": whose values
    return [g for g in found if keep_tangled or id(g) not in tangled]  # are which is asked, never guessed


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


def find_grid(text: str) -> dict[str, list]:
    """What a sweep varies: a setting with two or more values ("lr 1e-3, 3e-3 and 1e-2", "temperature 0.1 or 0.2",
    `optim.lr=1e-3,3e-3`), or "N seeds" (seeds 0..N-1). Config keys to the values, in the order written."""
    low = text.lower()
    grid: dict[str, list] = {}
    for g in _grid_lists(low):
        key = g.key
        if g.assignment:
            key = TOP_LEVEL_KEYS.get(key, key if "." in key else f"method_args.{key}")
            grid[key] = [parse_value(v) for v in g.values.split(",")]
        elif key not in grid:
            written = re.findall(NUMBER, g.values)
            values = [float(v) for v in written]
            grid[key] = [int(v) for v in values] if key in INT_SWEEPS else [_written_value(v) for v in written] \
                if key in METHOD_SETTING_KEYS else values
    n = seed_count(low)
    if n and "train.seed" not in grid and 2 <= n <= 64:
        grid["train.seed"] = list(range(n))
    return grid


ASSIGNMENT = re.compile(r"(?<![\w./-])([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)*)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s,;`)?!]+)", re.I)
CRON = re.compile(r"(?:\bcron\b\s*(?:expression|schedule|string)?\s*[:=]?\s*[`'\"]?|`)"
                  r"((?:[\d*/,-]+\s+){4}[\d*/,a-z-]+)[`'\"]?", re.I)


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
    m = CRON.search(text)
    return " ".join(m.group(1).split()) if m else None


def find_limit(text: str) -> int | None:
    """How many runs a listing asks for: "the last 20 runs", "3 most recent", "top 5", "limit 15"."""
    low = text.lower()
    m = (re.search(r"\b(?:last|latest|newest|recent|top|first)\s+(\d{1,3})\b", low)
         or re.search(r"\b(\d{1,3})\s+(?:most\s+recent|latest|newest|last)\b", low)
         or re.search(r"\blimit\s*[:=]?\s*(\d{1,3})\b", low))
    return int(m.group(1)) if m else None


def without_paths(text: str) -> str:
    """The message with its paths blanked: a folder called vicreg_logs says nothing about the method."""
    return re.sub(r"(?:~|\.{1,2})?/[^\s,;`'\"]+|[A-Za-z0-9_.-]+/[^\s,;`'\"]*", " ", text)


def find_import_format(text: str) -> str | None:
    """The log format the user names for an import: "format is tensorboard", "--format csv", "mlflow logs"."""
    m = re.search(r"\b(?:format|--format)\s*(?:is|=|:)?\s*(tensorboard|mlflow|csv|wandb|sslpilot)\b|"
                  r"\b(tensorboard|mlflow|csv|wandb)\s+(?:format|logs?|events?|files?|folders?|runs?)\b", text.lower())
    return (m.group(1) or m.group(2)) if m else None


def find_backend(text: str, world: World) -> str | None:
    """A configured cluster backend named as the place to run: "on rc", "via hpc", "using cluster-a"."""
    low = text.lower()
    return next((b for b in world.backends if re.search(rf"\b(on|to|using|via)\s+{re.escape(b.lower())}\b", low)), None)


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


# ---- runs --------------------------------------------------------------------------------------------

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


@dataclass
class World:
    """What the chat may refer to: the runs in the home, newest last."""

    runs: list[RunInfo] = field(default_factory=list)
    backends: dict[str, str] = field(default_factory=dict)  # cluster backend name -> kind (`sslpilot backend ls`)

    def has(self, run_id: str) -> bool:
        return any(r.id == run_id for r in self.runs)

    def ids(self) -> list[str]:
        return [r.id for r in self.runs]


@dataclass
class RunRefs:
    ids: list[str] = field(default_factory=list)  # resolved, in the order named
    unknown: list[str] = field(default_factory=list)  # named but absent ("run 12" of 5 runs)
    ambiguous: list[list[str]] = field(default_factory=list)  # "the byol run" when there are two
    mentioned: bool = False  # the message points at runs itself (not through the thread)
    sweeps: list[str] = field(default_factory=list)  # "the sweep" with several here: their names, to ask which


BAR = re.compile(rf"(?:[<>]=?|\b(?:below|under|above|over|beneath|exceeds?|(?:less|more|greater|lower|higher)\s+than))"
                 rf"\s*{NUMBER}")
"""A bar a metric crosses ("rank < 4", "falls below 4"): its number is never a run."""


def _explicit_ids(text: str, about_runs: bool) -> list[str]:
    low = text.lower()
    for word, n in WORD_NUMBERS.items():
        low = re.sub(rf"\b(runs?\s+){word}\b(?!\s+(?:runs?|jobs?|experiments?|models?|more|others?|at)\b)", rf"\g<1>{n}",
                     low)  # "run four" is run 4; "can I run two runs at once?" names no run
    ids = re.findall(r"\b(?:runs?|id)\s*#?\s*(\d+)|#\s*(\d+)\b|\br(\d+)\b", low)
    found = [next(g for g in t if g) for t in ids]
    listed = re.search(rf"\bruns?\s*#?\s*\d+((?:\s*(?:,|and|&|\bor\b|vs\.?|with|#)\s*#?\s*\d+(?!\d|{UNIT_AFTER}|"
                       rf"\s+(?:labell?ed\s+)?(?:labels?|examples?|samples?|shots?)\b|[- ]shot))+)", low)
    if listed:
        found += re.findall(r"\d+", listed.group(1))
    if about_runs:  # bare numbers: "is 4 healthy?", "compare 2 and 5"
        cleaned = CRON.sub(" ", without_grid(low))  # "cron `30 1 * * *`" names no run 30
        cleaned = re.sub(r"\b(?:last|latest|newest|recent|top|first)\s+\d+\b|\b\d+\s+(?:most\s+recent|latest|newest)\b|"
                         r"\b\d{1,2}\s*(?:am|pm)\b|=\s*\S+|\b(?:step|epoch|iteration|iter)\s*#?\s*\d[\d,]*k?\b|"
                         r"\b(?:gpus?|cuda|devices?|nodes?)\s*[:#]?\s*\d+(?:\s*(?:,|and|&)\s*\d+)*", " ",
                         cleaned)  # limits, times, settings, steps ("stop at step 300") and devices are not runs
        cleaned = re.sub(rf"\b\d+(?:\.\d+)?{UNIT_AFTER}|\b\d{{4}}-\d{{2}}-\d{{2}}\S*|\b(?:lr|rate|temp\w*|ratio|"
                         rf"momentum|batch(?: size)?|bs|k|(?:random )?seed)\s*(?:[:=]|\bof\b|\bto\b|\bat\b)?\s*{NUMBER}|{NUMBER}e-?\d+|\d+\.\d+|/\S+", " ", cleaned)
        cleaned = LABEL_COUNT.sub(" ", cleaned)  # "on 1000 labelled images", "10 labels per class", "5-shot"
        cleaned = SETTING_VALUE.sub(" ", cleaned)  # "a 128-d bottleneck", "with 4 transformer layers": a setting's
        cleaned = BAR.sub(" ", cleaned)  # "rank < 4", "below 4": a value a metric crosses
        found += re.findall(r"(?<![\w.])(\d{1,6})(?![\w.])", cleaned)
    out: list[str] = []
    for i in found:
        i = str(int(i))
        if i not in out:
            out.append(i)
    return out


GROUP_REF = re.compile(r"\b(?:all\s+(?:of\s+)?(?:the\s+|my\s+|our\s+)?|(?:the|my|our)\s+)(?P<what>[a-z][\w -]{1,40}?)\s+"
                       r"runs\b|\b(?:every|each)\s+(?P<one>[a-z][\w -]{1,40}?)\s+run\b")
GROUP_WORDS = {"healthy": lambda r: r.verdict == "healthy",
               "collapsed": lambda r: r.verdict in ("complete_collapse", "dimensional_collapse"),
               "weak": lambda r: r.verdict == "weak_representation",
               "diverged": lambda r: r.status == "diverged" or r.verdict == "diverged",
               "failed": lambda r: r.status in ("failed", "diverged"),
               "finished": lambda r: r.status == "succeeded", "succeeded": lambda r: r.status == "succeeded",
               "running": lambda r: r.status == "running", "queued": lambda r: r.status == "queued"}
"""Words that pick runs out as a group, besides a method and a dataset ("the collapsed byol runs")."""
FILLER = {"my", "the", "of", "our", "all", "other", "both", "finished", "own"}


def _group_of_runs(low: str, world: World) -> list[str] | None:
    """The runs a plural description names ("my digits runs", "all the healthy byol runs", "every shapes run"), oldest
    first; [] when it names a group none of the runs is in; None when the words are no such description (every word
    must be a method, a dataset, a verdict or status word, or a filler)."""
    m = GROUP_REF.search(low)
    if not m:
        return None
    words = (m.group("what") or m.group("one")).split()
    keep: list = []
    for w in words:
        method = find_method(w)
        if w in GROUP_WORDS:
            keep.append(GROUP_WORDS[w])
        elif method and method.value:
            keep.append(lambda r, v=method.value: r.method == v)
        elif w in BUILTIN_DATA or any(w == (r.dataset or "").lower() for r in world.runs):
            keep.append(lambda r, d=w: (r.dataset or "").lower() == d)
        elif w not in FILLER:
            return None
    if not keep:
        return None
    return [r.id for r in world.runs if all(k(r) for k in keep)]


ON_A_GPU = re.compile(r"\bthe\s+(?:run|job|one|training)\s+(?:on|using|that'?s\s+on)\s+gpu\s*#?\s*(\d+)\b")
"""A run described by the GPU it holds ("cancel the run on gpu 1"): the live run placed there, never run 1."""
DESCRIPTIONS = (r"\b(?:the\s+)?(?:last|latest|newest|most recent|previous)\s+(?:one|run|job|experiment|training)\b",
                r"\bthe (?:run|one|job) that'?s (?:training|running)\b",
                r"\bthe collaps\w+ (?:one|run|job|experiment)\b",
                r"\bthe (?:running|current|active|live) (?:one|run|job|training)\b",
                r"\bthe (?:diverged|crashed|failed|broken) (?:one|run|job)\b")


def mask_runs(text: str, world: World) -> str:
    """Run names and descriptions written as "run N", so the intent classifier sees a run, not an odd word."""
    out = text
    for r in world.runs:
        if r.name:
            out = re.sub(rf"(?<![\w-]){re.escape(r.name)}(?![\w-])", "run N", out, flags=re.I)
    for pattern in DESCRIPTIONS:
        out = re.sub(pattern, "run N", out, flags=re.I)
    out = unname_sweeps(out, world)
    return re.sub(rf"\b(?:the|my|that|this)\s+({METHOD_WORDS})\s+(?:run|job|experiment|model|one|encoder|training)\b",
                  "run N", out, flags=re.I)



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


GPU_INDEX = re.compile(r"\bgpu\s*#?\s*(\d+)\b|\bcuda:(\d+)\b", re.I)
"""One GPU named by its index ("gpu 1", "GPU #2", "cuda:1"): a launch's device, or the GPU a question asks about."""


def gpu_index(m: re.Match) -> int:
    return int(m.group(1) or m.group(2))


LAST_N_RUNS = re.compile(rf"\b(?:last|latest|newest|most\s+recent|previous)\s+({'|'.join(WORD_NUMBERS)}|\d+)\s+"
                         r"(?:runs|ones|jobs|experiments)\b")
"""The newest runs by count ("my last two runs", "the latest 3 runs"), as one group."""


def find_runs(text: str, world: World, about_runs: bool = True, groups: bool = False) -> RunRefs:
    """Run references: ids ("run 4", "#4", "r4", "run four", a bare number when the message is about runs),
    names, and descriptions ("the last one", "the collapsed one", "the running job", "the byol run")."""
    refs = RunRefs()
    low = text.lower()
    for rid in _explicit_ids(text, about_runs):
        (refs.ids if world.has(rid) else refs.unknown).append(rid)
    for r in world.runs:
        if r.name and re.search(rf"(?<![\w-]){re.escape(r.name.lower())}(?![\w-])", low) and r.id not in refs.ids:
            refs.ids.append(r.id)
    runs = list(reversed(world.runs))  # newest first
    described: list[list[str]] = []
    if re.search(r"\b(last|latest|newest|most recent|previous)\s+(one|run|job|experiment|training)\b|"
                 r"\bthe last one\b", low):
        described.append([runs[0].id] if runs else [])
    if re.search(r"\b(collaps\w*)\s+(one|run|job|experiment)\b|\bthe collaps\w+ one\b", low):
        described.append([r.id for r in runs if r.verdict in ("complete_collapse", "dimensional_collapse")][:1])
    if re.search(r"\bthe\s+healthy\s+(?:one|run)\b", low):  # the newest healthy run
        described.append([r.id for r in runs if r.verdict == "healthy"][:1])
    if re.search(r"\b(running|current|active|live)\s+(one|run|job|training)\b|\bthe running\b|"
                 r"\b(run|one|job) that'?s (training|running)\b|\bthe (run|one|job) (still )?(training|running)\b", low):
        described.append([r.id for r in runs if r.status == "running"])
    if re.search(r"\b(diverged|crashed|failed|broken|nan)\s+(one|run|job)\b", low):
        described.append([r.id for r in runs if r.status in ("diverged", "failed") or r.verdict == "diverged"][:1])
    newest = LAST_N_RUNS.search(low)
    if newest:  # "compare my last two runs": the newest N, oldest first, all of them
        n = int(WORD_NUMBERS.get(newest.group(1), newest.group(1)))
        if len(runs) >= n > 1:
            refs.ids += [r.id for r in reversed(runs[:n]) if r.id not in refs.ids]
        else:
            refs.unknown.append("(described)")
    group = _group_of_runs(low, world) if groups else None
    if group is not None:  # "my digits runs", "every healthy run": all of them, named together (for the tools that
        # take runs; a list or a usage question reads the same words as its own filters)
        if group:
            refs.ids += [i for i in group if i not in refs.ids]
        else:
            refs.unknown.append("(described)")
    on_gpu = ON_A_GPU.search(low)
    if on_gpu:  # "the run on gpu 1": the live run placed there
        gpu = on_gpu.group(1)
        described.append([r.id for r in runs if r.status in ("running", "queued") and gpu in
                          re.findall(r"cuda:?(\d+)", (r.device or "").replace(",", ",cuda:"))])
    method_refs = re.findall(r"\b(?:the|my|that|this)\s+([a-z0-9 _-]{2,24}?)\s+(?:run|job|experiment|model|one|"
                             r"encoder|training)\b", low)
    for phrase in method_refs:
        named = find_method(phrase)
        if named and named.value:
            described.append([r.id for r in runs if r.method == named.value])
    swept = _sweep_runs(low, world)
    if swept is not None:  # "the lrs sweep", "experiment lrs": every run of it, named as a group
        if len(swept) == 1:
            refs.ids += [i for i in swept[0][1] if i not in refs.ids]
        elif swept:
            refs.ambiguous += [ids for _, ids in swept]
            refs.sweeps = [name for name, _ in swept]
        else:
            refs.unknown.append("(sweep)")
    for group in described:
        if len(group) == 1 and group[0] not in refs.ids:
            refs.ids.append(group[0])
        elif len(group) > 1:
            refs.ambiguous.append(group)
        elif not group:
            refs.unknown.append("(described)")
    refs.mentioned = bool(refs.ids or refs.unknown or refs.ambiguous)
    return refs
