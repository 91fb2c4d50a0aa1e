-- Training is SECURITY INVOKER: the caller's table privileges and row-level security apply.
SET client_min_messages = warning;
\i test/helpers.psql
CREATE ROLE regress_fraud_analyst;
CREATE ROLE regress_fraud_nobody;
GRANT EXECUTE ON FUNCTION train_fraud_model(regclass, name, text, jsonb),
                          fraud_import_model(jsonb, text, boolean) TO regress_fraud_analyst;
GRANT SELECT, INSERT, UPDATE ON fraud_models TO regress_fraud_analyst;
GRANT USAGE ON SEQUENCE fraud_models_id_seq TO regress_fraud_analyst;

CREATE TABLE secret_tx AS
SELECT i AS amount, (i % 3 = 0) AS is_fraud, CASE WHEN i % 2 = 0 THEN 'east' ELSE 'west' END AS region
  FROM generate_series(1, 600) i;
CREATE TABLE shared_tx AS SELECT * FROM secret_tx;
GRANT SELECT ON shared_tx TO regress_fraud_analyst;
ALTER TABLE shared_tx ENABLE ROW LEVEL SECURITY;
CREATE POLICY east_only ON shared_tx FOR SELECT TO regress_fraud_analyst USING (region = 'east');

SET ROLE regress_fraud_analyst;
-- No SELECT on the source: 42501, and nothing is written.
SELECT pg_temp.outcome($$SELECT train_fraud_model('secret_tx', 'is_fraud', 'stolen')$$);
-- Row-level security: only the rows the analyst may see are trained on.
SELECT name, (document -> 'training' ->> 'rows')::int AS rows_trained_on, created_by
  FROM train_fraud_model('shared_tx', 'is_fraud', 'east');
RESET ROLE;
SELECT count(*) AS visible_to_analyst FROM shared_tx WHERE region = 'east';
SELECT count(*) AS stolen_models FROM fraud_models WHERE name = 'stolen';

-- A role with no grants can neither train nor import.
SET ROLE regress_fraud_nobody;
SELECT pg_temp.outcome($$SELECT train_fraud_model('shared_tx', 'is_fraud', 'nobody')$$);
SELECT pg_temp.outcome($$SELECT fraud_import_model('{}', 'nobody')$$);
RESET ROLE;

DELETE FROM fraud_models;
DROP TABLE secret_tx, shared_tx;
REVOKE ALL ON fraud_models FROM regress_fraud_analyst;
REVOKE ALL ON SEQUENCE fraud_models_id_seq FROM regress_fraud_analyst;
REVOKE ALL ON FUNCTION train_fraud_model(regclass, name, text, jsonb), fraud_import_model(jsonb, text, boolean)
  FROM regress_fraud_analyst;
DROP ROLE regress_fraud_analyst, regress_fraud_nobody;
