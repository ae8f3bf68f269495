#!/usr/bin/env bash
cd "$(dirname "$0")"
PY=../.venv/bin/python
$PY -u health_overhead.py --steps 200 > out/health_overhead.txt 2>&1
$PY -u train_throughput.py --steps 20 > out/train_throughput.txt 2>&1
$PY -u probe_quality.py --data shapes --epochs 25 > out/probe_quality_shapes.txt 2>&1
echo done > out/done2
