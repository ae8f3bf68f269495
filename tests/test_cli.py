"""The CLI contract: --json prints one object on stdout; bad input is one line on stderr and a non-zero exit."""

import json
import subprocess
import sys

import pytest
from conftest import subprocess_env


def sslpilot(*args, home):
    env = subprocess_env()
    env["SSLPILOT_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], env=env, capture_output=True, text=True,
                          timeout=600)


TINY = ["--set", "backbone.width=0.25", "--set", "method_args.proj_hidden_dim=64", "--set",
        "method_args.proj_dim=32", "--set", "train.health_samples=128", "--set", "train.device=cpu"]


def test_pretrain_json_then_probe(tmp_path):
    r = sslpilot("pretrain", "--method", "simclr", "--data", "digits", "--steps", "8", "--batch-size", "64",
                 *TINY, "--json", home=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)  # exactly one JSON object on stdout
    assert set(out) == {"run_id", "status", "run_dir", "summary"}
    assert out["status"] == "succeeded" and out["run_id"] == "1"
    assert "probe/acc" in out["summary"]["probe"]
    assert (tmp_path / "runs" / "1" / "encoder" / "config.json").exists()
    from tools.home import Home
    from tools.registry import Registry

    ended = Registry(Home.resolve(tmp_path)).get("1")  # its worker closed and its verdict stored when it ended
    assert ended.pid is None and ended.verdict is not None
    p = sslpilot("probe", "1", "--json", home=tmp_path)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["probe/acc"] == pytest.approx(out["summary"]["probe"]["probe/acc"], abs=1e-6)


# one case per kind of check, each a fresh process as a user types it: a config value (pydantic; optim.lr and
# train.batch_size=0 take the same path), a method's own arguments, an unknown method, a missing path, and a
# batch larger than the data (known only once the data is read)
@pytest.mark.parametrize("args, field", [
    (["--method", "simclr", "--set", "optim.lr=-1"], "optim.lr"),
    (["--method", "nope"], "method"),
    (["simclr", "--method", "byol"], "method"),  # two methods: which was meant is not guessed
    (["--method", "mae", "--set", "method_args.mask_ratio=1.2"], "method_args.mask_ratio"),
    (["--data", "/definitely/not/here"], "data.path"),
    (["--steps", "2", "--batch-size", "4000", *TINY], "train.batch_size"),
])
def test_bad_input_is_one_clear_line(tmp_path, args, field):
    r = sslpilot("pretrain", *args, "--json", home=tmp_path)
    assert r.returncode != 0
    assert r.stdout.strip() == "" or "error" not in r.stdout
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {field}"), r.stderr
    assert "Traceback" not in r.stderr


# launch options read before anything is stored: an empty sweep value would run the default unasked, a past time
# would be fired at once or dropped by the scheduler, and a follow-up of no run would point its lineage at nothing
@pytest.mark.parametrize("args, field", [
    (["--sweep", "optim.lr="], "--sweep"),
    (["--sweep", "optim.lr=0.1,"], "--sweep"),
    (["--at", "next tuesday"], "at"),
    (["--at", "2020-01-01T00:00"], "at"),
    (["--parent", "99"], "parent"),
])
def test_a_bad_launch_option_stores_nothing(tmp_path, args, field):
    r = sslpilot("pretrain", "simclr", "--data", "digits", "--steps", "2", "--no-wait", *args, home=tmp_path)
    assert r.returncode != 0
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {field}:"), r.stderr
    assert "Fix:" in lines[0]
    listed = sslpilot("runs", "--json", home=tmp_path)
    assert json.loads(listed.stdout) == {"runs": []}
    assert "no scheduled launches" in sslpilot("scheduled", home=tmp_path).stdout


def test_empty_and_corrupt_folders(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    r = sslpilot("pretrain", "--data", str(empty), "--json", home=tmp_path / "h")
    assert r.returncode == 2 and "data.path" in r.stderr and "empty" in r.stderr
    bad = tmp_path / "bad"
    bad.mkdir()
    for i in range(5):
        (bad / f"{i}.png").write_bytes(b"junk")
    r = sslpilot("pretrain", "--data", str(bad), "--steps", "2", "--json", home=tmp_path / "h")
    assert r.returncode == 2 and "unreadable" in r.stderr and "Traceback" not in r.stderr


def test_probe_unknown_run(tmp_path):
    r = sslpilot("probe", "42", home=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("error: run: no run '42'")


def test_text_and_clip_through_the_cli(tmp_path):
    """mlm/clm/clip go through the same queue-backed pretrain, show and probe as vision runs."""
    lm = ["--set", "method_args.block_size=32", "--set", "method_args.vocab_size=200", "--set",
          "method_args.hidden_size=32", "--set", "method_args.num_layers=1", "--set", "method_args.num_heads=2",
          "--set", "data.num_samples=320", "--set", "train.health_samples=32", "--set", "train.device=cpu"]
    r = sslpilot("pretrain", "clm", "--data", "shapes", "--steps", "6", "--batch-size", "16", *lm,  # the method first
                 home=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "held-out perplexity" in r.stdout and "blocks/s" in r.stdout
    from tools.home import Home
    from tools.registry import Registry

    assert Registry(Home.resolve(tmp_path)).get("1").method == "clm"
    clip = ["--set", "backbone.width=0.25", "--set", "method_args.embed_dim=32", "--set",
            "method_args.text_hidden_size=32", "--set", "method_args.text_layers=1", "--set",
            "method_args.vocab_size=150", "--set", "data.num_samples=320", "--set", "train.health_samples=32",
            "--set", "train.device=cpu"]
    r = sslpilot("pretrain", "--method", "clip", "--data", "shapes", "--steps", "6", "--batch-size", "32", *clip,
                 "--json", home=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "succeeded" and "clip/i2t_recall@5" in out["summary"]["probe"]
    shown = sslpilot("show", out["run_id"], home=tmp_path)
    assert shown.returncode == 0 and "image->text recall@5" in shown.stdout, shown.stderr


@pytest.mark.parametrize("where", ["after", "before"])
def test_home_flag_wins_over_the_environment(tmp_path, where):
    """`--home` beats $SSLPILOT_HOME, as the help says (it once lost), before or after the command name."""
    env_home, flag_home = tmp_path / "from-env", tmp_path / "from-flag"
    args = ["runs", "--json", "--home", str(flag_home)] if where == "after" else ["--home", str(flag_home), "runs",
                                                                                    "--json"]
    r = sslpilot(*args, home=env_home)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"runs": []}
    assert (flag_home / "sslpilot.db").exists() and not env_home.exists()


def test_the_runs_table_fits_the_terminal_and_keeps_what_tells_runs_apart():
    from ui.cli.runs import WHOLE, _fit

    natural = {"id": 3, "name": 24, "user": 5, "method": 12, "data": 30, "status": 11, "steps": 9, "probe": 5,
               "verdict": 20, "tags": 10, "message": 60}
    for width in (60, 80, 100, 140, 240):
        cols = _fit(natural, width)
        assert sum(cols.values()) + 3 * len(cols) + 1 <= width, (width, cols)
        assert all(cols[k] == natural[k] for k in WHOLE if k in natural), cols  # never cut (kNN: shown when sorted by it)
        assert all(min(6, natural[k]) <= w <= natural[k] for k, w in cols.items())
    assert _fit(natural, 240) == natural  # room for everything: nothing cut
    assert "message" not in _fit(natural, 80) and "verdict" in _fit(natural, 80)  # the spare ones go first


def test_runs_are_listed_by_sweep_with_its_name(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from tools.home import Home
    from tools.runs import enqueue, sweep
    from ui.cli import app

    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    home = Home.resolve(tmp_path / "home")
    swept = sweep(home, {"method": "simclr", "data": {"name": "digits"}}, {"optim.lr": [1e-3, 3e-3]}, experiment="lrs")
    alone = enqueue(home, {"method": "byol", "data": {"name": "digits"}})
    listed = json.loads(CliRunner().invoke(app, ["--home", str(home.root), "runs", "--experiment", "lrs",
                                                 "--json"]).stdout)["runs"]
    assert {r["run_id"] for r in listed} == {r.id for r in swept} and {r["experiment"] for r in listed} == {"lrs"}
    everything = json.loads(CliRunner().invoke(app, ["--home", str(home.root), "runs", "--json"]).stdout)["runs"]
    assert next(r for r in everything if r["run_id"] == alone.id)["experiment"] is None
    none = CliRunner().invoke(app, ["--home", str(home.root), "runs", "--experiment", "nope"])
    assert none.exit_code == 0 and "No runs match those filters." in none.stdout



def test_runs_are_listed_by_period_and_sorted_by_probe_or_knn(tmp_path, monkeypatch):
    """`sslpilot runs --since 2d --sort probe` and the chat's "the runs from the last 2 days, sorted by probe": runs
    created in the period only, best first, runs without a probe last (newest first among them); a bad sort names
    the field and the choices."""
    import time
    from pathlib import Path

    from typer.testing import CliRunner

    from tools.home import Home
    from tools.registry import Registry
    from tools.runs import enqueue, list_runs
    from ui.cli import app

    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    home = Home.resolve(tmp_path / "home")
    reg = Registry(home)
    old, low, high, unprobed = (enqueue(home, {"method": "simclr", "data": {"name": "digits"}}) for _ in range(4))
    reg.update(old.id, created_at=time.time() - 10 * 86400)
    for run, acc in ((old, 0.99), (low, 0.5), (high, 0.9)):
        (Path(run.run_dir) / "probe.json").write_text(json.dumps({"probe/acc": acc, "knn/acc": 1 - acc}))
        reg.sync(run.id)
    assert [r["run_id"] for r in list_runs(home, period="2d")] == [unprobed.id, high.id, low.id]
    assert [r["run_id"] for r in list_runs(home, period="2d", sort="probe")] == [high.id, low.id, unprobed.id]
    assert [r["run_id"] for r in list_runs(home, sort="knn", limit=2)] == [low.id, high.id]
    listed = json.loads(CliRunner().invoke(app, ["--home", str(home.root), "runs", "--since", "2d", "--sort", "probe",
                                                 "--json"]).stdout)["runs"]
    assert [r["run_id"] for r in listed] == [high.id, low.id, unprobed.id]
    bad = CliRunner().invoke(app, ["--home", str(home.root), "runs", "--sort", "loss"])
    said = bad.output + str(bad.exception or "")  # the installed entry point prints it as "error: ..."
    assert bad.exit_code != 0 and "sort: cannot sort runs by 'loss'" in said and "newest, oldest, probe, knn, fastest" in said


def test_runs_are_sorted_by_speed_or_training_time_from_their_summaries(tmp_path, monkeypatch):
    """`sslpilot runs --sort fastest|slowest|longest|shortest` and the chat's "which run trained fastest?": finished
    runs ordered by their summary's images a second or wall time, each way, the order's own column shown; a run with
    no summary yet (still going) last."""
    from pathlib import Path

    from typer.testing import CliRunner

    from agent.answers import tool_result_text
    from tools.agent_tools import ToolBox
    from tools.home import Home
    from tools.registry import Registry
    from tools.runs import SORTS, enqueue, list_runs
    from tools.tool_table import RUN_SORTS
    from ui.cli import app

    assert tuple(SORTS) == RUN_SORTS  # the tool's choices and the orders the list knows are one list
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    monkeypatch.setenv("COLUMNS", "200")
    home = Home.resolve(tmp_path / "home")
    reg = Registry(home)
    slow_long, fast_short, middle, going = (enqueue(home, {"method": "simclr", "data": {"name": "digits"}})
                                            for _ in range(4))
    for run, speed, wall in ((slow_long, 100.0, 7200.0), (fast_short, 900.0, 30.0), (middle, 400.0, 600.0)):
        (Path(run.run_dir) / "summary.json").write_text(json.dumps({"samples_per_s": speed, "wall_time_s": wall}))
        reg.sync(run.id)
    order = {s: [r["run_id"] for r in list_runs(home, sort=s)] for s in ("fastest", "slowest", "longest", "shortest")}
    assert order == {"fastest": [fast_short.id, middle.id, slow_long.id, going.id],
                     "slowest": [slow_long.id, middle.id, fast_short.id, going.id],
                     "longest": [slow_long.id, middle.id, fast_short.id, going.id],
                     "shortest": [fast_short.id, middle.id, slow_long.id, going.id]}
    shown = CliRunner().invoke(app, ["--home", str(home.root), "runs", "--sort", "longest"])
    assert shown.exit_code == 0 and "time" in shown.stdout and "2.00 h" in shown.stdout and "30.0 s" in shown.stdout
    text = tool_result_text("list_runs", ToolBox(home).list_runs(sort="fastest"))  # as the chat's tool returns it
    assert "fastest first, in images a second while training" in text and "| images/s |" in text
    first = next(line for line in text.splitlines() if line.startswith("| ") and line[2].isdigit())
    assert first.startswith(f"| {fast_short.id} |") and "| 900 |" in first


def test_how_many_runs_is_answered_with_the_number_of_all_that_match(tmp_path, monkeypatch):
    """"How many runs failed this week?" listed the newest ten and never said how many there were."""
    from agent.answers import tool_result_text
    from tools.agent_tools import ToolBox
    from tools.home import Home
    from tools.runs import enqueue

    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    home = Home.resolve(tmp_path / "home")
    for _ in range(4):
        enqueue(home, {"method": "simclr", "data": {"name": "digits"}})
    enqueue(home, {"method": "byol", "data": {"name": "digits"}})
    box = ToolBox(home)
    out = box.list_runs(method="simclr", limit=2, count=True)
    assert out["count"] == 4 and len(out["runs"]) == 2
    assert tool_result_text("list_runs", out).startswith("**4** simclr runs; the 2 newest:")
    one = box.list_runs(method="byol", count=True)
    assert tool_result_text("list_runs", one).startswith("**1** byol run:")
    assert "count" not in box.list_runs()  # a plain list says no number


def test_a_bad_tool_argument_on_the_command_line_is_one_line_naming_the_field(tmp_path):
    """`sslpilot recommend 1 --category weird` printed pydantic's four-line report with its URL; it is now one line
    with the field and what it takes, exit code 2, as every other bad input."""
    from conftest import sslpilot_cli

    done = sslpilot_cli(tmp_path / "home", "recommend", "1", "--category", "weird", ok=False)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: category: Input should be 'data', 'model' or 'retrieval'"


def test_runs_are_picked_by_the_settings_they_used(tmp_path, monkeypatch):
    """`sslpilot runs --where optim.lr>0.01` and the chat's "which runs used a temperature of 0.2?": a run's value as
    its config gave it, else as it chose it at its start (its summary's `resolved`); a run whose method has no such
    setting is left out; a bad rule names the field and the form."""
    from typer.testing import CliRunner

    from ssl_runtime.errors import ConfigError
    from ssl_runtime.run_folder import RunFolder
    from tools.home import Home
    from tools.registry import Registry
    from tools.runs import enqueue, list_runs
    from ui.cli import app

    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    home = Home.resolve(tmp_path / "home")
    cold = enqueue(home, {"method": "simclr", "data": {"name": "digits"}, "optim": {"lr": 0.001},
                          "method_args": {"temperature": 0.2}})
    hot = enqueue(home, {"method": "simclr", "data": {"name": "digits"}, "method_args": {"temperature": 0.5}})
    dino = enqueue(home, {"method": "dino", "data": {"name": "digits"}, "method_args": {"bottleneck_dim": 128}})
    RunFolder(hot.run_dir).write_summary({"status": "succeeded", "resolved": {"optim.lr": 0.04}})  # lr left to the run
    Registry(home).sync(hot.id)
    ids = lambda rows: [r["run_id"] for r in rows]  # noqa: E731
    assert ids(list_runs(home, where=["method_args.temperature=0.2"])) == [cold.id]  # DINO has none: left out
    assert ids(list_runs(home, where=["optim.lr>0.01"])) == [hot.id]  # the value it chose at its start
    assert ids(list_runs(home, where=["method_args.bottleneck_dim=128"])) == [dino.id]
    assert list_runs(home, where=["method_args.temperature>=0.2", "optim.lr<0.01"])[0]["used"] == {
        "method_args.temperature": 0.2, "optim.lr": 0.001}
    with pytest.raises(ConfigError, match="where: 'lr above 0.01' is not a setting rule. Fix: write KEY OP VALUE"):
        list_runs(home, where=["lr above 0.01"])
    reg = Registry(home)  # by what they measured (MLflow's metrics filter): a run not probed yet is left out
    for run, probe, knn in ((cold, 0.91, 0.85), (hot, 0.97, 0.80)):
        RunFolder(run.run_dir).probe.write_text(json.dumps({"probe/acc": probe, "knn/acc": knn}))
        reg.sync(run.id)
    assert ids(list_runs(home, where=["probe/acc>0.95"])) == [hot.id]
    assert ids(list_runs(home, where=["knn/acc>=0.85", "probe/acc<0.95"])) == [cold.id]
    assert list_runs(home, where=["probe/acc>0.95"])[0]["used"] == {"probe/acc": 0.97}
    assert sorted(ids(list_runs(home, where=["probe/acc>0"]))) == sorted([cold.id, hot.id])  # dino: no probe
    listed = json.loads(CliRunner().invoke(app, ["--home", str(home.root), "runs", "--where", "optim.lr>0.01",
                                                 "--json"]).stdout)["runs"]
    assert ids(listed) == [hot.id]


def test_runs_show_each_runs_last_value_of_a_metric(tmp_path, monkeypatch):
    """"what was the final loss of each run?" (W&B's summary columns): each run's last logged value, ended or still
    training, as the registry sums up its metrics file; '-' where it logged none."""
    from typer.testing import CliRunner

    from agent.answers import runs_table
    from ssl_runtime.run_folder import RunFolder
    from tools.agent_tools import ToolBox
    from tools.home import Home
    from tools.registry import Registry
    from tools.runs import enqueue, list_runs
    from ui.cli import app

    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    home = Home.resolve(tmp_path / "home")
    ended, going = (enqueue(home, {"method": "simclr", "data": {"name": "digits"}}) for _ in range(2))
    RunFolder(ended.run_dir).log_metrics({"step": 10, "loss": 4.75, "health/rank": 31.5})
    RunFolder(ended.run_dir).log_metrics({"step": 20, "loss": 4.25})
    RunFolder(ended.run_dir).write_summary({"status": "succeeded", "final": {"loss": 4.25, "health/rank": 31.5}})
    RunFolder(going.run_dir).log_metrics({"step": 10, "loss": 5.5, "health/rank": 12.0})
    RunFolder(going.run_dir).log_metrics({"step": 20, "loss": 5.0})  # its rank is from step 10
    Registry(home).sync(ended.id)
    rows = {r["run_id"]: r["used"] for r in list_runs(home, metrics=["loss", "health/rank"])}
    assert rows == {ended.id: {"loss": 4.25, "health/rank": 31.5}, going.id: {"loss": 5.0, "health/rank": 12.0}}
    assert list_runs(home, metrics=["health/lidar"])[0]["used"] == {"health/lidar": None}
    answer = ToolBox(home).list_runs(metrics=["loss", "effective rank"])  # the chat's words, as keys
    assert answer["metrics"] == ["loss", "health/rank"]
    text = runs_table(answer)
    assert text.startswith("Runs, each with its last `loss`, `health/rank`:") and "| 4.25 | 31.5 |" in text
    assert runs_table(ToolBox(home).list_runs(metrics=["health/lidar"])).count("| - |") == 2
    listed = json.loads(CliRunner().invoke(app, ["--home", str(home.root), "runs", "--metric", "loss",
                                                 "--json"]).stdout)["runs"]
    assert {r["run_id"]: r["used"]["loss"] for r in listed} == {ended.id: 4.25, going.id: 5.0}


def test_runs_are_sorted_by_a_setting_with_its_values_as_a_column(tmp_path, monkeypatch):
    """"which run used the largest batch size?" (W&B's runs table sorted by a config column; its API's '-config.lr'):
    `sort='-train.batch_size'` highest first, '+' lowest first, each run's value shown; a setting no run has is an
    error that says what to write."""
    import pytest
    from pydantic import ValidationError
    from typer.testing import CliRunner

    from agent.answers import runs_table
    from ssl_runtime.errors import ConfigError
    from tools.agent_tools import ToolBox
    from tools.home import Home
    from tools.runs import enqueue, list_runs
    from tools.tool_table import ListArgs
    from ui.cli import app

    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    home = Home.resolve(tmp_path / "home")
    small, big, middle = (enqueue(home, {"method": "simclr", "data": {"name": "digits"}, "train": {"batch_size": b}})
                          for b in (32, 128, 64))
    order = [r["run_id"] for r in list_runs(home, sort="-train.batch_size")]
    assert order == [big.id, middle.id, small.id]
    rows = list_runs(home, sort="+train.batch_size")
    assert [r["run_id"] for r in rows] == [small.id, middle.id, big.id] and rows[0]["used"] == {"train.batch_size": 32}
    with pytest.raises(ConfigError, match="no run here has a setting 'optim.nonesuch'"):
        list_runs(home, sort="-optim.nonesuch")
    with pytest.raises(ConfigError, match="cannot sort runs by 'batch'"):
        list_runs(home, sort="batch")
    assert ListArgs(sort="-optim.lr").sort == "-optim.lr" and ListArgs(sort="probe").sort == "probe"
    for bad in ("lr", "-lr", "+", "-Optim.LR"):
        with pytest.raises(ValidationError):
            ListArgs(sort=bad)
    text = runs_table(ToolBox(home).list_runs(sort="-train.batch_size"))
    assert text.startswith("Runs, highest `train.batch_size` first") and "| train.batch_size |" in text
    assert "| 128 |" in text.splitlines()[3]  # the first row: the biggest batch
    listed = json.loads(CliRunner().invoke(app, ["--home", str(home.root), "runs", "--sort", "-train.batch_size",
                                                 "--json"]).stdout)["runs"]
    assert [r["used"]["train.batch_size"] for r in listed] == [128, 64, 32]


def test_runs_are_picked_by_their_data_however_the_folder_is_written(tmp_path, monkeypatch):
    """"which runs were trained on digits?" listed every run. A built-in by its name; a folder by where it is, so
    ./photos and its absolute path find the same runs."""
    from photos import make_photos
    from typer.testing import CliRunner

    from tools.home import Home
    from tools.runs import enqueue, list_runs
    from ui.cli import app

    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    monkeypatch.chdir(tmp_path)
    folder = make_photos(tmp_path / "photos", 8)
    home = Home.resolve(tmp_path / "home")
    digits = enqueue(home, {"method": "simclr", "data": {"name": "digits"}})
    shapes = enqueue(home, {"method": "simclr", "data": {"name": "shapes"}})
    mine = enqueue(home, {"method": "simclr", "data": {"path": str(folder)}})
    ids = lambda rows: [r["run_id"] for r in rows]  # noqa: E731
    assert ids(list_runs(home, dataset="digits")) == [digits.id]
    assert ids(list_runs(home, dataset="./photos")) == [mine.id] == ids(list_runs(home, dataset=str(folder)))
    assert list_runs(home, dataset="cifar10") == []
    listed = json.loads(CliRunner().invoke(app, ["--home", str(home.root), "runs", "--data", "shapes",
                                                 "--json"]).stdout)["runs"]
    assert ids(listed) == [shapes.id]
    table = CliRunner().invoke(app, ["--home", str(home.root), "runs", "--data", "digits", "--sort", "knn"]).stdout
    assert " knn " in table and " shapes " not in table  # the order's own column; the other data's runs left out


def test_runs_in_trouble_are_those_that_failed_diverged_or_were_diagnosed_with_a_failure(tmp_path, monkeypatch):
    """"Are any runs failing right now?" was asked back, or searched the run logs for the words. The runs in trouble
    are a list filter (`trouble`, `sslpilot runs --trouble`): ended failed or diverged, or last diagnosed with a
    failure, whatever their status; a healthy or weak run is not in trouble."""
    from typer.testing import CliRunner

    from agent.answers import tool_result_text
    from tools.agent_tools import ToolBox
    from tools.home import Home
    from tools.registry import Registry
    from tools.runs import enqueue, list_runs
    from ui.cli import app

    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    home = Home.resolve(tmp_path / "home")
    reg = Registry(home)
    failed, diverged, collapsed, healthy, weak, stalled = (
        enqueue(home, {"method": "simclr", "data": {"name": "digits"}}) for _ in range(6))
    assert tool_result_text("list_runs", ToolBox(Home.resolve(tmp_path / "empty")).list_runs(
        trouble=True)).startswith("No runs yet, so none in trouble.")
    box = ToolBox(home)
    assert tool_result_text("list_runs", box.list_runs(trouble=True, count=True)).startswith(
        "No runs in trouble here: none failed or diverged")
    for run, status in ((failed, "failed"), (diverged, "diverged"), (collapsed, "succeeded"), (healthy, "succeeded"),
                        (weak, "succeeded")):
        reg.update(run.id, status=status)
    for run, verdict in ((collapsed, "complete_collapse"), (healthy, "healthy"), (weak, "weak_representation"),
                         (stalled, "not_learning")):  # stalled: still queued, its last diagnosis a failure
        reg.add_diagnosis(run.id, "diagnosis", verdict, {})
    assert [r["run_id"] for r in list_runs(home, in_trouble=True)] == [stalled.id, collapsed.id, diverged.id, failed.id]
    assert [r["run_id"] for r in list_runs(home, in_trouble=True, method="byol")] == []
    out = box.list_runs(trouble=True, count=True)
    assert out["count"] == 4 and tool_result_text("list_runs", out).startswith(
        "**4** runs in trouble (failed, diverged, or last diagnosed with a failure):")
    listed = CliRunner().invoke(app, ["--home", str(home.root), "runs", "--trouble", "--json"])
    assert [r["run_id"] for r in json.loads(listed.stdout)["runs"]] == [stalled.id, collapsed.id, diverged.id, failed.id]


def test_a_run_filter_is_read_as_meant_or_refused_never_an_empty_list_for_a_typo(tmp_path, monkeypatch):
    from ssl_runtime.errors import SSLPilotError
    from tools.home import Home
    from tools.runs import enqueue, list_runs

    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    home = Home.resolve(tmp_path / "home")
    enqueue(home, {"method": "barlow_twins", "data": {"name": "digits"}})
    for spelling in ("barlow_twins", "Barlow Twins", "barlow-twins"):
        assert [r["method"] for r in list_runs(home, method=spelling)] == ["barlow_twins"]
    assert len(list_runs(home, status="Queued")) == 1
    for bad, field in ((dict(status="finished"), "status"), (dict(method="simclrr"), "method")):
        with pytest.raises(SSLPilotError) as caught:
            list_runs(home, **bad)
        assert caught.value.field == field and "use one of" in caught.value.fix
    r = sslpilot("runs", "--status", "weird", home=tmp_path / "home")
    assert r.returncode != 0 and r.stderr.startswith("error: status: no run status 'weird'")


def test_runs_are_sorted_by_a_logged_metric_with_the_first_named(tmp_path, monkeypatch):
    """`sslpilot runs --sort +health/rank` (W&B's runs table sorted by a summary column) and the chat's "which run has
    the lowest effective rank?": each run's last logged value, the end asked for first and named; a metric no run
    logs is an error that says what to write."""
    import pytest
    from conversation_eval import seeded_home

    from agent.answers import runs_table
    from ssl_runtime.errors import ConfigError
    from tools.agent_tools import ToolBox
    from tools.runs import list_runs

    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    home = seeded_home(tmp_path / "home", evidence=True)  # run 2 collapsed (rank 1.1), run 1 healthy (rank 30)
    rows = list_runs(home, sort="+health/rank")
    assert [r["run_id"] for r in rows] == ["2", "3", "1"] and rows[0]["used"]["health/rank"] < rows[1]["used"][
        "health/rank"] < rows[2]["used"]["health/rank"]
    assert [r["run_id"] for r in list_runs(home, sort="-health/rank")] == ["1", "3", "2"]
    with pytest.raises(ConfigError, match="no run here has logged 'health/nothing'"):
        list_runs(home, sort="+health/nothing")
    text = runs_table(ToolBox(home).list_runs(sort="+health/rank"))
    assert text.startswith("**Run 2** has the lowest `health/rank` here") and "| health/rank |" in text
