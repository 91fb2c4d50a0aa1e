-- The per-backend model cache: a committed import is seen on the next call, a rolled-back one never.
CREATE FUNCTION pg_temp.doc(intercept float8) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('format', 'pg_fraud.model/1', 'algorithm', 'logistic_regression',
    'intercept', intercept, 'features', '[{"name": "amount", "kind": "numeric", "weight": 1}]'::jsonb)
$$;
SELECT version FROM fraud_import_model(pg_temp.doc(0), 'cache');
SELECT fraud_score('{"amount": 0}', 'cache') AS v1_score;

-- A new version replaces the cached one at once in the importing session.
SELECT version FROM fraud_import_model(pg_temp.doc(2), 'cache');
SELECT round(fraud_score('{"amount": 0}', 'cache')::numeric, 6) AS v2_score;

-- An import rolled back is never used, neither inside the transaction afterwards nor later.
BEGIN;
SELECT version FROM fraud_import_model(pg_temp.doc(-5), 'cache');
SELECT round(fraud_score('{"amount": 0}', 'cache')::numeric, 6) AS inside_transaction;
ROLLBACK;
SELECT round(fraud_score('{"amount": 0}', 'cache')::numeric, 6) AS after_rollback;

-- Activation of an old version, and deletion of the model.
BEGIN;
UPDATE fraud_models SET active = false WHERE name = 'cache';
UPDATE fraud_models SET active = true WHERE name = 'cache' AND version = 1;
COMMIT;
SELECT fraud_score('{"amount": 0}', 'cache') AS rolled_back_to_v1;
DELETE FROM fraud_models WHERE name = 'cache';
SELECT fraud_score('{"amount": 0}', 'cache');

-- Within one query, the model is resolved once per call site, not once per row.
SELECT version FROM fraud_import_model(pg_temp.doc(0), 'cache');
SELECT count(DISTINCT fraud_score(jsonb_build_object('amount', i % 3), 'cache')) AS distinct_scores
  FROM generate_series(1, 10000) i;

-- Leave the database as the next file expects it.
DELETE FROM fraud_models;
