"""Device time used (tools/usage.py): each run's running spells from its status events, times the devices each held,
summed per user, method, dataset, status or run over a period; asked in the chat or with `sslpilot usage`. Every
figure here is exact by construction: spells written by hand, a whole number of hours long."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from conftest import sslpilot_cli, tiny_config
from understanding_eval import WORLD

from agent.answers import usage_text
from agent.intent_model import get_model
from agent.understand import understand
from agent.usage_words import read_usage
from ssl_runtime.errors import SSLPilotError
from ssl_runtime.run_folder import RunFolder
from tools.access import Actor, acting_as
from tools.agent_tools import ToolBox
from tools.home import Home
from tools.registry import Registry
from tools.runs import enqueue
from tools.usage import Spell, period_bounds, running_spells, usage

H = 3600.0
T0 = float(int(time.time()) - 30 * 24 * 3600)
"""Whole seconds, a month ago: every spell below but the open one ended before any named period except all time."""


def _spells(folder: RunFolder, *events: tuple[float, str, dict]) -> None:
    for t, status, extra in events:
        folder.append(folder.events, {"time": t, "type": "status", "status": status, **extra})


@pytest.fixture
def home(tmp_path):
    """Run 1 (simclr, ada): 1 h on two GPUs, interrupted, resumed for 1 h on one. Run 2 (byol, bo): 3 h on the CPU.
    Run 3 (simclr, bo): running on one GPU since 2 h ago. Run 4: queued, never ran. Run 5: imported."""
    h = Home.resolve(tmp_path / "home")
    reg = Registry(h)
    runs = [enqueue(h, tiny_config(m)) for m in ("simclr", "byol", "simclr", "simclr", "simclr")]
    f = [RunFolder(r.run_dir) for r in runs]
    _spells(f[0], (T0, "running", {"device": "cuda:0,1"}), (T0 + 10, "running", {"device": "cuda", "world_size": 2}),
            (T0 + 10 + H, "interrupted", {}), (T0 + 5 * H, "running", {"device": "cuda:3"}),
            (T0 + 6 * H, "succeeded", {}))
    _spells(f[1], (T0, "running", {"device": "cpu"}), (T0 + 5, "running", {"device": "cpu", "world_size": 1}),
            (T0 + 3 * H, "failed", {}))
    now = time.time()
    _spells(f[2], (now - 2 * H, "running", {"device": "cuda:1"}))
    _spells(f[4], (T0, "running", {"device": "cuda:0"}), (T0 + H, "succeeded", {}))
    for r, owner, status in zip(runs, ("ada", "bo", "bo", "ada", "ada"), ("succeeded", "failed", "running", "queued",
                                                                          "succeeded"), strict=True):
        reg.update(r.id, owner=owner, status=status)
    reg.update(runs[4].id, source="tensorboard")
    return h, [r.id for r in runs]


def test_a_run_s_spells_are_read_from_its_status_events_with_the_devices_each_held(home):
    h, ids = home
    spells = running_spells(RunFolder(Registry(h).get(ids[0]).run_dir))
    assert spells == [Spell(T0, T0 + 10 + H, 2), Spell(T0 + 5 * H, T0 + 6 * H, 1)]  # the gap between is not counted
    assert running_spells(RunFolder(Registry(h).get(ids[1]).run_dir)) == [Spell(T0, T0 + 3 * H, 0)]
    open_spell = running_spells(RunFolder(Registry(h).get(ids[2]).run_dir), until=T0 + 40 * 24 * H)
    assert len(open_spell) == 1 and open_spell[0].end == T0 + 40 * 24 * H  # still running: up to the end asked


def test_usage_sums_gpu_and_cpu_hours_per_group_largest_first_and_leaves_imports_out(home):
    h, ids = home
    out = usage(h, by="user")
    ada, bo = out["rows"]
    assert (ada["user"], ada["runs"], ada["cpu_hours"]) == ("ada", 1, 0.0)
    assert ada["gpu_hours"] == pytest.approx(2 * (H + 10) / H + 1)  # the imported run's hour is not counted
    assert (bo["user"], bo["runs"], bo["cpu_hours"], bo["running"]) == ("bo", 2, pytest.approx(3.0), 1)
    assert bo["gpu_hours"] == pytest.approx(2.0, abs=0.01)  # the open spell, counted up to now
    assert out["total"]["runs"] == 3 and out["total"]["running"] == 1
    by_method = usage(h, by="method")
    assert [r["method"] for r in by_method["rows"]] == ["simclr", "byol"]
    assert usage(h, user="bo", method="byol")["total"]["cpu_hours"] == pytest.approx(3.0)
    assert [r["status"] for r in usage(h, by="status")["rows"]] == ["succeeded", "running", "failed"]


def test_a_period_clips_each_spell_to_it(home):
    h, ids = home
    recent = usage(h, period="1d", by="run")
    assert [r["run"] for r in recent["rows"]] == [ids[2]] and recent["period"] == "in the last 1 day"
    assert recent["rows"][0]["gpu_hours"] == pytest.approx(2.0, abs=0.01)
    since = datetime.fromtimestamp(T0 + 5.5 * H).isoformat(timespec="seconds")
    half = usage(h, period=since, method="simclr", user="ada")
    assert half["total"]["gpu_hours"] == pytest.approx(0.5)  # half of the resumed hour on one GPU
    assert usage(h, period="yesterday", user="ada")["total"]["runs"] == 0


def test_named_periods_start_at_local_midnight_and_on_monday():
    now = datetime(2026, 12, 4, 15, 30).timestamp()  # a Friday
    day = lambda *a: datetime(*a).timestamp()  # noqa: E731
    assert period_bounds("today", now)[:2] == (day(2026, 12, 4), now)
    assert period_bounds("yesterday", now)[:2] == (day(2026, 12, 3), day(2026, 12, 4))
    assert period_bounds("This Week", now)[:2] == (day(2026, 11, 30), now)
    assert period_bounds("last week", now)[:2] == (day(2026, 11, 23), day(2026, 11, 30))
    assert period_bounds("this month", now)[:2] == (day(2026, 12, 1), now)
    assert period_bounds("last month", now)[:2] == (day(2026, 11, 1), day(2026, 12, 1))
    assert period_bounds("2w", now)[0] == day(2026, 11, 20, 15, 30)
    assert period_bounds("2026-11-20", now) == (day(2026, 11, 20), now, "since 2026-11-20")
    assert period_bounds(None, now) == (None, now, "in all")
    with pytest.raises(SSLPilotError) as err:
        period_bounds("since the dawn of time", now)
    assert err.value.field == "period" and "7d" in str(err.value)


def test_the_answer_leads_with_the_total_and_tables_the_groups(home):
    h, ids = home
    text = usage_text(ToolBox(h).usage_summary(by="user"))
    assert text.startswith("Runs used **5.01 GPU-hours** and 3.00 CPU-hours in all, over 3 runs (1 still running, "
                           "counted up to now).")
    assert "| user | runs | GPU-hours | CPU-hours |" in text and "| ada | 1 | 3.006 | 0.000 |" in text
    assert usage_text(ToolBox(h).usage_summary(period="1h", method="byol")) == \
        "No byol runs trained in the last 1 hour: nothing used."
    with acting_as(Actor("bo", "member")):  # "I", "my", "me": the one asking
        assert usage_text(ToolBox(h).usage_summary(user="me", method="byol")) == \
            "Your byol runs used **3.00 CPU-hours** (no GPU time) in all, over 1 run."
        assert usage_text(ToolBox(h).usage_summary(user="me", method="dino")) == \
            "You have no dino runs that trained in all: nothing used."
    with pytest.raises(ValueError, match="by"):
        ToolBox(h).usage_summary(by="colour")


def test_the_cli_prints_the_same_summary(home):
    h, ids = home
    out = sslpilot_cli(h, "usage", "--by", "method", "--json")
    assert '"simclr"' in out.stdout and '"gpu_hours"' in out.stdout
    bad = sslpilot_cli(h, "usage", "--period", "fortnight", ok=False)
    assert "period" in bad.stderr + bad.stdout


@pytest.mark.parametrize("text, args", [
    ("how much GPU time have I used?", {"user": "me"}),
    ("gpu hours per method this month", {"by": "method", "period": "this month"}),
    ("who used the most compute over the past 2 weeks?", {"by": "user", "period": "2w"}),
    ("how many gpu hours has ada used since 2026-11-01?", {"user": "ada", "period": "2026-11-01"}),
    ("how much compute did my byol runs burn yesterday", {"user": "me", "period": "yesterday", "method": "byol"}),
    ("gpu time wasted on failed runs", {"by": "status"}),
])
def test_the_usage_question_is_read_from_the_words(text, args):
    assert read_usage(text) == args


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return get_model(tmp_path_factory.mktemp("model"))


@pytest.mark.parametrize("text, tool", [("how much gpu time did we use this week?", "usage_summary"),
                                        ("how long did run 1 take?", "get_run"),
                                        ("how much gpu time did run 4 use?", "get_run"),
                                        ("usage per dataset", "usage_summary"),  # held-out set 61h: the help text
                                        ("compute by method", "usage_summary")])
def test_device_time_with_no_run_named_is_the_usage_summary(model, text, tool):
    r = understand(text, {}, WORLD, model)
    assert (r.kind, r.tool) == ("tool", tool)


def test_disk_usage_counts_each_run_s_files_once_per_group_with_the_trash_and_caches_beside(tmp_path):
    """"how much disk do my runs use?" listed the runs. The space each run's folder takes (a kept checkpoint
    hard-linked to last.pt counted once), grouped and largest first, with the trash, the dataset caches and the
    space still free."""
    from tools.trash import trash_dir
    from tools.usage import disk_usage

    h = Home.resolve(tmp_path / "home")
    simclr, byol = (enqueue(h, tiny_config(m)) for m in ("simclr", "byol"))
    base = {r.id: sum(f.stat().st_size for f in (h.runs / r.id).rglob("*") if f.is_file()) for r in (simclr, byol)}
    ckpt = h.runs / simclr.id / "checkpoints"
    ckpt.mkdir(exist_ok=True)
    (ckpt / "last.pt").write_bytes(b"x" * 50_000)
    (ckpt / "step_10.pt").hardlink_to(ckpt / "last.pt")  # one file under two names
    (h.runs / byol.id / "big.bin").write_bytes(b"x" * 120_000)
    trash_dir(h).mkdir()
    (trash_dir(h) / "old.bin").write_bytes(b"x" * 7_000)
    out = disk_usage(h)
    assert [r["method"] for r in out["rows"]] == ["byol", "simclr"]
    assert {r["method"]: r["bytes"] for r in out["rows"]} == {"simclr": base[simclr.id] + 50_000,
                                                             "byol": base[byol.id] + 120_000}
    assert (out["trash_bytes"], out["datasets_bytes"]) == (7_000, 0) and out["free_bytes"] > 0
    assert out["total"]["runs"] == 2
    text = usage_text(out)
    assert text.startswith("Runs take **") and "| byol | 1 |" in text and "`sslpilot trash empty`" in text
    assert ToolBox(h).usage_summary(measure="disk", by="run")["rows"][0]["run"] == byol.id


@pytest.mark.parametrize("text, args", [
    ("how much disk do the dino runs take?", {"measure": "disk", "method": "dino"}),
    ("disk usage per method", {"measure": "disk", "by": "method"}),
    ("free up disk space", {"measure": "disk"}),
    ("which datasets are in the cache?", {"measure": "disk"}),  # was a question between a list and two searches
    ("what datasets have I cached?", {"measure": "disk", "user": "me"}),  # was the catalogue's built-in datasets
])
def test_the_space_runs_take_is_asked_as_disk_usage(model, text, args):
    r = understand(text, {}, WORLD, model)
    assert (r.kind, r.tool, r.args) == ("tool", "usage_summary", args), r.question


def test_the_disk_answer_names_each_dataset_cache(tmp_path):
    """"which datasets are cached?" had no answer in the chat (`sslpilot data ls` only): the disk answer lists the
    caches, largest first, and how to delete one."""
    from photos import make_photos

    from tools.datasets import prepare
    from tools.usage import disk_usage

    h = Home.resolve(tmp_path / "home")
    assert "dataset cache |" not in usage_text(disk_usage(h))  # none yet: no table
    prepare(h, str(make_photos(tmp_path / "photos", 6)))
    out = disk_usage(h)
    (cache,) = out["datasets"]
    assert cache["images"] == 6 and cache["bytes"] > 0 and cache["source"].endswith("photos")
    text = usage_text(out)
    assert f"| `{cache['name']}` |" in text and "| 6 |" in text and "`sslpilot data rm NAME`" in text
