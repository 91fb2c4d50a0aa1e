#!/usr/bin/env bash
# bench/citus.py in a throwaway Citus cluster (scripts/citus-build.sh, scripts/citus-cluster.sh).
# Runs as root. BENCH_ROWS (default 1000000), BENCH_RUNS (default 3).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/citus-build.sh >/dev/null || { echo "citus bench skipped: Citus cannot be built here"; exit 0; }
dir=$(mktemp -d /tmp/pg_fraud_citus_bench.XXXX)
trap '"$root/scripts/citus-cluster.sh" stop "$dir"; rm -rf "$dir"' EXIT
scripts/citus-cluster.sh start "$dir" 5471 || { echo "citus bench: the cluster did not start"; exit 1; }
cd bench && PGHOST=$dir PGPORT=5471 PGUSER=postgres PGDATABASE=postgres \
  /usr/bin/python3 citus.py --rows "${BENCH_ROWS:-1000000}" --runs "${BENCH_RUNS:-3}"
