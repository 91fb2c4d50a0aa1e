#!/usr/bin/env bash
# Every SQL example of the README and docs/ runs against the test cluster (doc_examples.py).
set -uo pipefail
cd "$(dirname "$0")"
/usr/bin/python3 doc_examples.py
