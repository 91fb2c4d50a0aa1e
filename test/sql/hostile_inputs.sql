-- The bad-input catalogue: each function family is fed at least 40 hostile inputs (types,
-- sizes, NaN/Infinity/1e400, 1 MB documents, 10,000 keys, deep nesting, unicode and empty keys,
-- NULLs, wrong model documents). Every input gets a result or an error with a SQLSTATE; none
-- crashes the server (the session goes on to the next one).
SET client_min_messages = warning;
\i test/helpers.psql
CREATE FUNCTION pg_temp.state(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;

SELECT version FROM fraud_import_model('{"format": "pg_fraud.model/1", "algorithm": "logistic_regression",
  "intercept": -2, "threshold": 0.5, "features": [
    {"name": "amount", "kind": "numeric", "mean": 100, "scale": 50, "weight": 1},
    {"name": "country", "kind": "categorical", "weights": {"NG": 2, "ü€😀": 1}},
    {"name": "online", "kind": "boolean", "weight": 0.5},
    {"name": "created_at", "kind": "hour_of_day", "weights": {"3": 1}}]}', 'default');

-- Transactions: 50 hostile inputs through fraud_score(jsonb), fraud_score(text), fraud_explain
-- and fraud_is_fraud.
CREATE TABLE hostile (n serial, label text, tx text);
INSERT INTO hostile (label, tx) VALUES
  ('empty object', '{}'), ('array', '[]'), ('json null', 'null'), ('number', '1'), ('string', '"s"'),
  ('boolean', 'true'), ('null value', '{"amount": null}'), ('1e400', '{"amount": 1e400}'),
  ('-1e400', '{"amount": -1e400}'), ('1e-400', '{"amount": 1e-400}'), ('NaN text', '{"amount": "NaN"}'),
  ('Infinity text', '{"amount": "Infinity"}'), ('-inf text', '{"amount": "-inf"}'), ('empty text', '{"amount": ""}'),
  ('blank text', '{"amount": " "}'), ('comma decimal', '{"amount": "1,5"}'), ('hex', '{"amount": "0x10"}'),
  ('exponent text', '{"amount": "1e5"}'), ('padded text', '{"amount": "  42  "}'), ('array value', '{"amount": [1]}'),
  ('object value', '{"amount": {"a": 1}}'), ('boolean amount', '{"amount": true}'),
  ('30 digits', '{"amount": 123456789012345678901234567890}'), ('negative zero', '{"amount": -0}'),
  ('numeric category', '{"country": 5411}'), ('huge category', '{"country": 1.5e300}'),
  ('empty category', '{"country": ""}'), ('unicode category', '{"country": "ü€😀"}'),
  ('null category', '{"country": null}'), ('array category', '{"country": [null]}'),
  ('empty key', '{"": 1}'), ('unicode key', '{"ámount": 1}'), ('bad date', '{"created_at": "2024-02-30"}'),
  ('far future', '{"created_at": "9999-12-31T23:59:59"}'), ('year one', '{"created_at": "0001-01-01"}'),
  ('hour 25', '{"created_at": 25}'), ('hour -1', '{"created_at": -1}'), ('hour 3.5', '{"created_at": 3.5}'),
  ('date word', '{"created_at": "yesterday"}'), ('boolean maybe', '{"online": "maybe"}'), ('boolean 2', '{"online": 2}'),
  ('boolean TRUE', '{"online": "TRUE"}'), ('boolean object', '{"online": {"x": true}}'),
  ('duplicate keys', '{"amount": 1, "amount": "x"}'), ('not json', '{"amount": 1'), ('trailing junk', '{} x');
INSERT INTO hostile (label, tx)
SELECT '10,000 keys', (SELECT jsonb_object_agg('k' || i, i) || '{"amount": 5}' FROM generate_series(1, 10000) i)::text;
INSERT INTO hostile (label, tx) SELECT '1 MB value', jsonb_build_object('amount', 5, 'country', repeat('x', 1048576))::text;
INSERT INTO hostile (label, tx) SELECT 'deep nesting', '{"amount": 1, "deep": ' || repeat('[', 5000) || repeat(']', 5000) || '}';
INSERT INTO hostile (label, tx) SELECT '1 MB of keys', (SELECT jsonb_object_agg(repeat('k', 100) || i, i) FROM generate_series(1, 9000) i)::text;
SELECT count(*) >= 40 AS at_least_40 FROM hostile;
SELECT n, label,
       pg_temp.state(format('SELECT fraud_score(%L::jsonb)', tx)) AS score_jsonb,
       pg_temp.state(format('SELECT fraud_score(%L::text)', tx)) AS score_text,
       pg_temp.state(format('SELECT * FROM fraud_explain(%L::jsonb)', tx)) AS explain,
       pg_temp.state(format('SELECT fraud_is_fraud(%L::jsonb)', tx)) AS is_fraud
  FROM hostile ORDER BY n;
-- Wherever a score comes back, it is a probability.
CREATE FUNCTION pg_temp.try_score(tx text) RETURNS float8 LANGUAGE plpgsql AS $$
BEGIN RETURN fraud_score(tx); EXCEPTION WHEN OTHERS THEN RETURN NULL; END $$;
SELECT count(*) FILTER (WHERE s IS NOT NULL) AS scored, count(*) FILTER (WHERE s < 0 OR s > 1 OR s <> s) AS not_probabilities
  FROM (SELECT pg_temp.try_score(tx) AS s FROM hostile) q;
-- NULLs everywhere.
SELECT fraud_score(NULL::jsonb) IS NULL AS a, fraud_score(NULL::text, NULL) IS NULL AS b,
       fraud_score('{}'::jsonb, NULL) IS NULL AS c, fraud_is_fraud(NULL, 'default') IS NULL AS d,
       (SELECT count(*) FROM fraud_explain(NULL, NULL)) = 0 AS e;

-- Model documents: 15 places x 8 hostile values, through fraud_import_model.
CREATE TABLE docs AS
SELECT p AS path, v AS value,
       jsonb_set(fraud_export_model('default'), p::text[], v::jsonb) AS doc
  FROM unnest(ARRAY['{format}', '{algorithm}', '{intercept}', '{threshold}', '{features}', '{label}', '{metrics}',
                    '{features,0,weight}', '{features,0,mean}', '{features,0,scale}', '{features,0,name}',
                    '{features,0,kind}', '{features,1,weights}', '{features,1,default_weight}', '{features,3,weights}']) AS p,
       unnest(ARRAY['null', '"x"', '[]', '{}', '-1', '0', 'true', '1e308']) AS v;
INSERT INTO docs VALUES ('whole', 'deep', ('{"format": "pg_fraud.model/1", "x": ' || repeat('[', 3000) || repeat(']', 3000) || '}')::jsonb),
                        ('whole', '10,000 features', jsonb_build_object('format', 'pg_fraud.model/1', 'algorithm', 'logistic_regression',
                           'intercept', 0, 'features', (SELECT jsonb_agg(jsonb_build_object('name', 'f' || i, 'kind', 'numeric', 'weight', 0.001))
                                                          FROM generate_series(1, 10000) i)));
SELECT count(*) >= 40 AS at_least_40 FROM docs;
SELECT r AS outcome, count(*) FROM (SELECT pg_temp.state(format('SELECT fraud_import_model(%L, %L)', doc, 'hostile')) AS r
                                      FROM docs) q GROUP BY r ORDER BY r;
-- Each refused document names what is wrong, never a value.
SELECT count(*) AS messages_with_values FROM docs,
       LATERAL pg_temp.outcome(format('SELECT fraud_model_validate(%L)', doc)) AS m
 WHERE m LIKE '%1e308%' OR m LIKE '%"x"%';
SELECT jsonb_array_length(fraud_export_model('hostile') -> 'features') AS wide_model_features;
SELECT fraud_score('{"f1": 1}', 'hostile') > 0 AS wide_model_scores;

-- Training options: 44 hostile option objects.
CREATE TABLE tx AS SELECT i::numeric AS amount, (ARRAY['US', 'NG'])[1 + i % 2] AS country, i % 3 = 0 AS is_fraud
  FROM generate_series(1, 500) i;
CREATE TABLE opts AS
SELECT jsonb_build_object(k, v::jsonb) AS o
  FROM unnest(ARRAY['features', 'exclude', 'l2', 'class_weight', 'max_iter', 'tol', 'holdout', 'seed', 'threshold',
                    'activate', 'max_categories']) AS k,
       unnest(ARRAY['null', '"x"', '-1', '[1]']) AS v;
SELECT count(*) >= 40 AS at_least_40 FROM opts;
SELECT r AS outcome, count(*) FROM (SELECT pg_temp.state(format('SELECT train_fraud_model(%L, %L, %L, %L)', 'tx', 'is_fraud', 'opt', o)) AS r
                                      FROM opts) q GROUP BY r ORDER BY r;
SELECT pg_temp.state($$SELECT train_fraud_model('tx', NULL)$$) AS null_label,
       pg_temp.state($$SELECT train_fraud_model('tx', 'is_fraud', NULL)$$) AS null_model,
       pg_temp.state($$SELECT train_fraud_model('tx', 'is_fraud', 'x', NULL)$$) AS null_options,
       pg_temp.state($$SELECT train_fraud_model('pg_class', 'relname', 'x')$$) AS catalog_source,
       pg_temp.state($$SELECT train_fraud_model(0, 'is_fraud', 'x')$$) AS no_relation;

-- Attachment options: hostile values.
CREATE TABLE live (amount numeric, country text, online boolean, created_at timestamptz);
SELECT o, pg_temp.state(format('SELECT fraud_attach(%L, %L, %L)', 'live', 'default', o)) AS outcome
  FROM unnest(ARRAY['[]', '"x"', '{"add_columns": "maybe"}', '{"flag_column": ""}', '{"notify": 5}',
                    '{"score_column": "amount"}', '{"flag_column": "online", "score_column": "amount"}',
                    '{"add_columns": true, "flag_column": "fraud\"; DROP TABLE live; --"}']::jsonb[]) AS o;
SELECT count(*) AS live_still_there FROM pg_class WHERE relname = 'live';

-- A table dropped without fraud_detach does not break the BI views.
DROP TABLE live;
SELECT count(*) AS activity_rows FROM fraud_daily_activity;
DELETE FROM fraud_attachments;
DROP TABLE hostile, docs, opts, tx;
DELETE FROM fraud_models;
