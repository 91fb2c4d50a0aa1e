#!/usr/bin/env bash
# The Debian package: built with dpkg-buildpackage -us -uc -b in a clean copy of the tree
# (the committed files), installed with apt-get, CREATE EXTENSION and a score in a new
# database, then removed. The tree's own build is installed again afterwards, for the tests
# that follow. Runs inside the test cluster (PGHOST/PGPORT from pg_virtualenv).
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
pass=0; fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
finish() { (cd "$root" && make install >/dev/null 2>&1); echo "$pass passed, $fail failed"; exit $([ "$fail" -eq 0 ] && echo 0 || echo 1); }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
version=$(sed -n 's/^EXTVERSION *= *//p' Makefile)
work=$(mktemp -d /tmp/pg_fraud_package.XXXXXX)
chmod 755 "$work"
mkdir "$work/src"
if git -C "$root" rev-parse HEAD >/dev/null 2>&1; then
  git -C "$root" archive --format=tar HEAD | tar -x -C "$work/src"
else
  tar -C "$root" --exclude=./build --exclude='*.o' --exclude='*.so' -cf - . | tar -x -C "$work/src"
fi
start=$SECONDS
if (cd "$work/src" && MAKEFLAGS=-j2 dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1); then
  ok "dpkg-buildpackage -us -uc -b builds in a clean copy ($((SECONDS - start)) s)"
else
  tail -30 "$work/build.log"; bad "dpkg-buildpackage failed"; finish
fi
deb=$(ls "$work"/postgresql-15-pg-fraud_"$version"_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] && ok "the package is postgresql-15-pg-fraud $version: $(basename "$deb")" || { bad "no postgresql-15-pg-fraud_$version .deb"; finish; }
contents=$(dpkg-deb -c "$deb")
missing=""
for f in pg_fraud.so pg_fraud.control $(cd sql && ls pg_fraud--*.sql); do
  echo "$contents" | grep -q "/$f\$" || missing="$missing $f"
done
[ -z "$missing" ] && ok "it installs the library, the control file and every SQL script ($(ls sql/pg_fraud--*.sql | wc -l) scripts)" \
  || bad "the package lacks:$missing"
depends=$(dpkg-deb -f "$deb" Depends)
echo "$depends" | grep -q "libstdc++6" && echo "$depends" | grep -q "libc6" && echo "$depends" | grep -q "postgresql-15" \
  && ok "it depends on the runtime libraries it links and on postgresql-15: $depends" || bad "Depends: $depends"
export DEBIAN_FRONTEND=noninteractive
if $SUDO apt-get install -y -qq "$deb" >"$work/install.log" 2>&1; then
  ok "apt-get install ./$(basename "$deb")"
else
  tail -20 "$work/install.log"; bad "apt-get install failed"; finish
fi
dpkg -S /usr/lib/postgresql/15/lib/pg_fraud.so 2>/dev/null | grep -q postgresql-15-pg-fraud \
  && ok "the library now belongs to the package" || bad "the library is not the package's"
dropdb --if-exists package_test >/dev/null 2>&1; createdb package_test
score=$(psql -X -q -d package_test -At -v ON_ERROR_STOP=1 <<'SQL' 2>&1
CREATE EXTENSION pg_fraud;
SELECT version FROM fraud_import_model('{"format": "pg_fraud.model/1", "algorithm": "logistic_regression",
  "intercept": -3, "features": [{"name": "amount", "kind": "numeric", "weight": 0.01}]}', 'default') \g /dev/null
SELECT round(fraud_score('{"amount": 300}')::numeric, 6);
SQL
)
expected=$(/usr/bin/python3 -c 'import math; print(f"{1 / (1 + math.exp(-(-3 + 0.01 * 300))):.6f}")')
[ "$score" = "$expected" ] && ok "CREATE EXTENSION pg_fraud and a score from the package: $score" || bad "score: $score (expected $expected)"
dropdb package_test
if $SUDO apt-get remove -y -qq postgresql-15-pg-fraud >"$work/remove.log" 2>&1 && [ ! -e /usr/lib/postgresql/15/lib/pg_fraud.so ]; then
  ok "apt-get remove postgresql-15-pg-fraud removes the library"
else
  tail -10 "$work/remove.log"; bad "removal"
fi
rm -rf "$work"
finish
