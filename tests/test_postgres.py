"""The registry and the scheduler's job store on PostgreSQL, unchanged code, through SSLPILOT_DB_URL.

A throw-away cluster is started from the machine's PostgreSQL binaries (initdb/pg_ctl) on a free
loopback port; `scripts/dev.sh test` installs Debian's postgresql when they are missing.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from conftest import subprocess_env, tiny_config
from sqlalchemy import text
from test_registry import run_writers

from ssl_runtime.trainer import train
from tools.home import Home
from tools.registry import Registry
from tools.runs import enqueue


def _pg_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pg_url():
    pytest.importorskip("psycopg")
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries not installed (scripts/dev.sh test installs them)")
    # Outside pytest's tmp tree: that one is private to root and the server runs as `postgres`.
    data = Path(tempfile.mkdtemp(prefix="sslpilot-pg-"))
    port = _free_port()
    # initdb refuses to run as root: run the server as the `postgres` system user then.
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(data, "postgres")
    def run(*cmd: str) -> None:
        done = subprocess.run([*as_user, *cmd], capture_output=True, text=True)
        assert done.returncode == 0, f"{cmd[0]} failed: {done.stderr[-2000:]}"

    run(str(bin_dir / "initdb"), "-D", str(data / "db"), "-U", "postgres", "-A", "trust")
    try:  # from here on the server is stopped whatever happens, so no test leaves one running
        run(str(bin_dir / "pg_ctl"), "-D", str(data / "db"), "-w", "-l", str(data / "log"),
            "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start")
        run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "sslpilot")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/sslpilot"
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data / "db"), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def pg_home(tmp_path, pg_url, monkeypatch):
    monkeypatch.setenv("SSLPILOT_DB_URL", pg_url)
    home = Home.resolve(tmp_path / "home")
    reg = Registry(home)
    with reg.engine.begin() as c:  # each test starts from empty tables
        names = ", ".join(f'"{t}"' for t in reg.engine.dialect.get_table_names(c) if t != "schema_info")
        if names:
            c.execute(text(f"TRUNCATE {names} CASCADE"))
    return home


def test_runs_metrics_and_rebuild_on_postgres(pg_home):
    run = enqueue(pg_home, tiny_config())
    train(run.run_dir)
    reg = Registry(pg_home)
    assert reg.url.startswith("postgresql")
    synced = reg.sync(run.id)
    assert synced.status == "succeeded" and synced.steps == 12
    before = {k: (m.last, m.count) for k, m in reg.metrics(run.id).items()}
    assert before["loss"][1] == 6
    with reg.engine.begin() as c:
        c.execute(text("TRUNCATE run CASCADE"))
    rebuilt = Registry(pg_home).rebuild()
    assert [r.id for r in rebuilt] == [run.id]
    assert {k: (m.last, m.count) for k, m in reg.metrics(run.id).items()} == before


def test_migration_on_postgres_keeps_rows(pg_home):
    run = enqueue(pg_home, tiny_config())
    reg = Registry(pg_home)
    with reg.engine.begin() as c:
        c.execute(text("ALTER TABLE run DROP COLUMN verdict"))
        c.execute(text("ALTER TABLE run DROP COLUMN dataset_cache"))
        c.execute(text("ALTER TABLE run DROP COLUMN source"))
        c.execute(text("ALTER TABLE run DROP COLUMN backend"))
        c.execute(text("ALTER TABLE run DROP COLUMN job_id"))
        c.execute(text("ALTER TABLE run DROP COLUMN job_state"))
        c.execute(text("ALTER TABLE run DROP COLUMN nodes"))
        c.execute(text("ALTER TABLE run DROP COLUMN owner"))  # its index goes with it
        c.execute(text("ALTER TABLE run DROP COLUMN wait_reason"))
        c.execute(text("ALTER TABLE run DROP COLUMN earlier_use_json"))
        c.execute(text("ALTER TABLE run DROP COLUMN after_id"))
        c.execute(text("ALTER TABLE run DROP COLUMN after_any"))
        c.execute(text("UPDATE schema_info SET version = 1"))
    reg.engine.dispose()
    again = Registry(pg_home)
    assert again.schema_version() == 9
    again.update(run.id, verdict="healthy", owner="ann", earlier_use_json="[]", after_id="1", after_any=True)
    got = again.get(run.id)
    assert (got.verdict, got.owner, got.status, got.earlier_use_json, got.after_id, got.after_any) == (
        "healthy", "ann", "queued", "[]", "1", True)


def test_two_admins_demoting_each_other_on_postgres_keep_one(pg_home):
    """PostgreSQL reads committed rows mid-transaction: the admin rows are locked (FOR UPDATE) first."""
    import threading

    from ssl_runtime.errors import SSLPilotError
    from tools.access import Actor, acting_as
    from tools.accounts import Accounts

    admin = Actor("root", "admin")
    with acting_as(admin):
        accounts = Accounts(pg_home)
        accounts.add("root", "admin", "root-password")
        accounts.add("ann", "admin", "ann-password")
    outcomes = []
    start = threading.Barrier(2)

    def demote(name):
        start.wait()
        try:
            with acting_as(admin):
                accounts.set_role(name, "viewer")
            outcomes.append("done")
        except SSLPilotError as exc:
            outcomes.append(str(exc))

    for _ in range(5):  # a race that a single try could miss
        outcomes.clear()
        threads = [threading.Thread(target=demote, args=(n,)) for n in ("root", "ann")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes)[0] == "done" and "would leave no admin" in sorted(outcomes)[1]
        assert len([u for u in accounts.list() if u.role == "admin"]) == 1
        with acting_as(admin):
            accounts.set_role("root", "admin")
            accounts.set_role("ann", "admin")


def test_concurrent_writers_on_postgres(pg_home, pg_url):
    n = 25
    run_writers(pg_home, n, env={**subprocess_env(), "SSLPILOT_DB_URL": pg_url})
    reg = Registry(pg_home)
    for w in range(4):
        assert reg.metrics(f"w{w}")["loss"].count == n
        assert len(reg.events(f"w{w}", types=["note"])) == n


def test_scheduled_launch_persists_in_postgres(pg_home):
    from datetime import datetime, timedelta, timezone

    from tools.scheduler import add_scheduled_launch, list_scheduled

    at = datetime.now(timezone.utc) + timedelta(days=1)
    job = add_scheduled_launch(pg_home, tiny_config(), at=at)
    jobs = list_scheduled(pg_home)
    assert [j["job_id"] for j in jobs] == [job["job_id"]]
    with Registry(pg_home).engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM apscheduler_jobs")).scalar() == 1
