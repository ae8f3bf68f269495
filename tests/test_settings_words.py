"""Launch settings said in words land in the launch: a backbone by any spelling, its width, the input size in
pixels, the optimiser, the schedule and Barlow Twins' or VICReg's lambda; "at 64px" is a size, not a time of day;
an architecture sslpilot does not build is asked about, never swapped for another. The held-out phrasings are
tests/data/settings_words_heldout.jsonl (test_understanding.py)."""

import re
from datetime import datetime

import pytest
from understanding_eval import WORLD

from agent.grid_words import find_grid
from agent.intent_model import get_model
from agent.setting_words import find_knobs
from agent.slots import (
    counts_in_digits,
    durations_in_minutes,
    find_architecture,
    find_numbers,
    find_time,
    other_backbone,
    self_corrected,
    typos_mended,
    without_declined,
)
from agent.understand import understand
from ssl_runtime.catalogue import BACKBONES


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return get_model(str(tmp_path_factory.mktemp("intent-cache")))


@pytest.mark.parametrize("text, want", [
    ("with a ResNet-18", {"backbone.name": "resnet18"}),
    ("resnet 50 backbone at 96 pixels", {"backbone.name": "resnet50", "data.image_size": 96}),
    ("a vit small, 128x128 images", {"backbone.name": "vit_small", "data.image_size": 128}),
    ("half-width small cnn with sgd", {"backbone.name": "small_cnn", "backbone.width": 0.5, "optim.name": "sgd"}),
    ("lars and a constant learning rate", {"optim.name": "lars", "optim.schedule": "constant"}),
    ("64x32 crops", {}),  # not square: no size is guessed, the numbers are asked about
])
def test_architecture_words(text, want):
    assert find_architecture(text) == want


@pytest.mark.parametrize("text, key", [
    ("pretrain simclr on digits using sgd with momentum 0.9", "optim.momentum"),  # was BYOL's EMA: SimCLR refused it
    ("simclr on digits, momentum 0.8", "optim.momentum"),  # SimCLR has no EMA teacher
    ("byol on digits with lars, momentum 0.95", "optim.momentum"),  # the optimiser named beside it
    ("byol on digits with momentum 0.99", "method_args.ema_momentum"),  # BYOL's own
    ("moco on shapes with sgd and ema momentum 0.99", "method_args.ema_momentum"),  # the EMA named
    ("dino on shapes with teacher momentum 0.996", "method_args.ema_momentum"),
])
def test_bare_momentum_is_the_optimiser_s_where_an_optimiser_is_named_or_the_method_has_no_ema(text, key):
    got = {k: v for k, v in find_knobs(text).items() if k.endswith("momentum")}
    assert list(got) == [key], got
    swept = find_grid(re.sub(r"momentum (0\.\d+)", r"momentum 0.5 and \1", text))
    assert list(swept) == [key], swept


def test_every_backbone_name_is_found_as_people_write_it():
    for name in BACKBONES:
        spaced = name.replace("_", " ")
        assert find_architecture(f"train on digits with a {spaced}")["backbone.name"] == name
        assert other_backbone(f"train on digits with a {spaced}") is None


@pytest.mark.parametrize("message, size", [("moco on shapes with a 16384-key queue", 16384),
                                           ("moco on digits, 8192 negatives in the queue", 8192),
                                           ("moco with 4096 keys in its memory queue", 4096),
                                           ("moco with a queue of 1024 keys", 1024)])
def test_a_queue_is_sized_by_the_keys_it_holds(message, size):
    assert find_knobs(message)["method_args.queue_size"] == size


def test_lambda_is_the_method_s_own_weight():
    assert find_knobs("barlow twins on shapes with lambda 0.01")["method_args.lambda_offdiag"] == 0.01
    assert find_knobs("vicreg with lambda 10")["method_args.lambda_"] == 10.0
    assert not any("lambda" in k for k in find_knobs("simclr with lambda 0.5"))  # no such weight: asked about


def test_pixels_after_at_are_a_size_not_a_time():
    now = datetime(2026, 12, 3, 12, 0)
    assert find_time("pretrain vicreg on digits at 64px", now) == {}
    assert find_time("launch dino on shapes at 96 px", now) == {}
    assert find_time("launch dino on shapes at 22:00", now) == {"at": "2026-12-03T22:00"}
    assert find_time("pretrain simclr at 9 tomorrow", now) == {"at": "2026-12-04T09:00"}


def test_an_architecture_sslpilot_lacks_is_asked_about_with_options_that_keep_the_rest(model):
    r = understand("pretrain simclr on digits with efficientnet for 200 steps", {}, WORLD, model)
    assert r.kind == "clarify" and "does not build `efficientnet`" in r.question
    back = understand(r.options[0], {}, WORLD, model)
    assert (back.kind, back.tool) == ("tool", "launch_pretraining")
    assert back.args == {"method": "simclr", "data": "digits", "steps": 200,
                         "overrides": {"backbone.name": BACKBONES[1]}}


def test_two_readings_that_make_the_same_call_are_one_call_not_a_question(model):
    """Read as a launch (0.39) or a schedule (0.33), the time makes both the same schedule: 0.73 together, 1.8x the
    0.4 that a single remaining reading needs."""
    r = understand("pretrain simclr on digits with a resnet 18 for 2 epochs at 6pm", {}, WORLD, model)
    assert (r.kind, r.tool) == ("tool", "schedule_pretraining"), r.question
    assert r.args["overrides"] == {"backbone.name": "resnet18"} and r.args["at"].endswith("T18:00")


def test_a_number_after_at_that_is_no_hour_must_land_somewhere():
    """The fidelity check set aside "at N" as a time of day for any N: "at 96 px" and "at 48" were never checked."""
    from agent.fidelity import written_numbers

    assert [s.raw for s in written_numbers("launch dino on shapes at 96 px for 200 steps")] == ["96 px", "200 steps"]
    assert [s.raw for s in written_numbers("launch dino on shapes at 9 for 200 steps")] == ["200 steps"]
    assert "shapes at 48" in [s.raw for s in written_numbers("launch dino on shapes at 48 for 200 steps")]


def test_a_decimal_after_at_is_no_time():
    """"gradient clipping at 1.0" scheduled the run at 01:00."""
    now = datetime(2026, 12, 3, 12, 0)
    assert find_time("pretrain simclr on digits with gradient clipping at 1.0", now) == {}
    assert find_knobs("pretrain simclr on digits with gradient clipping at 1.0")["train.grad_clip"] == 1.0


def test_augmentation_in_words(model):
    assert find_knobs("pretrain simclr on digits without augmentation")["augment.strength"] == 0.0
    assert find_knobs("simclr with the standard augmentations")["augment.strength"] == 1.0
    r = understand("launch simclr on digits with weak augmentations", {}, WORLD, model)
    assert r.kind == "clarify" and "augment.strength" in r.question  # how much weaker is the user's to say
    back = understand(r.options[0], {}, WORLD, model)
    assert back.tool == "launch_pretraining" and back.args["overrides"] == {"augment.strength": 0.5}


@pytest.mark.parametrize("text, overrides", [
    ("probe run 2 with k=50", {"knn_k": 50}),
    ("re-probe run 3 with 50 neighbours and mean pooling", {"knn_k": 50, "pooling": "mean"}),
    ("probe run 2 with standardized features", {"feature_norm": "standardize"}),
    ("probe run 4 on 5000 images", {"max_images": 5000, "time_budget_s": 3600.0}),
])
def test_probe_settings_in_words_land(model, text, overrides):
    """Each was dropped (or "50 neighbours" read as run 50, "k=50" passed on as an unknown key)."""
    r = understand(text, {}, WORLD, model)
    assert (r.kind, r.tool) == ("tool", "run_linear_probe"), r.question
    assert r.args["eval_overrides"] == overrides


@pytest.mark.parametrize("text, reading", [("rename run 2 to baseline", ("tool", "annotate_run")),
                                           ("tag run 2 as best", ("tool", "annotate_run")),
                                           ("add a note to run 3", ("clarify", None))])
def test_housekeeping_is_not_read_as_a_launch(model, text, reading):
    """"rename run 2 to baseline" proposed a follow-up launch of run 2 (relaunch at 0.37). It is a rename now
    (tests/test_run_notes.py), and a note without its words is asked for."""
    r = understand(text, {}, WORLD, model)
    assert (r.kind, r.tool) == reading
    if r.kind == "clarify":
        assert "What should the note on run 3 say?" in r.question
    from agent.annotating import read_annotation

    assert read_annotation("label-free verdict for run 4 please") is None  # an adjective, not a request to label


@pytest.mark.parametrize("text, seeds", [
    ("pretrain simclr on digits twice", [0, 1]),
    ("launch 3 simclr runs on digits with different seeds", [0, 1, 2]),
    ("train byol on shapes 5 times", [0, 1, 2, 3, 4]),
])
def test_a_repeated_launch_is_a_sweep_over_seeds(model, text, seeds):
    """"twice" launched one run; "3 simclr runs with different seeds" was asked about."""
    r = understand(text, {}, WORLD, model)
    assert (r.kind, r.tool) == ("tool", "launch_sweep") and r.args["grid"] == {"train.seed": seeds}


def test_a_multiple_of_a_setting_is_no_repeat():
    from agent.grid_words import find_grid

    assert find_grid("pretrain simclr on digits with twice the default learning rate") == {}
    assert find_grid("train byol on shapes 3 times as long as run 2") == {}


def test_a_multiple_of_a_default_is_asked_for_as_a_value(model):
    """"with twice the default learning rate" launched at the default rate. For a new run it is the default peak
    rate scaled (`optim.lr_scale`, held-out set 61f: it was asked for as a value); a value given with it is taken. A
    multiple of a run's own value is made a value by the launch tool (tests/test_multiples.py); the default's
    multiple for a follow-up is still asked for as a value."""
    r = understand("pretrain simclr on digits with twice the default learning rate", {}, WORLD, model)
    assert (r.kind, r.tool, r.args["overrides"]) == ("tool", "launch_pretraining", {"optim.lr_scale": 2.0})
    r = understand("pretrain simclr on digits with twice the default learning rate lr 0.004", {}, WORLD, model)
    assert (r.kind, r.tool) == ("tool", "launch_pretraining") and r.args["lr"] == 0.004
    r = understand("restart run 4 with half the default learning rate", {}, WORLD, model)  # the method's, not run 4's
    assert r.kind == "clarify" and "say the value" in r.question and r.options == [
        "what learning rate did run 4 use?"]
    r = understand("restart run 4 with half the learning rate", {}, WORLD, model)  # launched unchanged, then asked
    assert (r.tool, r.args["scale"]) == ("launch_pretraining", {"optim.lr": 0.5})


def test_a_setting_said_in_words_is_a_drop_for_any_planner():
    """The fidelity check (which also reads an LLM's tool calls) knew numbers and key=value settings, not words: a
    launch without the ResNet-18 or with the predictor the user turned off passed it."""
    from agent.fidelity import dropped
    from agent.run_refs import World

    said = "pretrain vicreg on digits with a resnet18 backbone"
    assert [d.raw for d in dropped(said, "launch_pretraining", {"method": "vicreg", "data": "digits"}, World())] == \
        ["backbone.name=resnet18"]
    assert dropped(said, "launch_pretraining", {"method": "vicreg", "data": "digits",
                                                "overrides": {"backbone.name": "resnet18"}}, World()) == []
    off = dropped("train byol without the predictor on digits", "launch_pretraining",
                  {"method": "byol", "data": "digits"}, World())
    assert [d.value for d in off] == [("method_args.predictor", False)]
    assert dropped("what does a resnet18 backbone change?", "search_literature", {"query": "resnet18"}, World()) == []


def test_a_crop_size_is_no_image_size_nor_a_count_of_crops(model):
    """"8 local crops of 48px" set 48 local crops (the knob took "of 48") and would have set a 48-px image size; it
    was then asked about, and is now the local crops' side (augment.local_crop_size)."""
    want = {"augment.n_local_crops": 8, "augment.local_crop_size": 48}
    assert find_knobs("train dino on shapes with 8 local crops of 48px") == want
    r = understand("train dino on shapes at 96px with 8 local crops of 48px", {}, WORLD, model)
    assert r.kind == "tool" and r.args["overrides"] == {**want, "data.image_size": 96}, r.question


def test_more_steps_are_steps_and_a_resume_cannot_add_them(model):
    """"continue training run 2 for 100 more steps" asked about a run 100, then resumed run 2 without the steps. It
    now continues run 2 from its final weights for 100 steps (tests/test_continue.py), decided by the words."""
    from agent.slots import find_numbers

    assert find_numbers("train run 3 for 2 more epochs")["epochs"] == 2
    r = understand("continue training run 2 for 100 more steps", {}, WORLD, model)
    assert (r.tool, r.args) == ("launch_pretraining", {"steps": 100, "parent_run": "2", "from_parent_weights": True})
    back = understand("launch a follow-up of run 2 for 100 steps", {}, WORLD, model)  # from scratch: 0.94
    assert (back.tool, back.args) == ("launch_pretraining", {"steps": 100, "parent_run": "2"})


def test_an_export_is_pointed_at_its_command(model):
    """"export run 2 to tensorboard" offered a follow-up launch, a probe or the run's page."""
    r = understand("export run 2 to tensorboard", {}, WORLD, model)
    assert r.kind == "clarify" and "`sslpilot export 2 --to tensorboard`" in r.question


def test_the_validation_split_in_words():
    assert find_knobs("pretrain simclr on digits with a 0.2 validation split") == {"data.val_fraction": 0.2}
    assert find_knobs("simclr on digits, validation fraction 0.1") == {"data.val_fraction": 0.1}


@pytest.mark.parametrize("text, knobs, length", [
    ("pretrain simclr on digits using lars with lr 0.3 and no warmup", {"optim.warmup_steps": 0}, None),
    ("pretrain byol on digits without weight decay", {"optim.weight_decay": 0}, None),
    ("pretrain byol on digits with a 20-step warmup for 400 steps", {"optim.warmup_steps": 20}, 400),
    ("pretrain dino on shapes with a warmup of 30 steps", {"optim.warmup_steps": 30}, None),
    ("pretrain byol for 500 steps, checkpoint every 100 steps", {"train.checkpoint_every": 100}, 500),
    ("barlow twins on digits, save a checkpoint every 25 steps", {"train.checkpoint_every": 25}, None),
])
def test_a_warmup_or_an_interval_is_no_length_of_the_run(model, text, knobs, length):
    """They were dropped ("no warmup") or taken as the run's length ("every 25 steps" made a 25-step run)."""
    r = understand(text, {}, WORLD, model)
    assert r.tool == "launch_pretraining"
    assert all(r.args["overrides"][k] == v for k, v in knobs.items()), r.args
    assert r.args.get("steps") == length


def test_a_fractional_epoch_count_is_never_read_as_its_last_digits():
    """"for 2.5 epochs" was read as epochs=5 (the digits after the point); a launch then asked about "epochs 5"."""
    from agent.slots import find_numbers

    assert "epochs" not in find_numbers("pretrain simclr on digits for 2.5 epochs")
    assert "epochs" not in find_numbers("set epochs to 2.5")
    assert find_numbers("pretrain simclr on digits for 25 epochs")["epochs"] == 25


# ---- settings some methods have, by the launch's method (setting_words.METHOD_SETTINGS) -------------------------------

@pytest.mark.parametrize("text, want", [
    ("pretrain dino on digits with a 512-d bottleneck", {"method_args.bottleneck_dim": 512}),
    ("pretrain dino on digits with bottleneck dim 512", {"method_args.bottleneck_dim": 512}),
    ("pretrain byol on digits with predictor hidden dim 1024", {"method_args.pred_hidden_dim": 1024}),
    ("pretrain mlm on ./corpus with block size 256", {"method_args.block_size": 256}),
    ("pretrain mlm on ./corpus with a masking probability of 0.3", {"method_args.mlm_probability": 0.3}),
    ("pretrain clm on ./corpus with 6 layers and 8 heads", {"method_args.num_layers": 6, "method_args.num_heads": 8}),
    ("pretrain clm on ./corpus with a vocab of 16k", {"method_args.vocab_size": 16000}),
    ("pretrain clm on ./corpus with a context length of 512", {"method_args.block_size": 512}),
    ("pretrain clip on shapes with text hidden size 256 and 3 text layers",
     {"method_args.text_hidden_size": 256, "method_args.text_layers": 3}),
    ("pretrain clip on shapes with a hidden size of 256", {"method_args.text_hidden_size": 256}),  # CLIP's is its text's
    ("pretrain clip on shapes with a context length of 40", {"method_args.max_length": 40}),
    ("pretrain vicreg on digits with variance weight 10", {"method_args.mu": 10}),
    ("pretrain vicreg on digits with mu 10 and nu 2", {"method_args.mu": 10, "method_args.nu": 2}),  # the paper's letters
    ("pretrain vicreg on digits with lambda 15", {"method_args.lambda_": 15}),
    ("pretrain barlow twins on digits with lambda 0.01", {"method_args.lambda_offdiag": 0.01}),
    ("pretrain mae on shapes and mask 60% of patches", {"method_args.mask_ratio": 0.6}),
    ("pretrain mlm on ./corpus and mask 20 percent of tokens", {"method_args.mlm_probability": 0.2}),
    ("pretrain mae on shapes with a 2-block decoder", {"method_args.decoder_depth": 2}),
    ("pretrain simclr on shapes with a 3-layer projection head", {"method_args.proj_layers": 3}),
    ("vicreg on digits with batch 128 and 3 layer projector", {"method_args.proj_layers": 3}),
    ("pretrain mae on shapes with 8 decoder layers and a 96-d decoder",
     {"method_args.decoder_depth": 8, "method_args.decoder_dim": 96}),
    ("mae on shapes, decoder width 96", {"method_args.decoder_dim": 96}),  # not the backbone's width
    ("pretrain mae on shapes with patch size 4", {"backbone.patch_size": 4}),
    ("mae on digits with 4x4 patches", {"backbone.patch_size": 4}),
    ("mae on shapes at 64px with 16px patches", {"backbone.patch_size": 16, "data.image_size": 64}),
    ("mae on shapes with patches of 8 pixels", {"backbone.patch_size": 8}),
])
def test_a_method_setting_in_words_takes_the_name_the_method_gives_it(text, want):
    assert find_knobs(text) == want
    assert find_grid(text) == {}  # "batch 128 and 3 layer projector" was a sweep over depths 128 and 3


@pytest.mark.parametrize("text", [
    "pretrain byol on digits with a hidden size of 1024",  # its projector's or its predictor's?
    "pretrain dino on digits with a 3-layer projector",  # DINO's head is three layers, not a setting
    "pretrain clip on shapes with a 6-layer image tower",  # the image tower is the backbone, not text_layers
    "pretrain byol on digits and a text encoder with 2 heads",  # BYOL has no text encoder
    "pretrain with 6 layers",  # no method: whose layers?
    "pretrain mae on shapes with a decoder of 2 blocks",  # its blocks, never a decoder 2 wide
])
def test_a_setting_the_method_does_not_have_is_left_for_the_question(text):
    assert find_knobs(text) == {}


def test_a_setting_of_another_method_is_named_with_its_owner_and_the_method_s_own():
    from ssl_runtime.configure import resolve_config
    from ssl_runtime.errors import ConfigError

    with pytest.raises(ConfigError, match=r"method_args.teacher_temp: SimCLR has no setting `teacher_temp` \(DINO has "
                                          r"it\). Fix: remove it; SimCLR's settings are proj_dim, proj_hidden_dim, "):
        resolve_config(method="simclr", overrides=["method_args.teacher_temp=0.07"])
    with pytest.raises(ConfigError, match="Fix: `temperature`, if that is what you meant"):
        resolve_config(method="simclr", overrides=["method_args.tempreature=0.3"])


def test_the_teacher_temperature_warm_up_in_steps_is_three_settings_and_never_the_run_s_length(model):
    r = understand("pretrain dino on digits for 500 steps, teacher temp warmup from 0.04 to 0.07 over the first 100 "
                   "steps", {}, WORLD, model)
    assert (r.kind, r.args["steps"], r.args["overrides"]) == ("tool", 500, {
        "method_args.warmup_teacher_temp": 0.04, "method_args.teacher_temp": 0.07,
        "method_args.teacher_temp_warmup_steps": 100})
    r = understand("pretrain dino on digits with warmup teacher temp 0.04 and teacher temp 0.07", {}, WORLD, model)
    assert r.args["overrides"] == {"method_args.warmup_teacher_temp": 0.04, "method_args.teacher_temp": 0.07}


def test_the_teacher_temperature_warmed_up_over_epochs_lands_in_epochs_and_keeps_the_run_s_length(model):
    """It was asked about; the run now makes steps of the epochs (RunConfig.settle_epochs), as DINO's own
    --warmup_teacher_temp_epochs is read."""
    text = "pretrain dino on digits for 500 steps and warm up the teacher temperature from 0.04 to 0.07 over 30 epochs"
    r = understand(text, {}, WORLD, model)
    assert (r.kind, r.args["steps"], r.args["overrides"]) == ("tool", 500, {
        "method_args.warmup_teacher_temp": 0.04, "method_args.teacher_temp": 0.07,
        "method_args.teacher_temp_warmup_epochs": 30.0}), r.question
    r = understand("pretrain dino on digits and warm up the teacher temperature to 0.07 over the first epoch", {},
                   WORLD, model)
    assert r.args["overrides"] == {"method_args.teacher_temp": 0.07, "method_args.teacher_temp_warmup_epochs": 1.0}
    r = understand("pretrain dino on digits and warm up the teacher temperature to 0.07", {}, WORLD, model)
    assert r.kind == "clarify" and "`method_args.teacher_temp_warmup_steps` or `_epochs`" in r.question
    for other in ("pretrain simclr on shapes for 10 epochs and warm up the teacher temperature to 0.07 over 2 epochs",
                 "pretrain simclr on shapes for 10 epochs, freeze the last layer for 50 steps",
                 "same as run 1 but freeze the last layer for 1 epoch"):  # SimCLR has neither: it was dropped
        r = understand(other, {}, WORLD, model)
        assert r.kind == "clarify" and "DINO" in r.question, other
        said = r.question.split("But you also said ")[1].split(", and I could not")[0]
        assert said.count("`") == 2, said  # named once, whole: not its number or its setting again
    from agent.slots import find_numbers
    assert find_numbers(text) == {"steps": 500}
    assert find_numbers("dino on digits, warm the teacher temperature up to 0.07 over 30 epochs") == {}


@pytest.mark.parametrize("text", ["vicreg on shapes with the variance coefficient at 15",
                                  "simclr on digits with the lr at 3e-4", "byol on digits, weight decay at 5"])
def test_a_value_after_at_that_a_setting_takes_is_no_time_of_day(text):
    assert find_time(text) == {}


def test_an_hour_after_at_is_still_a_time_of_day_after_a_method_name_ending_like_a_setting():
    assert find_time("train simclr at 15", now=datetime(2026, 12, 5, 8))["at"] == "2026-12-05T15:00"  # "simc-lr at"


def test_a_text_model_s_transformer_layers_are_no_backbone_asked_for():
    assert other_backbone("clm on ./corpus with 3 transformer layers") is None
    assert other_backbone("simclr on digits with a transformer") == "a transformer"


def test_every_number_a_method_takes_has_words_in_the_chat():
    """The catalogue's methods are the one list: a numeric setting added to a method's Args without words for it
    would only ever be asked about."""
    from agent.setting_words import KNOBS, METHOD_SETTINGS
    from ssl_runtime.catalogue import METHODS, method_class

    said = {key.removeprefix("method_args.") for _, key in KNOBS} | {n for _, names, _ in METHOD_SETTINGS for n in names}
    said |= {"freeze_last_layer_steps", "freeze_last_layer_epochs"}  # slots.FREEZE_LAST_LAYER, with its length
    missing = sorted(f"{m}.{name}" for m in METHODS for name, f in method_class(m).Args.model_fields.items()
                     if f.annotation in (int, float, int | None, float | None) and name not in said)
    assert missing == []


def test_a_follow_up_reads_a_setting_by_its_parent_s_method_and_never_as_a_run(model):
    r = understand("same as run 3 but with a 128-d bottleneck", {}, WORLD, model)  # run 3 is DINO
    assert (r.kind, r.args) == ("tool", {"parent_run": "3", "overrides": {"method_args.bottleneck_dim": 128}})
    r = understand("continue run 3 from its checkpoint with a bottleneck of 64", {}, WORLD, model)
    assert r.args == {"parent_run": "3", "from_parent_weights": True, "overrides": {"method_args.bottleneck_dim": 64}}
    r = understand("same as run 1 but with a 128-d bottleneck", {}, WORLD, model)  # SimCLR has none: asked
    assert r.kind == "clarify" and "run 128" not in r.question
    r = understand("rerun 2 with 4 transformer layers", {}, WORLD, model)  # was a comparison of runs 2 and 4
    assert r.kind == "clarify" and "4 transformer layers" in r.question


@pytest.mark.parametrize("text, epochs", [
    ("pretrain simclr on digits, batch 512, lr 0.3 with lars, 100 epochs, warmup 10 epochs", 10),
    ("pretrain byol on shapes with 5 epochs of warmup", 5),
    ("pretrain simclr on digits for 100 epochs with a 10 epoch warmup", 10),
    ("pretrain simclr on digits for 100 epochs with a warmup of one epoch", 1)])
def test_a_warm_up_in_epochs_lands_in_epochs_never_as_steps_or_as_the_run(model, text, epochs):
    r = understand(text, {}, WORLD, model)  # "warmup 10 epochs" was a 10-step warm-up, then a question
    assert r.kind == "tool" and r.args["overrides"]["optim.warmup_epochs"] == epochs, r.question
    assert "optim.warmup_steps" not in r.args["overrides"] and r.args.get("epochs") in (100, None)


@pytest.mark.parametrize("text, want", [
    ("pretrain simclr on digits for 300 steps and log every 10 steps", {"train.log_every": 10}),
    ("pretrain simclr on digits for 300 steps, health metrics every 25 steps", {"train.health_every": 25}),
    ("pretrain vicreg on shapes with a 4096-d projector", {"method_args.proj_dim": 4096}),
    ("pretrain simclr on digits with a 128-dim projection head", {"method_args.proj_dim": 128}),
    ("pretrain mae on shapes with a 128-d projector", {}),  # MAE has none: asked
    ("pretrain simclr on digits with a projector of size 128", {"method_args.proj_dim": 128}),  # was asked
    ("pretrain simclr on digits with a projection head of output size 64", {"method_args.proj_dim": 64}),
    ("pretrain simclr on shapes with 8 dataloader workers", {"data.workers": 8}),
    ("pretrain simclr on digits with 4 workers for loading", {"data.workers": 4}),  # held-out set 60q: asked
    ("pretrain dino on shapes at 64px with 6 local crops at 32",  # their side, never their count, nor the images'
     {"augment.local_crop_size": 32, "augment.n_local_crops": 6, "data.image_size": 64}),
    ("pretrain dino on shapes with 48px local crops", {"augment.local_crop_size": 48, "augment.n_local_crops": 6}),
    ("pretrain dino on shapes with 2 global crops at 64 and 6 local crops at 32",  # the global crops' side: the
     {"data.image_size": 64, "augment.local_crop_size": 32, "augment.n_local_crops": 6}),  # images' size
    ("pretrain simclr on shapes using only 1000 images", {"data.max_samples": 1000}),
    ("pretrain byol on shapes with a 2k-image subset", {"data.max_samples": 2000}),
    ("pretrain simclr on shapes with 20% held out for validation", {"data.val_fraction": 0.2}),
    ("pretrain simclr on shapes with a validation split of 10%", {"data.val_fraction": 0.1}),  # never 10
])
def test_intervals_and_a_sized_projector_in_words(text, want):
    assert find_knobs(text) == want


@pytest.mark.parametrize("text", ["probe run 1 using 50 labelled images per class", "probe run 1 with 10 labels per class",
                                  "run a 5-shot probe on run 1", "probe run 5 on 500 labels"])
def test_labels_per_class_are_asked_about_as_a_share_and_never_read_as_a_run(model, text):
    r = understand(text, {}, WORLD, model)  # "no run 50", "no run 10", or run 1's probe without the count
    assert r.kind == "clarify" and "`eval.label_fraction`" in r.question and "There is no run" not in r.question


def test_a_probe_carries_every_number_it_is_given(model):
    r = understand("probe run 1 with 1000 labelled examples", {}, WORLD, model)  # was a probe on every image
    assert r.args["eval_overrides"]["max_images"] == 1000
    r = understand("probe run 1 with 64 workers", {}, WORLD, model)  # no setting takes it: asked
    assert r.kind == "clarify" and "`64 workers`" in r.question
    r = understand("probe run 1 on gpu 2", {}, WORLD, model)
    assert (r.tool, r.args) == ("run_linear_probe", {"run_id": "1", "device": "cuda:2"})


def test_a_probe_s_device_is_checked_before_it_runs():
    from pydantic import ValidationError

    from tools.tool_table import ProbeArgs

    assert ProbeArgs(run_id="1", device="cuda:2").device == "cuda:2"
    with pytest.raises(ValidationError, match="device"):
        ProbeArgs(run_id="1", device="gpu two; rm -rf /")


def test_the_probe_tool_runs_where_it_is_told(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from tools import runs
    from tools.agent_tools import ToolBox
    from tools.home import Home

    seen = {}
    monkeypatch.setattr(runs, "find_run", lambda home, ref: SimpleNamespace(probe=tmp_path / "none.json"))
    monkeypatch.setattr(runs, "probe", lambda home, ref, device="auto", eval_overrides=None: seen.update(
        device=device, eval_overrides=eval_overrides) or {"run_id": ref, "probe/acc": 0.5})
    (tool,) = [t for t in ToolBox(Home.resolve(tmp_path / "home")).langchain_tools() if t.name == "run_linear_probe"]
    assert tool.invoke({"run_id": "1", "device": "cuda:2"})["probe/acc"] == 0.5 and seen["device"] == "cuda:2"
    tool.invoke({"run_id": "1"})
    assert seen["device"] == "auto"


@pytest.mark.parametrize("text, grid", [
    ("sweep the bottleneck of dino on digits over 64, 128 and 256 for 200 steps",
     {"method_args.bottleneck_dim": [64, 128, 256]}),
    ("sweep vicreg's variance weight over 10, 25 and 50 on digits", {"method_args.mu": [10, 25, 50]}),
    ("sweep vicreg mu 10 and 25 on digits", {"method_args.mu": [10, 25]}),  # 10 was read as a run (session 39)
    ("try mlm on ./corpus with 2, 4 and 6 layers for 300 steps", {"method_args.num_layers": [2, 4, 6]}),
    ("clm on ./corpus with hidden size 128 or 256, and 2 or 4 layers",
     {"method_args.hidden_size": [128, 256], "method_args.num_layers": [2, 4]}),
    ("clm on ./corpus with hidden size 128 and 256 and 2 or 4 layers", {}),  # whose values are which: asked
    ("sweep simclr on digits over the bottleneck 64 and 128", {}),  # SimCLR has none
])
def test_a_sweep_over_a_method_setting_takes_the_method_s_name_for_it(text, grid):
    from agent.grid_words import find_grid, without_grid

    assert find_grid(text) == grid
    assert not re.search(r"\b(?:64|128|256)\b", without_grid(text)) or not grid  # values, never runs


@pytest.mark.parametrize("text, args", [
    ("list my dino runs with a bottleneck of 128", {"method": "dino", "where": ["method_args.bottleneck_dim=128"]}),
    ("which of my runs used a temperature of 0.2?", {"where": ["method_args.temperature=0.2"]}),  # was a question
    ("show runs with lr above 0.01", {"where": ["optim.lr>0.01"]}),  # was every run
    ("which runs had a batch size of at least 512?", {"where": ["train.batch_size>=512"]}),
    ("list runs without the predictor", {"where": ["method_args.predictor=false"]}),
    ("show me the 5 newest runs with lr below 0.001", {"limit": 5, "where": ["optim.lr<0.001"]}),
    ("which runs have a probe above 96%?", {"where": ["probe/acc>0.96"]}),  # was a search of the run logs
    ("list simclr runs with probe accuracy of at least 0.9", {"method": "simclr", "where": ["probe/acc>=0.9"]}),
    ("show runs with knn accuracy below 50 percent", {"where": ["knn/acc<0.5"]}),
    ("what's the best probe accuracy so far?", {"sort": "probe"}),  # was "which run should I probe?"
    ("which method works best on digits?", {"dataset": "digits", "sort": "probe"}),  # asked for checkpoints to audit
    ("which method did best on my data?", {"sort": "probe"}),
    ("which method performed best in my runs?", {"sort": "probe"}),  # asked which runs to rank
    # the result named after its bar
    ("which runs scored over 95% on the probe?", {"where": ["probe/acc>0.95"]}),  # was a search of the run logs
    ("which runs got above 0.9 on knn?", {"where": ["knn/acc>0.9"]}),
    ("runs that reached more than 97% probe accuracy", {"where": ["probe/acc>0.97"]}),  # asked which run to probe
    ("list every run with a probe above 97%", {"where": ["probe/acc>0.97"]}),  # asked which run to probe
    # each run's last value of a metric, a column of it
    ("what was the final loss of each run?", {"metrics": ["loss"]}),  # was a search of the run logs
    ("show the last effective rank for all runs", {"metrics": ["health/rank"]}),
    ("list runs and their final grad norm", {"metrics": ["grad_norm"]}),
])
def test_a_list_of_runs_is_picked_by_the_settings_said(model, text, args):
    r = understand(text, {}, WORLD, model)
    assert (r.tool, r.args) == ("list_runs", args)


@pytest.mark.parametrize("text", ["how do I get run 1 above 95% on the linear probe?",
                                  "how can I improve run 1's probe accuracy?"])  # a probe of run 1, and a question
def test_a_bar_to_reach_is_a_recommendation_not_a_list_or_a_probe(model, text):
    r = understand(text, {}, WORLD, model)
    assert (r.tool, r.args) == ("recommend_next_step", {"run_id": "1"})


def test_the_runs_list_says_what_it_was_picked_by_and_each_run_s_value():
    from agent.answers import runs_table

    row = {"run_id": "2", "name": None, "method": "simclr", "dataset": "digits", "status": "succeeded", "steps": 10,
           "total_steps": 10, "probe_acc": None, "verdict": None, "tags": [], "used": {"optim.lr": 0.04}}
    text = runs_table({"where": ["optim.lr>0.01"], "runs": [row]})
    assert text.startswith("Runs with `optim.lr>0.01`:") and "| optim.lr |" in text and "| 0.04 |" in text
    assert "No runs with `optim.lr>0.01` here" in runs_table({"where": ["optim.lr>0.01"], "runs": []})


def test_a_count_of_runs_after_a_knob_s_word_is_not_its_value(model):
    r = understand("queue 3 byol runs on shapes with seeds 1, 2 and 3", {}, WORLD, model)  # was queue_size 3
    assert (r.tool, r.args.get("overrides"), r.args["grid"]) == ("launch_sweep", None, {"train.seed": [1, 2, 3]})
    assert find_knobs("train moco on shapes with queue 8192") == {"method_args.queue_size": 8192}


@pytest.mark.parametrize("text, args", [
    ("which of my dino runs had out dim 65536?", {"method": "dino", "where": ["method_args.out_dim=65536"]}),  # asked
    ("show me every run whose learning rate was greater than 0.05", {"where": ["optim.lr>0.05"]}),  # "a follow-up?"
    ("list the byol runs with an ema momentum of 0.996", {"method": "byol",  # a literature search
                                                          "where": ["method_args.ema_momentum=0.996"]}),
])
def test_runs_asked_for_with_a_setting_are_a_list_whatever_the_classifier_says(model, text, args):
    r = understand(text, {}, WORLD, model)
    assert (r.tool, r.args) == ("list_runs", args)


def test_the_question_about_a_setting_the_method_lacks_names_its_own_nearest_or_the_owner(model):
    r = understand("pretrain byol on digits for 30 steps with a hidden size of 512", {}, WORLD, model)
    assert r.kind == "clarify" and r.question.endswith(
        "BYOL has no `hidden_size`; its own nearest are `method_args.pred_hidden_dim`, `method_args.proj_hidden_dim`.")
    r = understand("pretrain simclr on digits with a 128-d bottleneck", {}, WORLD, model)
    assert r.question.endswith("SimCLR has no `bottleneck_dim` (DINO has it).")


def test_a_list_rule_on_a_setting_the_method_lacks_is_kept_not_dropped():
    from agent.setting_words import setting_filters

    assert setting_filters("list my simclr runs with a bottleneck of 128") == ["method_args.bottleneck_dim=128"]
    assert setting_filters("list runs with a bottleneck of 128") == ["method_args.bottleneck_dim=128"]  # no method


@pytest.mark.parametrize("text", ["pretrain simclr on digits with mixed precision",
                                  "pretrain simclr on digits in half precision",
                                  "pretrain simclr on digits with 16 bit precision"])
def test_a_lower_precision_not_named_is_asked_which(model, text):
    """"in half precision" launched at full precision; "with mixed precision" was told no setting takes it."""
    r = understand(text, {}, WORLD, model)
    assert r.kind == "clarify" and "`train.precision`: `bf16`" in r.question and "No setting" not in r.question


def test_a_precision_named_or_turned_off_lands():
    assert find_knobs("pretrain simclr on digits without mixed precision") == {"train.precision": "32"}
    assert find_knobs("pretrain simclr on digits with amp in bf16") == {"train.precision": "bf16"}


@pytest.mark.parametrize("text, want", [
    ("pretrain mlm on shapes for 5 epochs with a 10% warmup", {"optim.warmup_epochs": 0.5}),
    ("pretrain simclr on digits for 1000 steps, warmup over the first 5% of training", {"optim.warmup_steps": 50}),
])
def test_a_warm_up_as_a_share_of_a_length_said_lands_in_its_unit(model, text, want):
    r = understand(text, {}, WORLD, model)
    assert r.kind == "tool" and r.args["overrides"] == want, r.question


def test_a_warm_up_as_a_share_without_the_run_s_length_is_asked(model):
    r = understand("pretrain simclr on digits with a 5% warmup", {}, WORLD, model)
    assert r.kind == "clarify" and "needs the run's length" in r.question and "`5% warmup`" in r.question


def test_dino_s_two_global_crops_are_said_not_dropped_and_another_count_is_asked(model):
    r = understand("pretrain dino on shapes with 2 global crops at 64 and 6 local crops at 32", {}, WORLD, model)
    assert r.kind == "tool" and r.args["overrides"]["data.image_size"] == 64, r.question
    r = understand("pretrain dino on shapes with 3 global crops", {}, WORLD, model)
    assert r.kind == "clarify" and "`3 global crops`" in r.question


@pytest.mark.parametrize("message", ["pretrain simclr on digits, only keep the last checkpoint",
                                     "pretrain byol on shapes and save a checkpoint at the end only",
                                     "train vicreg on digits, keep just the final checkpoint"])
def test_only_the_last_checkpoint_keeps_no_others(message):
    r = understand(message, {}, WORLD, get_model())
    assert r.tool == "launch_pretraining" and r.args["overrides"]["train.keep_checkpoints"] == 0


def test_resuming_from_the_last_checkpoint_keeps_its_checkpoints():
    assert "train.keep_checkpoints" not in find_knobs("resume run 2 from the last checkpoint")


@pytest.mark.parametrize("text,overrides", [
    ("byol with 5 warmup epochs", {"optim.warmup_epochs": 5.0}),  # was optim.warmup_steps: 5
    ("byol with warmup epochs 5 for 20 epochs", {"optim.warmup_epochs": 5.0}),  # was a 5-epoch run, warm-up gone
    ("byol for 15 epochs, warmup 1.5 epochs", {"optim.warmup_epochs": 1.5}),  # and a stray warmup_steps: 1
    ("byol with warmup_epochs=3", {"optim.warmup_epochs": 3}),  # was method_args.warmup_epochs
    ("byol with 10 warmup steps", {"optim.warmup_steps": 10})])
def test_a_warmup_in_epochs_is_warmup_epochs_only(text, overrides):
    from agent.launch_words import launch_args

    assert launch_args(text, "byol")["overrides"] == overrides


def test_a_bare_setting_name_is_the_section_that_has_it():
    from tools.launches import dotted_setting

    assert [dotted_setting(k) for k in ("warmup_epochs", "knn_k", "seed", "strength", "temperature", "optim.lr",
                                        "name")] == ["optim.warmup_epochs", "eval.knn_k", "train.seed",
                                                     "augment.strength", "method_args.temperature", "optim.lr",
                                                     "method_args.name"]  # several sections have a name: the method's


@pytest.mark.parametrize("text,overrides", [
    ("vicreg on shapes with sim coeff 25 std coeff 25 cov coeff 1",  # the official code's flags; was "no run 25"
     {"method_args.lambda_": 25, "method_args.mu": 25, "method_args.nu": 1}),
    ("vicreg with var_loss_weight 10 and cov_loss_weight 2", {"method_args.mu": 10, "method_args.nu": 2})])
def test_vicregs_weights_by_their_code_names(text, overrides):
    from agent.launch_words import launch_args

    assert launch_args(text, "vicreg")["overrides"] == overrides


@pytest.mark.parametrize("text,grid", [
    ("use a batch of 96 and 10 warmup steps", {}),  # was a sweep over batch sizes 96 and 10
    ("sweep lr 1e-3, 3e-3 and 10 warmup steps", {"optim.lr": [0.001, 0.003]}),
    ("pretrain vicreg with batch 64 and 128 momentum 0.99", {"train.batch_size": [64, 128]}),  # its own value follows
    ("temperature 0.1 and 0.2 warmup 10", {"method_args.temperature": [0.1, 0.2]}),
])
def test_a_list_s_last_value_before_another_setting_s_name_is_that_setting_s(text, grid):
    assert find_grid(text) == grid


@pytest.mark.parametrize("text, device", [
    ("pretrain simclr on digits on the gpu", "cuda"), ("use the gpu", "cuda"), ("train it using cuda", "cuda"),
    ("pretrain simclr on gpu 1", "cuda:1"), ("pretrain simclr on the cpu", "cpu"),
    ("how much gpu memory will it use?", None), ("pretrain simclr on 2 gpus", None),
    ("what did run 1 cost in gpu time?", None), ("is the gpu free?", None), ("will it run on the gpu?", None),
    ("can you train it on the gpu?", "cuda"), ("do it on the gpu", "cuda")])
def test_a_launch_put_on_a_gpu_without_its_index(text, device):
    """"... use the gpu" was dropped without a word (held-out set 56c): a GPU, whichever the queue finds free."""
    from agent.slots import find_numbers

    assert find_numbers(text).get("device") == device


@pytest.mark.parametrize("text, key, value", [
    ("pretrain simclr on digits with deterministic training", "train.deterministic", True),
    ("pretrain simclr on digits, compile the model", "train.compile", True),
    ("pretrain simclr on digits without torch.compile", "train.compile", False),
    ("pretrain simclr on shapes with 800 generated images", "data.num_samples", 800),
    ("pretrain moco on digits with lr scaled by 2", "optim.lr_scale", 2.0),
    ("pretrain moco on digits, lr_scale 0.5", "optim.lr_scale", 0.5)])
def test_settings_said_in_words_that_were_dropped_or_asked(text, key, value):
    """Held-out set 56u: "deterministic training" and "compile the model" were dropped without a word; "800
    generated images" and "lr scaled by 2" asked what the number was."""
    assert find_knobs(text).get(key) == value


@pytest.mark.parametrize("text, want", [
    ("pretrain byol on digits, twenty steps", "pretrain byol on digits, 20 steps"),
    ("train for a hundred steps", "train for 100 steps"),
    ("two hundred and fifty epochs", "250 epochs"),
    ("for twenty-five more steps", "for 25 more steps"),
    ("batch size sixty-four", "batch size 64"),
    ("one epoch and four local crops", "1 epoch and 4 local crops"),
    ("for fifteen minutes", "for 15 minutes"),
    ("lr .005", "lr 0.005"),
    ("lr 3 x 10^-4", "lr 3e-4"),  # a power of ten was asked about (session 59's notes)
    ("lr of 3×10⁻⁴ please", "lr of 3e-4 please"),
    ("lr=10**-3 for 10^3 steps", "lr=1e-3 for 1000 steps"),
    ("lr 1.5 * 10^(-3)", "lr 1.5e-3"),
    ("a 3 x 10 grid", "a 3 x 10 grid"),  # no power: the words stay
    # no unit counted: the words stay
    ("compare run one and two", "compare run one and two"),
    ("delete the first two runs", "delete the first two runs"),
    ("one more thing", "one more thing"),
    ("data in ./data/x", "data in ./data/x"),
])
def test_counts_spelled_out_are_read_as_digits(text, want):
    """ "pretrain byol on digits, twenty steps" launched the default length, and "a learning rate of .005" the
    default rate, without a word (held-out set 57b)."""
    assert counts_in_digits(text) == want


@pytest.mark.parametrize("text, want", [
    ("pretrain byol on digits, twenty steps", {"steps": 20}),
    ("pretrain simclr on digits for 20 steps at a learning rate of .005", {"steps": 20, "lr": 0.005}),
    ("pretrain simclr on digits for a hundred steps with batch size thirty-two", {"steps": 100, "batch_size": 32}),
])
def test_a_launch_keeps_counts_in_words_and_decimals_without_their_zero(model, text, want):
    r = understand(text, {}, WORLD, model)
    assert r.tool == "launch_pretraining" and {k: r.args.get(k) for k in want} == want


def test_a_note_keeps_its_words_as_written(model):
    r = understand("note on run 1: ran for twenty steps", {}, WORLD, model)
    assert r.tool == "annotate_run" and "twenty steps" in r.args["note"]


@pytest.mark.parametrize("text, want", [
    ("jugde run 1", "judge run 1"), ("please cancle run 3", "please cancel run 3"), ("delte run 2", "delete run 2"),
    ("reccomend something for run 2", "recommend something for run 2"), ("forcast run 1", "forecast run 1"),
    ("vicreg on digits, 20 stpes", "vicreg on digits, 20 steps"),
    # words that are no typo stay
    ("undelete run 3", "undelete run 3"), ("deleted runs are where?", "deleted runs are where?"),
    ("retrain run 2", "retrain run 2"), ("queue mae after run 3 stops", "queue mae after run 3 stops"),
    ("show run 1", "show run 1"), ("diagnosis of run 2?", "diagnosis of run 2?"),
])
def test_a_first_verb_and_a_unit_are_read_through_a_small_typo(text, want):
    """ "jugde run 1", "cancle run 3" and "delte run 2" were questions, "forcast run 1" showed the run, and "20 stpes"
    launched the default length (held-out set 57p)."""
    assert typos_mended(text) == want


def test_a_typo_in_the_first_verb_does_what_the_verb_says(model):
    assert understand("cancle run 3", {}, WORLD, model).tool == "cancel_run"
    assert understand("jugde run 1", {}, WORLD, model).tool == "judge_run"
    assert understand("vicreg on digits pls, 20 stpes", {}, WORLD, model).args.get("steps") == 20


def test_a_cron_written_without_the_word_cron_is_the_schedule():
    """"schedule byol on digits for 20 steps at 0 3 * * *" asked about "steps 3" (held-out set 57u)."""
    from agent.slots import find_cron

    assert find_cron("schedule byol on digits for 20 steps at 0 3 * * *") == "0 3 * * *"
    assert find_cron("sweep seeds 1 2 3 4 5") is None  # five numbers, no "*": no cron


@pytest.mark.parametrize("text, want", [
    ("pretrain simclr on digits for 20 steps, actually 30", "pretrain simclr on digits for 30 steps"),
    ("for 20 steps with lr 1e-3, no wait, 3e-4", "for 20 steps with lr 3e-4"),
    ("with batch size 64, sorry, 128, for 20 steps", "with batch size 128, for 20 steps"),
    ("pretrain simclr on shapes, I mean digits, for 20 steps", "pretrain simclr on digits, for 20 steps"),
    ("pretrain vicreg, or rather byol, on digits", "pretrain byol, on digits"),
    ("for 1,000 steps - make that 2k", "for 2k steps"),
    # nothing of its kind before it, or no value: the words stay
    ("actually, 30 steps", "actually, 30 steps"),
    ("what actually happened in run 2?", "what actually happened in run 2?"),
    ("pretrain simclr on digits, no augmentation", "pretrain simclr on digits, no augmentation"),
    ("sorry, I mean digits", "sorry, I mean digits"),
])
def test_a_value_corrected_as_it_is_said_takes_the_place_of_the_one_it_corrects(text, want):
    """ "pretrain simclr on digits for 20 steps, actually 30" asked what `actually 30` was, and "on shapes, I mean
    digits" which of the two datasets to use (held-out set 58e)."""
    assert self_corrected(text) == want


@pytest.mark.parametrize("text, key, want", [
    ("learning rate = 5e-4", "rate", "lr"),
    ("weight decay = 0.01", "decay", "weight_decay"),
    ("batch size=64", "size", "batch_size"),
    ("for 3 steps foo=3", "foo", "foo"),  # "steps foo" names nothing: foo stays, and is refused as no setting
    ("temperature = 0.2", "temperature", "temperature"),
])
def test_a_setting_assigned_by_its_name_in_words_is_that_setting(text, key, want):
    """ "learning rate = 5e-4" set `method_args.rate`, which SimCLR refused (held-out set 58)."""
    from agent.setting_words import assigned_name

    assert assigned_name(text, key) == want


@pytest.mark.parametrize("text, want", [
    ("for an hour and a half", "for 90 minutes"),
    ("for 2 hours and a half", "for 150 minutes"),
    ("for 1 hour 30 minutes", "for 90 minutes"),
    ("for 2h15m", "for 135 minutes"),
    ("for 1h30", "for 90 minutes"),
    ("for 2 hours", "for 2 hours"),
    ("for 1 hour and 30 steps", "for 1 hour and 30 steps"),  # no minutes: two things
])
def test_a_length_in_hours_and_minutes_is_written_in_minutes(text, want):
    """ "for an hour and a half" trained for an hour, and "for 1h30" without a limit (held-out set 58i)."""
    assert durations_in_minutes(text) == want


@pytest.mark.parametrize("text, want", [
    ("no need to probe, just show me run 1", "show me run 1"),
    ("don't cancel run 3, just tell me how it's doing", "tell me how run 3's doing"),
    ("I don't want to delete run 2, just tag it as bad", "tag run 2 as bad"),
    ("not run 2, diagnose run 1", "diagnose run 1"),
    ("don't relaunch anything, just diagnose run 2", "diagnose run 2"),
    # nothing declined before a request: as written
    ("diagnose run 2 but don't recommend anything", "diagnose run 2 but don't recommend anything"),
    ("don't stop run 3", "don't stop run 3"),
])
def test_a_request_after_what_is_not_wanted_is_the_request(text, want):
    """ "no need to probe, just show me run 1" probed it; "not run 2, diagnose run 1" compared both; "I don't want to
    delete run 2, just tag it as bad" was refused as a hostile request (held-out set 58l)."""
    assert without_declined(text) == want


@pytest.mark.parametrize("text, want", [
    ("pretrain simclr on digits for 20 steps, don't use a cosine schedule", "constant"),
    ("pretrain simclr on digits with a constant lr instead of cosine lr", "constant"),
    ("pretrain simclr on digits with a cosine schedule", "cosine"),
])
def test_a_schedule_ruled_out_is_the_other_one(text, want):
    """ "don't use a cosine schedule" set the cosine schedule (held-out set 58l)."""
    assert find_knobs(text)["optim.schedule"] == want


@pytest.mark.parametrize("text, lr", [
    ("pretrain simclr on digits for 20 steps with a 0.002 lr", 0.002),  # value first (held-out set 60j)
    ("with a 2 x 10^-3 lr", 0.002),
    ("pretrain byol with a 3e-4 learning rate", 0.0003),
    ("lr 0.1", 0.1),
    ("a 10 lr warmup", None),  # a warm-up, not the rate
    ("at 1e-3 and 1e-2 learning rates", None),  # a list: the sweep's (grid_words)
])
def test_a_rate_written_before_its_name_is_the_rate(text, lr):
    assert find_numbers(counts_in_digits(text)).get("lr") == lr
