-- The bad-input catalogue, lifecycle (fraud_set_threshold, fraud_activate_model,
-- fraud_evaluate, fraud_choose_threshold, fraud_drift): at least 40 hostile inputs each
-- family-wide (NaN/Infinity/out-of-range numbers, NULLs, empty, unknown and huge names,
-- unicode, sources that are not tables or lack the label, hostile strategy objects); each gets
-- a result or an error with a SQLSTATE, none crashes the server.
\i test/hostile_setup.psql

CREATE TABLE labelled AS
SELECT (i * 37 % 500)::numeric AS amount, (ARRAY['US', 'NG'])[1 + i % 2] AS country, i % 2 = 0 AS online,
       timestamptz '2024-01-01' + i * interval '1 hour' AS created_at, i % 5 = 0 AS is_fraud,
       (ARRAY['y', 'n', 'maybe'])[1 + i % 3] AS text_label, 'x' AS no_label
  FROM generate_series(1, 300) i;
CREATE TABLE empty_source (LIKE labelled);
CREATE VIEW null_labels AS SELECT amount, country, online, created_at, NULL::boolean AS is_fraud FROM labelled;

-- Thresholds and activation: 8 hostile numbers x 6 hostile model names, then versions.
CREATE TABLE names AS SELECT n FROM unnest(ARRAY['default', NULL, '', 'nope', 'ü€😀', repeat('m', 10000)]) AS n;
CREATE TABLE thresholds AS
SELECT t FROM unnest(ARRAY['NaN', 'Infinity', '-Infinity', '-0.1', '1.0001', '0', '1', NULL]::float8[]) AS t;
SELECT count(*) >= 40 AS at_least_40 FROM names, thresholds;
SELECT r AS outcome, count(*) FROM (SELECT pg_temp.state(format('SELECT fraud_set_threshold(%L, %L)', n, t)) AS r
                                      FROM names, thresholds) q GROUP BY r ORDER BY r;
SELECT threshold FROM fraud_models WHERE name = 'default' AND active;
SELECT r AS outcome, count(*) FROM (SELECT pg_temp.state(format('SELECT fraud_activate_model(%L, %L)', n, v)) AS r
                                      FROM names, unnest(ARRAY[NULL, 0, -1, 2, 2147483647]) AS v) q
 GROUP BY r ORDER BY r;
SELECT version, active FROM fraud_models WHERE name = 'default';

-- Evaluation, threshold choice and drift over hostile sources and labels (a NULL label is the
-- model's own).
CREATE TABLE sources AS
SELECT s, l FROM unnest(ARRAY['labelled', 'empty_source', 'null_labels', 'pg_class', '0', NULL]) AS s,
                 unnest(ARRAY['is_fraud', 'text_label', 'no_label', 'amount', 'nope', NULL]) AS l;
SELECT count(*) >= 36 AS at_least_36 FROM sources;
SELECT r AS outcome, count(*) FROM (SELECT pg_temp.state(format('SELECT fraud_evaluate(%L::regclass, %L)', s, l)) AS r
                                      FROM sources) q GROUP BY r ORDER BY r;
SELECT r AS outcome, count(*) FROM (SELECT pg_temp.state(format('SELECT * FROM fraud_drift(%L::regclass, %L)', s, n)) AS r
                                      FROM unnest(ARRAY['labelled', 'empty_source', 'null_labels', 'pg_class', '0', NULL]) AS s,
                                           names) q GROUP BY r ORDER BY r;
SELECT r AS outcome, count(*) FROM (
  SELECT pg_temp.state(format('SELECT fraud_choose_threshold(%L, %L)', 'labelled', st)) AS r
    FROM unnest(ARRAY['null', '[]', '"f1"', '{}', '{"strategy": "nope"}', '{"strategy": "precision"}',
                      '{"strategy": "precision", "target": "NaN"}', '{"strategy": "precision", "target": 2}',
                      '{"strategy": "recall", "target": -1}', '{"strategy": "alert_rate", "target": 1e400}',
                      '{"strategy": "alert_rate", "target": 0}', '{"strategy": "f1", "extra": 1}',
                      '{"strategy": null}', '{"strategy": ["f1"]}', '{"strategy": "recall", "target": null}']::jsonb[]) AS st
  UNION ALL SELECT pg_temp.state($$SELECT fraud_choose_threshold('labelled', NULL)$$)) q
 GROUP BY r ORDER BY r;
-- The internal aggregate behind them, called directly with NULLs (sqlsmith found a NULL
-- request crashing it).
SELECT pg_temp.state($$SELECT fraud_monitor(t, 'default', 'is_fraud', NULL) FROM labelled t$$) AS null_request,
       pg_temp.state($$SELECT fraud_monitor(t, NULL, NULL, '{"mode": "drift"}') FROM labelled t$$) AS null_model,
       pg_temp.state($$SELECT fraud_monitor(NULL::labelled, 'default', '', '{"mode": "drift"}') FROM labelled t$$) AS null_rows,
       pg_temp.state($$SELECT fraud_monitor(t, 'default', 'is_fraud', '[]') FROM labelled t$$) AS array_request;
-- Every score that did come back stays a probability; the active model is intact.
SELECT fraud_score('{"amount": 450, "country": "NG"}') BETWEEN 0 AND 1 AS still_scores;

DROP VIEW null_labels;
DROP TABLE labelled, empty_source, names, thresholds, sources;
DELETE FROM fraud_models;
