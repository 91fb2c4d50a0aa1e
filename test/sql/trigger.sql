-- fraud_flag_trigger, fraud_attach/fraud_detach and rules: every inserted row is scored and
-- flagged, whatever the column types, the insert path or the privileges of the inserter.
SET client_min_messages = warning;
\i test/helpers.psql

SELECT version FROM fraud_import_model('{
  "format": "pg_fraud.model/1", "algorithm": "logistic_regression", "intercept": -3, "threshold": 0.5,
  "features": [
    {"name": "amount", "kind": "numeric", "mean": 100, "scale": 100, "weight": 1.5},
    {"name": "country", "kind": "categorical", "weights": {"NG": 2}},
    {"name": "online", "kind": "boolean", "weight": 0.5},
    {"name": "created_at", "kind": "hour_of_day", "weights": {"3": 1}}]}', 'default');

-- Column types users have, names that differ in case, and columns that are not features.
CREATE TYPE country_code AS ENUM ('US', 'NG', 'FR');
CREATE TABLE payments (
    id bigserial PRIMARY KEY, "Amount" numeric(12, 2), country country_code, online boolean,
    created_at timestamptz, merchant varchar(40), note text);
SELECT fraud_attach('payments', 'default',
       '{"add_columns": true, "version_column": "model_version", "rules_column": "fired_rules"}');
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'payments'::regclass AND attnum > 0 ORDER BY attnum;
SET TIME ZONE 'UTC';
INSERT INTO payments ("Amount", country, online, created_at, merchant)
VALUES (50, 'US', false, '2024-05-01 12:00+00', 'shop'),
       (950, 'US', true, '2024-05-01 03:00+00', 'shop'),
       (400, 'NG', NULL, NULL, NULL),
       (NULL, NULL, NULL, NULL, NULL);
-- The stored score equals fraud_score of the same values.
SELECT id, is_flagged, round(fraud_score::numeric, 6) AS score, model_version, fired_rules,
       abs(fraud_score - fraud_score(jsonb_build_object('amount', "Amount", 'country', country, 'online', online,
           'created_at', to_char(created_at, 'YYYY-MM-DD HH24:MI:SS')))) < 1e-12 AS matches_fraud_score
  FROM payments ORDER BY id;

-- INSERT ... SELECT and COPY go through the trigger too.
INSERT INTO payments ("Amount", country) SELECT i * 10, 'FR' FROM generate_series(1, 100) i;
COPY payments ("Amount", country, online) FROM STDIN;
900	NG	t
10	US	f
\.
SELECT count(*) AS rows, count(fraud_score) AS scored, count(*) FILTER (WHERE is_flagged) AS flagged,
       count(*) FILTER (WHERE is_flagged <> (fraud_score >= 0.5)) AS inconsistent FROM payments;

-- Rules: jsonpath predicates per model, 'flag' and 'allow', recorded in the rules column.
INSERT INTO fraud_rules (model, name, predicate) VALUES ('default', 'big_amount', '$.Amount >= 900');
INSERT INTO fraud_rules (model, name, predicate, action) VALUES ('default', 'trusted_merchant', '$.merchant == "trusted"', 'allow');
INSERT INTO fraud_rules (model, name, predicate, enabled) VALUES ('default', 'disabled', '$.Amount > 0', false);
INSERT INTO payments ("Amount", country, merchant) VALUES (905, 'US', 'shop'), (905, 'NG', 'trusted'), (20, 'US', 'trusted');
SELECT "Amount", country, merchant, is_flagged, fraud_score >= 0.5 AS score_says, fired_rules
  FROM payments WHERE id > (SELECT max(id) - 3 FROM payments) ORDER BY id;
-- fraud_is_fraud honours the same rules on jsonb.
SELECT fraud_is_fraud('{"Amount": 905, "country": "US"}') AS flag_rule,
       fraud_is_fraud('{"amount": 905, "country": "NG", "merchant": "trusted"}') AS allow_rule;
-- A rule whose predicate cannot be evaluated (a type mismatch) is skipped: the row is still
-- scored, the rule does not fire.
INSERT INTO fraud_rules (model, name, predicate) VALUES ('default', 'odd_note', '$.note > 5');
INSERT INTO payments ("Amount", country, note) VALUES (20, 'US', 'not a number');
SELECT is_flagged, fired_rules FROM payments ORDER BY id DESC LIMIT 1;
-- An invalid jsonpath is refused when the rule is created; so is an unknown action.
SELECT pg_temp.outcome($$INSERT INTO fraud_rules (model, name, predicate) VALUES ('default', 'bad', '$.amount >>= 1')$$);
SELECT pg_temp.outcome($$INSERT INTO fraud_rules (model, name, predicate, action) VALUES ('default', 'bad', '$.a == 1', 'block')$$);
DELETE FROM fraud_rules;

-- Values beyond float8 and NaN in feature columns: the insert fails with the feature named.
CREATE TABLE float_payments (id int, amount float8, country text, online boolean, created_at timestamp,
                             is_flagged boolean, fraud_score float8);
SELECT fraud_attach('float_payments');
SELECT pg_temp.outcome($$INSERT INTO float_payments (id, amount) VALUES (1, 'NaN')$$);
SELECT pg_temp.outcome($$INSERT INTO float_payments (id, amount) VALUES (1, 'Infinity')$$);
SELECT pg_temp.outcome($$INSERT INTO float_payments (id, amount, created_at) VALUES (1, 1, 'infinity')$$);
SELECT count(*) AS stored FROM float_payments;

-- A model replaced between two inserts: the next insert uses the new version.
INSERT INTO float_payments (id, amount) VALUES (1, 100);
SELECT version FROM fraud_import_model(jsonb_set(fraud_export_model('default'), '{intercept}', '5'), 'default');
INSERT INTO float_payments (id, amount) VALUES (2, 100);
SELECT id, is_flagged, round(fraud_score::numeric, 4) AS score FROM float_payments ORDER BY id;
-- Deleting the model of an attached table is refused (with a hint), and inserts go on.
SELECT pg_temp.outcome($$DELETE FROM fraud_models WHERE name = 'default'; SET CONSTRAINTS ALL IMMEDIATE$$);
SELECT pg_temp.outcome($$INSERT INTO float_payments (id, amount) VALUES (3, 100)$$);

-- fraud_attach checks before it creates anything.
SELECT version FROM fraud_import_model('{"format": "pg_fraud.model/1", "algorithm": "logistic_regression",
  "intercept": -1, "features": [{"name": "amount", "kind": "numeric", "weight": 0.01},
                                {"name": "mcc", "kind": "categorical", "weights": {"7995": 2}}]}', 'default');
CREATE TABLE no_mcc (amount numeric, is_flagged boolean, fraud_score float8);
SELECT pg_temp.outcome($$SELECT fraud_attach('no_mcc')$$);
CREATE TABLE bad_flag (amount numeric, mcc int, is_flagged int, fraud_score float8);
SELECT pg_temp.outcome($$SELECT fraud_attach('bad_flag')$$);
CREATE TABLE no_outputs (amount numeric, mcc int);
SELECT pg_temp.outcome($$SELECT fraud_attach('no_outputs')$$);
SELECT pg_temp.outcome($$SELECT fraud_attach('no_outputs', 'missing_model')$$);
SELECT pg_temp.outcome($$SELECT fraud_attach('no_outputs', 'default', '{"colour": "red"}')$$);
SELECT count(*) AS triggers_created FROM pg_trigger WHERE tgname = 'fraud_flag'
   AND tgrelid IN ('no_mcc'::regclass, 'bad_flag'::regclass, 'no_outputs'::regclass);
-- Attach and detach are idempotent.
SELECT fraud_attach('no_outputs', 'default', '{"add_columns": true, "score_column": "risk", "flag_column": "suspicious"}');
SELECT fraud_attach('no_outputs', 'default', '{"add_columns": true, "score_column": "risk", "flag_column": "suspicious"}');
SELECT count(*) AS triggers FROM pg_trigger WHERE tgname = 'fraud_flag' AND tgrelid = 'no_outputs'::regclass;
INSERT INTO no_outputs (amount, mcc) VALUES (500, 7995);
SELECT suspicious, round(risk::numeric, 4) AS risk FROM no_outputs;
SELECT fraud_detach('no_outputs');
SELECT fraud_detach('no_outputs');
INSERT INTO no_outputs (amount, mcc) VALUES (500, 7995);
SELECT count(*) FILTER (WHERE risk IS NULL) AS unscored_after_detach FROM no_outputs;

-- Partitioned tables: the trigger on the parent scores rows routed to every partition.
CREATE TABLE parted (id int, amount numeric, mcc int, is_flagged boolean, fraud_score real) PARTITION BY RANGE (id);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (100);
CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (100) TO (200);
SELECT fraud_attach('parted');
INSERT INTO parted SELECT i, i * 3, 7995 FROM generate_series(1, 199, 50) i;
SELECT tableoid::regclass AS partition, id, is_flagged, fraud_score IS NOT NULL AS scored FROM parted ORDER BY id;

-- An application role with INSERT on the table and no privilege on the extension's tables is
-- scored and flagged all the same.
CREATE ROLE regress_fraud_app;
GRANT INSERT, SELECT ON parted TO regress_fraud_app;
SET ROLE regress_fraud_app;
SELECT pg_temp.outcome('SELECT count(*) FROM fraud_models');
INSERT INTO parted (id, amount, mcc) VALUES (150, 1000, 7995);
SELECT id, is_flagged, fraud_score IS NOT NULL AS scored FROM parted WHERE id = 150;
RESET ROLE;
REVOKE ALL ON parted FROM regress_fraud_app;
DROP ROLE regress_fraud_app;

-- Misuse of the trigger function.
CREATE TABLE misuse (amount numeric, mcc int, is_flagged boolean, fraud_score float8);
CREATE TRIGGER t AFTER INSERT ON misuse FOR EACH ROW EXECUTE FUNCTION fraud_flag_trigger('default', 'is_flagged', 'fraud_score');
SELECT pg_temp.outcome($$INSERT INTO misuse VALUES (1, 1)$$);
DROP TRIGGER t ON misuse;
CREATE TRIGGER t BEFORE INSERT ON misuse FOR EACH ROW EXECUTE FUNCTION fraud_flag_trigger('default');
SELECT pg_temp.outcome($$INSERT INTO misuse VALUES (1, 1)$$);
SELECT pg_temp.outcome($$SELECT fraud_flag_trigger()$$);

-- A table attached with its own columns and no version column: the BI views cannot tell the
-- versions apart, and fraud_attach says so (add_columns adds model_version, no notice).
SELECT version FROM fraud_import_model('{"format": "pg_fraud.model/1", "algorithm": "logistic_regression",
  "intercept": -5, "features": [{"name": "amount", "kind": "numeric", "weight": 0.01}]}', 'nover');
CREATE TABLE nover_tx (id int PRIMARY KEY, amount numeric, is_flagged boolean, fraud_score float8);
CREATE TABLE nover_tx2 (id int PRIMARY KEY, amount numeric);
SET client_min_messages = notice;
SELECT fraud_attach('nover_tx', 'nover');
SELECT fraud_attach('nover_tx2', 'nover', '{"add_columns": true}');
SET client_min_messages = warning;
SELECT fraud_detach('nover_tx'), fraud_detach('nover_tx2');
DROP TABLE nover_tx, nover_tx2;

SELECT count(*) AS detached FROM (SELECT fraud_detach(tab) FROM fraud_attachments) d;
DELETE FROM fraud_models;
