#!/usr/bin/env bash
# The whole pg_regress suite against a server running under valgrind (memcheck), then a
# search of valgrind's reports for frames of pg_fraud. About 10-15 minutes on 2 cores.
# Runs as root (the server runs as postgres). VALGRIND_TESTS picks other pg_regress files.
set -uo pipefail
cd "$(dirname "$0")/../.."
passed=0 failed=0
check() { if eval "$2"; then echo "ok   $1"; passed=$((passed + 1)); else echo "FAIL $1"; failed=$((failed + 1)); fi; }
if [ "$(id -u)" -ne 0 ]; then echo "FAIL valgrind.sh runs as root"; echo "0 passed, 1 failed"; exit 1; fi

bin=$(pg_config --bindir)
tests=${VALGRIND_TESTS:-$(cd test/sql && ls *.sql | sed "s/\.sql$//" | grep -v "^install$" | sed "1i install" | tr "\n" " ")}
dir=$(mktemp -d /tmp/pg_fraud_valgrind.XXXX)
chown postgres "$dir"
su postgres -c "$bin/initdb -D $dir/data -A trust >/dev/null"
# One parallel worker allowed: the regression tables are too small for a parallel plan, but
# training in memory then uses a second thread (statistics pipeline, Newton ranges).
printf "port=5488\nunix_socket_directories='%s'\nmax_parallel_workers_per_gather=1\nlisten_addresses=''\n" "$dir" >>"$dir/data/postgresql.conf"
# --error-exitcode is not used: reports are searched for our frames instead, because
# PostgreSQL itself has known reports (uninitialised padding written to disk) without its
# suppression file.
su postgres -c "cd $dir && valgrind --quiet --trace-children=yes --track-origins=no --log-file=$dir/vg.%p.log \
  $bin/postgres -D $dir/data >$dir/server.log 2>&1 &"
up=false
for _ in $(seq 90); do psql -h "$dir" -p 5488 -U postgres -d postgres -Atc "SELECT 1" >/dev/null 2>&1 && { up=true; break; }; sleep 2; done
check "the server starts under valgrind" "$up"
start=$(date +%s)
/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress --inputdir=test --outputdir="$dir/out" \
  --load-extension=pg_fraud --host="$dir" --port=5488 --user=postgres --dbname=vgtest $tests >"$dir/regress.log" 2>&1
echo "pg_regress under valgrind ($(( $(date +%s) - start )) s): $(grep -E 'tests (passed|failed)' "$dir/regress.log" | sed 's/tests/regression files/')"
ran=$(ls "$dir"/out/results/*.out 2>/dev/null | wc -l)
check "every regression file ran under valgrind ($ran of $(wc -w <<<"$tests"))" "[ $ran -eq $(wc -w <<<"$tests") ]"
su postgres -c "$bin/pg_ctl -D $dir/data stop -m fast" >/dev/null
check "no backend was terminated by a signal" "! grep -q 'terminated by signal' $dir/server.log"
reports=$(grep -l "pg_fraud\|pgfraud" "$dir"/vg.*.log 2>/dev/null || true)
[ -n "$reports" ] && head -60 $reports
total=$(cat "$dir"/vg.*.log 2>/dev/null | grep -c "^==[0-9]*== [A-Z]" || true)
check "no valgrind report has a pg_fraud frame ($total report lines in all, logs in $dir)" "[ -z \"$reports\" ]"
# The core's threads under helgrind: the pipeline, its page populator, the ranges of Newton sums, and training.
if [ -x build/core_tests ]; then
  valgrind --tool=helgrind --quiet build/core_tests --gtest_filter='StatisticsPipeline*:PagePopulator*:ForEachRange*:Trainer.InMemory*' \
    >"$dir/helgrind.log" 2>&1
  status=$?
  check "helgrind: the core's threads pass their tests with no data race reported (log $dir/helgrind.log)" \
    "[ $status -eq 0 ] && ! grep -q 'Possible data race\|lock order' $dir/helgrind.log"
else
  check "helgrind: build/core_tests exists (ctest builds it)" false
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
