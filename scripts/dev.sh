#!/usr/bin/env bash
# One entry point for a fresh machine: sets up .venv, then runs `demo` (the main job) or `test` (the suite).
#   bash scripts/dev.sh demo            (SSLPILOT_HOME and SSLPILOT_UI_PORT apply)
#   bash scripts/dev.sh test [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${SSLPILOT_VENV:-.venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
PY="$VENV/bin/python"

# CPU machines without torch get the 2.13.0 wheel (on disk here); GPU boxes keep the CUDA torch they have.
"$PY" -c "import torch" 2>/dev/null || "$PY" -m pip install -q --disable-pip-version-check torch==2.13.0

# Reinstall only when the project's dependencies changed.
stamp="$VENV/.sslpilot-install"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$PY" -m pip install -q --disable-pip-version-check -e ".[dev]"
  echo "$want" > "$stamp"
fi

# Tests also drive a real PostgreSQL server, Debian's Chromium (no browser download) and a one-host Slurm; install them
# from Debian's packages when missing and we may (root with apt). Without them those tests skip, loudly.
system_deps() {
  local groups=()
  command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || groups+=("postgresql")
  [ -x /usr/bin/chromium ] || groups+=("chromium")
  command -v slurmctld >/dev/null || groups+=("slurm-wlm slurmdbd munge mariadb-server")
  [ ${#groups[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "warning: missing ${groups[*]}; those tests will be skipped" >&2
    return 0
  fi
  apt-get update -q >/dev/null 2>&1 || true
  local g
  for g in "${groups[@]}"; do  # one group per install: a package that cannot be had skips only its tests
    echo "installing $g from Debian's packages for the browser, PostgreSQL and Slurm tests" >&2
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $g >/dev/null 2>&1 \
      || echo "warning: could not install $g; those tests will be skipped" >&2
  done
}

cmd="${1:-}"; shift || true
case "$cmd" in
  demo)
    # First use: a healthy SimCLR run and a SimSiam run without stop-gradient (it collapses), each probed.
    if ! "$VENV/bin/sslpilot" runs --status succeeded --json | grep -q '"run_id"'; then
      "$VENV/bin/sslpilot" pretrain --method simclr --data digits --epochs 30
      "$VENV/bin/sslpilot" pretrain --method simsiam --data digits --steps 150 --batch-size 128 \
        --set method_args.predictor=false --set method_args.stop_gradient=false
    fi
    echo "Open http://127.0.0.1:${SSLPILOT_UI_PORT:-8501} and ask: why did run 2 collapse?" >&2
    exec "$VENV/bin/sslpilot" ui --port "${SSLPILOT_UI_PORT:-8501}"
    ;;
  test)
    system_deps
    set +e
    # two workers (pytest-xdist), one file each at a time: the suite is mostly single-threaded process
    # starts and waits, so two cores finish it in far less time; SSLPILOT_TEST_WORKERS=0 runs it in-process; the
    # longest files start first, so the two workers end together (tests/conftest.py LONGEST_FIRST; without
    # --no-loadscope-reorder pytest-xdist hands files out by their count of tests)
    "$PY" -m pytest -q -n "${SSLPILOT_TEST_WORKERS:-2}" --dist loadfile --no-loadscope-reorder "$@"
    rc=$?
    if [ "$rc" -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi
    exit "$rc"
    ;;
  *)
    echo "usage: bash scripts/dev.sh demo|test [args]" >&2; exit 2
    ;;
esac
