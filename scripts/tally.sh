#!/usr/bin/env bash
# Appends "<suite> <passed> <failed>" to $TALLY from a test runner's log.
set -uo pipefail
suite=$1 log=$2
case "$suite" in
  ctest)
    line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$log" | tail -1)
    total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
    failed=$(sed -E 's/.* ([0-9]+) tests failed.*/\1/' <<<"$line")
    ;;
  *)  # pg_regress and pg_isolation_regress: "All N tests passed." or "M of N tests failed."
    if line=$(grep -E "All [0-9]+ tests passed" "$log" | tail -1) && [ -n "$line" ]; then
      total=$(sed -E 's/.*All ([0-9]+) tests.*/\1/' <<<"$line"); failed=0
    elif line=$(grep -E "[0-9]+ of [0-9]+ tests failed" "$log" | tail -1) && [ -n "$line" ]; then
      failed=$(sed -E 's/[^0-9]*([0-9]+) of ([0-9]+).*/\1/' <<<"$line")
      total=$(sed -E 's/[^0-9]*([0-9]+) of ([0-9]+).*/\2/' <<<"$line")
    else
      line=$(grep -E "^[0-9]+ passed, [0-9]+ failed" "$log" | tail -1)
      total=""; failed=""
      if [ -n "$line" ]; then
        p=$(sed -E 's/^([0-9]+) passed, ([0-9]+) failed.*/\1/' <<<"$line")
        failed=$(sed -E 's/^([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
        total=$((p + failed))
      fi
    fi
    ;;
esac
if [ -z "${total:-}" ] || [ -z "${failed:-}" ]; then
  echo "$suite 0 1" >>"$TALLY"   # the runner did not finish: count it as a failure
else
  echo "$suite $((total - failed)) $failed" >>"$TALLY"
fi
