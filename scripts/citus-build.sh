#!/usr/bin/env bash
# Builds and installs Citus from ../shared/vendor (Citus is not a Debian package) for the tests
# and benchmarks that need a cluster, once: the build is cached in $PG_FRAUD_CACHE
# (/var/cache/pg_fraud) and reused while the installed library is the one it made.
# Exit 0: Citus is installed; exit 2: it cannot be built here (the message says why).
set -uo pipefail
cd "$(dirname "$0")/.."
vendor=${PG_FRAUD_VENDOR:-$(pwd)/../shared/vendor}
tarball="$vendor/citus-13.2.2.tar.gz"
patchfile="$vendor/citus-13.2.2-pg15.20.patch"
cache=${PG_FRAUD_CACHE:-/var/cache/pg_fraud}
pg_config=/usr/lib/postgresql/15/bin/pg_config
lib="$($pg_config --pkglibdir)/citus.so"
if [ ! -f "$tarball" ]; then echo "citus-build: $tarball is missing"; exit 2; fi
stamp="$(cat "$tarball" "$patchfile" 2>/dev/null | sha256sum | cut -c1-16)"  # contents, not paths
mkdir -p "$cache" || { echo "citus-build: cannot create $cache"; exit 2; }
build="$cache/citus-13.2.2"
if [ -f "$lib" ] && [ -f "$build/.pg_fraud-stamp" ] && [ "$(cat "$build/.pg_fraud-stamp")" = "$stamp" ] \
   && cmp -s "$lib" "$build/src/backend/distributed/citus.so"; then
  echo "citus-build: Citus 13.2.2 is installed (cached build in $build)"
  exit 0
fi
if [ -f "$build/.pg_fraud-stamp" ] && [ "$(cat "$build/.pg_fraud-stamp")" = "$stamp" ]; then
  echo "citus-build: installing the cached build of $build"
  make -C "$build" install >"$cache/citus-install.log" 2>&1 && exit 0
fi
echo "citus-build: building Citus 13.2.2 in $build (about 3 minutes on 2 cores)"
rm -rf "$build" && mkdir -p "$build"
tar -xzf "$tarball" -C "$build" --strip-components=1 || { echo "citus-build: cannot unpack $tarball"; exit 2; }
if [ -f "$patchfile" ]; then
  (cd "$build" && patch -p1 -s <"$patchfile") || { echo "citus-build: the patch does not apply"; exit 2; }
fi
start=$SECONDS
if ! (cd "$build" && ./configure PG_CONFIG=$pg_config --without-libcurl >"$cache/citus-configure.log" 2>&1); then
  tail -20 "$cache/citus-configure.log"; echo "citus-build: configure failed (log $cache/citus-configure.log)"; exit 2
fi
if ! (cd "$build" && make -j2 >"$cache/citus-build.log" 2>&1 && make install >"$cache/citus-install.log" 2>&1); then
  tail -20 "$cache/citus-build.log"; echo "citus-build: the build failed (log $cache/citus-build.log)"; exit 2
fi
echo "$stamp" >"$build/.pg_fraud-stamp"
echo "citus-build: built and installed in $((SECONDS - start)) s"
