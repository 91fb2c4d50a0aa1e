#!/usr/bin/env bash
# libFuzzer (clang, AddressSanitizer + UndefinedBehaviorSanitizer) over the model-document
# parser, value parsing and scoring. FUZZ_SECONDS (default 20) bounds the run.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=build/fuzz
mkdir -p "$out/corpus"
cp test/fuzz/corpus/* "$out/corpus/"
if ! clang++ -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
     -Isrc -isystem /usr/include/eigen3 test/fuzz/fuzz_model.cpp src/*/*.cpp -o "$out/fuzz_model" 2>"$out/build.log"; then
  tail -20 "$out/build.log"; echo "0 passed, 1 failed"; exit 1
fi
"$out/fuzz_model" -max_total_time="${FUZZ_SECONDS:-20}" -rss_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" >"$out/run.log" 2>&1
status=$?
grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$out/run.log"
if [ $status -eq 0 ] && ! grep -q "ERROR: \(AddressSanitizer\|libFuzzer\)\|runtime error" "$out/run.log"; then
  echo "ok   no crash, leak or undefined behaviour"; echo "1 passed, 0 failed"
else
  grep -m5 -E "ERROR|runtime error|SUMMARY" "$out/run.log"; echo "FAIL fuzzing found a defect"; echo "0 passed, 1 failed"; exit 1
fi
