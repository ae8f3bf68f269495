"""Settings said in words: which words name which config key ("temperature 0.2", "a 512-d bottleneck", "no
centering", "k=50 neighbours"), read for a launch (`find_knobs`), a probe (`find_eval_settings`) or a question
about a run's settings (`find_asked`). A setting only some methods have takes the name the launch's method gives it
(METHOD_SETTINGS). The numbers and lengths themselves, methods, data and runs are `agent/slots.py`'s; a sweep's lists
of values are `agent/grid_words.py`'s.
"""

from __future__ import annotations

import re

from agent.slots import (
    FREEZE_LAST_LAYER,
    METHOD_WORDS,
    NUMBER,
    PERCENT_SIGN,
    TEACHER_TEMP_WARMUP,
    WARMUP_EPOCHS,
    WARMUP_LENGTH,
    WARMUP_SHARE,
    _named_methods,
    epochs_said,
    find_architecture,
    find_assignments,
    find_duration,
    find_method,
    find_numbers,
    parse_count,
)
from ssl_runtime.catalogue import BY_NAME, METHODS, method_settings
from tools.launches import FIELD_KEYS, dotted_setting
from tools.run_settings import SPECIAL

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
    (r"proj(?:ection|ector)?(?:[ _-]head)?(?:[ _-]?|\s+(?:of\s+|with\s+)(?:an?\s+)?(?:output\s+)?)(?:dim|size|output)",
     "method_args.proj_dim"),  # "projector dim", "a projector of size 128", "projection head with an output size"
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
    (r"patch[ _-]?sizes?", "backbone.patch_size"),
    (r"val(?:idation)?[ _-]?(?:split|fraction|share)(?!\s*(?:of\s+)?\d+(?:\.\d+)?\s*"
     rf"{PERCENT_SIGN})", "data.val_fraction"),
    (r"(?:data[ _-]?)?loader[ _-]workers|(?:dataloader|data[ _-]?loader|loader|data|decod(?:e|ing)|loading)\s+(?:workers|"
     r"processes)|num[ _-]workers|workers\s+(?:for|to)\s+(?:the\s+)?(?:data\s+)?(?:load(?:ing)?|decod(?:e|ing))",
     "data.workers"),  # "8 dataloader workers", "4 workers for loading"
    (r"k-?nn[ _-](?:monitor(?:ing)?[ _-])?(?:bank|memory[ _-]bank)(?:[ _-](?:size|of))?|k-?nn[ _-]monitor[ _-]images",
     "eval.knn_monitor_images"),
]


PERCENT = rf"\s*{PERCENT_SIGN}"
SHARE_KNOBS = {"method_args.mask_ratio", "data.val_fraction"}
"""Knobs that are a share of 1, so a value written in percent ("a mask ratio of 75%") is a hundredth of it."""

INT_KNOBS = {"method_args.queue_size", "method_args.proj_dim", "method_args.proj_hidden_dim", "augment.n_local_crops",
             "optim.warmup_steps", "method_args.out_dim", "train.checkpoint_every", "train.keep_checkpoints",
             "train.log_every", "train.health_every",
             "train.seed", "data.image_size", "backbone.patch_size", "data.workers", "eval.knn_monitor_images"}


PARTS_AFTER = r"(?:projector|projection|predictor|heads?|decoder|mlp|image|vision|cnn|resnet|vit|backbone)\b"
"""A part named after a count ("a 3-layer projector", "a 6-layer image tower"): the count is that part's, which no
setting takes, so it is not the model's layers."""


METHOD_SETTINGS: list[tuple[str, tuple[str, ...], bool]] = [
    (r"bottleneck(?:[ _-]?(?:dim(?:ension)?s?|size|width))?", ("bottleneck_dim",), True),
    (r"pred(?:ictor)?[ _-]?hidden(?:[ _-]?(?:dim(?:ension)?s?|size|width|layer))?", ("pred_hidden_dim",), True),
    (r"(?:warm[ _-]?up|starting|initial|start)[ _-]teacher[ _-]?temp(?:erature)?", ("warmup_teacher_temp",), False),
    (r"teacher[ _-]?temp(?:erature)?[ _-]warm[ _-]?up[ _-]steps", ("teacher_temp_warmup_steps",), False),
    (r"teacher[ _-]?temp(?:erature)?[ _-]warm[ _-]?up[ _-]epochs", ("teacher_temp_warmup_epochs",), False),
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
    (r"proj(?:ection|ector)?(?:[ _-]head)?[ _-](?:depth|layers|num[ _-]layers)|layers?[ _-]proj(?:ection|ector)(?:[ _-]"
     r"head)?|layers\s+(?:in|of)\s+the\s+proj(?:ection|ector)(?:\s+head)?", ("proj_layers",), True),  # "a 3-layer
    # projector"
    (r"decoder[ _-]?(?:depth|layers|blocks|num[ _-]layers)|(?:layers?|blocks?)[ _-]decoder|(?:layers|blocks)\s+"
     r"(?:in|of)\s+the\s+decoder", ("decoder_depth",), True),  # MAE's "a 2-block decoder", "decoder depth 8"
    (r"decoder[ _-]?(?:width|dim(?:ension)?s?|hidden[ _-]?(?:size|dim))|decoder(?![ _-]?(?:blocks?|layers?|depth|only))",
     ("decoder_dim",), True),  # "decoder width 256", "a 128-d decoder"
    # VICReg's three weights, also as its official code's flags (--std-coeff, --cov-coeff, --sim-coeff) and solo-learn's
    # (var_loss_weight, cov_loss_weight, sim_loss_weight)
    (r"(?:variance|var|std)[ _-](?:loss[ _-])?(?:weight|coef(?:ficient)?|coeff|term[ _-]weight)", ("mu",), False),
    (r"(?:covariance|cov)[ _-](?:loss[ _-])?(?:weight|coef(?:ficient)?|coeff|term[ _-]weight)", ("nu",), False),
    (r"(?:invariance|similarity|sim|inv)[ _-](?:loss[ _-])?(?:weight|coef(?:ficient)?|coeff|term[ _-]weight)",
     ("lambda_",), False),
    (r"mu", ("mu",), False), (r"nu", ("nu",), False),  # VICReg's coefficients by the paper's letters
    (r"lambda", ("lambda_", "lambda_offdiag"), False),  # VICReg's invariance weight, Barlow Twins' off-diagonal one
]
"""Settings some methods have, in words -> (pattern, the `method_args` names it may mean, in order, whether the value
may come first ("a 512-d bottleneck")). The first name the launch's method has is taken (the language models'
`num_layers`, CLIP's `text_layers`); a method with none of them, or no method named, leaves the number unplaced,
so the chat asks ("a hidden size of 1024" for BYOL: its projector's or its predictor's?)."""


MASK_SHARE = re.compile(rf"\bmask(?:ing)?\s+({NUMBER})\s*{PERCENT_SIGN}(?:\s+of\s+(?:the\s+|its\s+)?(?:input\s+)?"
                        rf"(?:tokens|patches|words|inputs)\b|(?![\w.%]))|\b({NUMBER})\s*{PERCENT_SIGN}\s+mask(?:ing|ed)?"
                        r"(?:\s+(?:ratio|rate|probability))?\b")
"""A masked share in percent ("mask 25% of tokens", "mask 75%", "75% masking"): the masked LM's probability, MAE's
ratio."""


SIZED_PROJECTOR = re.compile(r"\b(\d+)(?:-?d|[ -]dim(?:ension(?:al)?)?s?)\s+proj(?:ection|ector)\b")
"""A projector by its size ("a 4096-d projector", "a 128-dim projection head"): the size of what it outputs."""


LOWER_PRECISION_WORDS = r"(?:half|mixed|reduced|low(?:er)?)[ _-]precision|amp|autocast"
"""A lower precision said without naming it: off is `train.precision` 32 (SWITCHES); asked for, it is asked which
(bf16 or fp16: fidelity.question)."""


SWITCHES: dict[str, tuple[str, object, object]] = {
    "method_args.predictor": (r"predictor(?![ _-]?(?:hidden|dim|size|width|layers?|depth)\b)", False, True),
    "method_args.stop_gradient": (r"stop[ _-]?grad(?:ient)?s?", False, True),
    "method_args.norm_pix_loss": (r"norm(?:ali[sz]ed)?[ _-]?pix(?:el)?s?(?:[ _-](?:loss|targets?))?|pixel[ _-]?norm(?:ali"
                                  r"[sz]ation)?(?:[ _-]loss)?|normali[sz]ed\s+pixel\s+targets?", False, True),
    "method_args.learn_temperature": (r"learn(?:ed|able|t|ing)?\s+(?:the\s+)?(?:temp(?:erature)?|logit\s+scale)",
                                      False, True),
    "train.tensorboard": (r"tensorboard(?:\s+(?:logging|logs|events))?", False, True),
    "train.compile": (r"torch[ ._-]?compile|compil(?:e|ation)", False, True),
    "train.deterministic": (r"determinis(?:m|tic)(?:\s+(?:training|mode|algorithms?|kernels?|runs?))?", False, True),
    "method_args.center_momentum": (r"(?:teacher\s+)?cent(?:er|re)(?:ing)?(?!\s*crop)", 1.0, None),  # the centre stays at zero
    "augment.n_local_crops": (r"local[ _-]crops?|multi[ _-]?crops?", 0, 6),  # DINO's six
    "method_args.nu": (r"covariance(?:[ _-](?:term|loss|regulari[sz]ation|penalty))?", 0.0, None),
    "method_args.mu": (r"variance(?:[ _-](?:term|loss|regulari[sz]ation|penalty|hinge))?", 0.0, None),
    "method_args.lambda_": (r"invariance(?:[ _-](?:term|loss))?", 0.0, None),
    "method_args.queue_size": (r"(?:memory\s+|momentum\s+|negatives?\s+|key\s+)?queue|memory[ _-]bank", 0, None),  # MoCo v3: keys from the batch
    "train.precision": (rf"{LOWER_PRECISION_WORDS}|bf16|fp16", "32", None),
    "train.grad_clip": (r"grad(?:ient)?[ _-]?(?:norm[ _-])?clip(?:ping)?|clip(?:ping)?[ _-]grad(?:ient)?s?", None, None),
    "train.keep_checkpoints": (r"(?:keep(?:ing)?\s+)?(?:any\s+)?(?:intermediate\s+)?checkpoints", 0, None),  # last.pt is always kept
    "eval.knn_monitor_images": (r"(?:the\s+)?(?:k-?nn[ _-]monitor(?:ing)?|online\s+k-?nn|k-?nn\s+(?:accuracy\s+)?(?:during|"
                                r"while)\s+training)", 0, 1024),
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


METHOD_SETTING_KEYS = {f"method_args.{name}" for _, names, _ in METHOD_SETTINGS for name in names}


SETTING_VALUE = re.compile("|".join(
    rf"\b(?:{p})\b\s*(?:[:=]|of|to|at|is)?\s*{NUMBER}k?|\b{NUMBER}k?(?:-?d\b|[ -]dim(?:ension(?:al)?)?s?)?(?:\s+|-)(?:{p})\b"
    for p in [*(p for p, key in KNOBS if not key.startswith("train.")), *(p for p, _, _ in METHOD_SETTINGS)]))
"""A number written as a method's setting, for any method ("queue size 4096", "a 128-d bottleneck"): never a run.
The run's own settings are left out: "the last checkpoint of 1" names run 1."""


def _setting_of(method: str | None, names: tuple[str, ...]) -> str | None:
    """The first of `names` that the method has; None when no method is known or it has none of them."""
    have = method_settings(method) if method in METHODS else frozenset()
    return next((n for n in names if n in have), None)


def _written_value(raw: str, percent: bool = False) -> int | float:
    value = float(raw[:-1]) * 1000 if raw.endswith("k") else float(raw)
    if percent:
        return value / 100
    return int(value) if value.is_integer() and "." not in raw and "e" not in raw else value


def _said_value(low: str, pattern: str, value_first: bool) -> int | float | None:
    """The value written beside a setting's words ("bottleneck of 128"; "a 512-d bottleneck" when `value_first`),
    or None."""
    m = re.search(rf"\b(?:{pattern})\b(?:\s+(?:set\s+to|of|to|at|is|=|:)|\s*[:=])?\s*({NUMBER}k?)(?!\d|\s*(?:px|"
                  rf"pixels?|epochs?|blocks?|layers?)\b|{RUNS_AFTER})({PERCENT})?", low)  # as find_knobs'
    # own settings; "a decoder of 2 blocks" counts blocks, not the decoder's width
    if not m and value_first:  # "a 512-d bottleneck", "a 4-layer text encoder"; not "a 3-layer projector"
        m = re.search(rf"\b({NUMBER}k?)()(?:-?d\b|[ -]dim(?:ension(?:al)?)?s?)?(?:\s+|-)(?:{pattern})\b"
                      rf"(?!\s+{PARTS_AFTER})", low)
    return _written_value(m.group(1), bool(m.group(2))) if m else None


def find_method_settings(low: str, method: str | None) -> dict:
    """Settings some methods have (METHOD_SETTINGS, a masked share, a sized projector, DINO's teacher warm-up), each
    under the name the launch's method gives it; one the method lacks is left out, so its number stays unplaced and
    is asked about."""
    out: dict = {}
    for pattern, names, value_first in METHOD_SETTINGS:
        name = _setting_of(method, names)
        key = f"method_args.{name}"
        if name and key not in out:
            value = _said_value(low, pattern, value_first)
            if value is not None:
                out[key] = value
    share = MASK_SHARE.search(low)
    name = _setting_of(method, ("mlm_probability", "mask_ratio"))
    if share and name:
        out.setdefault(f"method_args.{name}", _written_value(share.group(1) or share.group(2), percent=True))
    sized = SIZED_PROJECTOR.search(low)
    if sized and _setting_of(method, ("proj_dim",)):
        out.setdefault("method_args.proj_dim", int(sized.group(1)))
    warm = TEACHER_TEMP_WARMUP.search(low)
    epochs = epochs_said(warm) if warm else None
    if warm and (warm.group("steps") or epochs is not None) and _setting_of(method, ("teacher_temp_warmup_steps",)):
        out["method_args.teacher_temp"] = float(warm.group("end"))
        if warm.group("start"):
            out["method_args.warmup_teacher_temp"] = float(warm.group("start"))
        if epochs is not None:
            out["method_args.teacher_temp_warmup_epochs"] = epochs
        else:
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


LOCAL_CROP_SIZE = re.compile(r"\blocal[ _-]crops?\s+(?:of|at|sized?)\s+(\d{1,3})\s*(?:px|pixels?)?(?![\w.])|\blocal[ _-]crop"
                             r"[ _-]size\s*(?:of|:|=)?\s*(\d{1,3})\b|\b(\d{1,3})\s*(?:px|pixels?)[ -]local[ _-]crops?\b")
"""DINO's local crops by their side ("6 local crops of 48px", "local crop size 32", "48px local crops"):
augment.local_crop_size, never the images' size."""
GLOBAL_CROP_SIZE = re.compile(r"\bglobal[ _-]crops?\s+(?:of|at|sized?)\s+(\d{2,4})\s*(?:px|pixels?)?(?![\w.])|\b(\d{2,4})\s*"
                              r"(?:px|pixels?)[ -]global[ _-]crops?\b")
"""DINO's global crops by their side ("2 global crops at 64"): the images' size, data.image_size."""
COMPILED = re.compile(r"\b(?:torch[ ._-]?)?compile\s+(?:the\s+|its\s+)?(?:model|network|backbone|encoder|it)\b")
"""torch.compile asked for by its verb ("compile the model"): train.compile."""
GENERATED_IMAGES = re.compile(r"\b(\d[\d,]*k?)\s+(?:generated|synthetic)\s+(?:images?|shapes?|samples?)\b|"
                              r"\bgenerate\s+(\d[\d,]*k?)\s+(?:images?|shapes?|samples?)\b")
"""The generated shapes set's size ("800 generated images"): data.num_samples."""
LR_SCALED = re.compile(rf"\b(?:lr|learning[ _-]rate)\s+(?:scaled|multiplied)\s+(?:up\s+)?by\s+({NUMBER})(?![\w.])|"
                       rf"\blr[ _-]scale\s*(?:of|=|:|to)?\s*({NUMBER})(?![\w.])")
"""The default peak rate times a factor ("lr scaled by 2", "lr_scale 0.5"): optim.lr_scale."""
IMAGES_AT_MOST = re.compile(r"\b(?:only|at\s+most|up\s+to|max(?:imum)?(?:\s+of)?|limit(?:ed)?\s+to|(?:the\s+)?first|a\s+"
                            r"subset\s+of|just|using|use)\s+(\d[\d,]*k?)\s+(?:of\s+(?:the|its|my)\s+)?(?:images?|photos?|"
                            r"pictures?|samples?)\b|\ba\s+(\d[\d,]*k?)[- ]image\s+subset\b")
"""A launch on part of its data ("using only 1000 images", "on the first 5k images", "using 500 images"):
data.max_samples."""
KEEP_OF_THEM = re.compile(r"\bcheckpoint(?:s|ing)?\b.{0,40}?\bkeep(?:ing)?\s+(?:only\s+|just\s+)?(?:the\s+)?(?:last\s+|newest\s+|"
                          r"latest\s+)?(\d+)(?:\s+of\s+them)?\b(?!\s*(?:steps?|epochs?|runs?|%))")
"""How many checkpoints to keep, said after them ("checkpoint every 5 steps and keep 2 of them", "... keep the last 3")."""
KNN_BANK_OF_IMAGES = re.compile(r"\b(\d[\d,]*k?)[ -]images?\s+k-?nn[ _-](?:monitor[ _-])?bank\b")
"""The kNN monitor's bank by its count of images ("a 256-image knn bank"): eval.knn_monitor_images."""
LAST_CHECKPOINT_ONLY = re.compile(r"\b(?:(?:only|just)\s+(?:keep|save|store)|(?:keep|save|store)\s+(?:only|just))\s+"
                                  r"(?:the\s+|a\s+|one\s+)?(?:last|final|latest|end)\s+(?:one|checkpoint)\b|"
                                  r"\b(?:keep|save|store)\s+(?:a\s+|the\s+|one\s+)?checkpoint\s+(?:only\s+)?at\s+the\s+end"
                                  r"(?:\s+only)?\b|\bno\s+checkpoints?\s+but\s+the\s+(?:last|final)(?:\s+one)?\b")
"""Only the last checkpoint ("only keep the last checkpoint", "save a checkpoint at the end only"): no step_<n>.pt files
besides last.pt (train.keep_checkpoints=0; last.pt is always written, so the run can be resumed)."""
VAL_SHARE = re.compile(rf"\b(?P<a>\d+(?:\.\d+)?)\s*{PERCENT_SIGN}\s+(?:of\s+(?:the\s+)?(?:data|images)\s+)?(?:held[ -]out|"
                       r"(?:kept\s+)?for\s+validation|as\s+(?:a\s+)?validation|validation)|\bval(?:idation)?[ _-]?"
                       rf"(?:split|fraction|share|set)\s*(?:of|:|=)?\s*(?P<b>\d+(?:\.\d+)?)\s*{PERCENT_SIGN}")
"""The validation share in percent ("20% held out for validation", "a validation split of 10%"): data.val_fraction."""
NO_VALIDATION = re.compile(r"\b(?:don'?t|do\s+not|no\s+need\s+to)\s+(?:hold\s+out|keep|set\s+aside|split\s+off)\s+(?:any\s+)?"
                           r"(?:validation|val|held[ -]out)\b|\b(?:no|without\s+(?:a|any)?)\s*(?:validation|val|held[ -]out)\s+"
                           r"(?:split|set|data|images)\b")
"""No validation split ("don't hold out any validation data", "without a validation set"): data.val_fraction 0."""

EMA_NAMED = re.compile(r"\b(?:ema|teacher|target|momentum[ _-]encoder|key[ _-]encoder)\b")
OPTIMIZER_NAMED = re.compile(r"\b(?:sgd|lars|optimi[sz]er)\b")


def optimiser_momentum(low: str, method: str | None) -> bool:
    """Bare "momentum" is the EMA teacher's, unless an optimiser is named beside it ("sgd with momentum 0.9") or the
    method has no EMA (SimCLR): then it is the optimiser's (`optim.momentum`)."""
    return not EMA_NAMED.search(low) and bool(
        OPTIMIZER_NAMED.search(low) or (method in METHODS and not _setting_of(method, ("ema_momentum",))))


RUNS_AFTER = rf"\s+(?:more\s+|new\s+)?(?:(?:{METHOD_WORDS})\s+)?(?:runs?|jobs?|experiments?|times)\b|\s+(?:{METHOD_WORDS})\b"
"""A count of runs after a knob's word ("queue 3 byol runs", "seed 2 more runs"): the runs', never the knob's value."""


def assigned_name(text: str, key: str) -> str:
    """The setting a `key=` in `text` names, read with the word written before it where the key alone names none:
    "weight decay = 0.01" is weight_decay, and "learning rate = 5e-4" lr (the initials of the name written out)."""
    m = re.search(rf"\b([a-z]+)[ -]{re.escape(key)}\s*=", text, re.I) if names_no_setting(key) else None
    if m is None:
        return key
    spelled = f"{m.group(1).lower()}_{key}"
    return next((name for name in (spelled, "".join(w[:1] for w in spelled.split("_")))
                 if not names_no_setting(name)), key)


def names_no_setting(name: str) -> bool:
    """Whether a bare `name=` names no setting of any section or method ("temp", "bs", "rate")."""
    return "." not in name and dotted_setting(name).startswith("method_args.") and not any(
        name in method_settings(m) for m in METHODS)


def short_for(short: str, key: str) -> bool:
    """Whether a bare `short=` that names no setting of any section or method is a person's short name for `key`:
    its start ("temp": temperature) or its words' initials ("bs": batch_size, "wd": weight_decay). Its value is then
    placed where the knobs read it, not under a setting no method has."""
    if not names_no_setting(short):
        return False
    name = key.rsplit(".", 1)[-1]
    return name.startswith(short) or short == "".join(word[:1] for word in name.split("_"))


def find_knobs(text: str, method: str | None = None) -> dict:
    """Method and training knobs by name or synonym, with the value written next to them. `method`: the launch's
    (a pending launch's, a follow-up's parent's), unless the message names one; it decides what a setting some
    methods have means (METHOD_SETTINGS)."""
    low = text.lower()
    named = find_method(text)
    method = named.value if named and named.value else method  # a method the message names wins
    out: dict = find_method_settings(low, method)
    low = TEACHER_TEMP_WARMUP.sub(" ", low)  # its temperatures are read above, never as the teacher's alone
    wide = GLOBAL_CROP_SIZE.search(low)  # "2 global crops at 64": the images' size
    if wide:
        out["data.image_size"] = int(wide.group(1) or wide.group(2))
        low = low[:wide.start()] + " " + low[wide.end():]
    local = LOCAL_CROP_SIZE.search(low)  # "6 local crops of 48px": the crops' side, never their count
    if local:
        out["augment.local_crop_size"] = int(next(g for g in local.groups() if g))
        low = low[:local.start()] + " local crops " + low[local.end():]
    for pattern, key in KNOBS:  # a number that counts pixels is a size, not the knob's value ("crops of 48px")
        m = re.search(rf"\b(?:{pattern})\b\s*[:=]?\s*(?:(?:set|fixed|kept|held)\s+)?(?:of|to|at|=)?\s*({NUMBER})(?!\d|\s*(?:px|pixels?|epochs?)\b|{RUNS_AFTER})"
                      rf"({PERCENT})?", low) \
            or re.search(rf"\b({NUMBER})({PERCENT})?(?:\s+|-)(?:{pattern})\b", low)  # "a 16384-key queue"
        if m and m.group(2) and key not in SHARE_KNOBS:
            continue  # "a 20% warm-up", "weight decay 5%": a share of something else, left for its own reading or asked
        if m and key not in out:
            val = m.group(1)
            out[key] = int(float(val)) if key in INT_KNOBS else \
                float(val) / 100 if m.group(2) else float(val)  # "mask ratio 60%": 0.6
    if "method_args.ema_momentum" in out and optimiser_momentum(low, method):
        out["optim.momentum"] = out.pop("method_args.ema_momentum")  # "sgd with momentum 0.9"; SimCLR has no EMA
    out.update({k: v for k, v in find_switches(low).items() if k not in out})
    out.update(find_architecture(text))
    frozen = FREEZE_LAST_LAYER.search(low) if method is None or _setting_of(method, ("freeze_last_layer_steps",)) \
        else None  # another method's: left unplaced, so asked (fidelity.LASTING)
    if frozen and frozen.group("steps"):
        out["method_args.freeze_last_layer_steps"] = parse_count(frozen.group("steps"))
    elif frozen and epochs_said(frozen) is not None:
        out["method_args.freeze_last_layer_epochs"] = epochs_said(frozen)
    warmup = WARMUP_LENGTH.search(low)  # "a 20-step warmup", "a warmup of 1k steps": the count with its unit
    warmup_epochs = WARMUP_EPOCHS.search(low)  # "warmup 10 epochs": the run makes steps of it
    if LAST_CHECKPOINT_ONLY.search(low):
        out.setdefault("train.keep_checkpoints", 0)
    kept = KEEP_OF_THEM.search(low)
    if kept:
        out.setdefault("train.keep_checkpoints", int(kept.group(1)))
    bank = KNN_BANK_OF_IMAGES.search(low)  # "a 256-image knn bank": the count before its images
    if bank:
        out.setdefault("eval.knn_monitor_images", parse_count(bank.group(1)))
    if COMPILED.search(low):
        out.setdefault("train.compile", True)
    generated = GENERATED_IMAGES.search(low)
    if generated:
        out["data.num_samples"] = parse_count(generated.group(1) or generated.group(2))
    scaled = LR_SCALED.search(low)
    if scaled:
        out["optim.lr_scale"] = float(scaled.group(1) or scaled.group(2))
    subset = IMAGES_AT_MOST.search(low)  # "using only 1000 images": a subset of the data, never the probe's
    if subset:
        out["data.max_samples"] = parse_count(subset.group(1) or subset.group(2))
    held = VAL_SHARE.search(low)  # "20% held out for validation"
    if held:
        out["data.val_fraction"] = float(held.group("a") or held.group("b")) / 100
    elif NO_VALIDATION.search(low):
        out["data.val_fraction"] = 0.0
    share = WARMUP_SHARE.search(low)  # "a 5% warmup": of the run's length, where the message gives it
    length = find_numbers(text) if share and not (warmup or warmup_epochs) else {}
    if warmup:
        out["optim.warmup_steps"] = parse_count(warmup.group(1) or warmup.group(2))
    elif warmup_epochs:  # "5 warmup epochs": the count is the epochs', never a number of steps read by the knob
        out.pop("optim.warmup_steps", None)
        out["optim.warmup_epochs"] = epochs_said(warmup_epochs)
    elif length.get("steps") or length.get("epochs"):
        fraction = float(share.group("a") or share.group("b")) / 100
        if length.get("steps"):
            out["optim.warmup_steps"] = max(1, round(fraction * length["steps"]))
        else:
            out["optim.warmup_epochs"] = round(fraction * length["epochs"], 4)
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


LABEL_SHARE = re.compile(rf"\b(\d+(?:\.\d+)?)\s*{PERCENT_SIGN}\s+(?:of\s+(?:the\s+|its\s+|my\s+)?)?"
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
    m = re.search(r"\b(\d+)\s+(?:nearest\s+)?neighbou?rs\b|\bknn[ _-]?k\s*[:=]?\s*(\d+)", low) or re.search(
        r"\bk\s*(?:[:=]|of|at|to)?\s*(\d+)\b()", low)
    if m:  # "50 neighbours", "knn_k 50", "k 10", "k of 10": a probe's only k is its kNN's
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


# what a sweep varies, as people write it, and the config key: the launch knobs, the rate, the batch, the seed
SWEEPABLE: list[tuple[str, str]] = [(r"learning[ _-]rates?|lrs?", "optim.lr"),
                                    (r"batch[ _-]?sizes?|batch(?:es)?|bs", "train.batch_size"),
                                    *[(p + "s?", k) for p, k in KNOBS if k != "train.seed"],
                                    (r"(?:random[ _-])?seeds?", "train.seed")]


INT_SWEEPS = {*INT_KNOBS, "train.batch_size", "train.steps", "train.epochs"}


LENGTHS_ASKED: list[tuple[str, str]] = [
    # lengths asked with their unit ("how many epochs of warmup", "how many steps was the last layer frozen"): the
    # whole phrase is the setting, its unit not the run's, and "how long" asks for it, not the run's wall time
    (r"(?:steps|epochs)\s+(?:of\s+)?(?:lr\s+|linear\s+)?warm[ _-]?up", "optim.warmup_steps"),
    (r"(?:(?:steps|epochs)\s+(?:was|were|is|did)\s+(?:the\s+|its\s+)?)?(?:last|output|final|prototypes?)\s+layer"
     r"(?:\s+[\w']+){0,4}?\s+(?:frozen|locked|freeze)|(?:freez\w*|frozen)\s+(?:the\s+|its\s+)?(?:last|output|final|"
     r"prototypes?)\s+layer", "method_args.freeze_last_layer_steps"),
    (r"(?:(?:steps|epochs)\s+(?:of\s+|did\s+)?(?:the\s+)?)?teacher[ _-]?temp(?:erature)?\s+warm[ _-]?up|warm[ _-]?up\s+"
     r"of\s+(?:the\s+|its\s+)?teacher[ _-]?temp(?:erature)?", "method_args.teacher_temp_warmup_steps")]


# what a question about a run's settings names ("what learning rate did run 4 use?"): lengths with their unit, the
# sweepable knobs, the switches, and settings no launch message sets by name; each to its config key
ASKABLE: list[tuple[str, str]] = [
    *LENGTHS_ASKED, *SWEEPABLE, *[(SWITCHES[k][0], k) for k in ("method_args.predictor", "method_args.stop_gradient")],
    (r"optimi[sz]ers?", "optim.name"),
    (r"(?:lr[ _-]|learning[ _-]rate[ _-])?schedules?", "optim.schedule"),
    (r"backbones?|architectures?|arch", "backbone.name"),
    (r"(?:backbone[ _-])?width", "backbone.width"),
    (r"precision|dtype|bf16|fp16", "train.precision"),
    (r"devices?|gpus?|hardware", "train.device"),
    (r"(?:training[ _-])?steps", "train.steps"),
    (r"epochs", "train.epochs"),
    (r"augmentations?|augs?", "augment.strength"),
    (r"time[ _-]?limit|max[ _-]?minutes", "train.max_minutes"),
    (r"stop(?:ping)?[ _-](?:rules?|conditions?|criteria)", "monitor.stop_when")]  # "what stop rules does run 3 have?"


A_RATE = re.compile(r"\b(?:images?|imgs?|samples?|steps?|iterations?|its?)\s*(?:/\s*s(?:ec)?|(?:per|a)\s+sec(?:ond)?)\b",
                    re.I)
"""A speed ("steps per second", "img/s", "iterations a second"): the run's time, and no setting ("steps")."""
ASKED_TIME = re.compile(rf"\bhow\s+(?:long|fast|quick(?:ly)?|much\s+time)\b|\bwall[ -]?(?:clock|time)\b|\bduration\b|"
                        rf"\bthroughput\b|\bspeed\b|{A_RATE.pattern}|"
                        r"\brun[ -]?time\b|\btraining\s+time\b|\btime\s+(?:it|did|was)\b|\btook\b|\beta\b|"
                        r"\btime\s+(?:is\s+)?(?:left|remaining)\b|\bwhen\s+will\b.{0,30}\b(?:finish|end|be\s+done|complete)\b", re.I)


ASKED_FILES = re.compile(r"\b(?:where|which\s+(?:folder|path|file))\b.{0,40}\b(?:encoder|weights|checkpoints?|model|"
                         r"artifacts?|outputs?|files?|saved|stored|exported|written)\b|\bhow\b.{0,20}\bload\b|"
                         r"\bpath\s+(?:of|to)\b.{0,30}\b(?:encoder|weights|checkpoints?|model)\b|"
                         r"\b(?:encoder|weights|checkpoints?|model)(?:['\u2019]s)?\s+(?:path|file|location|folder)s?\b|"
                         r"\b(?:have|has|keep|kept|save|saved)\s+(?:a|an|any|some|its|the)\s+(?:(?:last|final|latest)\s+)?"
                         r"(?:checkpoints?|encoder|weights)\b(?!\s+(?:every|each))|\bcheckpoints?\b.{0,30}\bresume\s+from\b",
                         re.I)
"""A run's files asked for ("where is run 1's encoder saved?", "does run 2 have a checkpoint I can resume from?"): the
encoder's and checkpoints' paths, not the checkpoint settings."""


ASKED_OUTPUT = re.compile(r"\b(?:logs|log\s+(?:file|lines?|output|tail))\b|\b(?:the|its|their|run\s*#?\s*\d+['\u2019]s)\s+"
                          r"(?:log\b(?!\s+(?:every|interval|frequency|cadence|steps?))|output\b(?!s))|\bstd\s*out\b|\bconsole(?:\s+output)?\b|"
                          r"\b(?:printed|terminal|training|worker['\u2019]?s?)\s+output\b|\btail\b|\bwhat\s+(?:did\s+)?(?:run\s*#?"
                          r"\s*\d+|it)\s+print(?:ed)?\b|\blast\s+\d{1,3}\s+lines\b", re.I)
"""The run's output asked for ("show run 2's log", "the last 20 log lines of run 2", "what did run 3 print?"): the
tail of its stdout.log, not a search of the run logs' index."""
ASKED_EMBEDDINGS = re.compile(r"\bembeddings\b(?!\s+(?:dim\w*|size|width))|\bembedding\s+(?:space|plot|view|projection|"
                              r"scatter|map)\b|\b(?:pca|t-?sne|umap)\b|\b(?:singular[ -]value|eigen-?value)s?\s+"
                              r"(?:spectrum|plot)\b|\bfeature\s+space\b|\b(?:plot|visuali[sz]e|draw|project)\s+(?:\S+\s+){0,3}?"
                              r"(?:features|representations)\b|\b(?:features|representations)\s+(?:in|into|onto)\s+"
                              r"(?:2-?d|3-?d|two|three|2|3)\b|\b(?:2-?d|two[- ]dimensional)\s+(?:plot|view|projection|map|"
                              r"picture|scatter)\b", re.I)
"""A run's held-out embeddings asked for ("show me run 1's embeddings", "plot the embedding space of run 2", "a pca of
run 3", "plot run 3 features in 2d"): `get_run(show=["embeddings"])`; an embedding's width ("embedding dim 512") is a
setting."""
OUTPUT_LINES = re.compile(r"\b(?:last|final|latest|tail(?:\s+of)?)\s+(\d{1,3})\s+(?:log\s+|output\s+)?lines?\b|\b(\d{1,3})\s+"
                          r"(?:last|final)\s+(?:log\s+)?lines?\b", re.I)
"""How many lines of the output ("the last 5 lines"): its own number, not a setting's value."""


ASKED_CONFIG = re.compile(r"\b(?:config(?:uration)?s?|settings|hyper-?param(?:eter)?s|hparams|set-?up|recipe)\b", re.I)


VALUE_FOR_SETTING = re.compile(rf"\b({NUMBER}k?)\s+(?:for|as)\s+(?:the|its|my|our)\s+(?P<what>[a-z][a-z _-]{{0,30}}?)"
                               r"(?=\s*(?:$|[,.;:!?)]|\s+(?:and|instead|please|then|too|now|this\s+time)\b))", re.I)
"""A value written before the setting it is for ("use 0.3 for the temperature", "64 as the batch size")."""


def setting_before_value(text: str) -> str:
    """`text` with each value written before its setting ("use 0.3 for the temperature") put after it ("use
    temperature 0.3"), the order every reading of a setting knows; words that name no setting stay as they are."""
    return VALUE_FOR_SETTING.sub(lambda m: f"{m.group('what')} {m.group(1)}" if named_settings(m.group("what")) else
                                 m.group(0), text)


def named_settings(text: str) -> list[str]:
    """The config keys a message names (find_asked without the whole config, the time and the files)."""
    return [k for k in find_asked(text) if k not in SPECIAL]


def find_asked(text: str, method: str | None = None) -> list[str]:
    """The settings a question about a run asks for, as `get_run(show=...)` takes them: config keys in the order
    written (a word inside a longer one counts once: "lr schedule" is the schedule), "time" for its wall time or
    speed, "config" for the whole config. A setting some methods have takes the name the run's `method` gives it
    (the first name when none does: the answer then says the run has no such setting)."""
    low = A_RATE.sub(" ", text.lower())  # "steps per second" is the run's speed, not its length
    spans = []
    own = [(p, f"method_args.{_setting_of(method, names) or names[0]}") for p, names, _ in METHOD_SETTINGS]
    for pattern, key in [*ASKABLE, *own]:
        m = re.search(rf"\b(?:{pattern})\b", low)
        if m and key not in (k for *_, k in spans):
            spans.append((m.start(), m.end(), key))
    kept = [(a, b, k) for a, b, k in spans
            if not any(a2 <= a and b <= b2 and (b2 - a2) > (b - a) for a2, b2, _ in spans)]
    keys = [k for *_, k in sorted(kept)]
    if ASKED_FILES.search(text):  # "where is run 1's encoder saved?": its files, not its checkpoint settings
        keys = [k for k in keys if k != "train.keep_checkpoints"] + ["files"]
    if ASKED_TIME.search(text) and not (re.search(r"\bhow\s+long\b", low) and
                                         {k for _, k in LENGTHS_ASKED} & set(keys)):
        keys.append("time")
    if ASKED_OUTPUT.search(text):  # "show run 2's log": the tail of its output
        keys.append("output")
    if ASKED_CONFIG.search(text) and not keys:
        keys.append("config")
    return keys


COMPARED = (r"[<>]=?|\b(?:below|under|beneath|above|over|exceed(?:s|ing)?|(?:less|more|greater|lower|higher|larger|bigger|"
            r"smaller|fewer)\s+than|at\s+(?:least|most)|no\s+(?:more|less|fewer)\s+than)\b")
"""Words that compare with a value ("above 0.01", "at least 256", "< 4"): a list's rule here, and a bar whose number
is never a run (run_refs.BAR)."""
BAR_WORDS = rf"(?P<op>{COMPARED})"


def bar_op(words: str) -> str:
    """A comparison's words as a rule's operator: "at least" is >=, "below" <."""
    w = " ".join(words.lower().split())
    if w in (">", "<", ">=", "<="):
        return w
    if w in ("at least", "no less than", "no fewer than"):
        return ">="
    if w in ("at most", "no more than"):
        return "<="
    return ">" if w.split()[0] in ("above", "over", "exceeds", "exceed", "exceeding", "greater", "more", "higher",
                                   "larger", "bigger") else "<"


FIELD_OF = {k: FIELD_KEYS[k] for k in ("lr", "batch_size")}
"""A launch's named fields a list of runs may be picked by ("the runs with batch size 256")."""


_RESULT = r"(?:linear\s+)?probe(?:\s+acc(?:uracy)?)?|(?:probe\s+|linear\s+probe\s+)?accuracy|k-?nn(?:\s+acc(?:uracy)?)?"
_SHARE = rf"(?P<value>{NUMBER})\s*(?P<pct>{PERCENT_SIGN})?"
RESULT_FILTERS = (
    re.compile(rf"\b(?P<what>{_RESULT})\s*(?:of\s+|was\s+|is\s+|were\s+)?{BAR_WORDS}\s*{_SHARE}", re.I),
    re.compile(rf"{BAR_WORDS}\s*{_SHARE}\s*(?:(?:on|in|for|at|of)\s+(?:the\s+|its\s+|their\s+|a\s+)?)?(?P<what>{_RESULT})\b",
               re.I),
)
"""Runs picked by what they measured ("runs with a probe above 96%", "knn accuracy of at least 0.9", "runs that scored
over 95% on the probe"): list_runs' `where` over `probe/acc` or `knn/acc` (tools/run_filters.RESULTS), a percent or a
number over 1 read as a share. The metric is named before the bar or after it."""


def without_result_filters(text: str) -> str:
    """The text with its result rules blanked out, for the readings of settings that follow."""
    for pattern in RESULT_FILTERS:
        text = pattern.sub(" ", text)
    return text


def result_filters(text: str) -> list[str]:
    """RESULT_FILTERS' rules, as `list_runs(where=...)` takes them."""
    out = []
    found = sorted((m for pattern in RESULT_FILTERS for m in pattern.finditer(text)), key=lambda m: m.start())
    for m in found:
        key = "knn/acc" if re.match(r"k-?nn", m.group("what"), re.I) else "probe/acc"
        value = float(m.group("value"))
        share = value / 100 if m.group("pct") or value > 1 else value
        rule = f"{key}{bar_op(m.group('op'))}{share:g}"
        if all(not r.startswith(key) for r in out):
            out.append(rule)
    return out


def setting_filters(text: str, method: str | None = None) -> list[str]:
    """What a list of runs is picked by in words, as `list_runs(where=...)` rules: "with a bottleneck of 128"
    (method_args.bottleneck_dim=128), "that used temperature 0.2", "with lr above 0.01" (optim.lr>0.01). A setting
    the method lacks, or said with no method, keeps its first name: the runs without it are left out, and the answer
    says so, rather than the rule being dropped."""
    low = text.lower()
    named = find_method(text)
    method = named.value if named and named.value else method
    rules: dict[str, str] = {}
    own = [(p, f"method_args.{_setting_of(method, names) or names[0]}", first) for p, names, first in METHOD_SETTINGS]
    for pattern, key in [*SWEEPABLE, *((p, k) for p, k, _ in own)]:
        m = re.search(rf"\b(?:{pattern})\b\s*(?:of\s+|was\s+|is\s+|were\s+)?{BAR_WORDS}\s*({NUMBER})\b", low)
        if m and key not in rules:
            rules[key] = f"{key}{bar_op(m.group('op'))}{_written_value(m.group(m.lastindex))}"
    said = {**{FIELD_OF[k]: v for k, v in find_numbers(low).items() if k in FIELD_OF}, **find_knobs(text, method)}
    for pattern, key, value_first in own:
        value = _said_value(low, pattern, value_first)
        if value is not None:
            said.setdefault(key, value)
    for key, value in said.items():
        if key not in rules and not isinstance(value, (list, dict)) and key != "train.max_minutes":
            rules[key] = f"{key}={str(value).lower() if isinstance(value, bool) else value}"
    return list(rules.values())[:4]


GENERIC_PARTS = {"size", "dim", "num", "max", "min", "steps"}


def settings_it_lacks(text: str, method: str | None) -> str:
    """What to say when a message names a setting its launch's method does not have ("a hidden size of 512" for
    BYOL): that it has none, and the settings of its own that share a word with it (its projector's and predictor's
    hidden sizes), else the methods that have it."""
    if method not in METHODS:
        return ""
    low, said = text.lower(), []
    for pattern, names, _ in METHOD_SETTINGS:
        if _setting_of(method, names) or not re.search(rf"\b(?:{pattern})\b", low):
            continue
        parts = {p for n in names for p in n.split("_")} - GENERIC_PARTS
        near = sorted(s for s in method_settings(method) if parts & set(s.split("_")))
        owners = sorted({BY_NAME[m].title for m in METHODS for n in names if n in method_settings(m)})
        said.append(f"{BY_NAME[method].title} has no `{names[0]}`" + (
            f"; its own nearest are {', '.join(f'`method_args.{n}`' for n in near)}" if near else
            f" ({', '.join(owners)} {'has' if len(owners) == 1 else 'have'} it)" if owners else ""))
    return (" " + "; ".join(dict.fromkeys(said)) + ".") if said else ""
