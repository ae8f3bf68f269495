"""Ranking runs and checkpoints without labels, on runs whose health metrics are written by construction: the
order follows LiDAR (RankMe where LiDAR is missing), the deciding signal is named, and runs of different methods
are refused rather than compared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import sslpilot_cli, tiny_config

from agent.answers import ranking_text
from ssl_runtime.errors import SSLPilotError
from ssl_runtime.run_folder import RunFolder
from tools.home import Home
from tools.ranking import rank_checkpoints, rank_runs
from tools.registry import Registry
from tools.runs import enqueue, sweep


def _write(home, run, rows):
    folder = RunFolder(run.run_dir)
    for r in rows:
        folder.log_metrics(r)
    Registry(home).sync(run.id)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    h = Home.resolve(tmp_path_factory.mktemp("ranking"))
    runs = sweep(h, tiny_config("simclr"), {"optim.lr": [1e-3, 3e-3, 1e-2]}, experiment="lr-sweep")
    for run, lidar in zip(runs, (20.0, 35.0, 9.0), strict=True):
        _write(h, run, [{"step": 10, "health/lidar": 5.0, "health/rank": 30.0},
                        {"step": 20, "health/lidar": lidar, "health/rank": 100.0 - lidar}])
    other = enqueue(h, tiny_config("byol"))
    _write(h, other, [{"step": 20, "health/lidar": 50.0, "health/rank": 50.0}])
    return {"home": h, "sweep": [r.id for r in runs], "byol": other.id}


def test_a_sweep_is_ordered_by_lidar_and_says_what_decided(home):
    r = rank_runs(home["home"], sweep="lr-sweep")
    a, b, c = home["sweep"]
    assert [e["run_id"] for e in r["ranking"]] == [b, a, c] and r["signal"] == "health/lidar"
    assert r["decided_by"].startswith(f"lidar of each run's last health step: run {b} leads with 35")
    assert "75% above the next (run " + a + ")" in r["decided_by"]  # 35 / 20 - 1
    assert [e["settings"] for e in r["ranking"]] == [{"optim.lr": 3e-3}, {"optim.lr": 1e-3}, {"optim.lr": 1e-2}]
    from agent.answers import ranking_text

    # what the sweep varied, beside each run: "which lr was best?" reads off it
    assert f"1. run {b} (optim.lr=0.003): lidar 35" in ranking_text(r)


def test_runs_named_by_id_rank_the_same_way(home):
    a, b, c = home["sweep"]
    r = rank_runs(home["home"], [c, a])
    assert [e["run_id"] for e in r["ranking"]] == [a, c]


def test_a_setting_asked_about_that_the_runs_share_is_said(home):
    """"which temperature was best?" of a sweep over the learning rate: the order says nothing of the temperature,
    and the answer says so, with the one value they all used and what they do differ in."""

    a, b, c = home["sweep"]
    r = rank_runs(home["home"], [a, b, c], about=["method_args.temperature", "optim.lr"])
    temperature = json.loads(Registry(home["home"]).get(a).config_json)["method_args"]["temperature"]
    assert r["not_varied"] == {"method_args.temperature": temperature}  # the lr was varied: not listed
    assert (f"(`method_args.temperature` is {temperature} in every one), so this order says nothing about it: they "
            "differ in `optim.lr`") in ranking_text(r)
    assert "not_varied" not in rank_runs(home["home"], [a, b, c], about=["optim.lr"])


def test_rankme_decides_when_a_run_has_no_lidar(home, tmp_path):
    h = Home.resolve(tmp_path / "h")
    runs = [enqueue(h, tiny_config("simclr")) for _ in range(2)]
    _write(h, runs[0], [{"step": 5, "health/rank": 12.0}])  # an older run: RankMe only
    _write(h, runs[1], [{"step": 5, "health/rank": 30.0, "health/lidar": 1.0}])
    r = rank_runs(h, [runs[0].id, runs[1].id])
    assert r["signal"] == "health/rank" and r["ranking"][0]["run_id"] == runs[1].id


def test_different_methods_are_refused_not_compared(home):
    with pytest.raises(SSLPilotError) as err:
        rank_runs(home["home"], [home["sweep"][0], home["byol"]])
    assert err.value.field == "runs" and "byol on digits, simclr on digits" in str(err.value)
    assert "view retrieval ranks simclr, byol" in str(err.value) and "have none" in str(err.value)  # why: no encoder


def _with_checkpoints(tmp_path, steps: tuple[int, ...]):
    """A home with one SimCLR run that kept (empty) checkpoints at `steps`."""
    h = Home.resolve(tmp_path / "h")
    run = enqueue(h, tiny_config("simclr"))
    folder = RunFolder(run.run_dir)
    folder.checkpoints.mkdir(parents=True, exist_ok=True)
    for step in steps:
        (folder.checkpoints / f"step_{step}.pt").write_bytes(b"")
    return h, run


def test_checkpoints_are_ranked_by_the_health_at_their_step(home, tmp_path):
    h, run = _with_checkpoints(tmp_path, (10, 20, 30))
    _write(h, run, [{"step": 10, "health/lidar": 8.0}, {"step": 20, "health/lidar": 14.0},
                    {"step": 25, "health/lidar": 11.0}])  # step 30's checkpoint reads the row at step 25
    r = rank_checkpoints(h, run.id)
    assert [e["step"] for e in r["ranking"]] == [20, 30, 10] and r["ranking"][1]["health_step"] == 25
    empty = enqueue(h, tiny_config("simclr"))
    with pytest.raises(SSLPilotError, match="keep_checkpoints"):
        rank_checkpoints(h, empty.id)


def test_the_chat_ranks_a_runs_checkpoints(tmp_path):
    """"which checkpoint of run N is best?" reaches rank_checkpoints (the CLI's `rank --checkpoints`), not a show or
    a forecast, and the answer gives the order."""
    from agent.session import Agent

    h, run = _with_checkpoints(tmp_path, (10, 20, 30))
    _write(h, run, [{"step": 10, "health/lidar": 8.0}, {"step": 20, "health/lidar": 14.0},
                    {"step": 30, "health/lidar": 11.0}])
    out = Agent(h).chat(f"which checkpoint of run {run.id} is best?", "ck1")
    assert out["tool_calls"][0] == {"name": "rank_checkpoints", "args": {"run_id": run.id}, "status": "ok"}
    assert f"Run {run.id}'s checkpoints, best first by lidar" in out["answer"]
    assert out["answer"].index("1. step 20") < out["answer"].index("2. step 30") < out["answer"].index("3. step 10")


def test_finished_runs_of_the_calibrated_methods_are_ranked_together_and_other_mixes_refused(tmp_path, monkeypatch):
    """View retrieval ordered the runs of the catalogue's ranked_across methods together on held-out data; so
    finished runs of those methods on one dataset are ranked together. Another method's run among them, or a run
    still training, is refused."""
    import ssl_runtime.audit
    from ssl_runtime.catalogue import RANKED_ACROSS, VISION_METHODS

    a, b = RANKED_ACROSS[:2]
    other = next(m for m in VISION_METHODS if m not in RANKED_ACROSS)
    h = Home.resolve(tmp_path / "h")
    runs = {m: enqueue(h, tiny_config(m)) for m in (a, b, other)}
    scores: dict[str, float] = {}
    monkeypatch.setattr(ssl_runtime.audit, "run_view_health",
                        lambda run_dir, **_: {"health/view_retrieval": scores[str(run_dir)], "health/lidar": 0.0})
    for run in runs.values():
        _write(h, run, [{"step": 5, "health/lidar": 10.0, "health/rank": 10.0}])
    _finished(h, runs[a], scores, 0.2)
    listed = ", ".join(sorted(f"{m} on digits" for m in (a, b)))
    with pytest.raises(SSLPilotError, match=listed) as err:  # b still queued: ordered by LiDAR, so one method only
        rank_runs(h, [runs[a].id, runs[b].id])
    assert f"and run {runs[b].id} has none" in str(err.value) and "not calibrated" not in str(err.value)  # says why
    _finished(h, runs[b], scores, 0.3)
    r = rank_runs(h, [runs[a].id, runs[b].id])
    assert r["signal"] == "health/view_retrieval" and r["method"] == ", ".join(sorted((a, b)))
    assert [e["run_id"] for e in r["ranking"]] == [runs[b].id, runs[a].id]
    _finished(h, runs[other], scores, 0.9)
    with pytest.raises(SSLPilotError, match="not calibrated"):
        rank_runs(h, [run.id for run in runs.values()])


def test_kept_checkpoints_are_ordered_by_view_retrieval_once_the_run_says_how_to_read_them(tmp_path, monkeypatch):
    """A run that wrote how it reads images beside its checkpoints (every vision run since session 15, at its
    start) has each checkpoint measured, finished or not (here the measurement is replaced), and the order follows
    it against LiDAR's; an older run without that file follows the logged LiDAR."""
    import ssl_runtime.audit

    h, run = _with_checkpoints(tmp_path, (10, 20, 30))
    _write(h, run, [{"step": s, "health/lidar": 40.0 - s} for s in (10, 20, 30)])
    retrieval = {10: 0.1, 20: 0.5, 30: 0.3}
    monkeypatch.setattr(ssl_runtime.audit, "run_view_health", lambda run_dir, checkpoint=None, **_: {
        "health/view_retrieval": retrieval[int(Path(checkpoint).stem.split("_")[1])], "health/lidar": 0.0})
    r = rank_checkpoints(h, run.id)
    assert r["signal"] == "health/lidar" and [e["step"] for e in r["ranking"]] == [10, 20, 30]
    RunFolder(run.run_dir).checkpoint_preprocess.write_text('{"image_size": 16}')  # the run is still queued
    r = rank_checkpoints(h, run.id)
    assert r["signal"] == "health/view_retrieval" and [e["step"] for e in r["ranking"]] == [20, 30, 10]
    assert "each kept checkpoint" in r["decided_by"] and "last checkpoint" in r["caveat"]


def test_the_cli_prints_the_ranking(home):
    out = sslpilot_cli(home["home"].root, "rank", "--sweep", "lr-sweep")
    assert "best first by lidar" in out.stdout and out.stdout.index(f"run {home['sweep'][1]}") < out.stdout.index(
        f"run {home['sweep'][0]}")


def test_the_chat_ranks_the_runs_of_the_method_named(home):
    from agent.session import Agent

    a, b, c = home["sweep"]
    out = Agent(home["home"]).chat("which of my simclr runs is best?", "rank1")
    assert out["tool_calls"][0] == {"name": "rank_runs", "args": {"run_ids": [a, b, c]}, "status": "ok"}
    assert "best first by lidar" in out["answer"] and out["answer"].index(f"run {b}") < out["answer"].index(f"run {a}")
    assert "neither LiDAR nor RankMe ordered runs the way a linear probe did" in out["answer"]  # measured, said
    agent = Agent(home["home"])  # the same thread: "the best one" is the ranking's leader (no probes here)
    out = agent.chat("what learning rate did the best one use?", "rank1")
    assert out["tool_calls"][0]["name"] == "get_run" and out["tool_calls"][0]["args"]["run_id"] == b, out
    out = Agent(home["home"]).chat(f"rank runs {a} and {home['byol']}", "rank2")  # two methods, nothing to measure:
    assert [c["name"] for c in out["tool_calls"]] == ["rank_runs", "compare_runs"]  # refused, explained, and shown
    assert "I cannot rank these runs without labels" in out["answer"] and "have none" in out["answer"]  # side by side
    assert f"| {home['byol']} | byol |" in out["answer"]


def _thinned(every: int, total: int, keep: int) -> list[int]:
    from ssl_runtime.checkpoint import spread_out

    kept: list[int] = []
    for step in [*range(every, total + 1, every), total]:
        if step not in kept:
            kept.append(step)
            for dropped in spread_out(kept, keep, every):
                kept.remove(dropped)
    return kept


def test_kept_checkpoints_spread_over_the_run_not_only_its_end():
    assert _thinned(100, 1000, 5) == [200, 400, 600, 800, 1000]
    assert _thinned(30, 250, 5) == [60, 120, 180, 240, 250]  # the end-of-run checkpoint is the newest
    assert _thinned(7, 70, 1) == [70] and _thinned(5, 50, 0) == []


def test_a_default_run_keeps_a_rankable_trajectory(run_dir_factory):
    """No checkpoint settings: about a tenth of the run between checkpoints, on health steps, five kept spread
    out (so `rank --checkpoints` reads each checkpoint's own signal)."""
    from ssl_runtime.trainer import train

    run_dir = run_dir_factory("simclr", **{"train.steps": 40, "train.health_every": 4, "train.checkpoint_every": None})
    train(run_dir)
    folder = RunFolder(run_dir)
    steps = sorted(int(p.stem.split("_")[1]) for p in folder.checkpoints.glob("step_*.pt"))
    assert steps == [8, 16, 24, 32, 40]
    health_steps = {r["step"] for r in folder.read_metrics() if "health/lidar" in r}
    assert set(steps) <= health_steps


def _finished(h, run, retrieval_scores: dict, score: float) -> None:
    """A finished run with an exported encoder (its files stand in; the measurement is replaced below)."""
    folder = RunFolder(run.run_dir)
    folder.encoder.mkdir(parents=True, exist_ok=True)
    (folder.encoder / "config.json").write_text("{}")
    folder.set_status("succeeded")
    Registry(h).sync(run.id)
    retrieval_scores[str(run.run_dir)] = score


def test_finished_runs_are_ordered_by_view_retrieval_on_their_encoders(tmp_path, monkeypatch):
    """The order follows the measured view retrieval, not the logged LiDAR (which says the opposite here); with one
    run unfinished, every run is ordered by what its training logged instead."""
    import ssl_runtime.audit

    h = Home.resolve(tmp_path / "h")
    runs = [enqueue(h, tiny_config("simclr")) for _ in range(3)]
    scores: dict[str, float] = {}
    monkeypatch.setattr(ssl_runtime.audit, "run_view_health",
                        lambda run_dir, **_: {"health/view_retrieval": scores[str(run_dir)], "health/lidar": 0.0})
    for run, lidar in zip(runs, (40.0, 10.0, 20.0), strict=True):
        _write(h, run, [{"step": 5, "health/lidar": lidar, "health/rank": 10.0}])
    for run, score in zip(runs[:2], (0.2, 0.6), strict=True):
        _finished(h, run, scores, score)
    r = rank_runs(h, [run.id for run in runs])
    assert r["signal"] == "health/lidar" and r["ranking"][0]["run_id"] == runs[0].id  # run 3 still queued
    _finished(h, runs[2], scores, 0.4)
    r = rank_runs(h, [run.id for run in runs])
    assert r["signal"] == "health/view_retrieval"
    assert [e["run_id"] for e in r["ranking"]] == [runs[1].id, runs[2].id, runs[0].id]
    assert "final encoder" in r["decided_by"] and "2048 images" in r["caveat"]


def test_a_runs_view_retrieval_is_measured_once_until_its_encoder_changes(tmp_path, monkeypatch):
    """The compare page and the chat draw rankings again and again: the measurement is kept in the run folder by
    the encoder's (or checkpoint's) size and time, and made again only when that file changes."""
    import os

    import ssl_runtime.audit
    from tools.ranking import VIEW_IMAGES, view_readings_of

    calls: list = []
    sizes: set = set()
    monkeypatch.setattr(ssl_runtime.audit, "run_view_health", lambda run_dir, checkpoint=None, images=256, **_: (
        calls.append(checkpoint) or sizes.add(images) or {"health/view_retrieval": float(len(calls)),
                                                          "health/lidar": 0.0}))

    def retrieval(*args, **kwargs) -> float:
        return view_readings_of(*args, **kwargs)["health/view_retrieval"]

    folder = RunFolder(tmp_path / "run").create()
    folder.encoder.mkdir()
    weights = folder.encoder / "model.safetensors"
    weights.write_bytes(b"v1")
    ckpt = folder.checkpoints / "step_10.pt"
    ckpt.write_bytes(b"c")
    assert retrieval(str(folder.path)) == 1.0 and retrieval(str(folder.path)) == 1.0
    assert retrieval(str(folder.path), ckpt) == 2.0 and retrieval(str(folder.path), ckpt) == 2.0
    assert calls == [None, ckpt] and sizes == {VIEW_IMAGES} == {2048}  # session 17: 2048 images, not 256
    assert retrieval(str(folder.path), random_init=True) == 3.0  # the baseline is kept apart from the encoder
    assert retrieval(str(folder.path), random_init=True) == 3.0 and len(calls) == 3
    weights.write_bytes(b"v2 ")  # a new export: another size and time
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))
    assert retrieval(str(folder.path)) == 4.0 and len(calls) == 4
    folder.view_health.write_text("{torn")  # an unreadable record is measured again, not an error
    assert retrieval(str(folder.path), ckpt) == 5.0
    monkeypatch.setattr("tools.ranking.write_json_atomic", lambda *_: (_ for _ in ()).throw(OSError(28, "full")))
    assert retrieval(str(folder.path), random_init=True) == 6.0  # a full disk: measured, not kept, no error
    assert retrieval(str(folder.path), random_init=True) == 7.0


def test_a_run_still_training_is_ranked_by_its_newest_kept_checkpoint(tmp_path, monkeypatch):
    """A sweep watched while it runs: the finished run is measured on its encoder, the one still training on its
    newest kept checkpoint (not an older one), and the answer says which step that was."""
    import ssl_runtime.audit

    h = Home.resolve(tmp_path / "h")
    done, going = enqueue(h, tiny_config("simclr")), enqueue(h, tiny_config("simclr"))
    scores = {str(done.run_dir): 0.3}
    folder = RunFolder(going.run_dir)
    folder.checkpoints.mkdir(parents=True, exist_ok=True)
    for step, score in ((10, 0.9), (20, 0.5)):
        (folder.checkpoints / f"step_{step}.pt").write_bytes(b"")
        scores[str(folder.checkpoints / f"step_{step}.pt")] = score
    folder.checkpoint_preprocess.write_text('{"image_size": 16}')
    monkeypatch.setattr(ssl_runtime.audit, "run_view_health", lambda run_dir, checkpoint=None, **_: {
        "health/view_retrieval": scores[str(checkpoint or run_dir)], "health/lidar": 0.0})
    for run in (done, going):
        _write(h, run, [{"step": 5, "health/lidar": 10.0, "health/rank": 10.0}])
    _finished(h, done, scores, 0.3)
    r = rank_runs(h, [done.id, going.id])
    assert r["signal"] == "health/view_retrieval" and [e["run_id"] for e in r["ranking"]] == [going.id, done.id]
    assert r["ranking"][0]["score"] == 0.5 and "(step 20, still training)" in r["ranking"][0]["label"]


def test_finished_runs_are_ordered_by_view_retrieval_and_cluster_consistency_together(tmp_path, monkeypatch):
    """Where the two readings disagree, runs are ordered by the mean of their places (ties by view retrieval) and the
    answer says so, with both readings; a run whose cluster consistency could not be measured leaves the order to
    view retrieval."""
    import ssl_runtime.audit

    h = Home.resolve(tmp_path / "h")
    runs = [enqueue(h, tiny_config("simclr")) for _ in range(4)]
    scores: dict[str, float] = {}
    clusters: dict[str, float | None] = {}
    monkeypatch.setattr(ssl_runtime.audit, "run_view_health", lambda run_dir, **_: {
        "health/view_retrieval": scores[str(run_dir)], "health/cluster_consistency": clusters[str(run_dir)]})
    for run, retrieval, cluster in zip(runs, (0.4, 0.3, 0.2, 0.1), (0.1, 0.4, 0.3, 0.2), strict=True):
        _write(h, run, [{"step": 5, "health/lidar": 10.0, "health/rank": 10.0}])
        _finished(h, run, scores, retrieval)
        clusters[str(run.run_dir)] = cluster
    r = rank_runs(h, [run.id for run in runs])  # mean places (1 the best) 2.5, 1.5, 2.5, 3.5
    assert [e["run_id"] for e in r["ranking"]] == [runs[1].id, runs[0].id, runs[2].id, runs[3].id]
    assert [e["score"] for e in r["ranking"]] == [1.5, 2.5, 2.5, 3.5] and r["paired"]
    assert "cluster consistency" in r["signal_name"] and "their ranks averaged" in r["decided_by"]
    line = f"1. run {runs[1].id}: view retrieval 0.3, cluster consistency 0.4 (mean place 1.5 of 4)"
    assert line in ranking_text(r)
    h2 = Home.resolve(tmp_path / "h2")
    runs = [enqueue(h2, tiny_config("simclr")) for _ in range(3)]
    for run, retrieval in zip(runs, (0.1, 0.3, 0.2), strict=True):
        _write(h2, run, [{"step": 5, "health/lidar": 10.0, "health/rank": 10.0}])
        _finished(h2, run, scores, retrieval)
        clusters[str(run.run_dir)] = None if run is runs[0] else 0.5
    r = rank_runs(h2, [run.id for run in runs])
    assert r["signal_name"] == "view retrieval" and [e["run_id"] for e in r["ranking"]] == [runs[1].id, runs[2].id,
                                                                                            runs[0].id]


def test_runs_of_several_methods_name_each_methods_leader_as_the_shortlist(tmp_path, monkeypatch):
    """Across methods the label-free order is less sure than within one (RESULTS.md: up to 1.22 probe points lost
    across methods, within a method once in 15), so a ranking that mixes methods also names each method's first run, in the
    overall order, and says why; a ranking of one method names none."""
    import ssl_runtime.audit
    from ssl_runtime.catalogue import RANKED_ACROSS

    a, b = RANKED_ACROSS[:2]
    h = Home.resolve(tmp_path / "h")
    runs = [enqueue(h, tiny_config(m)) for m in (a, a, b, b)]
    scores: dict[str, float] = {}
    monkeypatch.setattr(ssl_runtime.audit, "run_view_health",
                        lambda run_dir, **_: {"health/view_retrieval": scores[str(run_dir)]})
    for run, retrieval in zip(runs, (0.2, 0.5, 0.4, 0.1), strict=True):
        _write(h, run, [{"step": 5, "health/lidar": 10.0, "health/rank": 10.0}])
        _finished(h, run, scores, retrieval)
    r = rank_runs(h, [run.id for run in runs])
    assert [e["run_id"] for e in r["ranking"]] == [runs[1].id, runs[2].id, runs[0].id, runs[3].id]
    assert [(e["method"], e["run_id"]) for e in r["leaders"]] == [(a, runs[1].id), (b, runs[2].id)]
    text = ranking_text(r)
    assert f"Each method's best, without labels: run {runs[1].id} ({a}), run {runs[2].id} ({b})." in text
    assert "shortlist to probe" in text
    for e in r["ranking"]:  # each run by its method and its own settings, never another method's as None
        assert e["settings"]["method"] == e["method"] and None not in e["settings"].values(), e["settings"]
    assert "=None" not in text
    one = rank_runs(h, [runs[0].id, runs[1].id])
    assert "leaders" not in one and "Each method's best" not in ranking_text(one)


def test_a_run_that_ended_with_nothing_to_measure_is_left_out_not_a_refusal(tmp_path, monkeypatch):
    """"Which run is best?" over a BYOL and a SimCLR run and a BYOL run that crashed at step 0 was refused as
    mixing methods (the crashed run had no encoder to measure). It is left out, and said so; with one run left
    there is nothing to rank."""
    import ssl_runtime.audit
    from ssl_runtime.catalogue import RANKED_ACROSS

    a, b = RANKED_ACROSS[:2]
    h = Home.resolve(tmp_path / "h")
    runs = [enqueue(h, tiny_config(m)) for m in (a, b, a)]
    scores: dict[str, float] = {}
    monkeypatch.setattr(ssl_runtime.audit, "run_view_health",
                        lambda run_dir, **_: {"health/view_retrieval": scores[str(run_dir)]})
    for run, retrieval in zip(runs[:2], (0.2, 0.5), strict=True):
        _write(h, run, [{"step": 5, "health/lidar": 10.0, "health/rank": 10.0}])
        _finished(h, run, scores, retrieval)
    RunFolder(runs[2].run_dir).set_status("failed", "RuntimeError: DataLoader worker is killed")
    Registry(h).sync(runs[2].id)
    r = rank_runs(h, [run.id for run in runs])
    assert [e["run_id"] for e in r["ranking"]] == [runs[1].id, runs[0].id]
    assert r["left_out"] == [{"run_id": runs[2].id, "why": "failed at step 0 with nothing to measure"}]
    assert f"Left out: run {runs[2].id} (failed at step 0 with nothing to measure)." in ranking_text(r)
    with pytest.raises(SSLPilotError, match="fewer than two of these runs can be ranked"):
        rank_runs(h, [runs[0].id, runs[2].id])


def test_where_every_run_has_a_probe_its_leader_is_named_beside_the_label_free_order():
    from tools.ranking import probe_note

    entries = [{"run_id": "2", "label": "run 2", "rank": 1, "probe_acc": 0.90, "probe_images": 160},
               {"run_id": "3", "label": "run 3", "rank": 2, "probe_acc": 0.967, "probe_images": 359}]
    said = probe_note(entries)  # 6.7 points apart, the difference's standard error 2.6 points
    assert "the linear probe picks run 3 (96.7%)" in said and "the probe is the measure to trust" in said
    assert "160 to 359 held-out images" in said
    entries[0]["probe_acc"], entries[1]["probe_acc"] = 0.97, 0.90
    entries[1]["probe_images"] = 160
    said = probe_note(entries)
    assert "picks run 2 (97.0%), as the label-free order does" in said and "held-out images" not in said
    entries[1]["probe_acc"] = None  # one run without a probe: no note
    assert probe_note(entries) is None


def test_a_probe_that_cannot_tell_the_leaders_apart_neither_confirms_nor_refutes_the_order():
    from tools.ranking import probe_note

    entries = [{"run_id": "1", "label": "run 1", "rank": 1, "probe_acc": 0.9638, "probe_images": 359},
               {"run_id": "3", "label": "run 3", "rank": 2, "probe_acc": 0.9638, "probe_images": 359},
               {"run_id": "2", "label": "run 2", "rank": 3, "probe_acc": 0.9638, "probe_images": 359}]
    said = probe_note(entries)  # three runs on 346 of 359 images each: it once said "the probe picks run 1"
    assert "run 1, run 3 and run 2 tie on the linear probe (96.4%)" in said and "picks" not in said
    entries[1]["probe_acc"] = 0.9666  # one image more: within the error of a difference on 359 images
    said = probe_note(entries)
    assert "cannot tell run 3 (96.7%) from run 1 (96.4%)" in said and "neither confirms nor refutes" in said
    entries[1]["probe_acc"] = entries[2]["probe_acc"] = 0.9  # far apart: the probe's leader is named
    assert "the linear probe picks run 1 (96.4%), as the label-free order does" in probe_note(entries)


def test_the_best_one_after_a_ranking_is_its_leader_or_a_question_when_the_probe_disagrees():
    """"train the best one for 100 more steps" after a ranking asked which run ("A follow-up of which run?"); it is
    the leader, and when the label-free order and the probe picked different runs, a question with both."""
    from understanding_eval import WORLD

    from agent.intent_model import get_model
    from agent.ranked_words import leaders_of
    from agent.understand import understand

    model = get_model()
    result = {"ranking": [{"run_id": "5", "probe_acc": 0.91}, {"run_id": "1", "probe_acc": 0.95}]}
    split = leaders_of(result)
    assert split == {"label_free": "5", "probe": "1", "worst": None, "run_ids": ["5", "1"]}  # worst: the probe
    # disagrees with the label-free order at the bottom too
    r = understand("train the best one for 100 more steps", {"last_ranking": split}, WORLD, model)
    assert r.kind == "clarify" and "run 5 first without labels, and run 1 by the linear probe" in r.question
    assert r.options == ["train run 5 for 100 more steps", "train run 1 for 100 more steps"]
    tied = leaders_of({"ranking": [{"run_id": "5", "probe_acc": 0.95}, {"run_id": "1", "probe_acc": 0.95}]})
    assert tied["probe"] == "5"  # a tie at the top does not gainsay the label-free leader (no question)
    agreed = leaders_of({"ranking": [{"run_id": "1", "probe_acc": None}, {"run_id": "5", "probe_acc": 0.9}]})
    assert agreed["probe"] is None  # not every run probed: the label-free leader alone
    r = understand("train the best one for 100 more steps", {"last_ranking": agreed}, WORLD, model)
    assert (r.tool, r.args.get("parent_run"), r.args.get("steps")) == ("launch_pretraining", "1", 100)
    # a question for the ranking itself, or no ranking in the thread: not read as its leader
    assert understand("which is the best one?", {"last_ranking": agreed}, WORLD, model).args.get("run_id") != "1"
    assert understand("train the best one for 100 more steps", {}, WORLD, model).kind == "clarify"
