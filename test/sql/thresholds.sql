-- Thresholds that an analyst can trust: an alert budget flags the budgeted share of rows
-- whatever the score range, scores far in the tail rank by logit (not by a probability that
-- rounds to 1), and a threshold stored as a logit reaches every scoring path.
\i test/helpers.psql
SET client_min_messages = warning;

-- logit = -10 + 0.05 * amount: 74 of 5,000 rows (1.5%) score above logit 40, where every
-- probability is 1.0 in double precision; the rest score below logit -5.
SELECT version FROM fraud_import_model('{
  "format": "pg_fraud.model/1", "algorithm": "logistic_regression", "intercept": -10, "threshold": 0.5,
  "features": [{"name": "amount", "kind": "numeric", "weight": 0.05}]}', 'tail');
CREATE TABLE tail_rows AS
SELECT id, CASE WHEN id % 67 = 0 THEN 1000 + id ELSE id % 97 END::numeric AS amount,
       (id % 67 = 0 AND id > 2500) AS is_fraud
  FROM generate_series(1, 5000) AS id;
SELECT count(*) FILTER (WHERE fraud_score(t, 'tail') = 1) AS scores_of_one FROM tail_rows t;

-- The budget's cut is beyond what a probability can hold: fraud_choose_threshold says so.
SET client_min_messages = notice;
SELECT fraud_choose_threshold('tail_rows', '{"strategy": "alert_rate", "target": 0.01}', model => 'tail') AS probability;
SET client_min_messages = warning;
-- Applied in logits, a 1% budget flags exactly the 50 highest of the 5,000 rows (0.2.0 chose
-- 1.0 and flagged the 74 rows whose score rounds to 1).
SELECT threshold, (document ->> 'threshold_logit')::float8 BETWEEN 40 AND 400 AS cut_in_logits
  FROM fraud_set_threshold('tail', 'tail_rows', '{"strategy": "alert_rate", "target": 0.01}');
WITH ranked AS (SELECT t.*, rank() OVER (ORDER BY amount DESC) AS r FROM tail_rows t)
SELECT count(*) FILTER (WHERE fraud_is_fraud(t, 'tail')) AS flagged,
       count(*) FILTER (WHERE fraud_is_fraud(t, 'tail') AND r <= 50) AS of_the_top_50,
       count(*) FILTER (WHERE fraud_is_fraud(to_jsonb(t) - 'r', 'tail')) AS flagged_as_jsonb
  FROM ranked t;
-- The trigger flags the same rows on insert.
CREATE TABLE tail_live (id int, amount numeric, is_fraud boolean);
SELECT fraud_attach('tail_live', 'tail', '{"add_columns": true}');
INSERT INTO tail_live SELECT * FROM tail_rows;
SELECT count(*) FILTER (WHERE is_flagged) AS flagged_on_insert,
       count(*) FILTER (WHERE is_flagged AND amount >= (SELECT min(amount) FROM
           (SELECT amount FROM tail_rows ORDER BY amount DESC LIMIT 50) AS top)) AS of_the_top_50
  FROM tail_live;
SELECT fraud_detach('tail_live');

-- Other budgets, with and without a label column, on the generator's rows.
CREATE TABLE budget_rows AS SELECT * FROM fraud_generate_transactions(5000, 31);
SELECT version FROM train_fraud_model('budget_rows', 'is_fraud', 'budget', '{"exclude": ["id"]}');
-- Training chooses the threshold on its training rows and measures it on the holdout.
SELECT metrics ->> 'threshold_chosen_on' AS chosen_on, metrics ? 'threshold_logit' AS in_logits,
       (document ->> 'threshold_logit')::float8 = (metrics ->> 'threshold_logit')::float8 AS same_cut
  FROM fraud_models WHERE name = 'budget' AND version = 1;
CREATE TABLE budget_unlabelled AS SELECT * FROM budget_rows;
ALTER TABLE budget_unlabelled DROP COLUMN is_fraud;
WITH cuts AS MATERIALIZED (
  SELECT target, fraud_choose_threshold('budget_unlabelled', jsonb_build_object('strategy', 'alert_rate', 'target', target),
                                        model => 'budget') AS cut
    FROM (VALUES (0.001), (0.01), (0.05), (0.2)) AS v(target))
SELECT target, count(*) FILTER (WHERE fraud_score(t, 'budget') >= cut) AS flagged, floor(target * 5000) AS budget
  FROM cuts, budget_rows t GROUP BY target ORDER BY target;

-- Tail scores rank apart: positives above every negative, all beyond logit 40, give ROC AUC 1
-- (0.2.0 binned them together).
CREATE TABLE tail_labelled AS SELECT * FROM tail_rows WHERE id % 67 = 0;
SELECT (fraud_evaluate('tail_labelled', model => 'tail') ->> 'roc_auc')::float8 AS roc_auc;
-- The confusion matrix at the model's cut is counted row by row.
SELECT fraud_evaluate('tail_labelled', model => 'tail') -> 'confusion' AS confusion;

-- fraud_set_threshold with a probability keeps its logit; 0 and 1 keep none.
SELECT round((document ->> 'threshold_logit')::numeric, 9) AS logit FROM fraud_set_threshold('tail', 0.75);
SELECT document ? 'threshold_logit' AS has_logit FROM fraud_set_threshold('tail', 1);
SELECT count(*) FILTER (WHERE fraud_is_fraud(t, 'tail')) AS flagged_at_1 FROM tail_rows t;
-- A document whose logit disagrees with its threshold (edited by hand) is refused.
SELECT pg_temp.outcome($$SELECT fraud_import_model('{"format": "pg_fraud.model/1", "algorithm": "logistic_regression",
  "intercept": 0, "threshold": 0.9, "threshold_logit": 0.5, "features": []}', 'stale')$$);
-- Figures stored at the first threshold stay after a second change.
SELECT threshold AS trained_threshold FROM fraud_models WHERE name = 'budget' AND active \gset
SELECT (metrics -> 'at_previous_threshold' ->> 'threshold')::float8 = :trained_threshold AS first_threshold,
       metrics -> 'at_previous_threshold' -> 'precision' IS NOT NULL AS kept
  FROM fraud_set_threshold('budget', 0.3);
SELECT (metrics -> 'at_previous_threshold' ->> 'threshold')::float8 = :trained_threshold AS first_threshold,
       metrics -> 'at_previous_threshold' -> 'precision' <> 'null' AS kept, metrics ->> 'threshold' AS now
  FROM fraud_set_threshold('budget', 0.4);

DROP TABLE tail_rows, tail_live, budget_rows, budget_unlabelled, tail_labelled;
DELETE FROM fraud_models;
