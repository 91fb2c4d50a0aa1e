"""Collects the JSON lines every benchmark prints into one table (stdin -> stdout)."""
import json
import sys

from benchlib import print_table

rows = []
for line in sys.stdin:
    if line.startswith("{"):
        for group, group_rows in json.loads(line).items():
            rows += [(f"{group}: {r[0]}",) + tuple(r[1:]) for r in group_rows]
print_table(rows, "All comparisons of this run")
