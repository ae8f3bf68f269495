"""The built-in offline planner, as a LangChain chat model: no LLM needed, same graph as a real one.

On a user message it reads the intent (agent/understand.py: a classifier over sentence embeddings, slots
resolved against the home's runs) and emits one tool call, or asks when it cannot tell; once tool results
are back it writes the answer from them (agent/answers.py). It only ever reads the user's own words to
decide on a tool call, so text inside search results cannot make it call anything.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from agent.again_words import (
    again_for_run,
    another_setting,
    described_as_id,
    probe_forecast,
    relaunch_of_focus,
    value_said_again,
    why_of_verdict,
)
from agent.annotating import another_run_annotated, instead_of_last, last_tags_off
from agent.answers import (
    HELP,
    REFUSAL,
    as_markdown,
    catalogue_text,
    diagnosis_text,
    probe_order_text,
    recommendation_text,
    side_by_side_text,
    tool_result_text,
)
from agent.fidelity import GO_AHEAD, GO_AHEAD_WITHOUT, LAUNCH_TOOLS
from agent.launch_words import asked_setting
from agent.ranked_words import BY_THE_PROBE
from agent.reading import CHAINED_AT_MOST, CONFIDENT, Reading
from agent.reply_words import TAKEN_UP, YES_ALONE
from agent.run_list_words import edited_comparison, narrowed
from agent.run_refs import RunInfo, World, find_runs
from agent.trash_words import undo_of_delete
from agent.two_requests import TwoRequests, carries, split_requests
from agent.understand import understand
from ssl_runtime.catalogue import BUILTIN_DATASETS, METHODS
from tools.ranking import NOT_RANKED_TOGETHER
from tools.tool_table import COMPARED_AT_MOST, CONFIRM_TOOLS

CONTEXT_KEY = "sslpilot_context"
SHORT_REPLY = 4  # words: a reply this short to a question completes the question's message
ONLY_A_RUN = re.compile(r"^\W*(?:(?:for|of|on|about|with|to|just|only|ok|okay|um|uh)\s+)*(?:(?:the|my|that|this)\s+)?"
                        r"(?:(?:run|#)\s*#?\d+|\d+|[\w.-]+(?:\s+(?:one|run))?)(?:\s+please)?\W*$", re.I)
"""A reply that only names a run ("for run 2", "the simclr one"): to "which run should I probe?" it is the probe's
run, though alone it reads as "show it"."""


def context_from(messages: list[BaseMessage]) -> dict:
    for m in messages:
        if isinstance(m, SystemMessage) and CONTEXT_KEY in m.additional_kwargs:
            return dict(m.additional_kwargs[CONTEXT_KEY])
    return {}


def world_of(home) -> World:
    """The home's runs, oldest first, as the chat refers to them."""
    if home is None:
        return World()
    from tools.backends import configured
    from tools.registry import Registry

    reg = Registry(home)
    rows, sweeps = reg.list(limit=2000), reg.experiment_names()
    return World([RunInfo(r.id, r.method, r.dataset, r.status, r.verdict, r.name, r.ended_at,
                          sweeps.get(r.experiment_id), r.parent_id if r.recommendation_json else None, r.device,
                          tuple(json.loads(r.tags_json or "[]")))
                  for r in reversed(rows)],
                 backends={name: spec.get("kind", "?") for name, spec in sorted(configured(home).items())})


def clarification_text(reading: Reading) -> str:
    lines = [reading.question]
    if reading.options:
        lines += ["", "You can say: " + "; ".join(f"`{o}`" for o in reading.options)]
    return "\n".join(lines)


class OfflinePlanner(BaseChatModel):
    """Rules and a small classifier, not a language model; answers are written from tool results."""

    home: Any = None

    @property
    def _llm_type(self) -> str:
        return "sslpilot-offline-planner"

    def bind_tools(self, tools: Any, **kwargs: Any) -> OfflinePlanner:
        return self

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._respond(messages))])

    def read(self, text: str, context: dict) -> Reading:
        from agent.intent_model import get_model

        cache = str(Path(self.home.root) / "cache") if self.home is not None else None
        return understand(text, context, world_of(self.home), get_model(cache))

    def _respond(self, messages: list[BaseMessage]) -> AIMessage:
        follow = _diagnose_after_import(messages)
        if follow is not None:  # "import my run from /x and tell me whether it collapsed": a second tool call
            return _call("diagnose_run", {"run_id": follow})
        tail: list[ToolMessage] = []
        for m in reversed(messages):
            if isinstance(m, ToolMessage):
                tail.append(m)
            elif isinstance(m, HumanMessage):
                break
        human = last_human(messages)
        if tail:
            results = []
            for tm in reversed(tail):
                try:
                    result = json.loads(tm.content) if isinstance(tm.content, str) else tm.content
                except json.JSONDecodeError:
                    result = {"error": str(tm.content)}
                if isinstance(result, dict) and "untrusted_data" in result:
                    result = result["untrusted_data"]
                results.append((tm.name or "", result if isinstance(result, dict) else {"text": result}))
            then = _planned_second(messages)  # kept on the turn's newest call (below), not read again
            refused = _ranking_refused(messages, results) if not then or then["tool"] is None else None
            if refused:  # "which of my runs is best?" over runs no label-free signal orders together: side by side
                return _call("compare_runs", {"run_ids": refused[:COMPARED_AT_MOST]}, then=then)  # (a second
                # request about "the best one" is then read once the comparison is back)
            if then and then["run_both"] and len(tail) < CHAINED_AT_MOST and "error" not in results[-1][1]:
                if then["tool"] is None:  # "compare runs 1 and 2 and train the better one longer": read now
                    second = self.read(then["text"], context_from(messages))
                    if second.kind != "tool":
                        return AIMessage(content=tool_result_text(*results[-1]) + "\n\n" + clarification_text(second),
                                         additional_kwargs={"clarify": {"question": second.question,
                                                                        "options": second.options,
                                                                        "asked_about": then["text"],
                                                                        "without": second.without}})
                    later = {"tool": None, "args": {}, "text": second.then, "run_both": True} if second.then else None
                    return _call(second.tool, second.args, then=later)  # "relaunch it with the fix": the
                    # recommendation, then the launch read again with it in hand
                return _call(then["tool"], then["args"])  # "... and tell me what to try next": the second
            parts = [tool_result_text(name, result) for name, result in results]
            if [n for n, _ in results[:2]] == ["rank_runs", "compare_runs"] and "error" in results[0][1] and \
                    "error" not in results[1][1]:  # the ranking refused, the comparison shown in its place
                parts[:2] = [as_markdown(side_by_side_text(results[0][1]["error"], results[1][1]))]
            for i, ((name, result), (after, _)) in enumerate(zip(results, results[1:], strict=False)):
                if "error" in result:
                    continue
                if (name, after) == ("recommend_next_step", "launch_pretraining"):  # "fix run 2 for me": the
                    parts[i] = as_markdown(recommendation_text(result, launch_with="it is proposed below"))  # follow-up
                    # is proposed below, not "say launch it"
                if (name, after) == ("diagnose_run", "recommend_next_step"):  # the change is below, not to ask for
                    parts[i] = as_markdown(diagnosis_text(result, next_step=""))
            order = probe_order_text(results[0][1]) if [n for n, _ in results] == ["compare_runs"] and human is not \
                None and BY_THE_PROBE.match(str(human.content)) and "error" not in results[0][1] else None
            if order:  # "does the probe agree?" after a ranking: said in words before the table
                parts.insert(0, order)
            refused = _refusal_in(messages, retries=True)
            if refused:  # the refusal just given has a fix a yes takes up
                parts.append(f"Say `yes` and I will propose the fix: {refused['fix']}.")
            if then and not then["run_both"]:  # the first waits for a yes; the second may depend on it
                parts.append(f"The rest of your message is next: once this is settled, say `{then['text']}`.")
            return AIMessage(content="\n\n".join(parts))
        if human is None:
            return AIMessage(content=HELP)
        text, context = str(human.content), context_from(messages)
        narrow = narrowed(text, context.get("waiting_action"))
        if narrow:  # "delete runs 1 and 2" ... "just run 1": the waiting action for the runs left, asked again
            return _call(context["waiting_action"]["tool"], narrow)
        clarify = _open_question(messages) or {}
        if clarify.get("without") and GO_AHEAD.search(text):  # "go ahead without it": the call as first read
            call = clarify["without"]
            return _call(call["tool"], call["args"])
        picked = _option_named(text, clarify.get("options") or []) or _option_agreed(text, clarify) or \
            _option_chosen(text, clarify.get("options") or [])
        if picked:  # "which did you mean?" ... "run 1": the option that names run 1, as if it had been said
            text = picked
        elif clarify.get("without") and YES_ALONE.match(text):  # a yes to a question it does not answer: asked
            options = clarify.get("options") or []  # again, the call it was about kept
            lead = "Which one? " if len(options) > 1 else "A yes alone does not settle this. "
            return AIMessage(content=lead + clarification_text(Reading(
                "clarify", question=clarify["question"], options=options)), additional_kwargs={"clarify": clarify})
        if context.get("pending_launch"):  # "what batch size will it use?" ... "make it 128"
            context["asked_setting"] = asked_setting(previous_human(messages), text)
        if not context.get("pending_launch"):  # an answer to a question about a launch, or a fix to a refused one
            launch = clarify.get("without") if (clarify.get("without") or {}).get("tool") in LAUNCH_TOOLS \
                else _refused_launch(messages)
            if launch and launch.get("retry") and (YES_ALONE.match(text) or TAKEN_UP.match(text)):  # the fix taken
                return _call(launch["tool"], launch["retry"])  # up: proposed, for its own yes
            if launch:
                context = {**context, "pending_launch": {k: v for k, v in launch.items() if k != "retry"}}
        previous = _previous_calls(messages)
        described = described_as_id(text, lambda ref: find_runs(ref, world_of(self.home)).ids)  # "and what about
        # the simclr one?": the run it describes, by its id (the home's runs read only for such a message)
        again = again_for_run(described, previous) or \
            edited_comparison(text, previous, COMPARED_AT_MOST)  # "compare runs 1 and 2" ... "and add run 3"
        setting = another_setting(text, previous)
        if setting:  # "what data did run 1 use?" ... "and what batch size?": the same run's batch size
            return _call("get_run", setting)
        probe = probe_forecast(text, previous)
        if probe:  # "forecast run 1" ... "what about with the probe?": the probe at its kept checkpoints
            return _call("forecast_run", probe)
        why = why_of_verdict(text, previous)
        if why:  # "is run 2 any good?" ... "why?": the diagnosis its verdict rests on
            return _call("diagnose_run", {"run_id": why})
        undone = undo_of_delete(text, previous, lambda rid: world_of(self.home).has(rid))  # read only for an undo
        if undone and len(undone) <= 2:  # "delete run 2" ... "yes" ... "undo that": run 2 back from the trash
            then = {"tool": "restore_run", "args": {"run_id": undone[1]}, "text": text, "run_both": True} \
                if len(undone) == 2 else None
            return _call("restore_run", {"run_id": undone[0]}, then=then)
        if undone:
            return AIMessage(content="That moved runs " + ", ".join(undone) + " to the trash; bring each back with "
                             "`restore run N` (e.g. `restore run " + undone[0] + "`).")
        untag = last_tags_off(text, previous)
        if untag:  # "tag run 2 as candidate" ... "remove that tag"
            return _call("annotate_run", untag)
        annotate = another_run_annotated(text, previous)
        if annotate:  # "tag run 1 as baseline" ... "and run 2 as broken"
            return _call("annotate_run", annotate)
        if again:  # "diagnose run 2" ... "what about run 1?": the same for run 1 (both, when it made two)
            then = {"tool": again[1]["tool"], "args": again[1]["args"], "text": text, "run_both": True} \
                if len(again) == 2 else None
            return _call(again[0]["tool"], again[0]["args"], then=then)
        text = relaunch_of_focus(text, context.get("focus_run"), previous, waiting=bool(context.get("pending_launch"))) \
            or text
        if (context.get("waiting_action") or {}).get("tool") == "stop_run_when":  # "stop run 3 after 40 more steps"
            text = value_said_again(previous_human(messages), text) or text  # ... "actually make it 80": proposed again
        context["just_recommended"] = bool(previous) and previous[-1]["tool"] == "recommend_next_step"  # a bare yes
        # now takes it up (understand)
        reading = self.read(text, context)
        two = self._two_requests(text, context, reading) if not reading.then else None  # a message read again
        # once its first call is back ("relaunch it with the fix and tag it retry") is read whole then, tags and all
        if two:  # "diagnose run 2 and tell me what to try next": the first now, the second once it is back
            second = two.second if two.second is None or not two.second.then else None  # a second that needs a
            # call of its own first ("... and then relaunch it with the fix": the recommendation) is read once the
            # first is back, and makes its own calls in turn
            return _call(two.first.tool, two.first.args, then={"tool": second.tool if second else None,
                                                               "args": second.args if second else {},
                                                               "text": two.second_text, "run_both": two.run_both})
        asked = clarify.get("asked_about")
        if asked and len(text.split()) <= SHORT_REPLY:
            unsure = reading.kind != "tool" or reading.confidence < CONFIDENT  # "is it healthy?" ... "4"
            a_run = reading.tool == "get_run" and ONLY_A_RUN.match(text)
            if unsure or a_run or reading.tool in LAUNCH_TOOLS:  # a confident reply read alone may still drop what
                # the question held: "train a model on shapes for 20 steps" ... "dino please" was dino on digits,
                # "probe a run for me" ... "the simclr one" showed run 1
                combined = self.read(f"{asked} {text}", context)
                if combined.kind == "tool" and (unsure or (combined.tool == reading.tool or a_run) and carries(
                        combined, reading)):
                    reading = combined
        if reading.kind == "refuse":
            return AIMessage(content=REFUSAL)
        if reading.kind == "help":  # what sslpilot can do, or what its catalogue holds when that was asked
            return AIMessage(content=catalogue_text(reading.args["about"]) if reading.args.get("about") else HELP)
        if reading.kind == "clarify":
            return AIMessage(content=clarification_text(reading),
                             additional_kwargs={"clarify": {"question": reading.question, "options": reading.options,
                                                            "asked_about": text, "without": reading.without}})
        if reading.tool == "annotate_run":  # "tag run 1 as good" ... "tag it as great instead": not both
            return _call(reading.tool, instead_of_last(reading.args, previous, text))
        then = {"tool": None, "args": {}, "text": reading.then, "run_both": True} if reading.then else None
        return _call(reading.tool, reading.args, then=then)  # "launch the fix" with none yet: the recommendation,
        # then the launch of it read again with the recommendation in hand

    def _two_requests(self, text: str, context: dict, whole: Reading) -> TwoRequests | None:
        """Two requests in the message, when read whole it would keep only one (agent/two_requests.py)."""
        def read(part: str, focus: str | None) -> Reading:
            return self.read(part, {**context, "focus_run": focus} if focus else context)

        return split_requests(text, whole, read, CONFIRM_TOOLS)



def _call(tool: str, args: dict, then: dict | None = None) -> AIMessage:
    """A tool call; `then`, the second request of the message, made (or named) once this call is back."""
    return AIMessage(content="", tool_calls=[{"name": tool, "args": args, "id": f"call_{uuid.uuid4().hex[:12]}",
                                              "type": "tool_call"}], additional_kwargs={"then": then} if then else {})


def _ranking_refused(messages: list[BaseMessage], results: list[tuple[str, dict]]) -> list[str] | None:
    """The runs of this turn's ranking when it was refused because no label-free signal orders them together (they
    mix methods, or one has no encoder to measure): they can still be shown side by side, probe and verdict."""
    if len(results) != 1 or results[0][0] != "rank_runs" or NOT_RANKED_TOGETHER not in str(
            results[0][1].get("error", "")):
        return None
    call = next((c for m in reversed(messages) if isinstance(m, AIMessage) for c in m.tool_calls
                 if c["name"] == "rank_runs"), None)
    ids = [str(i) for i in (call or {}).get("args", {}).get("run_ids") or []]
    return ids if len(ids) >= 2 else None


def _planned_second(messages: list[BaseMessage]) -> dict | None:
    """The request still to make that this turn's newest call carries, if any."""
    for m in reversed(messages):
        if isinstance(m, HumanMessage):
            return None
        if isinstance(m, AIMessage) and m.tool_calls:
            return m.additional_kwargs.get("then")
    return None


ASKS_VERDICT = re.compile(r"\b(collaps\w*|diagnos\w*|healthy|health|broken|wrong|ok|okay|fine|verdict|"
                          r"tell me (whether|if|what))\b", re.I)


def last_human(messages: list[BaseMessage]) -> HumanMessage | None:
    """The user's newest message: the one this turn answers."""
    return next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)


def _diagnose_after_import(messages: list[BaseMessage]) -> str | None:
    """The run to diagnose next, when the last tool imported or audited a run and the message asked for a
    verdict; None otherwise (including when a diagnosis already ran this turn)."""
    if not messages or not isinstance(messages[-1], ToolMessage) or messages[-1].name not in ("import_runs",
                                                                                               "audit_checkpoints"):
        return None
    human = last_human(messages)
    if human is None or not ASKS_VERDICT.search(str(human.content)):
        return None
    try:
        result = json.loads(messages[-1].content) if isinstance(messages[-1].content, str) else messages[-1].content
    except json.JSONDecodeError:
        return None
    if not isinstance(result, dict) or "error" in result:
        return None
    runs = result.get("imported") or [result.get("audit_run") or {}]
    return str(runs[0]["run_id"]) if runs and runs[0].get("run_id") else None


RUN_PICKED = re.compile(r"^\W*(?:(?:ok(?:ay)?|yes|then|use|pick|take|i\s+meant?|the\s+one\s+with)\W+)*(?:run\s*#?\s*)?"
                        r"(\d+)(?:\W+(?:please|then|thanks?))*\W*$", re.I)


def _option_agreed(text: str, clarify: dict) -> str | None:
    """A bare yes to a question that offers one answer besides going ahead without what was asked about ("which
    setting should be 45? `45 steps`"): that answer. (It was the help text, and the launch it was about was lost.)"""
    answers = [o for o in clarify.get("options") or [] if o != GO_AHEAD_WITHOUT]
    return answers[0] if clarify.get("without") and len(answers) == 1 and YES_ALONE.match(text) else None


def _option_chosen(text: str, options: list[str]) -> str | None:
    """The one option of the last question that a short reply picks by the method or dataset it alone names ("ok,
    simclr" to "sslpilot has no swav ... `pretrain simclr on digits for 20 steps`, `pretrain dino on ...`"), or
    None. Read on its own, "ok, simclr" dropped the rest of the request."""
    said = re.findall(r"[a-z0-9_']+", text.lower())
    words = {w for w in said if w in METHODS or w in BUILTIN_DATASETS}
    if len(said) > SHORT_REPLY or set(said) - words - PICKING_WORDS:  # "simclr, 20 steps" says more than a pick
        return None
    picked = [o for o in options if words & set(re.findall(r"[a-z0-9_]+", o.lower()))]
    return picked[0] if len(words) == 1 and len(picked) == 1 else None


PICKING_WORDS = {"ok", "okay", "fine", "sure", "yes", "then", "use", "try", "take", "go", "with", "the", "instead",
                 "please", "let's", "lets", "just", "on", "pick"}
"""Words around a pick among a question's options ("ok use digits then"); any other word is more than a pick."""


def _option_named(text: str, options: list[str]) -> str | None:
    """The one option of the last question that names the run a bare reply names ("run 1", "1", "I meant run 1"),
    or None."""
    m = RUN_PICKED.match(text)
    if not m:
        return None
    named = [o for o in options if re.search(rf"\bruns?\s+{m.group(1)}\b", o)]
    return named[0] if len(named) == 1 else None


def _previous_calls(messages: list[BaseMessage]) -> list[dict]:
    """The tool calls of the turn before this one, in order (a confirmed action's too); at most two, as a turn
    makes (agent/two_requests.py)."""
    said = [i for i, m in enumerate(messages) if isinstance(m, HumanMessage)]
    if len(said) < 2:
        return []
    calls = [{"tool": c["name"], "args": c["args"]} for m in messages[said[-2]:said[-1]] if isinstance(m, AIMessage)
             for c in m.tool_calls]
    return calls if len(calls) <= 2 else []


def previous_human(messages: list[BaseMessage]) -> str | None:
    """The user's message before the one being answered."""
    said = [m for m in messages if isinstance(m, HumanMessage)]
    return str(said[-2].content) if len(said) >= 2 else None


def _open_question(messages: list[BaseMessage]) -> dict | None:
    """The chat's last answer when it was a question: the message it asked about ("asked_about") and, for values it
    could not place, the call as read ("without")."""
    for m in reversed(messages[:-1]):
        if isinstance(m, AIMessage):
            return m.additional_kwargs.get("clarify") or None
    return None


def _refused_launch(messages: list[BaseMessage]) -> dict | None:
    """The launch the previous turn asked for and the tool refused (no GPU 1, a missing folder), so that "ok, use
    the cpu then" is that launch with the fix rather than a request with nothing in it."""
    return _refusal_in(messages[:-1])


def _refusal_in(messages: list[BaseMessage], retries: bool = False) -> dict | None:
    """The launch refused in the last turn of `messages`, with the call its fix would be (`retry`, or None); with
    `retries`, only one whose fix a yes can take up (`retry_of`)."""
    calls: dict[str, dict] = {}
    for m in messages:
        if isinstance(m, AIMessage):
            calls.update({c["id"]: c for c in m.tool_calls})
    for m in reversed(messages):
        if isinstance(m, HumanMessage):
            return None  # only the turn just before
        if isinstance(m, ToolMessage) and m.name in LAUNCH_TOOLS and m.tool_call_id in calls:
            try:
                result = json.loads(m.content) if isinstance(m.content, str) else {}
            except json.JSONDecodeError:
                result = {"error": m.content}
            if isinstance(result, dict) and "error" in result:
                call = calls[m.tool_call_id]
                retry = retry_of(call["args"], result)
                return {"tool": call["name"], "args": call["args"], "retry": retry, "fix": result.get("fix")} \
                    if retry or not retries else None
    return None


def retry_of(args: dict, result: dict) -> dict | None:
    """The refused call as its refusal's fix has it, where the tool gave that fix as changed arguments (`fix_args`) so
    a yes can take it up: "train run 1 for 30 more steps", with no checkpoint kept ... "yes" is a follow-up from
    scratch."""
    change = result.get("fix_args")
    return {**args, **change} if isinstance(change, dict) and change else None
