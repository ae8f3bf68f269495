"""A worker killed with SIGKILL after a checkpoint resumes onto the very same trajectory."""


import pytest
from conftest import logged_losses, sigkill_after_step, start_worker

from ssl_runtime.run_folder import RunFolder


@pytest.mark.parametrize("method, args", [("moco", {"method_args.queue_size": 128}), ("dino", {})])
def test_sigkill_then_resume_matches_uninterrupted(method, args, run_dir_factory):
    common = {"train.steps": 40, "train.log_every": 1, "train.checkpoint_every": 10, "train.health_every": 20,
              "train.batch_size": 64, **args}
    ref_dir = run_dir_factory(method, name="ref", **common)
    assert start_worker(ref_dir).wait(timeout=300) == 0

    run_dir = run_dir_factory(method, name="killed", **common)
    folder = RunFolder(run_dir)
    assert sigkill_after_step(start_worker(run_dir), run_dir, 25) >= 25

    resumed = start_worker(run_dir, "--resume")
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read().decode()
    ref, got = logged_losses(ref_dir), logged_losses(run_dir)
    assert sorted(got) == list(range(1, 41)), "every step logged exactly once"
    for step in range(1, 41):
        assert got[step] == pytest.approx(ref[step], rel=1e-5, abs=1e-6), step
    events = folder.read_events()
    resume_event = next(e for e in events if e["type"] == "resume")
    assert resume_event["step"] in (20, 30)  # the last checkpoint before the kill (after step 25)
    assert folder.status() == "succeeded"


def test_a_dino_run_from_before_the_head_took_batchnorm_resumes_and_continues_in_its_own_layout(run_dir_factory):
    """DINO's head became BatchNorm'd on CNNs (auto). A run whose weights were written without it (its config.yaml
    silent on the head, as every run's before) still resumes, and continues into a new run, in the layout of its
    weights, where a strict load into the new default would fail."""
    import yaml

    from ssl_runtime.trainer import train

    old = run_dir_factory("dino", name="old", **{"train.steps": 4, "train.checkpoint_every": 2,
                                                 "method_args.head_batch_norm": False})
    train(old)
    config = yaml.safe_load((old / "config.yaml").read_text())
    del config["method_args"]["head_batch_norm"]  # as the config of a run written before the setting
    (old / "config.yaml").write_text(yaml.safe_dump(config))
    assert train(old, resume=True)["resolved"]["method_args.head_batch_norm"] is False
    continued = run_dir_factory("dino", name="continued", **{"train.steps": 2,
                                                             "train.init_from": str(RunFolder(old).last_checkpoint)})
    summary = train(continued)
    assert summary["status"] == "succeeded" and summary["resolved"]["method_args.head_batch_norm"] is False
    fresh = run_dir_factory("dino", name="fresh", **{"train.steps": 2})
    assert train(fresh)["resolved"]["method_args.head_batch_norm"] is True  # the new default where no weights say


def _damage(path) -> None:
    """A checkpoint cut short on disk, as a copy interrupted or a failing disk leaves it; a new file, so a step_<n>.pt
    hard-linked to the old last.pt keeps its own content."""
    data = path.read_bytes()
    path.unlink()
    path.write_bytes(data[: len(data) // 3])


def test_a_resume_whose_last_checkpoint_is_unreadable_starts_from_the_newest_kept_one_that_is(run_dir_factory):
    from ssl_runtime.checkpoint import UnreadableCheckpoint
    from ssl_runtime.trainer import train

    run_dir = run_dir_factory("simclr", **{"train.keep_checkpoints": 3})  # 12 steps, checkpoints at 6 and 12
    train(run_dir)
    folder = RunFolder(run_dir)
    assert [step for step, _ in folder.kept_checkpoints()] == [6, 12]
    _damage(folder.last_checkpoint)
    _damage(folder.checkpoints / "step_12.pt")
    summary = train(run_dir, resume=True)
    resumed = [e for e in folder.read_events() if e["type"] == "resume"][-1]
    assert resumed["step"] == 6 and resumed["passed_over"] == ["last.pt is unreadable", "step_12.pt is unreadable"]
    assert summary["status"] == "succeeded" and [r["step"] for r in folder.read_metrics() if "loss" in r][-3:] == \
        [8, 10, 12]  # steps 7 to 12 trained again

    for path in [folder.last_checkpoint, *(p for _, p in folder.kept_checkpoints())]:
        _damage(path)
    with pytest.raises(UnreadableCheckpoint, match="every checkpoint of this run is unreadable") as caught:
        train(run_dir, resume=True)
    assert "launch it again" in str(caught.value)
