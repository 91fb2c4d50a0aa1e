#!/usr/bin/env bash
# pg_virtualenv (as root) names its throwaway cluster 15/regress and refuses to start when
# one is left over from an interrupted run: drop such a leftover (and its configuration) first.
if command -v pg_lsclusters >/dev/null && pg_lsclusters -h 2>/dev/null | awk '$1 == 15 && $2 == "regress"' | grep -q .; then
  echo "pg_fraud: dropping a leftover throwaway cluster 15/regress"
  pg_dropcluster --stop 15 regress || true
fi
if [ -d /etc/postgresql/15/regress ] && [ "$(id -u)" -eq 0 ]; then
  rm -rf /etc/postgresql/15/regress
fi
