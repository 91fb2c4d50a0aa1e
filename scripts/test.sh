#!/usr/bin/env bash
# `make test`: installs what is missing, builds, runs every suite, ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export TALLY="$ROOT/build/tally.txt"

scripts/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }
mkdir -p build && : >"$TALLY"

# 1. The core: GoogleTest under ctest, with no PostgreSQL on the include path.
echo "== core unit tests (GoogleTest) =="
if cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null && cmake --build build -j2 >build/core-build.log 2>&1; then
  (cd build && ctest --output-on-failure 2>&1) | tee build/ctest.log
  scripts/tally.sh ctest build/ctest.log
else
  cat build/core-build.log; echo "ctest 0 1" >>"$TALLY"
fi

# 2. The extension, installed into the server's directories.
echo "== extension build =="
if make -j2 >build/ext-build.log 2>&1 && make install >>build/ext-build.log 2>&1; then
  echo "built and installed pg_fraud"
  # 3. pg_regress, isolation specs and SQL-level scripts against a throwaway cluster.
  scripts/drop-stale-cluster.sh
  pg_virtualenv -v 15 -o max_worker_processes=8 -o max_parallel_workers_per_gather=2 \
    scripts/pg-tests.sh
else
  tail -50 build/ext-build.log; echo "build 0 1" >>"$TALLY"
fi

passed=$(awk '{p += $2} END {print p + 0}' "$TALLY")
failed=$(awk '{f += $3} END {print f + 0}' "$TALLY")
echo "== summary =="
awk '{printf "  %-12s %4d passed, %d failed\n", $1, $2, $3}' "$TALLY"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
