"""Opening the registry: every tool call and chat turn opens it (often several times), so its cost is paid often.

    python benchmarks/registry_open.py [--opens 200] [--repo PATH]

Times `Registry(home)` on a database that is already current, in a fresh process per checkout: this one, and with
--repo another (e.g. a `git worktree` of an older commit) as the reference, each in its own home, on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, table

CODE = """
import json, sys, time
from tools.home import Home
from tools.registry import Registry
home = Home.resolve(sys.argv[1])
Registry(home)  # created: the opens below find a current schema
n = int(sys.argv[2])
t = time.perf_counter()
for _ in range(n):
    Registry(home)
print(json.dumps({"ms_per_open": (time.perf_counter() - t) / n * 1000}))
"""


def ms_per_open(repo: Path, opens: int) -> float:
    home = tempfile.mkdtemp(prefix="sslpilot-registry-open-")
    out = subprocess.run([sys.executable, "-c", CODE, home, str(opens)], cwd=repo, check=True, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(repo)})
    return json.loads(out.stdout.strip().splitlines()[-1])["ms_per_open"]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--opens", type=int, default=200)
    p.add_argument("--repo", type=Path, help="another checkout, the reference")
    args = p.parse_args()
    now = ms_per_open(ROOT, args.opens)
    rows = [["this checkout", now, 1.0]]
    if args.repo:
        ref = ms_per_open(args.repo, args.opens)
        rows = [[f"reference ({args.repo})", ref, 1.0], ["this checkout", now, now / ref]]
    print(table(["registry", "ms per open", "ratio to reference"], rows))


if __name__ == "__main__":
    main()
