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

-- on_error = 'null' (fail-open): a row that cannot be scored is stored with a NULL verdict and a
-- WARNING, and counted; the default still fails the insert (above). A rolled-back insert leaves
-- no record; good rows are scored as usual, in the same statement too.
CREATE TABLE lp_open (id int, amount float8, new_device int);
SELECT fraud_attach('lp_open', 'lp', '{"add_columns": true, "on_error": "null"}');
SET client_min_messages = warning;
INSERT INTO lp_open VALUES (1, 'NaN', 0), (2, 900, 0), (3, 'Infinity', 1);
BEGIN;
INSERT INTO lp_open VALUES (4, 'NaN', 0);
ROLLBACK;
SELECT id, is_flagged, fraud_score FROM lp_open ORDER BY id;
SELECT table_name, sqlstate, message, rows FROM fraud_scoring_failures_daily ORDER BY 1, 2;
SELECT pg_temp.outcome($$SELECT fraud_attach('lp_open', 'lp', '{"on_error": "ignore"}')$$);

-- DDL that would break an attached table is refused (2BP01), naming the attachment: renaming,
-- dropping or retyping a feature column, dropping an output column. Harmless DDL goes through.
CREATE TABLE lp_ddl (id int, amount numeric, new_device int, note text);
SELECT fraud_attach('lp_ddl', 'lp', '{"add_columns": true}');
SELECT pg_temp.outcome($$ALTER TABLE lp_ddl RENAME COLUMN amount TO amount_eur$$);
SELECT pg_temp.outcome($$ALTER TABLE lp_ddl DROP COLUMN new_device$$);
SELECT pg_temp.outcome($$ALTER TABLE lp_ddl ALTER COLUMN new_device TYPE boolean USING new_device <> 0$$);
SELECT pg_temp.outcome($$ALTER TABLE lp_ddl DROP COLUMN fraud_score$$);
SELECT pg_temp.outcome($$ALTER TABLE lp_ddl ALTER COLUMN amount TYPE float8$$);
SELECT pg_temp.outcome($$ALTER TABLE lp_ddl ADD COLUMN channel text, DROP COLUMN note$$);
INSERT INTO lp_ddl (id, amount, new_device) VALUES (1, 900, 0);
SELECT id, is_flagged FROM lp_ddl;
-- A feature read from a differently named column ("columns"), and a rename done the safe way:
-- detach, rename, attach with the new name, in one transaction.
CREATE TABLE lp_map (id int, amt numeric, new_device int);
SELECT fraud_attach('lp_map', 'lp', '{"add_columns": true, "columns": {"amount": "amt"}}');
INSERT INTO lp_map (id, amt, new_device) VALUES (1, 900, 0), (2, 10, 1);
BEGIN;
SELECT fraud_detach('lp_map');
ALTER TABLE lp_map RENAME COLUMN amt TO amount_eur;
SELECT fraud_attach('lp_map', 'lp', '{"columns": {"amount": "amount_eur"}}');
COMMIT;
INSERT INTO lp_map (id, amount_eur, new_device) VALUES (3, 500, 0);
UPDATE lp_map SET amount_eur = 20 WHERE id = 1;
SELECT id, is_flagged, round(fraud_score::numeric, 6) AS score,
       round((1 / (1 + exp(3 - 0.01 * amount_eur - 2 * new_device)))::numeric, 6) AS expected FROM lp_map ORDER BY id;
SELECT pg_temp.outcome($$SELECT fraud_attach('lp_map', 'lp', '{"columns": {"amount": "no_such_column"}}')$$);
SELECT pg_temp.outcome($$SELECT fraud_attach('lp_map', 'lp', '{"columns": ["amount"]}')$$);
SELECT options -> 'columns' AS columns FROM fraud_attachments WHERE tab = 'lp_map'::regclass;
-- The BI view explains rows of a mapped table by their feature names (row 3: amount, +5.0).
SELECT reason, flagged FROM fraud_flag_reasons WHERE table_name = 'lp_map'::regclass;

-- The model of an attached table keeps an active version: deleting it, or deactivating it,
-- is refused (2BP01, naming the tables, with a hint); activating another version is fine.
SELECT version FROM fraud_import_model(jsonb_set(fraud_export_model('lp'), '{intercept}', '-4'), 'lp');
SELECT pg_temp.outcome($$DELETE FROM fraud_models WHERE name = 'lp'; SET CONSTRAINTS ALL IMMEDIATE$$);
SELECT pg_temp.outcome($$UPDATE fraud_models SET active = false WHERE name = 'lp'; SET CONSTRAINTS ALL IMMEDIATE$$);
SELECT pg_temp.outcome($$TRUNCATE fraud_models$$);
SELECT version, active FROM fraud_activate_model('lp', 1);
SELECT name, version, active FROM fraud_models WHERE name = 'lp' ORDER BY version;
-- fraud_retire_model: refused while attached; once detached, the rules go and no version stays active.
INSERT INTO fraud_rules (model, name, predicate) VALUES ('lp', 'huge', '$.amount > 10000');
SELECT pg_temp.outcome($$SELECT fraud_retire_model('lp')$$);
SELECT fraud_detach(tab) FROM fraud_attachments WHERE model = 'lp' ORDER BY tab::text;
SELECT fraud_retire_model('lp') AS versions_retired;
SELECT count(*) FILTER (WHERE active) AS active_versions, count(*) AS versions,
       (SELECT count(*) FROM fraud_rules WHERE model = 'lp') AS rules FROM fraud_models WHERE name = 'lp';
SELECT pg_temp.outcome($$SELECT fraud_retire_model('no_such_model')$$);

-- Rules that could never fire: a path that is not a predicate and an unknown model are refused;
-- a key no feature or attached column has is a WARNING, an error under pg_fraud.strict_rules.
SELECT (fraud_activate_model('lp', 2)).active AS reactivated;
SELECT fraud_attach('lp_tx', 'lp');
SELECT pg_temp.outcome($$INSERT INTO fraud_rules (model, name, predicate) VALUES ('lp', 'filter', '$.amount ? (@ > 500)')$$);
SELECT pg_temp.outcome($$INSERT INTO fraud_rules (model, name, predicate) VALUES ('nope', 'big', '$.amount > 500')$$);
SET client_min_messages = warning;
INSERT INTO fraud_rules (model, name, predicate) VALUES ('lp', 'typo', '$.amonut >= 900');
INSERT INTO fraud_rules (model, name, predicate) VALUES ('lp', 'by_note', '$.note == "vip" && $.amount > 1');
SET pg_fraud.strict_rules = on;
SELECT pg_temp.outcome($$INSERT INTO fraud_rules (model, name, predicate) VALUES ('lp', 'typo2', '$.amonut >= 900')$$);
RESET pg_fraud.strict_rules;
SELECT name FROM fraud_rules WHERE model = 'lp' ORDER BY name;
DELETE FROM fraud_rules;

-- char(n) padding: the row readers drop it, to_jsonb keeps it ("NG "); every path reads the
-- same category (the model's +1.4 for NG), so stored score, row and jsonb scoring, explain
-- and fraud_is_fraud agree.
SELECT version FROM fraud_import_model('{"format": "pg_fraud.model/1", "algorithm": "logistic_regression",
  "intercept": -1, "threshold": 0.5, "features": [{"name": "country", "kind": "categorical", "weights": {"NG": 1.4, "US": -0.5}}]}', 'padded');
CREATE TABLE lp_char (id int, country char(3));
SELECT fraud_attach('lp_char', 'padded', '{"add_columns": true}');
INSERT INTO lp_char VALUES (1, 'NG'), (2, 'US'), (3, 'FR');
SELECT id, format('%L', to_jsonb(t) ->> 'country') AS jsonb_text, round(fraud_score::numeric, 6) AS stored,
       round(fraud_score(t, 'padded')::numeric, 6) AS row_score, round(fraud_score(to_jsonb(t), 'padded')::numeric, 6) AS jsonb_score,
       (SELECT round(e.contribution::numeric, 2) FROM fraud_explain(to_jsonb(t), 'padded') e WHERE e.feature = 'country') AS explained,
       fraud_is_fraud(to_jsonb(t), 'padded') = is_flagged AS same_flag
  FROM lp_char t ORDER BY id;

SELECT count(*) AS detached FROM (SELECT fraud_detach(tab) FROM fraud_attachments) d;
-- A mis-keyed jsonb transaction ("Amount" for amount) scores like '{}' by default (documented);
-- pg_fraud.unknown_keys = warning or error reports the unknown keys and the missing features.
SELECT version FROM fraud_import_model('{"format": "pg_fraud.model/1", "algorithm": "logistic_regression",
  "intercept": 1, "features": [{"name": "amount", "kind": "numeric", "mean": 100, "weight": 0.01},
                               {"name": "country", "kind": "categorical", "weights": {"NG": 1}}]}', 'keys');
SELECT fraud_score('{"Amount": 12.5}'::jsonb, 'keys') = fraud_score('{}'::jsonb, 'keys') AS scores_like_empty;
SET pg_fraud.unknown_keys = warning;
SELECT round(fraud_score('{"Amount": 12.5, "country": "NG"}'::jsonb, 'keys')::numeric, 6) AS warned;
SET pg_fraud.unknown_keys = error;
SELECT pg_temp.outcome($$SELECT fraud_score('{"Amount": 12.5}'::jsonb, 'keys')$$);
SELECT pg_temp.outcome($$SELECT fraud_is_fraud('{"amount": 12.5, "country": "NG", "note": "x"}'::jsonb, 'keys')$$);
SELECT pg_temp.outcome($$SELECT * FROM fraud_explain('{"amount": 12.5}'::jsonb, 'keys')$$);
SELECT round(fraud_score('{"amount": 12.5, "country": "NG"}'::jsonb, 'keys')::numeric, 6) AS exact_keys_pass;
RESET pg_fraud.unknown_keys;

DROP TABLE lp_tx, lp_clear, lp_bool, lp_float, lp_char, lp_ddl, lp_map, lp_open;
DELETE FROM fraud_scoring_failures;
DELETE FROM fraud_models;
