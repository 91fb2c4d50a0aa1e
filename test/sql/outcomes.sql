-- Confirmed outcomes of scored rows (review verdicts, chargebacks): recorded by primary key
-- with who and when, and the precision of the alerts actually raised, recall and time to
-- label per day and model version.
\i test/helpers.psql
SET client_min_messages = warning;

SELECT version FROM fraud_import_model('{
  "format": "pg_fraud.model/1", "algorithm": "logistic_regression", "intercept": -5, "threshold": 0.5,
  "features": [{"name": "amount", "kind": "numeric", "weight": 0.01}]}', 'oc');
INSERT INTO fraud_rules (model, name, predicate) VALUES ('oc', 'round_amount', '$.amount == 300');
CREATE TABLE oc_tx (id int PRIMARY KEY, amount numeric, created_at timestamptz);
SELECT fraud_attach('oc_tx', 'oc', '{"add_columns": true, "rules_column": "fired"}');
-- ids 1-10 on May 1st (amount 100 * id: ids 6-10 flagged by the score, 3 by the rule), 11-14 on May 2nd.
INSERT INTO oc_tx (id, amount, created_at)
SELECT i, CASE WHEN i <= 10 THEN 100 * i ELSE 50 END, CASE WHEN i <= 10 THEN '2024-05-01 10:00+00' ELSE '2024-05-02 10:00+00' END::timestamptz
  FROM generate_series(1, 14) AS i;
SELECT count(*) FILTER (WHERE is_flagged) AS flagged, array_agg(id ORDER BY id) FILTER (WHERE is_flagged) AS ids FROM oc_tx;
-- Review: alerts 3, 6, 7 are fraud, 8 is not; id 2 (never alerted) turns out to be fraud
-- (a chargeback); id 12 is legitimate. Id 7 is first said legitimate, then confirmed.
SELECT outcome, source, labelled_by = current_user AS by_me
  FROM fraud_record_outcome('oc_tx', 7, false);
SELECT count(*) AS recorded FROM (SELECT fraud_record_outcome('oc_tx', k, o, s)
  FROM (VALUES (3, true, 'review'), (6, true, 'review'), (7, true, 'review'), (8, false, 'review'),
               (2, true, 'chargeback'), (12, false, 'review')) AS v(k, o, s)) AS done;
SELECT row_key, outcome, source FROM fraud_outcomes WHERE tab = 'oc_tx'::regclass ORDER BY row_key::int;
-- The view, and the same figures computed here from the rows and the outcomes.
SELECT day, model_version, alerts, reviewed, confirmed, "precision", known_frauds, caught, recall,
       mean_hours_to_label > 0 AS has_time_to_label
  FROM fraud_alert_outcomes_daily WHERE table_name = 'oc_tx'::regclass ORDER BY day;
WITH j AS (SELECT t.*, o.outcome FROM oc_tx t LEFT JOIN fraud_outcomes o ON o.tab = 'oc_tx'::regclass AND o.row_key = t.id::text)
SELECT (created_at AT TIME ZONE 'UTC')::date AS day,
       count(*) FILTER (WHERE is_flagged AND outcome)::float8 / NULLIF(count(outcome) FILTER (WHERE is_flagged), 0) AS "precision",
       count(*) FILTER (WHERE is_flagged AND outcome)::float8 / NULLIF(count(*) FILTER (WHERE outcome), 0) AS recall
  FROM j GROUP BY 1 ORDER BY 1;
-- Bad outcomes.
CREATE TABLE oc_nokey (amount numeric);
SELECT pg_temp.outcome($$SELECT fraud_record_outcome('oc_tx', 99, true)$$);
SELECT pg_temp.outcome($$SELECT fraud_record_outcome('oc_tx', 3, NULL)$$);
SELECT pg_temp.outcome($$SELECT fraud_record_outcome('oc_nokey', 1, true)$$);
CREATE TABLE oc_other (id int PRIMARY KEY);
SELECT pg_temp.outcome($$SELECT fraud_record_outcome('oc_other', 1, true)$$);
-- The outcomes as the label of fraud_evaluate and fraud_choose_threshold: only rows with an
-- outcome count (6 rows: 2, 3, 6, 7 fraud; 8, 12 not), as they would through a view joining them.
SELECT e ->> 'rows' AS rows, e ->> 'positives' AS positives, e -> 'confusion' AS confusion, e ->> 'roc_auc' AS roc_auc
  FROM fraud_evaluate('oc_tx', 'fraud_outcomes', 'oc') AS e;
CREATE VIEW oc_labelled AS SELECT t.*, o.outcome AS verdict FROM oc_tx t JOIN fraud_outcomes o ON o.tab = 'oc_tx'::regclass AND o.row_key = t.id::text;
SELECT fraud_evaluate('oc_tx', 'fraud_outcomes', 'oc') - 'model' - 'version'
       = fraud_evaluate('oc_labelled', 'verdict', 'oc') - 'model' - 'version' AS same_as_a_join;
SELECT fraud_choose_threshold('oc_tx', '{"strategy": "recall", "target": 1.0}', 'fraud_outcomes', 'oc')
       = fraud_choose_threshold('oc_labelled', '{"strategy": "recall", "target": 1.0}', 'verdict', 'oc') AS same_threshold;
DROP VIEW oc_labelled;
-- Detached, the table and its outcomes stay in the view.
SELECT fraud_detach('oc_tx');
SELECT sum(confirmed) AS confirmed_after_detach FROM fraud_alert_outcomes_daily WHERE table_name = 'oc_tx'::regclass;

DROP TABLE oc_tx, oc_nokey, oc_other;
DELETE FROM fraud_outcomes;
DELETE FROM fraud_rules;
DELETE FROM fraud_models;
