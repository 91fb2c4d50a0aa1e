#!/usr/bin/env bash
# The C++ sources are formatted as .clang-format says (clang-format 14).
set -uo pipefail
cd "$(dirname "$0")/../.."
if ! command -v clang-format >/dev/null; then echo "FAIL clang-format is not installed"; echo "0 passed, 1 failed"; exit 1; fi
files=$(git ls-files 'src/*.cpp' 'src/*.hpp' 'extension/*.cpp' 'extension/*.hpp' 'test/unit/*.cpp' 2>/dev/null || find src extension test/unit -name '*.[ch]pp')
off=$(clang-format --dry-run $files 2>&1 | grep -c "warning:" || true)
if [ "$off" -eq 0 ]; then echo "ok   every C++ source is formatted as .clang-format says ($(wc -w <<<"$files") files)"; echo "1 passed, 0 failed"
else clang-format --dry-run $files 2>&1 | grep "warning:" | cut -d: -f1 | sort -u | head; echo "FAIL $off lines are not formatted as .clang-format says"; echo "0 passed, 1 failed"; exit 1; fi
