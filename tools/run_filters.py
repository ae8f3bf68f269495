"""Runs picked by what they used: "optim.lr>0.01", "method_args.bottleneck_dim=128" (`list_runs(where=...)`, as
MLflow's `search_runs` filters on params). A run is read as `get_run(show=[key])` reads it: the value its config
gave, else the one it chose at its start; a run whose method has no such setting is left out.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass
from typing import Any

from ssl_runtime.config import parse_value
from ssl_runtime.errors import ConfigError

OPS = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
RESULTS = {"probe/acc": "probe_acc", "knn/acc": "knn_acc"}
"""What a run measured that a rule may also pick by ("probe/acc>0.95", as MLflow's `metrics.acc > 0.95`): the key ->
its column in a runs row. A run not measured yet is left out."""
RULE = re.compile(rf"^\s*([a-z_]+(?:\.[a-z0-9_]+)+|{'|'.join(map(re.escape, RESULTS))})\s*(<=|>=|!=|=|<|>)\s*(\S+)\s*$")


@dataclass(frozen=True)
class SettingRule:
    key: str
    op: str
    value: Any

    def __str__(self) -> str:
        return f"{self.key}{self.op}{self.value}"

    def holds(self, used: Any) -> bool:
        """Whether a run that used `used` passes; numbers compare as numbers (0.2 = 0.20), the rest as text."""
        if isinstance(self.value, bool) or isinstance(used, bool):
            return self.op in ("=", "!=") and OPS[self.op](used is self.value, True)
        if isinstance(self.value, int | float) and isinstance(used, int | float):
            if self.op in ("=", "!="):
                return OPS[self.op](math.isclose(used, self.value, rel_tol=1e-9, abs_tol=1e-12), True)
            return OPS[self.op](used, self.value)
        return self.op in ("=", "!=") and OPS[self.op](str(used).lower(), str(self.value).lower())


def parse_rule(text: str) -> SettingRule:
    """`KEY OP VALUE` with a dotted config key; a clear error naming the field otherwise."""
    m = RULE.match(text)
    if not m:
        raise ConfigError(f"{text!r} is not a setting rule", field="where",
                          fix="write KEY OP VALUE with a dotted config key, e.g. 'optim.lr>0.01' or "
                              "'method_args.temperature=0.2', or a result: 'probe/acc>0.95', 'knn/acc>=0.9' "
                              "(OP one of =, !=, <, <=, >, >=)")
    key, op, raw = m.groups()
    value = parse_value(raw)
    if isinstance(value, str):
        try:
            value = float(value)  # YAML reads "1e-3" as text
        except ValueError:
            pass
    if op not in ("=", "!=") and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ConfigError(f"{key} {op} {raw}: only numbers compare with {op}", field="where",
                          fix=f"use = or != for {raw!r}")
    return SettingRule(key, op, value)
