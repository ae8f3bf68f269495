"""A full disk: the registry, the chat's history and a training run each say which disk and what frees it, reads
of what is stored go on, and a run waits for space rather than losing what it trained."""

import errno
import json
import sqlite3
import subprocess
import sys

import pytest
from conftest import subprocess_env, tiny_config
from sqlalchemy import event

from ssl_runtime.disk_wait import when_space
from ssl_runtime.errors import is_full_disk
from ssl_runtime.run_folder import RunFolder, read_jsonl
from tools.home import Home
from tools.registry import DiskFullError, Registry, full_disk_error
from tools.runs import enqueue


@pytest.fixture
def home(tmp_path):
    return Home.resolve(tmp_path / "home")


def _full(home) -> Registry:
    """The home's registry on a database that cannot grow by one page: SQLite's own "database or disk is full"
    (SQLITE_FULL), as on a disk with no space left, without needing one."""
    pages = Registry(home).engine.connect().exec_driver_sql("PRAGMA page_count").scalar()
    reg = Registry(home)
    event.listen(reg.engine, "connect", lambda conn, _: conn.execute(f"PRAGMA max_page_count={pages}"))
    reg.engine.dispose()
    return reg


def test_what_counts_as_a_full_disk():
    assert is_full_disk(OSError(errno.ENOSPC, "No space left on device"))
    assert is_full_disk(OSError(errno.EDQUOT, "Disk quota exceeded")) and is_full_disk(OSError(errno.EFBIG, "x"))
    # safetensors (Rust) says it in its own exception, with the OS's words
    assert is_full_disk(Exception("Error while serializing: I/O error: No space left on device (os error 28)"))
    assert not is_full_disk(OSError(errno.EACCES, "Permission denied"))
    assert not is_full_disk(ValueError("the loss is NaN"))


def test_a_registry_write_on_a_full_disk_names_the_disk_and_the_fix_and_keeps_what_was_stored(home):
    run = enqueue(home, tiny_config())
    reg = _full(home)
    with pytest.raises(DiskFullError) as caught:
        reg.update(run.id, notes="x" * 400_000)
    said = str(caught.value)
    assert said.startswith("SSLPILOT_HOME: the disk holding") and str(home.root) in said
    assert "cannot be written" in said and "sslpilot usage --disk" in said and "sslpilot trash empty" in said
    assert Registry(home).get(run.id).notes == "" and Registry(home).get(run.id).status == "queued"


def test_a_plain_io_error_is_not_called_a_full_disk(tmp_path):
    # SQLite says only "disk I/O error" when its shared-memory file cannot grow; with space free it is not that
    assert full_disk_error("disk I/O error", tmp_path, "the registry") is None
    assert full_disk_error("database is locked", tmp_path, "the registry") is None
    assert isinstance(full_disk_error("database or disk is full", tmp_path, "the registry"), DiskFullError)
    server = full_disk_error("could not extend file \"base/1/2\": No space left on device", None, "the registry")
    assert str(server).startswith("SSLPILOT_DB_URL: the database server's disk is full")


def test_reading_a_run_on_a_full_disk_answers_from_what_is_stored_and_catches_up_after(home):
    run = enqueue(home, tiny_config())
    folder = RunFolder(run.run_dir)
    stored = Registry(home).sync(run.id).events_count
    for i in range(300):  # far more than the database can take without growing
        folder.event("info", f"line {i} " + "y" * 1500)
    seen = _full(home).sync(run.id)
    assert seen.status == "queued" and seen.events_count == stored
    assert seen.message.endswith("(as last recorded: the registry's disk is full)")
    assert Registry(home).get(run.id).message == "queued"  # the note is never written
    after = Registry(home).sync(run.id)  # space again: the next sync reads on from where it stopped
    assert after.events_count == stored + 300 and "as last recorded" not in after.message


def test_the_chat_history_on_a_full_disk_is_the_same_one_line(home, monkeypatch):
    from agent.session import Agent

    agent = Agent(home)

    def full(*_a, **_k):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(agent.graph, "invoke", full)
    with pytest.raises(DiskFullError, match="the chat's history cannot be written"):
        agent.chat("list my runs")

    def locked(*_a, **_k):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(agent.graph, "invoke", locked)
    with pytest.raises(sqlite3.OperationalError, match="locked"):  # anything else is left as it is
        agent.chat("list my runs")


def test_the_chat_on_a_full_disk_answers_holds_the_thread_in_memory_and_writes_it_back(home, monkeypatch):
    from agent.history import HELD
    from agent.session import Agent

    run = enqueue(home, tiny_config())
    for status in ("running", "succeeded"):
        RunFolder(run.run_dir).set_status(status, status)
    agent = Agent(home)
    agent.chat("list my runs", thread_id="t1")
    kept = agent.transcript("t1")
    db = agent.checkpointer.conn
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count={pages}")  # SQLite's own "database or disk is full" once the file must grow
    out = agent.chat("show run " + run.id, thread_id="t1")
    assert f"Run {run.id}" in out["answer"] and "held in memory only" in out["answer"]
    assert "the chat's history cannot be written" in out["answer"] and out["tool_calls"][0]["status"] == "ok"
    assert agent.held_note("t1").startswith("This turn is held in memory only") and agent.held_note("t9") is None
    stored = Agent(home).transcript("t1")  # another process reads agent.db: nothing stored was changed
    assert stored == kept or stored[: len(kept)] == kept
    out = agent.chat("delete run " + run.id, thread_id="t1")
    assert out["pending_confirmation"] == {"tool": "delete_runs", "args": {"run_ids": [run.id]}}
    streamed = list(agent.stream("no", "t1"))  # the proposal held in memory is what the "no" answers
    assert streamed[-1] == {"event": "done", "pending_confirmation": None}
    assert streamed[-2]["text"].startswith(HELD.split("{")[0]) and (home.runs / run.id).exists()
    db.execute("PRAGMA max_page_count=1073741823")  # space again: the next turn writes the thread back first
    out = agent.chat("list my runs", thread_id="t1")
    assert "held in memory" not in out["answer"] and agent.held_note("t1") is None
    said = [t["content"] for t in Agent(home).transcript("t1") if t["role"] == "user"]
    assert said == ["list my runs", "show run " + run.id, "delete run " + run.id, "no", "list my runs"]

    def registry_full(*_a, **_k):  # a new conversation's owner row is the registry's to write
        raise full_disk_error("database or disk is full", home.root, "the registry")

    monkeypatch.setattr("agent.session.claim_thread", registry_full)
    assert "| run |" in Agent(home).chat("list my runs", thread_id="t2")["answer"]


def test_a_line_cut_short_by_a_full_disk_is_taken_back(tmp_path, monkeypatch):
    import ssl_runtime.run_folder as rf

    folder = RunFolder(tmp_path / "run").create()
    folder.log_metrics({"step": 1, "loss": 2.0})
    real_write, calls = rf.os.write, []

    def half_then_full(fd, data):
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(rf.os, "write", half_then_full)
    with pytest.raises(OSError):
        folder.log_metrics({"step": 2, "loss": 1.5})
    monkeypatch.setattr(rf.os, "write", real_write)
    folder.log_metrics({"step": 2, "loss": 1.5})  # the retry's line stands whole
    assert [r["step"] for r in read_jsonl(folder.metrics)] == [1, 2] and len(calls) == 2


def test_when_space_waits_once_said_and_gives_up_after_its_wait(tmp_path):
    folder = RunFolder(tmp_path / "run").create()
    tries = []

    def fills_twice():
        tries.append(1)
        if len(tries) < 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return "written"

    assert when_space(folder, "the encoder", fills_twice, wait_s=5, retry_every_s=0.01) == "written"
    waits = [e for e in folder.read_events() if e.get("kind") == "disk_full_wait"]
    assert len(tries) == 3 and len(waits) == 1 and "the encoder not written" in waits[0]["message"]

    def always_full():
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError):
        when_space(folder, "the encoder", always_full, wait_s=0.05, retry_every_s=0.01)
    other = []

    def broken():
        other.append(1)
        raise ValueError("not a disk problem")

    with pytest.raises(ValueError):
        when_space(folder, "the encoder", broken, wait_s=5, retry_every_s=0.01)
    assert len(other) == 1  # raised at once, no waiting


# A worker under a file-size limit: every file past LIMIT bytes fails with EFBIG, as on a full disk. The metrics and
# events stay under it; the checkpoints (~320 kB) and the encoder (~77 kB) do not. "comes_back" lifts the limit at
# the first wait, as a user freeing space would.
FULL_DISK_RUN = """
import resource, signal, sys, time, types
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
import ssl_runtime.disk_wait as dw
from ssl_runtime.worker import run_worker
LIMIT = 20_000
if sys.argv[2] == "comes_back":
    def sleep(s):
        resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        time.sleep(s)
    dw.time = types.SimpleNamespace(monotonic=time.monotonic, sleep=sleep)
resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, resource.RLIM_INFINITY))
try:
    print("status", run_worker(sys.argv[1], probe=False)["status"])
except Exception as exc:
    print("raised", type(exc).__name__)
"""


def _run_on_a_full_disk(tmp_path, how: str):
    from conftest import make_run_dir

    run_dir = make_run_dir(tmp_path, tiny_config(), how)
    env = {**subprocess_env(), "SSLPILOT_FULL_DISK_WAIT_S": "0.5"}
    out = subprocess.run([sys.executable, "-c", FULL_DISK_RUN, str(run_dir), how], env=env, capture_output=True,
                         text=True, timeout=240)
    return out, RunFolder(run_dir)


def test_a_run_whose_encoder_cannot_be_written_waits_then_fails_naming_the_disk(tmp_path):
    out, folder = _run_on_a_full_disk(tmp_path, "stays_full")
    assert "raised" in out.stdout, (out.stdout, out.stderr[-2000:])
    events = folder.read_events()
    assert sum(e.get("kind") == "checkpoint_failed" for e in events) >= 2  # training went on past them
    assert any(e.get("kind") == "disk_full_wait" and "the encoder not written" in e["message"] for e in events)
    failed = [e for e in events if e.get("kind") == "disk_full"]
    assert len(failed) == 1 and f"the disk holding {folder.path} is full" in failed[0]["message"]
    assert "no checkpoint was written" in failed[0]["message"]  # so it says to launch again, not to resume
    assert folder.status() == "failed"
    assert [r["step"] for r in folder.read_metrics() if "loss" in r] == [2, 4, 6, 8, 10, 12]  # every row kept


def test_a_run_goes_on_when_space_comes_back(tmp_path):
    out, folder = _run_on_a_full_disk(tmp_path, "comes_back")
    assert "status succeeded" in out.stdout, (out.stdout, out.stderr[-2000:])
    assert any(e.get("kind") == "disk_full_wait" for e in folder.read_events())
    assert (folder.encoder / "model.safetensors").stat().st_size > 20_000
    assert json.loads(folder.summary.read_text())["status"] == "succeeded"


def test_a_verdict_not_kept_on_a_full_disk_is_read_at_the_next_end(home, monkeypatch, capsys):
    import tools.diagnosis as diagnosis
    from ssl_runtime.trainer import train

    first = enqueue(home, tiny_config())
    train(first.run_dir)
    Registry(home).sync(first.id)
    def disk_full(*_a, **_k):  # the SQLite side is the test above's; here the diagnosis' handling of it
        raise full_disk_error("database or disk is full", home.root, "the registry")

    monkeypatch.setattr(Registry, "add_diagnosis", disk_full)
    d = diagnosis.diagnose_run(home, first.id, literature=False, index=False)
    assert d["verdict"] and "cannot be written" in d["not_stored"]  # the reading is given, and said not kept
    diagnosis.diagnose_ended(home, first.id, index=False)
    assert f"diagnosis of ended run {first.id} not kept" in capsys.readouterr().err
    assert Registry(home).get(first.id).verdict is None
    monkeypatch.undo()

    second = enqueue(home, tiny_config())  # space again; the next run to end
    train(second.run_dir)
    Registry(home).sync(second.id)
    diagnosis.diagnose_ended(home, second.id, index=False)
    assert Registry(home).get(second.id).verdict is not None
    assert Registry(home).get(first.id).verdict is not None  # caught up


def test_the_queue_says_a_lasting_failure_once_and_its_end(home, capsys):
    from tools.scheduler import Scheduler

    scheduler = Scheduler(home)
    full = DiskFullError("the disk holding /x is full", field="SSLPILOT_HOME")
    for _ in range(5):  # a full disk fails every tick
        scheduler._say_failed("scheduler tick", full)
    scheduler._say_failed("scheduler tick", None)
    scheduler._say_failed("scheduler tick", None)
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["scheduler tick failed: DiskFullError: SSLPILOT_HOME: the disk holding /x is full (said once "
                     "while it lasts)", "scheduler tick works again"]


@pytest.mark.parametrize("fails", ["the run's config", "the registry"])
def test_a_launch_the_disk_cannot_hold_leaves_nothing_and_says_why(home, monkeypatch, fails):
    import tools.runs as runs

    def no_space(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    def registry_full(*_a, **_k):
        raise full_disk_error("database or disk is full", home.root, "the registry")

    if fails == "the run's config":
        monkeypatch.setattr(runs, "save_config", no_space)
    else:
        monkeypatch.setattr(Registry, "add_run", registry_full)
    with pytest.raises(DiskFullError, match="so a new run cannot be written"):
        enqueue(home, tiny_config())
    monkeypatch.undo()
    assert [p.name for p in home.runs.iterdir()] == [] and Registry(home).list() == []
    assert enqueue(home, tiny_config()).id == "1"  # the id it had claimed was never registered: free again


def test_the_knowledge_store_on_a_full_disk_is_the_same_one_line(home):
    from tools.knowledge.store import _writing

    with pytest.raises(DiskFullError, match="so the knowledge store cannot be written"):
        with _writing(home):  # what chromadb raised on a full disk (sslpilot ingest, session 52)
            raise RuntimeError("error returned from database: (code: 13) database or disk is full")
    with pytest.raises(RuntimeError, match="no such collection"):
        with _writing(home):
            raise RuntimeError("no such collection")


def test_a_page_shows_the_one_line_not_a_traceback(home, monkeypatch):
    from conftest import ROOT
    from streamlit.testing.v1 import AppTest

    from agent.session import Agent

    raised = []  # the error as raised: free space read again later may differ while other tests write

    def full(*_a, **_k):
        raised.append(full_disk_error("database or disk is full", home.root, "the chat's history"))
        raise raised[-1]

    monkeypatch.setenv("SSLPILOT_HOME", str(home.root))
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    monkeypatch.setattr(Agent, "transcript", full)
    at = AppTest.from_file(str(ROOT / "ui" / "pages" / "chat.py"), default_timeout=180).run()
    assert not at.exception
    assert raised and "is full" in str(raised[-1])
    assert [e.value for e in at.error] == [str(raised[-1])]
    monkeypatch.undo()  # a conversation held in memory: the page says so under it
    monkeypatch.setenv("SSLPILOT_HOME", str(home.root))
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    monkeypatch.setattr(Agent, "held_note", lambda self, thread: "This turn is held in memory only: disk full.")
    at = AppTest.from_file(str(ROOT / "ui" / "pages" / "chat.py"), default_timeout=180).run()
    assert not at.exception and [w.value for w in at.warning] == ["This turn is held in memory only: disk full."]


def test_a_worker_that_said_how_it_ended_is_not_called_dead_while_the_registry_lags(home, monkeypatch):
    """While the disk is full, Registry.sync answers from the stored row ("running"); the run's own last words in
    its folder ("failed", "succeeded") must still stop the queue from calling it died-without-saying and retrying
    it."""
    from tools.gpus import Allocator
    from tools.queue import Dispatcher, QueuePolicy

    run = enqueue(home, tiny_config())
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    reg = Registry(home)
    reg.update(run.id, status="running", pid=gone.pid)
    folder = RunFolder(run.run_dir)
    folder.set_status("running")
    folder.set_status("failed", "the disk holding it is full")

    def lagging(_self, _run_id):
        raise full_disk_error("database or disk is full", home.root, "the registry")

    monkeypatch.setattr(Registry, "_sync_once", lagging)
    Dispatcher(reg, Allocator(gpus=[], cpu_slots=1), QueuePolicy()).reap()
    monkeypatch.undo()
    assert folder.last_status() == "failed" and not any(e["type"] == "retry" for e in folder.read_events())
    after = Registry(home).sync(run.id)
    assert after.status == "failed" and after.pid is None and after.retries == 0


def test_the_monitor_leaves_a_run_alone_once_its_folder_says_it_ended_while_the_registry_lags(home, monkeypatch):
    """The live monitor diagnoses runs the registry calls running; one that collapsed and then ended while the disk
    was full is "running" in the stored row, and must not get an alert after its end."""
    from conversation_eval import write_evidence

    from tools.diagnosis import monitor_tick

    run = enqueue(home, tiny_config())
    reg = Registry(home)
    reg.update(run.id, status="running")
    folder = RunFolder(run.run_dir)
    folder.set_status("running")
    write_evidence(folder, "collapsed")

    def lagging(_self, _run_id):
        raise full_disk_error("database or disk is full", home.root, "the registry")

    folder.set_status("succeeded", "finished")
    with monkeypatch.context() as m:
        m.setattr(Registry, "_sync_once", lagging)
        assert Registry(home).sync(run.id).status == "running"  # the lag this is about
        assert monitor_tick(home) == []
    assert not any(e["type"] == "alert" for e in folder.read_events())
    folder.set_status("running")  # the control: the same run, still running by its folder, is alerted on
    alerts = monitor_tick(home)
    assert [a["run_id"] for a in alerts] == [run.id] and alerts[0]["verdict"] != "healthy"


def test_a_database_that_cannot_be_opened_for_want_of_space_is_read_as_it_is(home, monkeypatch):
    """On a disk with no byte free SQLite cannot create a WAL database's -shm file, so it could not even be opened, and
    `trash empty` and `data rm` (which read who you are) failed: the commands that free space. It is read as it is
    then; every write gets the full-disk line (walked on a full tmpfs, session 52)."""
    run = enqueue(home, tiny_config())
    with sqlite3.connect(home.root / "sslpilot.db") as db:  # as when nothing holds it: its WAL folded into the file
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    full = full_disk_error("database or disk is full", home.root, "the registry")

    def cannot_open(_self):
        raise full

    monkeypatch.setattr(Registry, "_ensure_schema", cannot_open)
    reg = Registry(home)
    assert reg.full is full and reg.get(run.id).status == "queued" and [r.id for r in reg.list()] == [run.id]
    with pytest.raises(DiskFullError, match="so the registry cannot be written"):
        reg.update(run.id, notes="kept?")
    monkeypatch.undo()
    assert Registry(home).get(run.id).notes == ""


def test_a_terminal_chat_closing_on_a_full_disk_prints_the_conversation_it_could_not_keep(home, capsys):
    """Held turns lived only in the chat's process: closing it lost them (session 53, noticed). The terminal chat
    now tries the write-back once more as it closes and, the disk still full, prints the conversation."""
    from rich.console import Console

    from agent.session import Agent
    from ui.cli.front import _print_unsaved

    agent = Agent(home)
    agent.chat("list my runs", thread_id="t1")
    db = agent.checkpointer.conn
    db.execute(f"PRAGMA max_page_count={db.execute('PRAGMA page_count').fetchone()[0]}")
    agent.chat("how much disk do my runs use?", thread_id="t1")
    _print_unsaved(agent, "t1", Console(force_terminal=False, width=200))
    printed = capsys.readouterr().out
    assert "could not be saved: SSLPILOT_HOME: the disk holding" in printed and "you> how much disk do my runs use?" in printed
    assert "you> list my runs" in printed and "sslpilot> " in printed
    db.execute("PRAGMA max_page_count=1073741823")  # room again: the closing write-back keeps it, nothing printed
    assert agent.unsaved("t1") is None and agent.held_note("t1") is None
    _print_unsaved(agent, "t1", Console(force_terminal=False, width=200))
    assert capsys.readouterr().out == ""
    said = [t["content"] for t in Agent(home).transcript("t1") if t["role"] == "user"]
    assert said == ["list my runs", "how much disk do my runs use?"]
