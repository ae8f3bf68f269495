"""The rule-based reading of chat messages that sslpilot used before the intent classifier (agent/understand.py),
kept unchanged so benchmarks/chat_understanding.py can score both on the same held-out set.

The offline planner's reading of a user message: which tool, with which arguments.

Plain rules over the phrasings people type ("pretrain DINO on ./data/products for 50 epochs on GPU 1",
"why did run 17 collapse?", "what should I try next?"), with the thread's context for "it", "that run"
and "the last run". It returns a tool name and arguments, or None with a reason when it cannot tell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

METHOD_ALIASES = {
    "simclr": "simclr", "sim-clr": "simclr", "moco": "moco", "mocov2": "moco", "moco v2": "moco", "mocov3": "moco",
    "moco v3": "moco", "byol": "byol", "simsiam": "simsiam", "sim siam": "simsiam", "dino": "dino",
    "barlow twins": "barlow_twins", "barlow_twins": "barlow_twins", "barlowtwins": "barlow_twins", "barlow": "barlow_twins",
    "vicreg": "vicreg", "vic-reg": "vicreg", "mae": "mae", "masked autoencoder": "mae", "masked autoencoders": "mae",
    "mlm": "mlm", "masked lm": "mlm", "masked language model": "mlm", "masked language modelling": "mlm",
    "masked language modeling": "mlm", "bert-style": "mlm", "clm": "clm", "causal lm": "clm", "next-token": "clm",
    "next token": "clm", "gpt-style": "clm", "clip": "clip", "image-text": "clip",
}
DATASETS = ("digits", "shapes")
KNOB_PATTERNS = {
    "method_args.temperature": r"temp(?:erature)?\s*(?:=|of|to|at)?\s*([0-9.]+(?:e-?\d+)?)",
    "method_args.teacher_temp": r"teacher[_ ]temp(?:erature)?\s*(?:=|of|to|at)?\s*([0-9.]+)",
    "method_args.ema_momentum": r"(?:ema|momentum)\s*(?:=|of|to|at)?\s*(0\.[0-9]+)",
    "method_args.mask_ratio": r"mask(?:ing)?[_ ]ratio\s*(?:=|of|to|at)?\s*([0-9.]+)",
    "method_args.queue_size": r"queue(?:[_ ]size)?\s*(?:=|of|to|at)?\s*(\d+)",
    "augment.strength": r"(?:augment(?:ation)?[_ ]?strength|strength)\s*(?:=|of|to|at)?\s*([0-9.]+)",
    "train.grad_clip": r"(?:grad(?:ient)?[_ ]clip(?:ping)?|clip)\s*(?:=|of|to|at)?\s*([0-9.]+)",
    "method_args.proj_dim": r"proj(?:ection)?[_ ]dim\s*(?:=|of|to|at)?\s*(\d+)",
}
AFFIRM = re.compile(r"^\s*(y|yes|yep|yeah|sure|ok|okay|confirm(ed)?|go( ahead)?|do it|launch it|please do|"
                    r"proceed|sounds good|go for it)\b", re.I)
DENY = re.compile(r"^\s*(n|no|nope|cancel|don't|do not|stop|abort|never ?mind)\b", re.I)


@dataclass
class Intent:
    tool: str | None
    args: dict = field(default_factory=dict)
    reason: str = ""


@dataclass
class Context:
    """What the thread is about: the run under discussion and the last recommendation made."""

    focus_run: str | None = None
    last_run: str | None = None
    last_recommendation: dict | None = None


def _num(text: str) -> float:
    return float(text)


def find_run_ids(text: str) -> list[str]:
    ids = re.findall(r"\b(?:runs?|#|id)\s*#?\s*(\d+)", text, re.I)
    ids += re.findall(r"(?:,|\band\b|&|\bvs\.?|\bwith\b)\s*#?(\d+)\b", text, re.I) if ids else []
    out: list[str] = []
    for i in ids:
        if i not in out:
            out.append(i)
    return out


def find_method(text: str) -> str | None:
    low = text.lower()
    for alias in sorted(METHOD_ALIASES, key=len, reverse=True):
        if re.search(rf"(?<![a-z]){re.escape(alias)}(?![a-z])", low):
            return METHOD_ALIASES[alias]
    return None


def find_data(text: str) -> str | None:
    m = re.search(r"\b(?:on|with|using|from)\s+(?:the\s+)?((?:~|\.{1,2})?/[^\s,;]+|[A-Za-z0-9_.-]+/[^\s,;]*)", text)
    if m:
        return m.group(1).rstrip(".?!")
    low = text.lower()
    for d in DATASETS:
        if re.search(rf"\b{d}\b", low):
            return d
    return None


def find_knobs(text: str) -> dict:
    low = text.lower()
    out: dict = {}
    m = re.search(r"(\d+)\s*epochs?\b", low) or re.search(r"epochs?\s*(?:=|of|to)?\s*(\d+)", low)
    if m:
        out["epochs"] = int(m.group(1))
    m = re.search(r"(\d[\d,]*k?)\s*(?:training\s+)?steps?\b", low) or re.search(r"steps?\s*(?:=|of|to)?\s*(\d[\d,]*k?)", low)
    if m:
        raw = m.group(1).replace(",", "")
        out["steps"] = int(float(raw[:-1]) * 1000) if raw.endswith("k") else int(raw)
    m = re.search(r"batch(?:[_ ]?size)?\s*(?:=|of|to)?\s*(\d+)", low) or re.search(r"(\d+)\s*(?:images\s+)?per batch", low)
    if m:
        out["batch_size"] = int(m.group(1))
    m = re.search(r"(?:\blr\b|learning[_ ]rate)\s*(?:=|of|to|at)?\s*([0-9.]+(?:e-?\d+)?)", low)
    if m:
        out["lr"] = _num(m.group(1))
    m = re.search(r"\bgpus?\s*#?\s*(\d+)\b", low) or re.search(r"\bcuda:(\d+)\b", low)
    if m and not re.search(r"(\d+)\s*gpus\b", low):
        out["device"] = f"cuda:{m.group(1)}"
    elif re.search(r"\bon (?:the )?cpu\b", low):
        out["device"] = "cpu"
    m = re.search(r"\b(\d+)\s*gpus\b", low)
    overrides = {}
    if m:
        overrides["train.num_gpus"] = int(m.group(1))
    for key, pat in KNOB_PATTERNS.items():
        km = re.search(pat, low)
        if km and not (key == "method_args.temperature" and "teacher" in low[max(0, km.start() - 8):km.start()]):
            val = km.group(1).rstrip(".")
            overrides[key] = int(val) if val.isdigit() and key.endswith(("queue_size", "proj_dim")) else _num(val)
    if re.search(r"\bwithout (?:the |a )?predictor|\bno predictor", low):
        overrides["method_args.predictor"] = False
    if re.search(r"\bwithout (?:the |a )?stop[- ]?grad(?:ient)?|\bno stop[- ]?grad", low):
        overrides["method_args.stop_gradient"] = False
    if re.search(r"\bbf16\b", low):
        overrides["train.precision"] = "bf16"
    elif re.search(r"\bfp16\b", low):
        overrides["train.precision"] = "fp16"
    elif re.search(r"\bfp32\b|full precision", low):
        overrides["train.precision"] = "32"
    if overrides:
        out["overrides"] = overrides
    return out


def find_time(text: str, now: datetime | None = None) -> dict:
    """'at 2am', 'tonight at 23:00', 'tomorrow at 9', 'in 2 hours', 'every night at 2' -> at / cron."""
    now = now or datetime.now()
    low = text.lower()
    m = re.search(r"\b(\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2})", low)
    if m:
        return {"at": m.group(1).replace(" ", "T")}
    m = re.search(r"\bin\s+(\d+)\s*(minutes?|mins?|hours?|h)\b", low)
    if m:
        n = int(m.group(1))
        delta = timedelta(hours=n) if m.group(2).startswith("h") else timedelta(minutes=n)
        return {"at": (now + delta).replace(second=0, microsecond=0).isoformat(timespec="minutes")}
    hm = re.search(r"\bat\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm)?", low)
    if re.search(r"\b(every|each)\s+(night|day|morning|evening)|\bnightly\b|\bdaily\b", low):
        hour, minute = (int(hm.group(1)), int(hm.group(2) or 0)) if hm else (2, 0)
        if hm and hm.group(3) == "pm" and hour < 12:
            hour += 12
        return {"cron": f"{minute} {hour} * * *"}
    if hm or "tonight" in low or "tomorrow" in low or "midnight" in low:
        hour, minute = (int(hm.group(1)), int(hm.group(2) or 0)) if hm else (23 if "tonight" in low else 0, 0)
        if hm and hm.group(3) == "pm" and hour < 12:
            hour += 12
        if hm and hm.group(3) == "am" and hour == 12:
            hour = 0
        if "tonight" in low and not hm:
            hour = 23
        when = now.replace(hour=hour % 24, minute=minute, second=0, microsecond=0)
        if "tomorrow" in low or when <= now:
            when += timedelta(days=1)
        return {"at": when.isoformat(timespec="minutes")}
    return {}


def _run_ref(text: str, ctx: Context) -> str | None:
    ids = find_run_ids(text)
    if ids:
        return ids[0]
    low = text.lower()
    if re.search(r"\b(last|latest|newest|most recent|previous)\s+run\b", low):
        return ctx.last_run
    return ctx.focus_run or ctx.last_run


def classify(text: str, ctx: Context) -> Intent:
    low = text.lower().strip()
    ids = find_run_ids(text)
    method = find_method(text)

    def needs_run(tool: str, extra: dict | None = None) -> Intent:
        rid = _run_ref(text, ctx)
        if rid is None:
            return Intent(None, reason=f"which run? (say 'run 17'); I could not tell for {tool}")
        return Intent(tool, {"run_id": rid, **(extra or {})})

    if re.search(r"\b(delete|remove|rm|erase|wipe|drop)\b.*\b(runs?|files?|folders?|data|checkpoints?|everything)\b", low) \
            or re.search(r"\b(shell|bash|execute|exec)\b.*\b(command|script)\b", low):
        return Intent(None, reason="refuse")
    if re.search(r"\b(compare|versus|vs\.?|difference between|diff)\b", low) and len(ids) >= 2:
        return Intent("compare_runs", {"run_ids": ids[:8]})
    launch = _launch_intent(text, low, method)
    if launch is not None:
        return launch
    if re.search(r"\b(cancel|kill|abort|halt|stop(?![- ]?grad))\b", low) and not re.search(r"\bwhy\b", low) \
            and (ids or re.search(r"\b(run|it|that|this|training|job)\b", low)):
        return needs_run("cancel_run")
    if re.search(r"\b(resume|continue|restart|pick up)\b", low) and (ids or "run" in low):
        return needs_run("resume_run")
    if re.search(r"\b(why|what went wrong|what'?s wrong|diagnos|collaps|diverg|healthy|broken|is .* ok|nan|problem "
                 r"with|explain run|look at run|going on with)", low) and (ids or re.search(r"\b(it|this|that|the last|"
                                                                                          r"my last|run)\b", low)) \
            and not re.search(r"\b(has this|happened before|before\?|other runs|any runs?|which runs?|search|"
                              r"in the literature|papers?|what does|what do)\b", low):
        return needs_run("diagnose_run")
    if re.search(r"\b(try next|next step|what next|what should i (do|try|change)|recommend|suggest|improve|fix it|"
                 r"how (can|do) i (fix|improve|make)|what would you change)\b", low) \
            and not re.search(r"\b(papers?|literature|published)\b", low):
        return needs_run("recommend_next_step")
    if re.search(r"\b(launch|apply|run|start|do)\b.*\b(follow[- ]?up|recommend(ation|ed)?|suggest(ion|ed)|that change|"
                 r"your change|it)\b", low) and ctx.last_recommendation and not ids:
        rec = ctx.last_recommendation
        return Intent("launch_pretraining", {"parent_run": rec["run_id"], "recommendation": rec})
    if re.search(r"\b(probe|linear probe|evaluate|eval|knn|accuracy of)\b", low) and (ids or "run" in low):
        return needs_run("run_linear_probe")
    if re.search(r"\b(has this happened|happened before|seen this before|other runs|search (the |my )?(run )?logs|"
                 r"in (my|the) (run )?logs|which runs? (had|hit|got|show)|find runs?|any runs? (with|that))", low):
        query = re.sub(r"^(search|find)( the| my)?( run)? logs? (for )?", "", low).strip(" ?") or low
        args: dict = {"query": query}
        if method:
            args["method"] = method
        return Intent("search_run_logs", args)
    if re.search(r"\b(literature|papers?|what does|what do|how does|how do|explain|what is|what are|tell me about|"
                 r"according to|why does|recommended value|published|default for)\b", low) and not ids:
        return Intent("search_literature", {"query": text.strip()})
    if re.search(r"\b(list|show|which|what|any)\b.*\bruns\b|\bmy runs\b|\bwhat'?s running\b|\bruns?\?$|"
                 r"\b(running|queued|failed|diverged|succeeded|finished) runs\b", low):
        args = {}
        for st in ("running", "queued", "failed", "diverged", "succeeded", "cancelled", "interrupted"):
            if re.search(rf"\b{st}\b", low) or (st == "succeeded" and "finished" in low):
                args["status"] = st
                break
        if method:
            args["method"] = method
        return Intent("list_runs", args)
    if ids or re.search(r"\b(status|progress|how is|how'?s|show me|details)\b", low):
        return needs_run("get_run")
    return Intent(None, reason="unclear")


LAUNCH_VERB = re.compile(r"\b(pre-?train|(?:continue|continued)\s+pre-?training|adapt|train(?!ed|ing run)|launch|"
                         r"kick off|queue|fit|schedule)\b|"
                         r"^\s*(please\s+|can you\s+|could you\s+|let'?s\s+|i want to\s+)?(run|start|do)\b", re.I)
QUESTION = re.compile(r"^\s*(why|what|how|which|has|have|is|are|did|does|do you|was|were)\b", re.I)


def _launch_intent(text: str, low: str, method: str | None) -> Intent | None:
    if QUESTION.search(low) or not LAUNCH_VERB.search(low):
        return None
    data = find_data(text)
    if not (method or data or re.search(r"\bpre-?train", low)):
        return None
    args: dict = {}
    if method:
        args["method"] = method
    if data:
        args["data"] = data
    args.update(find_knobs(text))
    schedule = find_time(text)
    if schedule and re.search(r"\b(at \d|tonight|tomorrow|in \d+ ?(h|hours?|min|minutes?)\b|every|nightly|daily|"
                              r"schedule|midnight|\d{4}-\d{2}-\d{2})", low):
        return Intent("schedule_pretraining", {**args, **schedule})
    return Intent("launch_pretraining", args)
