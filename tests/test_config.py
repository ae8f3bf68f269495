import re

import pytest
from conftest import tiny_config

from ssl_runtime.config import parse_overrides
from ssl_runtime.configure import build_config, resolve_config
from ssl_runtime.errors import ConfigError


def test_defaults_and_overrides():
    cfg = resolve_config(None, ["optim.lr=1e-3", "train.steps=5", "method_args.temperature=0.5"], method="simclr")
    assert cfg.optim.lr == pytest.approx(1e-3)
    assert cfg.train.steps == 5 and cfg.train.epochs is None
    assert cfg.method_args["temperature"] == 0.5
    assert cfg.method_args["proj_dim"] == 256  # method default filled in
    assert cfg.data.name == "digits"


def test_yaml_values_are_typed():
    tree = parse_overrides(["a.b=true", "a.c=[1, 2]", "d=hello", "e=null"])
    assert tree == {"a": {"b": True, "c": [1, 2]}, "d": "hello", "e": None}


@pytest.mark.parametrize(
    "overrides, field",
    [
        (["optim.lr=-1"], "optim.lr"),
        (["train.batch_size=0"], "train.batch_size"),
        (["method=mae", "method_args.mask_ratio=1.5"], "method_args.mask_ratio"),
        (["method=mae", "method_args.mask_ratio=0"], "method_args.mask_ratio"),
        (["method=nope"], "method"),
        (["method_args.temprature=0.1"], "method_args.temprature"),
        (["data.name=cifar"], "data"),
        (["augment.strength=2"], "augment.strength"),
        (["train.steps=10", "train.epochs=2"], "train"),
    ],
)
def test_bad_values_name_the_field(overrides, field):
    with pytest.raises(ConfigError) as err:
        resolve_config(None, overrides)
    assert str(err.value).startswith(field), str(err.value)
    assert "\n" not in str(err.value)


def test_local_crops_are_checked_where_the_config_is():
    """Local crops on a method without them were ignored without a word; local crops larger than the global ones
    failed only once the run had started."""
    with pytest.raises(ConfigError, match="^augment.n_local_crops: SimCLR takes no local crops .*DINO's"):
        build_config({"method": "simclr", "augment": {"n_local_crops": 4}})
    with pytest.raises(ConfigError, match="^augment.local_crop_size: BYOL takes no local crops"):
        build_config({"method": "byol", "augment": {"local_crop_size": 12}})
    assert build_config({"method": "simclr", "augment": {"n_local_crops": 0}}).augment.n_local_crops == 0
    with pytest.raises(ConfigError, match="^augment.local_crop_size: local crops of 32 px are larger than the 16 px"):
        build_config({"method": "dino", "data": {"name": "digits"}, "augment": {"local_crop_size": 32}})
    with pytest.raises(ConfigError, match="larger than the 24 px"):
        build_config({"method": "dino", "data": {"name": "shapes", "image_size": 24}, "augment": {"local_crop_size": 32}})
    folder = {"method": "dino", "data": {"path": "/photos"}, "augment": {"local_crop_size": 32}}
    assert build_config(folder).augment.local_crop_size == 32  # its side is known at its start (checked there)


def test_method_aliases_normalised():
    assert build_config({"method": "Barlow-Twins"}).method == "barlow_twins"


def test_text_methods_need_text_and_a_language_model():
    from ssl_runtime.catalogue import IMAGE_TEXT_METHODS, TEXT_METHODS

    with pytest.raises(ConfigError, match="digits has none"):
        build_config({"method": "mlm", "data": {"name": "digits"}})  # digits has no text
    for method in (*TEXT_METHODS, *IMAGE_TEXT_METHODS):  # no data named: the built-in with text (it failed on
        # digits, the default)
        assert build_config({"method": method}).data.name == "shapes"
        assert build_config({"method": method, "data": {"image_size": 32}}).data.image_size == 32
    assert build_config({"method": "byol"}).data.name == "digits"
    assert build_config({"method": "byol", "data": {"path": "/x"}}).data.name is None
    with pytest.raises(ConfigError, match="backbone.name"):
        build_config({"method": "clm", "data": {"name": "shapes"}, "backbone": {"name": "resnet18"}})
    with pytest.raises(ConfigError, match="mlm_probability"):
        build_config({"method": "mlm", "data": {"name": "shapes"}, "method_args": {"mlm_probability": 1.5}})
    cfg = build_config({"method": "clip", "data": {"name": "shapes"}})
    assert cfg.method_args["temperature"] == 0.07 and cfg.method_args["max_logit_scale"] == 100.0


def test_a_vit_s_patch_side_and_mae_s_decoder_are_built_as_set():
    from ssl_runtime.trainer import prepare

    tree = tiny_config("mae", **{"method_args.decoder_depth": 2, "method_args.decoder_dim": 48,
                                 "backbone.patch_size": 4})
    mae = prepare(build_config(tree)).method.mae.config
    assert (mae.decoder_num_hidden_layers, mae.decoder_hidden_size, mae.patch_size) == (2, 48, 4)
    default = prepare(build_config(tiny_config("mae"))).method.mae.config
    assert (default.decoder_num_hidden_layers, default.patch_size) == (4, 2)  # 16 px images: 8x8 patches of 2


@pytest.mark.parametrize("method, overrides, field, at_start", [
    ("simclr", {"backbone.patch_size": 4}, "backbone.patch_size", False),  # auto builds a CNN for simclr
    ("simclr", {"backbone.patch_size": 4, "backbone.name": "resnet18"}, "backbone.patch_size", False),
    ("mae", {"backbone.patch_size": 5}, "backbone.patch_size", True),  # 16 px images do not split into 5 px
    ("mae", {"method_args.decoder_dim": 50}, "method_args.decoder_dim", True),  # 3 heads do not split 50
])
def test_a_patch_or_decoder_that_cannot_be_built_is_refused_naming_its_field(method, overrides, field, at_start):
    from ssl_runtime.trainer import prepare

    tree = tiny_config(method, **overrides)
    with pytest.raises(ConfigError, match=f"^{re.escape(field)}: .*Fix: "):
        prepare(build_config(tree)) if at_start else build_config(tree)


@pytest.mark.parametrize("method, default", [("simclr", 2), ("byol", 2), ("moco", 2), ("vicreg", 3),
                                             ("barlow_twins", 3), ("simsiam", 3)])
def test_a_projector_has_the_depth_its_method_publishes_or_the_one_set(method, default):
    from torch import nn

    from ssl_runtime.trainer import prepare

    def linears(overrides: dict) -> int:
        projector = prepare(build_config(tiny_config(method, **overrides))).method.projector
        return sum(isinstance(m, nn.Linear) for m in projector.modules())

    assert linears({}) == default and linears({"method_args.proj_layers": 4}) == 4


def test_dino_s_local_crops_take_the_side_set_and_never_one_above_the_global_crops():
    from ssl_runtime.trainer import prepare

    sides = lambda overrides: [c.size for c in prepare(build_config(tiny_config("dino", **overrides))).crops]  # noqa: E731
    assert sides({}) == [16, 16, 8, 8]  # two global crops, two local at 96/224 of 16 px (7), and at least 8
    assert sides({"augment.local_crop_size": 12}) == [16, 16, 12, 12]
    with pytest.raises(ConfigError, match="^augment.local_crop_size: local crops of 24 px are larger than the 16 px"):
        prepare(build_config(tiny_config("dino", **{"augment.local_crop_size": 24})))


def test_a_misspelt_key_names_the_one_it_is_close_to():
    import pytest
    from pydantic import ValidationError

    from ssl_runtime.config import RunConfig, format_validation_error

    def said(tree: dict) -> str:
        with pytest.raises(ValidationError) as err:
            RunConfig.model_validate(tree)
        return format_validation_error(err.value)

    assert said({"train": {"stepz": 10}}) == "train.stepz: unknown key. Fix: did you mean `train.steps`?"
    assert said({"optim": {"warmup_epoch": 1}}).endswith("did you mean `optim.warmup_epochs`?")
    assert said({"train": {"xyz": 1}}).endswith("check its spelling against `sslpilot pretrain --help`.")
