"""A question about the device time used ("how much GPU time have I used this week?", "gpu hours per method",
"who used the most compute in the last 7 days?"), read into the usage_summary tool's arguments. A question about
one named run ("how long did run 1 take?") is that run's lookup, not this."""

from __future__ import annotations

import re

from agent.slots import find_method, without_paths

USAGE_ASKED = re.compile(
    r"\b(?:gpu|device|compute|cpu|accelerator)[- ]?(?:hours?|hrs?|time|usage|use|budget|spend|spent)\b"
    r"|\bhow\s+much\s+(?:gpu|compute|device|cpu)\b|\b(?:compute|resource)\s+(?:usage|used|report|spend|spent)\b"
    r"|\busage\s+(?:report|summary|breakdown)\b|\bused\s+the\s+most\s+(?:gpus?|compute)\b"
    r"|^\W*(?:(?:show|give|get)\s+(?:me\s+)?(?:the\s+|my\s+|our\s+)?)?(?:usage|compute)\s+(?:by|per|for\s+each)\s+"
    r"(?:user|person|method|dataset|data\s*set|data|status|run)s?\W*$", re.I)
"""Device time asked about ("how much GPU time ...?", "gpu hours per method", "usage per dataset")."""
DISK_ASKED = re.compile(
    r"\b(?:disk|storage|drive)\s*(?:space|usage|use|used)?\b.{0,40}\b(?:use[sd]?|using|tak(?:e|es|ing)|tak(?:en)?|"
    r"occup\w*|eat\w*|fill\w*|left|free)\b|\bhow\s+(?:much|big|large)\b.{0,40}\b(?:disk|storage|space)\b|"
    r"\b(?:disk|storage)\s+(?:usage|use|report|breakdown)\b|\bhow\s+big\s+(?:are|is)\s+(?:my\s+|the\s+)?runs\b|"
    r"\b(?:what|which\s+runs?)\s+(?:is|are)?\s*(?:using|taking\s+up|eating)\s+(?:the\s+|all\s+the\s+|my\s+)?"
    r"(?:disk|space|storage)\b|\b(?:free|clear|reclaim)\s+(?:up\s+)?(?:some\s+)?(?:disk\s+)?space\b|"
    r"\b(?:data(?:set)?s?\s+cache[sd]?|cached\s+(?:data(?:sets?)?|images|folders?)|(?:data(?:sets?)?|folders?)\b.{0,30}"
    r"\b(?:cached|in\s+the\s+cache))\b", re.I)
"""The space the runs take ("how much disk do my runs use?", "what is eating my disk?"), and the dataset caches
beside them ("which datasets are cached?"): usage_summary measuring disk, never a list of runs."""
GROUP_WORDS = (
    ("user", r"\b(?:by|per|for\s+each|each|which)\s+(?:user|person|people|member|owner)s?\b|\bwho\b"),
    ("method", r"\b(?:by|per|for\s+each|each)\s+method\b|\bwhich\s+methods?\b"),
    ("dataset", r"\b(?:by|per|for\s+each|each)\s+(?:dataset|data\s*set|data)\b"),
    ("status", r"\b(?:by|per)\s+status\b|\bwast(?:e|ed|ing)\b|\bfailed\s+runs\b"),
    ("run", r"\b(?:by|per|for\s+each|each)\s+run\b|\bwhich\s+runs?\b"),
)
PERIODS = re.compile(r"\b(today|yesterday|(?:this|last)\s+(?:week|month))\b", re.I)
SPAN = re.compile(r"\b(?:in\s+)?(?:the\s+)?(?:last|past)\s+(\d+|a|an|one)?\s*(hours?|days?|weeks?)\b", re.I)
DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
MINE = re.compile(r"\b(?:i|i've|i'd|me|my|mine)\b", re.I)
SOMEONE = re.compile(r"\b(?:has|did|does)\s+(?P<a>[a-z][\w.-]*)\s+(?:used|use|spent|spend|burn\w*)\b"
                     r"|\b(?:user|for)\s+(?P<b>[a-z][\w.-]*)(?:'s)?\s*(?:used|runs|usage|gpu|$|\?)"
                     r"|\b(?P<c>[a-z][\w.-]*)'s\s+(?:gpu|compute|usage|runs)\b", re.I)
NOT_A_USER = {"i", "we", "you", "they", "it", "the", "my", "our", "each", "every", "all", "this", "that", "run",
              "runs", "today", "yesterday", "me", "us", "dino", "team", "everyone", "method", "dataset", "status"}


def read_usage(text: str) -> dict:
    """usage_summary's arguments: the grouping, the period, whose runs and which method, each only when said; the
    space on disk when that is what is asked (no period: it is the space taken now)."""
    args: dict = {"measure": "disk"} if DISK_ASKED.search(text) else {}
    by = next((name for name, pattern in GROUP_WORDS if re.search(pattern, text, re.I)), None)
    if by:
        args["by"] = by
    period = find_period(text)
    if period and args.get("measure") != "disk":
        args["period"] = period
    other = SOMEONE.search(text)
    name = next((g for g in (other.group("a"), other.group("b"), other.group("c")) if g), None) if other else None
    if name and name.lower() not in NOT_A_USER:
        args["user"] = name
    elif by != "user" and MINE.search(text):
        args["user"] = "me"
    method = find_method(without_paths(text))
    if method and method.value:
        args["method"] = method.value
    return args


def find_period(text: str) -> str | None:
    """A period said in words ("this week", "in the last 2 days", a date), as tools.usage.period_bounds reads it."""
    m = PERIODS.search(text)
    if m:
        return " ".join(m.group(1).lower().split())
    m = SPAN.search(text)
    if m:
        n = m.group(1)
        count = 1 if n is None or n.lower() in ("a", "an", "one") else int(n)
        return f"{count}{m.group(2)[0].lower()}"
    m = DATE.search(text)
    return m.group(1) if m else None
