"""A question about this machine's devices ("which GPUs are free?", "is GPU 1 busy?", "how many GPUs do I have?",
"nvidia-smi"), read into the device_status tool's arguments. A launch on a GPU ("train byol on gpu 3"), a question
about one run's device ("which gpu did run 1 use?"), a stop ("kill the run on gpu 1") and device time used ("gpu
hours this week", agent/usage_words.py) are other tools' readings, and are left to them."""

from __future__ import annotations

import re

from agent.run_refs import World, find_runs
from agent.slots import GPU_INDEX, find_data, find_method, gpu_index, without_paths
from agent.usage_words import USAGE_ASKED

GPU = r"(?:gpus?|cuda(?::\d+)?|devices?|accelerators?)"
DEVICES_ASKED = re.compile(
    rf"\b(?:which|what|any|how\s+many|are\s+there\s+any|list\s+(?:the|all|my)?)\s+(?:of\s+the\s+)?(?:free\s+|idle\s+)?"
    rf"{GPU}\b"
    rf"|\b{GPU}\s*#?\d*\s+(?:status|availability|utili[sz]ation|load|memory)\b"
    rf"|\b(?:free|idle|busy|available|unused|spare)\s+{GPU}\b"
    rf"|\bhow\s+(?:busy|loaded|full|free|occupied|utili[sz]ed)\s+(?:is|are)\s+(?:the\s+|my\s+|our\s+)?{GPU}\b"
    rf"|\b(?:is|are)\s+(?:the\s+|all\s+(?:the\s+)?|my\s+)?{GPU}\s*#?\d*\s+(?:being\s+|currently\s+|now\s+)?(?:free|busy|"
    rf"idle|available|taken|in\s+use|occupied|full|used)\b"
    rf"|\b(?:what(?:'?s|\s+is)?|who(?:'?s|\s+is)?)\s+(?:currently\s+|now\s+)?(?:running\s+|using\s+|on\s+)?(?:on\s+)?"
    rf"(?:the\s+)?{GPU}\b"
    rf"|\bnvidia-?smi\b|\bfree\s+(?:a\s+)?{GPU}\b|\bget\s+a\s+(?:free\s+)?{GPU}\b"
    rf"|\bwhat\s+(?:hardware|devices?|compute)\s+(?:do|does|is|are)\b|\bshow\s+(?:me\s+)?(?:the\s+)?{GPU}\b"
    rf"|\bmemory\s+(?:is\s+)?(?:free|left|available)\s+on\s+(?:the\s+)?{GPU}"
    rf"|^\W*(?:(?:the|my|any)\s+)?{GPU}\s*(?:status|free)?\s*\?+\s*$", re.I)  # "gpu?", "gpus free?"
AT_ONCE = r"(?:at\s+once|at\s+the\s+same\s+time|in\s+parallel|concurrently|simultaneously|side\s+by\s+side|together)"
RUNS_AT_ONCE = re.compile(
    rf"\bhow\s+many\s+(?:runs|jobs|trainings|experiments|workers)\s+(?:can|could|will|may|do|does|should)\s+"
    rf"(?:[\w']+\s+){{0,3}}?{AT_ONCE}"
    rf"|\bcan\s+(?:i|we|sslpilot|this\s+machine|the\s+queue)\s+(?:run|train|have)\s+(?:\w+\s+){{1,3}}?"
    rf"(?:runs|jobs)\s+{AT_ONCE}"
    rf"|\bhow\s+many\s+(?:runs|jobs)\s+(?:\w+\s+){{0,3}}?{AT_ONCE}\s*\?", re.I)
"""How many runs the queue starts side by side ("how many runs can I run at once?", "can I train two runs at the same
time?"): the slots device_status shows, not a list of runs."""
NOT_ABOUT_DEVICES = re.compile(r"\b(?:cancel|kill|stop|abort|terminate|pretrain|train|launch|start|resume|delete|"
                               r"remove)\b", re.I)


def read_devices(text: str, world: World) -> dict | None:
    """device_status's arguments ({"gpu": N} when one GPU is asked about), or None when the words ask another tool."""
    if RUNS_AT_ONCE.search(text) and not USAGE_ASKED.search(text):
        return {}
    if not DEVICES_ASKED.search(text) or USAGE_ASKED.search(text) or NOT_ABOUT_DEVICES.search(text):
        return None
    if find_method(without_paths(text)) or find_data(text):
        return None  # a method or data beside a GPU is a launch
    masked = GPU_INDEX.sub(" ", text)  # "gpu 1" is a device, not run 1
    if find_runs(masked, world, about_runs=True).ids:
        return None  # "which gpu did run 1 use?": that run's lookup
    gpus = {gpu_index(m) for m in GPU_INDEX.finditer(text)}
    return {"gpu": gpus.pop()} if len(gpus) == 1 else {}
