#!/usr/bin/env bash
# Runs inside pg_virtualenv: pg_regress, isolation specs and script tests against the cluster.
set -uo pipefail
cd "$(dirname "$0")/.."

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

for script in test/scripts/*.sh; do
  [ -e "$script" ] || continue
  name=$(basename "$script" .sh)
  echo "== script test: $name =="
  bash "$script" 2>&1 | tee "build/script-$name.log"
  scripts/tally.sh "$name" "build/script-$name.log"
done
