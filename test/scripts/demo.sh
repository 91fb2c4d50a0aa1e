#!/usr/bin/env bash
# The demo, small: it must run end to end and its summary must be right.
set -uo pipefail
cd "$(dirname "$0")/../.."
createdb demo_test 2>/dev/null || true
out=$(PGDATABASE=demo_test DEMO_ROWS=8000 DEMO_STREAM=500 DEMO_RATE=500 bash scripts/demo-session.sh 2>&1)
status=$?
echo "$out" | tail -15
line=$(grep -o "DEMO RESULT.*" <<<"$out" | tail -1)
passed=0 failed=0
check() { if eval "$2"; then echo "ok   $1"; passed=$((passed + 1)); else echo "FAIL $1"; failed=$((failed + 1)); fi; }
check "demo exits 0" "[ $status -eq 0 ]"
scored=$(sed -E 's/.*scored=([0-9]+).*/\1/' <<<"$line")
precision=$(sed -E 's/.*precision=([0-9.]+).*/\1/' <<<"$line")
recall=$(sed -E 's/.*recall=([0-9.]+).*/\1/' <<<"$line")
check "every streamed transaction was scored (scored=$scored)" "[ '${scored:-0}' = 500 ]"
check "alerts are mostly fraud (precision=$precision)" "awk 'BEGIN{exit !(${precision:-0} >= 0.5)}'"
check "most fraud is caught (recall=$recall)" "awk 'BEGIN{exit !(${recall:-0} >= 0.5)}'"
check "alerts were printed with reasons" "grep -q 'amount_ratio\|new_device\|created_at' <<<\"\$out\""
echo "$passed passed, $failed failed"
