#!/usr/bin/env bash
# Runs every benchmark in turn, one at a time (they time things), writing benchmarks/out/<name>.txt.
set -u
cd "$(dirname "$0")"
mkdir -p out
PY=../.venv/bin/python
run() { name=$1; shift; echo "== $name $*"; $PY -u "$name.py" "$@" > "out/$name.txt" 2>&1; }
run queue_bench
run health_overhead --steps 200
run train_throughput --steps 20
run probe_quality --epochs 100
run probe_vs_sklearn
run knowledge_bench
run agent_latency
run text_clip_bench
echo ALLDONE > out/done
