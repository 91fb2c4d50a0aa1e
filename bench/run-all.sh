#!/usr/bin/env bash
# Inside the throwaway cluster of bench/run.sh: every benchmark in turn, each followed by
# how long it took (the whole run's budget is 20 minutes with the default sizes).
set -euo pipefail
cd "$(dirname "$0")"
export PGDATABASE=postgres
section() {
  local start=$SECONDS
  /usr/bin/python3 "$@"
  echo "(${1%.py}: $((SECONDS - start)) s)"
  echo
}
section scoring.py --rows "$BENCH_ROWS" --runs "$BENCH_RUNS"
section training.py --rows "$BENCH_ROWS" --runs "$BENCH_RUNS" --memory-rows "$BENCH_MEMORY_ROWS"
section insert.py --copy-rows "$BENCH_ROWS" --runs "$BENCH_RUNS"
section service.py
section scaling.py --sizes "$BENCH_SCALING_SIZES" --runs "$BENCH_RUNS"
section history.py --rows "$BENCH_ROWS" --runs "$BENCH_RUNS"
section views.py --rows "$BENCH_MEMORY_ROWS"
section trees.py --rows "$BENCH_ROWS" --runs "$BENCH_RUNS"
section trees_training.py --rows "$BENCH_ROWS" --runs "$BENCH_RUNS"
section service_models.py
