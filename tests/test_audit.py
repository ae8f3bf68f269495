"""`sslpilot audit`: encoders from checkpoints saved elsewhere, measured on held-out images and diagnosed;
the chat's import-and-diagnose and audit turns."""

import json
import shutil

import pytest
import torch
from photos import make_photos

from ssl_runtime.encoders import from_state_dict, load_encoder, torchvision_to_transformers
from ssl_runtime.errors import SSLPilotError
from ssl_runtime.run_folder import RunFolder
from tools.audit import audit
from tools.diagnosis import diagnose_run
from tools.home import Home
from tools.registry import Registry


@pytest.fixture
def home(tmp_path):
    return Home.resolve(tmp_path / "home")


def solo_learn_ckpt(run_dir, out, name: str = "last.pt"):
    """The run's weights saved as solo-learn's Lightning module saves them: `state_dict` with the backbone
    under `backbone.` (its attribute name), the projector beside it, and Lightning's bookkeeping."""
    ck = torch.load(RunFolder(run_dir).checkpoints / name, weights_only=False)  # our own file
    state = {k.replace("backbone.model.", "backbone.", 1): v for k, v in ck["model"].items()}
    torch.save({"state_dict": state, "global_step": ck["step"], "epoch": 10, "pytorch-lightning_version": "2.2.0",
                "hyper_parameters": {"method": "simsiam"}, "optimizer_states": [], "lr_schedulers": []}, out)
    return out


def test_audit_tells_a_collapsed_checkpoint_from_a_healthy_one(simsiam_pair, home, tmp_path):
    verdicts = {}
    for name, run_dir in simsiam_pair.items():
        ckpt = solo_learn_ckpt(run_dir, tmp_path / f"{name}.ckpt")
        run = audit(home, [str(ckpt)], "digits", image_size=16, method="simsiam")
        assert run.source == "audit" and run.status == "succeeded"
        probe = json.loads(RunFolder(run.run_dir).probe.read_text())
        assert 0.0 < probe["probe/acc"] <= 1.0 and "probe/acc" in probe["baseline"]
        verdicts[name] = diagnose_run(home, run.id)
    # the collapsed checkpoint is rank-1 by construction (tests/constructed.py); the trained one is whatever this
    # CPU made of it, so only its distance from the constructed collapse is asserted (measured: spread 0.024 vs
    # 3e-7, a 7e4x margin), not its verdict, which sits 1.3x from a threshold on an AMD EPYC
    assert verdicts["collapsed"]["verdict"] == "complete_collapse", verdicts["collapsed"]["evidence"]
    std = {name: RunFolder(Registry(home).get(v["run_id"]).run_dir).read_metrics()[-1]["health/std"]
           for name, v in verdicts.items()}
    assert std["healthy"] > 100 * std["collapsed"], std
    lidar = {name: RunFolder(Registry(home).get(v["run_id"]).run_dir).read_metrics()[-1]["health/lidar"]
             for name, v in verdicts.items()}
    # LiDAR over augmented views: the rank-1 construction gives 1 exactly; the trained one measured 52.6 (a 50x margin)
    assert lidar["collapsed"] < 1.1 and lidar["healthy"] > 10 * lidar["collapsed"], lidar
    folders = {name: RunFolder(Registry(home).get(v["run_id"]).run_dir) for name, v in verdicts.items()}
    retrieval = {name: f.read_metrics()[-1]["health/view_retrieval"] for name, f in folders.items()}
    n = json.loads(folders["healthy"].summary.read_text())["health_samples"]
    chance = sum(1 / k for k in range(1, n + 1)) / n  # the reciprocal rank of a match drawn at random among n
    # view retrieval: the rank-1 construction tells no image from another, so its matches rank at chance or, on
    # exact ties, last (measured 0.0122-0.0130 of 359 images, chance 0.0181). The trained one measured 0.039 with
    # one thread and 0.047 with two, 2.1-2.6x chance: under a 3x margin, so only its range is asserted here; view
    # retrieval telling images apart is tested on constructed views (tests/test_health.py)
    assert retrieval["collapsed"] < 1.5 * chance, (retrieval, chance)
    assert 1 / n <= retrieval["healthy"] <= 1.0, retrieval


def test_a_finished_run_is_measured_by_view_retrieval_on_its_own_held_out_images(simsiam_pair):
    from ssl_runtime.audit import run_view_health

    scores = run_view_health(simsiam_pair["healthy"], images=64)
    # a rate by construction; LiDAR measured 29.9 on these 64 images, 30x over the rank-1 value of 1
    assert 0.0 <= scores["health/view_retrieval"] <= 1.0 and scores["health/lidar"] > 1.0, scores


def test_a_kept_checkpoint_is_read_as_its_run_reads_images_before_any_export(simsiam_pair, tmp_path):
    """The trainer writes how it reads images beside the checkpoints at its start, so a kept checkpoint of a run
    still training (here: the encoder folder removed) is measured exactly as after the export."""
    import shutil

    from ssl_runtime.audit import run_view_health

    folder = RunFolder(simsiam_pair["healthy"])
    exported = json.loads((folder.encoder / "preprocess.json").read_text())
    assert json.loads(folder.checkpoint_preprocess.read_text()) == {k: v for k, v in exported.items() if k != "pooling"}
    step = sorted(folder.checkpoints.glob("step_*.pt"), key=lambda p: int(p.stem.split("_")[1]))[0]
    after = run_view_health(folder.path, images=64, checkpoint=step)
    running = RunFolder(shutil.copytree(folder.path, tmp_path / "running"))
    shutil.rmtree(running.encoder)
    assert run_view_health(running.path, images=64, checkpoint=running.checkpoints / step.name) == after


def test_checkpoints_of_one_run_give_a_trajectory(simsiam_pair, home):
    steps = sorted(RunFolder(simsiam_pair["collapsed"]).checkpoints.glob("step_*.pt"),
                   key=lambda p: int(p.stem.split("_")[1]))
    assert len(steps) >= 2
    run = audit(home, [str(p) for p in reversed(steps)], "digits", image_size=16)  # any order in, step order out
    rows = RunFolder(run.run_dir).read_metrics()
    assert [r["step"] for r in rows] == sorted(int(p.stem.split("_")[1]) for p in steps)
    assert all({"health/std", "health/rank", "health/lidar", "knn/acc", "probe/acc"} <= r.keys() for r in rows)


def test_exported_folder_and_torchscript_read_the_same(simsiam_pair, home, tmp_path):
    folder = RunFolder(simsiam_pair["healthy"]).encoder
    enc = load_encoder(folder)
    assert enc.arch.startswith("transformers:") and enc.preprocess is not None
    x = torch.rand(4, 3, 16, 16)
    traced = torch.jit.trace(enc.module, x)
    traced.save(str(tmp_path / "encoder.pt"))
    scripted = load_encoder(tmp_path / "encoder.pt")
    assert scripted.arch == "torchscript"
    torch.testing.assert_close(scripted.features(x), enc.features(x))
    a = audit(home, [str(folder)], "digits", image_size=16)
    assert a.source == "audit" and "knn/acc" in RunFolder(a.run_dir).read_metrics()[0]


def test_torchvision_key_layout_rebuilds_the_same_resnet():
    """torchvision/timm ResNet keys map onto transformers' ResNetModel: a ResNet-18 and a CIFAR-stem ResNet-50
    written out under torchvision's names (classifier included) come back as the same function. (The check
    against a real timm model is test_timm_resnet_checkpoint, which needs torchvision.)"""
    from transformers import ResNetConfig, ResNetModel

    from ssl_runtime.backbones.hf_models import CifarResNetConfig, CifarResNetModel

    inverse = {}
    for cfg, cls, size in ((ResNetConfig(layer_type="basic", depths=[2, 2, 2, 2], hidden_sizes=[64, 128, 256, 512]),
                            ResNetModel, 64),
                           (CifarResNetConfig(layer_type="bottleneck", depths=[3, 4, 6, 3]), CifarResNetModel, 32)):
        torch.manual_seed(0)
        model = cls(cfg).eval()
        names = _torchvision_names(len(cfg.depths), cfg.depths, cfg.layer_type)
        inverse = {torchvision_to_transformers(k): k for k in names if torchvision_to_transformers(k)}
        state = {inverse[k]: v for k, v in model.state_dict().items()}
        state["fc.weight"] = torch.zeros(10, cfg.hidden_sizes[-1])
        enc = from_state_dict({f"backbone.{k}": v for k, v in state.items()})
        assert ("CIFAR" in enc.arch) == (cls is CifarResNetModel)
        x = torch.randn(2, 3, size, size)
        torch.testing.assert_close(enc.features(x), model(x).pooler_output.flatten(1))


def _torchvision_names(stages: int, depths, kind: str) -> list[str]:
    bn = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    names = ["conv1.weight", *[f"bn1.{b}" for b in bn]]
    convs = 2 if kind == "basic" else 3
    for i in range(stages):
        for j in range(depths[i]):
            for c in range(1, convs + 1):
                names += [f"layer{i + 1}.{j}.conv{c}.weight", *[f"layer{i + 1}.{j}.bn{c}.{b}" for b in bn]]
            names += [f"layer{i + 1}.{j}.downsample.0.weight", *[f"layer{i + 1}.{j}.downsample.1.{b}" for b in bn]]
    return names


def test_timm_resnet_checkpoint(home, tmp_path):
    timm = pytest.importorskip("timm", reason="timm needs torchvision, which does not import beside the CPU torch "
                                              "wheel on this machine; the key mapping is covered by the test above")
    model = timm.create_model("resnet18", pretrained=False, num_classes=0).eval()
    torch.save({"state_dict": {f"backbone.{k}": v for k, v in model.state_dict().items()}}, tmp_path / "t.ckpt")
    enc = load_encoder(tmp_path / "t.ckpt")
    x = torch.randn(2, 3, 64, 64)
    torch.testing.assert_close(enc.features(x), model(x))


class NotWeights:
    pass


def test_bad_checkpoints_and_unlabelled_images(simsiam_pair, home, tmp_path):
    before = sorted(p.name for p in home.runs.iterdir())
    torch.save({"state_dict": {"head.foo.weight": torch.zeros(3, 3)}}, tmp_path / "odd.ckpt")
    with pytest.raises(SSLPilotError, match="match no encoder"):
        audit(home, [str(tmp_path / "odd.ckpt")], "digits")
    good = solo_learn_ckpt(simsiam_pair["healthy"], tmp_path / "good.ckpt")
    payload = torch.load(good, weights_only=False)
    payload["callbacks"] = NotWeights()  # an arbitrary object: loading it needs a full unpickle
    torch.save(payload, tmp_path / "pickled.ckpt")
    with pytest.raises(SSLPilotError, match="--allow-pickle"):
        audit(home, [str(tmp_path / "pickled.ckpt")], "digits", image_size=16)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(SSLPilotError, match="not a readable PyTorch checkpoint"):
        audit(home, [str(tmp_path / "junk.pt")], "digits")
    with pytest.raises(SSLPilotError, match="does not exist"):
        audit(home, [str(good)], str(tmp_path / "no-such-images"))
    assert sorted(p.name for p in home.runs.iterdir()) == before and Registry(home).list() == []

    trusted = audit(home, [str(tmp_path / "pickled.ckpt")], "digits", image_size=16, allow_pickle=True)
    assert trusted.status == "succeeded"

    flat = tmp_path / "unlabelled"
    make_photos(tmp_path / "photos", n=48, sizes=(24, 40))
    flat.mkdir()
    for f in (tmp_path / "photos").rglob("*.jpg"):
        shutil.copy(f, flat / f"{f.parent.name}-{f.name}")
    run = audit(home, [str(good)], str(flat), image_size=16)
    row = RunFolder(run.run_dir).read_metrics()[0]
    assert "health/std" in row and "knn/acc" not in row and not RunFolder(run.run_dir).probe.exists()
    assert any(e.get("kind") == "no_labels" for e in RunFolder(run.run_dir).read_events())


def test_chat_imports_and_diagnoses_and_audits(simsiam_pair, home, tmp_path):
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    from torch.utils.tensorboard import SummaryWriter

    from agent.session import Agent

    summary = json.loads(RunFolder(simsiam_pair["collapsed"]).summary.read_text())
    logs = tmp_path / "solo" / "version_0"
    writer = SummaryWriter(str(logs))
    for r in RunFolder(simsiam_pair["collapsed"]).read_metrics():
        for ours, theirs in (("loss", "train_neg_cos_sim"), ("health/std", "train_z_std")):
            if ours in r:
                writer.add_scalar(theirs, r[ours], r["step"])
    writer.close()
    (logs / "hparams.yaml").write_text(f"method: simsiam\nmethod_kwargs:\n  proj_output_dim: {summary['embedding_dim']}\n")
    agent = Agent(home, on_launch=lambda rid: None)
    out = agent.chat(f"import my solo-learn run from {logs} and tell me whether it collapsed", "t1")
    names = [c["name"] for c in out["tool_calls"]]
    assert names == ["import_runs", "diagnose_run"], out
    assert "Imported 1 run" in out["answer"] and "collapse" in out["answer"].lower()

    ckpt = solo_learn_ckpt(simsiam_pair["collapsed"], tmp_path / "c.ckpt")
    out = agent.chat(f"audit {ckpt} on digits", "t2")
    assert [c["name"] for c in out["tool_calls"]] == ["audit_checkpoints"], out
    assert "Measured 1 checkpoint" in out["answer"]
    out = agent.chat(f"audit {tmp_path / 'missing.ckpt'} on digits", "t3")
    assert out["tool_calls"] == [] and "cannot find" in out["answer"]


def test_cli_import_audit_export_json(simsiam_pair, tmp_path):
    """The three commands as a user types them: one JSON object each on stdout."""
    import subprocess
    import sys

    from conftest import subprocess_env

    env = {**subprocess_env(), "SSLPILOT_HOME": str(tmp_path / "home"), "SSLPILOT_AUTOSTART": "0"}

    def cli(*args):
        r = subprocess.run([sys.executable, "-m", "ui.cli", *args, "--json"], env=env, capture_output=True, text=True,
                           timeout=300)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    imported = cli("import", str(simsiam_pair["collapsed"]))["runs"]
    assert imported[0]["source"] == "sslpilot" and imported[0]["method"] == "simsiam"
    ckpt = solo_learn_ckpt(simsiam_pair["collapsed"], tmp_path / "c.ckpt")
    audited = cli("audit", str(ckpt), "--data", "digits", "--image-size", "16", "--method", "simsiam")
    assert audited["source"] == "audit"
    out = cli("export", imported[0]["run_id"], "--to", "tensorboard", "--out", str(tmp_path / "tb"))
    assert out["rows"] > 0 and "loss" in out["metrics"]
    r = subprocess.run([sys.executable, "-m", "ui.cli", "audit", str(tmp_path / "nothing.ckpt"), "--data", "digits"],
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "checkpoint" in r.stderr and "does not exist" in r.stderr
