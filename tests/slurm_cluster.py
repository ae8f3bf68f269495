"""A single-host Slurm cluster started by hand (no systemd) for the Slurm backend tests.

munged, MariaDB (for slurmdbd, so sacct answers), slurmdbd, slurmctld and slurmd, from Debian's packages
(`scripts/dev.sh test` installs them when root with apt), with every file in one temporary folder and
free loopback ports. `start()` returns the environment the clients need (SLURM_CONF); `stop()` ends every
daemon it started.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DAEMONS = ("munged", "mariadbd", "slurmdbd", "slurmctld", "slurmd")


def missing() -> str | None:
    """Why a cluster cannot be started here, or None."""
    if os.geteuid() != 0:
        return "the Slurm tests start slurmctld/slurmd as root; run the suite as root"
    absent = [d for d in DAEMONS if shutil.which(d) is None and not Path(f"/usr/sbin/{d}").exists()]
    if absent or shutil.which("sbatch") is None:
        return f"Slurm is not installed ({', '.join(absent) or 'sbatch'} missing; scripts/dev.sh test installs " \
               "slurm-wlm, slurmdbd, munge and mariadb-server from Debian's packages)"
    return None


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, what: str, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f}s")


@dataclass
class SlurmCluster:
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="sslpilot-slurm-")))
    procs: list[subprocess.Popen] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def _spawn(self, name: str, *cmd: str) -> subprocess.Popen:
        log = (self.root / f"{name}.out").open("ab")
        proc = subprocess.Popen(list(cmd), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=self.env)
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        parts = []
        for f in sorted(self.root.glob(f"{name}*")):
            if f.is_file():
                parts.append(f.read_text(errors="replace")[-3000:])
        return "\n".join(parts)

    def start(self) -> dict[str, str]:
        r = self.root
        host = socket.gethostname()
        cpus = os.cpu_count() or 2
        mem_mb = int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20 * 0.8)
        for d in ("state", "spool", "munge", "db", "log"):
            (r / d).mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "SLURM_CONF": str(r / "slurm.conf")}
        # munge on its standard socket (slurmctld's link to slurmdbd ignores AuthInfo); one already running
        # there (a real install) is used as it is
        sock = Path("/run/munge/munge.socket.2")
        if not _munge_answers():
            sock.parent.mkdir(parents=True, exist_ok=True)
            self._spawn("munged", "munged", "--foreground", "--force", f"--socket={sock}",
                        f"--pid-file={r / 'munge' / 'munged.pid'}", f"--seed-file={r / 'munge' / 'seed'}",
                        f"--log-file={r / 'log' / 'munged.log'}")
            _wait(_munge_answers, "munged")
        # MariaDB for slurmdbd (accounting, so sacct works)
        db_port, db_sock = _port(), r / "db" / "mysqld.sock"
        subprocess.run(["mariadb-install-db", f"--datadir={r / 'db' / 'data'}", "--user=root",
                        "--auth-root-authentication-method=normal", "--skip-test-db"], check=True,
                       capture_output=True)
        self._spawn("mariadbd", "mariadbd", f"--datadir={r / 'db' / 'data'}", "--user=root", f"--port={db_port}",
                    "--bind-address=127.0.0.1", f"--socket={db_sock}", f"--pid-file={r / 'db' / 'mysqld.pid'}",
                    "--innodb-buffer-pool-size=64M", f"--log-error={r / 'log' / 'mariadb.log'}")
        _wait(db_sock.exists, "mariadbd")
        sql = ("CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm';"
               "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; FLUSH PRIVILEGES;")
        _wait(lambda: subprocess.run(["mariadb", f"--socket={db_sock}", "-uroot", "-e", sql],
                                     capture_output=True).returncode == 0, "MariaDB accepting logins", 30)
        dbd_port, ctld_port, slurmd_port = _port(), _port(), _port()
        dbd_conf = r / "slurmdbd.conf"
        dbd_conf.write_text(f"""AuthType=auth/munge
AuthInfo=socket={sock}
DbdHost=localhost
DbdPort={dbd_port}
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={db_port}
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
LogFile={r / 'log' / 'slurmdbd.log'}
PidFile={r / 'state' / 'slurmdbd.pid'}
""")
        dbd_conf.chmod(0o600)
        (r / "slurm.conf").write_text(f"""ClusterName=sslpilot
SlurmctldHost={host}
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={sock}
StateSaveLocation={r / 'state'}
SlurmdSpoolDir={r / 'spool'}
SlurmctldPidFile={r / 'state' / 'slurmctld.pid'}
SlurmdPidFile={r / 'state' / 'slurmd.pid'}
SlurmctldLogFile={r / 'log' / 'slurmctld.log'}
SlurmdLogFile={r / 'log' / 'slurmd.log'}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort={dbd_port}
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
JobRequeue=1
SchedulerType=sched/backfill
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=10
NodeName={host} CPUs={cpus} RealMemory={mem_mb} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
""")
        self._spawn("slurmdbd", "slurmdbd", "-D")  # reads slurmdbd.conf beside SLURM_CONF
        _wait(lambda: _listening(dbd_port), "slurmdbd")
        self._spawn("slurmctld", "slurmctld", "-D", "-i", "-f", str(r / "slurm.conf"))
        _wait(lambda: _listening(ctld_port), "slurmctld")
        self._spawn("slurmd", "slurmd", "-D", "-f", str(r / "slurm.conf"), "-N", host)
        _wait(lambda: "idle" in subprocess.run(["sinfo", "-h", "-o", "%t"], env=self.env, capture_output=True,
                                               text=True).stdout, "the Slurm node (idle)", 60)
        _wait(lambda: subprocess.run(["sacct", "-n", "-X"], env=self.env, capture_output=True).returncode == 0,
              "sacct", 30)
        return {"SLURM_CONF": str(r / "slurm.conf")}

    def stop(self) -> None:
        subprocess.run(["scancel", "--user=root"], env=self.env, capture_output=True)
        try:  # let slurmd end the cancelled jobs' steps before it goes: else their slurmstepd outlive the suite
            _wait(lambda: not subprocess.run(["squeue", "-h"], env=self.env, capture_output=True,
                                             text=True).stdout.strip(), "the cancelled jobs' end", 30)
        except RuntimeError:
            pass
        self._kill_job_processes()
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    def _kill_job_processes(self) -> None:
        """Whatever still runs a job of this cluster (a command line under its folder: batch scripts, their srun),
        and the slurmstepd above each: a job cancelled as slurmd stopped leaves them behind, holding nothing but
        process slots."""
        root, doomed = str(self.root), set()
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                if root in (proc / "cmdline").read_bytes().decode(errors="replace"):
                    doomed.add(int(proc.name))
                    parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
                    if (Path("/proc") / str(parent) / "comm").read_text().strip() == "slurmstepd":
                        doomed.add(parent)
            except (OSError, ValueError, IndexError):
                continue
        for pid in doomed - {os.getpid()}:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _munge_answers() -> bool:
    done = subprocess.run("munge -n | unmunge", shell=True, capture_output=True)  # noqa: S602 - fixed text
    return done.returncode == 0


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0
