"""Stored text is data, never instructions. Chunks that read like instructions to an agent are kept but flagged."""

from __future__ import annotations

import re

PATTERNS = [
    r"ignore (all |any )?(the )?(previous|prior|above|earlier) (instructions|prompts?|messages?)",
    r"disregard (all |any )?(the )?(previous|prior|above|system) ",
    r"you are now\b", r"new instructions?:", r"system prompt", r"\bas an ai\b",
    r"<\s*/?\s*(tool_call|function_call|system|assistant|tool)\s*>",
    r"\"(tool|function)\"\s*:\s*\"", r"\b(call|invoke|run) the (tool|function)\b",
    r"\b(launch_pretraining|cancel_run|schedule_pretraining|resume_run)\s*\(",
    r"rm -rf|curl .*\|\s*(ba)?sh",
]
_RX = re.compile("|".join(PATTERNS), re.IGNORECASE)


def looks_like_instructions(text: str) -> bool:
    return bool(_RX.search(text))
