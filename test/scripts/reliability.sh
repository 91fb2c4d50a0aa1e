#!/usr/bin/env bash
# Reliability and security checks across sessions and server restarts (see reliability.py).
set -uo pipefail
cd "$(dirname "$0")"
/usr/bin/python3 reliability.py
