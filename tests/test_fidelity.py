"""Nothing the user states is dropped or replaced: each stated value lands in the tool call, or the chat asks
(agent/fidelity.py). The seven confident misses of the outside tester's set, as written, end right."""

import pytest
from understanding_eval import WORLD

from agent.fidelity import dropped, stated
from agent.intent_model import get_model
from agent.understand import understand
from ssl_runtime.catalogue import BUILTIN_DATASETS


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return get_model(str(tmp_path_factory.mktemp("intent-cache")))


@pytest.fixture
def folders(tmp_path):
    for name in ("some_vicreg_logs", "vicreg_tb", "imgs"):
        (tmp_path / name).mkdir()
    return tmp_path


def read(model, text, cwd):
    return understand(text, {}, WORLD, model, cwd=cwd)


SEVEN = [  # (message, tool, args that must be in the call)
    ("simsaim on digits pls, 40 epochs, and set method_args.predictor=false", "launch_pretraining",
     {"method": "simsiam", "data": "digits", "epochs": 40, "overrides": {"method_args.predictor": False}}),
    ("every monday 3am (cron 0 3 * * 1) run a fresh moco on digits with batch size 128", "schedule_pretraining",
     {"method": "moco", "data": "digits", "batch_size": 128, "cron": "0 3 * * 1"}),
    ("re-evaluate the encoder of #1 with feature_norm=standardize, no retraining", "run_linear_probe",
     {"run_id": "1", "eval_overrides": {"feature_norm": "standardize"}}),
    ("list the last 20 runs", "list_runs", {"limit": 20}),
    ("pls import {d}/some_vicreg_logs, the logs don't say the method but it's byol", "import_runs",
     {"path": "{d}/some_vicreg_logs", "method": "byol"}),
    ("kill run 2, it's obviously collapsed", "cancel_run", {"run_id": "2"}),
    ("bring the run under {d}/vicreg_tb into the registry. format is tensorboard, it was a vicreg run, projector "
     "output dim 2048", "import_runs",
     {"path": "{d}/vicreg_tb", "format": "tensorboard", "method": "vicreg", "embedding_dim": 2048}),
]
WHERE_A_PERSON_WOULD_KNOW = [
    ("could you diagnose experiment 2 for me?", "diagnose_run", {"run_id": "2"}),
    ("suggest a concrete config change for run 3 please", "recommend_next_step", {"run_id": "3"}),
    ("gimme the 3 most recent simclr runs that succeeded", "list_runs",
     {"limit": 3, "method": "simclr", "status": "succeeded"}),
    ("stop experiment 1, i need that gpu", "cancel_run", {"run_id": "1"}),
    ("set up a recurring vicreg job on {d}/imgs with cron `30 1 * * *`", "schedule_pretraining",
     {"method": "vicreg", "data": "{d}/imgs", "cron": "30 1 * * *"}),
]


def _fill(value, d):
    if isinstance(value, str):
        return value.replace("{d}", str(d))
    if isinstance(value, dict):
        return {k: _fill(v, d) for k, v in value.items()}
    return value


@pytest.mark.parametrize("message, tool, args", SEVEN + WHERE_A_PERSON_WOULD_KNOW)
def test_the_tester_messages_end_right(model, folders, message, tool, args):
    r = read(model, _fill(message, folders), folders)
    want = _fill(args, folders)
    assert (r.kind, r.tool) == ("tool", tool), (r.kind, r.tool, r.args, r.question)
    assert {k: r.args.get(k) for k in want} == want


@pytest.mark.parametrize("message, field, value", [
    ("pretrain byol on digits with optim.weight_decay=0.05", "overrides", ("optim.weight_decay", 0.05)),
    ("schedule simclr on digits, cron `15 4 * * 2`", "cron", "15 4 * * 2"),
    ("train dino on shapes for 12 epochs", "epochs", 12),
    ("pretrain vicreg on digits for 3k steps", "steps", 3000),
    ("moco on digits, batch size 96", "batch_size", 96),
    ("simclr on digits, lr 0.002", "lr", 0.002),
    ("show me the top 7 runs", "limit", 7),
    ("pretrain barlow twins on shapes", "method", "barlow_twins"),
    ("import {d}/vicreg_tb as mlflow logs", "format", "mlflow"),
    ("import {d}/vicreg_tb, embedding dim 512", "embedding_dim", 512),
])
def test_each_kind_of_stated_value_lands(model, folders, message, field, value):
    text = _fill(message, folders)
    assert any(s.field == field and s.value == value for s in stated(text, WORLD)), stated(text, WORLD)
    r = read(model, text, folders)
    assert r.kind == "tool" and dropped(text, r.tool, r.args, WORLD) == [], (r.kind, r.tool, r.args, r.question)


def test_a_value_the_call_does_not_carry_is_a_drop_and_the_chat_asks(model, folders):
    text = "pretrain simclr on digits for 5 epochs with method_args.temperature=0.3"
    # what a planner that forgot the override would call
    drops = dropped(text, "launch_pretraining", {"method": "simclr", "data": "digits", "epochs": 5}, WORLD)
    assert [d.raw for d in drops] == ["method_args.temperature=0.3"]
    assert dropped(text, "launch_pretraining", {"method": "simclr", "data": "digits", "epochs": 5,
                                                "overrides": {"method_args.temperature": 0.3}}, WORLD) == []
    # a setting the chosen tool has no place for: asked about, never silently ignored
    r = read(model, "why did run 2 collapse? use knn_k=50", folders)
    assert r.kind in ("clarify", "tool")
    if r.kind == "tool":
        assert dropped("why did run 2 collapse? use knn_k=50", r.tool, r.args, WORLD) == []
    else:
        assert "knn_k=50" in r.question


def test_context_is_not_an_instruction(model, folders):
    """A number the tool has no place for is context ("after 40 epochs"), and so is a key=value that names no
    setting ("loss=nan"): neither is a drop. One that names a setting is, for a tool that takes none."""
    r = read(model, "why did run 2 collapse after 40 epochs?", folders)
    assert (r.kind, r.tool, r.args) == ("tool", "diagnose_run", {"run_id": "2"})
    assert dropped("why is loss=nan at step 30 in run 2?", "diagnose_run", {"run_id": "2"}, WORLD) == []
    assert [d.raw for d in dropped("diagnose run 2 with knn_k=50", "diagnose_run", {"run_id": "2"}, WORLD)] == [
        "knn_k=50"]


def test_an_llm_call_that_drops_a_stated_value_becomes_a_question(tmp_path):
    from langchain_core.messages import AIMessage
    from test_agent import ScriptedLLM

    from agent.session import Agent
    from tools.home import Home
    from tools.registry import Registry

    home = Home.resolve(tmp_path / "home")
    forgot = [AIMessage(content="", tool_calls=[{"name": "launch_pretraining", "args": {"method": "simsiam",
                                                                                         "data": "digits"},
                                                 "id": "f1", "type": "tool_call"}])]
    out = Agent(home, model=ScriptedLLM(responses=forgot)).chat(
        "simsiam on digits, set method_args.predictor=false", "fid")
    assert out["pending_confirmation"] is None and "method_args.predictor=false" in out["answer"]
    assert Registry(home).list() == []


def test_times_backends_and_nodes_land(model, folders):
    from agent.run_refs import RunInfo, World

    world = World(WORLD.runs + [RunInfo("6", "simclr", "digits", "succeeded")], backends={"rc": "ray", "hpc": "slurm"})
    for text, want in (("pretrain dino on digits via hpc with 2 nodes", {"backend": "hpc", "nodes": 2}),
                       ("byol on shapes tonight at 11pm", {"at": True}),
                       ("moco on digits at 2026-12-24T06:00", {"at": "2026-12-24T06:00"})):
        r = understand(text, {}, world, model, cwd=folders)
        assert r.kind == "tool", (text, r.question)
        assert dropped(text, r.tool, r.args, world) == []
        for k, v in want.items():
            assert (bool(r.args.get(k)) if v is True else r.args.get(k) == v), (text, r.args)
    # a launch that forgot the place it was asked to run is a drop
    assert [d.field for d in dropped("pretrain dino on digits via hpc", "launch_pretraining",
                                     {"method": "dino", "data": "digits"}, world)] == ["backend"]


@pytest.mark.parametrize("message, override", [
    ("pretrain simclr on digits for 200 steps, seed 42", {"train.seed": 42}),
    ("moco on shapes for 5 epochs, keep 6 checkpoints", {"train.keep_checkpoints": 6}),
    ("byol on digits, 300 steps, checkpoint every 30 steps", {"train.checkpoint_every": 30}),
    ("vicreg on shapes for 8 epochs with image size 48", {"data.image_size": 48}),
])
def test_run_settings_said_in_words_land(model, folders, message, override):
    r = read(model, message, folders)
    assert (r.kind, r.tool) == ("tool", "launch_pretraining"), (r.kind, r.question)
    assert {k: r.args.get("overrides", {}).get(k) for k in override} == override


def test_a_number_no_setting_takes_is_asked_about_and_can_be_left_out(model, folders, tmp_path):
    """A launch must carry every number the message writes (outside paths and times); one it cannot place is a
    question, whose answer "go ahead without it" makes the call as first read (still to be confirmed)."""
    from agent.session import Agent
    from tools.home import Home
    from tools.registry import Registry

    text = "pretrain simclr on digits for 200 steps with 8 prefetch batches"
    assert [(s.raw, s.value) for s in stated(text, WORLD) if s.field == "number"] == [
        ("200 steps", 200.0), ("8 prefetch batches", 8.0)]
    r = read(model, text, folders)
    assert r.kind == "clarify" and "`8 prefetch batches`" in r.question and r.options == ["go ahead without it"]
    assert r.without == {"tool": "launch_pretraining", "args": {"method": "simclr", "data": "digits", "steps": 200}}
    # numbers written as times, in paths or in names are not settings; elsewhere a number is context
    for fine in ("pretrain byol on digits tomorrow at 7am for 3 epochs", "train dino on shapes via cron `0 2 * * *`",
                 "pretrain mocov3 on digits with a resnet50 backbone in bf16 for 4 epochs"):
        assert [s.raw for s in stated(fine, WORLD) if s.field == "number"] in ([], ["3 epochs"], ["4 epochs"]), fine
    assert dropped("why did run 2 collapse after 8 workers died?", "diagnose_run", {"run_id": "2"}, WORLD) == []

    home = Home.resolve(tmp_path / "home")
    agent = Agent(home)
    out = agent.chat(text, "nums")
    assert out["pending_confirmation"] is None and "8 prefetch batches" in out["answer"]
    out = agent.chat("go ahead without it", "nums")
    pending = out["pending_confirmation"]
    assert pending["tool"] == "launch_pretraining" and pending["args"]["steps"] == 200
    assert (pending["args"]["method"], pending["args"]["data"], pending["args"]["overrides"]) == ("simclr", "digits", {})
    assert Registry(home).list() == []  # nothing runs before the yes


def test_two_methods_or_datasets_in_one_launch_are_asked_about_with_each_pairing(model, folders):
    """A run trains one method on one dataset: "digits and shapes" (with one method or two) or a schedule of two
    methods is asked about, never read as the first alone (methods alone, launched now, are one sweep that compares
    them: tests/test_sweep_chat.py). Each option is a message that reads back to the same call, everything else
    kept."""
    r = read(model, "launch dino on shapes, and moco on digits too, for 5 epochs with mask ratio 0.6", folders)
    assert r.kind == "clarify" and "`dino`, `moco`" in r.question and "`digits`, `shapes`" in r.question
    assert len(r.options) == 4
    for option in r.options:
        back = read(model, option, folders)
        assert (back.kind, back.tool) == ("tool", "launch_pretraining"), option
        assert back.args["epochs"] == 5 and back.args["overrides"] == {"method_args.mask_ratio": 0.6}
        assert (back.args["method"], back.args["data"]) in {(m, d) for m in ("dino", "moco") for d in BUILTIN_DATASETS}
    when = read(model, "schedule moco and dino on shapes tonight at 11pm", folders)
    again = read(model, when.options[1], folders)
    assert (again.tool, again.args["method"], again.args["at"][-5:]) == ("schedule_pretraining", "dino", "23:00")
    # a search may name two methods: they are in the query it searches for
    assert read(model, "what does byol do differently from simclr?", folders).tool == "search_literature"


def test_a_launch_labelled_with_another_runs_name_is_no_reference_to_that_run(model, folders):
    """"tag it siam-nostop" names the new run's tag, though run 2 of the world is called so: the launch goes ahead
    with the tag (it asked "you also said run 2" before). A run named in the body of the message is that run, as its
    id would be: "like siam-nostop but with lr 0.01" is a follow-up of run 2 (session 55; it was asked about)."""
    for message, labels in (("pretrain byol on digits for 20 epochs and tag it siam-nostop", {"tags": ["siam-nostop"]}),
                            ("pretrain byol on digits, call it siam-nostop", {"name": "siam-nostop"})):
        r = read(model, message, folders)
        assert (r.kind, r.tool) == ("tool", "launch_pretraining"), r.question
        assert {k: r.args[k] for k in labels} == labels and r.args["method"] == "byol"
    like = read(model, "pretrain byol on digits like siam-nostop but with lr 0.01", folders)
    by_id = read(model, "pretrain byol on digits like run 2 but with lr 0.01", folders)
    assert (like.kind, like.tool, like.args) == (by_id.kind, by_id.tool, by_id.args)
    assert (like.tool, like.args["parent_run"], like.args["method"], like.args["lr"]) == (
        "launch_pretraining", "2", "byol", 0.01)


@pytest.mark.parametrize("message, override", [
    ("pretrain dino on digits for 150 steps with no centering", {"method_args.center_momentum": 1.0}),
    ("train mae on shapes for 30 epochs, pixel norm loss off", {"method_args.norm_pix_loss": False}),
    ("clip on shapes for 100 steps and do not learn the temperature", {"method_args.learn_temperature": False}),
    ("byol on digits for 40 epochs, leave out the predictor", {"method_args.predictor": False}),
    ("vicreg on digits, 200 steps, without the invariance term", {"method_args.lambda_": 0.0}),
    ("simclr on shapes for 80 steps without bf16", {"train.precision": "32"}),
    ("moco on digits for 60 steps with tensorboard switched off", {"train.tensorboard": False}),
    ("barlow twins on shapes for 90 steps, no gradient clipping", {"train.grad_clip": None}),
    ("dino on shapes for 120 steps without batchnorm in the head", {"method_args.head_batch_norm": False}),
    ("dino on digits for 150 steps with BN in the head", {"method_args.head_batch_norm": True}),
])
def test_a_part_turned_off_in_words_lands_as_its_setting(model, folders, message, override):
    """ "no centering", "leave out the predictor", "without bf16": each is the setting that turns it off (the
    value a number beside the words gives wins: "warmup 500" is 500, "no warmup" 0)."""
    r = read(model, message, folders)
    assert (r.kind, r.tool) == ("tool", "launch_pretraining"), (r.kind, r.question)
    assert {k: r.args.get("overrides", {}).get(k, "missing") for k in override} == override


def test_a_part_no_setting_turns_off_is_asked_about_not_launched_without(model, folders, tmp_path):
    """ "without color jitter" has no setting: launching without it would drop what the user said, so the chat asks,
    names the augmentation knob there is, and "go ahead without it" makes the call as first read. "no rush" or
    "they have no labels" describe, and launch."""
    r = read(model, "pretrain simclr on digits for 200 steps without color jitter", folders)
    assert r.kind == "clarify" and "`without color jitter`" in r.question and "augment.strength" in r.question
    assert r.without == {"tool": "launch_pretraining", "args": {"method": "simclr", "data": "digits", "steps": 200}}
    r = read(model, "train byol on shapes for 30 epochs with no batch norm in the projector", folders)
    assert r.kind == "clarify" and "`no batch norm in the projector`" in r.question
    assert "docs/configuration.md" in r.question
    for fine in ("train byol on shapes for 20 epochs, no rush", "launch vicreg on digits for 200 steps, no other "
                 "changes", "pretrain dino on shapes for 5 epochs, they have no labels"):
        r = read(model, fine, folders)
        assert (r.kind, r.tool) == ("tool", "launch_pretraining"), fine
    # elsewhere a negation is context: a diagnosis takes no settings
    assert dropped("why did run 2 collapse without color jitter?", "diagnose_run", {"run_id": "2"}, WORLD) == []


def test_a_frozen_part_is_dinos_last_layer_in_steps_or_epochs_or_asked_about(model, folders):
    """"freeze the last layer for the first epoch" launched DINO with nothing frozen. In steps or epochs it is DINO's
    setting (and never the run's length); without a length, or a part no setting freezes, it is asked about."""
    r = read(model, "pretrain dino on digits for 500 steps, freezing the last layer for the first 50 steps", folders)
    assert (r.kind, r.tool) == ("tool", "launch_pretraining"), r.question
    assert r.args["steps"] == 500 and r.args["overrides"] == {"method_args.freeze_last_layer_steps": 50}
    r = read(model, "pretrain dino on digits, freeze the last layer for the first epoch", folders)
    assert r.args.get("overrides") == {"method_args.freeze_last_layer_epochs": 1.0}, r.question  # steps at its start
    r = read(model, "pretrain dino on digits for 20 epochs and freeze the last layer", folders)
    assert r.kind == "clarify" and "method_args.freeze_last_layer_steps" in r.question
    r = read(model, "pretrain dino on digits with a frozen last layer for 20 steps", folders)
    assert r.args.get("overrides") == {"method_args.freeze_last_layer_steps": 20}, r.question
    for message in ("pretrain simclr on digits and freeze the backbone", "pretrain byol on shapes, keep the "
                    "predictor frozen", "pretrain simclr on digits with the backbone frozen"):
        r = read(model, message, folders)
        assert r.kind == "clarify" and "docs/configuration.md" in r.question, message


def test_a_part_asked_for_that_no_setting_takes_is_asked_about(model, folders):
    """ "with gaussian blur", "a wider projector", "add solarization": no setting takes them, so the chat asks rather
    than launching the default recipe in silence. One a setting takes ("using the predictor", "with multi-crop")
    lands; a number beside the part is the numbers' rule's ("with 4 local crops"); a method is no part ("with clip")."""
    for message, said in (("pretrain simclr on shapes for 300 steps with gaussian blur", "`with gaussian blur`"),
                          ("train vicreg on shapes for 30 epochs with a wider projector", "`with a wider projector`"),
                          ("train byol on digits for 40 epochs and add solarization", "`add solarization`")):
        r = read(model, message, folders)
        assert r.kind == "clarify" and said in r.question, (message, r.question)
    assert "augment.strength" in read(model, "train byol on digits for 40 epochs and add solarization", folders).question
    for message, override in (("train byol on digits for 80 steps using the predictor", {"method_args.predictor": True}),
                              ("pretrain dino on shapes for 20 epochs with multi-crop", {"augment.n_local_crops": 6}),
                              ("pretrain dino on shapes for 20 epochs with 4 local crops", {"augment.n_local_crops": 4})):
        r = read(model, message, folders)
        assert (r.kind, r.tool) == ("tool", "launch_pretraining") and r.args["overrides"] == override, message
    r = read(model, "train an image-text model with clip on shapes", folders)
    assert (r.kind, r.tool, r.args["method"]) == ("tool", "launch_pretraining", "clip")


def test_a_part_said_to_a_pending_launch_is_asked_about_and_the_launch_kept(tmp_path):
    """ "and no blur" while a launch waits for its yes: the launch is kept and the part asked about (it was read as
    a new message, the help text, and the launch was gone); "go ahead without it" brings the launch back unchanged.
    A part beside a change that lands ("without the predictor and no solarization") is asked about too."""
    from agent.session import Agent
    from tools.home import Home
    from tools.registry import Registry

    home = Home.resolve(tmp_path / "home")
    agent = Agent(home)
    assert agent.chat("pretrain byol on digits for 100 steps", "p")["pending_confirmation"] is not None
    out = agent.chat("and no blur", "p")
    assert out["pending_confirmation"] is None and "`no blur`" in out["answer"]
    pending = agent.chat("go ahead without it", "p")["pending_confirmation"]
    assert (pending["args"]["method"], pending["args"]["steps"], pending["args"]["overrides"]) == ("byol", 100, {})
    out = agent.chat("also without the predictor and no solarization", "p")
    assert out["pending_confirmation"] is None and "`no solarization`" in out["answer"]
    assert Registry(home).list() == []
