-- A model records the time zone its hour_of_day and day_of_week were trained in, and scores
-- in that zone whatever the session's TimeZone: rows, jsonb with a UTC offset, the trigger.
\i test/helpers.psql
SET client_min_messages = warning;
SET TimeZone = 'UTC';

-- Fraud at night (02:00-03:59 UTC) on a third of those rows.
CREATE TABLE tz_tx (id int, amount numeric, created_at timestamptz, is_fraud boolean);
INSERT INTO tz_tx SELECT i, 10 + i % 50, '2024-03-01 00:00+00'::timestamptz + i * interval '17 minutes',
       extract(hour FROM ('2024-03-01 00:00+00'::timestamptz + i * interval '17 minutes') AT TIME ZONE 'UTC') IN (2, 3)
       AND i % 3 = 0
  FROM generate_series(1, 3000) i;
SELECT document ->> 'time_zone' AS time_zone FROM train_fraud_model('tz_tx', 'is_fraud', 'tz', '{"exclude": ["id"]}');
CREATE TEMP TABLE utc_scores AS
  SELECT id, fraud_score(t, 'tz') AS row_score, fraud_score(to_jsonb(t), 'tz') AS jsonb_score FROM tz_tx t WHERE id <= 300;
-- The same rows scored from a session in Tokyo (to_jsonb now writes +09:00 times).
SET TimeZone = 'Asia/Tokyo';
SELECT count(*) AS rows,
       count(*) FILTER (WHERE abs(u.row_score - fraud_score(t, 'tz')) > 1e-12) AS row_differs,
       count(*) FILTER (WHERE abs(u.jsonb_score - fraud_score(to_jsonb(t), 'tz')) > 1e-12) AS jsonb_differs,
       count(*) FILTER (WHERE abs(u.row_score - u.jsonb_score) > 1e-12) AS row_vs_jsonb_differs
  FROM utc_scores u JOIN tz_tx t USING (id);

-- Worked by hand: a model trained in Tokyo time with +2 at 03:00 and an intercept of -2
-- scores 0.5 at 03:xx Tokyo (18:xx UTC) and sigmoid(-2) = 0.119203 otherwise, from a UTC session.
SET TimeZone = 'UTC';
SELECT version FROM fraud_import_model('{"format": "pg_fraud.model/1", "algorithm": "logistic_regression",
  "intercept": -2, "time_zone": "Asia/Tokyo",
  "features": [{"name": "created_at", "kind": "hour_of_day", "weights": {"3": 2}}]}', 'tokyo');
SELECT round(fraud_score(jsonb_build_object('created_at', '2024-03-01T18:30:00Z'), 'tokyo')::numeric, 6) AS utc_text,
       round(fraud_score(jsonb_build_object('created_at', '2024-03-01T20:30:00+02:00'), 'tokyo')::numeric, 6) AS offset_text,
       round(fraud_score(jsonb_build_object('created_at', '2024-03-01 03:30:00'), 'tokyo')::numeric, 6) AS as_written,
       round(fraud_score(jsonb_build_object('created_at', '2024-03-01T03:30:00Z'), 'tokyo')::numeric, 6) AS utc_03_30;
CREATE TABLE tz_live (id int, created_at timestamptz);
SELECT fraud_attach('tz_live', 'tokyo', '{"add_columns": true}');
INSERT INTO tz_live VALUES (1, '2024-03-01 18:30+00'), (2, '2024-03-01 03:30+00');
SET TimeZone = 'America/Los_Angeles';
INSERT INTO tz_live VALUES (3, '2024-03-01 18:30+00'), (4, '2024-03-01 03:30+00');
SELECT id, round(fraud_score::numeric, 6) AS stored, round(fraud_score(t, 'tokyo')::numeric, 6) AS row_score
  FROM tz_live t ORDER BY id;

-- The training option time_zone: hours in that zone, recorded; an unknown zone is 22023.
SET TimeZone = 'UTC';
SELECT document ->> 'time_zone' AS time_zone
  FROM train_fraud_model('tz_tx', 'is_fraud', 'tz_ny', '{"exclude": ["id"], "time_zone": "America/New_York"}');
SHOW TimeZone;
-- Its most fraudulent hours are New York's: 02:00-03:59 UTC is 21:00-22:59 EST before
-- 10 March and 22:00-23:59 EDT after it (26 of the 35 days), so 22 and 23; UTC's are 2 and 3.
SELECT m.name, (SELECT string_agg(k, ',' ORDER BY k::int) FROM (SELECT w.key AS k FROM jsonb_each(f -> 'weights') w
                                            ORDER BY w.value::float8 DESC LIMIT 2) top) AS top_hours
  FROM fraud_models m, jsonb_array_elements(m.document -> 'features') f
 WHERE m.name IN ('tz', 'tz_ny') AND f ->> 'kind' = 'hour_of_day' ORDER BY m.name;
SELECT pg_temp.outcome($$SELECT train_fraud_model('tz_tx', 'is_fraud', 'tz_bad', '{"time_zone": "Mars/Olympus"}')$$);
SELECT pg_temp.outcome($$SELECT fraud_import_model('{"format": "pg_fraud.model/1", "algorithm": "logistic_regression",
  "intercept": 0, "time_zone": "Mars/Olympus", "features": []}', 'bad_zone')$$);
SELECT pg_temp.outcome($$SELECT fraud_score('{}', 'bad_zone')$$);

-- Drift over a short window: calendar features are not compared over part of their cycle
-- (under a week of rows for day_of_week, under a day for hour_of_day) instead of always
-- reading as a shift; over the whole training span they are compared.
CREATE TABLE tz_two_days AS SELECT * FROM tz_tx WHERE created_at < '2024-03-03 00:00+00';
CREATE TABLE tz_half_day AS SELECT * FROM tz_tx WHERE created_at < '2024-03-01 12:00+00';
SELECT 'two days' AS window, feature, band FROM fraud_drift('tz_two_days', 'tz') WHERE feature LIKE 'created_at%'
UNION ALL
SELECT 'half a day', feature, band FROM fraud_drift('tz_half_day', 'tz') WHERE feature LIKE 'created_at%'
UNION ALL
SELECT 'training span', feature, band FROM fraud_drift('tz_tx', 'tz') WHERE feature LIKE 'created_at%'
ORDER BY 1, 2;
DROP TABLE tz_two_days, tz_half_day;

SELECT fraud_detach('tz_live');
DROP TABLE tz_tx, tz_live;
DELETE FROM fraud_models;
