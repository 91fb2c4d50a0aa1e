#!/usr/bin/env bash
# The demo at its default history size (a short stream): it must run end to end, reach its
# accuracy with history features on application columns only, explain its alerts, and keep
# its whole output when redirected to a file (as `make demo > demo.log 2>&1`).
set -uo pipefail
cd "$(dirname "$0")/../.."
createdb demo_test 2>/dev/null || true
log=$(mktemp)
PGDATABASE=demo_test DEMO_ROWS=50000 DEMO_STREAM=500 DEMO_RATE=500 bash scripts/demo-session.sh >"$log" 2>&1
status=$?
out=$(cat "$log")
rm -f "$log"
echo "$out" | tail -15
line=$(grep -o "DEMO RESULT.*" <<<"$out" | tail -1)
passed=0 failed=0
check() { if eval "$2"; then echo "ok   $1"; passed=$((passed + 1)); else echo "FAIL $1"; failed=$((failed + 1)); fi; }
value() { sed -nE "s/.*$1=([0-9.]+).*/\1/p" <<<"$line"; }
check "demo exits 0" "[ $status -eq 0 ]"
check "a redirected log keeps the whole output (its first section and its result)" \
  "grep -q '== 1. pg_fraud' <<<\"\$out\" && grep -q 'DEMO RESULT' <<<\"\$out\""
scored=$(value scored) precision=$(value precision) recall=$(value recall)
roc=$(value holdout_roc_auc) pr=$(value holdout_pr_auc)
check "every streamed transaction was scored (scored=$scored)" "[ '${scored:-0}' = 500 ]"
check "holdout ROC AUC >= 0.99 and PR AUC >= 0.95 with history features (roc=$roc, pr=$pr)" \
  "awk 'BEGIN{exit !(${roc:-0} >= 0.99 && ${pr:-0} >= 0.95)}'"
check "alerts are mostly fraud (precision=$precision)" "awk 'BEGIN{exit !(${precision:-0} >= 0.5)}'"
check "most fraud is caught (recall=$recall)" "awk 'BEGIN{exit !(${recall:-0} >= 0.5)}'"
check "alerts were printed with the history features that drove them" "grep -q 'account_id:' <<<\"\$out\""
check "the generator returns no hidden per-account truth" \
  "! grep -q 'usual_amount\|home_country\|amount_ratio' <<<\"\$out\""
echo "$passed passed, $failed failed"
