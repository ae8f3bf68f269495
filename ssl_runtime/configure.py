"""From raw input to a validated RunConfig: file, CLI flags and dotted overrides merged, then the
method's own knobs checked by its `Args` model.

Kept apart from config.py (the schema) so the import arrows point one way:
config <- methods <- configure.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ssl_runtime.catalogue import BY_NAME, DEFAULT_DATA, METHODS, canonical, method_settings
from ssl_runtime.config import (
    TEXT_METHODS,
    VISION_METHODS,
    RunConfig,
    deep_merge,
    format_validation_error,
    load_config_file,
    parse_overrides,
    set_dotted,
)
from ssl_runtime.errors import ConfigError
from ssl_runtime.methods import method_class


def build_config(tree: dict[str, Any]) -> RunConfig:
    """Validate a raw mapping into a RunConfig, including the method's own knobs."""
    data = tree.get("data")
    method = BY_NAME.get(canonical(str(tree.get("method") or "")) or "")
    if method and (data is None or isinstance(data, dict) and not (data.get("name") or data.get("path"))):
        tree = {**tree, "data": {**(data or {}), "name": DEFAULT_DATA[method.modality]}}  # no data named: the
        # built-in for the method's modality (a text method on digits, the old default, failed)
    try:
        cfg = RunConfig.model_validate(tree)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err)) from None
    cls = method_class(cfg.method)
    _check_method_setting_names(cfg.method, cfg.method_args)
    try:
        args = cls.Args.model_validate(cfg.method_args)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, within="method_args")) from None
    cfg.method_args = args.settings()
    _check_local_crops(cfg, cls)
    if cfg.method in TEXT_METHODS and cfg.backbone.name != "auto":
        raise ConfigError(f"backbone.name={cfg.backbone.name} is an image backbone; {cfg.method} builds its "
                          "language model from method_args or backbone.pretrained", field="backbone.name",
                          fix="leave backbone.name at auto")
    vit = cfg.backbone.name.startswith("vit") or (cfg.backbone.name == "auto" and cfg.method == "mae")
    if cfg.backbone.patch_size is not None and (not vit or cfg.backbone.pretrained):
        why = "a pretrained model keeps its own patches" if cfg.backbone.pretrained else \
            f"backbone.name={cfg.backbone.name} builds a CNN here"
        raise ConfigError(f"backbone.patch_size is a ViT's, and {why}", field="backbone.patch_size",
                          fix="leave it unset, or use backbone.name=vit_tiny or vit_small without backbone.pretrained")
    if cfg.method not in VISION_METHODS and cfg.data.name == "digits":
        raise ConfigError(f"{cfg.method} needs text: digits has none", field="data",
                          fix="use data.name=shapes (captioned shapes) or data.path=<your text or captions>")
    return cfg


def _check_local_crops(cfg: RunConfig, cls) -> None:
    """Local crops asked of a method that trains on none are named, not ignored; a local side larger than the global
    one is refused here when the train side is already known (given, or a built-in's), else at the run's start."""
    from ssl_runtime.augment import check_local_crop_size
    from ssl_runtime.data import default_image_size

    a = cfg.augment
    multi = getattr(cls, "local_crops", False)  # the text methods are no SSLMethod
    if not multi and (a.n_local_crops or a.local_crop_size is not None):
        field = "augment.n_local_crops" if a.n_local_crops else "augment.local_crop_size"
        crops = [m for m in METHODS if getattr(method_class(m), "local_crops", False)]
        raise ConfigError(f"{BY_NAME[cfg.method].title} takes no local crops (multi-crop is "
                          f"{', '.join(BY_NAME[m].title for m in crops)}'s); it would ignore them", field=field,
                          fix=f"remove {field}, or use method {' or '.join(crops)}")
    if multi and (cfg.data.image_size or cfg.data.name):
        check_local_crop_size(default_image_size(cfg.data), a.local_crop_size)


def _check_method_setting_names(method: str, method_args: dict[str, Any]) -> None:
    """A setting of another method ("teacher_temp" on SimCLR) is named as such, with the method's own settings."""
    have = method_settings(method)
    for key in method_args:
        if key not in have:
            owners = [BY_NAME[m].title for m in METHODS if key in method_settings(m)]
            whose = f" ({', '.join(owners)} {'has' if len(owners) == 1 else 'have'} it)" if owners else ""
            close = difflib.get_close_matches(key, have, n=1)
            fix = f"`{close[0]}`, if that is what you meant; else remove it" if close and not owners else "remove it"
            raise ConfigError(f"{BY_NAME[method].title} has no setting `{key}`{whose}", field=f"method_args.{key}",
                              fix=f"{fix}; {BY_NAME[method].title}'s settings are {', '.join(sorted(have))}")


def resolve_config(
    config_file: str | Path | None = None, overrides: list[str] | None = None, **fields: Any
) -> RunConfig:
    """File, then keyword fields (CLI flags), then dotted overrides: later wins."""
    tree: dict[str, Any] = load_config_file(config_file) if config_file else {}
    flat = {k: v for k, v in fields.items() if v is not None}
    for key, value in flat.items():
        set_dotted(tree, key, value)
    tree = deep_merge(tree, parse_overrides(overrides or []))
    return build_config(tree)


def load_run_config(path: Path) -> RunConfig:
    return build_config(load_config_file(path))
