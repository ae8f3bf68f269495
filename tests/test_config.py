import pytest

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


def test_method_aliases_normalised():
    assert build_config({"method": "Barlow-Twins"}).method == "barlow_twins"


def test_text_methods_need_text_and_a_language_model():
    with pytest.raises(ConfigError, match="digits has none"):
        build_config({"method": "mlm"})  # the default dataset has no text
    with pytest.raises(ConfigError, match="backbone.name"):
        build_config({"method": "clm", "data": {"name": "shapes"}, "backbone": {"name": "resnet18"}})
    with pytest.raises(ConfigError, match="mlm_probability"):
        build_config({"method": "mlm", "data": {"name": "shapes"}, "method_args": {"mlm_probability": 1.5}})
    cfg = build_config({"method": "clip", "data": {"name": "shapes"}})
    assert cfg.method_args["temperature"] == 0.07 and cfg.method_args["max_logit_scale"] == 100.0
