#!/usr/bin/env bash
cd "$(dirname "$0")"
PY=../.venv/bin/python
$PY -u knowledge_bench.py --big 50000 > out/knowledge_bench.txt 2>&1
$PY -u agent_latency.py --turns 15 > out/agent_latency.txt 2>&1
$PY -u queue_bench.py > out/queue_bench.txt 2>&1
echo done > out/done4
