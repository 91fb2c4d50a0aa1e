-- The bad-input catalogue, scoring (fraud_score, fraud_explain, fraud_is_fraud): at least 40 hostile inputs (types, sizes,
-- NaN/Infinity/1e400, huge and deep values, unicode and empty keys, NULLs); each gets a result
-- or an error with a SQLSTATE, none crashes the server.
\i test/hostile_setup.psql

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

DROP TABLE hostile;
DELETE FROM fraud_models;
