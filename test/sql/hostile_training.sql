-- The bad-input catalogue, training (train_fraud_model): at least 40 hostile inputs (types, sizes,
-- NaN/Infinity/1e400, huge and deep values, unicode and empty keys, NULLs); each gets a result
-- or an error with a SQLSTATE, none crashes the server.
\i test/hostile_setup.psql

-- Training options: 48 hostile option objects.
CREATE TABLE tx AS SELECT i::numeric AS amount, (ARRAY['US', 'NG'])[1 + i % 2] AS country, i % 3 = 0 AS is_fraud
  FROM generate_series(1, 500) i;
CREATE TABLE opts AS
SELECT jsonb_build_object(k, v::jsonb) AS o
  FROM unnest(ARRAY['features', 'exclude', 'l2', 'class_weight', 'max_iter', 'tol', 'holdout', 'seed', 'threshold',
                    'activate', 'max_categories', 'warm_start_rows']) AS k,
       unnest(ARRAY['null', '"x"', '-1', '[1]']) AS v;
SELECT count(*) >= 40 AS at_least_40 FROM opts;
SELECT r AS outcome, count(*) FROM (SELECT pg_temp.state(format('SELECT train_fraud_model(%L, %L, %L, %L)', 'tx', 'is_fraud', 'opt', o)) AS r
                                      FROM opts) q GROUP BY r ORDER BY r;
SELECT pg_temp.state($$SELECT train_fraud_model('tx', NULL)$$) AS null_label,
       pg_temp.state($$SELECT train_fraud_model('tx', 'is_fraud', NULL)$$) AS null_model,
       pg_temp.state($$SELECT train_fraud_model('tx', 'is_fraud', 'x', NULL)$$) AS null_options,
       pg_temp.state($$SELECT train_fraud_model('pg_class', 'relname', 'x')$$) AS catalog_source,
       pg_temp.state($$SELECT train_fraud_model(0, 'is_fraud', 'x')$$) AS no_relation;

DROP TABLE opts, tx;
DELETE FROM fraud_models;
