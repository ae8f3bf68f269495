"""A warm worker launcher: one process that has imported torch, transformers and the trainer once, and forks a
worker per run. `python -m ssl_runtime.warm`.

Importing torch and transformers takes several seconds (7.7 s on a 2-core VM), longer than everything else a
launch on a dataset cache does; a fork of a process that already has them starts the run at once. The fork is
safe because this process never touches CUDA or starts a thread (it refuses to fork if one appears): each
worker sets its own CUDA_VISIBLE_DEVICES and thread count before torch does any work.

Protocol, one JSON object per line. In on stdin: {"argv": [...ssl_runtime args...], "env": {...}, "log": path,
"cwd": path}. Out on stdout: {"ready": true} once imports are done, then {"pid": N} per request (the worker is
the leader of its own session, like a Popen'd one) or {"error": "..."}. A worker's exit code is appended as
{"pid": N, "code": C} to the file named by `--exits`, so the launching side can report it. End of stdin (the
launching process went away) ends the launcher; running workers carry on.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading


def _preload() -> None:
    """Everything a run imports: the trainer, every task and every method of the catalogue, and scikit-learn's
    logistic regression, which the end-of-run probe fits (its import, through pandas, takes 1.4-2 s: as long as
    the fits). Its only native thread is pyarrow's jemalloc background thread, which jemalloc's own fork
    handlers stop and restart."""
    import sklearn.linear_model  # noqa: F401

    import ssl_runtime.probe  # noqa: F401
    import ssl_runtime.tasks.clip  # noqa: F401
    import ssl_runtime.tasks.text  # noqa: F401
    import ssl_runtime.tasks.vision  # noqa: F401
    import ssl_runtime.trainer  # noqa: F401
    import ssl_runtime.worker  # noqa: F401
    from ssl_runtime.catalogue import METHODS, method_class

    for name in METHODS:
        method_class(name)


def _child(request: dict, started: int) -> int:
    """In the forked worker: its own session (then says so on `started`), its log, its environment, then the
    usual entry point."""
    os.setsid()
    os.write(started, b"1")
    os.close(started)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    if request.get("cwd"):
        os.chdir(request["cwd"])
    fd = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.environ.clear()
    os.environ.update(request["env"])
    import torch

    threads = os.environ.get("OMP_NUM_THREADS")
    if threads and threads.isdigit():
        torch.set_num_threads(int(threads))  # OpenMP read the launcher's value at import; this run's counts
    from ssl_runtime.__main__ import main

    try:
        code = main(request["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - a crash is the worker's exit code 1, as in a fresh process
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def serve(exits: str) -> None:
    _preload()
    out = sys.stdout

    def reap(*_) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            with open(exits, "a") as f:
                f.write(json.dumps({"pid": pid, "code": os.waitstatus_to_exitcode(status)}) + "\n")

    signal.signal(signal.SIGCHLD, reap)
    print(json.dumps({"ready": True}), file=out, flush=True)
    for line in sys.stdin:
        try:
            request = json.loads(line)
            if threading.active_count() > 1:
                raise RuntimeError("the launcher has started a thread; forking it would not be safe")
            wait_fd, started_fd = os.pipe()
            pid = os.fork()
        except Exception as exc:  # noqa: BLE001 - answered, and the caller starts a fresh process instead
            print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), file=out, flush=True)
            continue
        if pid == 0:
            os.close(wait_fd)
            os._exit(_child(request, started_fd))
        os.close(started_fd)
        os.read(wait_fd, 1)  # the worker leads its own session before anyone is told its pid: a cancel reaches it
        os.close(wait_fd)
        print(json.dumps({"pid": pid}), file=out, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ssl_runtime.warm")
    parser.add_argument("--exits", required=True, help="file the workers' exit codes are appended to")
    serve(parser.parse_args().exits)


if __name__ == "__main__":
    main()
