-- Per-rule statistics: hits of flag and allow rules per day, allow rules that overrode a
-- score at the threshold, and rules whose predicate errored (recorded in the attach option
-- rule_errors_column), each checked against a count made here from the rows.
\i test/helpers.psql
SET client_min_messages = warning;

SELECT version FROM fraud_import_model('{
  "format": "pg_fraud.model/1", "algorithm": "logistic_regression", "intercept": -5, "threshold": 0.5,
  "features": [{"name": "amount", "kind": "numeric", "weight": 0.01}]}', 'rs');
INSERT INTO fraud_rules (model, name, predicate, action) VALUES
  ('rs', 'round_amount', '$.amount == 300', 'flag'),
  ('rs', 'payroll', '$.merchant == "payroll"', 'allow'),
  ('rs', 'odd_note', '$.note > 5', 'flag');        -- a text note compared with a number: errors where set
CREATE TABLE rs_tx (id int PRIMARY KEY, amount numeric, merchant text, note text, created_at timestamptz);
SELECT fraud_attach('rs_tx', 'rs', '{"add_columns": true, "rules_column": "fired", "rule_errors_column": "rule_errors"}');
INSERT INTO rs_tx
SELECT i, (i % 10) * 100, CASE WHEN i % 4 = 0 THEN 'payroll' ELSE 'shop' END, CASE WHEN i % 3 = 0 THEN 'n' || i END,
       CASE WHEN i <= 20 THEN '2024-05-01 10:00+00' ELSE '2024-05-02 10:00+00' END::timestamptz
  FROM generate_series(1, 40) AS i;
SELECT day, rule, action, hits, overrides, errors FROM fraud_daily_rule_hits
 WHERE table_name = 'rs_tx'::regclass ORDER BY day, rule;
-- The same, counted from the rows: hits of round_amount, payroll rows, payroll rows at or above
-- the threshold (score >= 0.5: amount >= 500), rows whose note made odd_note error.
SELECT (created_at AT TIME ZONE 'UTC')::date AS day,
       count(*) FILTER (WHERE amount = 300) AS round_amount_hits,
       count(*) FILTER (WHERE merchant = 'payroll') AS payroll_hits,
       count(*) FILTER (WHERE merchant = 'payroll' AND amount >= 500) AS payroll_overrides,
       count(*) FILTER (WHERE note IS NOT NULL) AS odd_note_errors,
       count(*) FILTER (WHERE is_flagged AND merchant = 'payroll') AS flagged_payroll
  FROM rs_tx GROUP BY 1 ORDER BY 1;
SELECT rule_errors FROM rs_tx WHERE id = 3;
-- A bad rule_errors_column is refused like the other output columns.
CREATE TABLE rs_bad (id int PRIMARY KEY, amount numeric, errs int, is_flagged boolean, fraud_score float8);
SELECT pg_temp.outcome($$SELECT fraud_attach('rs_bad', 'rs', '{"rule_errors_column": "errs"}')$$);

SELECT fraud_detach('rs_tx');
DROP TABLE rs_tx, rs_bad;
DELETE FROM fraud_rules;
DELETE FROM fraud_models;
