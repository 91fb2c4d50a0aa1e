-- The bad-input catalogue, model documents (fraud_import_model, fraud_validate_model): at least 40 hostile inputs (types, sizes,
-- NaN/Infinity/1e400, huge and deep values, unicode and empty keys, NULLs); each gets a result
-- or an error with a SQLSTATE, none crashes the server.
\i test/hostile_setup.psql

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

DROP TABLE docs;
DELETE FROM fraud_models;
