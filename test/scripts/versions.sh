#!/usr/bin/env bash
# The release version is the Makefile's EXTVERSION; every other place that states it must agree:
# the control file, META.json (twice), debian/changelog, the newest install script and the
# CHANGELOG; and every earlier release keeps an upgrade script to the next.
set -uo pipefail
cd "$(dirname "$0")/../.."
pass=0; fail=0
check() { if [ "$2" = "$3" ]; then echo "ok   $1: $2"; pass=$((pass + 1)); else echo "FAIL $1: '$2', expected '$3'"; fail=$((fail + 1)); fi; }
version=$(sed -n 's/^EXTVERSION *= *//p' Makefile)
check "pg_fraud.control default_version = EXTVERSION" "$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" pg_fraud.control)" "$version"
check "META.json version = EXTVERSION" "$(/usr/bin/python3 -c 'import json; print(json.load(open("META.json"))["version"])')" "$version"
check "META.json provides.pg_fraud.version = EXTVERSION" \
  "$(/usr/bin/python3 -c 'import json; print(json.load(open("META.json"))["provides"]["pg_fraud"]["version"])')" "$version"
check "META.json provides.pg_fraud.file exists" "$(/usr/bin/python3 -c 'import json; print(json.load(open("META.json"))["provides"]["pg_fraud"]["file"])')" "sql/pg_fraud--$version.sql"
check "debian/changelog version = EXTVERSION" "$(dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null)" "$version"
newest=$(ls sql/pg_fraud--*.sql | grep -v -- '--.*--' | sed 's/.*pg_fraud--\(.*\)\.sql/\1/' | sort -V | tail -1)
check "the newest install script is EXTVERSION's" "$newest" "$version"
check "CHANGELOG.md starts with EXTVERSION" "$(grep -m1 '^## ' CHANGELOG.md | sed 's/^## //')" "$version"
releases=$(ls sql/pg_fraud--*.sql | grep -v -- '--.*--' | sed 's/.*pg_fraud--\(.*\)\.sql/\1/' | sort -V)
prev=""
for r in $releases; do
  if [ -n "$prev" ]; then check "upgrade script $prev -> $r exists" "$([ -f "sql/pg_fraud--$prev--$r.sql" ] && echo yes || echo no)" "yes"; fi
  prev=$r
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
