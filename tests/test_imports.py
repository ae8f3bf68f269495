"""Runs trained elsewhere: logs written by the real libraries (tensorboard's SummaryWriter, MLflow's client,
Lightning's CSVLogger, wandb offline) under solo-learn's metric names, imported and diagnosed; and a run's
own metrics exported to TensorBoard and MLflow, read back equal to metrics.jsonl."""

import json
import os

import numpy as np
import pytest
from conftest import COLLAPSED, tiny_config

from ssl_runtime.errors import SSLPilotError
from ssl_runtime.run_folder import RunFolder
from tools.diagnosis import diagnose_run, recommend_run
from tools.home import Home
from tools.imports import import_path
from tools.registry import Registry

SOLO = {"loss": "train_neg_cos_sim", "health/std": "train_z_std", "lr": "lr-SGD"}  # solo-learn's names


def solo_learn_rows(run_dir) -> tuple[list[tuple[int, dict]], int]:
    """The run's own metrics renamed as solo-learn logs them, and its embedding width."""
    rows = []
    for r in RunFolder(run_dir).read_metrics():
        values = {SOLO[k]: v for k, v in r.items() if k in SOLO}
        if values:
            rows.append((r["step"], values))
    dim = json.loads(RunFolder(run_dir).summary.read_text())["embedding_dim"]
    return rows, dim


def metric(home, run_id, key):
    return {r["step"]: r[key] for r in RunFolder(Registry(home).get(run_id).run_dir).read_metrics() if key in r}


@pytest.fixture
def home(tmp_path):
    return Home.resolve(tmp_path / "home")


def test_tensorboard_import_tells_collapse_from_health(simsiam_pair, home, tmp_path):
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    from torch.utils.tensorboard import SummaryWriter

    verdicts = {}
    for name, run_dir in simsiam_pair.items():
        rows, dim = solo_learn_rows(run_dir)
        writer = SummaryWriter(str(tmp_path / "tb" / name))
        for step, values in rows:
            for k, v in values.items():
                writer.add_scalar(k, v, step)
        writer.add_hparams({"method": "simsiam", "proj_output_dim": dim}, {"hp/done": 1.0})
        writer.close()
    runs = import_path(home, str(tmp_path / "tb"))
    assert len(runs) == 2 and {r.source for r in runs} == {"tensorboard"} and {r.method for r in runs} == {"simsiam"}
    for run in runs:
        verdicts[run.name] = diagnose_run(home, run.id)["verdict"]
        original = {s: r["train_z_std"] for s, r in solo_learn_rows(simsiam_pair[run.name])[0] if "train_z_std" in r}
        imported = metric(home, run.id, "health/std")
        assert imported.keys() == original.keys()
        assert all(np.float32(original[s]) == np.float32(imported[s]) for s in original)  # TB keeps float32
    assert verdicts["collapsed"] in COLLAPSED, verdicts
    assert verdicts["healthy"] not in COLLAPSED + ("insufficient_evidence",), verdicts


@pytest.mark.parametrize("store", ["sqlite", "mlruns"])
def test_mlflow_import_reads_every_run_exactly(simsiam_pair, home, tmp_path, store, monkeypatch):
    pytest.importorskip("mlflow", reason="the mlflow extra is not installed")
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    uri = f"sqlite:///{tmp_path}/mlflow.db" if store == "sqlite" else (tmp_path / "mlruns").as_uri()
    client = MlflowClient(uri)
    exp = client.create_experiment("solo")
    ids = {}
    for name, run_dir in simsiam_pair.items():
        rows, dim = solo_learn_rows(run_dir)
        run = client.create_run(exp, run_name=f"simsiam-{name}")
        client.log_param(run.info.run_id, "method", "simsiam")
        client.log_param(run.info.run_id, "proj_output_dim", dim)
        for step, values in rows:
            for k, v in values.items():
                client.log_metric(run.info.run_id, k, v, step=step)
        client.set_terminated(run.info.run_id)
        ids[name] = run.info.run_id
    target = uri if store == "sqlite" else str(tmp_path / "mlruns")
    one = import_path(home, target, run_id=ids["collapsed"])
    assert len(one) == 1 and one[0].source == "mlflow" and one[0].name == "simsiam-collapsed"
    want = {s: v["train_neg_cos_sim"] for s, v in solo_learn_rows(simsiam_pair["collapsed"])[0]
            if "train_neg_cos_sim" in v}
    assert metric(home, one[0].id, "loss") == want  # float64 end to end: exact
    assert diagnose_run(home, one[0].id)["verdict"] in COLLAPSED
    both = import_path(home, target)
    assert sorted(r.name for r in both) == ["simsiam-collapsed", "simsiam-healthy"]


def test_lightning_csv_logger_import(simsiam_pair, home, tmp_path):
    lightning = pytest.importorskip("lightning", reason="lightning is not installed (dev extra)")
    rows, dim = solo_learn_rows(simsiam_pair["collapsed"])
    logger = lightning.pytorch.loggers.CSVLogger(str(tmp_path), name="solo")
    logger.log_hyperparams({"method": "simsiam", "method_kwargs": {"proj_output_dim": dim}})
    for step, values in rows:
        logger.log_metrics({**values, "epoch": 0}, step=step)
    logger.finalize("success")
    (run,) = import_path(home, logger.log_dir)
    assert run.source == "csv" and run.method == "simsiam"
    assert RunFolder(run.run_dir).summary.exists() and json.loads(RunFolder(run.run_dir).summary.read_text())[
        "embedding_dim"] == dim  # read from method_kwargs.proj_output_dim in hparams.yaml
    assert diagnose_run(home, run.id)["verdict"] in COLLAPSED


def test_wandb_offline_run_and_history_csv(simsiam_pair, home, tmp_path, monkeypatch):
    wandb = pytest.importorskip("wandb", reason="the wandb extra is not installed")
    for k, v in {"WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DIR": str(tmp_path),
                 "WANDB_CONFIG_DIR": str(tmp_path / "cfg"), "WANDB_CACHE_DIR": str(tmp_path / "cache"),
                 "WANDB_DATA_DIR": str(tmp_path / "data")}.items():
        monkeypatch.setenv(k, v)
    rows, dim = solo_learn_rows(simsiam_pair["collapsed"])
    run = wandb.init(project="solo", name="collapsed-simsiam", config={"method": "simsiam", "proj_output_dim": dim})
    for step, values in rows:
        run.log(values, step=step)
    run.finish()
    (imported,) = import_path(home, str(tmp_path / "wandb"))
    assert imported.source == "wandb" and imported.name == "collapsed-simsiam" and imported.method == "simsiam"
    assert diagnose_run(home, imported.id)["verdict"] in COLLAPSED
    want = {s: v["train_z_std"] for s, v in rows if "train_z_std" in v}
    assert metric(home, imported.id, "health/std") == pytest.approx(want, rel=1e-12)

    # a run killed while writing: the torn tail is reported, what came before is kept
    log = next((tmp_path / "wandb").glob("offline-run-*/run-*.wandb"))
    torn = tmp_path / "torn" / "run-torn.wandb"
    torn.parent.mkdir()
    torn.write_bytes(log.read_bytes()[: int(log.stat().st_size * 0.7)])
    (partial,) = import_path(home, str(torn), fmt="wandb", method="simsiam")
    notes = json.loads(RunFolder(partial.run_dir).summary.read_text())["import"]["notes"]
    assert any("killed" in n or "damaged" in n for n in notes), notes
    assert 0 < len(metric(home, partial.id, "loss")) <= len(metric(home, imported.id, "loss"))

    # a history exported from the W&B app (run.history() written to CSV): `_step` and `_runtime` columns
    import pandas as pd

    table = pd.DataFrame([{"_step": s, "_runtime": 1.5 * s, **v} for s, v in rows])
    table.to_csv(tmp_path / "history.csv", index=False)
    (csv_run,) = import_path(home, str(tmp_path / "history.csv"), method="simsiam", embedding_dim=dim)
    assert csv_run.source == "wandb" and "_runtime" not in RunFolder(csv_run.run_dir).read_metrics()[0]
    assert diagnose_run(home, csv_run.id)["verdict"] in COLLAPSED


def test_a_loss_curve_alone_says_what_it_cannot_know(simsiam_pair, home, tmp_path):
    import pandas as pd

    rows, _ = solo_learn_rows(simsiam_pair["collapsed"])
    pd.DataFrame([{"step": s, "train_neg_cos_sim": v["train_neg_cos_sim"], "my_custom_metric": 1.0}
                  for s, v in rows if "train_neg_cos_sim" in v]).to_csv(tmp_path / "metrics.csv", index=False)
    (run,) = import_path(home, str(tmp_path / "metrics.csv"), method="simsiam")
    assert set(metric(home, run.id, "my_custom_metric").values()) == {1.0}  # an unknown name is kept as it is
    d = diagnose_run(home, run.id)
    assert d["verdict"] == "insufficient_evidence"
    assert any(c["id"] == "needs_audit" for c in d["causes"])
    assert "cannot tell collapse" in d["evidence"][0]["explanation"]
    rec = recommend_run(home, run.id)
    assert "sslpilot audit" in rec["rationale"] and rec["change"] == {}


def test_bad_input_is_named_and_leaves_the_registry_alone(simsiam_pair, home, tmp_path):
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    from torch.utils.tensorboard import SummaryWriter

    good = import_path(home, str(simsiam_pair["healthy"]))  # an sslpilot run folder, copied as it is
    assert good[0].source == "sslpilot"
    before = sorted(p.name for p in home.runs.iterdir())
    (tmp_path / "empty").mkdir()
    (tmp_path / "words.csv").write_text("name,comment\nfoo,bar\n")
    for target, words in ((tmp_path / "empty", "holds no run logs"), (tmp_path / "missing", "does not exist"),
                          (tmp_path / "words.csv", "no scalar metrics")):
        with pytest.raises(SSLPilotError, match=words):
            import_path(home, str(target))
    with pytest.raises(SSLPilotError, match="method"):
        import_path(home, str(tmp_path / "words.csv"), method="simclrr")
    assert sorted(p.name for p in home.runs.iterdir()) == before
    assert len(Registry(home).list()) == 1

    writer = SummaryWriter(str(tmp_path / "tb-torn"))
    for step in range(200):
        writer.add_scalar("train_loss", 1.0 / (step + 1), step)
    writer.close()
    event = next((tmp_path / "tb-torn").glob("events.out.tfevents.*"))
    event.write_bytes(event.read_bytes()[:-37])  # torn mid-record, as a killed trainer leaves it
    (torn,) = import_path(home, str(tmp_path / "tb-torn"))
    losses = metric(home, torn.id, "loss")
    assert 150 < len(losses) < 200 and losses[0] == 1.0


def test_metrics_mirror_to_tensorboard_and_mlflow_live_and_after(tmp_path, home):
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    pytest.importorskip("mlflow", reason="the mlflow extra is not installed")
    from mlflow.tracking import MlflowClient
    from tensorboard.backend.event_processing.event_accumulator import SCALARS, EventAccumulator

    from ssl_runtime.worker import run_worker
    from tools.exports import export_run
    from tools.runs import enqueue

    live_uri = f"sqlite:///{tmp_path}/live.db"
    run = enqueue(home, tiny_config("simclr", **{"train.mlflow_uri": live_uri}))
    run_worker(run.run_dir, probe=False)
    rows = RunFolder(run.run_dir).read_metrics()
    keys = {k for r in rows for k in r if k not in ("step", "epoch")}
    assert {"loss", "health/std", "lr"} <= keys

    def tensorboard_equal(log_dir) -> None:
        acc = EventAccumulator(str(log_dir), size_guidance={SCALARS: 0})
        acc.Reload()
        for key in keys:
            want = {r["step"]: np.float32(r[key]) for r in rows if key in r}
            assert {e.step: np.float32(e.value) for e in acc.Scalars(key)} == want, key

    def mlflow_equal(uri, mlflow_run_id) -> None:
        client = MlflowClient(uri)
        for key in keys:
            want = {r["step"]: r[key] for r in rows if key in r}
            assert {m.step: m.value for m in client.get_metric_history(mlflow_run_id, key)} == want, key
        assert client.get_run(mlflow_run_id).data.params["method"] == "simclr"

    tensorboard_equal(os.path.join(run.run_dir, "tensorboard"))
    mlflow_equal(live_uri, json.loads((RunFolder(run.run_dir).path / "mlflow.json").read_text())["run_id"])

    out = export_run(home, run.id, "tensorboard", out=str(tmp_path / "tb-after"))
    assert out["rows"] == len(rows)
    tensorboard_equal(tmp_path / "tb-after")
    after_uri = f"sqlite:///{tmp_path}/after.db"
    out = export_run(home, run.id, "mlflow", uri=after_uri)
    mlflow_equal(after_uri, out["target"].split("#")[1])
    with pytest.raises(SSLPilotError, match="already holds event files"):
        export_run(home, run.id, "tensorboard", out=str(tmp_path / "tb-after"))
    with pytest.raises(SSLPilotError, match="tensorboard or --to mlflow"):
        export_run(home, run.id, "wandb")
