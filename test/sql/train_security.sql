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

-- A BI role reads the views with SELECT on them alone: no SELECT on the attached (PII) tables,
-- none on fraud_models; one table it may not read breaks nothing. Without the view grant the
-- functions behind the views refuse (42501). An analyst evaluates, checks drift and chooses a
-- threshold on a table it may read without SELECT on fraud_models.
CREATE ROLE regress_fraud_bi;
CREATE ROLE regress_fraud_reader;
SELECT version FROM fraud_import_model('{"format": "pg_fraud.model/1", "algorithm": "logistic_regression",
  "intercept": -3, "features": [{"name": "amount", "kind": "numeric", "weight": 0.01}]}', 'bi');
CREATE TABLE pii_tx (id bigserial PRIMARY KEY, card_number text, amount numeric, created_at timestamptz, is_fraud boolean);
CREATE TABLE pii_tx2 (LIKE pii_tx);
SELECT fraud_attach('pii_tx', 'bi', '{"add_columns": true}'), fraud_attach('pii_tx2', 'bi', '{"add_columns": true}');
INSERT INTO pii_tx (card_number, amount, created_at, is_fraud)
SELECT '4111', i, '2024-03-01'::date + i % 3, i > 800 FROM generate_series(1, 1000) i;
INSERT INTO pii_tx2 SELECT * FROM pii_tx WHERE id <= 10;
GRANT SELECT ON fraud_daily_activity, fraud_flag_reasons, fraud_model_versions, fraud_scoring_failures_daily,
      fraud_daily_score_histogram TO regress_fraud_bi;
GRANT SELECT ON pii_tx TO regress_fraud_reader;
-- The README's application grant, with a bigserial key: INSERT and the sequence.
GRANT INSERT ON pii_tx TO regress_fraud_reader;
GRANT USAGE ON SEQUENCE pii_tx_id_seq TO regress_fraud_reader;
SET ROLE regress_fraud_bi;
SELECT table_name, sum(scored) AS scored, sum(flagged) AS flagged FROM fraud_daily_activity GROUP BY 1 ORDER BY 1;
SELECT table_name, reason, flagged FROM fraud_flag_reasons ORDER BY 1, 2;
SELECT table_name, sum(rows) AS scored FROM fraud_daily_score_histogram GROUP BY 1 ORDER BY 1;
SELECT name, version, active FROM fraud_model_versions WHERE name = 'bi';
SELECT pg_temp.outcome($$SELECT count(*) FROM pii_tx$$);
SELECT pg_temp.outcome($$SELECT count(*) FROM fraud_models$$);
RESET ROLE;
SET ROLE regress_fraud_reader;
SELECT pg_temp.outcome($$SELECT count(*) FROM fraud_daily_activity$$);
SELECT pg_temp.outcome($$SELECT count(*) FROM fraud_daily_score_histogram$$);
SELECT pg_temp.outcome($$SELECT count(*) FROM fraud_activity()$$);
SELECT pg_temp.outcome($$SELECT count(*) FROM fraud_reasons()$$);
SELECT (fraud_evaluate('pii_tx', 'is_fraud', 'bi') ->> 'rows')::int AS evaluated_rows;
SELECT count(*) AS drift_features FROM fraud_drift('pii_tx', 'bi');
SELECT fraud_choose_threshold('pii_tx', '{"strategy": "alert_rate", "target": 0.5}', 'is_fraud', 'bi') > 0 AS chose_threshold;
SELECT pg_temp.outcome($$SELECT fraud_evaluate('pii_tx2', 'is_fraud', 'bi')$$);
INSERT INTO pii_tx (card_number, amount, created_at) VALUES ('4111', 950, now()) RETURNING is_flagged;
RESET ROLE;
SELECT count(*) AS detached FROM (SELECT fraud_detach(tab) FROM fraud_attachments) d;
DROP TABLE pii_tx, pii_tx2;
REVOKE ALL ON fraud_daily_activity, fraud_flag_reasons, fraud_model_versions, fraud_scoring_failures_daily,
    fraud_daily_score_histogram FROM regress_fraud_bi;
DROP ROLE regress_fraud_bi, regress_fraud_reader;

DELETE FROM fraud_models;
DROP TABLE secret_tx, shared_tx;
REVOKE ALL ON fraud_models FROM regress_fraud_analyst;
REVOKE ALL ON SEQUENCE fraud_models_id_seq FROM regress_fraud_analyst;
REVOKE ALL ON FUNCTION train_fraud_model(regclass, name, text, jsonb), fraud_import_model(jsonb, text, boolean)
  FROM regress_fraud_analyst;
DROP ROLE regress_fraud_analyst, regress_fraud_nobody;
