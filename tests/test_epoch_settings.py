"""Lengths said in epochs (a warm-up, DINO's teacher warm-up and frozen last layer) become steps once the data's
size fixes an epoch, as solo-learn's `warmup_epochs` and DINO's `--warmup_teacher_temp_epochs` are read."""

from __future__ import annotations

import pytest
from conftest import make_run_dir, tiny_config

from ssl_runtime.catalogue import METHODS, method_class
from ssl_runtime.config import EPOCHS_SUFFIX, RunConfig
from ssl_runtime.configure import build_config
from ssl_runtime.errors import ConfigError
from ssl_runtime.run_folder import RunFolder
from tools.launches import launch_config, other_unit, set_length


def test_epochs_become_steps_with_at_least_one_step_for_a_share_above_zero():
    cfg = RunConfig.model_validate({"method": "dino", "optim": {"warmup_epochs": 2},
                                    "method_args": {"teacher_temp_warmup_epochs": 0.01,
                                                    "freeze_last_layer_epochs": 0}})
    cfg.settle_epochs(7)
    assert (cfg.optim.warmup_steps, cfg.optim.warmup_epochs) == (14, None)
    assert cfg.method_args == {"teacher_temp_warmup_steps": 1, "freeze_last_layer_steps": 0}
    assert cfg.from_epochs == {"optim.warmup_steps": 14, "method_args.teacher_temp_warmup_steps": 1,
                               "method_args.freeze_last_layer_steps": 0}


@pytest.mark.parametrize("tree, field", [
    ({"optim": {"warmup_epochs": 2, "warmup_steps": 10}}, "optim.warmup_epochs or optim.warmup_steps"),
    ({"method": "dino", "method_args": {"freeze_last_layer_epochs": 1, "freeze_last_layer_steps": 5}},
     "method_args.freeze_last_layer_epochs or method_args.freeze_last_layer_steps"),
])
def test_a_length_said_both_ways_is_refused_naming_both(tree, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        build_config(tree)


def test_every_method_setting_in_epochs_has_its_steps_twin():
    for name in METHODS:
        fields = method_class(name).Args.model_fields
        for key in fields:
            if key.endswith(EPOCHS_SUFFIX):
                assert key.removesuffix(EPOCHS_SUFFIX) + "_steps" in fields, (name, key)


def test_a_run_trains_its_epoch_settings_as_steps_and_records_them(tmp_path):
    from ssl_runtime.worker import run_worker

    tree = tiny_config("dino", **{"optim.warmup_epochs": 0.2, "method_args.teacher_temp_warmup_epochs": 0.2,
                                  "method_args.warmup_teacher_temp": 0.02, "method_args.freeze_last_layer_epochs": 0.1})
    run = make_run_dir(tmp_path, tree)
    run_worker(run, probe=False)
    folder = RunFolder(run)
    start = next(e for e in folder.read_events() if e.get("type") == "status" and e.get("status") == "running")
    spe = start["steps_per_epoch"]
    assert spe > 10  # digits at batch 64: the shares above are whole steps apart
    resolved = start["resolved"]
    assert resolved["optim.warmup_steps"] == round(0.2 * spe)
    assert resolved["method_args.teacher_temp_warmup_steps"] == round(0.2 * spe)
    assert resolved["method_args.freeze_last_layer_steps"] == round(0.1 * spe)
    assert folder.planned_schedule().warmup == round(0.2 * spe)
    assert folder.read_config()["optim"]["warmup_epochs"] == 0.2  # the config keeps what the user said


def test_a_change_in_one_unit_replaces_the_parents_other():
    assert other_unit("optim.warmup_epochs") == "optim.warmup_steps"
    assert other_unit("method_args.freeze_last_layer_steps") == "method_args.freeze_last_layer_epochs"
    assert other_unit("optim.lr") is None
    parent = launch_config(method="dino", data="digits", steps=20, overrides={"optim.warmup_epochs": 0,
                                                                             "method_args.freeze_last_layer_epochs": 1})
    child = launch_config(base=parent, overrides={"optim.warmup_steps": 500, "method_args.freeze_last_layer_steps": 3})
    assert (child["optim"]["warmup_steps"], child["optim"]["warmup_epochs"]) == (500, None)
    assert child["method_args"]["freeze_last_layer_steps"] == 3
    assert child["method_args"].get("freeze_last_layer_epochs") is None
    tree: dict = {"method_args": {}}
    set_length(tree, "method_args.freeze_last_layer_steps", 3)
    assert tree == {"method_args": {"freeze_last_layer_steps": 3}}  # no twin set to None where there was none
