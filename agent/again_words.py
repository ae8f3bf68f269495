"""The last request again for another run: "what about run 1?", "and run 4 too", "same for run 2", "now run 3".

Such a message names a run and nothing to do with it: what to do is what the previous turn did. Read alone it would
be a look at the run (or a question back), which drops what the user meant.
"""

from __future__ import annotations

import re

_RUN = r"(?:run|job|experiment)\s*#?\s*(?P<id>\d+)"
_TOO = r"(?:\s+(?:too|as\s+well|also|instead|then|please))*"
AGAIN_FOR_RUN = re.compile(
    rf"^\W*(?:(?:ok(?:ay)?|and|also|now|then|great|thanks?)\W+)*"
    rf"(?:(?:what|how)\s+about\s+|(?:and\s+)?(?:the\s+)?same\s+(?:thing\s+)?(?:for|with|on)\s+|"
    rf"(?:now\s+)?do\s+(?:the\s+same|that|it|this)\s+(?:again\s+)?(?:for|with|on|to)\s+|(?:and\s+)?for\s+)?"
    rf"{_RUN}{_TOO}\W*$", re.I)
"""A message that is a run and a follow-up word, nothing else ("and run 1 too", "what about run 1?")."""

SAID_ALONE = re.compile(rf"^\W*{_RUN}\W*$", re.I)
"""A run and nothing else ("run 1"): an answer to a question, or a look at the run, not the last request again."""


def again_for_run(text: str, previous: list[dict]) -> list[dict] | None:
    """The previous turn's calls (`previous`: [{"tool", "args"}], in order: "diagnose run 2 and recommend a fix" made
    two) for the run `text` names, when `text` asks for the same again (AGAIN_FOR_RUN) and each was about one run;
    None otherwise."""
    m = AGAIN_FOR_RUN.match(text)
    if not m or SAID_ALONE.match(text) or not previous:
        return None
    if any("run_id" not in (c.get("args") or {}) or c["args"].get("run_ids") for c in previous):
        return None
    rid = m.group("id")
    return [{"tool": c["tool"], "args": {**c["args"], "run_id": rid if isinstance(c["args"]["run_id"], str) else int(rid)}}
            for c in previous]
