#!/usr/bin/env bash
# contrib/sklearn_to_pg_fraud.py against Debian's scikit-learn on ../shared/datasets.
set -uo pipefail
cd "$(dirname "$0")"
createdb sklearn_converter 2>/dev/null || true
PGDATABASE=sklearn_converter /usr/bin/python3 sklearn_converter.py
