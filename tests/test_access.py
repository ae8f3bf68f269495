"""Roles and owners, checked the same way through the chat (offline planner and a scripted LLM planner), the
CLI (a real subprocess per OS login) and the tools; who did what is recorded. Runs are only queued here (no
daemon): the checks are about who may, not about training."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT, subprocess_env
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage

from agent.session import Agent
from ssl_runtime.errors import SSLPilotError
from tools import runs
from tools.access import AccessDenied, Actor, acting_as, current
from tools.accounts import Accounts
from tools.home import Home
from tools.registry import Registry

ROOT_ADMIN, BOB, CAROL, DAVE = (Actor("root", "admin"), Actor("bob", "member"), Actor("carol", "viewer"),
                                Actor("dave", "member"))
SMALL = {"method": "simclr", "data": {"name": "digits"}, "train": {"steps": 5, "device": "cpu"}}


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    h = Home.resolve(tmp_path / "home")
    a = Accounts(h)
    with acting_as(ROOT_ADMIN):
        a.add("root", "admin", "root-password")
        a.add("bob", "member", "bob-password")
        a.add("dave", "member", "dave-password")
        a.add("carol", "viewer", "carol-password")
    return h


def queued_as(home, actor) -> str:
    with acting_as(actor):
        return runs.enqueue(home, SMALL).id


class ScriptedLLM(FakeMessagesListChatModel):
    def bind_tools(self, tools, **kwargs):
        return self


def test_the_tools_check_roles_and_owners(home):
    with acting_as(CAROL), pytest.raises(AccessDenied, match="launching a run needs the member role; carol is a "
                                                            "viewer.*sslpilot user role carol member"):
        runs.enqueue(home, SMALL)
    assert Registry(home).list() == []  # nothing stored, not even a folder's row
    bobs = queued_as(home, BOB)
    assert Registry(home).get(bobs).owner == "bob"
    with acting_as(DAVE), pytest.raises(AccessDenied, match=f"run {bobs} is bob's run; cancelling a run on it "
                                                           "needs the admin role"):
        runs.cancel(home, bobs)
    assert Registry(home).get(bobs).status == "queued"
    with acting_as(ROOT_ADMIN):
        assert runs.cancel(home, bobs).status == "cancelled"  # an admin may cancel anyone's
    events = Registry(home).events(bobs, types=["owner", "cancel"])
    assert [(e.type, json.loads(e.data_json).get("user")) for e in events] == [("owner", "bob"), ("cancel", "root")]
    with acting_as(DAVE), pytest.raises(AccessDenied, match="is bob's run"):
        runs.resume(home, bobs)


def test_the_chat_refuses_a_viewer_and_a_member_acting_on_anothers_run(home):
    agent = Agent(home, on_launch=lambda run_id: None)
    out = agent.chat("pretrain simclr on digits for 5 steps", "carol-1", actor=CAROL)
    assert out["tool_calls"][0]["status"] == "error" and out["pending_confirmation"] is None
    assert "needs the member role; carol is a viewer" in out["answer"]
    out = agent.chat("pretrain simclr on digits for 5 steps", "bob-1", actor=BOB)
    assert out["pending_confirmation"]["tool"] == "launch_pretraining"
    out = agent.chat("yes", "bob-1", actor=BOB)
    run_id = Registry(home).list()[0].id
    assert Registry(home).get(run_id).owner == "bob"
    out = agent.chat(f"cancel run {run_id}", "dave-1", actor=DAVE)
    assert out["pending_confirmation"] is None and f"run {run_id} is bob's run" in out["answer"]
    assert Registry(home).get(run_id).status == "queued"
    # a conversation is its owner's: another user cannot continue it or read it
    with pytest.raises(AccessDenied, match="belongs to another user"):
        agent.chat("yes", "bob-1", actor=DAVE)
    with pytest.raises(AccessDenied, match="belongs to another user"):
        agent.transcript("bob-1", actor=CAROL)
    assert agent.transcript("bob-1", actor=BOB)[0]["content"].startswith("pretrain simclr")


def test_a_pending_launch_is_checked_again_when_confirmed(home):
    """A member demoted between the question and the yes launches nothing."""
    agent = Agent(home, on_launch=lambda run_id: None)
    assert agent.chat("pretrain simclr on digits for 5 steps", "bob-2", actor=BOB)["pending_confirmation"]
    with acting_as(ROOT_ADMIN):
        Accounts(home).set_role("bob", "viewer")
    out = agent.chat("yes", "bob-2", actor=Actor("bob", "viewer"))
    assert "needs the member role" in json.dumps(out) and Registry(home).list() == []


def test_the_llm_planner_is_refused_the_same_way(home):
    bobs = queued_as(home, BOB)
    script = [AIMessage(content="", tool_calls=[{"name": "launch_pretraining", "args": {"method": "dino"},
                                                 "id": "v1", "type": "tool_call"}]),
              AIMessage(content="I could not launch it."),
              AIMessage(content="", tool_calls=[{"name": "cancel_run", "args": {"run_id": bobs}, "id": "v2",
                                                 "type": "tool_call"}]),
              AIMessage(content="I could not cancel it."),
              AIMessage(content="", tool_calls=[{"name": "resume_run", "args": {"run_id": bobs}, "id": "v3",
                                                 "type": "tool_call"}]),
              AIMessage(content="Nor resume it.")]
    agent = Agent(home, model=ScriptedLLM(responses=script), on_launch=lambda run_id: None)
    out = agent.chat("pretrain dino please", "llm-carol", actor=CAROL)
    assert out["tool_calls"][0]["status"] == "error" and out["pending_confirmation"] is None
    out = agent.chat(f"cancel run {bobs}", "llm-dave", actor=DAVE)
    assert out["tool_calls"][0]["status"] == "error" and out["pending_confirmation"] is None
    out = agent.chat(f"resume run {bobs}", "llm-dave", actor=DAVE)
    assert out["tool_calls"][0]["status"] == "error"
    assert Registry(home).get(bobs).status == "queued" and len(Registry(home).list()) == 1


def cli(home, login: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**subprocess_env(), "SSLPILOT_HOME": str(home.root), "SSLPILOT_AUTOSTART": "0", "LOGNAME": login,
           "USER": login}
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, input=stdin, timeout=300)


def test_the_cli_acts_as_the_os_login(home):
    assert json.loads(cli(home, "carol", "whoami", "--json").stdout) == {"name": "carol", "role": "viewer",
                                                                         "how": "os"}
    r = cli(home, "carol", "pretrain", "--method", "simclr", "--data", "digits", "--steps", "5", "--no-wait")
    assert r.returncode == 2 and "launching a run needs the member role; carol is a viewer" in r.stderr
    r = cli(home, "bob", "pretrain", "--method", "simclr", "--data", "digits", "--steps", "5", "--no-wait")
    assert r.returncode == 0, r.stderr
    run_id = Registry(home).list()[0].id
    r = cli(home, "dave", "cancel", run_id)
    assert r.returncode == 2 and "is bob's run" in r.stderr
    r = cli(home, "stranger", "cancel", run_id)  # an OS login without an account reads only
    assert r.returncode == 2 and "stranger is a viewer" in r.stderr
    rows = json.loads(cli(home, "carol", "runs", "--json").stdout)["runs"]
    assert [(r["run_id"], r["owner"], r["status"]) for r in rows] == [(run_id, "bob", "queued")]
    assert "bob" in cli(home, "carol", "runs").stdout  # the table's user column
    assert json.loads(cli(home, "carol", "runs", "--user", "dave", "--json").stdout)["runs"] == []
    # managing users is an admin's
    r = cli(home, "bob", "user", "add", "eve", "--password-stdin", stdin="eve-password\n")
    assert r.returncode == 2 and "managing users needs the admin role" in r.stderr
    r = cli(home, "root", "user", "add", "eve", "--role", "member", "--password-stdin", stdin="eve-password\n")
    assert r.returncode == 0 and Accounts(home).get("eve").role == "member"
    r = cli(home, "bob", "user", "passwd", "bob", "--password-stdin", stdin="bob-new-password\n")  # their own
    assert r.returncode == 0 and Accounts(home).verify("bob", "bob-new-password").name == "bob"
    r = cli(home, "bob", "user", "passwd", "dave", "--password-stdin", stdin="dave-new-password\n")
    assert r.returncode == 2 and Accounts(home).verify("dave", "dave-password").name == "dave"


def test_without_accounts_the_cli_is_an_admin_as_before(tmp_path):
    h = Home.resolve(tmp_path / "open")
    actor = current(h)
    assert actor.role == "admin" and actor.how == "open"
    r = cli(h, "anyone", "user", "add", "first", "--role", "member", "--password-stdin", stdin="first-password\n")
    assert r.returncode == 2 and "the first account must be an admin" in r.stderr and not Accounts(h).any()


def test_imports_ingests_and_schedules_record_who(home, tmp_path):
    from tools.knowledge import get_store, ingest
    from tools.scheduler import add_scheduled_launch, fire_scheduled_launch

    doc = tmp_path / "note.md"
    doc.write_text("# Notes\n\nBarlow Twins needs a large projector to avoid dimensional collapse.\n")
    with acting_as(CAROL), pytest.raises(AccessDenied, match="ingesting documents needs the member role"):
        ingest(home, [doc])
    with acting_as(BOB):
        assert ingest(home, [doc])["files"] == 1
    got = get_store(home).collections["literature"].get(where={"source": str(doc.resolve())}, include=["metadatas"])
    assert {m["ingested_by"] for m in got["metadatas"]} == {"bob"}

    with acting_as(CAROL), pytest.raises(SSLPilotError, match="scheduling a run needs the member role"):
        add_scheduled_launch(home, SMALL, cron="0 2 * * *")
    run_id = fire_scheduled_launch(str(home.root), SMALL, owner="dave")  # as the daemon fires it
    assert Registry(home).get(run_id).owner == "dave"
    with acting_as(ROOT_ADMIN):
        Accounts(home).remove("dave")
    with pytest.raises(AccessDenied, match="dave is a viewer"):  # a removed user's schedule launches nothing
        fire_scheduled_launch(str(home.root), SMALL, owner="dave")

    import shutil

    elsewhere = tmp_path / "elsewhere"  # a run folder from another home, owned there by dave
    shutil.copytree(Registry(home).get(run_id).run_dir, elsewhere)
    with acting_as(CAROL), pytest.raises(AccessDenied, match="importing runs needs the member role"):
        runs.import_run(home, elsewhere)
    with acting_as(BOB):
        copy = runs.import_run(home, elsewhere)
    assert copy.owner == "bob" and copy.id != run_id  # the importer owns the copy; the history keeps dave
    owners = [json.loads(e.data_json)["user"] for e in Registry(home).events(copy.id, types=["owner"])]
    assert owners == ["dave", "bob"]


def test_the_run_page_offers_cancel_only_to_its_owner_or_an_admin(home, monkeypatch):
    from ui_browser import page_loader

    bobs = queued_as(home, BOB)
    load = page_loader(home.root, monkeypatch)
    for login, enabled in (("carol", False), ("dave", False), ("bob", True), ("root", True)):
        monkeypatch.setenv("LOGNAME", login)  # the page acts as this login's account (tools/access.py)
        at = load("run", run=bobs)
        assert not at.exception, at.exception
        button = next(b for b in at.button if b.label == "Cancel run")
        assert button.disabled is (not enabled), login
        assert "owner bob" in " ".join(c.value for c in at.caption)
