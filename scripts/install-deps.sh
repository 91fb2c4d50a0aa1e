#!/usr/bin/env bash
# Installs the Debian 12 packages pg_fraud needs to build, test, benchmark and demo; only what is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  postgresql-15 postgresql-server-dev-15 postgresql-contrib postgresql-common
  libeigen3-dev nlohmann-json3-dev libgtest-dev
  python3-sklearn python3-pandas python3-psycopg2 python3-numpy
  clang libclang-rt-14-dev sqlsmith clang-format
  python3-fastapi python3-uvicorn python3-requests
  debhelper postgresql-server-dev-all
  postgresql-15-cron libxgboost-dev python3-xgboost
  libcurl4-openssl-dev liblz4-dev libzstd-dev libkrb5-dev libselinux1-dev libpam0g-dev libssl-dev libxslt1-dev
  libreadline-dev flex bison autoconf
)
if [ "${PG_FRAUD_EXTRA_PACKAGES:-}" != "" ]; then
  read -r -a extra <<<"$PG_FRAUD_EXTRA_PACKAGES"
  PACKAGES+=("${extra[@]}")
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "pg_fraud: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
