"""From a message to a tool call, or to a question back.

1. Safety first, by rule: deleting things, shell commands, SQL and planted instructions are refused, whatever
   a classifier would say.
2. The intent classifier (agent/intent_model.py) ranks the readings with a probability each.
3. The slots (agent/slots.py) are filled and resolved against the home: runs must exist, a named method must
   be one sslpilot has, a path must exist.
4. A confident reading with resolved slots becomes a tool call. Otherwise the chat asks: which of two or three
   readings was meant, or the one thing it could not resolve. It never falls back to the run in focus or to
   the bundled digits when the message named something else.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from agent.annotating import (
    TAGGED,
    AnnotationWords,
    launch_labels,
    read_annotation,
    tag_filter,
    writes_a_note,
)
from agent.device_words import read_devices
from agent.fidelity import (
    GO_AHEAD_WITHOUT,
    LAUNCH_TOOLS,
    QUOTED,
    dropped,
    question,
    stated,
)
from agent.grid_words import edited_grid, find_grid
from agent.launch_words import (
    COST_ASKED,
    LENGTH_MULTIPLE,
    LONGER_ALONE,
    MULTIPLE_OF_SETTING,
    PENDING_ASKED,
    RELATIVE_SETTING,
    RELAUNCH_SAID,
    RUN_SETTING_SET,
    SETTING_OF_A_RUN,
    PathCheck,
    amend,
    launch_args,
    method_problem,
    pending_asked,
    read_launch,
    read_relaunch,
    waits_described_as_ids,
    waits_for_a_run,
)
from agent.listed_words import PLACE_REF, THEM_LISTED, last_of_list, resolve_listed
from agent.lookups import EACH_RUN, OVER_LAST_STEPS, each_runs_metrics, read_lookup
from agent.prune_words import read_prune
from agent.ranked_words import (
    ASKS_WHICH,
    BEST_REF,
    BY_THE_PROBE,
    CHANGE_HELPED,
    DONE_TO_BEST,
    WHICH_WON,
    WORST_REF,
    resolve_best,
)
from agent.reading import (
    CHAINED_AT_MOST,
    CONFIDENT,
    MANY_RUN_INTENTS,
    MARGIN,
    RUN_INTENTS,
    Reading,
    ask,
    run_problem,
    which_sweep,
)
from agent.reply_words import BARE_REPLY, TAKEN_UP
from agent.run_refs import (
    GROUP_REF,
    METHODS_WEIGHED,
    ONE_DESCRIBED,
    SWEEP_REF,
    THE_OTHERS,
    World,
    find_runs,
    mask_runs,
    names_as_ids,
    run_said_first,
    unname_sweeps,
    whole_sweep,
)
from agent.run_tool_words import (
    ACTION_START,
    ANOTHER_FIX,
    CHANGE_ASKED,
    CHANGE_KIND,
    FROM_WEIGHTS,
    HOW_MANY_RUNS,
    HOW_TO_IMPROVE,
    IN_TROUBLE,
    KIND_SAID,
    LEADERBOARD,
    LIST_SORT,
    NOT_THAT_EITHER,
    RUN_SPEED,
    TROUBLE_RUNS,
    TURNED_DOWN,
    Asked,
    asked_of_one_run,
    asked_of_runs,
    list_filters,
    metric_sort,
    recommend_filters,
    setting_sort,
    without_period,
)
from agent.setting_words import (
    find_eval_settings,
    named_settings,
    result_filters,
    setting_filters,
    without_result_filters,
)
from agent.slots import (
    ADVICE,
    BUILTIN_DATA,
    MORE_OF_A_RUN,
    POLITE,
    asks_to_recur,
    counts_in_digits,
    durations_in_minutes,
    find_cron,
    find_data,
    find_embedding_dim,
    find_import_format,
    find_limit,
    find_method,
    find_methods,
    find_numbers,
    find_paths,
    parse_count,
    self_corrected,
    typos_mended,
    without_declined,
    without_paths,
    without_ruled_out,
    without_ruled_out_first,
)
from agent.stop_words import (
    CONDITION_START,
    SUSTAINED,
    first_time_condition,
    let_it_run_then_stop,
    mask_condition,
    read_stop,
    two_conditions,
)
from agent.sweep_reading import sweep_again, sweep_as_a_whole
from agent.trash_words import read_delete, read_restore
from agent.two_requests import SECOND_REQUEST
from agent.usage_words import DISK_ASKED, USAGE_ASKED, read_usage
from ssl_runtime import settings
from ssl_runtime.catalogue import RANKED_ACROSS_TITLES, ranked_together
from ssl_runtime.errors import SSLPilotError
from tools.registry import ACTIVE
from tools.run_notes import clean_tag
from tools.runs import runs_named, trouble
from tools.tool_table import COMPARED_AT_MOST, READ_ONLY_TOOLS, RUN_TOOLS, TOOLS

# how a reading is offered back in a clarifying question: each tool's own phrase, and the two intents that are not
# tools (a follow-up is launch_pretraining with a parent; help is answered here)
READING = {**{t.name: t.offer for t in TOOLS}, "relaunch": "launch a follow-up of a run", "help": "see what I can do"}
DATA_WORDS = ("on", "against", "using", "with", "over", "images", "data")
DIVERGED = r"\bdiverg(?:ed?|es|ence|ing)\b|\bnans?\b|\b(?:blew|blown)\s+up\b|\bexplod(?:ed|es|ing)\b(?!\s+grad)|\bwent\s+(?:to\s+)?inf\w*"
"""A run whose loss went NaN or infinite, as people say it ("the runs that blew up", "nan losses")."""
DIVERGED_RUNS = re.compile(rf"\b(?:runs?|jobs?|experiments?|anything|any(?:one|\s+of\s+them)?)\b.{{0,50}}?(?:{DIVERGED})",
                           re.I)
"""Runs asked for by a divergence ("which of my runs had nan losses?", "did anything diverge this week?"): a list."""
LEADING_CONNECTIVE = re.compile(r"^\W*(?:(?:and|also|then|plus|wait|hold\s+on|hang\s+on|(?:but\s+)?first|before\s+that)"
                                r"\W+)+(?=[a-z])(?!one\b(?:\s+(?:more|run|copy))*\s+(?:with|at|on|using|but)\b)", re.I)
"""Words that join a message to the one before ("and tag it as checked", "also probe it", "wait, first tell me how it's
doing"): not the request. Kept before "one with ...": "and one with lr 0.3" asks for a second run (ANOTHER_RUN)."""
TELL_ME_IF = re.compile(r"^\W*(?:(?:please|pls|can\s+you|could\s+you|would\s+you)\W+)*(?:tell\s+me|check)\s+"
                        r"(?:if|whether)\s+(?P<subject>it|this(?:\s+(?:one|run))?|that(?:\s+(?:one|run))?|run\s*#?\d+|"
                        r"the\s+[\w-]+(?:\s+run)?)(?:\s+is|'s|\u2019s)\s+(?P<rest>\S.*)$", re.I)
"""A question put as a request ("tell me if it's any good", "check whether run 3 is healthy"): read as the question
("is it any good"). "Let me know if it collapses" asks to be told later (LET_ME_KNOW), and is not one."""
ANY_DID = re.compile(r"^\W*(?:did|has|have|were|was)\s+(?:any|anything|any\s+of)\b", re.I)
STATUSES = {"running": r"\b(running|training (now|at the moment|right now)|in progress|currently training|going right now|"
                       r"still going|ongoing|under ?way)\b",
            "queued": r"\b(queued|in the queue|waiting)\b", "failed": r"\bfail(ed|ures?)?\b",
            "diverged": DIVERGED, "succeeded": r"\b(succeeded|finished|completed|done)\b",
            "cancelled": r"\bcancell?ed\b", "interrupted": r"\binterrupted\b"}

VERDICT_WORDS = ((r"\bcollaps\w*", "collapsed"), (r"\bhealthy\b", "healthy"), (r"\bnot[ _]learning\b", "not_learning"),
                 (r"\bweak\b(?!\s+(?:data\s+)?aug)", "weak_representation"))
"""Runs listed by their last diagnosis ("which dino runs collapsed?"); diverged and failed are statuses."""
EXPORT = re.compile(r"^\W*(?:please\s+|can you\s+|could you\s+)?(?:export|push|send|log|convert|save)\b.{0,40}?\b"
                    r"(?:to|as|in(?:to)?)\s+(?:an?\s+|the\s+)?([\w.-]+)", re.I)
"""An export ("export run 2 to tensorboard" was read as a relaunch, "export run 1 to onnx" offered a resume): the CLI
command for TensorBoard and MLflow, and for any other format what sslpilot writes instead."""
DOCUMENT_ADDED = re.compile(r"^\W*(?:please\s+|can\s+you\s+|could\s+you\s+|i\s+want\s+to\s+)?(?:upload|add|ingest|index|"
                            r"import|load|put)\b(?=.*(?:\.(?:pdf|md|txt|html?)\b|\b(?:papers?|pdfs?|documents?|docs|articles?|"
                            r"notes?)\b))(?!.*\b(?:runs?|checkpoints?|encoders?|tensorboard|mlflow|wandb|logs?)\b)",
                            re.I | re.S)
"""A document for the literature store ("upload this paper ./papers/dino.pdf" was an import of runs from it): the
CLI command or the Knowledge page, which ingest it as data."""
EXPORT_TARGETS = ("tensorboard", "mlflow")
ELSEWHERE = ("wandb", "w&b", "comet", "neptune", "huggingface", "hf", "hub", "s3", "onnx")  # "send run 1 to wandb"
REFUSE = re.compile(
    r"\b(delete|remove|rm|erase|wipe|drop|destroy|nuke|truncate|overwrite)\b.{0,40}\b(runs?|files?|folders?|"
    r"data(base|set)?|checkpoints?|everything|all|experiments?|home|disk|table|cache|metrics|config)\b"
    r"|\b(shell|bash|sudo|exec(ute)?|terminal)\b(?!['\u2019]?s?\s+(?:output|log|logs|print\w*|text)\b).{0,30}\b"
    r"(command|script|reboot)?"
    r"|\brm\s+-|\bsudo\b|\bcurl\b.*\|\s*(ba)?sh|/etc/passwd|;\s*(drop|delete|select|insert|update)\b|"
    r"\b(drop|truncate)\s+table\b|\bselect\s+\*\s+from\b"
    r"|\b(ignore|forget|disregard|override)\b.{0,30}\b(rules|instructions|prompt|guardrails|previous)\b"
    r"|\b(disable|skip|bypass|without)\b.{0,20}\b(confirmation|asking)\b|\b\d{3,}\s+runs\b"
    r"|\bformat\s+(?:the\s+|my\s+|this\s+)?(?:disk|drive|home|partition|volume|database)\b", re.I)  # "format is csv": no
STOP_CONDITION = re.compile(
    r"\b(?:when|once|if|as\s+soon\s+as|until|whenever)\s+(?:the\s+|its\s+|it'?s?\s+|it\s+)?(?:[\w/@-]+\s+){0,3}?"
    r"(?:below|under|above|over|drops?|falls?|goes|gets|reaches|hits|plateau\w*|stops?\s+(?:improving|falling|"
    r"dropping|decreasing|declining|going\s+down|getting\s+better|changing|moving)|flat\w*|level(?:s|l?ed)?\s+off|"
    r"collaps\w*|diverg\w*|finish\w*|done|nan)\b|^\W*(?:(?:pls|please)\W+)?(?:kill|stop|cancel|abort|terminate|halt)\s+"
    r"(?:run\s*#?\d+|it|the\s+\w+\s+run|[\w-]+)\s+(?:after|at)\s+(?:another\s+)?(?:step\s+)?\d[\d,]*k?\b", re.I)
"""A stop that waits for something ("stop run 2 when the loss drops below 0.5", "kill it once it collapses",
"stop run 3 after 500 steps"): not a cancel now, which would drop the condition."""
STOP_ASKED = re.compile(
    r"^\W*(?:(?:pls|please|hey|ok|okay|sorry|actually|oops|oh|wait|rather|i\s+meant?)\W+)*(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?|i\s+(?:want|need|"
    r"would\s+like|'d\s+like)\s+(?:you\s+)?to\s+|let'?s\s+)?(?:early[- ]?)?(?:kill|stop|cancel|abort|terminate|halt|end)\b"
    r"|\b(?:set|make|have|tell|let|get|want|need|(?:would|'d)\s+like)\s+(?:run\s*#?\d+|it|the\s+[\w-]+\s+run|[\w-]+)\s+"
    r"(?:to\s+)?(?:early[- ]?)?"
    r"(?:stop|end|halt)\b|\b(?:run\s*#?\d+|it)\s+(?:should|must|needs?\s+to|has\s+to|can)\s+(?:be\s+)?"
    r"(?:stop(?:ped)?|end(?:ed)?|killed|halted)\b|\b(?:enable|turn\s+on|add|use|set\s+up|switch\s+on)\s+(?:an?\s+)?"
    r"early[- ]?stopping\b|^\W*(?:if|when|once)\b.*,\s*(?:then\s+)?(?:kill|stop|cancel|abort|terminate|halt|end)\s+"
    r"(?:it|run\s*#?\d+|the\s+run)\W*$|^\W*(?:(?:please|pls)\s+)?(?:keep\s+(?:an\s+)?eyes?\s+on|watch|monitor|"
    r"keep\s+watching|check\s+on)\s+(?:it|run\s*#?\d+|the\s+run)\s+and\s+(?:kill|stop|cancel|abort|halt|end)\b", re.I)
"""A stop asked for, with the verb first ("stop run 3 when ...", "can you kill it once ...") or said of the run
("set run 3 to stop after ...", "run 3 should stop at ...", "turn on early stopping for run 3"), after its
condition ("if run 3's loss doesn't improve for 500 steps, kill it"), or after a watch ("keep an eye on it and stop
it if it collapses"); read_stop (agent/stop_words.py) finds the condition."""
WAITS = re.compile(r"\b(?:when(?:ever)?|once|as\s+soon\s+as|until|the\s+moment)\b(?!\s+and\s+for\s+all\b|\s+(?:possible|"
                   r"you\s+can|you\s+get\s+(?:a\s+)?(?:chance|a\s+sec\w*)))", re.I)
"""A stop that waits for something the chat may not read ("stop run 3 when it looks good enough"): asked about."""
# an imperative stop at the start ("kill run 2, it's collapsed", "stop experiment 1, i need that gpu") is a cancel,
# whatever else the message says about the run; the cancel still waits for a yes
CATALOGUE_TOPICS = (("methods", r"\b(?:methods|algorithms|objectives|ssl\s+methods)\b"),
                    ("datasets", r"\b(?:datasets|data\s*sets|data)\b"),
                    ("backbones", r"\b(?:backbones|architectures|encoders|models)\b"))
CATALOGUE_ASKED = re.compile(r"^\W*(?:what|which|list|show|tell\s+me)\b.{0,40}\b(?:support\w*|have|available|offer|are\s+"
                             r"there|do\s+you|can\s+(?:i|you|we)|built[- ]?in|exist)\b|^\W*(?:list|show)\s+(?:me\s+)?"
                             r"(?:the\s+|all\s+|your\s+)?(?:supported\s+|available\s+)?(?:methods|datasets|backbones)\W*$",
                             re.I)
"""What sslpilot has ("what methods do you support?", "which datasets can I use?", "list the backbones"): its
catalogue, not a literature search."""
WHAT_I_RAN = re.compile(r"^\W*(?:so\W+|and\W+)?what\s+(?:runs\s+|experiments\s+)?(?:did|have)\s+(?:i|we)\s+(?:been\s+)?"
                        r"(?:run|ran|running|train(?:ed|ing)?|launch(?:ed|ing)?|start(?:ed)?)\b(?!\s+(?:it|that|them|on|with|for|using)\b|\s+this\b(?!\s+(?:week|month|year|morning|afternoon|evening)\b))",
                        re.I)
"""What the user has run ("what did I run this week?", "what have we trained lately?"): their runs, listed."""
MY_OWN = re.compile(r"\b(?:i|we|my|our)\b.{0,20}\b(?:used|ran|tried|trained|launched)\b|\b(?:did|have|had)\s+(?:i|we)\s+"
                    r"(?:use|run|try|train|launch)\w*", re.I)
"""What the user has run ("what methods have I used?"), which their runs answer, not the catalogue."""
EVERY_RUN = re.compile(r"\b(?:everything|every\s+(?:run|job)|all\s+(?:of\s+)?(?:my\s+|the\s+|our\s+)?(?:runs|jobs|"
                       r"training)|all\s+of\s+them)\b", re.I)
"""Every run still going ("stop everything", "cancel all my runs"): a cancel of each, on one yes."""
ONE_RUN_SAID = (r"(?:run\s*#?\d+|#\d+|it|this(?:\s+(?:one|run))?|that(?:\s+(?:one|run))?|"
                rf"(?!(?:the|my|that)\s+(?:best|better|worst|worse|top|winning)\b){ONE_DESCRIBED})")
"""One run, by id, as the run in focus, or described ("the simclr encoder", "my byol run": find_runs says which):
what FIX_ASKED and QUALITY_ASKED are asked of."""
FIX_ASKED = re.compile(r"^\W*(?:(?:please|pls|can\s+you|could\s+you|go\s+ahead\s+and|just|ok(?:ay)?|so)\W+)*(?:fix|repair|"
                       rf"sort\s+out)\s+{ONE_RUN_SAID}(?:\s+(?:for\s+me|"
                       r"please|then|now))*\W*$", re.I)
"""A fix asked for outright ("fix run 2 for me", "can you fix it?"): the recommendation, then its launch proposed."""
_CANCEL_FILLER = rf"(?:{POLITE}\W+)*"
CANCEL_FIRST = re.compile(rf"^\W*{_CANCEL_FILLER}(?:kill|stop|cancel|abort|terminate|halt)\b"
                          rf"|[,;.]\s*(?:so\s+|and\s+)?{_CANCEL_FILLER}(?:kill|stop|cancel|abort|terminate|halt)\s+(?:it|that|this)"
                          r"(?:\s+(?:one|run|job|please|now))*[\s?.!]*$", re.I)
"""A cancel asked first ("kill run 3", "can you kill run 3?") or after a clause naming the run ("run 3 is wasting
compute, can you kill it?")."""
RUN_AGAIN = re.compile(r"^\W*(?:(?:please|pls|ok(?:ay)?|now|so|then)\W+)*(?:run\s*)?#?\d+\s+(?:again|once\s+more|"
                       r"one\s+more\s+time)\b", re.I)
"""A run's id, then "again" ("run 1 again but with vicreg"): that run's recipe launched anew."""
RELAUNCH_FIRST = re.compile(rf"^\W*(?:(?:please|pls|can\s+you|could\s+you|ok(?:ay)?|now|so|then)\W+)*(?:re-?launch|re-?run|"
                            rf"retrain|redo|repeat|copy|clone)\s+{ONE_RUN_SAID}(?!\S)", re.I)
"""A relaunch verb first, then one run ("relaunch run 2 with vicreg", "retrain the byol run using vicreg instead"):
that run's recipe anew, with what the rest changes (a method named beside the run read as a forecast or a resume)."""
STOP_SAID = re.compile(r"\b(?:cancel\w*|stop\w*|kill\w*|abort\w*|halt\w*|terminat\w*|pause\w*|suspend\w*|end|"
                       r"interrupt\w*|shut\w*|quit|scrap|drop|enough|on\s+hold|pull\s+the\s+plug|no\s+longer|"
                       r"don'?t\s+need|not\s+needed|wast\w*)\b", re.I)
"""Words that stop something. Without one, the classifier's cancel is not a reading: "run it" of a queued run was
read as its cancel (the opposite), at odds of 0.35."""


def understand(text: str, context: dict, world: World, model, cwd: Path | None = None,
               path_exists: Callable[[str], bool] | None = None) -> Reading:
    """Read one message. `context` holds the thread's focus_run and last_recommendation (and just_recommended, when
    the turn before was that recommendation, which a bare yes then takes up); `model` is an
    IntentModel (agent/intent_model.py); `world` the runs of the home; `path_exists` checks a data path
    (default: on this machine, relative to `cwd`). A tool reading that would drop a value the user stated
    (agent/fidelity.py) becomes a question instead."""
    text = waits_described_as_ids(_plainly(text, context), world)  # "after the vicreg run is done": after run 3
    reading = _read(text, context, world, model, cwd, path_exists)
    if reading.kind == "help" and not context.get("last_listed") and PLACE_REF.search(text):
        return ask("No list has been shown in this thread yet, so I cannot tell which run is the "  # "show me the
                   f"{PLACE_REF.search(text).group('place').lower()} one. Which run? e.g. `show run 2`; or list "  # first one"
                   "them first.", ["list my runs"], reading.intents, reading.confidence)
    if (reading.kind == "help" or reading.kind == "clarify" and (reading.intents or [("",)])[0][0] in (
            *LAUNCH_TOOLS, "relaunch")) and not context.get("last_ranking") and BEST_REF.search(text) and not \
            ASKS_WHICH.search(text) and not find_runs(text, world).ids:  # "train the best one longer", nothing ranked:
        # which run, not which method
        return ask("Nothing in this thread has ranked or compared runs yet, so I cannot tell which is the best one. "
                   "Name it, or rank or compare them first (`rank my runs`, `compare runs 1 and 2`).",
                   ["rank my runs", "list my runs"], reading.intents, reading.confidence)
    if reading.kind == "tool" and reading.tool != "annotate_run" and not reading.taken_out:  # a note's words are the
        # user's, read as a whole; values named to be removed are meant to go
        drops = dropped(text, reading.tool, reading.args, world)
        if drops and reading.then:  # "diagnose run 2 and run 1": run 1 is the second call's, read once the first is back
            later = stated(reading.then, world)
            drops = [d for d in drops if not any(d.field == s.field and d.value == s.value for s in later)]
        if drops and reading.tool in LAUNCH_TOOLS and all(d.field in ("method", "data") for d in drops):
            return _each_method(reading, drops, text) or _one_of_each(reading, drops)
        if drops:
            asked = ask(question(reading.tool, reading.args, drops, text), [GO_AHEAD_WITHOUT], reading.intents,
                         reading.confidence)
            asked.without = {"tool": reading.tool, "args": reading.args}
            return asked
    return reading


def _plainly(text: str, context: dict) -> str:
    """The message as every reading (and the fidelity check) reads it: a first verb's typo mended ("jugde run 1"),
    counts spelled out in digits ("twenty steps"), a length in hours and minutes in minutes ("1h30"), a value
    corrected as it is said in place of the one it corrects ("for 20 steps, actually 30"), a dataset or method ruled
    out taken off ("on digits, not on shapes"; "don't use shapes, use digits"), what is not wanted before a request
    left out ("no need to probe, just show me run 1"), a run named first and then called "it" ("run 1 - is it good?"), a run given a while more
    and then stopped as that stop ("let run 3 go on for 30 minutes then stop it"), "the last one in that list" as
    its run. A note's words are left as the user wrote them."""
    if not writes_a_note(text):
        text = durations_in_minutes(counts_in_digits(typos_mended(text)))
        text = let_it_run_then_stop(run_said_first(without_declined(without_ruled_out(without_ruled_out_first(
            self_corrected(text))))))
    return last_of_list(text, context)


def _methods_as_runs(text: str, world: World) -> list[str]:
    """For "compare byol with simclr" (methods named, no runs): the runs of each method compared, where each has
    one, and the methods in the literature; asked, as the words may mean either."""
    methods = [n.value for n in find_methods(without_paths(text)) if n.value]
    runs = [[r.id for r in world.runs if r.method == m] for m in methods]
    if len(methods) < 2 or any(len(ids) != 1 for ids in runs):
        return []
    return [f"compare runs {' and '.join(ids[0] for ids in runs)}",
            f"what does the literature say about {' vs '.join(methods)}?"]


def _watched(run) -> Reading:
    """What tells a user that a run went wrong, for "let me know if it collapses": the queue's monitor and where its
    alerts show, and the early stop that acts on them."""
    if run.status not in ("queued", "running"):
        return ask(f"Run {run.id} has ended ({run.status}), so there is nothing left to watch. Its diagnosis says how "
                   "it ended.", [f"diagnose run {run.id}"])
    every = settings.get_float("SSLPILOT_MONITOR_S")
    watch = (f"while the queue's daemon runs, its monitor diagnoses running runs every {every:g} s and writes an alert "
             f"in run {run.id}'s events if it starts to collapse or diverge (`sslpilot show {run.id}`, its page in the "
             "app, and \"which runs are in trouble?\" show it)") if every > 0 else \
        "the queue's monitor is off here (SSLPILOT_MONITOR_S=0), so nothing diagnoses it as it trains"
    return ask(f"I cannot message you outside sslpilot, but {watch}. To have it stopped with a checkpoint as well, say "
               f"`stop run {run.id} if it collapses`.", [f"stop run {run.id} if it collapses", "which runs are in trouble?"])


VERBS_ALONE = {"forecast": "forecast_run", "judge": "judge_run", "diagnose": "diagnose_run", "probe": "run_linear_probe",
               "recommend": "recommend_next_step", "suggest": "recommend_next_step"}
VERB_ALONE = re.compile(rf"^\W*(?:(?:please|ok(?:ay)?|now|then|so)\W+)?({'|'.join(VERBS_ALONE)})(?:\s+(?:one|a\s+run|something|"
                        r"anything|a\s+fix|a\s+change|it|this(?:\s+one|\s+run)?|that(?:\s+one|\s+run)?))?(?:\s+please)?\W*$",
                        re.I)
"""A run tool's verb and nothing else ("forecast", "judge please", "recommend something", "forecast it"): that tool,
for the run in focus, or asking which run."""


ONE_OR_THE_OTHER = re.compile(r"\b(?:or|either|whichever|which)\b", re.I)
"""Methods offered as a choice ("simclr or byol on digits"): which one is asked, never both launched."""
WHICH_WINS = re.compile(r"\b(?:tell\s+me|show\s+me|let\s+me\s+know|see|find\s+out|check)\s+which(?:\s+(?:one|method|of\s+them|"
                        r"run))?\s+(?:is|was|does|did|works?|wins?|comes?\s+out)\b", re.I)
"""Both launched, then weighed ("run simclr and byol ... and tell me which is better"): no choice offered."""


def _each_method(reading: Reading, drops, text: str) -> Reading | None:
    """"Run byol and simclr on digits for 20 steps each", "try simclr on digits and shapes": every method and every
    built-in dataset named, each with the same settings, as one sweep (a run each, times any grid) on one yes. None
    where the message offers a choice, names several methods and several datasets (pairs, or every pairing?), a
    folder among several datasets (a sweep's one key cannot switch to a path), is a schedule or a follow-up of a run
    (which keeps its method): those are asked about."""
    a = reading.args
    if reading.tool == "schedule_pretraining" or a.get("parent_run") or \
            ONE_OR_THE_OTHER.search(WHICH_WINS.sub("", text)):
        return None
    methods = list(dict.fromkeys(m for m in [a.get("method"), *[d.value for d in drops if d.field == "method"]] if m))
    datas = list(dict.fromkeys(d for d in [a.get("data"), *[d.value for d in drops if d.field == "data"]] if d))
    if len(methods) < 2 and len(datas) < 2:
        return None
    if len(datas) > 1 and (len(methods) > 1 or not set(datas) <= set(BUILTIN_DATA)):
        return None  # "dino on shapes, and moco on digits": pairs, or every pairing? asked
    grid = {**({"data.name": datas} if len(datas) > 1 else {}), **(a.get("grid") or {})}
    args = {**{k: v for k, v in a.items() if k != "method"}, "grid": grid,
            **({"methods": methods} if len(methods) > 1 else {"method": a.get("method")})}
    return Reading("tool", "launch_sweep", args, confidence=reading.confidence, intents=reading.intents)


def _one_of_each(reading: Reading, drops) -> Reading:
    """"simclr and byol on digits": a run trains one method on one dataset, so ask which, offering each pairing as
    a message that keeps everything else the user said."""
    a = reading.args
    methods = [a.get("method"), *[d.value for d in drops if d.field == "method"]]
    datas = [a.get("data"), *[d.value for d in drops if d.field == "data"]]
    options = [_launch_message(reading.tool, {**a, "method": m, "data": d}) for m in methods for d in datas][:4]
    named = " and ".join(", ".join(f"`{x}`" for x in xs) for xs in (methods, datas) if len(xs) > 1)
    return ask(f"A run trains one method on one dataset, and you named {named}. Which should I set up first? "
                "(Each launch still waits for your yes; ask for the next one after.)", options, reading.intents,
                reading.confidence)


def _read(text: str, context: dict, world: World, model, cwd: Path | None,
          path_exists: Callable[[str], bool] | None) -> Reading:
    cwd = PathCheck(cwd, path_exists)
    stripped = LEADING_CONNECTIVE.sub("", text.strip()) or text.strip()  # "and tag it as checked": the request
    told = TELL_ME_IF.match(stripped)
    if told:  # "tell me if it's any good": "is it any good"
        stripped = f"is {told.group('subject')} {told.group('rest')}"
    if not re.search(r"[A-Za-z]", stripped):  # a number alone sets the setting just asked about of a waiting
        # launch ("what's the mask ratio?" ... "0.5"); else it says nothing
        pending, asked = context.get("pending_launch"), context.get("asked_setting")
        amended = amend(stripped, pending, world, [(pending["tool"], 1.0), ("help", 0.0)], cwd, asked, text) \
            if pending and asked else None
        return amended or Reading("help", confidence=1.0)
    best = resolve_best(stripped, context)
    if isinstance(best, list):  # "train the best one longer" when the label-free order and the probe disagree
        ranked = context["last_ranking"]
        if WORST_REF.search(stripped):  # "the worse one" where the comparison or ranking does not settle it
            why = f": {ranked['why']}" if ranked.get("why") else " (the probe and the label-free order disagree)"
            return ask(f"The last {'comparison' if ranked.get('compared') else 'ranking'} does not say which of runs "
                       f"{', '.join(ranked['run_ids'])} is worse{why}. Which did you mean?", best)
        if ranked.get("compared"):  # "compare runs 1 and 2 and train the better one longer" when the probe can't say
            return ask(f"The comparison does not say which of runs {', '.join(ranked['run_ids'])} is better: "
                       f"{ranked['why']}. Which did you mean?", best)
        return ask(f"The last ranking had two leaders: run {ranked['label_free']} first without labels, and run "
                    f"{ranked['probe']} by the linear probe (where labels exist, the probe is the one to trust). Which "
                    "did you mean?", best)
    if best:  # "what lr did the winner use?" right after a ranking: its leader, named
        stripped = best
    stripped = resolve_listed(stripped, context) or stripped  # "diagnose the second one": run N of the last list
    longer = _longer_asked(stripped, context, world)
    if longer:  # "train run 1 longer": how much is asked (it was a forecast)
        return longer
    won = _which_won(stripped, context, world)
    if won is not None:  # "compare runs 1 and 2" ... "which one is better?": that comparison, with its answer
        return won
    ranked_first = _rank_for_best(stripped, context, world)
    if ranked_first is not None:  # "diagnose the best run", nothing ranked: the ranking, then the message again
        return ranked_first
    words = read_annotation(stripped)
    waiting = context.get("pending_launch")  # "delete it" of a waiting launch is no delete of a run
    trashed = _trash(stripped, world, None if waiting else context.get("focus_run"),
                     None if waiting else context.get("last_listed"))
    if trashed is not None and not (waiting and edited_grid(stripped, (waiting.get("args") or {}).get("grid") or {})):
        # "delete run 4", "restore run 4": only runs named, and the delete waits for a yes; "remove the 30" of a
        # waiting sweep over 10, 20 and 30 steps is its value, not run 30
        return trashed
    pruned = read_prune(stripped)[1]  # "... and drop the worst runs halfway": a sweep's early stopping, no delete
    guarded = pruned if pruned != stripped and find_grid(pruned) else stripped
    if REFUSE.search(words.runs if words is not None and words.change else guarded):  # a note is data, not an order
        return Reading("refuse", confidence=1.0)
    export = EXPORT.search(stripped)
    if export and (export.group(1).lower() in (*EXPORT_TARGETS, *ELSEWHERE) or re.match(
            r"\W*(?:please\s+|can you\s+|could you\s+)?(?:export|convert)\b", stripped, re.I)):
        run = re.search(r"\d+", export.group(0))
        rid = run.group(0) if run else "RUN"
        if export.group(1).lower() in EXPORT_TARGETS:  # a CLI command, not a chat tool: say which, not a relaunch
            return ask("Exports are a command, not something I run from the chat: `sslpilot export "
                        f"{rid} --to {export.group(1).lower()}` (runs also log to both live).",
                        ["list my runs", "what can you do?"])
        return ask(f"sslpilot does not convert to `{export.group(1)}`. Each finished run saves its encoder as PyTorch "
                    f"weights with how to load them (ask `where is run {rid}'s encoder?`), and its logs go to "
                    f"TensorBoard or MLflow with `sslpilot export {rid} --to tensorboard|mlflow`.",
                    [f"where is run {rid}'s encoder?"] if run else ["list my runs"])
    if words is not None and context.get("pending_launch") and launch_labels(stripped)[1] and not find_runs(
            stripped, world, about_runs=False).ids:  # "and tag it quick" while a launch waits: the launch's tags
        words = None
    if words is not None:  # a rename, tag or note: the words decide, never a relaunch of the run they name
        return _annotate(words, context, world)
    if DOCUMENT_ADDED.search(stripped):
        paths = " ".join(p for _, p in find_paths(stripped)) or "PATH..."
        return ask(f"Adding documents to the literature store is a command, not something I do from the chat: "
                   f"`sslpilot ingest {paths}` (.md, .txt, .html, .pdf files or folders), or the app's Knowledge page. "
                   "Their text is then searched and quoted as data.", ["what does DINO do about collapse?"])
    rec = context.get("last_recommendation")
    if BARE_REPLY.match(stripped) and not context.get("pending_launch"):  # a yes or no with nothing waiting for one
        # (an action waiting for its yes is the gate's, agent/graph.py; a launch asked about is read below)
        if rec and BARE_REPLY.match(stripped).group(1) and context.get("just_recommended"):  # "recommend a fix for
            # run 2" ... "do it": its follow-up proposed, waiting for its own yes
            return read_relaunch("launch it", context, world, 1.0, [("launch_pretraining", 1.0)], cwd)
        if rec and BARE_REPLY.match(stripped).group(1):  # a yes turns after the recommendation: how to take it up
            return ask(f"Nothing is waiting for a yes. To launch run {rec['run_id']}'s recommended follow-up, say "
                        "`launch it`: you will see it before it starts.", ["launch it"])
        return ask("Nothing is waiting for a yes or no right now. What would you like to do?",
                    ["list my runs", "what can you do?"])
    intents = model.predict(mask_runs(launch_labels(stripped)[0].strip() or stripped, world))  # a name or tag
    # ("call it dino-again") says nothing of what is asked
    verb = VERB_ALONE.match(stripped)
    if verb:  # "forecast" alone was the help text: that tool, with its run asked for
        tool = VERBS_ALONE[verb.group(1).lower()]
        intents = [(tool, 1.0), *[x for x in intents if x[0] != tool]]
    if not STOP_SAID.search(stripped):
        intents = [(i, p) for i, p in intents if i != "cancel_run"] + [("cancel_run", 0.0)]  # last, same length
    pending = context.get("pending_launch")
    if pending:  # "make it 300 steps" while a launch waits for its yes: the same launch, changed
        amended = amend(stripped, pending, world, intents, cwd, context.get("asked_setting"), text) or pending_asked(
            stripped, pending, world, intents)
        if amended is not None:  # or "how long will that take?": the launch shown again, still waiting
            return amended
    named = find_runs(stripped, world, about_runs=True)
    fix_of = named.ids[0] if len(named.ids) == 1 else context.get("focus_run") if not named.mentioned else None
    if FIX_ASKED.match(stripped) and fix_of and world.has(fix_of) and not pending:  # "fix run 2 for me": its
        # recommendation, then (the message read again, with it in hand) its follow-up proposed, waiting for a yes
        if rec and rec.get("run_id") == fix_of:
            return read_relaunch("launch it", context, world, 1.0, intents, cwd)
        return Reading("tool", "recommend_next_step", {"run_id": fix_of}, confidence=1.0,
                       intents=[("recommend_next_step", 1.0)], then=stripped)
    if LET_ME_KNOW.match(stripped) and fix_of and world.has(fix_of) and not pending:
        return _watched(world.run(fix_of))
    if rec and not pending and not named.mentioned and context.get("focus_run") == rec.get("run_id"):
        if CHANGE_EXPLAINED.search(stripped):  # "why that change?": the recommendation again, with its reasons
            return Reading("tool", "recommend_next_step", {"run_id": rec["run_id"]}, confidence=1.0,
                           intents=[("recommend_next_step", 1.0)])
        if TAKEN_UP.match(stripped) and rec.get("launchable", True):  # "ok do it": the follow-up proposed
            return read_relaunch("launch it", context, world, 1.0, intents, cwd)
        bare, labels = launch_labels(stripped)  # "call it byol-fix" names no method
        if intents[0][0] in ("launch_pretraining", "relaunch") and rec.get("launchable", True) and not find_method(
                without_paths(bare)) and (launch_args(bare) or find_data(bare) or labels):  # "ok, but on shapes and
            # for 40 steps", "launch it and call it byol-fix": the follow-up so
            return read_relaunch(stripped, context, world, 1.0, intents, cwd)
        if (CHANGE_KIND.search(stripped) or KIND_SAID.search(stripped)) and len(stripped.split()) <= 10:  # "give me a
            # data change instead", "not that, something about the data": that kind, the last change kept away from
            # where it is turned down
            avoid = [*rec.get("avoided", []), *(rec.get("change") or {})] if TURNED_DOWN.search(stripped) else []
            return Reading("tool", "recommend_next_step", {"run_id": rec["run_id"], **recommend_filters(stripped), **(
                {"avoid": list(dict.fromkeys(avoid))[:8]} if avoid else {})}, confidence=1.0,
                intents=[("recommend_next_step", 1.0)])
        ruled_out = NOT_THAT_EITHER.match(stripped)
        if ruled_out and named_settings(ruled_out.group("what")):  # "and not the batch size either?"
            also = list(rec.get("change") or {}) if ruled_out.group("either") else []
            avoid = [*rec.get("avoided", []), *also, *named_settings(ruled_out.group("what"))]
            return Reading("tool", "recommend_next_step", {"run_id": rec["run_id"], "avoid": list(dict.fromkeys(avoid))},
                           confidence=1.0, intents=[("recommend_next_step", 1.0)])
        if ANOTHER_FIX.match(stripped):  # "something else?": another recommendation, the last one's change avoided
            args = {"run_id": rec["run_id"], **recommend_filters(stripped)}  # unless the message names what to avoid
            args.setdefault("avoid", list(dict.fromkeys([*rec.get("avoided", []), *(rec.get("change") or {})])) or None)
            return Reading("tool", "recommend_next_step", {k: v for k, v in args.items() if v}, confidence=1.0,
                           intents=[("recommend_next_step", 1.0)])
        if PENDING_ASKED.search(stripped) and COST_ASKED.search(stripped) and rec.get("launchable", True):
            return read_relaunch("launch it", context, world, 1.0, intents, cwd)  # "how long would that take?": the
            # follow-up proposed, with its estimate; it still waits for a yes
    about = [topic for topic, words in CATALOGUE_TOPICS if re.search(words, stripped, re.I)]
    if about and re.match(r"\W*(?:what|which)\b", stripped, re.I) and MY_OWN.search(stripped) and not named.mentioned:
        return Reading("tool", "list_runs", {}, confidence=1.0, intents=[("list_runs", 1.0)])  # "what methods have
        # I used?": the runs, each with its method and data
    if about and CATALOGUE_ASKED.search(stripped) and not named.mentioned and not find_method(without_paths(
            stripped)) and not MY_OWN.search(stripped) and not DISK_ASKED.search(stripped):  # "what datasets have I
        # cached?": the caches on disk, not the catalogue
        return Reading("help", args={"about": about}, confidence=1.0)  # "what methods do you support?"
    if CANCEL_FIRST.search(stripped) and EVERY_RUN.search(stripped) and not named.mentioned:
        going = [r.id for r in world.runs if r.status in ("queued", "running")]  # "stop everything"
        if not going:
            return ask("Nothing is queued or running, so there is nothing to cancel.", ["list my runs"])
        return _cancel_of(going, 1.0, [("cancel_run", 1.0)])
    if named.sweeps and not named.ids:  # "how did the sweep go?" with two sweeps here: which, before any reading
        return which_sweep(named, stripped)
    sweep = whole_sweep(stripped, named, world)  # the one sweep the message names as a whole, if it does
    about = (*RUN_INTENTS, *MANY_RUN_INTENTS) if len(named.ids) > 1 else RUN_INTENTS
    if sweep:  # "list the runs of the lrs sweep": its runs, listed
        about = (*about, "list_runs")
    if named.ids and intents[0][0] not in about:
        # a message that names one of your runs is about that run, not a literature search or a greeting; one that
        # names several ("the lrs sweep") may be about them together: a ranking was once turned into one run's
        best = next(((i, q) for i, q in intents if i in about), None)
        if best and best[1] >= 0.1:
            intents = [best, *[x for x in intents if x[0] != best[0]]]
    if len(named.ids) == 1 and re.search(rf"{ONE_DESCRIBED}\b", stripped, re.I):  # "show the byol run" (one here):
        intents = [x for x in intents if x[0] != "list_runs"] + [("list_runs", 0.0)]  # that run, not a list of one
    devices = read_devices(stripped, world)
    if devices is not None:  # "which GPUs are free?", "is gpu 1 busy?": the devices now, not a list of runs
        return Reading("tool", "device_status", devices, confidence=1.0, intents=[("device_status", 1.0)])
    if STOP_ASKED.search(stripped) and (STOP_CONDITION.search(stripped) or WAITS.search(stripped) or read_stop(stripped)):
        return _conditional_stop(stripped, context, world)
    keep = KEEP_CHECKPOINTS.match(stripped)
    if keep and len(named.ids) == 1:  # "keep 5 checkpoints for run 1": fixed when a run starts, so a question back
        rid, n = named.ids[0], keep.group("n")
        return ask(f"A run's `train.keep_checkpoints` is set when it starts, so run {rid} keeps what it was launched "
                   f"with. Launch a follow-up of run {rid} that keeps {n}?", [f"relaunch run {rid} keeping {n} checkpoints"])
    if RUN_SETTING_SET.search(stripped) and len(named.ids) == 1:  # "set the lr of run 1 to 0.01 (and rerun it)"
        if RELAUNCH_SAID.search(stripped):
            return _fill("relaunch", stripped, context, world, 1.0, [("relaunch", 1.0), *intents], cwd)
        rid = named.ids[0]
        run = world.run(rid)
        wanted = launch_args(SETTING_OF_A_RUN.sub("", stripped), run.method if run else None)
        wanted.update(wanted.pop("overrides", None) or {})
        said = " ".join(f"{k.rsplit('.', 1)[-1].replace('_', ' ')} {v}" for k, v in wanted.items() if k in (
            "lr", "batch_size", "epochs", "steps") or "." in k)
        if said:  # a setting the follow-up can take, named: offered, never launched unasked
            return ask(f"A run's settings are fixed once it starts, so run {rid} keeps what it was launched with. "
                       f"Launch a follow-up of run {rid} with {said}?", [f"relaunch run {rid} with {said}"])
    lookup = read_lookup(unname_sweeps(stripped, world), named, context.get("focus_run"), world)
    if lookup is not None:  # "what learning rate did run 4 use?": its settings, not its summary alone
        tool, args = lookup
        return Reading("tool", tool, args, confidence=1.0, intents=[(tool, 1.0)])
    discussed = context.get("discussed") or []  # "diagnose run 2", "and run 1?": "compare them" is those two (the
    listed = discussed if len(discussed) == 2 else context.get("last_listed")  # list before them, if any, is older)
    if listed and not named.mentioned and (THEM_COMPARED.search(stripped) and not ADVICE.search(stripped) or
                                           THEIR_CONFIGS.search(stripped)):  # "compare all of them", "and what
        # about their configs?"
        return _compare_listed(listed, world, CONFIGS_ASKED.search(stripped) is not None)
    decided = _decided_by_words(names_as_ids(stripped, world), named, sweep)
    if decided:  # the words say which tool, whatever the model's odds: no question about the reading
        return _fill(decided, stripped, context, world, 1.0, [(decided, 1.0), *intents], cwd)
    again = sweep_again(stripped, sweep, intents, cwd)
    if again is not None:  # "repeat the lrs sweep on shapes", "add lr 0.03 to the sweep": a sweep launched again
        return again
    top, p = intents[0]
    together = sweep_as_a_whole(stripped, sweep, top, p)
    if together:  # "what did the lrs sweep find?": its runs ranked (or side by side), not one run's diagnosis
        args = {"rank_runs": {"run_ids": named.ids[:64], **_asked_about(stripped, world)},
                "compare_runs": {"run_ids": named.ids[:COMPARED_AT_MOST]},
                "list_runs": {"experiment": sweep}}[together]
        return Reading("tool", together, args, confidence=1.0, intents=[(together, 1.0), *intents[:2]])
    if top in ("refuse", "help"):  # an unsure "refuse" is off-topic text: help says what the chat can do
        return Reading("refuse" if top == "refuse" and p >= CONFIDENT else "help", confidence=p, intents=intents[:3])
    second, p2 = intents[1]
    if p < CONFIDENT or (p - p2 < MARGIN and second != "help"):
        return _which_reading(stripped, context, world, intents, cwd)
    return _fill(top, stripped, context, world, p, intents, cwd)


def _of_one_run(words: str) -> str:
    """A condition said of several runs, said of one ("if they collapse" -> "if it collapses")."""
    plural = {"are": "is", "were": "was", "have": "has", "do": "does"}
    modal = ("can", "will", "would", "should", "did", "could", "may", "might", "must")

    def verb(m: re.Match) -> str:
        v = m.group(1)
        return "it " + (plural.get(v.lower()) or (v if v.lower() in modal or v.endswith("s") else v + "s"))

    words = re.sub(r"\bthey\s+([a-z]+)", verb, words, flags=re.I)
    return re.sub(r"\bthem\b", "it", re.sub(r"\btheir\b", "its", words, flags=re.I), flags=re.I)


def _trash(text: str, world: World, focus: str | None = None, listed: list[str] | None = None) -> Reading | None:
    """A delete of named runs (or of a kind of finished run: "the failed runs"; of the run in `focus`: "delete
    it"; of the runs just `listed`: "delete them"), or a restore from the trash."""
    restore = read_restore(text, focus)
    if restore:
        return Reading("tool", "restore_run", {"run_id": restore}, confidence=1.0, intents=[("restore_run", 1.0)])
    deleting = read_delete(text, world, focus, listed)
    if deleting is None:
        return None
    how, ids = deleting
    if how == "listed" and len(ids) > 1 and set(ids) >= {r.id for r in world.runs}:  # every run: no bulk delete
        return ask("That list is every run, and I don't delete every run at once, so that a run you still want is "
                   "never in a bulk delete. Name the runs (`delete runs 1 and 2`) or a kind (`delete the failed "
                   "runs`).", ["delete the failed runs", "list my runs"])
    if how == "age":  # every run of an age is no delete the chat makes: a run still wanted would go with them
        age = re.search(r"(?:older\s+than|more\s+than)\s+(.+?)(?:\s+old)?[\s?.!]*$", text, re.I)
        span = age.group(1) if age else "a week"
        return ask(f"I delete finished runs of a kind by age, not every run: failed, crashed, diverged, cancelled, "
                   f"interrupted or collapsed ones (e.g. `delete the failed runs older than {span}`), so that a run "
                   "you still want is never in a bulk delete. `sslpilot rm ID...` deletes any run by its id. Which "
                   "kind?", [f"delete the failed runs older than {span}", f"delete the collapsed runs older than {span}"])
    if how == "described" and ids:  # "delete the finished runs": the runs that fit, to delete by name
        return _described_delete(ids, world)
    if how == "ids":
        problem = run_problem(find_runs(text, world, about_runs=True), world)
        if problem:
            return problem
    if not ids:
        return ask("No run here fits that, so there is nothing to delete.", ["list my runs"])
    return Reading("tool", "delete_runs", {"run_ids": ids}, confidence=1.0, intents=[("delete_runs", 1.0)])


def _described_delete(ids: list[str], world: World) -> Reading:
    """Runs described for a delete ("the finished runs", "every run except run 1"): which fit, to delete by name (no
    kind a run may still be wanted in is deleted in bulk), and a live one is cancelled first."""
    live = [i for i in ids if world.run(i).status in ACTIVE]  # the ids are the world's
    ended = [i for i in ids if i not in live]
    if not ended:
        return ask(f"{runs_named(live).capitalize()} {'is' if len(live) == 1 else 'are'} still going: cancel first "
                   f"(`cancel run {live[0]}`), then delete.", [f"cancel run {i}" for i in live[:4]])
    by_name = f"delete {runs_named(ended).replace(', ', ' and ')}"
    return ask("I delete runs you name, or finished runs of a kind that went wrong (failed, crashed, diverged, "
               "cancelled, interrupted or collapsed), so that a run you still want is never in a bulk delete. "
               f"{runs_named(ended).capitalize()} {'fits' if len(ended) == 1 else 'fit'} what you said"
               f"{f' ({runs_named(live)} still going)' if live else ''}; to delete {'it' if len(ended) == 1 else 'them'}, "
               f"say `{by_name}`.", [by_name])


def _conditional_stop(text: str, context: dict, world: World) -> Reading:
    """A stop that waits for a condition: the stop_run_when tool when the words give one it can hold, else a
    question that says what it can hold (never a cancel now, which would drop the condition)."""
    named = find_runs(mask_condition(text), world, about_runs=True)  # "below 12" and "step 1500" are no runs
    problem = run_problem(named, world)
    if problem:
        return problem
    focus = context.get("focus_run")
    rid = named.ids[0] if named.ids else focus if focus and world.has(focus) else None
    run = f"run {rid}" if rid else "a run"
    args = read_stop(text)
    if len(named.ids) > 1:  # which first, each offered with the condition as said (a cancel now would drop it)
        going = [r.id for r in world.runs if r.id in named.ids and r.status in ("queued", "running")] or named.ids
        when = CONDITION_START.search(text)
        condition = _of_one_run(text[when.start():].strip()) if when else ""
        options = [f"stop run {r} {condition}" for r in going[:4]] if when else []
        if len(going) == 1:
            return ask(f"Of those, only run {going[0]} is still going: stop it {condition or 'later'}?", options,
                        [("stop_run_when", 1.0)])
        return ask(f"I add a stop to one run at a time: which first, run {' or run '.join(going[:4])}?", options,
                    [("stop_run_when", 1.0)])
    sustained = SUSTAINED.search(text)
    if sustained and rid:  # "if its teacher entropy stays above 8 for 50 steps": the wait is not kept by a rule
        first = first_time_condition(text)
        return ask(f"A stop rule stops run {rid} the first time its condition holds; it cannot wait for it to hold "
                   f"for a while (`{sustained.group(0)}`). Stop it the first time instead"
                   + (f" (`stop run {rid} {first}`)?" if first else "?"),
                   [f"stop run {rid} {first}"] if first else [], [("stop_run_when", 1.0)])
    two = two_conditions(text)
    if two and rid and two[2] == "and":  # "when loss < 1 and rank < 4": a run's rules are each enough alone
        return ask(f"A run stops on the first of its stop conditions that is met, each on its own: I cannot wait "
                    f"for both at once. Stop run {rid} on one of them (`stop run {rid} {two[0]}` or `stop run {rid} "
                    f"{two[1]}`), or on both, whichever comes first (one message each).",
                    [f"stop run {rid} {c}" for c in two[:2]], [("stop_run_when", 1.0)])
    if two and rid:  # "when the loss < 2 or after 30 minutes": both held, one message each (either stops it)
        return ask(f"I add one stop condition per message, and a run holds several: the first one met stops it. "
                    f"Set them one after the other: `stop run {rid} {two[0]}`, then `stop run {rid} {two[1]}`.",
                    [f"stop run {rid} {c}" for c in two[:2]], [("stop_run_when", 1.0)])
    if args is not None and rid:
        return Reading("tool", "stop_run_when", {"run_id": rid, **args}, confidence=1.0,
                       intents=[("stop_run_when", 1.0)])
    if args is not None:
        latest = world.ids()[-1] if world.runs else "1"
        return ask(f"Which run should stop then? Say e.g. `stop run {latest} when loss drops below 0.5`.", [],
                    [("stop_run_when", 1.0)])
    return ask(f"I can stop {run} later on one condition: a metric it logs crossing a value (`stop {run} when loss "
                f"drops below 0.5`, `... when the effective rank falls under 10`), a step or epoch (`stop {run} "
                f"after 2000 steps`, `... after 500 more steps`, `... at epoch 20`), a time (`stop {run} in 30 "
                f"minutes`), a metric that stops improving (`stop {run} if the loss hasn't improved for 500 steps`), "
                f"or a collapse or divergence (`stop {run} if it collapses`). Or I can cancel it now (it keeps a "
                "checkpoint, and `resume` goes on from it).",
                [f"cancel {run}", f"diagnose {run}"] if rid else [], [("stop_run_when", 1.0)])


PAUSE = re.compile(r"^\W*(?:(?:please|pls|can\s+you|could\s+you)\s+)?(?:pause|suspend)\b|\bput\s+(?:run\s*#?\d+|"
                   r"it|the\s+[\w-]+(?:\s+run)?)\s+on\s+hold\b", re.I)
"""A pause ("pause run 3", "put it on hold"): a cancel, which keeps the run's checkpoint for `resume` (it was read as a
resume)."""
SAME_AS_RUN = re.compile(r"\bsame\s+(?:settings|config(?:uration)?|setup|set-?up|hyper-?param(?:eter)?s|hparams|"
                         r"params|recipe)\s+as\b|\blike\s+(?:run\s*#?\d+|#\d+)\b.{0,30}\bbut\b|"
                         r"\bsame(?:\s+(?:thing|run|one|job|experiment))?\s+as\s+(?:run\s*#?\d+|#\d+)\b|"
                         r"\b(?:copy|clone|duplicate)\b|\bre-?run\b|\b(?:launch|run|start|train)\s+(?:it|this|that|run\s*#?\d+)\s+"
                         r"again\b|\b(?:another|one\s+more)(?:\s+(?:one|run|copy))?\s+(?:just\s+|exactly\s+)?like\s+(?:it|this|that|"
                         r"run\s*#?\d+|#\d+)(?:\s+one)?\W*$", re.I)
"""A launch from another run's settings ("same config as run 2 but lr 0.1", "like run 1 but with batch 64", "clone run
1 with seed 3", "rerun run 1 with byol", "the same thing as run 1 but with byol", "another one just like it"): a follow-up of that run, never a
resume or a lookup."""
A_RUNS_RECIPE = re.compile(r"\b(?:take|use|reuse|start\s+from|borrow|with)\s+(?:run\s*#?\d+|[\w-]+)'s\s+(?:recipe|"
                           r"config(?:uration)?|settings|set-?up|hyper-?param(?:eter)?s|hparams)\b", re.I)
"""A launch that starts from a run's settings, said as taking them ("take run 1's recipe and run it with moco")."""
NOT_A_RELAUNCH = re.compile(r"\b(?:probe|eval\w*|knn|k-nn|checkpoints?|resume|continue|why|compare)\b", re.I)


PROBE_AGAIN = re.compile(r"\b(?:again|anew|afresh|fresh|re-?(?:probe|run|measure|evaluate|do)\w*)\b", re.I)
"""A probe asked for anew ("probe run 2 again"): measured again, not read back from the stored one."""
PROBE_VALUES = re.compile(r"\b(?:recall(?:@\d+)?|retrieval|k-?nn(?:\s+accuracy)?|(?:linear\s+)?probe(?:\s+accuracy)?)\b",
                          re.I)
PROBE_QUESTION = re.compile(r"^\W*(?:what|what's|whats|how|show|tell|give)\b|\?\s*$", re.I)
NOT_PROBE_VALUES = re.compile(r"\b(?:why|improv\w*|boost\w*|rais\w*|increas\w*|compare|versus|vs|rank|better|worse|best|"
                              r"forecast|predict\w*|will|should|"
                              r"judge|random\s+init\w*|longer|without|worth|usable|any\s+good|no\s+labels?|during|"
                              r"monitor|curve|online|over\s+(?:the\s+)?(?:training|run|steps))\b", re.I)
"""A run's probe values asked for ("what's its recall?", "how good is run 1's retrieval?"): its probe, stored or
measured, not a literature search or another run's; a comparison or a judgement keeps its own reading."""
RESULT_RUNS = re.compile(r"\bruns\b|\b(?:every|each|any|all)\s+run\b", re.I)
RESULT_NOT_A_LIST = re.compile(r"\b(?:why|should|would|improv\w*|fix\w*|better|worse|raise)\b|" + HOW_TO_IMPROVE.pattern, re.I)
"""Runs picked by what they measured ("which runs have a probe above 96%?", "list every run with over 97% on the
probe"), unless the bar is a goal or a cause ("how do I get my runs above 95%?", "why are my runs under 80%?")."""
ONE_RUN_VERBS = {"diagnose": "diagnose_run", "probe": "run_linear_probe", "resume": "resume_run",
                 "forecast": "forecast_run", "recommend": "recommend_next_step", "judge": "judge_run"}
ONE_RUN_VERB = re.compile(rf"^\W*(?:(?:please|pls|can\s+you|could\s+you)\s+)?({'|'.join(ONE_RUN_VERBS)})\b", re.I)
"""A one-run tool's verb first ("diagnose runs 1 and 4", "resume the sweep"): that tool, asked of one run at a time."""
KEEP_CHECKPOINTS = re.compile(r"^\W*(?:please\s+)?(?:keep|save|retain|store)\s+(?:the\s+last\s+|up\s+to\s+)?(?P<n>\d+)\s+"
                              r"(?:intermediate\s+)?checkpoints?\b(?!.*\b(?:re-?launch\w*|again|follow-?up|new\s+run)\b)",
                              re.I)
"""How many checkpoints an existing run keeps ("keep 5 checkpoints for run 1"): a setting read when a run starts."""
RUNS_DIFFER = re.compile(r"\b(?:differences?|differ(?:ed|s)?|different)\b", re.I)
RUNS_WEIGHED = re.compile(r"\b(?:better|worse|stronger|weaker|beats?|outperform\w*)\b", re.I)
NOT_WEIGHED = re.compile(r"\b(?:why|should|would|could|make|improv\w*|fix\w*|help\w*|recommend\w*|suggest\w*|labels?|"
                         r"label-free|unlabell?ed)\b", re.I)
"""Two named runs weighed against each other ("is my byol run worse than my simclr one?"): side by side (which of
three or more is best is the ranking's), unless the question asks why, or what would change it, or asks without
labels (the label-free ranking)."""
COMPARE_FIRST = re.compile(r"^\W*(?:(?:please|pls|can\s+you|could\s+you|let'?s)\s+)?compare\b", re.I)
ALL_RUNS = re.compile(r"\b(?:all|every|each)\s+(?:(?:of\s+)?(?:my|the|our)\s+)?runs?\b", re.I)
SIDE_BY_SIDE = re.compile(r"\bside[ -]by[ -]side\b|\bhead[ -]to[ -]head\b|^\W*(?:(?:please|pls|can\s+you|could\s+you|"
                          r"let'?s)\s+)?compare\b", re.I)
"""Every run set side by side ("compare all my runs", "put all my runs side by side"): the comparison of each (the
newest COMPARED_AT_MOST, or a question when there are more). Not "all of them": that is THEM_COMPARED."""
THEM_COMPARED = re.compile(r"^(?=.*\b(?:compare|comparison|side[ -]by[ -]side|head[ -]to[ -]head|differ\w*)\b)"
                           r"(?=.*\b(?:them|those|these|their)\b)", re.I | re.S)
"""The runs the last list showed, compared ("compare all of them", "put those side by side"); with no list in the
thread, asked which."""
THEIR_CONFIGS = re.compile(r"\b(?:their|them\s+by\s+their)\s+(?:configs?|configurations?|settings|hyper-?param\w*)\b", re.I)
"""The settings of the runs the last list showed ("show their configs"): their configs side by side."""
SWEEP_ASKED = re.compile(r"^\W*(?:(?:please|pls|can\s+you|could\s+you|let'?s)\s+)?(?:sweep|grid[- ]?search|"
                         r"(?:run|do|launch|start)\s+an?\s+(?:sweep|grid(?:[- ]?search)?))\b", re.I)
"""A sweep asked for by its verb: with a method and a list of values, a launch of one run per value whatever the
classifier's odds (it offered a literature search for "sweep simclr's learning rate: 1e-3, 3e-3, 1e-2")."""


METHOD_ADVICE = re.compile(r"^\W*(?:(?:so|and|ok(?:ay)?|hmm+)\W+)*(?:which|what)\s+(?:ssl\s+)?(?:method|algorithm|approach|"
                           r"objective)\s+(?:should|would|could|do\s+you\s+(?:recommend|suggest))\b", re.I)
"""Which method to pick, asked in general ("which method should I use for a small dataset?"): the literature."""
METHOD_BEST = re.compile(r"\bwhich\s+(?:ssl\s+)?(?:method|algorithm|approach|objective)\s+(?:work(?:s|ed)?|is|perform(?:s|ed)?|"
                         r"did|does|was|gave|gets?|got|scored?|won)\s+(?:the\s+)?(?:best|better|highest)\b", re.I)
"""Which method did best on the user's data: their runs there by linear probe, each named by method (a general
question, with no data or runs of theirs named, is the literature's)."""


def runs_in_trouble(text: str, named=None) -> bool:
    """Runs in trouble asked about (run_tool_words.IN_TROUBLE), with none named when `named` is given ("is run 4
    failing?" is its diagnosis), not how to fix or avoid it."""
    text = TAGGED.sub(" ", text)  # "which of my runs are labelled broken?": a tag, not trouble
    return not (named and named.mentioned) and bool(IN_TROUBLE.search(text) and TROUBLE_RUNS.search(text)) and not re.search(
        r"\b(?:how|should|could|would|avoid|prevent|fix\w*|stop\s+them|literature|papers?|logs?)\b", text, re.I)


def _longer_asked(text: str, context: dict, world: World) -> Reading | None:
    """A question when a run is to train longer and no amount is said (LONGER_ALONE): its recipe at a multiple of its
    length, more steps from its final weights, or a forecast of whether it is worth it first."""
    if not LONGER_ALONE.match(text):
        return None
    ids = find_runs(text, world).ids
    rid = ids[0] if len(ids) == 1 else None if ids else context.get("focus_run")
    if rid is None:
        return None
    return ask(f"How much longer should run {rid} train? Its recipe again at a multiple of its length starts afresh "
               f"(`train run {rid} twice as long`); more steps continue it from its final weights (`train run {rid} for "
               f"500 more steps`). Or `should I train run {rid} longer?` forecasts whether it is worth it.",
               [f"train run {rid} twice as long", f"train run {rid} for 500 more steps",
                f"should I train run {rid} longer?"])


A_PRONOUN = re.compile(r"\b(?:it|this|that)\b", re.I)
"""A run named by a pronoun: the run in focus, when no run is named."""
COMPARED_WITH_IT = re.compile(r"\b(?:compare|put|line\s+up|stack\s+up)\s+(?:it|this(?:\s+(?:one|run))?|that(?:\s+(?:one|"
                              r"run))?)\s+(?:with|to|against|beside|next\s+to|and)\b|\b(?:it|this\s+one|that\s+one)\s+"
                              r"(?:vs\.?|versus|against)\s", re.I)
"""The run in focus named by a pronoun beside runs named by id ("compare it with runs 1 and 3")."""
STATUS_ASKED = re.compile(r"^\W*(?:(?:so|and|ok(?:ay)?|well|hey)\W+)*(?:(?:is|has)\s+(?:it|this(?:\s+(?:one|run))?|that(?:\s+(?:one|"
                          rf"run))?|the\s+run|run\s*#?\d+|#\d+|{ONE_DESCRIBED})\s+(?:(?:been\s+)?(?:done|finished|over|complete(?:d)?|ended|started)|"
                          r"still\s+(?:running|going|training|queued|waiting)|(?:running|training)\s+(?:yet|now)|(?:going|about)\s+"
                          r"to\s+(?:finish|end|be\s+done)(?:\s+soon)?|(?:almost|nearly)\s+(?:done|finished|over))|(?:done|finished|"
                          r"over)\s+yet)(?:\s+(?:yet|now|already))?\W*$", re.I)
"""Whether a run has ended or is still going ("is it done?", "has run 4 finished?", "done yet?"): its status. Read
alone, "is it done?" was the help text and "is it finished?" a list of every succeeded run."""
PROGRESS_ASKED = re.compile(r"\b(?:what|which)\s+(?:step|epoch|iteration)\s+(?:is|are|'s)\s+(?:it|that|this|they|"
                            r"(?:the\s+)?(?:run|job)(?:\s*#?\d+)?|#\d+)(?:\s+(?:at|on|up\s+to|now))+\b", re.I)
"""Where a run has got to ("what step is it at?", "which epoch is run 3 on now?"): its status."""
IMPROVED_SO_FAR = re.compile(r"^\W*(?:has|have|did|is)\s+(?:it|that|this|they|(?:the\s+)?(?:run|job)(?:\s*#?\d+)?|#\d+)\s+"
                             r"(?:improved|improving|got\s+better|getting\s+better|gotten\s+better|learn(?:ed|t|ing)\s+"
                             r"anything|made\s+(?:any\s+)?progress)\s+(?:since\s+(?:it\s+)?(?:start(?:ed)?|the\s+start|"
                             r"the\s+beginning)|so\s+far|at\s+all|yet)\b", re.I)
"""How a run has gone so far ("has run 3 improved since it started?"): its curves, not a forecast of more steps."""

SHOW_IT = re.compile(r"^\W*(?:(?:please|pls|can\s+you|could\s+you|now|ok(?:ay)?|then)\W+)*(?:show|display|open|pull\s+up)"
                     r"\s+(?:me\s+)?(?:it|that(?:\s+(?:one|run))?|this(?:\s+(?:one|run))?)(?:\s+(?:please|again|now))?\W*$",
                     re.I)
"""The run in focus shown ("show it", "show me that run"), after a launch or a diagnosis."""
SHOW_DESCRIBED = re.compile(rf"^\W*(?:(?:please|pls|can\s+you|could\s+you|now|ok(?:ay)?|then)\W+)*(?:show|display|open|"
                            rf"pull\s+up)\s+(?:me\s+)?{ONE_DESCRIBED}(?:\s+(?:please|again|now))?\W*$", re.I)
"""One run described and shown ("show the healthy run": it was its diagnosis), where the description finds one."""


def _decided_by_words(text: str, named, sweep: str | None) -> str | None:
    """Readings the words settle: an imperative stop naming a run is a cancel; a cron written out beside a method
    or data is a schedule; runs asked for by tag, with no run, method or data named, are a list; device time asked
    for with no run named is the usage summary."""
    search = SEARCH_REQUEST.match(text)
    if search and search.group("verb").lower() in ("search", "grep"):  # "search the literature for lr sweeps"
        return "search_run_logs" if search.group("where").lower().startswith("log") else "search_literature"
    if LITERATURE_ASKED.search(text):  # "what does the literature say about fixing it?"
        return "search_literature"
    if METHOD_ADVICE.match(text) and not named.mentioned and not find_data(without_paths(text)) and not MY_OWN.search(
            text):  # "which method should I use for a small dataset?": the papers' advice (it asked which run to
        return "search_literature"  # recommend a next step for)
    if len(named.ids) == 1 and TRAIN_RUN_FOR.match(text):  # "train run 1 for 50 steps": its recipe at that length
        return "relaunch"
    if len(named.ids) <= 1 and QUALITY_ASKED.match(text):  # "is run 2 worth keeping?": its quality, judged
        return "judge_run"
    if len(named.ids) <= 1 and CONFIDENCE_ASKED.match(text):  # "how confident are you?": the diagnosis, with its
        return "diagnose_run"  # confidence and the evidence it rests on
    if len(named.ids) <= 1 and END_ASKED.search(text):  # "if it goes on like this, will it be good?": where its
        return "forecast_run"  # quality is going, forecast to its end and past it
    if RETRY_WORTH.match(text) and len(named.ids) <= 1:  # "is it worth retrying?": what to change, if anything
        return "recommend_next_step"
    if PREVENTION_ASKED.search(text) and (len(named.ids) == 1 or not named.mentioned and A_PRONOUN.search(text)) and \
            not find_method(without_paths(text)):  # "what would have prevented it?": the change its diagnosis calls
        return "recommend_next_step"  # for ("how do I prevent collapse in dino?" asks the literature)
    if waits_for_a_run(text) and find_method(without_paths(text)):  # "queue byol after run 3 finishes": a launch
        return "launch_pretraining"  # that waits (or a sweep, read from its values), not a word about run 3
    if named.ids and CANCEL_FIRST.search(text):
        return "cancel_run"
    if len(named.ids) == 1 and RUN_AGAIN.match(text):  # "run 1 again but with vicreg": its follow-up (a forecast)
        return "relaunch"
    if len(named.ids) == 1 and RELAUNCH_FIRST.match(text) and not NOT_A_RELAUNCH.search(text) and not \
            FROM_WEIGHTS.search(text):  # "relaunch run 2 with vicreg": its follow-up (it was a forecast or a resume)
        return "relaunch"
    if len(named.ids) >= 2 and SHOW_RUNS.search(text):  # "show runs 1 and 2": side by side (it was a ranking)
        return "compare_runs"
    if len(named.ids) >= 2 and COMPARE_FIRST.match(text) and not ADVICE.search(text):  # "compare the collapsed one
        return "compare_runs"  # with the healthy one": a comparison (it asked, or diagnosed the first)
    if (RANK_FIRST.match(text) or BEST_OF_GROUP.match(text)) and (len(named.ids) >= 2 or GROUP_REF.search(
            text.lower())):  # "rank the finished runs", "which of my finished runs is better?": ranked (their list)
        return "rank_runs"
    if len(named.ids) > 1 and THE_OTHERS.search(text) and (RANKED_AGAINST.search(text) or RANK_FIRST.match(text)):
        return "rank_runs"  # "how does run 1 rank against the others?": all of them ranked (it was run 1's rank)
    if len(named.ids) == 1 and WHEN_IT_FAILED.search(text):  # "which step did run 4 blow up at?": the diagnosis
        return "diagnose_run"  # names the step (it was a ranking of run 4's checkpoints)
    if GOING_ON.match(text) and (len(named.ids) == 1 or not named.mentioned and A_PRONOUN.search(text)):
        return "diagnose_run"
    if not named.mentioned and DIVERGED_RUNS.search(text) and (LIST_START.match(text) or ANY_DID.match(text)) and not \
            re.search(r"\b(?:why|how|logs?|literature|papers?|search|grep|avoid|prevent|fix\w*)\b", text, re.I):
        return "list_runs"  # "find runs where the loss went nan": the diverged runs (it was a search of the logs)
    if not named.mentioned and WHAT_I_RAN.match(text):  # "what did I run this week?": the runs, over the period
        return "list_runs"
    if not named.mentioned and QUEUE_ASKED.search(text):  # "what's the status of the queue?": the runs, newest
        return "list_runs"  # first with their status (it asked which run to show)
    if runs_in_trouble(text, named):  # "are any runs failing right now?": the runs in trouble; "why are my runs
        return "diagnose_run" if re.search(r"\bwhy\b", text, re.I) else "list_runs"  # failing?": which to diagnose
    if PAUSE.search(text) and (named.ids or not named.mentioned and A_PRONOUN.search(text)):
        return "cancel_run"  # "pause run 3": stopped with its checkpoint, resumable
    if STATUS_ASKED.match(text) and (len(named.ids) == 1 or not named.mentioned):  # "is it done?": its status
        return "get_run"
    if IMPROVED_SO_FAR.match(text) and (len(named.ids) == 1 or not named.mentioned):
        return "get_run"
    if SHOW_IT.match(text) or SHOW_DESCRIBED.match(text) and len(named.ids) == 1:  # "show it": the run in focus (it
        # was the list of every run)
        return "get_run"
    if PROGRESS_ASKED.search(text) and (len(named.ids) == 1 or not named.mentioned and A_PRONOUN.search(text)):
        # "what step is it at?": the run's status (the run in focus)
        return "get_run"
    if len(named.ids) == 1 and CHANGE_ASKED.search(text):  # "what would you change in run 5 to improve retrieval?"
        return "recommend_next_step"
    if not named.ids and each_runs_metrics(text) and not RESULT_NOT_A_LIST.search(text):
        return "list_runs"  # "what was the final loss of each run?": a column of it, not a search of the logs
    if not named.ids and RESULT_RUNS.search(text) and result_filters(text) and not RESULT_NOT_A_LIST.search(text):
        return "list_runs"  # "which runs have a probe above 96%?", "runs that scored over 95% on the probe"
    if not named.ids and EACH_RUN.search(text) and PROBE_VALUES.search(text) and not NOT_PROBE_VALUES.search(text):
        return "list_runs"  # "what was the final knn accuracy of each run?": the runs with it, not a probe of one
    if PROBE_VALUES.search(text) and PROBE_QUESTION.search(text) and not NOT_PROBE_VALUES.search(text) and (
            len(named.ids) == 1 or not named.mentioned and re.search(r"\b(?:its?|this|that)\b", text, re.I)):
        return "run_linear_probe"  # "what's its recall?": the run's probe values (the stored ones, if any)
    if len(named.ids) >= 2 and RUNS_DIFFER.search(text) or (len(named.ids) == 2 or len(named.ids) >= 2 and
                                                             METHODS_WEIGHED.search(text.lower())) and RUNS_WEIGHED.search(
            text) and not NOT_WEIGHED.search(text):  # "is vicreg better than simclr on digits?": every run of each
        return "compare_runs"  # "what's the difference between the byol and simclr runs?": runs of this home, named,
        # not the methods in the literature; "which did better, my simclr run or my simsiam run?"
    if not named.mentioned and (ALL_RUNS.search(text) or GROUP_REF.search(text.lower())) and SIDE_BY_SIDE.search(
            text) and not ADVICE.search(text):
        return "compare_runs"  # "put all my runs side by side": every run (a list was offered); "every simclr run"
    if COMPARE_FIRST.match(text) and re.search(r"\bruns?\b", text, re.I) and not ADVICE.search(text):
        return "compare_runs"  # "compare my digits runs": a comparison of runs (not "compare lr 0.1 vs 0.3": a sweep)
    verb = ONE_RUN_VERB.match(text)
    if verb and (len(named.ids) > 1 or not named.mentioned and (ALL_RUNS.search(text) or GROUP_REF.search(
            text.lower()))):  # "diagnose runs 1 and 4", "diagnose my finished runs": that tool, of each (it was
        return ONE_RUN_VERBS[verb.group(1).lower()]  # their list)
    if (named.ids or not named.mentioned and A_PRONOUN.search(text)) and MORE_OF_A_RUN.search(text) and not \
            ADVICE.search(text):  # "continue run 2 for 100 more steps", "train it for 100 more steps" (the run in
        return "relaunch"  # focus) from its final weights; "should I ...?" is left to the readings (a forecast)
    if len(named.ids) == 1 and LENGTH_MULTIPLE.search(text) and not ADVICE.search(text):
        return "relaunch"  # "train run 1 twice as long": its recipe at that length (it was a forecast)
    if (len(named.ids) == 1 or not named.mentioned and A_PRONOUN.search(text)) and (SAME_AS_RUN.search(
            text) or A_RUNS_RECIPE.search(text)) and not NOT_A_RELAUNCH.search(text) and not ADVICE.search(text):
        return "relaunch"  # ("and another one just like it": the run in focus)
    if len(named.ids) == 1 and verb and not FROM_WEIGHTS.search(text):  # "diagnose run 2 but skip the first 40
        return ONE_RUN_VERBS[verb.group(1).lower()]  # steps": that tool (it asks what it cannot do), not a relaunch
    by_setting = (setting_sort(text) or metric_sort(text)) if not named.ids else None  # "-train.batch_size",
    # "+health/rank" (a logged metric's last value), or None
    if not named.ids and (LIST_START.match(text) or SORT_START.match(text) or RANK_START.match(text) and (
            by_setting or list_filters(text).get("sort"))) and re.search(r"\bruns\b", text, re.I) and (
            LIST_SORT.search(text) or by_setting):
        return "list_runs"  # "list my runs sorted by probe accuracy", "sort my runs by batch size", "rank my runs by
        # batch size" (by view retrieval is the label-free ranking's)
    if by_setting and LIST_START.match(text) and YOUR_RUNS.search(text) and not NOT_A_LIST.search(text) and \
            not MODAL.search(text):
        return "list_runs"  # "which run used the largest batch size?": the runs by it, its values a column
    if not named.mentioned and MODAL.search(text) and EXTREME_ADVICE.search(text) and named_settings(text) and not \
            re.search(r"\b(?:used|tried|trained\s+with|fits?|memory|gpus?|vram)\b", text, re.I):
        return "search_literature"  # "which is the largest batch size a run should use?": advice, not a ranking
    if not named.ids and re.search(r"\bruns?\b|\bleaderboard\b|\bso\s+far\b|\b(?:my|ever|yet)\b|\b(?:i|we)(?:['\u2019]ve|"
                                   r"\s+have)?\s+(?:reached|got|gotten|achieved|hit|seen)\b", text, re.I) and \
            LEADERBOARD.search(text):  # "what's the best probe accuracy so far?": the runs by it, not a probe to run
        return "list_runs"  # "the top 3 runs by probe accuracy": runs by a labelled metric, not the label-free ranking
    if not named.ids and METHOD_BEST.search(text) and (find_data(without_paths(text)) or MY_OWN.search(text) or re.search(
            r"\b(?:my|our)\s+(?:runs|data(?:set)?|images|experiments)\b", text, re.I)):
        return "list_runs"  # "which method works best on digits?": its runs there by probe, each with its method
    if not named.ids and HOW_MANY_RUNS.search(text):
        return "list_runs"  # "count my runs on digits": the runs that match, counted
    if not named.ids and re.search(r"\bruns?\b", text, re.I) and RUN_SPEED.search(text) and not ACTION_START.match(text):
        return "list_runs"  # "which run trained fastest?", "my runs by training time"; not "cancel the slowest run"
    if len(named.ids) == 1 and AGAINST_RANDOM_INIT.search(text) and not re.match(
            r"\W*(?:please\s+)?(?:probe|evaluate|eval|re-?run|run)\b", text, re.I):
        return "judge_run"  # "is run 2 better than random init?": the probe's gain over it, with its error
    judged = named_settings(text)
    if len(named.ids) == 1 and judged and not set(judged) <= LENGTH_KEYS:
        if SETTING_JUDGED.search(text):
            return "diagnose_run"  # "is the lr of run 4 too high?": what its metrics say of it (about=...), not a forecast
        if CHANGE_WOULD_HELP.search(text):
            return "recommend_next_step"  # "would a bigger batch help run 3?": the change its diagnosis calls for
    if not named.mentioned and WHICH_RUNS.search(text) and find_method(without_paths(text)) and not \
            OTHER_THAN_LIST.search(text):
        return "list_runs"  # "which runs used byol?": a list of that method's runs
    if not named.mentioned and RUNS_ASKED_FOR.search(text) and setting_filters(text) and not (
            OTHER_THAN_LIST.search(text) or NOT_A_LIST.search(text)):
        return "list_runs"  # "which of my dino runs had out dim 65536?", "every run whose lr was above 0.05": a list
    every = re.search(r"\b(?:every|all|any)\b", text, re.I) and not re.search(r"\bruns?\s*#?\d", text, re.I)
    unswept = SWEEP_REF.sub(" ", text) if sweep else text  # "which runs in the sweep collapsed?": "sweep" is no verb
    if (not named.mentioned or every or sweep) and LIST_START.match(text) and re.search(r"\bruns?\b", text, re.I) and any(
            re.search(pattern, text, re.I) for pattern, _ in VERDICT_WORDS) and not (
            OTHER_THAN_LIST.search(unswept) or NOT_A_LIST.search(text)):
        return "list_runs"  # "which runs collapsed?": by their last diagnosis (the classifier offered a log search)
    rest = TAGGED.sub(" ", text)  # "which runs are tagged best?": the tag is no word of another tool
    if rest != text and not named.ids and not OTHER_THAN_LIST.search(rest) and not (
            find_method(without_paths(rest)) or find_data(rest)):
        return "list_runs"
    if not named.ids and (USAGE_ASKED.search(text) or DISK_ASKED.search(text)):
        return "usage_summary"  # "how much GPU time have I used this week?": summed over runs, not one run's
    if SWEEP_ASKED.match(text) and find_grid(text) and find_method(without_paths(text)):
        return "launch_pretraining"  # "sweep simclr's learning rate: 1e-3, 3e-3, 1e-2": one run per value
    if (find_cron(text) or re.match(r"\W*(?:pls\s+|please\s+)?schedule\b", text, re.I) or
            asks_to_recur(launch_labels(text)[0])) and (  # "... and tag it as nightly" is a tag, not a schedule
            find_method(without_paths(text)) or find_data(text)):
        return "schedule_pretraining"  # a cron written out, or "schedule X on Y": a schedule (asks when if unsaid)
    return None


def _which_reading(text: str, context: dict, world: World, intents, cwd) -> Reading:
    """Not sure between readings: offer the two or three likeliest, each as a message that would do it."""
    options, said, calls = [], [], {}
    first_asks = None  # the likeliest reading's own question ("I diagnose one run at a time: which?")
    for n, (intent, prob) in enumerate(intents[:3]):
        if prob < 0.1 or intent in ("refuse",):
            continue
        reading = _fill(intent, text, context, world, prob, intents, cwd)
        if n == 0 and reading.kind == "clarify":
            first_asks = reading
        if reading.kind == "tool":
            message = _as_message(reading)
            if message in calls:  # two readings that make the same call ("pretrain ... at 6pm" is a schedule either way)
                calls[message] = (calls[message][0] + prob, calls[message][1])
                continue
            calls[message] = (prob, reading)
            options.append(message)
            said.append(message)
        elif intent == "help":
            options.append("what can you do?")
            said.append(READING["help"])
    if first_asks is not None:  # its question, with the other readings offered beside its own options
        first_asks.options += [o for o in options if o in calls and o not in first_asks.options]
        return first_asks
    if not options:
        return Reading("help", intents=intents[:3])
    if len(options) == 1 and options[0] in calls and calls[options[0]][0] >= 0.4:
        prob, reading = calls[options[0]]
        reading.confidence = prob
        return reading
    if len(options) == 1 and intents[0][1] >= 0.4:
        return _fill(intents[0][0], text, context, world, intents[0][1], intents, cwd)
    return ask("I am not sure what you mean. Did you want to " + " or ".join(f"**{s}**" for s in said) + "?",
                options, intents[:3], intents[0][1])


def _as_message(r: Reading) -> str:
    """A reading written as the command a user could send to get it."""
    a = r.args
    if r.tool in RUN_TOOLS and a.get("run_ids"):  # a cancel of several
        return READING[r.tool].format(run="").replace("run ", "runs ") + " and ".join(a["run_ids"])
    if r.tool in RUN_TOOLS:
        return READING[r.tool].format(run=a.get("run_id"))
    if r.tool in ("compare_runs", "rank_runs"):
        return ("compare runs " if r.tool == "compare_runs" else "rank runs ") + " and ".join(a["run_ids"])
    if r.tool == "list_runs":
        return "list my " + (a.get("status", "") + " ").lstrip() + (a.get("method", "") + " ").lstrip() + "runs"
    if r.tool in ("search_run_logs", "search_literature"):
        where = "my run logs" if r.tool == "search_run_logs" else "the literature"
        return f"search {where} for \"{a.get('query', '').strip(' ?.!')}\""  # quoted: the words searched for
    if r.tool in LAUNCH_TOOLS:
        if a.get("parent_run"):
            return f"launch a follow-up of run {a['parent_run']}"
        return _launch_message(r.tool, a)
    return READING.get(r.tool or "", r.tool or "")


def _launch_message(tool: str, a: dict) -> str:
    """A launch as a message that reads back to the same call: method, data, length, batch, rate, device, settings,
    a sweep's values and, for a schedule, when."""
    words = ["schedule" if tool == "schedule_pretraining" else "pretrain", a.get("method")]
    words += ["on", a["data"]] if a.get("data") else []
    words += [f"for {a['epochs']} epochs"] if a.get("epochs") else [f"for {a['steps']} steps"] if a.get("steps") else []
    words += [f"batch size {a['batch_size']}"] if a.get("batch_size") else []
    words += [f"lr {a['lr']}"] if a.get("lr") else []
    words += [f"on {a['device'].replace('cuda:', 'gpu ')}"] if a.get("device") else []
    words += [f"{k}={v}" for k, v in (a.get("overrides") or {}).items()]
    words += [f"{k}={','.join(map(str, v))}" for k, v in (a.get("grid") or {}).items()]  # a sweep's values
    words += [f"at {a['at']}"] if a.get("at") else [f"cron `{a['cron']}`"] if a.get("cron") else []
    return " ".join(str(w) for w in words if w)


def _fill(intent: str, text: str, context: dict, world: World, p: float, intents, cwd) -> Reading:
    def tool(name: str, args: dict) -> Reading:
        return Reading("tool", name, args, confidence=p, intents=intents[:3])

    if intent == "help":
        return Reading("help", confidence=p, intents=intents[:3])
    if intent in LAUNCH_TOOLS:
        return read_launch(intent, text, context, world, p, intents, cwd)
    if intent == "relaunch":
        return read_relaunch(text, context, world, p, intents, cwd)
    if intent == "list_runs":
        args: dict = {}
        low = text.lower()
        for status, pattern in STATUSES.items():
            if re.search(pattern, low):
                args["status"] = status
                break
        named = find_method(text)
        if named and named.value:
            args["method"] = named.value
        data = find_data(without_paths(text)) or find_data(text)  # "which runs were trained on digits?": it was
        if data and data.value:  # all of them
            args["dataset"] = data.value
        limit = find_limit(without_period(text))  # "the failed runs from the last 2 days": a span, not 2 runs
        if limit:
            args["limit"] = min(limit, 100)
        args.update(list_filters(text))  # "from last week", "sorted by probe accuracy"
        tag = tag_filter(text, {t for r in world.runs for t in r.tags})
        if tag:
            args["tag"] = tag
        if runs_in_trouble(re.sub(rf"\b{re.escape(tag)}\b", " ", text) if tag else text):  # "is anything broken?" (not
            # "the broken runs" of a tag broken), "the running runs that are failing": how many, then which
            args.update(trouble=True, count=True)
            if args.get("status") == "failed":  # "did any run fail today?": a divergence or a collapse is trouble too
                del args["status"]
        if METHOD_BEST.search(text):  # "which method works best on digits?"
            args.setdefault("sort", "probe")
        verdict = next((v for pattern, v in VERDICT_WORDS if re.search(pattern, low)), None)
        if verdict:
            args["verdict"] = verdict
        sweep = whole_sweep(text, find_runs(text, world, about_runs=True), world)
        if sweep:  # "list the runs of the lrs sweep"
            args["experiment"] = sweep
        where = [*setting_filters(without_result_filters(without_period(text)), args.get("method")),
                 *result_filters(text)][:4]
        if where:  # "which runs used a temperature of 0.2?", "my dino runs with a bottleneck of 128"
            args["where"] = where
        metrics = each_runs_metrics(text)
        if metrics:  # "list my runs with their final loss"
            args["metrics"] = metrics
        if EACH_RUN.search(text) and PROBE_VALUES.search(text) and not (where or metrics):  # "every run's knn
            args.setdefault("sort", "knn" if re.search(r"\bk-?nn\b", text, re.I) else "probe")  # accuracy": best first
        return tool("list_runs", args)
    if intent == "usage_summary":
        return tool("usage_summary", read_usage(text))
    if intent == "import_runs":
        return _import(text, p, intents, cwd)
    if intent == "audit_checkpoints":
        return _audit(text, p, intents, cwd)
    if intent in ("search_run_logs", "search_literature"):
        args = {"query": _search_query(text)[:500]}
        named = find_method(text)
        if named and named.value:  # logs filter on it; the literature ranks passages about it first
            args["method"] = named.value
        focus = world.run(context.get("focus_run"))
        if intent == "search_literature" and focus is not None and not (named and named.value) and A_PRONOUN.search(
                text) and not find_runs(text, world).mentioned:  # "what does the literature say about fixing it?"
            about = " ".join(w for w in (focus.method, (focus.verdict or "").replace("_", " ")) if w)  # after
            args.update(query=f"{args['query']} ({about})"[:500], method=focus.method)  # run 2's diagnosis: its
            # method and verdict are what "it" is
        if intent == "search_run_logs":  # "search run 3's logs for nan": only that run's (or sweep's) logs
            refs = find_runs(QUOTED.sub(" ", text), world, about_runs=True)  # quoted words are only the query
            problem = run_problem(refs, world)
            if problem:
                return problem
            if refs.ids:
                args.update({"run_id": refs.ids[0]} if len(refs.ids) == 1 else {"run_ids": refs.ids[:64]})
            elif focus is not None and ITS_LOGS.search(text):  # "search the logs of it for nan": the run in focus
                args["run_id"] = focus.id
        return tool(intent, args)
    refs = find_runs(text, world, about_runs=True, groups=True)  # "compare my digits runs": each of them
    problem = run_problem(refs, world)
    if problem:
        return problem
    if intent == "rank_runs":
        return _rank(text, refs.ids, context, world, tool)
    asked = asked_of_runs(intent, text, refs.ids)
    if asked:  # "compare runs 1 and 4 at step 100"
        return ask(asked.question, asked.options, intents[:3], p)
    if intent == "compare_runs":
        ids = refs.ids
        by_number = len(find_runs(text, world, about_runs=True).ids) >= 2  # "compare 1 and 2, the one without
        where = [] if by_number else setting_filters(text)  # stop-grad" describes them; "compare all runs with
        # batch size 256" picks them
        over = OVER_LAST_STEPS.search(text)  # "over the last 200 steps": how each moved there too
        window = {"over_last_steps": parse_count(over.group(1))} if over else {}
        if where:
            group = {"run_ids": ids[:COMPARED_AT_MOST]} if len(ids) >= 2 else {}  # "the runs on shapes with ..."
            return tool("compare_runs", {"where": where, **group, **window})
        every = len(ids) < 2 and ALL_RUNS.search(text) and len(world.runs) >= 2
        if every:  # "compare all my runs": each of them
            ids = world.ids()
        if len(ids) == 1 and refs.group == ids:  # "compare all the mae runs" with one mae run
            return _only_one(ids[0], world, "Only one run here fits that")
        focus = context.get("focus_run")
        if len(ids) >= 2 and focus and focus not in ids and world.has(focus) and COMPARED_WITH_IT.search(text) and \
                len(ids) < COMPARED_AT_MOST:  # "compare it with runs 1 and 3": the run in focus too
            ids = [focus, *ids]
        if len(ids) < 2:
            if len(ids) == 1 and focus and focus != ids[0] and world.has(focus):
                ids = [focus, ids[0]]
            else:
                return ask("Which runs should I compare? Name two or more, e.g. `compare 2 and 5`.",
                           _methods_as_runs(text, world) or ([f"compare runs {' and '.join(world.ids()[-2:])}"]
                                                              if len(world.runs) >= 2 else []))
        if len(ids) > COMPARED_AT_MOST:  # "compare my digits runs" with 12 of them: never the first 8 silently
            lead = f"There are {len(ids)} runs here" if every else f"That names {len(ids)} runs"
            return _too_many(lead, "the newest", sorted(ids, key=world.ids().index)[-COMPARED_AT_MOST:], intents[:3], p)
        return tool("compare_runs", {"run_ids": ids, **window})
    extra = _eval_overrides(text) if intent == "run_linear_probe" else {}
    if intent == "run_linear_probe" and PROBE_AGAIN.search(text):  # else the stored probe is read back
        extra["again"] = True
    if intent == "forecast_run" and PROBE_WORDS.search(text):  # the probe of its kept checkpoints, as asked
        extra = {"probe": True}
    if intent == "recommend_next_step":  # "a data change", "not the learning rate"
        extra = recommend_filters(text)
    judged = named_settings(text)
    if intent == "diagnose_run" and judged and (SETTING_JUDGED.search(text) or SETTING_BLAMED.search(text)):
        extra = {"about": judged}  # "is the lr of run 4 too high?", "did the temperature cause run 2's collapse?"
    length = {k: v for k, v in find_numbers(text).items() if k in ("steps", "epochs")}
    if intent == "resume_run" and length and refs.ids:  # a resume goes to the run's planned end, not further
        rid, (unit, n) = refs.ids[0], next(iter(length.items()))
        return ask(f"Resuming run {rid} continues it from its last checkpoint to the length it was launched with, so "
                    f"it cannot add {n} {unit}. I can train it {n} {unit} more from its final weights (a new run, with "
                    f"a fresh schedule), train its config again from the start for {n} {unit}, or resume it as it "
                    "was. Which?", [f"train run {rid} for {n} more {unit}", f"launch a follow-up of run {rid} for {n} "
                                    f"{unit}", f"resume run {rid}"], intents[:3], p)
    if not refs.ids and intent in RUN_TOOLS and ONE_RUN_VERB.match(text) and ALL_RUNS.search(text) and \
            len(world.runs) > 1:  # "diagnose all my runs": each of them
        refs.ids = world.ids()
    if len(refs.ids) > 1 and intent in RUN_TOOLS:  # "diagnose the sweep": one run at a time, asked which
        return _one_at_a_time(intent, text, refs, world, intents, p)
    statuses, verdicts = trouble()
    troubled = [r for r in reversed(world.runs) if r.status in statuses or r.verdict in verdicts]
    if troubled and not refs.mentioned and IN_TROUBLE.search(text) and TROUBLE_RUNS.search(text) and re.search(
            r"\b(?:runs|jobs|experiments|trainings)\b", text, re.I):  # "why are my runs failing?": not the run in focus
        verb = READING[intent].split(" run")[0]  # but one at a time, those in trouble first
        described = "; ".join(f"run {r.id} ({_run_words(r)})" for r in troubled[:3])
        return ask(f"Which run should I {verb}? I read one at a time; the newest in trouble: {described}. Say e.g. "
                   f"`{verb} run {troubled[0].id}`.", [f"{verb} run {r.id}" for r in troubled[:3]], intents[:3], p)
    focus = context.get("focus_run")
    rid = refs.ids[0] if refs.ids else focus if focus and world.has(focus) and not refs.mentioned else None
    if rid and world.has(rid):  # "resume run 4 with a lower lr": what the tool cannot do is asked about
        run = world.run(rid)
        changes = {k: v for k, v in launch_args(text, run.method).items() if k not in ("epochs", "steps", "device")}
        direction = bool(RELATIVE_SETTING.search(text) or MULTIPLE_OF_SETTING.search(text))
        asked = asked_of_one_run(intent, text, run, changes, direction)
        if isinstance(asked, Asked):
            return ask(asked.question, asked.options, intents[:3], p)
        if asked is not None:  # "continue run 4 from its checkpoint with lr 1e-4": from its final weights
            return tool("launch_pretraining", asked)
    if refs.ids:
        return tool(intent, {"run_id": refs.ids[0], **extra})
    if focus and world.has(focus):
        return tool(intent, {"run_id": focus, **extra})
    fixes = [r for r in world.runs if r.fix_of]
    if intent == "diagnose_run" and fixes and THE_FIX.search(text):  # a new thread's "did the fix work?": the
        return tool(intent, {"run_id": fixes[-1].id, **extra})  # newest run launched to try a recommendation
    verb = READING[intent].split(" run")[0]
    if not world.runs:
        return ask(f"There are no runs here yet, so none to {verb}. Launch one first, e.g. `pretrain simclr on "
                    "digits for 20 epochs`.", ["pretrain simclr on digits for 20 epochs"], intents[:3], p)
    latest = list(reversed(world.runs[-3:]))
    described = "; ".join(f"run {r.id} ({_run_words(r)})" for r in latest)
    return ask(f"Which run should I {verb}? The latest: {described}. Say e.g. `{verb} run {latest[0].id}`.",
                [READING[intent].format(run=r.id) for r in latest], intents[:3], p)


def _one_at_a_time(intent: str, text: str, refs, world: World, intents, p: float) -> Reading:
    """A one-run tool asked of several runs ("diagnose the sweep"): which first, each offered, and for a sweep its
    ranking beside them. A cancel ("cancel the sweep", "cancel runs 2 and 3") takes the ones still going at once."""
    verb = READING[intent].split(" run")[0]
    runs = [r for r in world.runs if r.id in refs.ids]
    sweep = whole_sweep(text, refs, world)
    if intent == "cancel_run":  # the ones still going, in one confirmation
        ended = [r for r in runs if r.status not in ("queued", "running")]
        runs = [r for r in runs if r.status in ("queued", "running")]
        if ended and runs and not sweep:  # "cancel runs 1 and 2" with run 1 over: say so, cancel the rest on a yes
            over = "; ".join(f"run {r.id} ({r.status})" for r in ended)
            rest = " and ".join(r.id for r in runs)
            return ask(f"{'These have' if len(ended) > 1 else 'This has'} already ended: {over}. Cancel "
                        f"{'run' if len(runs) == 1 else 'runs'} {rest}?", [f"cancel run{'s' * (len(runs) > 1)} {rest}"],
                        intents[:3], p)
        if not runs:
            return ask(f"None of {'the ' + sweep + ' sweep' if sweep else 'those runs'} is queued or running, so there "
                        "is nothing to cancel.", [f"list the runs of the {sweep} sweep" if sweep else "list my runs"])
        return _cancel_of([r.id for r in runs], p, intents[:3])
    said = [i for i in refs.ids if world.has(i)]
    if intent in READ_ONLY_TOOLS and len(said) <= CHAINED_AT_MOST and not sweep and not SECOND_REQUEST.search(text):
        # "diagnose run 2 and run 1", "diagnose my finished runs": each, in the order said ("diagnose run 2 and
        # compare it with run 1" is two requests); the rest read once the first is back
        return Reading("tool", intent, {"run_id": said[0]}, confidence=p, intents=intents[:3],
                       then=READING[intent].format(run=" and run ".join(said[1:])))
    described = "; ".join(f"run {r.id} ({_run_words(r)})" for r in runs[:6])
    options = [READING[intent].format(run=r.id) for r in runs[:4]]
    also = ""
    if sweep:
        options.append(f"rank the {sweep} sweep")
        also = f" Or I can rank the {sweep} sweep's runs together."
    elif intent != "cancel_run" and len(runs) <= 8:
        options.append("compare runs " + " and ".join(r.id for r in runs))
        also = " Or I can compare them side by side."
    return ask(f"I {verb} one run at a time: which first? {described}.{also}", options, intents[:3], p)


def _cancel_of(ids: list[str], p: float, intents) -> Reading:
    """A cancel of one run, or of several in one confirmation."""
    args = {"run_id": ids[0]} if len(ids) == 1 else {"run_ids": ids[:64]}
    return Reading("tool", "cancel_run", args, confidence=p, intents=intents)


CONFIGS_ASKED = re.compile(r"\b(?:configs?|configurations?|settings|hyper-?param(?:eter)?s)\b", re.I)
"""Their whole configs asked for ("show their configs side by side"): every difference, a row a setting."""


def _compare_listed(listed: list[str], world: World, configs: bool = False) -> Reading:
    """The runs the last list showed, side by side, in its order (with every config difference, `configs`); one run,
    or more than a comparison sets, asked."""
    ids = [i for i in listed if world.has(i)]
    if len(ids) == 1:
        return _only_one(ids[0], world, "The list I showed last has only one run")
    if len(ids) > COMPARED_AT_MOST:
        return _too_many(f"The list I showed last has {len(ids)} runs", "its first", ids[:COMPARED_AT_MOST])
    if not ids:
        return ask("The runs the last list showed are no longer here. Which runs should I compare?", ["list my runs"])
    return Reading("tool", "compare_runs", {"run_ids": ids, **({"show": ["config"]} if configs else {})},
                   confidence=1.0, intents=[("compare_runs", 1.0)])


def _too_many(lead: str, which: str, offered: list[str], intents=None, p: float = 0.0) -> Reading:
    """A comparison of more runs than it sets side by side: asked, offering `offered` (COMPARED_AT_MOST of them)."""
    return ask(f"{lead}, and a comparison sets at most {COMPARED_AT_MOST} side by side. Compare {which} "
               f"{COMPARED_AT_MOST} (runs {', '.join(offered)}), or list them by linear probe?",
               [f"compare runs {' and '.join(offered)}", "list my runs sorted by probe accuracy"], intents, p)


def _only_one(rid: str, world: World, lead: str) -> Reading:
    """A comparison asked of one run: say so, and offer it beside the newest others."""
    run = world.run(rid)
    others = [i for i in reversed(world.ids()) if i != rid][:2]
    return ask(f"{lead}: run {rid} ({_run_words(run)}). A comparison needs two or more runs; compare it with which?",
               [f"compare runs {rid} and {o}" for o in others])


def _run_words(r) -> str:
    """A run as the question back names it: "simclr on digits, succeeded, dimensional collapse"."""
    verdict = r.verdict.replace("_", " ") if r.verdict and r.verdict != r.status else None
    return ", ".join(filter(None, (f"{r.method} on {r.dataset}" if r.method else None, r.status or None, verdict)))


SHOW_RUNS = re.compile(r"^\W*(?:please\s+|can\s+you\s+|could\s+you\s+)?(?:show|display|give)\s+(?:me\s+)?(?:the\s+)?"
                       r"runs?\s*#?\d+(?:\s*(?:,|and|&)\s*(?:run\s*)?#?\d+)+\W*$", re.I)
"""Several runs asked to be shown ("show runs 1 and 2"), nothing else asked of them: their comparison."""
COMPARE_FIRST = re.compile(r"^\W*(?:(?:please|pls|can\s+you|could\s+you|now|ok(?:ay)?|then|so)\W+)*compare\b", re.I)
"""A message that opens with "compare" and names several runs: their comparison, whatever else it says of them."""
RANK_FIRST = re.compile(r"^\W*(?:please\s+|can\s+you\s+|could\s+you\s+)?rank\b", re.I)
"""A message that opens with "rank" ("rank the finished runs"): the runs it names, ranked (it was their list)."""
BEST_OF_GROUP = re.compile(r"^\W*(?:so\s+|and\s+|ok(?:ay)?\W+)?which\s+(?:one\s+)?of\s+(?:the|my|our|these|those)\s+[\w -]{0,40}?"
                           r"runs\s+(?:is|was|did|does|looks?|performed|works?|came\s+out)\s+(?:the\s+)?(?:best|better|"
                           r"strongest|stronger|top)\b", re.I)
"""Which of a group of runs is best ("which of my finished runs is better?"): their ranking, not their list."""
RANKED_AGAINST = re.compile(r"\b(?:rank|ranks|ranked|ranking|stacks?|measures?|compares?)\s+(?:up\s+)?(?:against|with|among|"
                            r"next\s+to|to)\b", re.I)
"""A run set beside others ("how does run 1 rank against the others?", "how does it stack up against my other runs?")."""
GOING_ON = re.compile(r"^\W*(?:(?:so|and|ok(?:ay)?|hey|hmm+)\W+)*what(?:'s|s|\s+is)\s+(?:going\s+on|up)\s+with\b", re.I)
"""What is the matter with a run ("what's going on with the byol run"): its diagnosis, as "what's happening with" is
(it was asked back: show or diagnose)."""
WHEN_IT_FAILED = re.compile(r"\b(?:when|(?:which|what)\s+step|at\s+what\s+(?:step|point|epoch)|how\s+(?:early|soon|"
                            r"late))\b.*\b(?:diverg\w*|collaps\w*|blow\s+up|blew\s+up|blown\s+up|explod\w*|(?:go|went|"
                            r"turn\w*)\s+nan|fail\w*|break|broke)\b", re.I | re.S)
"""When a run failed ("when did run 4 diverge?", "which step did it blow up at?"): the diagnosis, which names it."""
CHANGE_EXPLAINED = re.compile(r"^(?!.*\b(?:did|was|were|went|worked|has|have)\b).*\b(?:what|why|how|explain)\b.*\b"
                              r"(?:that|this|the|your)\s+(?:change|fix|recommendation|suggestion)\b|^\W*(?:(?:ok(?:ay)?|hmm+|"
                              r"but|and|so)\W+)*(?:why(?:\s+(?:that|this|so|is\s+that|would\s+that\s+help))?|how\s+come|"
                              r"explain(?:\s+(?:that|why))?|what\s+for)\W*$", re.I | re.S)
"""The last recommendation's change asked about ("why that change?", "what does the fix do?", "why?"), not its outcome
("did the fix work?")."""
THE_FIX = re.compile(r"\b(?:the|that|this|your|my)\s+(?:fix|change|follow-?up|relaunch|new\s+run|retry)\b|"
                     r"\bfix(?:ed)?\s+(?:it|the\s+(?:collapse|problem|issue|run))\b", re.I)
OTHER_THAN_LIST = re.compile(r"\b(compare|rank|diagnose|probe|judge|forecast|best|worst|cancel|resume|launch|pretrain|"
                             r"train|schedule|sweep)\b", re.I)
"""Words of another tool: "compare the runs tagged baseline" is not a plain list."""
AGAINST_RANDOM_INIT = re.compile(r"\b(?:random(?:ly)?[ -]?init\w*|random\s+weights|untrained(?:\s+\w+)?|an?\s+random"
                                 r"\s+(?:encoder|network|model|backbone))\b", re.I)
"""A run held against its random init ("is run 2's encoder better than random init?", "how does run 3 compare to an
untrained network?"): the quality verdict, which reads the probe's gain over the random init with its error."""
WHICH_RUNS = re.compile(r"^\W*(?:which|what)\s+(?:of\s+(?:my|the)\s+)?runs\s+(?:used|use|were|are|ran|trained|did|have|"
                        r"had)\b|^\W*(?:list|show)\s+(?:me\s+)?(?:all\s+)?(?:the\s+|my\s+)?runs\s+(?:that\s+)?(?:used|using|"
                        r"with|of)\b", re.I)
"""Runs asked for by what they used ("which runs used byol?", "list the runs that used simclr"): a list."""
RUNS_ASKED_FOR = re.compile(r"^\W*(?:which|what|list|show|give|find|are\s+there\s+any|any)\b[\w' ]{0,40}?\bruns?\b", re.I)
"""Runs asked for as a list ("which of my dino runs...", "show me every run whose..."): with a setting's value or
bar (setting_words.setting_filters) it is a list picked by that setting."""
LIST_START = re.compile(r"^\W*(?:which|what|list|show|give|find|are\s+(?:there\s+)?any|(?:has|have|did|were|was)\s+any|any)\b",
                        re.I)
SORT_START = re.compile(r"^\W*(?:(?:please|pls|can\s+you|could\s+you)\s+)?(?:sort|order|arrange)\b", re.I)
RANK_START = re.compile(r"^\W*(?:(?:please|pls|can\s+you|could\s+you)\s+)?rank\b", re.I)
YOUR_RUNS = re.compile(r"\bruns?\b|\b(?:i|we)(?:'ve|\s+have)?\s+(?:ever\s+)?(?:used|tried|trained\s+with|set)\b", re.I)
"""The user's runs, said as runs or as what they used ("the largest batch size I've used")."""
EXTREME_ADVICE = re.compile(r"\b(?:largest|biggest|highest|greatest|max(?:imum)?|smallest|lowest|least|min(?:imum)?)\b",
                            re.I)
"""A setting's bound asked as advice ("which is the largest batch size a run should use?", with MODAL's words): the
literature's, not the user's runs by it."""
MODAL = re.compile(r"\b(?:should|could|would|can|may|might|safe|possible|recommend\w*|advis\w*)\b", re.I)
"""What a setting could or should be ("what's the highest lr a run can take?"): advice, not a list of runs."""
NOT_A_LIST = re.compile(r"\b(?:why|how|because|logs?|literature|papers?|search|where|when|similar(?:ly)?)\b|\blike\s+"
                        r"(?:this|that|it|this\s+one|that\s+one)\b", re.I)
"""Runs asked for by their verdict ("which runs collapsed?", "show the healthy runs"): a list, unless the words ask
why, how, for log lines or papers (a diagnosis, a search), or for runs like this one (a search of the logs)."""
SETTING_JUDGED = re.compile(r"^\W*(?:is|was|are|were|isn'?t|wasn'?t)\b.{0,60}\b(?:too\s+(?:high|low|big|small|large|"
                            r"strong|weak|much|little|aggressive|hot|cold)|(?:high|low|big|large|small)\s+enough|"
                            r"(?:set\s+)?(?:right|wrong|ok(?:ay)?|fine|sensible|reasonable))\b", re.I)
"""A setting of a run judged ("is the lr of run 4 too high?", "was run 2's temperature ok?"): its diagnosis, which
says whether its metrics point at that setting; the length ("is run 3 long enough?") is a forecast's."""
SETTING_BLAMED = re.compile(r"\b(?:caus(?:e|ed|es|ing)|to\s+blame|blame|responsible|the\s+(?:reason|culprit)|behind\s+(?:it|"
                            r"this|that|the)|because\s+of|due\s+to)\b", re.I)
"""A setting asked about as the cause ("tell me if the temperature of 0.5 caused it", "was the lr to blame?"): the
diagnosis leads with it, as for a setting judged."""
CHANGE_WOULD_HELP = re.compile(r"^\W*(?:would|will|could|can|might|does|do)\b.{0,60}\b(?:help|improve|fix|pay\s+off|"
                               r"make\s+(?:it|a\s+difference)|be\s+better|work\s+better)\b", re.I)
"""A change to a setting asked about ("would a bigger batch help run 3?"): the recommendation, not a forecast."""
LENGTH_KEYS = {"train.steps", "train.epochs", "train.max_minutes"}
THE_RUN_IN_FOCUS = re.compile(r"^\W*(?:it|this|that|this one|that one|this run|that run|the run|)\W*$", re.I)
UNSUPPORTED_AS_TAG = {"star": "starred", "unstar": "starred", "pin": "pinned", "unpin": "pinned", "archive": "archived",
                      "bookmark": "bookmarked", "favourite": "favourite", "favorite": "favourite"}


def _annotate(words: AnnotationWords, context: dict, world: World) -> Reading:
    """A rename, tag or note of one run: the run resolved from the words that name it (or the run in focus for
    "it"), the value checked; anything unclear is asked about."""
    if words.missing == "change":
        return ask("What should I change? e.g. `rename run 2 to baseline`, `tag run 2 as best`, `untag best from "
                    "run 2` or `add a note to run 2: lr too high`.", [])
    refs = find_runs(words.runs, world, about_runs=True, groups=True)  # "tag every digits run as x"
    problem = run_problem(refs, world)
    if problem:
        return problem
    ids = refs.ids
    focus = context.get("focus_run")
    if not ids and THE_RUN_IN_FOCUS.match(words.runs) and focus and world.has(focus):
        ids = [focus]
    if not ids and THEM_LISTED.match(words.runs.strip()):  # "tag both as keep" after a comparison: the runs shown
        ids = [i for i in context.get("last_listed") or [] if world.has(i)]
    if not ids:
        latest = world.ids()[-1] if world.runs else "1"
        return ask(f"Which run? Say e.g. `{_annotation_message(latest, words) or f'tag run {latest} as best'}`.",
                    [m for r in world.ids()[-3:] if (m := _annotation_message(r, words))])
    if words.unsupported:
        tag = UNSUPPORTED_AS_TAG.get(words.unsupported, words.unsupported)
        return ask(f"Runs have no {words.unsupported} here; a tag does the same and finds them again: "
                    f"`tag run {ids[0]} as {tag}`, then `list runs tagged {tag}`.", [f"tag run {ids[0]} as {tag}"])
    if len(ids) > 1 and (words.change.get("name") or words.missing):  # a name is one run's
        return ask(f"I change one run at a time: which first, run {' or run '.join(ids[:4])}?",
                    [m for r in ids[:4] if (m := _annotation_message(r, words))])
    rid = ids[0]
    if words.missing == "name":
        return ask(f"What should run {rid} be called? e.g. `rename run {rid} to baseline`.", [])
    if words.missing == "note":
        return ask(f"What should the note on run {rid} say? e.g. `add a note to run {rid}: lr too high`.", [])
    try:
        for key in ("add_tags", "remove_tags"):
            words.change[key] = [clean_tag(t) for t in words.change.get(key, [])] or None
    except SSLPilotError as exc:
        spaced = next((t for t in words.change.get("add_tags") or [] if " " in t.strip()), None)
        if spaced:  # "label run 3 as 'long run'": a tag is one word
            joined = "-".join(spaced.split()).lower()
            return ask(f"A tag is one word: tag run {rid} as `{joined}`, or name it '{spaced}'?",
                       [f"tag run {rid} as {joined}", f"rename run {rid} to '{spaced}'"])
        return ask(f"{exc}", [])
    runs = {"run_id": rid} if len(ids) == 1 else {"run_ids": ids[:64]}  # "tag runs 1 and 5 as keep": each of them
    args = {**runs, **{k: v for k, v in words.change.items() if v}}
    return Reading("tool", "annotate_run", args, confidence=1.0, intents=[("annotate_run", 1.0)])


def _annotation_message(rid: str, words: AnnotationWords) -> str | None:
    """The change as a message about one run, to offer back."""
    c = words.change
    if c.get("name"):
        return f"rename run {rid} to {c['name']}"
    if c.get("add_tags"):
        return f"tag run {rid} as {' and '.join(c['add_tags'])}"
    if c.get("remove_tags"):
        return f"untag {' and '.join(c['remove_tags'])} from run {rid}"
    if c.get("note"):
        return f"add a note to run {rid}: {c['note']}"
    return None


RUN_OR_SWEEP = r"(?:run\s*#?\d+|#\d+|(?:the|my|this|that)\s+(?:[\w.-]+\s+)?(?:sweep|run|experiment)|experiment\s+[\w.-]+|[\w.-]+)"
PREVENTION_ASKED = re.compile(r"\b(?:what|which\s+(?:change|setting))\s+(?:would|could|might)\s+have\s+(?:prevented|avoided|"
                              r"stopped|saved|fixed)\b|\bhow\s+(?:do|can|could|would|should)\s+(?:i|we)\s+(?:have\s+)?"
                              r"(?:prevent(?:ed)?|avoid(?:ed)?)\b", re.I)
"""How a failure could have been avoided ("what would have prevented it?"): the run's recommended change."""
RETRY_WORTH = re.compile(r"^\W*(?:(?:so|and|but|ok(?:ay)?)\W+)*(?:is|would)\s+(?:it|this|that|run\s*#?\d+)\s+(?:be\s+)?worth\s+"
                         r"(?:a\s+)?(?:retry(?:ing)?|re-?running|re-?launching|re-?trying|another\s+(?:try|go|shot|run)|"
                         r"trying\s+again|running\s+again|fixing)\b", re.I)
"""Whether a run is worth another go ("is it worth retrying?"): its recommended change, and whether one stands out
(the diagnosis again said what went wrong, not what to do)."""
QUALITY_ASKED = re.compile(rf"^\W*(?:so\W+|and\W+|but\W+)*(?:is|was)\s+{ONE_RUN_SAID}\s+(?:(?:any\s+)?good|good\s+enough|"
                           r"usable|worth\s+(?:keeping|using|anything)|a\s+good\s+(?:encoder|score|result|number|"
                           r"accuracy)|(?:a\s+)?keeper)(?:\s+for\s+(?:the\s+|my\s+)?[\w./-]+)?(?:\s+(?:at\s+all|then|"
                           r"now))?\W*$"
                           rf"|^\W*(?:so\W+|and\W+|but\W+)*(?:(?:run\s*#?\d+|#\d+)\s*[-:,–—]+\s*)?how\s+good\s+"
                           rf"(?:is|was)\s+{ONE_RUN_SAID}(?:\s+(?:really|then|now|at\s+all))?\W*$"
                           rf"|^\W*(?:(?:please|pls|now|then|also|and|can\s+you|could\s+you)\W+)*(?:judge|rate|assess|"
                           rf"grade)\s+{ONE_RUN_SAID}(?:'s\s+quality)?(?:\s+(?:too|please|for\s+me|without\s+(?:using\s+)?"
                           r"(?:any\s+)?labels))*\W*$"
                           rf"|^\W*(?:(?:so|and|but|ok(?:ay)?)\W+)*how\s+(?:does|did|would|will)\s+{ONE_RUN_SAID}\s+(?:do|look|"
                           r"fare|score)\s+without\s+(?:using\s+)?(?:any\s+)?labels\W*$", re.I)
"""An encoder's worth asked of one run ("is run 2 worth keeping?", "is it usable?", "is that good for digits?" after
its probe, "how good is run 1?", "run #1 - how good is it?", "judge it"): its quality judged."""
CONFIDENCE_ASKED = re.compile(r"^\W*(?:(?:and|so|but|ok(?:ay)?|hmm+)\W+)*(?:how\s+(?:confident|sure|certain)\s+(?:are\s+you|"
                              r"is\s+(?:that|it|this|the\s+diagnosis)|can\s+you\s+be)(?:\s+about\s+(?:that|it|this|"
                              r"run\s*#?\d+))?|are\s+you\s+(?:sure|certain|confident)(?:\s+about\s+(?:that|it|this|"
                              r"run\s*#?\d+))?|why\s+(?:do|would)\s+you\s+(?:say|think)\s+(?:that|so)|what\s+makes\s+you\s+"
                              r"(?:say|think)\s+(?:that|so)|how\s+do\s+you\s+know(?:\s+that)?|what(?:'?s|\s+is)\s+(?:the|your)\s+"
                              r"evidence(?:\s+for\s+(?:that|it|this))?|on\s+what\s+basis)\W*$", re.I)
"""How sure a verdict is, and why ("how confident are you?", "are you sure about that?", "why do you say that?"):
the run's diagnosis, which gives its confidence and the evidence it rests on."""
_THE_RUN = r"(?:it|this\s+run|that\s+run|run\s*#?\d+)"
END_ASKED = re.compile(rf"\bwill\s+{_THE_RUN}\s+(?:be|end\s+up|get|turn\s+out)\s+(?:any\s+)?(?:good|better|ok(?:ay)?|fine|"
                       rf"usable|worth\s+(?:it|keeping))\b|\bwhere\s+will\s+{_THE_RUN}\s+end\s+up\b|\bhow\s+good\s+will\s+"
                       rf"{_THE_RUN}\s+(?:get|be)\b", re.I)
"""Where a run's quality is going ("if it goes on like this, will it be good?", "where will run 3 end up?"): its
forecast, not a diagnosis of where it is now."""
LET_ME_KNOW = re.compile(r"^\W*(?:(?:ok(?:ay)?|so|and|please|pls|great|thanks|cool)\W+)*(?:(?:let\s+me\s+know|notify\s+me|"
                         r"alert\s+me|ping\s+me|warn\s+me)\s+(?:if|when|once|as\s+soon\s+as)|tell\s+me\s+(?:when|once|"
                         r"as\s+soon\s+as))\s+(?:it|run\s*#?\d+|this(?:\s+run)?|that(?:\s+run)?|anything|something)\b", re.I)
"""A wish to hear of a run later ("ok let me know if it collapses"): what watches it, said plainly, since the chat
cannot message anyone; the early stop offered."""
TRAIN_RUN_FOR = re.compile(r"^\W*(?:(?:ok(?:ay)?|now|then|so|and|please)\W+)*(?:re-?)?train\s+(?:run\s*#?\d+|#\d+)\s+(?:again\s+)?"
                           r"for\s+\d[\d,]*\s+(?:steps?|epochs?|iterations?)\W*$", re.I)
"""A run's recipe again at a length ("train run 1 for 50 steps"); "for 50 more steps" continues it instead."""
QUEUE_ASKED = re.compile(r"\b(?:status|state)\s+of\s+(?:the|my|our)\s+(?:job\s+)?queue\b|\b(?:what'?s|what\s+is|anything)\s+"
                         r"(?:in|on)\s+(?:the|my|our)\s+queue\b|\bqueue\s+status\b", re.I)
"""The queue asked about as a whole ("what's the status of the queue?", "what's in the queue?"): the runs listed."""
ITS_LOGS = re.compile(r"\bits\s+(?:run\s+)?logs?\b|\blogs?\s+(?:of|from|in|for)\s+(?:it|this(?:\s+(?:one|run))?|"
                      r"that(?:\s+(?:one|run))?)\b", re.I)
"""The logs of the run in focus ("search its logs for nan", "search the logs of it for nan")."""
LITERATURE_ASKED = re.compile(r"\b(?:literature|papers?|publications?|research)\s+(?:say|says|said|suggest|suggests|"
                              r"recommend|recommends|report|reports)\b|\baccording\s+to\s+(?:the\s+)?(?:literature|"
                              r"papers?|research)\b|\b(?:cite|citations?|sources?|references?)\b(?:\s+\w+){0,3}?\s+(?:for|of|"
                              r"on|behind|backing)\s+(?:that|this|it)\b|^\W*(?:sources?|citations?|references?)\W*$", re.I)
"""What the papers say, asked in so many words ("cite a source for that", "source?"): the literature, whatever run
is in focus."""
SEARCH_REQUEST = re.compile(r"^\W*(?:(?:please|pls|can\s+you|could\s+you)\s+)?(?P<verb>search|grep|look|check)\s+"
                            r"(?:through\s+|in\s+|into\s+|at\s+)?(?P<owner>(?:my|the|our|all|its)\s+|"
                            rf"{RUN_OR_SWEEP}'s?\s+)?(?:run\s+)?(?P<where>logs?|literature|papers?|docs?|documents?|"
                            rf"knowledge(?:\s+base)?)(?P<of>\s+(?:of|from|in)\s+{RUN_OR_SWEEP})?\s+"
                            r"(?:for|about|on|mentioning|that\s+mention)\s+", re.I)
"""A search asked for in so many words ("search my logs for nan", "grep run 3's logs for warnings", "search the logs
of the lrs sweep for nan"): the verb and the store decide the tool, a run or sweep named before the query filters it."""


def _search_query(text: str) -> str:
    """What to search for: the message without its request ("search my logs for nan" searches for "nan"; the request's
    words matched every run's log, so a word no log holds still brought them all back as if they matched)."""
    rest = SEARCH_REQUEST.sub("", text.strip(), count=1).strip()
    if rest != text.strip():  # 'search my run logs for "nan loss"': the words inside the quotes
        rest = rest.strip("\"'“”").strip()
    return rest or text.strip()


PROBE_WORDS = re.compile(r"\b(linear[- ]?)?probe\b|\b(probe|label(l)?ed|classification) accuracy\b", re.I)


def _which_won(text: str, context: dict, world: World) -> Reading | None:
    """The comparison or ranking just shown, again, for a short question about its winner (WHICH_WON): its answer
    says which run leads where the probe or the verdicts settle it, and why not where they do not; the runs side by
    side for the probe's word on it (BY_THE_PROBE) or whether a change between them helped (CHANGE_HELPED). Read
    alone, such a question was not understood."""
    ranked = context.get("last_ranking") or {}
    ids = [str(i) for i in ranked.get("run_ids") or []]
    helped = CHANGE_HELPED.match(text)  # "did the higher temperature help?" after a comparison: that comparison
    side_by_side = bool(BY_THE_PROBE.match(text) or helped and ranked.get("compared") and _a_change(helped))
    if len(ids) < 2 or not (WHICH_WON.match(text) or side_by_side) or context.get("last_listed") not in (None, ids) \
            or find_runs(text, world).ids:
        return None
    tool = "compare_runs" if ranked.get("compared") or side_by_side else "rank_runs"
    return Reading("tool", tool, {"run_ids": ids}, confidence=1.0, intents=[(tool, 1.0)])


def _a_change(helped: re.Match) -> bool:
    """Whether CHANGE_HELPED asks about a change: worth switching, a setting ("the higher temperature"), a method,
    "it", or something named a change ("the method change", "the switch")."""
    what = (helped.group("what") or "").lower()
    return bool(helped.group("worth") or named_settings(what) or find_method(what) or what in ("it", "that", "this")
                or re.search(r"\b(?:change|switch|swap|method|recipe|settings?|tweak|fix)$", what))


def _rank_for_best(text: str, context: dict, world: World) -> Reading | None:
    """For a request done to "the best run" (or the worst) when nothing in the thread has ranked runs and none is
    named: the ranking of the runs it could be, with the message read again once it is back (its leader then named;
    a comparison in its place where no label-free signal orders them). None where that does not apply, or where the
    runs cannot be ranked together (the usual reading asks)."""
    if not DONE_TO_BEST.match(text) or not (BEST_REF.search(text) or WORST_REF.search(text)) or ASKS_WHICH.search(
            text) or context.get("last_ranking") or context.get("pending_launch") or find_runs(text, world).ids:
        return None
    first = _rank(text, [], {**context, "focus_run": None}, world,
                  lambda name, args: Reading("tool", name, args, confidence=1.0, intents=[(name, 1.0)]))
    if first.kind != "tool":
        return None
    first.then = text
    return first


def _rank(text: str, ids: list[str], context: dict, world: World, tool: Callable[[str, dict], Reading]) -> Reading:
    """The runs to rank: those named; else every run of the method named, or of the focus run's method and data
    (unless every run is asked for), or all runs. Label-free signals compare runs on one dataset, of one method or of the methods calibrated together
    (catalogue.ranked_together), so any other group is asked about."""
    if len(ids) < 2:
        named = find_method(text)
        focus = world.run(context.get("focus_run"))
        if named and named.value:
            group = [r for r in world.runs if r.method == named.value]
        elif focus is not None and not EVERY_RUN.search(text):  # "rank all my runs": every run, not the focus's kind
            group = [r for r in world.runs if (r.method, r.dataset) == (focus.method, focus.dataset)]
        else:
            group = list(world.runs)
        group = [r for r in group if r.status != "failed"]  # a crash is no contender (a queued run may be resuming)
        kinds = {(r.method, r.dataset) for r in group}
        methods = {m for m, _ in kinds}
        if len({d for _, d in kinds}) != 1 or not ranked_together(methods) or len(group) < 2:
            examples = sorted(methods)[:3] or ["simclr"]
            return ask("Which runs should I rank? Without labels I compare runs on one dataset, of one method or "
                        f"of {RANKED_ACROSS_TITLES} together: name two or more, or say e.g. `which {examples[0]} run is best`.",
                        [f"which {m} run is best" for m in examples])
        ids = [r.id for r in group]
    return tool("rank_runs", {"run_ids": ids[:64], **_asked_about(text, world)})


def _asked_about(text: str, world: World) -> dict:
    """The settings a ranking was asked about ("which temperature was best?"; a sweep's name, "lrs", is none)."""
    keys = named_settings(unname_sweeps(text, world))
    return {"about": keys[:8]} if keys else {}


def _eval_overrides(text: str) -> dict:
    """Evaluation settings for a probe re-run without retraining (setting_words.find_eval_settings), and where it runs ("on
    gpu 2", "on the cpu")."""
    found = find_eval_settings(text)
    device = find_numbers(text).get("device")
    return {**({"eval_overrides": found} if found else {}), **({"device": device} if device else {})}


def _missing_path(raw: str, cwd) -> Reading:
    return ask(f"I cannot find `{raw}` on this machine. Check the path (relative paths start from {cwd.base}).")


def _import(text: str, p: float, intents, cwd) -> Reading:
    paths = [raw for _, raw in find_paths(text)]
    if not paths:
        return ask("Where are the run's logs? Give the folder or file, e.g. `import /runs/solo/version_0` "
                    "(TensorBoard events, an mlruns folder, a metrics.csv or a W&B offline run).")
    if not cwd.exists(paths[0]):
        return _missing_path(paths[0], cwd)
    args: dict = {"path": paths[0]}
    fmt = find_import_format(text)
    if fmt:
        args["format"] = fmt
    dim = find_embedding_dim(text)
    if dim:
        args["embedding_dim"] = dim
    return _with_method("import_runs", args, text, p, intents)


def _audit(text: str, p: float, intents, cwd) -> Reading:
    """Checkpoints are the paths before the images; the images are the path after on/against/using (or a
    built-in set). Every path must exist: a missing one is asked about, never skipped."""
    found = find_paths(text)
    data = next((raw for word, raw in reversed(found) if word in DATA_WORDS), None)
    builtin = next((d for d in BUILTIN_DATA if re.search(rf"\b{d}\b", text.lower())), None)
    checkpoints = [raw for _, raw in found if raw != data]
    if data is None and builtin:
        data = builtin
    if not checkpoints:
        return ask("Which checkpoints should I audit? Give their paths, e.g. `audit ./ckpts/last.ckpt on "
                    "./val_images`.")
    if data is None:
        if len(checkpoints) >= 2 and cwd.exists(checkpoints[-1]) and not re.search(
                r"\.(ckpt|pth?|safetensors)$", checkpoints[-1]):
            data = checkpoints.pop()
        else:
            return ask("On which held-out images? e.g. `audit " + " ".join(checkpoints[:2]) + " on ./val_images` "
                        "(class subfolders give kNN and a linear probe).")
    for raw in [*checkpoints, *([] if data in BUILTIN_DATA else [data])]:
        if not cwd.exists(raw):
            return _missing_path(raw, cwd)
    return _with_method("audit_checkpoints", {"checkpoints": checkpoints, "data": data}, text, p, intents)


def _with_method(tool: str, args: dict, text: str, p: float, intents) -> Reading:
    """The tool reading, with the SSL method when the message names one (an unknown one is asked about). A folder
    name is not the user's word: "import ./vicreg_logs, it's byol" is byol."""
    method, problem = method_problem(without_paths(text))
    if problem:
        return problem
    return Reading("tool", tool, {**args, **({"method": method} if method else {})}, confidence=p,
                   intents=intents[:3])


