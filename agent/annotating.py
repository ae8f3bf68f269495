"""Reading a rename, a tag or a note from a message (the `annotate_run` tool, tools/run_notes.py).

The words decide these, not the intent classifier: "rename run 2 to baseline" was read as a follow-up launch of
run 2, "mark run 2 as collapsed" as a diagnosis. Each pattern splits the message into the part that names the run
(resolved by the caller against the home) and the value (a name, tags, a note), so a number inside a note
("lr 0.5 was far too high") is never read as a run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from agent.reply_words import UNDO

START = (r"^\W*(?:(?:please|pls|can you|could you|would you|ok|okay|actually|no|nope|wait|sorry|oops|oh|hmm+|and|also|"
         r"then|now)\W+)*")
END = r"(?:\s+(?:instead|too|as\s+well|also|please|then))*\W*$"
"""After the value: "tag it as great instead", "tag run 2 as keeper too"."""
QUOTED = r"['\"`\u2018\u2019\u201c\u201d]"
NOT_QUOTE = r"[^'\"`\u2018\u2019\u201c\u201d]"
NAME = rf"{QUOTED}{NOT_QUOTE}{{1,80}}{QUOTED}|[\w.:+-]+"
_A_TAG = rf"(?:{QUOTED}{NOT_QUOTE}{{1,40}}{QUOTED}|{QUOTED}?[\w.:+-]+{QUOTED}?)"
"""A tag as written: a word, or words in quotes ("label run 3 as 'long run'": asked about, as a tag is one word)."""
TAG_WORDS = rf"{_A_TAG}(?:\s*(?:,|&|\band\b)\s*{_A_TAG})*"
FILLER = {"the", "a", "an", "tag", "tags", "label", "labels", "it", "them"}

RENAME = [re.compile(START + p, re.I) for p in (
    rf"(?:rename|re-name)\s+(?P<runs>.+?)\s+(?:to|as|into)\s+(?P<name>{NAME}){END}",
    rf"change\s+the\s+name\s+of\s+(?P<runs>.+?)\s+to\s+(?P<name>{NAME}){END}",
    rf"give\s+(?P<runs>.+?)\s+the\s+(?:new\s+)?name\s+(?P<name>{NAME}){END}",
    rf"(?:call|name)\s+(?P<runs>(?:run\s*#?\d+|#\d+|it|this(?:\s+one|\s+run)?|that(?:\s+one|\s+run)?|the\s+\w+\s+(?:run|one)))"
    rf"\s+(?P<name>{NAME}){END}",
)]
RENAME_WITHOUT_NAME = re.compile(START + rf"(?:rename|re-name|change\s+the\s+name\s+of)\s+(?P<runs>.+?){END}", re.I)
UNTAG = [re.compile(START + p, re.I) for p in (
    rf"(?:untag|un-tag)\s+(?P<tags>{TAG_WORDS})\s+from\s+(?P<runs>.+?){END}",
    rf"(?:remove|delete|drop|take)\s+(?:the\s+)?(?:tags?|labels?)\s+(?P<tags>{TAG_WORDS})\s+(?:from|off(?:\s+of)?)\s+(?P<runs>.+?){END}",
    rf"(?:remove|delete|drop|take)\s+(?:the\s+)?(?P<tags>{TAG_WORDS})\s+(?:tags?|labels?)\s+(?:from|off(?:\s+of)?)\s+(?P<runs>.+?){END}",
)]
TAG = [re.compile(START + p, re.I) for p in (
    rf"(?:tag|label(?![ -]?free)|mark)\s+(?P<runs>.+?)\s+(?:as|with)\s+(?P<tags>{TAG_WORDS}){END}",
    rf"add\s+(?:the\s+|a\s+)?(?:tags?|labels?)\s+(?P<tags>{TAG_WORDS})\s+to\s+(?P<runs>.+?){END}",
    rf"tag\s+(?P<runs>run\s*#?\d+|#\d+|it|this\s+one|that\s+one)\s+(?P<tags>{TAG_WORDS}){END}",
    rf"give\s+(?P<runs>.+?)\s+the\s+(?:tags?|labels?)\s+(?P<tags>{TAG_WORDS}){END}",
)]
NOTE_QUOTED = re.compile(START + rf"(?:add\s+)?(?:the\s+|a\s+|this\s+)?(?:note|comment)\s+(?P<note>{QUOTED}{NOT_QUOTE}+"
                         rf"{QUOTED})\s+(?:to|on|for)\s+(?P<runs>.+?)\W*$", re.I | re.S)
"""A note in quotes before its run ("add the note 'lr too high' to run 2")."""
NOTE = re.compile(START + r"(?:add\s+(?:a\s+|an\s+|this\s+)?(?:note|comment)s?(?:\s+(?:to|on|for))?|(?:note|comment)"
                  r"(?:\s+(?:on|for|to))?|annotate)\s+(?P<runs>.+?)(?:\s*[:\u2014\u2013]\s*|\s+-+\s+|\s+with\s+|"
                  r"\s+saying\s+|\s+that\s+)(?P<note>\S.*)$", re.I | re.S)
NOTE_ON_FOCUS = re.compile(START + r"(?:add\s+(?:a\s+|an\s+|this\s+)?(?:note|comment)|note|comment)(?P<runs>)"
                           r"(?:\s*[:\u2014\u2013]\s*|\s+saying\s+)(?P<note>\S.*)$", re.I | re.S)
"""A note on the run in focus, its words after a colon ("tag run 1 as best" ... "and add a note: baseline for the
digits study")."""
NOTE_THAT = re.compile(START + r"(?:make\s+a\s+note|note\s+down|note)\s+that\s+(?=(?P<runs>run\s*#?\d+\b)?)(?P<note>"
                       r"(?![^?]*\?)(?!.*\b(?:pretrain|launch|sweep|schedule|queue)\b)(?:run\s*#?\d+\b)?"
                       r"(?!.*\bruns?\s*#?\d+).+)$", re.I | re.S)
"""A note on the run in focus ("diagnose run 2" ... "note that it collapsed at step 100"), or on the run its words
begin with ("note that run 1 used lr 0.5"), unless they go on to ask something, to launch ("note that gpu 0 is busy,
launch dino on gpu 1") or name another run."""
NOTE_WITHOUT_TEXT = re.compile(START + r"add\s+(?:a\s+|an\s+)?(?:note|comment)\s+(?:to|on|for)\s+(?P<runs>.+?)\W*$", re.I)
NOT_KEPT = re.compile(START + r"(?P<verb>star|unstar|pin|unpin|archive|bookmark|favou?rite)\s+(?P<runs>.+?)\W*$", re.I)
ANY_ANNOTATION = re.compile(START + r"(?:rename|re-name|tag|untag|label(?![ -]?free)|annotate|add (?:a |an )?(?:note|tag|"
                            r"label|comment)|change the name)\b", re.I)
"""A message that starts as an annotation: one the patterns above do not split gets a question, never a relaunch."""

# "runs tagged baseline", "with the tag v2", "that have the tag best": a filter on the run list
TAGGED = re.compile(rf"\b(?:tagged(?:\s+(?:as|with))?|labell?ed(?:\s+as)?|with\s+(?:the\s+)?tag|(?:have|has|having|"
                    rf"carry|carrying)\s+(?:the\s+)?tag|(?:did|have)\s+(?:i|we)\s+(?:tag|label)(?:\s+(?:as|with))?)\s+"
                    rf"{QUOTED}?(?P<tag>[\w.:+-]+){QUOTED}?", re.I)
# at a launch: "... and tag it baseline", "tagged v2", "and call it simclr-ref", "named ref"
LAUNCH_TAGS = re.compile(r",?\s*(?:and\s+)?(?:(?:tag|label)\s+(?:it|them|the\s+runs?)\s+(?:as\s+|with\s+)?|tagged\s+"
                         rf"(?:as\s+|with\s+)?|with\s+(?:the\s+)?tags?\s+)(?:the\s+tags?\s+)?(?P<tags>{TAG_WORDS})", re.I)
LAUNCH_NAME = re.compile(rf",?\s*(?:and\s+)?(?:(?:call|name)\s+it|(?:a|the)\s+run\s+(?:named|called))\s+(?P<name>{NAME})",
                         re.I)


@dataclass
class AnnotationWords:
    """What a message asks to change, and the words that name the run (resolved by the caller)."""

    runs: str
    change: dict = field(default_factory=dict)  # name / add_tags / remove_tags / note, as tools/run_notes.py takes them
    missing: str | None = None  # "name" or "note": a rename or a note without its words; "change": nothing readable
    unsupported: str | None = None  # "star", "pin", ...: no such thing here (tags do it)


def unquote(s: str) -> str:
    return re.sub(rf"^{QUOTED}|{QUOTED}$", "", s.strip()).strip()


def split_tags(words: str) -> list[str]:
    quoted = rf"{QUOTED}({NOT_QUOTE}+){QUOTED}"
    parts = re.split(r"\s*(?:,|&|\band\b)\s*|\s+", re.sub(quoted, " ", words).strip())
    return [*(q.strip() for q in re.findall(quoted, words)), *(unquote(p) for p in parts if p and p.lower() not in FILLER)]


def _change(key: str, m: re.Match) -> dict | None:
    """The value a pattern's match gives the change, under its key (no tags left after the filler: none)."""
    if key in ("name", "note"):
        return {key: unquote(m.group(key))}
    tags = split_tags(m.group("tags"))
    return {key: tags} if tags else None


# in this order: a note's words may hold anything; "remove the best tag" before a tag; a rename before "tag it X"
CHANGES = (((NOTE_THAT, NOTE_QUOTED, NOTE, NOTE_ON_FOCUS), "note"), (UNTAG, "remove_tags"), (RENAME, "name"), (TAG, "add_tags"))
WITHOUT_VALUE = ((RENAME_WITHOUT_NAME, "name"), (NOTE_WITHOUT_TEXT, "note"))


def writes_a_note(text: str) -> bool:
    """Whether the message adds a note, whose words are the user's as written (no number in them rewritten)."""
    return any(p.search(text) for p in CHANGES[0][0])


def read_annotation(text: str) -> AnnotationWords | None:
    """The annotation a message asks for, or None when it is not one. A second change joined on ("tag run 1 as
    baseline and call it ref", "rename run 2 to ref and tag it best") is kept with the first: one call makes both."""
    if not writes_a_note(text):  # a note's words are the note's, whatever they say
        rest, also = launch_labels(text)
        first = _read_one(rest) if also and rest.strip() else None
        if first is not None and first.change:
            if also.get("name") and not first.change.get("name"):
                first.change["name"] = also["name"]
            if also.get("tags"):
                first.change["add_tags"] = [*first.change.get("add_tags", []), *also["tags"]]
            return first
    return _read_one(text)


def _read_one(text: str) -> AnnotationWords | None:
    for patterns, key in CHANGES:
        for pattern in patterns:
            m = pattern.search(text)
            change = _change(key, m) if m else None
            if change:
                return AnnotationWords(m.group("runs") or "", change)
    for pattern, key in WITHOUT_VALUE:
        m = pattern.search(text)
        if m:
            return AnnotationWords(m.group("runs"), missing=key)
    m = NOT_KEPT.search(text)
    if m:
        return AnnotationWords(m.group("runs"), unsupported=m.group("verb").lower())
    if ANY_ANNOTATION.search(text):
        return AnnotationWords("", missing="change")
    return None


def launch_labels(text: str) -> tuple[str, dict]:
    """A launch's own name and tags ("... and tag it baseline", "called ref"), and the message without them, so no
    other reading takes "baseline" for a dataset or "v2" for a number."""
    found: dict = {}
    m = LAUNCH_NAME.search(text)  # the name first: "tag it smoke and call it ref" has no tag "call"
    if m:
        found["name"] = unquote(m.group("name"))
        text = text[:m.start()] + text[m.end():]
    m = LAUNCH_TAGS.search(text)
    if m and split_tags(m.group("tags")):
        found["tags"] = split_tags(m.group("tags"))
        text = text[:m.start()] + text[m.end():]
    return text, found


def _last_annotation(previous: list[dict]) -> dict:
    """The previous turn's annotate_run arguments, when that turn made one annotation and nothing else."""
    return previous[0]["args"] if len(previous) == 1 and previous[0]["tool"] == "annotate_run" else {}


def instead_of_last(args: dict, previous: list[dict], text: str) -> dict:
    """An annotation's arguments, with the tags the previous turn just added taken off again when this one says it is
    instead of them ("tag run 1 as good" ... "actually, tag it as great instead": great, not both)."""
    last = _last_annotation(previous)
    if not re.search(r"\binstead\b", text, re.I) or not args.get("add_tags") or not last.get("add_tags") or (
            str(last.get("run_id")) != str(args.get("run_id")) or last.get("run_ids") or args.get("run_ids")):
        return args
    dropped = [t for t in last["add_tags"] if t not in args["add_tags"]]
    return {**args, "remove_tags": [*args.get("remove_tags", []), *dropped]} if dropped else args


LAST_TAGS_OFF = re.compile(START + r"(?:(?:remove|drop|delete|undo|take\s+off|take\s+away)\s+(?:that|the|this|those|these|"
                          r"its|their)\s+(?:new\s+)?(?:tags?|labels?)(?:\s+(?:from\s+(?:it|them|that\s+run)|again))?|"
                          r"take\s+(?:that|the|this|those|these)\s+(?:tags?|labels?)\s+off(?:\s+(?:it|them|again))?|"
                          r"untag\s+(?:it|them|that(?:\s+run)?)|undo\s+(?:that|the)\s+tag(?:ging|s)?)" + END, re.I)
"""The tags just added taken off again ("remove that tag", "untag it", "take those tags off")."""


def last_tags_off(text: str, previous: list[dict]) -> dict | None:
    """`annotate_run`'s arguments that take off the tags the previous turn added, when the message asks for that
    (LAST_TAGS_OFF) right after one annotation that added tags; None otherwise. It was refused as a deletion."""
    last = _last_annotation(previous)
    if not (LAST_TAGS_OFF.match(text) or UNDO.match(text)) or not last.get("add_tags"):  # "undo that" too
        return None
    runs = {"run_ids": last["run_ids"]} if last.get("run_ids") else {"run_id": last["run_id"]}
    return {**runs, "remove_tags": list(last["add_tags"])}


ANOTHER_RUN_AS = re.compile(START + r"(?P<run>(?:run|job|experiment)\s*#?\s*\d+|#\d+)(?:\s+(?P<how>as(?!\s+well\W*$)|with|"
                            r"to|into)\s+|\s*(?P<colon>:)\s*)(?P<value>.+?)" + END, re.I)
"""Another run with its own value, the verb left out ("tag run 1 as baseline" ... "and run 2 as broken"; "rename run
1 to ref" ... "and run 2 to ref-byol")."""


def another_run_annotated(text: str, previous: list[dict]) -> dict | None:
    """`annotate_run`'s arguments for the run the message names, doing what the previous turn's one annotation did
    (added tags, or a rename) with the message's value; None when the message is not that. Read alone, "and run 2
    as broken" names a run and nothing to do, and was taken for a look at it."""
    last, m = _last_annotation(previous), ANOTHER_RUN_AS.match(text)
    if not m or not last or last.get("run_ids") or last.get("note") or last.get("remove_tags"):
        return None
    run_id = re.search(r"\d+", m.group("run")).group()
    run_id = run_id if isinstance(last.get("run_id"), str) else int(run_id)
    value, how = m.group("value"), (m.group("how") or m.group("colon")).lower()
    if last.get("add_tags") and not last.get("name") and how in ("as", "with", ":") and re.fullmatch(TAG_WORDS, value):
        tags = split_tags(value)
        return {"run_id": run_id, "add_tags": tags} if tags else None
    if last.get("name") and not last.get("add_tags") and how in ("to", "as", "into", ":") and re.fullmatch(NAME, value):
        return {"run_id": run_id, "name": unquote(value)}
    return None


def tag_filter(text: str, tags: Iterable[str] = ()) -> str | None:
    """The tag a run list is filtered by: "tagged best", or one of the runs' `tags` before "runs" ("the broken runs",
    once a run is tagged broken)."""
    m = TAGGED.search(text)
    if m:
        return m.group("tag")
    return next((t for t in sorted(tags, key=len, reverse=True)
                 if re.search(rf"(?<![\w.:+-]){re.escape(t)}\s+runs?\b", text, re.I)), None)
