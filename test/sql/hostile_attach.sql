-- The bad-input catalogue, attachment (fraud_attach, fraud_detach, fraud_flag_trigger): at least 40 hostile inputs (types, sizes,
-- NaN/Infinity/1e400, huge and deep values, unicode and empty keys, NULLs); each gets a result
-- or an error with a SQLSTATE, none crashes the server.
\i test/hostile_setup.psql

-- Attachment options: 8 keys x 7 hostile values, then hand-made broken objects.
CREATE TABLE live (amount numeric, country text, online boolean, created_at timestamptz, is_flagged boolean, fraud_score float8);
CREATE TABLE attach_opts AS
SELECT jsonb_build_object(k, v::jsonb) AS o
  FROM unnest(ARRAY['flag_column', 'score_column', 'version_column', 'rules_column', 'notify', 'add_columns',
                    'time_column', 'no_such_option']) AS k,
       unnest(ARRAY['null', '"nope"', '-1', '[1]', '""', '"amount"', '{"a": 1}']) AS v;
SELECT count(*) >= 40 AS at_least_40 FROM attach_opts;
SELECT r AS outcome, count(*) FROM (SELECT pg_temp.state(format('SELECT fraud_attach(%L, %L, %L)', 'live', 'default', o)) AS r
                                      FROM attach_opts) q GROUP BY r ORDER BY r;
SELECT o, pg_temp.state(format('SELECT fraud_attach(%L, %L, %L)', 'live', 'default', o)) AS outcome
  FROM unnest(ARRAY['[]', '"x"', '{"add_columns": "maybe"}', '{"flag_column": ""}', '{"notify": 5}',
                    '{"score_column": "amount"}', '{"flag_column": "online", "score_column": "amount"}',
                    '{"add_columns": true, "flag_column": "fraud\"; DROP TABLE live; --"}']::jsonb[]) AS o;
SELECT count(*) AS live_still_there FROM pg_class WHERE relname = 'live';
-- Hostile arguments of attach and detach, and a trigger created by hand with broken arguments.
SELECT pg_temp.state($$SELECT fraud_attach(NULL)$$) AS null_table,
       pg_temp.state($$SELECT fraud_attach('live', NULL)$$) AS null_model,
       pg_temp.state($$SELECT fraud_attach('live', 'no_such_model')$$) AS unknown_model,
       pg_temp.state($$SELECT fraud_attach('pg_class')$$) AS catalog,
       pg_temp.state($$SELECT fraud_attach(0)$$) AS no_relation,
       pg_temp.state($$SELECT fraud_detach(NULL)$$) AS detach_null,
       pg_temp.state($$SELECT fraud_detach('pg_class')$$) AS detach_catalog;
CREATE TABLE by_hand (amount numeric, country text, online boolean, created_at timestamptz, flag boolean, s float8);
CREATE TRIGGER no_args BEFORE INSERT ON by_hand FOR EACH ROW EXECUTE FUNCTION fraud_flag_trigger();
SELECT pg_temp.state($$INSERT INTO by_hand (amount) VALUES (1)$$) AS trigger_without_arguments;
DROP TRIGGER no_args ON by_hand;
CREATE TRIGGER bad_column BEFORE INSERT ON by_hand FOR EACH ROW EXECUTE FUNCTION fraud_flag_trigger('default', 'nope', 's');
SELECT pg_temp.state($$INSERT INTO by_hand (amount) VALUES (1)$$) AS trigger_missing_column;
DROP TRIGGER bad_column ON by_hand;
CREATE TRIGGER bad_type BEFORE INSERT ON by_hand FOR EACH ROW EXECUTE FUNCTION fraud_flag_trigger('default', 's', 'flag');
SELECT pg_temp.state($$INSERT INTO by_hand (amount) VALUES (1)$$) AS trigger_wrong_types;
DROP TRIGGER bad_type ON by_hand;
CREATE TRIGGER after_trigger AFTER INSERT ON by_hand FOR EACH ROW EXECUTE FUNCTION fraud_flag_trigger('default', 'flag', 's');
SELECT pg_temp.state($$INSERT INTO by_hand (amount) VALUES (1)$$) AS trigger_after_insert;
DROP TABLE by_hand;

-- A table dropped without fraud_detach does not break the BI views.
DROP TABLE live;
SELECT count(*) AS activity_rows FROM fraud_daily_activity;
DELETE FROM fraud_attachments;
DROP TABLE attach_opts;
DELETE FROM fraud_models;
