#!/usr/bin/env bash
# History features across sessions and at scale (see history.py).
set -uo pipefail
cd "$(dirname "$0")"
/usr/bin/python3 history.py
