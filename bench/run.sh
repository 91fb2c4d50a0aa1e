#!/usr/bin/env bash
# `make bench`: builds, starts a throwaway cluster, runs every benchmark, writes bench/results.md.
# Sizes: BENCH_ROWS (default 1000000), BENCH_MEMORY_ROWS (default 10000000), BENCH_RUNS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
bench_start=$SECONDS
scripts/install-deps.sh
make -j2 >/dev/null && make install >/dev/null
export BENCH_ROWS=${BENCH_ROWS:-1000000} BENCH_RUNS=${BENCH_RUNS:-3} BENCH_MEMORY_ROWS=${BENCH_MEMORY_ROWS:-10000000} \
  BENCH_SCALING_SIZES=${BENCH_SCALING_SIZES:-100000,1000000,10000000}
scripts/drop-stale-cluster.sh
pg_virtualenv -v 15 -o shared_buffers=1GB -o max_worker_processes=8 -o synchronous_commit=off \
  bench/run-all.sh \
  | tee bench/out.txt
bench/citus.sh | tee -a bench/out.txt  # a cluster of its own
minutes=$(( (SECONDS - bench_start + 30) / 60 ))
{
  echo "# pg_fraud benchmark results"
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(lsb_release -ds 2>/dev/null || echo Debian), $(date -u +%Y-%m-%d)."
  echo "PostgreSQL $(pg_config --version | awk '{print $2}'), rows: $BENCH_ROWS, median of $BENCH_RUNS alternated runs, $minutes min in all."
  echo
  echo '```'
  grep -v '^{' bench/out.txt | grep -v 'cluster 15/regress'
  echo
  (cd bench && /usr/bin/python3 summary.py <out.txt)
  echo '```'
} >bench/results.md
(cd bench && /usr/bin/python3 summary.py <out.txt)
rm -f bench/out.txt
echo "wrote bench/results.md ($minutes min in all)"
