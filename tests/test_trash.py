"""Deleting runs into the trash and bringing them back (tools/trash.py), from the tools, the chat and the CLI. Run
folders are written by hand (no training): a status, a config, files of known sizes."""

from __future__ import annotations

import os
import time

import pytest
from conftest import sslpilot_cli, tiny_config
from understanding_eval import WORLD

from agent.answers import RENDER, pending_text
from agent.intent_model import get_model
from agent.understand import understand
from ssl_runtime.errors import SSLPilotError
from ssl_runtime.run_folder import RunFolder
from tools.access import AccessDenied, Actor, acting_as
from tools.accounts import Accounts
from tools.agent_tools import ToolBox
from tools.home import Home
from tools.registry import Registry
from tools.runs import enqueue, list_runs
from tools.trash import delete_runs, empty_trash, restore_run, trash_dir, trash_list


def finished(home: Home, status: str = "succeeded", parent: str | None = None) -> str:
    """A run that ended, with a 100 kB checkpoint and a hard link to it (counted once)."""
    run = enqueue(home, tiny_config(), parent_id=parent) if parent else enqueue(home, tiny_config())
    folder = RunFolder(run.run_dir)
    folder.set_status("running", "running")
    folder.set_status(status, status)
    ckpt = folder.path / "checkpoints"
    ckpt.mkdir(exist_ok=True)
    (ckpt / "step_10.pt").write_bytes(b"x" * 100_000)
    os.link(ckpt / "step_10.pt", ckpt / "last.pt")
    Registry(home).sync(run.id)
    return run.id


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    return Home.resolve(tmp_path / "home")


def test_a_deleted_run_leaves_every_list_and_comes_back_as_it_was(home):
    rid = finished(home)
    queued_at = RunFolder(home.runs / rid).read_events()[0]["time"]
    time.sleep(1.0)  # a restore at least a second later: its place in the lists is when it was queued, not now
    out = delete_runs(home, [rid])
    assert out["deleted"][0]["run_id"] == rid and 100_000 <= out["bytes"] < 150_000  # the hard link counted once
    assert not (home.runs / rid).exists() and (trash_dir(home) / rid / "config.yaml").exists()
    assert Registry(home).find(rid) is None and list_runs(home) == []
    assert [r["run_id"] for r in trash_list(home)] == [rid]
    back = restore_run(home, rid)
    assert back == {"run_id": rid, "method": "simclr", "status": "succeeded"} and (home.runs / rid).exists()
    assert Registry(home).get(rid).created_at == queued_at
    types = [e["type"] for e in RunFolder(home.runs / rid).read_events()]
    assert "deleted" in types and "restored" in types and trash_list(home) == []
    with pytest.raises(SSLPilotError, match="not in the trash"):
        restore_run(home, rid)


def test_a_queued_or_running_run_is_never_deleted_and_a_refusal_moves_nothing(home):
    done = finished(home)
    queued = enqueue(home, tiny_config()).id
    with pytest.raises(SSLPilotError) as err:
        delete_runs(home, [done, queued])
    assert err.value.field == "run_ids" and f"cancel run {queued} first" in str(err.value)
    assert (home.runs / done).exists() and (home.runs / queued).exists() and trash_list(home) == []


def test_an_id_in_the_trash_is_never_given_again_even_once_emptied(home):
    first = finished(home)
    delete_runs(home, [first])
    second = enqueue(home, tiny_config()).id
    assert int(second) == int(first) + 1
    out = empty_trash(home)
    assert out == {"emptied": [first], "bytes": out["bytes"]} and out["bytes"] >= 100_000
    assert sorted(os.listdir(trash_dir(home) / first)) == ["DELETED"]
    assert int(enqueue(home, tiny_config()).id) == int(second) + 1
    with pytest.raises(SSLPilotError, match="gone: the trash was emptied"):
        restore_run(home, first)


def test_emptying_keeps_what_was_deleted_more_recently_than_asked(home):
    rid = finished(home)
    delete_runs(home, [rid])
    assert empty_trash(home, older_than_days=1) == {"emptied": [], "bytes": 0}
    assert [r["run_id"] for r in trash_list(home)] == [rid]


def test_only_the_owner_or_an_admin_deletes_restores_or_empties(home):
    a = Accounts(home)
    with acting_as(Actor("root", "admin")):
        a.add("root", "admin", "root-password")
        a.add("bob", "member", "bob-password")
        a.add("dave", "member", "dave-password")
    with acting_as(Actor("bob", "member")):
        bobs = finished(home)
    with acting_as(Actor("dave", "member")), pytest.raises(AccessDenied, match="is bob's run"):
        delete_runs(home, [bobs])
    with acting_as(Actor("bob", "member")):
        delete_runs(home, [bobs])
    with acting_as(Actor("dave", "member")):
        with pytest.raises(SSLPilotError, match="only its owner or an admin restores it"):
            restore_run(home, bobs)
        assert empty_trash(home)["emptied"] == []  # not dave's to empty
    with acting_as(Actor("root", "admin")):
        assert restore_run(home, bobs)["run_id"] == bobs and Registry(home).get(bobs).owner == "bob"


def test_the_chat_asks_before_deleting_and_keeps_the_follow_ups(home):
    parent = finished(home, "diverged")
    child = finished(home, parent=parent)
    box = ToolBox(home)
    out = box.delete_runs(run_ids=[parent])
    assert out["pending_confirmation"] == {"tool": "delete_runs", "args": {"run_ids": [parent]}}
    assert out["follow_ups_kept"] == [child] and (home.runs / parent).exists()  # proposed, not done
    text = pending_text(out)
    assert text.startswith(f"Delete run {parent} (simclr on digits, diverged)? It moves to the trash") and \
        f"Their follow-ups (run {child}) stay" in text
    done = box.execute_confirmed("delete_runs", out["pending_confirmation"]["args"])
    assert RENDER["delete_runs"](done).startswith(f"Moved run {parent} to the trash (0.1 MB;")
    assert box.get_run(child)["run_id"] == child  # a follow-up whose parent is in the trash still reads
    assert RENDER["restore_run"](box.restore_run(parent)) == f"Run {parent} (simclr, diverged) is back."


def test_the_cli_deletes_lists_restores_and_empties(home):
    rid = finished(home)
    assert "to the trash" in sslpilot_cli(home, "rm", rid).stdout
    assert f"run {rid}: 0.1 MB" in sslpilot_cli(home, "trash").stdout
    assert "is back" in sslpilot_cli(home, "restore", rid).stdout
    sslpilot_cli(home, "rm", rid)
    refused = sslpilot_cli(home, "trash", "empty", ok=False)  # no terminal to ask on, and no --yes
    assert "--yes" in refused.stderr and (trash_dir(home) / rid / "config.yaml").exists()
    assert "emptied 1 run(s)" in sslpilot_cli(home, "trash", "empty", "--yes").stdout


def test_the_cli_deletes_runs_of_a_kind_by_age_only_with_yes(home):
    old, new = finished(home, "diverged"), finished(home, "diverged")
    reg = Registry(home)
    for rid, days in ((old, 10), (new, 1)):  # one ended 10 days ago, the other yesterday
        reg.update(rid, ended_at=time.time() - days * DAY)
    listed = sslpilot_cli(home, "rm", "--kind", "diverged", "--older-than", "7").stdout
    assert f"run {old} of kind diverged ended more than 7 days ago; add --yes" in listed
    assert {r["run_id"] for r in list_runs(home)} >= {old, new}  # nothing moved without --yes
    assert f"Moved run {old} to the trash" in sslpilot_cli(home, "rm", "--kind", "diverged", "--older-than", "7",
                                                          "--yes").stdout
    assert {r["run_id"] for r in list_runs(home)} & {old, new} == {new}
    both = sslpilot_cli(home, "rm", "7", "--kind", "diverged", ok=False)
    assert "run ids and --kind together" in both.stderr


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return get_model(tmp_path_factory.mktemp("model"))


@pytest.mark.parametrize("text, kind, tool, args", [
    ("delete runs 1 and 5", "tool", "delete_runs", {"run_ids": ["1", "5"]}),
    ("please get rid of the diverged runs", "tool", "delete_runs", {"run_ids": ["4"]}),
    ("delete run siam-nostop", "tool", "delete_runs", {"run_ids": ["2"]}),
    ("restore run 8", "tool", "restore_run", {"run_id": "8"}),  # in the trash, so not among the home's runs
    ("delete the interrupted runs", "clarify", None, {}),  # none here: nothing to delete, asked back
    ("delete run 9", "clarify", None, {}),
    ("delete all runs", "refuse", None, {}),
    ("delete run 1 and the database", "refuse", None, {}),
    ("delete run 1 instead", "tool", "delete_runs", {"run_ids": ["1"]}),  # were refused (held-out set 49)
    ("remove run 5 please", "tool", "delete_runs", {"run_ids": ["5"]}),
    ("delete run 1, not run 2", "tool", "delete_runs", {"run_ids": ["1"]}),
    ("delete run 1 instead of the database", "refuse", None, {}),
])
def test_a_delete_names_only_runs_and_anything_more_is_refused(model, text, kind, tool, args):
    r = understand(text, {}, WORLD, model)
    assert (r.kind, r.tool, r.args) == (kind, tool, args)


DAY = 86400.0


def _aged_world():
    """Runs that ended so many days ago (tests/data/delete_age_heldout.jsonl is read against it)."""
    from agent.run_refs import RunInfo, World

    now = time.time()
    return World([RunInfo("11", "simclr", "digits", "failed", None, ended_at=now - 8 * DAY),
                  RunInfo("12", "simsiam", "digits", "succeeded", "complete_collapse", ended_at=now - 12 * DAY),
                  RunInfo("13", "byol", "digits", "diverged", "diverged", ended_at=now - 4 * DAY),
                  RunInfo("14", "dino", "shapes", "cancelled", None, ended_at=now - 15 * DAY),
                  RunInfo("15", "mae", "shapes", "interrupted", None, ended_at=now - 2 * DAY),
                  RunInfo("16", "vicreg", "digits", "failed", "diverged", ended_at=now - 5 * DAY),
                  RunInfo("17", "simclr", "shapes", "failed", None, ended_at=now - DAY / 2),
                  RunInfo("18", "simclr", "shapes", "running", None),
                  RunInfo("19", "simclr", "shapes", "running", "complete_collapse")])  # read collapsed, still running


def test_runs_of_a_kind_are_deleted_by_age_when_asked(model):
    """The held-out set, written before this was built; "delete runs older than a week" (no kind) deletes nothing
    (test_runs_by_age_alone_are_asked_about_by_kind_never_deleted_in_bulk)."""
    import json
    from pathlib import Path

    world = _aged_world()
    rows = [json.loads(line) for line in (Path(__file__).parent / "data" / "delete_age_heldout.jsonl").open()]
    got = []
    for row in rows:
        r = understand(row["message"], {}, world, model)
        got.append(r.args.get("run_ids") if r.tool == "delete_runs" else [] if r.kind == "clarify" and
                   "nothing to delete" in r.question else None)
    right = sum(g == row["ids"] for g, row in zip(got, rows, strict=True))
    assert right == len(rows), [(row["message"], g) for g, row in zip(got, rows, strict=True) if g != row["ids"]]
    # a run the monitor read collapsed while it still trains is no finished run to delete (its delete would fail)
    assert understand("delete the collapsed runs", {}, world, model).args == {"run_ids": ["12"]}


def test_a_kind_of_runs_less_the_ones_spared(model):
    """"delete all collapsed runs except run 2" was refused as if it asked to delete files; it is the kind less the
    runs spared, still waiting for a yes. "delete everything except run 2" stays refused."""
    from agent.run_refs import RunInfo, World

    world = World([*WORLD.runs, RunInfo("6", "byol", "digits", "succeeded", "complete_collapse")])
    r = understand("delete all collapsed runs except run 2", {}, world, model)
    assert (r.kind, r.tool, r.args) == ("tool", "delete_runs", {"run_ids": ["6"]})
    r = understand("delete the collapsed runs but not run 6", {}, world, model)
    assert (r.tool, r.args) == ("delete_runs", {"run_ids": ["2"]})
    assert understand("delete everything except run 2", {}, world, model).kind == "refuse"


def test_runs_by_age_alone_are_asked_about_by_kind_never_deleted_in_bulk(model):
    """"delete runs older than 2 weeks" got the help text (a refusal); it is a question that offers the kinds, and
    nothing is deleted: a run still wanted would go with the rest."""
    r = understand("delete runs older than a week", {}, _aged_world(), model)
    assert r.kind == "clarify" and "Which kind?" in r.question
    assert r.options == ["delete the failed runs older than a week", "delete the collapsed runs older than a week"]
    assert understand(r.options[0], {}, _aged_world(), model).args == {"run_ids": ["11"]}  # 8 days; 16 and 17 newer
    assert understand("delete all runs", {}, WORLD, model).kind == "refuse"


def test_a_delete_or_restore_the_registry_cannot_record_leaves_the_run_where_it_was(home, monkeypatch):
    import shutil

    from tools.registry import DiskFullError, full_disk_error

    rid = finished(home)

    def full(*_a, **_k):
        raise full_disk_error("database or disk is full", home.root, "the registry")

    with monkeypatch.context() as m:
        m.setattr(Registry, "forget", full)
        with pytest.raises(DiskFullError):
            delete_runs(home, [rid])
    assert (home.runs / rid / "config.yaml").exists() and not (trash_dir(home) / rid).exists()
    assert Registry(home).find(rid) is not None and trash_list(home) == []
    assert "deleted" not in [e["type"] for e in RunFolder(home.runs / rid).read_events()]  # nothing says otherwise
    delete_runs(home, [rid])
    with monkeypatch.context() as m:
        m.setattr(Registry, "register_folder", full)
        with pytest.raises(DiskFullError):
            restore_run(home, rid)
    assert not (home.runs / rid).exists() and [r["run_id"] for r in trash_list(home)] == [rid]
    assert restore_run(home, rid)["run_id"] == rid
    # a delete cut short after its move (an older sslpilot, a killed process): the next one finishes it, restorable
    shutil.move(str(home.runs / rid), str(trash_dir(home) / rid))
    out = delete_runs(home, [rid])
    assert Registry(home).find(rid) is None and [r["run_id"] for r in trash_list(home)] == [rid]
    assert RENDER["delete_runs"](out).startswith(f"Moved run {rid} to the trash")


def test_a_run_whose_folder_is_gone_is_dropped_from_the_registry_and_its_id_never_given_again(home):
    import shutil

    rid = finished(home)
    shutil.rmtree(home.runs / rid)
    out = delete_runs(home, [rid])
    assert out["deleted"][0]["folder_gone"] and out["bytes"] == 0 and Registry(home).find(rid) is None
    assert "the folder was already gone" in RENDER["delete_runs"](out) and "Moved" not in RENDER["delete_runs"](out)
    assert trash_list(home) == [] and enqueue(home, tiny_config()).id != rid
    with pytest.raises(SSLPilotError, match="gone"):
        restore_run(home, rid)


def test_a_restored_run_and_a_rebuilt_registry_have_their_verdicts_again(home):
    """Found by use (session 54): a run deleted and restored came back with no verdict (the delete drops its rows,
    its stored diagnosis with them), and so did every run of a registry rebuilt from the folders."""
    from conversation_eval import write_evidence

    from tools.diagnosis import diagnose_ended

    rid = finished(home)
    write_evidence(RunFolder(home.runs / rid), "collapsed")
    Registry(home).sync(rid)
    diagnose_ended(home, rid, index=False)
    assert Registry(home).get(rid).verdict == "complete_collapse"
    delete_runs(home, [rid])
    ToolBox(home).restore_run(rid)  # the chat's restore
    assert Registry(home).get(rid).verdict == "complete_collapse"
    delete_runs(home, [rid])
    sslpilot_cli(home, "restore", rid)  # the CLI's
    assert Registry(home).get(rid).verdict == "complete_collapse"
    import json
    import shutil

    lost = Home.resolve(home.root.parent / "registry-lost")  # the run folders alone, as after losing the registry
    shutil.copytree(home.runs, lost.runs, dirs_exist_ok=True)
    out = json.loads(sslpilot_cli(lost, "registry", "rebuild", "--json").stdout)
    assert out["runs"] == [rid] and out["verdicts_read"] == 0  # the folder's diagnosis event kept it
    assert Registry(lost).get(rid).verdict == "complete_collapse"
    older = Home.resolve(home.root.parent / "no-verdict-event")  # a folder kept before that event: read again
    shutil.copytree(home.runs, older.runs, dirs_exist_ok=True)
    events = older.runs / rid / "events.jsonl"
    events.write_text("".join(line + "\n" for line in events.read_text().splitlines()
                              if json.loads(line).get("type") not in ("diagnosis", "alert")))
    out = json.loads(sslpilot_cli(older, "registry", "rebuild", "--json").stdout)
    assert out["verdicts_read"] == 1 and Registry(older).get(rid).verdict == "complete_collapse"


def test_a_rebuilt_registry_keeps_the_verdict_stored_not_a_new_reading(home):
    """The verdict a run ended with is the folder's to keep: a rebuild takes it from the diagnosis event (the last
    one wins, an alert while it trained included) instead of diagnosing again, which could read differently once
    its siblings have changed."""
    rid = finished(home)
    folder = RunFolder(home.runs / rid)
    folder.event("alert", "run looks collapsed", verdict="complete_collapse")
    folder.event("diagnosis", "verdict healthy (0.90)", verdict="healthy", confidence=0.9)
    reg = Registry(home)
    reg.engine.dispose()
    (home.root / "sslpilot.db").unlink()
    rebuilt = Registry(home).rebuild()
    assert [r.verdict for r in rebuilt] == ["healthy"]
    folder.event("alert", "run looks diverged", verdict="diverged")
    assert Registry(home).sync(rid).verdict == "diverged"
