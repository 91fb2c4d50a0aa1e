#!/usr/bin/env bash
# `make demo`: installs what is missing, builds, and shows pg_fraud on a throwaway PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
echo "== building pg_fraud =="
make -j2 >/dev/null && make install >/dev/null
echo "== starting a throwaway PostgreSQL 15 (removed when the demo ends) =="
scripts/drop-stale-cluster.sh
exec pg_virtualenv -v 15 -o max_worker_processes=8 scripts/demo-session.sh
