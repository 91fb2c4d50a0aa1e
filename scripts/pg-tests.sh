#!/usr/bin/env bash
# Runs inside pg_virtualenv: pg_regress, isolation specs and script tests against the cluster.
set -uo pipefail
cd "$(dirname "$0")/.."

# The server log, and how much of it came before this run (a log may outlive a cluster).
log=$(pg_lsclusters -h | awk -v port="${PGPORT:-5432}" '$3 == port {print $7}')
log_start=$( [ -n "$log" ] && [ -f "$log" ] && stat -c %s "$log" || echo 0)

echo "== pg_regress =="
make installcheck-regress 2>&1 | tee build/regress.log
[ -f test/regression.diffs ] && head -200 test/regression.diffs
scripts/tally.sh regress build/regress.log

if ls test/isolation/specs/*.spec >/dev/null 2>&1; then
  echo "== isolation specs =="
  make installcheck-isolation 2>&1 | tee build/isolation.log
  [ -f test/isolation/output_iso/regression.diffs ] && head -200 test/isolation/output_iso/regression.diffs
  scripts/tally.sh isolation build/isolation.log
fi

# No backend died during pg_regress and the isolation specs (the script tests that follow
# kill backends on purpose).
echo "== server log =="
if [ -n "$log" ] && [ -f "$log" ]; then
  signals=$(tail -c +"$((log_start + 1))" "$log" | grep -c "terminated by signal")
  if [ "$signals" -eq 0 ]; then
    printf 'ok   no backend was terminated by a signal during pg_regress and the isolation specs (%s)\n1 passed, 0 failed\n' "$log"
  else
    tail -c +"$((log_start + 1))" "$log" | grep -m5 "terminated by signal"; printf 'FAIL %s backends terminated by a signal\n0 passed, 1 failed\n' "$signals"
  fi
else
  printf 'FAIL the server log was not found\n0 passed, 1 failed\n'
fi | tee build/server-log.log
scripts/tally.sh server-log build/server-log.log

for script in test/scripts/*.sh; do
  [ -e "$script" ] || continue
  name=$(basename "$script" .sh)
  echo "== script test: $name =="
  bash "$script" 2>&1 | tee "build/script-$name.log"
  scripts/tally.sh "$name" "build/script-$name.log"
done
