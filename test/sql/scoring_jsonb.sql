-- fraud_score(jsonb) follows the model document's formula; each score is checked against the same
-- formula written out independently in SQL.
\i test/helpers.psql

SELECT version FROM fraud_import_model('{
  "format": "pg_fraud.model/1", "algorithm": "logistic_regression",
  "intercept": -3.2, "threshold": 0.41,
  "features": [
    {"name": "amount", "kind": "numeric", "mean": 120.5, "scale": 300.2, "weight": 0.8},
    {"name": "country", "kind": "categorical", "weights": {"US": 0.1, "NG": 1.2}, "default_weight": -0.05},
    {"name": "online", "kind": "boolean", "weight": 0.3, "impute": 0.25},
    {"name": "created_at", "kind": "hour_of_day", "weights": {"2": 0.9, "3": 1.1}},
    {"name": "created_at", "kind": "day_of_week", "weights": {"0": 0.2}, "default_weight": -0.1},
    {"name": "mcc", "kind": "categorical", "weights": {"5411": 0.4, "7995": 1.5}}]}', 'default');

-- The formula, by hand. Missing amount contributes 0, missing online 0.3 * 0.25.
CREATE FUNCTION pg_temp.by_hand(tx jsonb) RETURNS float8 LANGUAGE sql AS $$
  SELECT 1 / (1 + exp(-(
      -3.2
    + COALESCE(0.8 * ((tx ->> 'amount')::float8 - 120.5) / 300.2, 0)
    + CASE tx ->> 'country' WHEN 'US' THEN 0.1 WHEN 'NG' THEN 1.2 ELSE -0.05 END
    + CASE WHEN tx ->> 'online' IS NULL THEN 0.3 * 0.25
           WHEN (tx ->> 'online')::boolean THEN 0.3 ELSE 0 END
    + CASE extract(hour FROM (tx ->> 'created_at')::timestamp) WHEN 2 THEN 0.9 WHEN 3 THEN 1.1 ELSE 0 END
    + CASE WHEN tx ->> 'created_at' IS NULL THEN -0.1
           WHEN extract(dow FROM (tx ->> 'created_at')::timestamp) = 0 THEN 0.2 ELSE -0.1 END
    + CASE tx ->> 'mcc' WHEN '5411' THEN 0.4 WHEN '7995' THEN 1.5 ELSE 0 END)))
$$;

CREATE TABLE cases (label text, tx jsonb);
INSERT INTO cases VALUES
  ('all features', '{"amount": 420.7, "country": "NG", "online": true, "created_at": "2024-05-05T03:10:00", "mcc": "7995"}'),
  ('numbers as strings', '{"amount": "12.50", "country": "US", "online": "false", "created_at": "2024-05-06 14:00:00+02", "mcc": 5411}'),
  ('missing amount', '{"country": "US", "online": true, "created_at": "2024-05-05T02:00:00", "mcc": "5411"}'),
  ('null values', '{"amount": null, "country": null, "online": null, "created_at": null, "mcc": null}'),
  ('unknown category', '{"amount": 50, "country": "ZZ", "online": false, "created_at": "2024-05-07", "mcc": "1234"}'),
  ('extra keys', '{"amount": 5, "note": {"deep": [1, 2]}, "id": 77, "country": "US"}'),
  ('negative and tiny', '{"amount": -1e-7, "online": 1}'),
  ('huge amount', '{"amount": 1e300}'),
  ('empty object', '{}');

SELECT label, round(fraud_score(tx)::numeric, 10) AS score,
       CASE WHEN label = 'huge amount' THEN fraud_score(tx) = 1  -- exp() by hand would underflow
            ELSE abs(fraud_score(tx) - pg_temp.by_hand(tx)) < 1e-12 END AS matches_formula
  FROM cases ORDER BY label;

-- The model name argument, and fraud_is_fraud against the 0.41 threshold.
SELECT label, fraud_score(tx, 'default') = fraud_score(tx) AS same, fraud_is_fraud(tx) AS flagged,
       fraud_is_fraud(tx) = (fraud_score(tx) >= 0.41) AS flag_matches_threshold
  FROM cases ORDER BY label;

-- JSON text (an application's parameter) scores like jsonb.
SELECT fraud_score(tx::text) = fraud_score(tx) AS text_same FROM cases WHERE label = 'all features';
SELECT fraud_score('{"amount": 420.7}') = fraud_score('{"amount": 420.7}'::jsonb) AS literal_is_json;

-- SQL NULL in, NULL out (the functions are STRICT).
SELECT fraud_score(NULL::jsonb) IS NULL AS null_score, fraud_score(NULL::jsonb, 'default') IS NULL AS null_named,
       fraud_is_fraud(NULL::jsonb) IS NULL AS null_flag;

-- Bad input: an error with a precise SQLSTATE that names the feature and never the value.
SELECT label, pg_temp.outcome(format('SELECT fraud_score(%L::jsonb)', tx)) FROM (VALUES
  ('array', '[1, 2]'),
  ('scalar number', '42'),
  ('scalar string', '"tx"'),
  ('null scalar', 'null'),
  ('object for a number', '{"amount": {"value": 31337}}'),
  ('array for a number', '{"amount": [31337]}'),
  ('text for a number', '{"amount": "31337abc"}'),
  ('boolean for a number', '{"amount": true}'),
  ('beyond float8', '{"amount": 31337e400}'),
  ('NaN string', '{"amount": "NaN"}'),
  ('Infinity string', '{"amount": "-Infinity"}'),
  ('hex string', '{"amount": "0x7a69"}'),
  ('object for a category', '{"country": {"code": "NG"}}'),
  ('bad boolean', '{"online": "31337"}'),
  ('number for a boolean', '{"online": 31337}'),
  ('bad timestamp', '{"created_at": "31337"}'),
  ('array for a timestamp', '{"created_at": [2024]}')) AS t(label, tx)
ORDER BY label;
SELECT pg_temp.outcome($$SELECT fraud_score('{"amount": 1}'::jsonb, 'no_such_model')$$);
SELECT pg_temp.outcome($$SELECT fraud_score('{"amount": 31337')$$);
SELECT pg_temp.outcome($$SELECT fraud_score(42)$$);
SELECT pg_temp.outcome($$SELECT fraud_score(ARRAY[1, 2])$$);

-- Many keys and deep nesting elsewhere in the document do not matter.
SELECT abs(fraud_score(big) - fraud_score('{"amount": 10}')) < 1e-15 AS wide_object_ok
  FROM (SELECT jsonb_object_agg('k' || i, i) || '{"amount": 10}' AS big FROM generate_series(1, 10000) i) s;
SELECT fraud_score(jsonb_build_object('amount', 10, 'deep', (repeat('[', 1000) || repeat(']', 1000))::jsonb))
     = fraud_score('{"amount": 10}') AS deep_nesting_ignored;
-- Unicode and empty keys are keys like any other.
SELECT fraud_score('{"": 1, "ämount": 2, "amount": 10}') = fraud_score('{"amount": 10}') AS odd_keys_ignored;

-- Runs of objects with the same keys (the remembered key layout) and with changing keys
-- in one call site agree with the formula row by row.
SELECT count(*) AS rows, count(*) FILTER (WHERE abs(fraud_score(tx) - pg_temp.by_hand(tx)) < 1e-12) AS matching
  FROM (SELECT CASE WHEN i % 7 < 4 THEN jsonb_build_object('amount', i, 'country', 'NG', 'mcc', 5411)
                    WHEN i % 7 = 4 THEN jsonb_build_object('amount', i, 'country', 'US')
                    ELSE jsonb_build_object('amount', -i, 'online', i % 2 = 0, 'extra', i) END AS tx
          FROM generate_series(1, 5000) i) s;

-- Numbers stored as jsonb numerics are decoded directly; with weight 1 the explained
-- contribution is the decoded number, and it agrees with the text path to within 2 ulp.
SELECT version FROM fraud_import_model('{"format": "pg_fraud.model/1", "algorithm": "logistic_regression",
  "intercept": 0, "features": [{"name": "x", "kind": "numeric", "weight": 1}]}', 'identity');
CREATE FUNCTION pg_temp.decoded(x jsonb) RETURNS float8 LANGUAGE sql AS $$
  SELECT contribution FROM fraud_explain(jsonb_build_object('x', x), 'identity')
$$;
SELECT count(*) AS numbers,
       count(*) FILTER (WHERE abs(pg_temp.decoded(to_jsonb(x)) - x::text::float8)
                              <= 2 * 2.3e-16 * abs(x::text::float8)) AS within_2_ulp
  FROM (SELECT (random() * 10 ^ (random() * 24 - 12))::numeric AS x FROM generate_series(1, 2000)
        UNION ALL VALUES (0), (-0.0001), (123456789012345678901234567.891), (1e-30), (-99999999.99999999),
                         (1e300), (-2.5e-300)) s;

-- Numbers of one or two base-10000 digits (amounts, rates, codes) take a decoder without
-- data-dependent branches. They, and numbers of up to 13 significant digits (at most four
-- base-10000 digits: an integer a double holds exactly, scaled by an exact power of ten), are
-- rounded once: exactly the double that float8 gives, at every scale here and either sign.
SELECT count(*) AS numbers, count(*) FILTER (WHERE pg_temp.decoded(to_jsonb(x)) = x::float8) AS exact,
       count(DISTINCT scale(x)) > 10 AS many_scales, count(*) FILTER (WHERE x < 0) > 500 AS negatives
  FROM (SELECT (CASE WHEN i % 3 = 0 THEN -1 ELSE 1 END
                * trunc(random() * 10 ^ (1 + i % 13)) * power(10::numeric, (i % 19) - 12))::numeric AS x
          FROM generate_series(1, 3000) i
        UNION ALL VALUES (0), (0.0001), (-0.0001), (9999.9999), (-99999999), (1e-12), (99999999e12),
                         (0.5), (-1), (1e16), (12345678e-12)) s;

-- Leave the database as the next file expects it.
DELETE FROM fraud_models;
