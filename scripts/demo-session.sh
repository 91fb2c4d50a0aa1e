#!/usr/bin/env bash
# The demo itself, run inside pg_virtualenv (PGHOST, PGPORT, PGUSER set). Sizes:
# DEMO_ROWS (labelled history, default 50000), DEMO_STREAM (new transactions, default 2000),
# DEMO_RATE (transactions per second, default 200).
set -euo pipefail
cd "$(dirname "$0")/.."
export PGDATABASE=${PGDATABASE:-postgres}
DEMO_ROWS=${DEMO_ROWS:-50000}
export DEMO_STREAM=${DEMO_STREAM:-2000} DEMO_RATE=${DEMO_RATE:-200}
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -v rows="$DEMO_ROWS" -P border=2 -P footer=off)

"${PSQL[@]}" <<'SQL'
\echo
\echo '== 1. pg_fraud on a throwaway PostgreSQL =='
DROP EXTENSION IF EXISTS pg_fraud CASCADE;
CREATE EXTENSION pg_fraud;
SELECT extversion AS "pg_fraud version", current_setting('server_version') AS "PostgreSQL" FROM pg_extension WHERE extname = 'pg_fraud';
\echo
\echo '== 2. a labelled history of card transactions from the built-in generator =='
DROP TABLE IF EXISTS history, transactions CASCADE;
CREATE TABLE history AS SELECT * FROM fraud_generate_transactions(:rows, seed => 1);
SELECT count(*) AS transactions, count(DISTINCT account_id) AS accounts, sum(is_fraud::int) AS fraudulent,
       round(100.0 * avg(is_fraud::int), 2) AS "fraud %" FROM history;
\echo 'Only what an application stores: account, merchant category, country, channel, device, amount, time.'
SELECT * FROM history ORDER BY id LIMIT 3;
\echo
\echo '== 3. train_fraud_model with per-account history features, inside the database (progress below) =='
\echo 'Each row gets its account''s past as of its own time: counts, sums, means and amount against usual over'
\echo '10 minutes, 1 day and 30 days, distinct countries, seconds since the last transaction, account age, new country'
\echo 'and new device. The latest 20% of rows (by time) are held out.'
SET client_min_messages = notice;
SELECT name, version, round(threshold::numeric, 3) AS threshold,
       round((metrics ->> 'roc_auc')::numeric, 4) AS "holdout ROC AUC", round((metrics ->> 'pr_auc')::numeric, 4) AS "PR AUC",
       round((metrics ->> 'precision')::numeric, 3) AS "precision", round((metrics ->> 'recall')::numeric, 3) AS recall
  FROM train_fraud_model('history', 'is_fraud', 'default',
       '{"exclude": ["id", "device_id"], "class_weight": "balanced",
         "threshold": {"strategy": "precision", "target": 0.8},
         "history": {"by": "account_id", "time": "created_at", "windows": ["10 minutes", "1 day", "30 days"],
                     "amounts": ["amount"], "distinct": ["country"], "new": ["country", "device_id"]}}');
SET client_min_messages = warning;
\echo 'Top coefficients (log-odds per standard deviation or per category):'
SELECT f ->> 'name' AS feature, coalesce(w.key, '') AS value, round(coalesce(w.value::numeric, (f ->> 'weight')::numeric), 3) AS weight
  FROM fraud_models m, jsonb_array_elements(m.document -> 'features') f
  LEFT JOIN LATERAL jsonb_each_text(f -> 'weights') w ON true
 WHERE m.active ORDER BY abs(coalesce(w.value::numeric, (f ->> 'weight')::numeric)) DESC LIMIT 8;
\echo
\echo '== 4. a live table: every insert scored and flagged by a trigger, with a rule =='
\echo 'Its history is read from a view over the labelled history and the live table, so accounts carry over.'
CREATE TABLE transactions (LIKE history);
ALTER TABLE transactions ADD PRIMARY KEY (id);
CREATE INDEX ON history (account_id, created_at);
CREATE VIEW all_transactions AS
    SELECT id, account_id, merchant_category, country, channel, device_id, amount, created_at FROM history
    UNION ALL
    SELECT id, account_id, merchant_category, country, channel, device_id, amount, created_at FROM transactions;
SELECT 'fraud_flag trigger on transactions' AS attached
  FROM fraud_attach('transactions', 'default', '{"add_columns": true, "version_column": "model_version",
                    "rules_column": "fired_rules", "notify": "fraud_alerts", "history_column": "history_features",
                    "history_relation": "all_transactions"}');
INSERT INTO fraud_rules (model, name, predicate) VALUES ('default', 'amount_900', '$.amount >= 900');
SELECT name, predicate, action FROM fraud_rules;
\echo 'Streaming new transactions; each alert is printed as LISTEN receives it:'
SQL

# The stream's last line is its result; every line goes to stdout as it comes (a redirected log
# keeps all of it: `tee /dev/stderr` reopened a redirected log file and truncated it).
RESULT_FILE=$(mktemp)
DEMO_FIRST_ID=$((DEMO_ROWS + 1)) /usr/bin/python3 demo/stream.py | tee "$RESULT_FILE"
RESULT=$(tail -1 "$RESULT_FILE")
rm -f "$RESULT_FILE"
THROUGHPUT=$(/usr/bin/python3 -c "import json,sys; print(round(json.loads(sys.argv[1])['throughput']))" "$RESULT")

"${PSQL[@]}" -v throughput="$THROUGHPUT" <<'SQL'
\echo
\echo '== 5. what a BI tool would show =='
SELECT count(*) AS scored, count(*) FILTER (WHERE is_flagged) AS flagged,
       count(*) FILTER (WHERE is_fraud) AS "actually fraud",
       round(count(*) FILTER (WHERE is_flagged AND is_fraud)::numeric / nullif(count(*) FILTER (WHERE is_flagged), 0), 3) AS "precision",
       round(count(*) FILTER (WHERE is_flagged AND is_fraud)::numeric / nullif(count(*) FILTER (WHERE is_fraud), 0), 3) AS recall,
       :throughput AS "tx/s streamed"
  FROM transactions;
SELECT reason, flagged FROM fraud_flag_reasons LIMIT 5;
\pset tuples_only on
\pset border 0
SELECT 'DEMO RESULT scored=' || count(*) || ' flagged=' || count(*) FILTER (WHERE is_flagged)
       || ' holdout_roc_auc=' || (SELECT round((metrics ->> 'roc_auc')::numeric, 4) FROM fraud_models WHERE active AND name = 'default')
       || ' holdout_pr_auc=' || (SELECT round((metrics ->> 'pr_auc')::numeric, 4) FROM fraud_models WHERE active AND name = 'default')
       || ' precision=' || round(coalesce(count(*) FILTER (WHERE is_flagged AND is_fraud)::numeric / nullif(count(*) FILTER (WHERE is_flagged), 0), 0), 3)
       || ' recall=' || round(coalesce(count(*) FILTER (WHERE is_flagged AND is_fraud)::numeric / nullif(count(*) FILTER (WHERE is_fraud), 0), 0), 3)
       FROM transactions;
SQL
