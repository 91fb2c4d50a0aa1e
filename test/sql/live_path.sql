-- The live path of an attached table under ordinary DBA operations: updates and upserts keep
-- the verdict true to the row, attach refuses columns of the wrong type, insert-time errors
-- name the trigger and the table. (Alerts of rows really stored: isolation spec
-- alerts_stored_rows.)
\i test/helpers.psql
SET client_min_messages = warning;

SELECT version FROM fraud_import_model('{
  "format": "pg_fraud.model/1", "algorithm": "logistic_regression", "intercept": -3, "threshold": 0.5,
  "features": [{"name": "amount", "kind": "numeric", "weight": 0.01},
               {"name": "new_device", "kind": "numeric", "weight": 2}]}', 'lp');

-- UPDATE of a column the model reads scores the row again (sigmoid(-3 + 0.01 * amount + 2 * new_device));
-- an UPDATE of anything else (the label, a note, the flag set by hand) keeps the verdict.
CREATE TABLE lp_tx (id int PRIMARY KEY, amount numeric, new_device int, note text, is_fraud boolean);
SELECT fraud_attach('lp_tx', 'lp', '{"add_columns": true}');
INSERT INTO lp_tx (id, amount, new_device) VALUES (1, 10, 0), (2, 10, 0), (3, 10, 0);
UPDATE lp_tx SET amount = 900 WHERE id = 1;
UPDATE lp_tx SET new_device = 1 WHERE id = 2;
UPDATE lp_tx SET is_fraud = true, note = 'checked' WHERE id = 3;
SELECT id, is_flagged, round(fraud_score::numeric, 6) AS score,
       round((1 / (1 + exp(3 - 0.01 * amount - 2 * new_device)))::numeric, 6) AS expected FROM lp_tx ORDER BY id;
UPDATE lp_tx SET is_flagged = true WHERE id = 3;   -- an analyst's override stays
SELECT id, is_flagged FROM lp_tx WHERE id = 3;
-- An upsert that changes the amount re-scores; one that only relabels keeps the score.
INSERT INTO lp_tx (id, amount, new_device) VALUES (2, 500, 0)
    ON CONFLICT (id) DO UPDATE SET amount = EXCLUDED.amount, new_device = EXCLUDED.new_device;
INSERT INTO lp_tx (id, amount, new_device) VALUES (1, 5, 0) ON CONFLICT (id) DO UPDATE SET is_fraud = false;
SELECT id, amount, is_flagged, round(fraud_score::numeric, 6) AS score FROM lp_tx WHERE id IN (1, 2) ORDER BY id;

-- on_update = 'clear': the verdict of a changed row is cleared (NULL), never left describing old values.
CREATE TABLE lp_clear (id int PRIMARY KEY, amount numeric, new_device int);
SELECT fraud_attach('lp_clear', 'lp', '{"add_columns": true, "on_update": "clear"}');
INSERT INTO lp_clear VALUES (1, 900, 0), (2, 900, 0);
UPDATE lp_clear SET amount = 10 WHERE id = 1;
SELECT id, is_flagged, fraud_score IS NULL AS score_cleared FROM lp_clear ORDER BY id;
SELECT pg_temp.outcome($$SELECT fraud_attach('lp_clear', 'lp', '{"on_update": "ignore"}')$$);

-- Attach checks each feature column's type: a boolean new_device for a numeric feature is
-- refused up front (it used to attach, then fail every insert with 42804).
CREATE TABLE lp_bool (id int, amount numeric, new_device boolean);
SELECT pg_temp.outcome($$SELECT fraud_attach('lp_bool', 'lp', '{"add_columns": true}')$$);
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'lp_bool'::regclass;

-- An insert-time error names the trigger and the table in its CONTEXT (and no value).
CREATE TABLE lp_float (id int, amount float8, new_device int);
SELECT fraud_attach('lp_float', 'lp', '{"add_columns": true}');
\set VERBOSITY default
INSERT INTO lp_float VALUES (1, 'NaN', 0);
\set VERBOSITY terse

DROP TABLE lp_tx, lp_clear, lp_bool, lp_float;
DELETE FROM fraud_attachments;
DELETE FROM fraud_models;
