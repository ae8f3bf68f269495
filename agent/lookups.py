"""Questions that look a run up: what it used, how long it took, where its files are.

"What learning rate did run 4 use?", "how long did run 1 take?", "print run 5's config", "where is run 1's encoder
saved?": the words decide (a question, one run or "its", a setting or time or files named, no value given), never the
intent classifier, whose nearest reading (a diagnosis, a forecast) would answer something else. The settings named
are found by `setting_words.find_asked`; the tool answers each with where it came from (`tools/run_settings.py`).
"""

from __future__ import annotations

import re

from agent.run_refs import RunRefs, World
from agent.setting_words import ASKED_EMBEDDINGS, OUTPUT_LINES, find_asked, find_knobs, named_settings
from agent.slots import find_method, find_numbers, parse_count
from tools.metric_words import KNN_ACC, KNN_WHILE_TRAINING, metric_key

SETTINGS_QUESTION = re.compile(r"^\W*(?:(?:can|could)\s+(?:you|i)\s+|please\s+|let\s+me\s+)?(?:what|what's|whats|"
                               r"which|how|did|does|do|was|were|is|are|show|print|display|dump|output|see|view|list|give|"
                               r"tell|remind|plot|chart|graph|tail)\b|\?\s*$", re.I)
NOT_ABOUT_SETTINGS = re.compile(r"\b(?:why|should|would|could|recommend|suggest|better|best|worst|good|bad|right|wrong|"
                                r"ok|okay|fine|sensible|reasonable|"
                                r"too|enough|optimal|ideal|more|less|higher|lower|increase|decrease|change|again|"
                                r"re-?run|clone|copy|same|like|launch|pretrain|compare|versus|vs|rank|diagnose|"
                                r"probe|forecast|judge|collaps\w*|diverg\w*|fail\w*|need|needs|left|remaining|fix\w*|solv\w*|trick|"
                                r"help\w*|work(?:s|ed|ing)?|worth|wast\w*|worse|wins?|won|winner|on\s+top|next|longer|shorter|twice|diffs?|improv\w*|"
                                r"hurt\w*|caus\w*|effects?|affect\w*|impact\w*|blame\w*|culprit|responsible|reason)\b", re.I)
"""A question about a run that is not a lookup of its settings: advice, a change, another tool's words ("why did the
lr of run 4 make it diverge?", "should run 1's batch size be higher?", "how many more steps does run 3 need?")."""
NOT_ABOUT_EMBEDDINGS = re.compile(r"\b(?:why|should|would|compare|versus|vs|launch|pretrain|train|sweep|rank|"
                                  r"diagnose|collaps\w*|better|worse|recommend|suggest|fix\w*|verdict|judge\w*|quality|good|assess\w*|"
                                  r"evaluat\w*|label(?:l?ed|s)?|health\w*|scor\w*)\b", re.I)
"""A message about a run's embeddings that is not asking to see them ("why did run 3's embeddings collapse?", "a
verdict on run 3's embeddings without labels")."""
TIME_LEFT = re.compile(r"\btime\s+(?:is\s+)?(?:left|remaining)\b", re.I)
ASKED_METRIC = re.compile(r"^\W*what(?:'s|s|\s+is|\s+was|\s+were)\b.{0,40}?\b(?:final|last|current|latest|end(?:ing)?)\s+"
                          r"(?:training\s+|train\s+|validation\s+|val\s+)?(?:loss|perplexity)\b", re.I)
"""A run's last loss asked for ("what was run 1's final loss?"): its summary, which leads with the loss."""
FOCUS_WORDS = re.compile(r"\b(?:it|its|it's|this|that)\b", re.I)
BARE_METRIC_QUESTION = re.compile(r"^\W*(?:and\s+)?(?:what(?:'s|\s+is|\s+was)|how(?:'s|\s+is|\s+was)|where(?:'s|\s+is))\s+"
                                  r"the\s+(?:current\s+|latest\s+|final\s+|last\s+)?[\w/ -]{2,30}?"
                                  r"(?:\s+(?:now|currently|so\s+far|at\s+the\s+end))?\W*$", re.I)
"""A bare "what's the perplexity?" in a thread about one run: that run's value, as "what's its perplexity?" is."""
METRIC_WORDS = re.compile(r"\b(loss(?:es)?|effective[ -]rank|rankme|rank|embedding\s+(?:std|spread)|std|lidar|alpha[ -]req|"
                          r"alignment|uniformity|perplexity|ppl|grad(?:ient)?[ _]norm|teacher\s+entropy|learning[ _-]rate|"
                          r"lr)\b(?!\s+(?:runs|the\s+runs|them|checkpoints|my|against|among)\b)", re.I)
"""A metric the run logs, named in a question about its values ("what was the loss of run 1 at step 500?")."""
EACH_RUN = re.compile(r"\b(?:each|every|all)\s+(?:of\s+)?(?:the\s+|my\s+|our\s+)?runs?\b|\b(?:each|every)\s+run'?s\b|"
                      r"\b(?:runs?|them)\s+(?:with|and)\s+their\b", re.I)
LAST_VALUE = re.compile(r"\b(?:final|last|latest|ending|end(?:ed|s)?\s+(?:at|on|up)|current)\b|\bwith\s+their\b", re.I)


def each_runs_metrics(text: str) -> list[str]:
    """The metrics whose last value a question asks of every run ("the final loss of each run", "my runs with their
    last effective rank"): list_runs' `metrics`, a column each; [] when it asks of no such thing."""
    if not (EACH_RUN.search(text) and LAST_VALUE.search(text)):
        return []
    keys = [metric_key(m.group(1)) for m in METRIC_WORDS.finditer(text)]
    if KNN_WHILE_TRAINING.search(text.lower()):  # "the knn monitor": its last value while training
        keys.append(KNN_ACC)
    return list(dict.fromkeys(keys))


def steps_window(which: str) -> re.Pattern:
    """A window of a run's steps, `which` naming its end ("over the last 100 steps", "on their first 50 steps"); its
    count is group 1."""
    return re.compile(rf"\b(?:over|in|during|for|across|within|through|on)\s+(?:the\s+|its\s+|their\s+)?(?:{which})\s+"
                      r"(\d[\d,]*k?)\s+(?:logged\s+|training\s+)?(?:steps|iterations|iters)\b", re.I)


OVER_LAST_STEPS = steps_window("last|past|final|latest")
"""A window of a run's last steps ("how did the loss of run 3 move over the last 100 steps?"): a metric's movement
there, never a run's length."""
AT_STEP = re.compile(r"\b(?:at|on|by|around|near|after)\s+(?:step|iteration|iter)\s*#?\s*(\d[\d,]*k?)\b|"
                     r"\bat\s+(\d[\d,]*k?)\s+steps\b", re.I)
NOT_ABOUT_VALUES = re.compile(r"\b(?:why|should|would|could|recommend|suggest|still|keep\w*|trend\w*|compare|versus|vs|"
                              r"better|worse|enough|too|next|fix\w*|help\w*|worth|forecast|predict\w*|expect\w*|will|"
                              r"going|plateau\w*|rank\s+(?:runs|them|the)|launch|pretrain|train\s+\w+\s+on|stop|kill|"
                              r"cancel|collaps\w*|wrong|problems?|issues?|healthy)\b", re.I)
"""A question about where a metric is going or what to do about it, not what it was."""
AS_EXPECTED = re.compile(r"\b(?:as|like)\s+(?:(?:i|we)\s+)?(?:expected|planned|intended|it\s+should(?:\s+have)?)\b", re.I)
"""An idiom of judging what happened ("did the lr warm up as expected?"): no forecast."""
TREND_ASKED = re.compile(r"\b(?:still|keeps?|kept)\s+(?:going\s+(?:down|up)|coming\s+down|falling|dropping|decreasing|"
                         r"declining|improving|rising|climbing|increasing|growing|shrinking|getting\s+(?:better|worse|"
                         r"lower|higher|smaller|bigger))\b"
                         r"|\b(?:is|are)\s+(?:the\s+)?[\w' -]{1,40}?\s+going\s+(?:down|up)\b"
                         r"|\b(?:stopped|stops?|ceased)\s+(?:falling|dropping|decreasing|declining|improving|rising|"
                         r"increasing|climbing|going\s+(?:down|up))\b"
                         r"|\bplateau(?:ed|ing|s)?\b|\bflat(?:ten(?:ed|ing|s)?|lined)?(?:\s+out)?\b"
                         r"|\btrend(?:s|ing)?\b", re.I)
"""Where a logged metric is going now ("is the loss of run 3 still falling?", "has run 5's loss plateaued?"): its
values with the trend of their last fifth (ssl_runtime/trend.py). What is left around it still decides: "will it keep
falling if I train longer?" is a forecast, "why is it still rising?" a diagnosis, "stop it once it stops falling" a
stop."""


PROGRESS_ASKED = re.compile(r"^\W*(?:(?:and|so|ok(?:ay)?)\W+)*how\s+(?:many|far|much)\b(?:(?!\?).)*?\b(?:done|completed|"
                            r"finished|trained(?!\s+for)|so\s+far|left|remaining|to\s+go|along|through)\b", re.I)
"""How far a run has got ("how many steps has run 3 done?", "and how many are left?"): its summary, which says the
step it is at of how many, never the length its config was given."""


def read_lookup(text: str, named: RunRefs, focus: str | None, world: World) -> tuple[str, dict] | None:
    """A question that looks up one run's settings, config, time or files ("what learning rate did run 4 use?", "how
    long did run 1 take?", "print run 5's config"): the call (get_run with what was asked; compare_runs for several
    runs), decided by the words; None when the message is not such a lookup."""
    progress = PROGRESS_ASKED.search(TIME_LEFT.sub(" ", text))  # "how much time is left?": its time, below
    meant = named.ids or ([focus] if focus and not named.mentioned and world.has(focus) else [])
    if progress and len(meant) == 1 and not (named.unknown or named.ambiguous):
        return "get_run", {"run_id": meant[0]}
    metrics = asked_metrics(text)
    if metrics:
        return _metric_lookup(text, metrics, named, focus, world)
    ids = [focus] if not named.mentioned and FOCUS_WORDS.search(text) and focus and world.has(focus) else named.ids
    if ASKED_EMBEDDINGS.search(text) and len(ids) == 1 and not (named.unknown or named.ambiguous) and \
            not NOT_ABOUT_EMBEDDINGS.search(text):  # "visualize run 2's embeddings", "what do they look like?"
        return "get_run", {"run_id": ids[0], "show": ["embeddings"]}
    run = world.run(named.ids[0] if named.ids else focus)
    show = find_asked(text, run.method if run else None)  # "what bottleneck did run 3 use?": DINO's bottleneck_dim
    judged = TIME_LEFT.sub(" ", text)  # "how much time is left on run 3?": its time, not the steps it still needs
    if not (show or ASKED_METRIC.search(text)) or not SETTINGS_QUESTION.search(text) or NOT_ABOUT_SETTINGS.search(judged):
        return None
    lines = OUTPUT_LINES.search(text) if "output" in show else None  # "the last 5 lines": a count, not a value
    said = OUTPUT_LINES.sub(" ", text) if lines else text
    if find_numbers(said) or any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in
                                 find_knobs(said).values()):  # a value given: a launch or a change, not a lookup
        return None
    more = {"output_lines": min(200, int(lines.group(1) or lines.group(2)))} if lines else {}
    if not ids or named.unknown or named.ambiguous:
        return None  # no run, or one that is not here: the usual reading asks
    if len(ids) > 1:  # "what batch size did runs 1 and 4 use?": side by side
        return "compare_runs", {"run_ids": ids[:8], **({"show": show} if show else {})}
    return "get_run", {"run_id": ids[0], **({"show": show} if show else {}), **more}


LR_OVER_TRAINING = re.compile(r"\b(?:curve|plot(?:ted)?|graph(?:ed)?|chart(?:ed)?|trace|over\s+(?:training|time|the\s+run|"
                              r"steps)|evolv\w*)\b", re.I)
"""The learning rate as it went ("the learning rate curve", "how did its lr change over time?", "the lr schedule, as a
graph"): its logged values, not the setting."""


def asked_metrics(text: str) -> list[str]:
    """The logged metrics a question asks the values of, as keys; the learning rate counts only at a step (else it
    is the setting: "what learning rate did run 1 use?"); where a metric is going now counts (TREND_ASKED), what
    it will do or why not."""
    if not SETTINGS_QUESTION.search(text) or NOT_ABOUT_VALUES.search(TREND_ASKED.sub(" ", AS_EXPECTED.sub(" ", text))):
        return []
    at = AT_STEP.search(text)
    keys = [metric_key(m.group(1)) for m in METRIC_WORDS.finditer(text)]
    if KNN_WHILE_TRAINING.search(text.lower()):  # "run 1's knn monitor", "its knn accuracy over training"
        keys.append(KNN_ACC)
    over_training = LR_OVER_TRAINING.search(text)  # "the learning rate curve": its logged values, not the setting
    return list(dict.fromkeys(k for k in keys if k != "lr" or at or over_training))


def _metric_lookup(text: str, metrics: list[str], named: RunRefs, focus: str | None, world: World):
    at = AT_STEP.search(text)
    over = OVER_LAST_STEPS.search(text)
    rest = OVER_LAST_STEPS.sub(" ", AT_STEP.sub(" ", text))
    given = find_numbers(rest)
    if given.get("steps") or given.get("epochs"):
        return None  # a length given: a launch or a change, not a lookup
    ids = named.ids
    bare = BARE_METRIC_QUESTION.match(rest) and not find_method(rest)  # "what's the loss of simclr?": the method's
    if not named.mentioned and (FOCUS_WORDS.search(text) or bare) and focus and world.has(focus):
        ids = [focus]
    if len(ids) != 1 or named.unknown or named.ambiguous:
        return None  # several runs or none: the usual readings (a comparison, a question back)
    show = [k for k in named_settings(rest) if k != "optim.lr"]  # the rate at a step is the logged one
    args = {"run_id": ids[0], "metrics": metrics, **({"show": show} if show else {})}
    if at:
        args["at_step"] = parse_count(at.group(1) or at.group(2))
    if over:
        args["over_last_steps"] = parse_count(over.group(1))
    return "get_run", args
