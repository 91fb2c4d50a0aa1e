-- The log1p transform of heavy-tailed numbers: trained with the "log1p" option, recorded in
-- the document ("transform": "log1p"), and read the same on every scoring path as
-- sign(x) * ln(1 + |x|).
\i test/helpers.psql
SET client_min_messages = warning;

CREATE TABLE tailed AS
SELECT i AS n, round((exp(pg_temp.u(i, 1) * 9) - 1)::numeric, 2) AS amount,
       (ARRAY['web', 'pos'])[1 + (i % 2)] AS channel,
       pg_temp.u(i, 2) < 1 / (1 + exp(-(-4 + 0.6 * ln(1 + exp(pg_temp.u(i, 1) * 9) - 1)))) AS is_fraud
  FROM generate_series(1, 4000) AS i;
SELECT f ->> 'name' AS name, f ->> 'transform' AS transform
  FROM train_fraud_model('tailed', 'is_fraud', 'tailed', '{"exclude": ["n"], "log1p": ["amount"]}') AS m,
       jsonb_array_elements(m.document -> 'features') AS f ORDER BY 1;
-- The score, computed here from the document: the row, jsonb and text paths and the trigger
-- all give it, for positive, zero and negative amounts (a refund) alike.
CREATE TABLE probe (amount numeric, channel text);
INSERT INTO probe VALUES (0, 'web'), (12.5, 'pos'), (8100, 'web'), (-40, 'pos'), (NULL, 'web');
CREATE FUNCTION pg_temp.by_hand(amount numeric, channel text) RETURNS float8 LANGUAGE sql AS $$
  SELECT 1 / (1 + exp(-(m.intercept
           + COALESCE((a.value ->> 'weight')::float8 * (sign(amount) * ln(1 + abs(amount)) - (a.value ->> 'mean')::float8)
                      / (a.value ->> 'scale')::float8, 0)
           + COALESCE((c.value -> 'weights' ->> channel)::float8, (c.value ->> 'default_weight')::float8))))
    FROM fraud_models AS m, jsonb_array_elements(m.document -> 'features') AS a, jsonb_array_elements(m.document -> 'features') AS c
   WHERE m.name = 'tailed' AND m.active AND a.value ->> 'name' = 'amount' AND c.value ->> 'name' = 'channel'
$$;
CREATE TABLE probe_live (amount numeric, channel text);
SELECT fraud_attach('probe_live', 'tailed', '{"add_columns": true}');
INSERT INTO probe_live SELECT * FROM probe;
SELECT p.amount,
       abs(fraud_score(p, 'tailed') - pg_temp.by_hand(p.amount, p.channel)) < 1e-12 AS row_path,
       abs(fraud_score(to_jsonb(p), 'tailed') - pg_temp.by_hand(p.amount, p.channel)) < 1e-12 AS jsonb_path,
       abs(fraud_score(jsonb_build_object('amount', p.amount), 'tailed')
           - pg_temp.by_hand(p.amount, NULL)) < 1e-12 AS numeric_only,
       abs(l.fraud_score - pg_temp.by_hand(p.amount, p.channel)) < 1e-12 AS trigger_path
  FROM probe p JOIN probe_live l ON l.amount IS NOT DISTINCT FROM p.amount AND l.channel = p.channel ORDER BY 1;
SELECT fraud_detach('probe_live');
-- The transform survives export and import.
SELECT (fraud_export_model('tailed') -> 'features') @> '[{"name": "amount", "transform": "log1p"}]' AS exported;
SELECT version FROM fraud_import_model(fraud_export_model('tailed'), 'tailed_copy');
SELECT abs(fraud_score('{"amount": 8100}', 'tailed_copy') - fraud_score('{"amount": 8100}', 'tailed')) < 1e-15 AS same;
-- Bad uses.
SELECT pg_temp.outcome(format('SELECT train_fraud_model(%L, %L, %L, %L)', 'tailed', 'is_fraud', 'bad', o)) AS outcome
  FROM unnest(ARRAY['{"log1p": ["channel"]}', '{"log1p": ["nope"]}', '{"log1p": "amount"}',
                    '{"log1p": ["n"], "exclude": ["n"]}']) AS o;
SELECT pg_temp.outcome($$SELECT fraud_import_model('{"format": "pg_fraud.model/1", "algorithm": "logistic_regression",
  "intercept": 0, "features": [{"name": "amount", "kind": "numeric", "weight": 1, "transform": "sqrt"}]}', 'bad')$$);
SELECT count(*) AS stored FROM fraud_models WHERE name = 'bad';

-- A sentinel read as missing (pandas' na_values): '?' in a category. Without the option '?'
-- is a category of its own; with it '?' is missing, in training and on every scoring path
-- (as NULL scores), and the document keeps the list.
CREATE TABLE sentinel (n int, city text, is_fraud boolean);
INSERT INTO sentinel SELECT i, CASE WHEN i % 7 = 0 THEN '?' ELSE (ARRAY['a', 'b', 'c'])[1 + i % 3] END, i % 5 = 0
  FROM generate_series(1, 2000) AS i;
SELECT document -> 'features' -> 0 -> 'weights' ? '?' AS category_without
  FROM train_fraud_model('sentinel', 'is_fraud', 'sent_plain', '{"exclude": ["n"]}');
SELECT document -> 'missing_values' AS missing_values, document -> 'features' -> 0 -> 'weights' ? '?' AS category_with
  FROM train_fraud_model('sentinel', 'is_fraud', 'sent', '{"exclude": ["n"], "missing_values": ["?"]}');
SELECT fraud_score('{"city": "?"}', 'sent') = fraud_score('{"city": null}', 'sent') AS jsonb_same,
       fraud_score(ROW(1, '?', NULL)::sentinel, 'sent') = fraud_score(ROW(1, NULL, NULL)::sentinel, 'sent') AS row_same,
       fraud_score('{"city": "?"}', 'sent_plain') <> fraud_score('{"city": null}', 'sent_plain') AS plain_differs;
SELECT pg_temp.outcome($$SELECT train_fraud_model('sentinel', 'is_fraud', 'bad', '{"missing_values": "?"}')$$);

-- Numbers loaded as text: one-hot encoded by value as any text, with a hint (10 or more
-- distinct values, all numbers); short numeric codes and words get none.
CREATE TABLE as_text (amount_text text, code text, word text, is_fraud boolean);
INSERT INTO as_text SELECT (i % 50 * 10)::text, (i % 3)::text, (ARRAY['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k'])[1 + i % 11],
                           i % 7 = 0 FROM generate_series(1, 700) AS i;
CREATE FUNCTION pg_temp.train_notices() RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY SELECT n FROM jsonb_array_elements_text((SELECT document -> 'training' -> 'notices'
        FROM train_fraud_model('as_text', 'is_fraud', 'as_text', '{"activate": false}'))) AS n WHERE n LIKE '%holding numbers%';
END $$;
SELECT * FROM pg_temp.train_notices();

DROP TABLE tailed, probe, probe_live, sentinel, as_text;
DELETE FROM fraud_models;
