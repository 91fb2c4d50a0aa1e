-- The holdout: the requested fraction of each class exactly (rows with equal values drawn
-- apart), the same for a seed, a user's own split column, and notices where a holdout
-- cannot measure.
\i test/helpers.psql
SET client_min_messages = warning;

-- 10,000 rows of only 8 distinct value patterns (0.2.0 held out whole patterns: 0 positives
-- or 0 rows for some seeds, 11-26% elsewhere).
CREATE TABLE few_patterns AS
SELECT i AS n, (i % 4)::float8 AS amount, CASE WHEN i % 2 = 0 THEN 'web' ELSE 'pos' END AS channel,
       (i % 4 = 3 AND i % 7 < 2) OR i % 97 = 0 AS is_fraud
  FROM generate_series(1, 10000) AS i;
ALTER TABLE few_patterns DROP COLUMN n;
SELECT count(DISTINCT (amount, channel, is_fraud)) AS patterns, count(*) FILTER (WHERE is_fraud) AS positives FROM few_patterns;
-- Per class, round(fraction x rows) held out, whatever the seed and the fraction.
SELECT s.seed, s.holdout,
       (m.training ->> 'holdout_rows')::int = round(s.holdout * c.neg) + round(s.holdout * c.pos) AS exact_rows,
       (m.training ->> 'holdout_positives')::int = round(s.holdout * c.pos) AS exact_positives,
       (m.metrics ->> 'rows')::int = (m.training ->> 'holdout_rows')::int AS measured_on_them
  FROM (VALUES (1, 0.2), (2, 0.2), (3, 0.2), (4, 0.1), (5, 0.35)) AS s(seed, holdout),
       (SELECT count(*) FILTER (WHERE NOT is_fraud) AS neg, count(*) FILTER (WHERE is_fraud) AS pos FROM few_patterns) AS c,
       LATERAL (SELECT document -> 'training' AS training, metrics FROM train_fraud_model('few_patterns', 'is_fraud', 'few',
                jsonb_build_object('seed', s.seed, 'holdout', s.holdout, 'activate', false))) AS m
 ORDER BY s.seed;
-- The same seed draws the same split: the same model twice.
SELECT a.document -> 'features' = b.document -> 'features' AND a.intercept = b.intercept AS same_model
  FROM train_fraud_model('few_patterns', 'is_fraud', 'few', '{"seed": 9}') AS a,
       train_fraud_model('few_patterns', 'is_fraud', 'few', '{"seed": 9}') AS b;

-- A class too small to measure: a NOTICE, kept in the training record.
CREATE TABLE rare AS SELECT i AS amount, i % 500 = 0 AS is_fraud FROM generate_series(1, 5000) AS i;
SELECT n AS notice FROM train_fraud_model('rare', 'is_fraud', 'rare') AS m,
       jsonb_array_elements_text(m.document -> 'training' -> 'notices') AS n WHERE n LIKE 'the holdout%';

-- Read through a query (a view), rows are held out by their values: a lumpy split is said.
CREATE VIEW few_view AS SELECT * FROM few_patterns;
SELECT n LIKE 'the holdout holds %of the % rows, not 20.0%' AS says_so
  FROM train_fraud_model('few_view', 'is_fraud', 'few_v', '{"seed": 1}') AS m,
       jsonb_array_elements_text(m.document -> 'training' -> 'notices') AS n WHERE n LIKE 'the holdout holds%' LIMIT 1;

-- A user's own split: the rows the column marks are held out, the others trained on.
CREATE TABLE split_rows AS SELECT *, (row_number() OVER ()) % 4 = 0 AS held FROM few_patterns;
SELECT (metrics ->> 'rows')::int = (SELECT count(*) FROM split_rows WHERE held) AS held_rows,
       (metrics ->> 'positives')::int = (SELECT count(*) FROM split_rows WHERE held AND is_fraud) AS held_positives,
       metrics ->> 'holdout_by' AS holdout_by, metrics ->> 'threshold_chosen_on' AS chosen_on,
       (document -> 'training' ->> 'training_rows')::int = (SELECT count(*) FROM split_rows WHERE held IS NOT TRUE) AS trained_on,
       (document -> 'training' ->> 'holdout_positives')::int = (SELECT count(*) FROM split_rows WHERE held AND is_fraud) AS recorded_held_positives,
       NOT (document -> 'features') @> '[{"name": "held"}]' AS not_a_feature
  FROM train_fraud_model('split_rows', 'is_fraud', 'split', '{"holdout_column": "held"}');
-- Its metrics are the model's own on those rows, as fraud_evaluate gives them.
CREATE TABLE split_held AS SELECT * FROM split_rows WHERE held;
SELECT abs((m.metrics ->> 'roc_auc')::float8 - (fraud_evaluate('split_held', model => 'split') ->> 'roc_auc')::float8) < 1e-12 AS same_auc
  FROM fraud_models AS m WHERE m.name = 'split' AND m.active;
-- Bad holdout columns.
ALTER TABLE split_rows ADD COLUMN held_text text;
SELECT pg_temp.outcome(format('SELECT train_fraud_model(%L, %L, %L, %L)', 'split_rows', 'is_fraud', 'bad', o)) AS outcome
  FROM unnest(ARRAY['{"holdout_column": "nope"}', '{"holdout_column": "held_text"}', '{"holdout_column": "is_fraud"}',
                    '{"holdout_column": "held", "holdout": 0.3}', '{"holdout_column": ""}',
                    '{"holdout_column": "held", "features": ["amount", "held"]}']) AS o;
SELECT count(*) AS stored FROM fraud_models WHERE name = 'bad';

DROP VIEW few_view;
DROP TABLE few_patterns, rare, split_rows, split_held;
DELETE FROM fraud_models;
