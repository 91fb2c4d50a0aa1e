#!/usr/bin/env bash
# Accuracy against scikit-learn (Debian's python3-sklearn) on ../shared/datasets.
set -uo pipefail
cd "$(dirname "$0")"
createdb accuracy 2>/dev/null || true
PGDATABASE=accuracy /usr/bin/python3 accuracy.py
