#!/usr/bin/env bash
# The pg_regress suite against a server running under valgrind (memcheck, --trace-children),
# then a search of valgrind's reports for frames of pg_fraud. Slow (about 5 minutes for the
# scoring files on 2 cores), so `make test` does not run it; run it as root after `make install`.
# VALGRIND_TESTS picks the pg_regress files.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d /tmp/pg_fraud_valgrind.XXXX)
chown postgres "$dir"
su postgres -c "/usr/lib/postgresql/15/bin/initdb -D $dir/data -A trust >/dev/null"
printf "port=5488\nunix_socket_directories='%s'\nmax_parallel_workers_per_gather=0\n" "$dir" >>"$dir/data/postgresql.conf"
su postgres -c "cd $dir && valgrind --quiet --trace-children=yes --log-file=$dir/vg.%p.log \
  /usr/lib/postgresql/15/bin/postgres -D $dir/data >$dir/server.log 2>&1 &"
for _ in $(seq 60); do psql -h "$dir" -p 5488 -U postgres -d postgres -Atc "SELECT 1" >/dev/null 2>&1 && break; sleep 2; done
/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress --inputdir=test --outputdir="$dir/out" \
  --load-extension=pg_fraud --host="$dir" --port=5488 --user=postgres --dbname=vgtest \
  ${VALGRIND_TESTS:-install guard import_export scoring_jsonb scoring_row model_cache explain trigger} || true
su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D $dir/data stop -m fast" >/dev/null
errors=$(grep -l "pg_fraud\|pgfraud" "$dir"/vg.*.log || true)
if [ -n "$errors" ]; then echo "valgrind reports with pg_fraud frames: $errors"; exit 1; fi
echo "valgrind: no report has a pg_fraud frame (logs in $dir)"
