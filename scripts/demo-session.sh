#!/usr/bin/env bash
# The demo itself, run inside pg_virtualenv (PGHOST, PGPORT, PGUSER set).
set -euo pipefail
cd "$(dirname "$0")/.."
export PGDATABASE=postgres
psql -X -q -v ON_ERROR_STOP=1 -v model="$(cat demo/model.json)" <<'SQL'
\pset border 2
\echo '== CREATE EXTENSION pg_fraud =='
CREATE EXTENSION pg_fraud;
\echo '== import the shipped demo model =='
SELECT name, version, active, threshold FROM fraud_import_model(:'model', 'default');
\echo '== score generated transactions inside a query =='
CREATE TABLE transactions AS
SELECT i AS id,
       round((10 + random() * 600)::numeric, 2) AS amount,
       (ARRAY['US', 'GB', 'FR', 'NG', 'RU', 'DE'])[1 + (random() * 5)::int] AS country,
       random() < 0.15 AS new_device,
       timestamp '2024-05-01' + random() * interval '7 days' AS created_at
  FROM generate_series(1, 20000) i;
SELECT id, amount, country, new_device, created_at::time(0) AS at,
       round(fraud_score(t)::numeric, 4) AS score
  FROM transactions t ORDER BY fraud_score(t) DESC LIMIT 5;
\echo '== why the top one was scored so high =='
SELECT feature, value, round(contribution::numeric, 3) AS contribution
  FROM fraud_explain((SELECT to_jsonb(t) FROM transactions t ORDER BY fraud_score(t) DESC LIMIT 1));
\echo '== summary =='
SELECT count(*) AS scored,
       count(*) FILTER (WHERE fraud_score(t) >= (SELECT threshold FROM fraud_models WHERE active)) AS flagged
  FROM transactions t;
SQL
