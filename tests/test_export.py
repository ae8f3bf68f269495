"""Exported encoders load on a machine without sslpilot, with the one line summary.json gives."""

import json
import subprocess
import sys

import pytest

from ssl_runtime.trainer import train

LOAD = """
import json, sys
line = sys.argv[1].split("  #")[0]
from transformers import AutoModel
model = eval(line)
print(json.dumps({"class": type(model).__name__, "module": type(model).__module__}))
"""


def _fresh_load(line: str, tmp_path) -> subprocess.CompletedProcess:
    """A new interpreter that never imports sslpilot, started outside the repository."""
    return subprocess.run([sys.executable, "-c", LOAD, line], capture_output=True, text=True, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "HOME": str(tmp_path)}, timeout=120)


@pytest.mark.parametrize("backbone,size,plain_class", [
    ("resnet18", 72, "ResNetModel"),  # standard stem above 64 px: transformers' own ResNet
    ("vit_tiny", 32, "ViTModel"),
    ("small_cnn", 16, None),          # no transformers class: its code travels with it
])
def test_exported_encoder_loads_with_the_summary_line(backbone, size, plain_class, run_dir_factory, tmp_path):
    run_dir = run_dir_factory("simclr", name=backbone, **{"backbone.name": backbone, "data.image_size": size,
                                                          "train.steps": 2, "train.batch_size": 16,
                                                          "data.max_samples": 64})
    train(run_dir)
    hint = json.loads((run_dir / "summary.json").read_text())["load"]["encoder"]
    out = _fresh_load(hint, tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    if plain_class:
        assert "trust_remote_code" not in hint
        assert loaded["class"] == plain_class and loaded["module"].startswith("transformers.models")
    else:
        assert "trust_remote_code=True" in hint
        assert loaded["module"].startswith("transformers_modules")  # the folder's own code, not sslpilot's
        plain = _fresh_load(hint.replace(", trust_remote_code=True", ""), tmp_path)
        assert plain.returncode != 0  # which is why the hint says so
