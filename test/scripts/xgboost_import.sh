#!/usr/bin/env bash
# XGBoost models trained with Debian's python3-xgboost, imported and scored without XGBoost.
set -uo pipefail
cd "$(dirname "$0")"
createdb xgboost_import 2>/dev/null || true
PGDATABASE=xgboost_import /usr/bin/python3 xgboost_import.py
