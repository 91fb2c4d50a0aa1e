#!/usr/bin/env bash
# Trees trained in the database with libxgboost against Python XGBoost on the same split.
set -uo pipefail
cd "$(dirname "$0")"
createdb xgboost_training 2>/dev/null || true
PGDATABASE=xgboost_training /usr/bin/python3 xgboost_training.py
