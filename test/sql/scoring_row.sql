-- fraud_score(row): the typed fast path reads columns directly and agrees with the jsonb form.
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

-- Typical column types, an extra column, and a column name that differs in case.
CREATE TYPE country_code AS ENUM ('US', 'NG', 'FR');
CREATE TABLE tx_numeric (id serial, "Amount" numeric(12, 2), country country_code, online boolean,
                         created_at timestamp, mcc integer, note text);
INSERT INTO tx_numeric ("Amount", country, online, created_at, mcc, note) VALUES
  (420.70, 'NG', true, '2024-05-05 03:10', 7995, 'x'),
  (12.50, 'US', false, '2024-05-06 14:00', 5411, NULL),
  (NULL, 'FR', NULL, NULL, NULL, 'nulls'),
  (99999999.99, NULL, true, '2024-05-05 02:59:59', 1, NULL);
SELECT id, round(fraud_score(t)::numeric, 10) AS score,
       abs(fraud_score(t) - fraud_score(jsonb_build_object('amount', t."Amount", 'country', t.country,
           'online', t.online, 'created_at', t.created_at, 'mcc', t.mcc))) < 1e-12 AS same_as_jsonb
  FROM tx_numeric AS t ORDER BY id;

-- Other representations of the same values give the same scores.
CREATE TABLE tx_other (amount float4, country varchar(2), online text, created_at timestamptz, mcc text);
CREATE TABLE tx_other2 (amount int8, country char(5), online int, created_at date, mcc numeric);
INSERT INTO tx_other VALUES (420.5, 'NG', 'yes', '2024-05-05 03:10+00', '7995');
INSERT INTO tx_other2 VALUES (420, 'NG', 1, '2024-05-05', 7995);
SET TIME ZONE 'UTC';
SELECT abs(fraud_score(t) - fraud_score('{"amount": 420.5, "country": "NG", "online": true,
        "created_at": "2024-05-05T03:10:00", "mcc": "7995"}'::jsonb)) < 1e-12 AS float_varchar_text_tz
  FROM tx_other t;
SELECT abs(fraud_score(t) - fraud_score('{"amount": 420, "country": "NG", "online": true,
        "created_at": "2024-05-05", "mcc": "7995"}'::jsonb)) < 1e-12 AS int_char_date_numeric
  FROM tx_other2 t;
-- timestamptz reads the hour in the session time zone, as extract(hour ...) does.
SET TIME ZONE 'Asia/Tokyo';
SELECT extract(hour FROM created_at) AS tokyo_hour,
       abs(fraud_score(t) - fraud_score(jsonb_build_object('amount', 420.5, 'country', 'NG', 'online', true,
           'created_at', to_char(created_at, 'YYYY-MM-DD HH24:MI:SS'), 'mcc', '7995'))) < 1e-12 AS session_zone
  FROM tx_other t;
RESET TIME ZONE;

-- A row value built on the fly, and a named model.
SELECT fraud_score(r, 'default') = fraud_score(r) AS named_same
  FROM (SELECT 10.0 AS amount, 'US' AS country, true AS online, now()::timestamp AS created_at, 5411 AS mcc) AS r;

-- Bad rows: a missing feature column, unusable types, non-finite values.
CREATE TABLE tx_missing (amount numeric, country text, online boolean, created_at timestamp);
INSERT INTO tx_missing VALUES (1, 'US', true, now());
SELECT pg_temp.outcome('SELECT fraud_score(t) FROM tx_missing t');
CREATE TABLE tx_badtype (amount boolean, country text, online boolean, created_at timestamp, mcc int);
INSERT INTO tx_badtype VALUES (true, 'US', true, now(), 1);
SELECT pg_temp.outcome('SELECT fraud_score(t) FROM tx_badtype t');
CREATE TABLE tx_badtime (amount numeric, country text, online boolean, created_at boolean, mcc int);
INSERT INTO tx_badtime VALUES (1, 'US', true, true, 1);
SELECT pg_temp.outcome('SELECT fraud_score(t) FROM tx_badtime t');
CREATE TABLE tx_ambiguous (amount numeric, "AMOUNT" numeric, country text, online boolean, created_at timestamp, mcc int);
INSERT INTO tx_ambiguous VALUES (1, 2, 'US', true, now(), 1);
SELECT round(fraud_score(t)::numeric, 6) = round(fraud_score(jsonb_build_object('amount', 1, 'country', 'US', 'online', true,
       'created_at', created_at, 'mcc', 1))::numeric, 6) AS exact_name_wins FROM tx_ambiguous t;
CREATE TABLE tx_nonfinite (amount float8, country text, online boolean, created_at timestamp, mcc int);
INSERT INTO tx_nonfinite VALUES ('NaN', 'US', true, now(), 1);
SELECT pg_temp.outcome('SELECT fraud_score(t) FROM tx_nonfinite t');
UPDATE tx_nonfinite SET amount = 'Infinity';
SELECT pg_temp.outcome('SELECT fraud_score(t) FROM tx_nonfinite t');
UPDATE tx_nonfinite SET amount = 1, created_at = 'infinity';
SELECT pg_temp.outcome('SELECT fraud_score(t) FROM tx_nonfinite t');
-- Non-row arguments are refused.
SELECT pg_temp.outcome('SELECT fraud_score(42)');
SELECT pg_temp.outcome('SELECT fraud_score(now())');

-- A table whose row type changes between calls is re-planned.
ALTER TABLE tx_missing ADD COLUMN mcc int;
SELECT fraud_score(t) IS NOT NULL AS replanned FROM tx_missing t;

-- Leave the database as the next file expects it.
DELETE FROM fraud_models;
