"""Replies to an action waiting for its yes (agent/graph.py's gate): a yes alone, a yes joined to a request, a no,
a no followed by a request, and a run named by its id. One place for these words: the offline planner reads a bare
yes to its own questions with the same pattern."""

from __future__ import annotations

import re

from agent.run_list_words import runs_of

_YES = (r"(?:y|yes|please|yep|yeah|yup|ya|yah|yea|yas|yess+|sure|ok|okay|k|kk|fine|alright|all\s+right|go(?:\s+(?:ahead|on))?|proceed|do\s+it|"
        r"go\s+for\s+it|confirm(?:ed)?|please\s+do|i\s+confirm|"
        r"sounds\s+good|looks\s+good|let'?s\s+go|ship\s+it|perfect|great|that'?s\s+fine|sure\s+thing|of\s+course|"
        r"absolutely|definitely)")
_YES_LEAD = r"^\s*(?:(?:actually|well|hmm+|oh|ah|um+|then|ok(?:ay)?|thanks?|thank\s+you|cheers|great|cool|nice)\W+)*"
YES_ALONE = re.compile(rf"{_YES_LEAD}{_YES}\b[\s,.!;:-]*(?:(?:{_YES}|please|thanks?|thank\s+you|now|then|cool|good|"
                       r"do\s+that)\b[\s,.!;:-]*)*$", re.I)
"""A yes and nothing else ("ok go", "yes, go ahead"). A verb and "it" ("fine, launch it", "delete them") is a yes
only to an action of that verb (`restated_yes`): "delete it" used to confirm a waiting launch. A yes with another
request after it ("ok, cancel run 3", "fine, but first show me run 1") is not a yes to the waiting action: the request
is answered, and the action keeps waiting (or is replaced by a new one, which says so). It used to launch the
waiting run."""
BARE_REPLY = re.compile(rf"^\W*(?:({_YES})|n|no|nope|nah)\W*$", re.I)
"""A yes (group 1) or a no, and nothing else: with nothing waiting for one, understand.py says so (or, after a
recommendation, how to take it up)."""
YES_THEN = re.compile(rf"{_YES_LEAD}(?:y|yes|yep|yeah|sure|confirm(?:ed)?|go\s+ahead|do\s+it)\b[\s,.!;:-]*"
                      r"(?:and|then|also|plus)\b(?:\s+(?:also|then))?\s+(?P<rest>\S.*)$", re.I)
"""An explicit yes, then a request joined to it ("yes, and tag it as quick"): the action goes ahead, then the
request is read with its run in focus."""
TAKEN_UP = re.compile(rf"{_YES_LEAD}(?:(?:{_YES}|good|nice|cool)\b[\s,.!;:-]*)*(?:(?:let'?s|please|then|just)\s+)?"
                      r"(?:(?:do|try|apply|run|launch|start)\s+(?:it|that|this|that\s+one)|go\s+(?:for|with)\s+(?:it|that|this)|"
                      r"make\s+it\s+so)(?:[\s,.!;:-]+(?:then|please|now))*[\s,.!;:-]*$", re.I)
"""The last recommendation taken up without naming it ("ok do it", "let's try that", "go for it"): its follow-up
proposed (a yes with nothing waiting for one is not; agent/understand.py)."""
UNDO = re.compile(r"^\W*(?:(?:oops|wait|no|nope|actually|please|pls|ok(?:ay)?|sorry|hmm+)\W+)*(?:can\s+you\s+|could\s+you\s+)?"
                  r"(?:(?:undo|revert|reverse|take\s+back)(?:\s+(?:that|it|this|the\s+(?:delete|deletion|last\s+(?:one|step))|"
                  r"my\s+last\s+(?:one|step)))?|(?:bring|put|get)\s+(?:them|those|both|these)\s+back|(?:restore|undelete)\s+"
                  r"(?:them|those|both|these|them\s+all))(?:\s+(?:please|then|now))*[\s?.!]*$", re.I)
"""Taking back what was just done ("undo that", "oops, revert it", "bring them back"): after a delete, its runs
brought back; after tags were added, those tags taken off; before a yes, a no (DENY)."""


_FILLER = r"(?:(?:actually|wait|hmm+|oh|ah|um+|well|sorry|please|pls|on\s+second\s+thoughts?)\W+)*"
DENY = re.compile(rf"^\W*{_FILLER}(?:n|no|nope|nah|naw|don['’]?t|do not|never ?mind|forget (?:it|that|about it)|"
                  r"not\s+(?:now|yet|today)|scratch\s+(?:that|it)|(?:let['’]?s|better|rather)\s+not(?=\W*$))\b|"
                  r"^\W*(?:cancel|stop|abort|drop|scrap|delete|discard|trash|remove|undo|revert)(?:\s+(?:it|that|this|them|the\s+(?:"
                  r"launch|sweep|job|run|one|action|request)))?(?:\W+(?:please|thanks?|then))?\W*$", re.I)
"""A no: "no", "actually no", "nope", "nah", "please don't", "not now", "never mind", "scratch that", "let's not",
"undo that", or a bare "cancel (it)" / "stop that" / "delete it" (of an action
whose own verb it is not; of its own, it is a yes: `restated_yes`). "Cancel run 3" names something else to cancel:
a new action, which replaces the waiting one."""
LEAVE_IT = re.compile(rf"^\W*{_FILLER}(?:(?:no|ok(?:ay)?)\W+)?(?:(?:leave|keep)\s+(?:it|that|them|this|runs?\s*#?\d+)"
                      r"(?:\s+(?:alone|running|going|be|as\s+(?:it|they)\s+(?:is|are)))?|let\s+(?:it|them|that|this(?:\s+one)?|"
                      r"runs?\s*#?\d+)\s+(?:finish|run|go\s+on|continue|be|keep\s+going|complete|end))"
                      r"(?:\W+(?:please|thanks?|then))?\W*$", re.I)
"""A no to stopping or removing runs ("leave it", "keep it running", "actually, let it finish"): the runs stay as
they are."""
_NO_TAIL = re.compile(r"^[\W_]*(?:(?:thanks?|thank\s+you|wait|actually|sorry|not\s+(?:now|yet)|please|then|hmm+|ok(?:ay)?|"
                      r"instead)\b[\W_]*)*", re.I)
_STILL_NO = re.compile(r"^(?:don'?t|do\s+not|never|not|leave|keep|stop|cancel|forget|drop|scrap|abort)\b", re.I)
_A_REQUEST = re.compile(r"\b(?:diagnose|show|compare|list|pretrain|launch|train|cancel|delete|remove|tag|rank|forecast|"
                        r"probe|search|find|what|which|how|why|when|plot|recommend|judge|audit|resume|restore|"
                        r"runs?\s*#?\s*\d+)\b", re.I)
FIRST = re.compile(r"\b(?:first|before(?:\s+that)?)\W*$", re.I)
"""A request said before the waiting action goes ahead ("no wait, show me run 1 first"): the action still waits."""


def request_after_no(rest: str) -> str | None:
    """What a "no, ..." asks for after its no ("no, diagnose run 2 instead"), or None when the rest only says no
    again ("no, don't", "no thanks", "nope, leave it running")."""
    rest = _NO_TAIL.sub("", rest).strip()
    if not rest or _STILL_NO.match(rest) or not _A_REQUEST.search(rest):
        return None
    return rest

_OWN_VERBS = {"cancel_run": r"cancel|stop|kill|abort", "delete_runs": r"delete|remove|trash|bin",
              "launch_pretraining": r"launch|start|run|queue|train", "launch_sweep": r"launch|start|run|queue",
              "schedule_pretraining": r"schedule|queue|book"}
_OWN_OBJECT = (r"(?:it|that|this|them|those|these|both|the\s+(?:run|runs|job|jobs|launch|sweep|one|two|ones)|"
               r"(?:runs?|jobs?)\s*#?\s*(?P<ids>\d+(?:\s*(?:,|and|&)\s*(?:runs?\s*#?\s*)?\d+)*))")


def restated_yes(text: str, waiting: dict, focus: str | None = None) -> bool:
    """Whether a message says yes by asking for the waiting action again in its own words ("ok cancel it" of a
    waiting cancel, "yes, delete them", "go ahead and launch it"), naming no other run; "it" is not the waiting
    action's run when the thread's run in focus (`focus`) is another. "Cancel it" of a waiting launch stays a no
    (DENY): only the action's own verb confirms it."""
    verbs = _OWN_VERBS.get(waiting.get("tool", ""))
    m = re.match(rf"{_YES_LEAD}(?:{_YES}\b[\s,.!;:-]*)*(?:(?:go\s+ahead\s+and|please|just)\s+)?(?:{verbs})\s+"
                 rf"{_OWN_OBJECT}(?:[\s,.!;:-]+(?:now|please|then|thanks?))*[\s,.!;:-]*$", text, re.I) if verbs else None
    if not m:
        return False
    args = waiting.get("args") or {}
    held = set(runs_of(args))
    if m.group("ids"):
        return set(re.findall(r"\d+", m.group("ids"))) == held
    return not held or focus is None or str(focus) in held


RUN_NAMED = re.compile(r"\b(?:runs?|jobs?|experiments?)\s*#?\s*\d", re.I)
"""A run named by its id: a message about runs, never a change of the waiting launch."""
