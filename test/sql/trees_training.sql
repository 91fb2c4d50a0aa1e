-- Gradient-boosted trees trained in the database with libxgboost: the stored model scores as
-- the document says (row, jsonb, trigger), explains with TreeSHAP adding up to the logit, is
-- held out and thresholded as logistic regression is, trains on history features and time
-- columns, refuses bad options, stores nothing when cancelled, and libxgboost is loaded by
-- training only (never by the postmaster, nor by a backend that only scores).
\i test/helpers.psql
SET client_min_messages = warning;

-- 4,000 rows: fraud when large and foreign, or at night online; NULL amounts now and then.
CREATE TABLE gbt AS
SELECT i AS id, CASE WHEN pg_temp.u(i, 1) < 0.05 THEN NULL ELSE round((pg_temp.u(i, 2) * 1000)::numeric, 2) END AS amount,
       (ARRAY['FR', 'DE', 'XX', 'US'])[1 + (i % 4)] AS country, pg_temp.u(i, 3) < 0.3 AS online,
       timestamptz '2024-01-01 00:00+00' + i * interval '37 minutes' AS created_at, (i % 50) AS acct
  FROM generate_series(1, 4000) AS i;
ALTER TABLE gbt ADD COLUMN is_fraud boolean;
UPDATE gbt SET is_fraud = pg_temp.u(id, 4) < CASE WHEN (coalesce(amount, 0) > 700 AND country = 'XX')
  OR (online AND extract(hour FROM created_at AT TIME ZONE 'UTC') < 5) THEN 0.8 ELSE 0.03 END;

-- Training: the document, its record, and the metrics on the held-out rows.
SELECT algorithm, document->'training'->>'algorithm' AS trained,
       jsonb_array_length(document->'trees'->'trees') AS trees,
       (document->'training'->'booster'->>'rows_boosted')::int = (document->'training'->>'training_rows')::int AS boosted_training_rows,
       (document->'training'->>'holdout_rows')::int BETWEEN 700 AND 900 AS held_out_a_fifth,
       (document->'metrics'->>'roc_auc')::float8 > 0.8 AS learned,
       document->'training'->'booster'->'parameters'->>'max_depth' AS max_depth,
       document->'training'->'booster'->'parameters'->>'nthread' IS NOT NULL AS nthread_set,
       (SELECT array_agg(f->>'kind' ORDER BY f->>'kind') FROM jsonb_array_elements(document->'features') f) AS kinds
  FROM train_fraud_model('gbt', 'is_fraud', 'gbt', '{"algorithm": "gradient_boosting", "trees": 40, "max_depth": 4,
    "learning_rate": 0.2, "exclude": ["id", "acct"]}');
-- fraud_evaluate over every row agrees with a Mann-Whitney ROC AUC of fraud_score (the
-- evaluation bins logits: within 0.002).
WITH s AS (SELECT fraud_score(t, 'gbt') AS p, is_fraud FROM gbt t),
     pairs AS (SELECT avg(CASE WHEN a.p > b.p THEN 1.0 WHEN a.p = b.p THEN 0.5 ELSE 0 END) AS auc
                 FROM s a, s b WHERE a.is_fraud AND NOT b.is_fraud)
SELECT abs(auc - (fraud_evaluate('gbt', 'is_fraud', 'gbt')->>'roc_auc')::float8) < 0.002 AS evaluate_agrees,
       auc > 0.85 AS ranks FROM pairs;
-- Row, jsonb and stored scores agree; explanations add up to the logit.
CREATE TABLE gbt_live (LIKE gbt);
SELECT fraud_attach('gbt_live', 'gbt', '{"add_columns": true}');
INSERT INTO gbt_live SELECT * FROM gbt WHERE id <= 300;
SELECT count(*) AS rows, max(abs(l.fraud_score - fraud_score(g, 'gbt'))) < 1e-12 AS stored_equals_row,
       max(abs(fraud_score(to_jsonb(g) - 'id', 'gbt') - fraud_score(g, 'gbt'))) < 1e-12 AS jsonb_equals_row,
       count(*) FILTER (WHERE l.is_flagged) > 0 AS flags_some
  FROM gbt_live l JOIN gbt g USING (id);
SELECT bool_and(abs((SELECT sum(contribution) FROM fraud_explain(g, 'gbt')) - ln(fraud_score(g, 'gbt') / (1 - fraud_score(g, 'gbt')))) < 1e-5) AS adds_up
  FROM gbt g WHERE id <= 50;
-- The hour of created_at is a feature (read in the model's zone): it explains a night row most.
SELECT feature, value FROM fraud_explain((SELECT g FROM gbt g WHERE online AND is_fraud
       AND extract(hour FROM created_at AT TIME ZONE 'UTC') < 5 ORDER BY id LIMIT 1), 'gbt')
 ORDER BY contribution DESC LIMIT 1;
-- Drift of the table works as for logistic regression.
SELECT count(*) > 0 AS drift_rows FROM fraud_drift('gbt', 'gbt');
SELECT fraud_detach('gbt_live');
DROP TABLE gbt_live;

-- Balanced class weights, a holdout column, a fixed threshold.
ALTER TABLE gbt ADD COLUMN held boolean;
UPDATE gbt SET held = id % 5 = 0;
SELECT (document->'training'->>'class_weight') AS class_weight, document->'metrics'->>'holdout_by' AS holdout_by,
       (document->'metrics'->>'rows')::int AS holdout_rows, document->>'threshold' AS threshold
  FROM train_fraud_model('gbt', 'is_fraud', 'gbt2', '{"algorithm": "gradient_boosting", "trees": 10,
    "class_weight": "balanced", "holdout_column": "held", "threshold": 0.7, "exclude": ["id", "acct"]}');

-- History features: trees train on them, and the trigger computes them.
SELECT jsonb_array_length(document->'history'->'features') IS NULL AS declared,
       (SELECT count(*) FROM jsonb_array_elements(document->'features') f WHERE f->>'kind' = 'history') AS history_features,
       document->'metrics'->>'holdout_by' AS holdout_by
  FROM train_fraud_model('gbt', 'is_fraud', 'gbth', '{"algorithm": "gradient_boosting", "trees": 10,
    "exclude": ["id", "held"], "history": {"by": "acct", "time": "created_at", "windows": ["1 day"], "amounts": ["amount"]}}');
SELECT bool_and(abs((SELECT sum(contribution) FROM fraud_explain(g, 'gbth')) - ln(fraud_score(g, 'gbth') / (1 - fraud_score(g, 'gbth')))) < 1e-5) AS history_adds_up
  FROM gbt g WHERE id BETWEEN 2000 AND 2020;

-- Bad options (22023), and nothing stored.
SELECT pg_temp.outcome(format('SELECT train_fraud_model(%L, %L, %L, %L)', 'gbt', 'is_fraud', 'bad', o)) AS outcome
  FROM unnest(ARRAY['{"algorithm": "forest"}', '{"algorithm": "gradient_boosting", "l2": 2}',
                    '{"trees": 10}', '{"algorithm": "gradient_boosting", "max_depth": 0}',
                    '{"algorithm": "gradient_boosting", "max_depth": 3.5}',
                    '{"algorithm": "gradient_boosting", "learning_rate": 2}',
                    '{"algorithm": "gradient_boosting", "trees": 100001}']) AS o;
-- A cancel (statement_timeout) stops the boosting rounds and stores nothing.
SET statement_timeout = '400ms';
SELECT train_fraud_model('gbt', 'is_fraud', 'bad', '{"algorithm": "gradient_boosting",
  "trees": 10000, "max_depth": 8, "exclude": ["id"]}');
RESET statement_timeout;
SELECT count(*) AS stored FROM fraud_models WHERE name = 'bad';

-- libxgboost is in this backend, which trained; not in the postmaster, nor in a backend that
-- only scored boosted trees.
SELECT pg_read_file('/proc/self/maps') LIKE '%libxgboost%' AS trainer_loaded_it,
       pg_read_file('/proc/' || split_part(pg_read_file('postmaster.pid'), E'\n', 1) || '/maps') LIKE '%libxgboost%' AS postmaster_loaded_it;
\c
SELECT round(fraud_score('{"amount": 900, "country": "XX", "online": false}'::jsonb, 'gbt')::numeric, 1) > 0.5 AS scores,
       pg_read_file('/proc/self/maps') LIKE '%libxgboost%' AS scorer_loaded_it;

SELECT fraud_retire_model(n) FROM unnest(ARRAY['gbt', 'gbt2', 'gbth']) AS n;
DROP TABLE gbt;
