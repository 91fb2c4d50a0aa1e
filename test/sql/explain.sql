-- fraud_explain: one row per feature, largest |contribution| first, then the intercept; the
-- rows add up to the logit (no read of fraud_models needed). Hour and weekday features show
-- the hour and weekday they used.
SELECT version FROM fraud_import_model('{
  "format": "pg_fraud.model/1", "algorithm": "logistic_regression", "intercept": -3.2,
  "features": [
    {"name": "amount", "kind": "numeric", "mean": 120.5, "scale": 300.2, "weight": 0.8},
    {"name": "country", "kind": "categorical", "weights": {"US": 0.1, "NG": 1.2}, "default_weight": -0.05},
    {"name": "online", "kind": "boolean", "weight": 0.3, "impute": 0.25},
    {"name": "created_at", "kind": "hour_of_day", "weights": {"3": 1.1}},
    {"name": "created_at", "kind": "day_of_week", "weights": {"0": 0.2}, "default_weight": -0.1}]}', 'default');

SELECT feature, value, round(contribution::numeric, 6) AS contribution
  FROM fraud_explain('{"amount": 420.7, "country": "NG", "created_at": "2024-05-05 03:10:00"}');

-- The rows, the intercept's included, add up to the logit of fraud_score.
SELECT abs(sum(contribution) - ln(s / (1 - s))) < 1e-12 AS adds_up
  FROM fraud_explain('{"amount": 42, "country": "US", "online": false}') AS e,
       fraud_score('{"amount": 42, "country": "US", "online": false}'::jsonb) AS s
 GROUP BY s;

-- A document with none of the features: every feature explained as missing.
SELECT feature, value IS NULL AS missing, round(contribution::numeric, 6) AS contribution
  FROM fraud_explain('{"unrelated": 1}');

-- Top reasons over many rows, as a text array.
SELECT i, ARRAY(SELECT feature FROM fraud_explain(jsonb_build_object('amount', i * 100, 'country', 'NG')) LIMIT 2) AS top2
  FROM generate_series(1, 3) i;

-- Bad input.
SELECT * FROM fraud_explain('[1]');
SELECT * FROM fraud_explain('{"amount": 1}', 'missing_model');
SELECT * FROM fraud_explain(NULL);

-- fraud_is_fraud of a table row, as fraud_score(row): the same verdict as the row's jsonb, and
-- a bare literal still resolves (to the text overload).
CREATE TABLE ex_rows (amount numeric, country text, online boolean, created_at timestamp);
INSERT INTO ex_rows VALUES (420.7, 'NG', NULL, '2024-05-05 03:10:00'), (10, 'US', false, '2024-05-06 12:00:00');
SELECT amount, fraud_is_fraud(r) AS row_flag, fraud_is_fraud(to_jsonb(r)) AS jsonb_flag, fraud_is_fraud(r, 'default') AS named
  FROM ex_rows r ORDER BY amount;
SELECT fraud_is_fraud('{"amount": 420.7, "country": "NG", "created_at": "2024-05-05 03:10:00"}') AS literal;
-- With rules: a flag rule fires on the small row, an allow rule clears the large one.
INSERT INTO fraud_rules (model, name, predicate) VALUES ('default', 'us_small', '$.country == "US" && $.amount < 20');
INSERT INTO fraud_rules (model, name, predicate, action) VALUES ('default', 'ng_known', '$.amount > 400', 'allow');
SELECT amount, fraud_is_fraud(r) AS row_flag, fraud_is_fraud(to_jsonb(r)) AS jsonb_flag FROM ex_rows r ORDER BY amount;
DELETE FROM fraud_rules;
DROP TABLE ex_rows;

-- Explained by a given version, active or not: the one that flagged a stored row, say.
SELECT version FROM fraud_import_model('{"format": "pg_fraud.model/1", "algorithm": "logistic_regression",
  "intercept": -1, "features": [{"name": "amount", "kind": "numeric", "weight": 0.002}]}', 'default');
SELECT v, feature, round(contribution::numeric, 6) AS contribution
  FROM (VALUES (1), (2)) AS versions(v), fraud_explain('{"amount": 420.7}'::jsonb, 'default', v)
 WHERE feature IN ('amount', '(intercept)') ORDER BY v, feature;
CREATE TABLE ex_versioned (amount float8, country text, online boolean, created_at timestamp);
INSERT INTO ex_versioned VALUES (420.7, 'NG', true, '2024-05-05 03:10');
SELECT (SELECT array_agg(round(contribution::numeric, 9) ORDER BY feature) FROM fraud_explain(t, 'default', 2))
     = (SELECT array_agg(round(contribution::numeric, 9) ORDER BY feature) FROM fraud_explain(t, 'default')) AS v2_is_active,
       (SELECT round(contribution::numeric, 6) FROM fraud_explain(t, 'default', 1) WHERE feature = 'amount') AS v1_amount
  FROM ex_versioned t;
SELECT * FROM fraud_explain('{"amount": 1}'::jsonb, 'default', 9);
SELECT * FROM fraud_explain('{"amount": 1}'::jsonb, 'default', 0);
DROP TABLE ex_versioned;
-- fraud_flag_reasons explains a stored row with the version that flagged it (its
-- model_version column), not today's: v3 flagged the row for its amount, v4 would blame the country.
SET client_min_messages = warning;
CREATE TABLE ex_flagged (id int PRIMARY KEY, amount float8, country text);
SELECT version FROM fraud_import_model('{"format": "pg_fraud.model/1", "algorithm": "logistic_regression",
  "intercept": -5, "threshold": 0.5, "features": [{"name": "amount", "kind": "numeric", "weight": 0.01},
  {"name": "country", "kind": "categorical", "weights": {"NG": 0.1}}]}', 'default');
SELECT fraud_attach('ex_flagged', 'default', '{"add_columns": true}');
INSERT INTO ex_flagged (id, amount, country) VALUES (1, 900, 'NG');
SELECT version FROM fraud_import_model('{"format": "pg_fraud.model/1", "algorithm": "logistic_regression",
  "intercept": -5, "threshold": 0.5, "features": [{"name": "amount", "kind": "numeric", "weight": 0.0001},
  {"name": "country", "kind": "categorical", "weights": {"NG": 6}}]}', 'default');
SELECT model_version, is_flagged FROM ex_flagged;
SELECT reason, flagged FROM fraud_flag_reasons WHERE table_name = 'ex_flagged'::regclass;
SELECT (SELECT feature FROM fraud_explain(t, 'default') WHERE feature <> '(intercept)' ORDER BY contribution DESC LIMIT 1)
       AS top_under_today FROM ex_flagged t;
SELECT fraud_detach('ex_flagged');
DROP TABLE ex_flagged;

DELETE FROM fraud_models;
