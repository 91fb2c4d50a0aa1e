-- Gradient-boosted trees through SQL: import, jsonb and row scoring, the trigger, explanations
-- that add up to the logit, export round trip, and refused documents. Expected margins are
-- worked out by hand from the trees below (float32 sums as XGBoost's).
\i test/helpers.psql
SET client_min_messages = warning;

-- Tree 1 (depth 3) and a stump over amount, online and channel = 'web'; base margin -1.5.
CREATE FUNCTION pg_temp.gb_doc() RETURNS jsonb LANGUAGE sql AS $$ SELECT '{
  "format": "pg_fraud.model/1", "algorithm": "gradient_boosting", "threshold": 0.5,
  "features": [{"name": "amount", "kind": "numeric"}, {"name": "online", "kind": "boolean"},
               {"name": "channel", "kind": "categorical"}],
  "trees": {"base_margin": -1.5,
    "inputs": [{"feature": "amount"}, {"feature": 1}, {"feature": "channel", "equals": "web"}],
    "trees": [
      {"left": [1, 3, 5, -1, 7, -1, -1, -1, -1], "right": [2, 4, 6, -1, 8, -1, -1, -1, -1],
       "input": [0, 1, 2, 0, 0, 0, 0, 0, 0], "threshold": [100.5, 0.5, 0.5, 0, 50.25, 0, 0, 0, 0],
       "default_left": [1, 0, 1, 0, 1, 0, 0, 0, 0],
       "value": [0, 0, 0, -0.4, 0, 0.3, 0.9, -0.1, 0.2], "cover": [100, 60, 40, 35, 25, 10, 30, 15, 10]},
      {"left": [1, -1, -1], "right": [2, -1, -1], "input": [2, 0, 0], "threshold": [0.5, 0, 0],
       "default_left": [0, 0, 0], "value": [0, -0.25, 0.5], "cover": [100, 70, 30]}]}}'::jsonb $$;
SELECT algorithm, coefficients, round(intercept::numeric, 6) AS expected_margin FROM fraud_import_model(pg_temp.gb_doc(), 'gb');
-- amount 120, web: 0.9 + 0.5; amount missing, online: default left, then 50.25 default left (-0.1) + 0.5;
-- amount 100.5 (the threshold) goes right, pos: 0.3 - 0.25; channel missing is 0 (like pos).
SELECT round(ln(s / (1 - s))::numeric, 5) AS logit, expected
  FROM (VALUES ('{"amount": 120, "online": true, "channel": "web"}'::jsonb, -0.1),
               ('{"online": true, "channel": "web"}', -1.1),
               ('{"amount": 100.5, "online": false, "channel": "pos"}', -1.45),
               ('{"amount": 100.5, "online": false}', -1.45)) AS v(tx, expected),
       LATERAL (SELECT fraud_score(tx, 'gb') AS s) AS scored;
-- A row type, and the trigger.
CREATE TABLE gb_tx (id int PRIMARY KEY, amount numeric, online boolean, channel text);
SELECT fraud_attach('gb_tx', 'gb', '{"add_columns": true}');
INSERT INTO gb_tx VALUES (1, 120, true, 'web'), (2, 20, false, 'pos'), (3, NULL, NULL, NULL);
SELECT id, round(fraud_score::numeric, 6) AS stored, round(fraud_score(t, 'gb')::numeric, 6) AS row_score, is_flagged, model_version
  FROM gb_tx t ORDER BY id;
-- Explanations: TreeSHAP per feature and the expected margin add up to the logit.
SELECT t.id, round((SELECT sum(contribution) FROM fraud_explain(t, 'gb'))::numeric, 5)
       = round(ln(t.fraud_score / (1 - t.fraud_score))::numeric, 5) AS adds_up,
       (SELECT count(*) FROM fraud_explain(t, 'gb')) AS explain_rows
  FROM gb_tx t ORDER BY id;
-- Export and import give the same document and scores.
SELECT fraud_export_model('gb') = (SELECT document FROM fraud_import_model(fraud_export_model('gb'), 'gb2')) AS same_document;
SELECT fraud_score('{"amount": 77, "online": true, "channel": "web"}'::jsonb, 'gb')
     = fraud_score('{"amount": 77, "online": true, "channel": "web"}'::jsonb, 'gb2') AS same_score;
-- Refused documents.
SELECT pg_temp.outcome(format($$SELECT fraud_import_model(%L, 'bad')$$, jsonb_set(pg_temp.gb_doc(), '{trees,trees,0,left,0}', '0')));
SELECT pg_temp.outcome(format($$SELECT fraud_import_model(%L, 'bad')$$, jsonb_set(pg_temp.gb_doc(), '{trees,inputs,2}', '{"feature": "channel"}')));
SELECT pg_temp.outcome(format($$SELECT fraud_import_model(%L, 'bad')$$, pg_temp.gb_doc() - 'trees'));
SELECT pg_temp.outcome(format($$SELECT fraud_import_model(%L, 'bad')$$, '{"learner": {"objective": {"name": "reg:squarederror"}}}'));

SELECT fraud_detach('gb_tx');
DROP TABLE gb_tx;
DELETE FROM fraud_models;
