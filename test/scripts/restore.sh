#!/usr/bin/env bash
# Data-only restore keeps stored verdicts and sends no alerts (see restore.py).
set -uo pipefail
cd "$(dirname "$0")"
/usr/bin/python3 restore.py
