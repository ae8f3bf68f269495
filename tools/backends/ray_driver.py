"""What runs on a Ray cluster for one sslpilot run: the Ray job's entrypoint (started by Ray's job supervisor on
the head node, `python -m tools.backends.ray_driver RUN_DIR ...`).

It reserves one bundle per node (a STRICT_SPREAD placement group, so two "nodes" are two Ray nodes), puts a
`NodeLauncher` actor on each, and the launchers start that node's ranks (`python -m ssl_runtime run`) with the
torch.distributed variables, the master address being node 0's. It then watches them:
- every rank exited 0: the run finished or stopped with a checkpoint (the run folder says which);
- a node was lost (its launcher died with its raylet) or a rank was killed: the other ranks are stopped (they
  would wait in a collective forever), and the run starts again from its last checkpoint on the nodes Ray has
  now, up to --max-failures times;
- a rank failed and wrote `failed` to the run folder (a bad config, NaN loss): no retry, it would fail again.
SIGTERM (what `ray job stop` sends) is passed to the ranks, which checkpoint and stop; so is the end of
--time-limit-s (counted from the first placement).

`check HOME` (what `sslpilot backend test` submits) answers whether every alive node sees the sslpilot home,
since every node must read and write the same run folder.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import ray
from ray.util.placement_group import placement_group, remove_placement_group
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy, PlacementGroupSchedulingStrategy

from ssl_runtime.run_folder import RunFolder

PR_SET_PDEATHSIG = 1


def _die_with_launcher() -> None:
    """In the rank's process before exec: a SIGKILL when the launcher dies (its raylet lost, `ray.kill`), so a
    lost node leaves no rank behind holding the device or the run folder."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@ray.remote(max_restarts=0)
class NodeLauncher:
    """One per node: starts that node's ranks as child processes and reports on them."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def where(self, run_dir: str) -> dict:
        return {"node_id": ray.get_runtime_context().get_node_id(), "ip": ray.util.get_node_ip_address(),
                "sees_run_folder": (Path(run_dir) / "config.yaml").is_file()}

    def free_port(self) -> int:
        with socket.socket() as s:
            s.bind(("", 0))
            return s.getsockname()[1]

    def start(self, run_dir: str, first_rank: int, procs: int, world: int, master: tuple[str, int],
              resume: bool, threads: int) -> list[int]:
        folder = RunFolder(run_dir)
        cmd = [sys.executable, "-m", "ssl_runtime", "run", run_dir, *(["--resume"] if resume else [])]
        for local in range(procs):
            rank = first_rank + local
            env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": str(threads)}
            if world > 1:
                env.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(local),
                           LOCAL_WORLD_SIZE=str(procs), MASTER_ADDR=master[0], MASTER_PORT=str(master[1]))
            log = folder.stdout if rank == 0 else folder.path / f"stdout.rank{rank}.log"
            with log.open("ab") as out:
                self.procs.append(subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                                   stdin=subprocess.DEVNULL, preexec_fn=_die_with_launcher))
        return [p.pid for p in self.procs]

    def poll(self) -> list[int | None]:
        return [p.poll() for p in self.procs]

    def signal(self, sig: int) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(sig)


class _Stop:
    def __init__(self) -> None:
        self.event = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: self.event.set())
        signal.signal(signal.SIGINT, lambda *_: self.event.set())


def _place(nodes: int, bundle: dict, timeout_s: float, stop: _Stop):
    pg = placement_group([bundle] * nodes, strategy="STRICT_SPREAD" if nodes > 1 else "PACK")
    ready, deadline = pg.ready(), time.time() + timeout_s
    while time.time() < deadline and not stop.event.is_set():
        if ray.wait([ready], timeout=2.0)[0]:
            return pg
    remove_placement_group(pg)
    return None


def attempt(folder: RunFolder, args, stop: _Stop) -> str:
    """One try at the run on the nodes Ray has now: 'done', 'stopped', 'failed' or 'lost'."""
    bundle = {"CPU": args.cpus_per_proc * args.procs_per_node}
    if args.gpus_per_node:
        bundle["GPU"] = args.gpus_per_node
    pg = _place(args.nodes, bundle, args.placement_timeout_s, stop)
    if pg is None:
        if stop.event.is_set():
            return "stopped"
        folder.set_status("failed", f"the Ray cluster had no {args.nodes} node(s) with {bundle} free for "
                          f"{args.placement_timeout_s:.0f} s; add nodes or ask for fewer (--nodes, --gpus-per-node)")
        return "failed"
    launchers = [NodeLauncher.options(num_cpus=bundle["CPU"], num_gpus=args.gpus_per_node,
                                      scheduling_strategy=PlacementGroupSchedulingStrategy(pg, i)).remote()
                 for i in range(args.nodes)]
    try:
        return _run_ranks(folder, args, stop, launchers)
    except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError) as exc:  # dead, or silent for 2 min
        folder.event("warning", f"a node was lost: {str(exc).splitlines()[0][:300]}", kind="node_lost")
        return "lost"
    finally:
        for launcher in launchers:
            ray.kill(launcher)  # its ranks die with it (PDEATHSIG)
        remove_placement_group(pg)


def _run_ranks(folder: RunFolder, args, stop: _Stop, launchers: list) -> str:
    where = ray.get([launcher.where.remote(str(folder.path)) for launcher in launchers], timeout=120)
    blind = [w["node_id"][:12] for w in where if not w["sees_run_folder"]]
    if blind:
        folder.set_status("failed", f"Ray node(s) {', '.join(blind)} cannot see {folder.path}: put the sslpilot home "
                          "on storage every node mounts at the same path", kind="no_shared_storage")
        return "failed"
    port = ray.get(launchers[0].free_port.remote())
    resume = folder.has_checkpoint()
    world = args.nodes * args.procs_per_node
    threads = max(1, int(args.cpus_per_proc))
    ray.get([launcher.start.remote(str(folder.path), i * args.procs_per_node, args.procs_per_node, world,
                                   (where[0]["ip"], port), resume, threads) for i, launcher in enumerate(launchers)])
    if args.time_limit_s and args.deadline is None:  # counted from the first placement, as Slurm's from the start
        args.deadline = time.time() + args.time_limit_s
    folder.event("placed", f"{world} rank(s) on {args.nodes} Ray node(s) "
                 f"({', '.join(w['node_id'][:12] for w in where)})" + (", resuming" if resume else ""),
                 nodes=[w["node_id"] for w in where], world_size=world)
    signalled = False
    while True:
        out_of_time = args.deadline is not None and time.time() > args.deadline
        if (stop.event.is_set() or out_of_time) and not signalled:
            ray.get([launcher.signal.remote(signal.SIGTERM) for launcher in launchers])
            signalled = True
            if out_of_time:
                folder.event("time_limit", f"time limit of {args.time_limit_s / 60:g} min reached: stopping with a "
                             "checkpoint; `sslpilot resume` continues", kind="time_limit")
        codes = [c for cs in ray.get([launcher.poll.remote() for launcher in launchers], timeout=120) for c in cs]
        ended = [c for c in codes if c is not None]
        if ended and any(c != 0 for c in ended) and len(ended) < len(codes):
            # one rank is gone: the others wait in a collective that never completes
            ray.get([launcher.signal.remote(signal.SIGKILL) for launcher in launchers])
            continue
        if len(ended) == len(codes):
            break
        time.sleep(1.0)
    if all(c == 0 for c in codes):
        return "stopped" if signalled else "done"
    if folder.status() == "failed":  # the run's own error: a retry would fail the same way
        return "failed"
    if signalled:
        return "stopped"
    folder.event("warning", f"rank exit codes {codes}: a rank was killed", kind="rank_killed")
    return "lost"


def run(args) -> int:
    folder = RunFolder(args.run_dir)
    ray.init(log_to_driver=False)
    stop = _Stop()  # after ray.init, which installs its own SIGTERM handler (exit at once)
    for failure in range(args.max_failures + 1):
        outcome = attempt(folder, args, stop)
        if outcome in ("done", "stopped"):
            return 0
        if outcome == "failed":
            return 1
        if stop.event.is_set():
            return 0
        if failure < args.max_failures:
            note = "from its last checkpoint" if folder.has_checkpoint() else "from the start (no checkpoint)"
            folder.event("retry", f"retry {failure + 1}/{args.max_failures} after a lost node: resuming {note}")
    folder.set_status("interrupted", f"lost a node {args.max_failures + 1} times; `sslpilot resume` continues "
                      "from the last checkpoint")
    return 1


def check(home: str) -> int:
    """Print, as JSON, which alive nodes see `home` (a marker file the client wrote there)."""
    ray.init(log_to_driver=False)
    marker = Path(home) / ".shared-storage-check"

    @ray.remote(num_cpus=0)
    def sees(path: str) -> bool:
        return Path(path).is_file()

    nodes = [n for n in ray.nodes() if n["Alive"]]
    refs = [sees.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)).remote(
        str(marker)) for n in nodes]
    answer = {n["NodeID"]: ok for n, ok in zip(nodes, ray.get(refs, timeout=120), strict=True)}
    print("SSLPILOT-CHECK " + json.dumps({"nodes": answer}), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.backends.ray_driver")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("run_dir")
    r.add_argument("--nodes", type=int, default=1)
    r.add_argument("--procs-per-node", type=int, default=1)
    r.add_argument("--gpus-per-node", type=int, default=0)
    r.add_argument("--cpus-per-proc", type=float, default=1.0)
    r.add_argument("--max-failures", type=int, default=3)
    r.add_argument("--placement-timeout-s", type=float, default=600.0)
    r.add_argument("--time-limit-s", type=float, default=None)
    c = sub.add_parser("check")
    c.add_argument("home")
    args = p.parse_args(argv)
    args.deadline = None
    return run(args) if args.command == "run" else check(args.home)


if __name__ == "__main__":
    sys.exit(main())
