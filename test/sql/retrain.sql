-- Scheduled retraining (fraud_retrain): a candidate trained on the labelled rows before the
-- evaluation window, both versions evaluated on the same rows of that window, the candidate
-- activated only when better by the margin, and each decision recorded. Every figure is
-- checked against a count or an AUC computed here in SQL from the rows.
\i test/helpers.psql
SET client_min_messages = warning;

-- 20,000 rows over 500 accounts, 2026-01-01 to 2026-01-10.
CREATE TABLE rt_tx AS SELECT * FROM fraud_generate_transactions(20000, 5, 0.03, '2026-01-01', 1, 500);
-- The champion is a weak model (channel alone).
SELECT version FROM train_fraud_model('rt_tx', 'is_fraud', 'rt', '{"features": ["channel"]}');

-- 1. Promotion: the candidate is trained on every labelled row before 2026-01-07 03:00 and
--    evaluated with the champion on the rows of the 3 days after.
SELECT active_version, candidate_version, metric, candidate_value > active_value + 0.1 AS much_better, promoted,
       reason LIKE 'pr_auc % against %: better by at least 0.005' AS reason_says_why,
       evaluation_from, evaluation_to, training_from
  FROM fraud_retrain('rt', 'rt_tx', '{"as_of": "2026-01-10 03:00+00", "time_column": "created_at",
                                      "evaluation_window": "3 days", "training": {"exclude": ["id", "account_id", "device_id"]}}');
SELECT version, active FROM fraud_models WHERE name = 'rt' ORDER BY version;
-- The evaluation rows and the training rows, counted here.
SELECT r.evaluation_rows = (SELECT count(*) FROM rt_tx WHERE created_at >= '2026-01-07 03:00+00' AND created_at < '2026-01-10 03:00+00') AS eval_rows_ok,
       r.evaluation_positives = (SELECT count(*) FROM rt_tx WHERE is_fraud AND created_at >= '2026-01-07 03:00+00' AND created_at < '2026-01-10 03:00+00') AS eval_positives_ok,
       (m.document -> 'training' ->> 'training_rows')::bigint = (SELECT count(*) FROM rt_tx WHERE created_at < '2026-01-07 03:00+00') AS training_rows_ok,
       m.document -> 'training' ->> 'source' AS recorded_source
  FROM fraud_retraining r JOIN fraud_models m ON m.name = r.model AND m.version = r.candidate_version WHERE r.id = (SELECT max(id) FROM fraud_retraining);
-- The promoted version's figure is what fraud_evaluate gives on the same rows.
CREATE VIEW rt_last_days AS SELECT * FROM rt_tx WHERE created_at >= '2026-01-07 03:00+00' AND created_at < '2026-01-10 03:00+00';
SELECT abs((fraud_evaluate('rt_last_days', 'is_fraud', 'rt') ->> 'pr_auc')::float8 - candidate_value) < 1e-12 AS candidate_figure_ok
  FROM fraud_retraining WHERE id = (SELECT max(id) FROM fraud_retraining);

-- 2. Refusal: the same rows give the same candidate, not better by the margin; it is kept
--    inactive with its figures, and the champion stays.
SELECT active_version, candidate_version, candidate_value = active_value AS same_figure, promoted,
       reason LIKE 'pr_auc % against %: not better by 0.005' AS reason_says_why
  FROM fraud_retrain('rt', 'rt_tx', '{"as_of": "2026-01-10 03:00+00", "time_column": "created_at", "evaluation_window": "3 days"}');
SELECT version, active FROM fraud_models WHERE name = 'rt' ORDER BY version;
-- The candidate was trained as the champion was (its options, without the holdout ones).
SELECT document -> 'training' -> 'options' -> 'exclude' AS exclude FROM fraud_models WHERE name = 'rt' AND version = 3;

-- 3. A training window: only the labelled rows of the 2 days before the evaluation window train.
SELECT candidate_version, training_from, promoted FROM fraud_retrain('rt', 'rt_tx',
  '{"as_of": "2026-01-10 03:00+00", "time_column": "created_at", "evaluation_window": "3 days", "train_window": "2 days", "margin": 0.5}');
SELECT (document -> 'training' ->> 'training_rows')::bigint
         = (SELECT count(*) FROM rt_tx WHERE created_at >= '2026-01-05 03:00+00' AND created_at < '2026-01-07 03:00+00') AS window_rows_ok
  FROM fraud_models WHERE name = 'rt' AND version = 4;

-- 4. A model with history features: the candidate reads history from the table (not from the
--    view it was trained through), and both figures (ROC AUC) equal the Mann-Whitney AUC of
--    fraud_score(t), which gives each stored row its history as of its own time, to the
--    evaluation's documented binning (scores binned by logit: about 0.001).
SELECT version FROM train_fraud_model('rt_tx', 'is_fraud', 'rth', '{"features": ["channel", "amount"],
  "history": {"by": "account_id", "time": "created_at", "windows": ["1 hour"], "amounts": ["amount"]}}');
SELECT candidate_version, metric, promoted FROM fraud_retrain('rth', 'rt_tx',
  '{"as_of": "2026-01-10 03:00+00", "evaluation_window": "2 days", "metric": "roc_auc", "margin": 0,
    "training": {"exclude": ["id", "account_id", "device_id"], "history": {"by": "account_id", "time": "created_at",
      "windows": ["10 minutes", "1 day"], "amounts": ["amount"], "distinct": ["country"], "new": ["device_id"]}}}');
SELECT document -> 'history' ->> 'relation' AS history_relation FROM fraud_models WHERE name = 'rth' AND version = 2;
-- (the index a history lookup of stored rows uses: fraud_attach would create it)
CREATE INDEX ON rt_tx (account_id, created_at);
CREATE FUNCTION rt_auc(model text) RETURNS float8 LANGUAGE sql AS $$
  WITH s AS (SELECT is_fraud, fraud_score(t, model) AS p FROM rt_tx t
              WHERE created_at >= '2026-01-08 03:00+00' AND created_at < '2026-01-10 03:00+00'),
       r AS (SELECT is_fraud, rank() OVER (ORDER BY p) + (count(*) OVER (PARTITION BY p) - 1) / 2.0 AS rnk FROM s)
  SELECT ((sum(rnk) FILTER (WHERE is_fraud) - count(*) FILTER (WHERE is_fraud) * (count(*) FILTER (WHERE is_fraud) + 1) / 2.0)
          / (count(*) FILTER (WHERE is_fraud) * count(*) FILTER (WHERE NOT is_fraud)))::float8 FROM r $$;
SELECT abs(candidate_value - rt_auc('rth')) < 2e-3 AS candidate_auc_ok FROM fraud_retraining WHERE model = 'rth';
SELECT fraud_activate_model('rth', 1) IS NOT NULL AS back_to_1;
SELECT abs(active_value - rt_auc('rth')) < 2e-3 AS active_auc_ok FROM fraud_retraining WHERE model = 'rth';
-- An ad-hoc score of the candidate reads the table's history (the view is gone).
SELECT fraud_activate_model('rth', 2) IS NOT NULL AS candidate_again;
SELECT fraud_score('{"account_id": 7, "created_at": "2026-01-10 04:00+00", "amount": 20, "channel": "web",
                     "merchant_category": "grocery", "country": "US", "device_id": "x"}'::jsonb, 'rth') BETWEEN 0 AND 1 AS scores;
SELECT count(*) AS temp_views_left FROM pg_class WHERE relname = 'fraud_retrain_rows';

-- 5. Nothing measurable (no fraud in the window): refused, with the reason.
CREATE TABLE rt_clean AS SELECT * FROM rt_tx;
UPDATE rt_clean SET is_fraud = false WHERE created_at >= '2026-01-09 03:00+00';
SELECT evaluation_positives, promoted, reason FROM fraud_retrain('rt', 'rt_clean',
  '{"as_of": "2026-01-10 03:00+00", "time_column": "created_at", "evaluation_window": "1 day"}');

-- 6. Bad input: each a clear error, nothing stored.
SELECT count(*) AS decisions_before FROM fraud_retraining;
SELECT fraud_retrain('rt', 'rt_tx', '{"time_column": "created_at", "windw": "1 day"}');
SELECT fraud_retrain('rt', 'rt_tx', '{"time_column": "created_at", "evaluation_window": "soon"}');
SELECT fraud_retrain('rt', 'rt_tx', '{"time_column": "created_at", "evaluation_window": "-1 day"}');
SELECT fraud_retrain('rt', 'rt_tx', '{"time_column": "created_at", "metric": "accuracy"}');
SELECT fraud_retrain('rt', 'rt_tx', '{"time_column": "amount"}');
SELECT fraud_retrain('rt', 'rt_tx', '{}');
SELECT fraud_retrain('nosuch', 'rt_tx', '{"time_column": "created_at"}');
SELECT count(*) AS decisions_after FROM fraud_retraining;

DROP FUNCTION rt_auc(text);
DROP VIEW rt_last_days;
DROP TABLE rt_tx, rt_clean;
DELETE FROM fraud_retraining;
DELETE FROM fraud_models;
