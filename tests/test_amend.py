"""A change to a launch that waits for its yes ("make it 300 steps", "no, 500 steps", "switch to vicreg") is that
launch, changed, and asked about again: nothing the user said in either message is dropped, and nothing runs
before a yes. A bare number is asked about; other requests still do what they say."""

import json

import pytest
from langchain_core.messages import AIMessage
from test_agent import ScriptedLLM
from understanding_eval import WORLD

from agent.intent_model import get_model
from agent.session import Agent
from agent.understand import understand
from tools.home import Home
from tools.registry import Registry

PENDING = {"tool": "launch_pretraining", "args": {"method": "byol", "data": "shapes", "epochs": 20,
                                                  "overrides": {"train.seed": 3}}}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return get_model(str(tmp_path_factory.mktemp("intent-cache")))


def amend(model, text, tmp_path, pending=PENDING):
    return understand(text, {"pending_launch": pending}, WORLD, model, cwd=tmp_path)


@pytest.mark.parametrize("text, tool, changed, gone", [
    ("make it 300 steps", "launch_pretraining", {"steps": 300}, ["epochs"]),  # a length replaces the other length
    ("no, 500 steps please", "launch_pretraining", {"steps": 500}, ["epochs"]),
    ("switch to vicreg", "launch_pretraining", {"method": "vicreg"}, []),
    ("on digits instead", "launch_pretraining", {"data": "digits"}, []),
    ("and keep 5 checkpoints", "launch_pretraining", {"overrides": {"train.seed": 3, "train.keep_checkpoints": 5}}, []),
    ("also set lr=0.01", "launch_pretraining", {"lr": 0.01}, []),
    ("tomorrow at 9am instead", "schedule_pretraining", {}, []),
    ("no not byol, vicreg", "launch_pretraining", {"method": "vicreg"}, []),  # a sweep of both (held-out set 57g)
    ("vicreg instead of byol", "launch_pretraining", {"method": "vicreg"}, []),
])
def test_a_change_keeps_everything_else(model, tmp_path, text, tool, changed, gone):
    r = amend(model, text, tmp_path)
    assert (r.kind, r.tool) == ("tool", tool), (r.kind, r.question)
    want = {**PENDING["args"], **changed}
    for key in gone:
        want.pop(key)
    assert {k: v for k, v in r.args.items() if k not in ("at", "cron")} == want
    assert tool != "schedule_pretraining" or r.args["at"].endswith("T09:00")


def test_other_requests_are_not_changes(model, tmp_path):
    # a request about a run, a search that mentions settings (read at 0.93 and more), a whole new launch
    assert (amend(model, "show run 1", tmp_path).tool) == "get_run"
    for text in ("search the literature for simclr temperature 0.5",
                 "what does the literature say about byol with ema 0.99"):
        assert amend(model, text, tmp_path).tool == "search_literature", text
    fresh = amend(model, "pretrain dino on digits", tmp_path)
    assert (fresh.tool, fresh.args) == ("launch_pretraining", {"method": "dino", "data": "digits"})
    # no launch pending: the same words are no change to anything
    alone = understand("make it 300 steps", {}, WORLD, model, cwd=tmp_path)
    assert alone.kind != "tool"  # a question or the help (read at 0.37, near the 0.35 bar): never a launch


def test_a_bare_number_is_asked_about_and_the_launch_waits(model, tmp_path):
    r = amend(model, "make that 250", tmp_path)
    assert r.kind == "clarify" and "250" in r.question and "epochs 20" in r.question
    assert r.options == ["250 epochs", "go ahead without it"]
    assert r.without == PENDING
    lr = amend(model, "make it 0.003", tmp_path, {"tool": "launch_pretraining", "args": {"method": "simclr",
                                                                                         "lr": 0.1}})
    assert lr.options == ["learning rate 0.003", "go ahead without it"]


def test_a_yes_to_which_setting_takes_its_one_answer_and_asks_again_among_several(tmp_path, monkeypatch):
    """"Make that 45" / "yes" gave the help text, and the launch the question was about was lost. ("Actually make
    that 45" takes back the one number just given, and is no question: set 50.)"""
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    agent = Agent(Home.resolve(tmp_path / "home"))
    agent.chat("pretrain simclr on digits for 30 steps", "y")
    assert agent.chat("make that 45", "y")["options"] == ["45 steps", "go ahead without it"]
    pending = agent.chat("yes", "y")["pending_confirmation"]  # the changed launch, shown for its own yes
    assert (pending["args"]["method"], pending["args"]["steps"]) == ("simclr", 45)
    agent.chat("no", "y")
    agent.chat("pretrain simclr on digits for 30 steps", "y")
    assert agent.chat("actually make that 50", "y")["pending_confirmation"]["args"]["steps"] == 50
    agent.chat("no", "y")
    agent.chat("pretrain simclr on digits for 30 steps with batch 64", "y")
    agent.chat("make it 48", "y")  # steps or batch size: asked
    out = agent.chat("yes", "y")
    assert out["answer"].startswith("Which one?") and out["options"] == ["48 steps", "batch size 48",
                                                                         "go ahead without it"]
    assert agent.chat("batch size 48", "y")["pending_confirmation"]["args"]["batch_size"] == 48


def test_the_chat_changes_a_pending_launch_and_still_waits_for_yes(tmp_path):
    home = Home.resolve(tmp_path / "home")
    agent = Agent(home)
    first = agent.chat("pretrain byol on shapes for 20 epochs", "t")["pending_confirmation"]
    assert first["args"]["epochs"] == 20
    out = agent.chat("no, 300 steps and seed 7", "t")  # a "no" with a change is the change
    args = out["pending_confirmation"]["args"]
    assert (args["method"], args["data"], args["steps"], args["epochs"], args["overrides"]) == (
        "byol", "shapes", 300, None, {"train.seed": 7})
    out = agent.chat("make that 128", "t")
    assert out["pending_confirmation"] is None and out["options"] == ["128 steps", "go ahead without it"]
    out = agent.chat("batch size 128", "t")  # the answer changes the launch the question was about
    args = out["pending_confirmation"]["args"]
    assert (args["method"], args["steps"], args["batch_size"], args["overrides"]) == ("byol", 300, 128,
                                                                                      {"train.seed": 7})
    assert agent.chat("no", "t")["pending_confirmation"] is None
    assert Registry(home).list() == []  # nothing ran: every step waited for a yes that never came


class RecordingLLM(ScriptedLLM):
    seen: list = []

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(list(messages))
        return super()._generate(messages, stop, run_manager, **kwargs)


def test_an_llm_sees_the_pending_launch_and_may_not_drop_the_change(tmp_path):
    """The model is told which launch was pending; a renewed call that leaves out the change is a question."""
    calls = [AIMessage(content="", tool_calls=[{"name": "launch_pretraining", "args": {"method": "byol",
                                                                                      "data": "shapes"},
                                                "id": f"c{i}", "type": "tool_call"}]) for i in range(2)]
    calls.insert(1, AIMessage(content="Please confirm."))
    llm = RecordingLLM(responses=calls)
    home = Home.resolve(tmp_path / "home")
    agent = Agent(home, model=llm)
    assert agent.chat("pretrain byol on shapes", "l")["pending_confirmation"]["args"]["method"] == "byol"
    out = agent.chat("make it 300 steps", "l")
    assert out["pending_confirmation"] is None and "`steps 300`" in out["answer"]  # the forgetful call was refused
    context = json.loads(llm.seen[-1][0].content.rsplit("Context: ", 1)[1])
    assert context["pending_launch"]["args"]["method"] == "byol"  # the model was shown the launch it may change



def _holds(want: dict, got: dict) -> bool:
    return all(_holds(v, got.get(k) or {}) if isinstance(v, dict) else got.get(k) == v for k, v in want.items())


def test_held_out_changes_to_a_pending_launch(tmp_path):
    """tests/data/amend_heldout.jsonl, written before the change (first reading 24 of 24, before it 9 of 24): each
    pair through the chat, on a home with runs 1 and 2 queued. A bare number may be asked about."""
    from pathlib import Path

    from conftest import tiny_config

    from tools.runs import enqueue

    home = Home.resolve(tmp_path / "home")
    for method in ("simclr", "simsiam"):
        enqueue(home, tiny_config(method))
    agent, right, rows = Agent(home), [], Path(__file__).parent / "data" / "amend_heldout.jsonl"
    for n, row in enumerate(json.loads(line) for line in rows.read_text().splitlines() if line.strip()):
        first = agent.chat(row["first"], f"h{n}")["pending_confirmation"]
        out = agent.chat(row["then"], f"h{n}")
        pending, calls = out["pending_confirmation"], [c for c in out["tool_calls"]]
        if row["expect"] == "pending":
            ok = bool(pending) and pending["tool"] == row.get("tool", "launch_pretraining") and _holds(
                row["args"], pending["args"]) and all(pending["args"].get(k) is None for k in row.get("absent", [])) \
                and all(pending["args"].get(k) == first["args"].get(k) for k in row.get("kept", []))
            ok = ok or (row.get("question_ok", False) and not pending and not calls and bool(out["options"]))
        elif row["expect"] == "nothing":
            ok = not pending and not calls
        else:  # another request: answered, and the launch still waits (since session 44; it used to be dropped)
            ok = pending == first and any(c["name"] == row["tool"] and _holds(row.get("args", {}), c["args"])
                                          for c in calls)
        right.append(ok or (row["first"], row["then"], out["answer"][:80]))
    misses = [r for r in right if r is not True]
    assert len(right) == 24 and len(misses) <= 2, misses


def test_a_fix_to_a_refused_launch_is_that_launch_fixed(tmp_path):
    """The tool refused the launch (no GPU 7 here); "ok, use the cpu then" is the same launch on the CPU, still to
    be confirmed, not a request with nothing in it."""
    agent = Agent(Home.resolve(tmp_path / "home"))
    out = agent.chat("pretrain byol on shapes for 12 epochs on GPU 7", "r")
    assert out["pending_confirmation"] is None and "GPU 7" in out["answer"]
    out = agent.chat("ok, use the cpu then", "r")
    args = out["pending_confirmation"]["args"]
    assert (args["method"], args["data"], args["epochs"], args["device"]) == ("byol", "shapes", 12, "cpu")
    out = agent.chat("list my runs", "r")  # a later turn is its own request, and the launch still waits
    assert out["tool_calls"][0]["name"] == "list_runs" and out["pending_confirmation"]["args"] == args
    assert "Still waiting for your yes or no: the launch of byol on shapes (12 epochs)." in out["answer"]


def test_an_llm_may_go_ahead_without_what_it_could_not_place(tmp_path):
    """With an LLM, "go ahead without it" after the question about an unplaceable number is the model's renewed call,
    which the fidelity check lets through (the newest message states nothing it drops): a pending launch."""
    call = {"name": "launch_pretraining", "args": {"method": "simclr", "data": "digits", "steps": 200},
            "type": "tool_call"}
    llm = ScriptedLLM(responses=[AIMessage(content="", tool_calls=[{**call, "id": "a"}]),
                                 AIMessage(content="", tool_calls=[{**call, "id": "b"}]),
                                 AIMessage(content="Please confirm.")])
    home = Home.resolve(tmp_path / "home")
    agent = Agent(home, model=llm)
    out = agent.chat("pretrain simclr on digits for 200 steps with 8 prefetch batches", "g")
    assert out["pending_confirmation"] is None and "8 prefetch batches" in out["answer"]
    out = agent.chat("go ahead without it", "g")
    assert out["pending_confirmation"]["args"]["steps"] == 200
    assert Registry(home).list() == []


def test_a_method_setting_said_to_a_pending_launch_is_the_pending_method_s(model, tmp_path):
    dino = {"tool": "launch_pretraining", "args": {"method": "dino", "data": "shapes", "steps": 300}}
    r = amend(model, "and make the bottleneck 128", tmp_path, dino)
    assert (r.kind, r.args) == ("tool", {**dino["args"], "overrides": {"method_args.bottleneck_dim": 128}})
    follow_up = {"tool": "launch_pretraining", "args": {"parent_run": "3"}}  # run 3 is DINO
    r = amend(model, "with a 64-d bottleneck", tmp_path, follow_up)
    assert (r.kind, r.args) == ("tool", {"parent_run": "3", "overrides": {"method_args.bottleneck_dim": 64}})
    r = amend(model, "and make the bottleneck 128", tmp_path)  # BYOL has none: asked, the launch kept
    assert r.kind == "clarify" and "128" in r.question and r.without == PENDING


SHOWN = {**PENDING, "shown": {"train.epochs": 20, "train.batch_size": 256, "method_args.temperature": 0.2,
                              "augment.strength": 1.0}}


@pytest.mark.parametrize("text, changed, gone", [
    ("make it twice the batch size", {"batch_size": 512}, []),
    ("half the temperature", {"overrides": {"train.seed": 3, "method_args.temperature": 0.1}}, []),
    ("make it twice as long", {"epochs": 40}, ["steps"]),
    ("triple the epochs and double the batch size", {"epochs": 60, "batch_size": 512}, []),
    ("quadruple the epochs", {"epochs": 80}, []),  # held-out set 60j: "quadruple" was no multiple
    ("a quarter of the batch size", {"batch_size": 64}, []),
    ("double the steps", {"epochs": 40}, ["steps"]),  # steps are epochs x batches an epoch: was asked (59's notes)
])
def test_a_multiple_of_a_shown_number_changes_the_pending_launch(model, tmp_path, text, changed, gone):
    """"make it twice the batch size" while a launch waits for its yes was answered with the help text and the launch
    dropped; it multiplies the number the proposal showed (the user's, the parent's or the default)."""
    r = amend(model, text, tmp_path, SHOWN)
    assert (r.kind, r.tool) == ("tool", "launch_pretraining")
    assert {k: r.args.get(k) for k in changed} == changed and (r.args["method"], r.args["data"]) == ("byol", "shapes")
    assert all(r.args.get(k) is None for k in gone)


def test_a_multiple_of_a_number_the_proposal_did_not_show_is_asked_about_and_the_launch_kept(model, tmp_path):
    r = amend(model, "make it twice the temperature", tmp_path, {**PENDING, "shown": {  # none shown
        k: v for k, v in SHOWN["shown"].items() if k != "method_args.temperature"}})
    assert r.kind == "clarify" and "no number for its temperature" in r.question
    assert r.without == {"tool": "launch_pretraining", "args": PENDING["args"]}


def test_a_multiple_of_the_rate_chosen_at_the_start_scales_its_rule(model, tmp_path):
    """"Twice the lr" of a launch whose rate is chosen at its start (base rate x batch/256) was asked about; it is
    optim.lr_scale now, applied by the run when it starts."""
    r = amend(model, "make it twice the lr", tmp_path, SHOWN)
    assert (r.kind, r.args["overrides"]["optim.lr_scale"]) == ("tool", 2.0)
    r = amend(model, "half the lr", tmp_path, {**SHOWN, "shown": {**SHOWN["shown"], "optim.lr_scale": 4.0}})
    assert r.args["overrides"]["optim.lr_scale"] == 2.0  # of a parent's scale, shown


def test_the_proposal_shows_its_numbers_for_the_chat_to_multiply(tmp_path, monkeypatch):
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    home = Home.resolve(tmp_path / "home")
    agent = Agent(home)
    first = agent.chat("pretrain simclr on digits for 50 steps", "t")["pending_confirmation"]
    assert first["shown"]["train.steps"] == 50 and first["shown"]["method_args.temperature"] == 0.2
    batch = first["shown"]["train.batch_size"]
    out = agent.chat("make it twice the batch size", "t")
    assert out["pending_confirmation"]["args"]["batch_size"] == 2 * batch
    assert out["pending_confirmation"]["args"]["steps"] == 50
    assert Registry(home).list() == []


def test_a_multiple_of_the_one_value_just_given_scales_it(tmp_path, monkeypatch):
    """"half that" after the one number a launch was given was the help text (session 59's notes); it scales that
    value, or of several the last written (held-out set 60). Where two settings hold that value, which is asked."""
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    agent = Agent(Home.resolve(tmp_path / "home"))
    agent.chat("pretrain simclr on digits with lr 0.01", "t")
    assert agent.chat("half that", "t")["pending_confirmation"]["args"]["lr"] == 0.005
    agent.chat("pretrain byol on digits for 30 steps", "u")
    assert agent.chat("make it double that", "u")["pending_confirmation"]["args"]["steps"] == 60
    agent.chat("pretrain byol on digits for 30 steps", "u2")  # held-out set 60q: asked what "3 times as" was
    assert agent.chat("make that 3 times as many", "u2")["pending_confirmation"]["args"]["steps"] == 90
    agent.chat("pretrain simclr on digits for 20 steps, lr 0.002", "u3")  # set 60q: "a tenth of" was no multiple
    assert agent.chat("hmm, a tenth of that", "u3")["pending_confirmation"]["args"]["lr"] == 0.0002
    agent.chat("pretrain byol on digits for 30 steps with batch 64", "w")
    again = agent.chat("double that", "w")["pending_confirmation"]  # the batch, shown once (no override row)
    assert (again["args"]["batch_size"], again["args"]["steps"], again["args"]["overrides"]) == (128, 30, {})
    first = agent.chat("pretrain byol on digits with batch 32 for 32 steps", "v")["pending_confirmation"]
    out = agent.chat("double that", "v")
    assert "Which value" in out["answer"] and out["pending_confirmation"]["args"] == first["args"]  # still waiting
    assert "`double the steps`" in out["answer"] and "`double the batch size`" in out["answer"]
    out = agent.chat("double the batch size", "v")["pending_confirmation"]["args"]
    assert (out["batch_size"], out["steps"]) == (64, 32)
    agent.chat("pretrain simclr on digits for 20 steps", "x")
    agent.chat("what learning rate will it use?", "x")
    out = agent.chat("make it 0.01", "x")["pending_confirmation"]  # the rate, once: it was also an override row
    assert (out["args"]["lr"], out["args"]["overrides"]) == (0.01, {})
    assert Registry(agent.home).list() == []


def test_a_bare_fraction_after_one_fraction_was_set_is_that_setting(tmp_path, monkeypatch):
    """"make it 0.996" after "... for 20 steps with ema 0.99" asked which setting (held-out set 60f): a fraction can
    only be the one fraction set. A whole number may be a length or a batch, and is still asked about, as is a
    fraction after two fractions."""
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    agent = Agent(Home.resolve(tmp_path / "home"))
    agent.chat("pretrain byol on digits for 20 steps with ema 0.99", "t")
    out = agent.chat("make it 0.996", "t")["pending_confirmation"]["args"]
    assert (out["steps"], out["overrides"]) == (20, {"method_args.ema_momentum": 0.996})
    agent.chat("pretrain simclr on digits for 50 steps", "u")
    assert "Which setting" in agent.chat("make it 128", "u")["answer"]
    agent.chat("pretrain simclr on digits for 50 steps with lr 0.01 and temperature 0.2", "v")
    assert "Which setting" in agent.chat("make it 0.5", "v")["answer"]
    assert Registry(agent.home).list() == []


def test_a_yes_to_a_refused_continuation_takes_up_its_fix(tmp_path, monkeypatch):
    """"train run 1 for 30 more steps" of a run with no checkpoint is refused, and its fix is a follow-up from
    scratch; the "yes" that followed was the help text (held-out set 60h). It proposes that follow-up now, for its
    own yes; a yes after any other refusal is still no launch."""
    from conversation_eval import seeded_home

    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    agent = Agent(seeded_home(tmp_path / "home", evidence=True))
    out = agent.chat("train run 1 for 30 more steps", "t")
    assert "no checkpoint to continue from" in out["answer"]
    assert "Say `yes` and I will propose the fix: launch a follow-up from scratch instead." in out["answer"]
    args = agent.chat("yes", "t")["pending_confirmation"]["args"]
    assert (args["parent_run"], args["steps"], args["from_parent_weights"]) == ("1", 30, False)
    assert len(Registry(agent.home).list()) == 3  # nothing launched before its own yes
    agent.chat("yes", "t")
    assert Registry(agent.home).get("4").parent_id == "1"
    out = agent.chat("pretrain simclr on digits for 20 steps on gpu 1", "u")  # no GPU here: refused, no fix to take
    assert "Say `yes`" not in out["answer"]
    assert agent.chat("yes", "u")["pending_confirmation"] is None


@pytest.mark.parametrize("said", ["try 0.1 and 0.5 as well", "also try 0.1, 0.5", "0.1 and 0.5 too"])
def test_values_alone_said_to_be_tried_too_are_more_runs_of_the_one_setting_of_their_kind(model, tmp_path, said):
    """"try 0.1 and 0.5 as well" after "... with temperature 0.2" asked which setting 0.1 was (held-out set 60j): the
    temperature is the one fraction the launch was given, so each value is a run beside the waiting one."""
    pending = {"tool": "launch_pretraining", "args": {"method": "simclr", "data": "digits", "steps": 20,
                                                      "overrides": {"method_args.temperature": 0.2}}}
    r = amend(model, said, tmp_path, pending)
    assert (r.kind, r.tool, r.args["grid"]) == ("tool", "launch_sweep", {"method_args.temperature": [0.2, 0.1, 0.5]})
    assert r.args["steps"] == 20 and "method_args.temperature" not in (r.args.get("overrides") or {})
    r = amend(model, "40 as well", tmp_path, pending)  # a whole number: the one whole number given, the steps
    assert (r.tool, r.args["grid"]) == ("launch_sweep", {"train.steps": [20, 40]})
    two = {**pending, "args": {**pending["args"], "batch_size": 64}}
    assert amend(model, "try 32 as well", tmp_path, two).kind == "clarify"  # the steps or the batch: asked


def test_a_refusal_is_taken_up_only_through_the_arguments_its_tool_gave_for_the_fix():
    """The fix a yes takes up is the tool's own `fix_args`, not a reading of its error's words: the same words with
    no `fix_args` are not retried, and the change is laid over the refused call's arguments."""
    from agent.planner import retry_of

    call = {"parent_run": "1", "steps": 30, "from_parent_weights": True}
    said = "from_parent_weights: run 1 has no checkpoint to continue from. Fix: launch a follow-up from scratch instead"
    assert retry_of(call, {"error": said}) is None
    assert retry_of(call, {"error": said, "fix_args": {"from_parent_weights": False}}) == {**call,
                                                                                         "from_parent_weights": False}


@pytest.mark.parametrize("said, gone", [("actually use the default batch size", "batch_size"),
                                        ("hmm, go back to the default temperature", "method_args.temperature"),
                                        ("reset the lr to default", "lr")])
def test_a_setting_put_back_to_its_default_is_taken_out_of_the_waiting_launch(model, tmp_path, said, gone):
    """"actually use the default batch size" kept batch 64 (held-out set 61i): the value given is taken out, so the
    default holds; the rest of the launch is kept."""
    pending = {"tool": "launch_pretraining", "args": {"method": "simclr", "data": "digits", "steps": 20, "lr": 0.01,
                                                      "batch_size": 64,
                                                      "overrides": {"method_args.temperature": 0.5}}}
    r = amend(model, said, tmp_path, pending)
    kept = {**r.args, **r.args.get("overrides", {})}
    assert r.tool == "launch_pretraining" and gone not in kept and r.args["steps"] == 20
    assert len([k for k in ("lr", "batch_size", "method_args.temperature") if k in kept]) == 2


@pytest.mark.parametrize("said", ["no wait, 40", "no, sorry, 40"])
def test_a_no_then_a_correcting_word_and_one_value_corrects_the_launch(tmp_path, monkeypatch, said):
    """"no wait, 40" after a 20-step launch declined it (held-out set 61i): a no followed by "wait" or "sorry" and
    one bare value corrects the setting just given, as "no, 40" does."""
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    agent = Agent(Home.resolve(tmp_path / "home"))
    agent.chat("pretrain simclr on digits for 20 steps", "t")
    assert agent.chat(said, "t")["pending_confirmation"]["args"]["steps"] == 40
