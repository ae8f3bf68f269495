#!/usr/bin/env bash
cd "$(dirname "$0")"
PY=../.venv/bin/python
$PY -u queue_bench.py > out/queue_bench.txt 2>&1
$PY -u knowledge_bench.py --big 50000 > out/knowledge_bench.txt 2>&1
echo done > out/done5
