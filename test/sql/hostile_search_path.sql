-- A hostile schema earlier in search_path (an operator = and functions named like the ones
-- pg_fraud uses) is never called by any pg_fraud function or by the objects it creates.
SET client_min_messages = warning;
CREATE SCHEMA evil;
CREATE FUNCTION evil.trap(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'evil operator called'; END $$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.trap);
CREATE FUNCTION evil.jsonb_set(jsonb, text[], jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'evil jsonb_set called'; END $$;
CREATE FUNCTION evil.hashtext(text) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'evil hashtext called'; END $$;
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'evil now called'; END $$;
CREATE FUNCTION evil.fraud_model_validate(jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'evil fraud_model_validate called'; END $$;
CREATE FUNCTION evil.fraud_train_pass(anyelement, text) RETURNS bytea LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'evil fraud_train_pass called'; END $$;
CREATE FUNCTION evil.fraud_flag_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'evil trigger called'; END $$;
GRANT USAGE ON SCHEMA evil TO PUBLIC;

SET search_path = evil, public, pg_catalog;
SELECT version FROM fraud_import_model('{"format": "pg_fraud.model/1", "algorithm": "logistic_regression",
  "intercept": -2, "features": [{"name": "amount", "kind": "numeric", "weight": 0.01},
                                {"name": "country", "kind": "categorical", "weights": {"NG": 1}}]}', 'default');
SELECT fraud_export_model('default') ->> 'format' AS exported;
SELECT round(fraud_score('{"amount": 100, "country": "NG"}'::jsonb)::numeric, 6) AS score;
SELECT threshold FROM fraud_set_threshold('default', 0.4);
CREATE TABLE public.h_tx AS SELECT i::numeric AS amount, CASE WHEN i % 2 = 0 THEN 'NG' ELSE 'US' END AS country,
                                   i % 3 = 0 AS is_fraud FROM generate_series(1, 300) i;
SELECT version FROM train_fraud_model('public.h_tx');
SELECT version, active FROM fraud_activate_model('default', 1);
SELECT (fraud_evaluate('public.h_tx') ->> 'rows')::int AS evaluated;
SELECT count(*) AS drift_rows FROM fraud_drift('public.h_tx');
SELECT fraud_choose_threshold('public.h_tx', '{"strategy": "f1"}') BETWEEN 0 AND 1 AS chose;
CREATE TABLE public.h_live (id int PRIMARY KEY, amount numeric, country text);
SELECT fraud_attach('public.h_live', 'default', '{"add_columns": true, "notify": "alerts"}');
INSERT INTO public.h_live (id, amount, country) VALUES (1, 500, 'NG');
SELECT is_flagged IS NOT NULL AS scored FROM public.h_live;
SELECT count(*) AS activity_rows FROM fraud_daily_activity;
SELECT fraud_detach('public.h_live');
SELECT count(*) AS generated FROM fraud_generate_transactions(10);
RESET search_path;

DROP SCHEMA evil CASCADE;
DROP TABLE h_tx, h_live;
DELETE FROM fraud_models;
