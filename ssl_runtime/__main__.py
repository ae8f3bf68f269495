"""Worker entry point: `python -m ssl_runtime run RUN_DIR [--resume] [--no-probe]` and `probe RUN_DIR`.

Exit codes: 0 succeeded, 2 user error (one line on stderr), 3 diverged, 4 interrupted or cancelled, 1 crash.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import sys

from ssl_runtime.errors import SSLPilotError

EXIT_CODES = {"succeeded": 0, "diverged": 3, "interrupted": 4, "cancelled": 4, "failed": 2}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ssl_runtime")
    sub = parser.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="train (and probe) the run in RUN_DIR")
    run.add_argument("run_dir")
    run.add_argument("--resume", action="store_true")
    run.add_argument("--no-probe", action="store_true")
    pr = sub.add_parser("probe", help="linear probe + kNN of a finished run")
    pr.add_argument("run_dir")
    args = parser.parse_args(argv)
    faulthandler.enable()  # a hard crash (an abort in C++, a segfault) leaves every thread's Python stack in the log

    def progress(row: dict) -> None:
        print(json.dumps(row), flush=True)

    try:
        if args.cmd == "run":
            from ssl_runtime.worker import run_worker

            summary = run_worker(args.run_dir, resume=args.resume, progress=progress, probe=not args.no_probe)
            print(json.dumps({"status": summary["status"], "steps": summary.get("steps")}), flush=True)
            return EXIT_CODES.get(summary["status"], 1)
        from ssl_runtime.probe import probe_run

        print(json.dumps(probe_run(args.run_dir)))
        return 0
    except SSLPilotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
