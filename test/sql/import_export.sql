-- fraud_import_model validates and stores versions; fraud_export_model returns them unchanged.
\i test/helpers.psql

CREATE TABLE docs (label text PRIMARY KEY, doc jsonb);
INSERT INTO docs VALUES ('good', '{
  "format": "pg_fraud.model/1", "algorithm": "logistic_regression",
  "intercept": -3.2, "threshold": 0.41, "label": "is_fraud",
  "features": [
    {"name": "amount", "kind": "numeric", "mean": 120.5, "scale": 300.2, "weight": 0.8},
    {"name": "country", "kind": "categorical", "weights": {"US": 0.1, "NG": 1.2}, "default_weight": -0.05},
    {"name": "online", "kind": "boolean", "weight": 0.3, "impute": 0.25},
    {"name": "created_at", "kind": "hour_of_day", "weights": {"2": 0.9, "3": 1.1}},
    {"name": "created_at", "kind": "day_of_week", "weights": {"0": 0.2}, "default_weight": -0.1}],
  "metrics": {"roc_auc": 0.91}, "training": {"source": "public.tx", "options": {"l2": 1}}}');

-- Import: version 1, active, with the columns filled from the document.
SELECT name, version, active, label, algorithm, intercept, threshold, coefficients, metrics, options, source
  FROM fraud_import_model((SELECT doc FROM docs WHERE label = 'good'), 'default');

-- Export -> import -> export is identical.
SELECT fraud_export_model('default') = (SELECT doc FROM docs WHERE label = 'good') AS same_as_input;
SELECT version FROM fraud_import_model(fraud_export_model('default'), 'default');
SELECT fraud_export_model('default') = fraud_export_model('default', 1) AS identical_round_trip;
SELECT name, version, active FROM fraud_models ORDER BY version;

-- activate => false stores a version without switching to it.
SELECT version, active FROM fraud_import_model(fraud_export_model('default'), 'default', false);
SELECT version FROM fraud_models WHERE name = 'default' AND active;

-- Unknown models and versions.
SELECT pg_temp.outcome($$SELECT fraud_export_model('nope')$$);
SELECT pg_temp.outcome($$SELECT fraud_export_model('default', 42)$$);

-- Malformed documents: each refused with 22023 and a message naming the problem.
INSERT INTO docs
SELECT 'missing ' || k, (SELECT doc FROM docs WHERE label = 'good') - k
  FROM unnest(ARRAY['format', 'algorithm', 'intercept', 'features']) AS k;
INSERT INTO docs
SELECT l, jsonb_set((SELECT doc FROM docs WHERE label = 'good'), p, v) FROM (VALUES
  ('unknown format', '{format}'::text[], '"pg_fraud.model/2"'::jsonb),
  ('other algorithm', '{algorithm}', '"xgboost"'),
  ('intercept as text', '{intercept}', '"-3.2"'),
  ('threshold above 1', '{threshold}', '1.5'),
  ('features not array', '{features}', '{}'),
  ('feature not object', '{features,0}', '7'),
  ('feature without name', '{features,0,name}', '""'),
  ('unknown kind', '{features,0,kind}', '"fancy"'),
  ('weight as string', '{features,0,weight}', '"0.8"'),
  ('zero scale', '{features,0,scale}', '0'),
  ('negative scale', '{features,0,scale}', '-1'),
  ('huge weight', '{features,0,weight}', '1e400'),
  ('category weight null', '{features,1,weights,US}', 'null'),
  ('weights not object', '{features,1,weights}', '[1]'),
  ('hour out of range', '{features,3,weights,24}', '1'),
  ('impute out of range', '{features,2,impute}', '2'),
  ('metrics not object', '{metrics}', '[]')) AS t(l, p, v);
INSERT INTO docs SELECT 'duplicate feature',
  jsonb_set((SELECT doc FROM docs WHERE label = 'good'), '{features}',
            ((SELECT doc FROM docs WHERE label = 'good') -> 'features') || '[{"name": "amount", "kind": "numeric", "weight": 1}]');
INSERT INTO docs VALUES ('not an object', '[1, 2]'), ('scalar', '"model"'), ('empty object', '{}');
SELECT label, pg_temp.outcome(format('SELECT fraud_import_model(%L, %L)', doc, 'bad'))
  FROM docs WHERE label <> 'good' ORDER BY label;
SELECT count(*) AS bad_versions_stored FROM fraud_models WHERE name = 'bad';

-- NULL arguments and an empty model name.
SELECT pg_temp.outcome($$SELECT fraud_import_model(NULL, 'x')$$);
SELECT pg_temp.outcome($$SELECT fraud_import_model((SELECT doc FROM docs WHERE label = 'good'), '')$$);

-- A document with no features is valid: every transaction scores sigmoid(intercept).
SELECT version FROM fraud_import_model('{"format": "pg_fraud.model/1", "algorithm": "logistic_regression",
                                         "intercept": 0, "features": []}', 'constant');
SELECT fraud_score('{"anything": 1}', 'constant');

-- Leave the database as the next file expects it.
DELETE FROM fraud_models;
