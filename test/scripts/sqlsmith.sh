#!/usr/bin/env bash
# sqlsmith (random SQL) against a database with pg_fraud, models, rules and an attached table;
# the server must not crash. SQLSMITH_QUERIES (default 2000) bounds the run.
set -uo pipefail
cd "$(dirname "$0")/../.."
dropdb --if-exists smith >/dev/null 2>&1; createdb smith
psql -X -q -d smith -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION pg_fraud;
CREATE TABLE history AS SELECT * FROM fraud_generate_transactions(3000, 5);
SELECT version FROM train_fraud_model('history', 'is_fraud', 'default', '{"exclude": ["id", "account_id"]}');
SELECT version FROM train_fraud_model('history', 'is_fraud', 'hist', '{"exclude": ["id"], "history": {"by": "account_id", "time": "created_at", "windows": ["1 hour"], "amounts": ["amount"], "new": ["device_id"]}}');
CREATE TABLE live (LIKE history);
SELECT fraud_attach('live', 'default', '{"add_columns": true, "version_column": "v", "rules_column": "r"}');
INSERT INTO fraud_rules (model, name, predicate) VALUES ('default', 'big', '$.amount >= 900');
INSERT INTO live SELECT * FROM fraud_generate_transactions(100, 6);
SQL
log=$(pg_lsclusters -h | awk -v port="$PGPORT" '$3 == port {print $7}')
log_start=$(stat -c %s "$log" 2>/dev/null || echo 0)
timeout 900 sqlsmith --target="host=$PGHOST port=$PGPORT dbname=smith user=${PGUSER:-postgres}" --seed=42 \
  --max-queries="${SQLSMITH_QUERIES:-2000}" --exclude-catalog --verbose >build/sqlsmith.log 2>&1
status=$?
queries=$(grep -o "queries: [0-9]*" build/sqlsmith.log | tail -1)
# The server answers, and its log (since the start of the run) shows no backend killed by a signal.
alive=$(psql -X -Atc "SELECT 1" -d smith 2>/dev/null)
crashes=$(tail -c +"$((log_start + 1))" "$log" 2>/dev/null | grep -c "terminated by signal")
echo "sqlsmith exit status $status, $queries, server log: $crashes backends terminated by a signal"
if [ "$alive" = 1 ] && [ "$status" -eq 0 ] && [ "$crashes" -eq 0 ] && [ -n "$queries" ]; then
  echo "ok   sqlsmith: no crash ($queries)"; echo "1 passed, 0 failed"
else
  echo "FAIL sqlsmith: the server crashed or the run failed (status $status)"; echo "0 passed, 1 failed"; exit 1
fi
