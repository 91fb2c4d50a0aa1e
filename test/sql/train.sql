-- train_fraud_model: column kinds, label forms, options, bad input, sources of every kind.
-- Progress NOTICEs carry timings; the training record in the document is checked instead.
SET client_min_messages = warning;
\i test/helpers.psql
CREATE TYPE channel AS ENUM ('web', 'pos', 'app');
CREATE TABLE tx AS
SELECT i AS id,
       round((pg_temp.u(i, 1) * 500)::numeric, 2) AS amount,
       (ARRAY['US', 'GB', 'NG', 'FR'])[1 + (pg_temp.u(i, 2) * 4)::int % 4] AS country,
       (ARRAY['web', 'pos', 'app'])[1 + (pg_temp.u(i, 3) * 3)::int % 3]::channel AS channel,
       pg_temp.u(i, 4) < 0.3 AS new_device,
       timestamp '2024-01-01' + (pg_temp.u(i, 5) * 30 * 86400) * interval '1 second' AS created_at,
       '{"note": 1}'::jsonb AS extra,
       false AS is_fraud
  FROM generate_series(1, 4000) i;
UPDATE tx SET is_fraud = pg_temp.u(id, 6) < 1 / (1 + exp(-(-3 + amount / 150 + (country = 'NG')::int * 1.5
                                                       + new_device::int + (extract(hour FROM created_at) < 5)::int)));
SELECT count(*) AS rows, sum(is_fraud::int) AS frauds FROM tx;

-- A model from every usable column; jsonb is left out with a notice, id is numeric.
SELECT name, version, active, label, algorithm, source, threshold > 0 AND threshold < 1 AS threshold_ok,
       (metrics ->> 'roc_auc')::float8 > 0.75 AS learns, metrics ->> 'in_sample' AS in_sample,
       (SELECT array_agg(f ->> 'name' || ':' || (f ->> 'kind') ORDER BY f ->> 'name', f ->> 'kind')
          FROM jsonb_array_elements(document -> 'features') f) AS features
  FROM train_fraud_model('tx', options => '{"exclude": ["id"]}');
SELECT document -> 'training' -> 'rows' AS rows, document -> 'training' -> 'null_labels' AS null_labels,
       document -> 'training' -> 'skipped_columns' AS skipped, document -> 'training' -> 'passes' AS passes,
       document -> 'training' -> 'in_memory' AS in_memory,
       (document -> 'training' ->> 'holdout_rows')::int BETWEEN 700 AND 900 AS holdout_about_20_percent,
       document -> 'training' -> 'converged' AS converged
  FROM fraud_models WHERE name = 'default' AND version = 1;
-- The stored metrics: ROC and PR AUC, log-loss, and a confusion matrix that adds up.
SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(metrics) k) AS metric_keys,
       (metrics -> 'confusion' ->> 'tp')::int + (metrics -> 'confusion' ->> 'fp')::int +
       (metrics -> 'confusion' ->> 'tn')::int + (metrics -> 'confusion' ->> 'fn')::int = (metrics ->> 'rows')::int AS adds_up
  FROM fraud_models WHERE name = 'default' AND version = 1;
-- The trained model scores rows of the table at once.
SELECT count(*) = 4000 AS scored, avg(fraud_score(t)) BETWEEN 0.05 AND 0.5 AS plausible FROM tx t;

-- Label forms: 0/1 integers, Y/N, yes/no and true/false text; NULL labels are skipped and counted.
CREATE TABLE tx_int AS SELECT amount, country, is_fraud::int AS label FROM tx;
CREATE TABLE tx_yn AS SELECT amount, country, CASE WHEN is_fraud THEN 'Y' ELSE 'N' END AS label FROM tx;
CREATE TABLE tx_words AS SELECT amount, country, CASE WHEN is_fraud THEN 'yes' ELSE 'no' END AS label FROM tx;
UPDATE tx_words SET label = NULL WHERE amount < 10;
SELECT t, (SELECT (document -> 'training' ->> 'null_labels')::int FROM train_fraud_model(t::regclass, 'label', 'labels'))
  FROM unnest(ARRAY['tx_int', 'tx_yn', 'tx_words']) AS t;
SELECT count(*) AS expected_null_labels FROM tx_words WHERE label IS NULL;
-- The same labels in any spelling give the same model.
SELECT count(DISTINCT round((document ->> 'intercept')::numeric, 9)) AS distinct_intercepts
  FROM fraud_models WHERE name = 'labels' AND version <= 2;

-- Bad labels and label columns.
UPDATE tx_yn SET label = 'maybe' WHERE amount < 5;
-- An exclude entry that names no column, and a column both in features and exclude, are
-- refused; an identifier used as a number gets a NOTICE (exclude it, or name it to keep it).
SELECT pg_temp.outcome($$SELECT train_fraud_model('tx', 'is_fraud', 'bad', '{"exclude": ["ID"]}')$$);
SELECT pg_temp.outcome($$SELECT train_fraud_model('tx', 'is_fraud', 'bad', '{"features": ["amount", "id"], "exclude": ["id"]}')$$);
-- (The NOTICE names the column; the training record lists them too.)
CREATE TEMP TABLE ids AS SELECT id, id * 7 AS policy_number, amount, is_fraud FROM tx;
SELECT document -> 'training' -> 'identifier_columns' AS identifiers, jsonb_array_length(document -> 'features') AS features
  FROM train_fraud_model('ids', 'is_fraud', 'ids', '{"max_iter": 1}');
SELECT document -> 'training' -> 'identifier_columns' AS identifiers, jsonb_array_length(document -> 'features') AS features
  FROM train_fraud_model('ids', 'is_fraud', 'ids', '{"max_iter": 1, "features": ["amount", "id"]}');
DELETE FROM fraud_models WHERE name = 'ids';
SELECT pg_temp.outcome($$SELECT train_fraud_model('tx_yn', 'label', 'bad')$$);
SELECT pg_temp.outcome($$SELECT train_fraud_model('tx', 'no_such_column', 'bad')$$);
SELECT pg_temp.outcome($$SELECT train_fraud_model('tx', 'extra', 'bad')$$);
SELECT pg_temp.outcome($$SELECT train_fraud_model('tx', 'created_at', 'bad')$$);

-- Data that cannot give a model.
CREATE TABLE empty_tx (amount numeric, is_fraud boolean);
SELECT pg_temp.outcome($$SELECT train_fraud_model('empty_tx', 'is_fraud', 'bad')$$);
CREATE TABLE one_class AS SELECT amount, false AS is_fraud FROM tx;
SELECT pg_temp.outcome($$SELECT train_fraud_model('one_class', 'is_fraud', 'bad')$$);
CREATE TABLE no_features AS SELECT extra, is_fraud FROM tx;
SELECT pg_temp.outcome($$SELECT train_fraud_model('no_features', 'is_fraud', 'bad')$$);
CREATE TABLE only_nulls AS SELECT amount, NULL::boolean AS is_fraud FROM tx;
SELECT pg_temp.outcome($$SELECT train_fraud_model('only_nulls', 'is_fraud', 'bad')$$);
SELECT count(*) AS bad_models_stored FROM fraud_models WHERE name = 'bad';

-- Options: unknown, out of range, wrong types, unknown columns.
SELECT o, pg_temp.outcome(format('SELECT train_fraud_model(%L, %L, %L, %L)', 'tx', 'is_fraud', 'bad', o))
  FROM unnest(ARRAY['{"l3": 1}', '{"holdout": 1.5}', '{"l2": -1}', '{"max_iter": "ten"}',
                    '{"features": ["nope"]}', '{"features": ["extra"]}', '{"features": ["is_fraud"]}',
                    '{"threshold": {"strategy": "precision"}}', '{"threshold": {"strategy": "magic"}}',
                    '{"class_weight": "heavy"}', '[]']) AS o;
SELECT pg_temp.outcome($$SELECT train_fraud_model('tx', 'is_fraud', '')$$);
SELECT pg_temp.outcome($$SELECT train_fraud_model(NULL, 'is_fraud', 'x')$$);

-- Awkward columns: constant, collinear, an identifier with a value per row, 100,000 distinct texts.
CREATE TABLE awkward AS
SELECT amount, amount * 2 AS amount_twice, 7 AS constant, 'id-' || id AS identifier,
       'v' || (pg_temp.u(id, 9) * 100000)::int AS wide_text, is_fraud
  FROM tx;
INSERT INTO awkward
SELECT pg_temp.u(i, 1) * 500, pg_temp.u(i, 1) * 1000, 7, 'id-x' || i,
       CASE WHEN pg_temp.u(i, 10) < 0.5 THEN 'common' || (pg_temp.u(i, 11) * 20)::int ELSE 'w' || i END,
       pg_temp.u(i, 8) < 0.1
  FROM generate_series(1, 96000) i;
SELECT count(DISTINCT wide_text) > 50000 AS wide_text_is_wide FROM awkward;
SELECT (SELECT array_agg(f ->> 'name' ORDER BY f ->> 'name') FROM jsonb_array_elements(document -> 'features') f) AS kept,
       abs((SELECT (f ->> 'weight')::float8 FROM jsonb_array_elements(document -> 'features') f WHERE f ->> 'name' = 'constant')) < 1e-9 AS constant_weight_zero,
       round(((SELECT (f ->> 'weight')::float8 FROM jsonb_array_elements(document -> 'features') f WHERE f ->> 'name' = 'amount') /
              (SELECT (f ->> 'weight')::float8 FROM jsonb_array_elements(document -> 'features') f WHERE f ->> 'name' = 'amount_twice'))::numeric, 6) AS collinear_weight_ratio,
       (SELECT count(*) FROM jsonb_object_keys((SELECT f -> 'weights' FROM jsonb_array_elements(document -> 'features') f WHERE f ->> 'name' = 'wide_text'))) AS wide_text_categories,
       document -> 'training' -> 'converged' AS converged,
       document -> 'training' -> 'notices' AS notices
  FROM train_fraud_model('awkward', 'is_fraud', 'awkward');

-- Perfectly separable data converges to finite weights thanks to L2.
CREATE TABLE separable AS SELECT i::float8 AS x, i > 500 AS is_fraud FROM generate_series(1, 1000) i;
SELECT document -> 'training' -> 'converged' AS converged, (metrics ->> 'roc_auc')::float8 AS auc,
       (document -> 'features' -> 0 ->> 'weight')::float8 BETWEEN 1 AND 1e6 AS finite_weight
  FROM train_fraud_model('separable', 'is_fraud', 'separable');

-- Views and partitioned tables are sources like tables.
CREATE VIEW tx_view AS SELECT amount, country, new_device, is_fraud FROM tx WHERE amount > 20;
SELECT version, (document -> 'training' ->> 'rows')::int = (SELECT count(*) FROM tx_view) AS all_view_rows
  FROM train_fraud_model('tx_view', 'is_fraud', 'from_view');
CREATE TABLE tx_parts (amount numeric, country text, is_fraud boolean) PARTITION BY RANGE (amount);
CREATE TABLE tx_parts_low PARTITION OF tx_parts FOR VALUES FROM (MINVALUE) TO (250);
CREATE TABLE tx_parts_high PARTITION OF tx_parts FOR VALUES FROM (250) TO (MAXVALUE);
INSERT INTO tx_parts SELECT amount, country, is_fraud FROM tx;
SELECT version, (document -> 'training' ->> 'rows')::int AS rows
  FROM train_fraud_model('tx_parts', 'is_fraud', 'from_partitions');

-- activate => false keeps the current version; holdout 0 gives in-sample metrics.
SELECT version, active, metrics -> 'in_sample' AS in_sample
  FROM train_fraud_model('tx_int', 'label', 'labels', '{"activate": false, "holdout": 0}');
SELECT version FROM fraud_models WHERE name = 'labels' AND active;

-- Threshold strategies, checked on the stored confusion matrix. The threshold is chosen on
-- the training rows and the stored figures are the holdout's: in-sample (holdout 0) they are
-- the same rows, so each target holds exactly (with a holdout: thresholds.sql).
SELECT s ->> 'strategy' AS strategy,
       CASE s ->> 'strategy'
         WHEN 'alert_rate' THEN ((m -> 'confusion' ->> 'tp')::float8 + (m -> 'confusion' ->> 'fp')::float8) / (m ->> 'rows')::float8 <= 0.05
         WHEN 'precision' THEN (m ->> 'precision')::float8 >= 0.5
         WHEN 'recall' THEN (m ->> 'recall')::float8 >= 0.9
         ELSE (m ->> 'f1')::float8 > 0 END AS target_met
  FROM unnest(ARRAY['{"strategy": "f1"}', '{"strategy": "alert_rate", "target": 0.05}',
                    '{"strategy": "precision", "target": 0.5}', '{"strategy": "recall", "target": 0.9}']::jsonb[]) AS s,
       LATERAL (SELECT metrics AS m FROM train_fraud_model('tx', 'is_fraud', 'thresholds',
                jsonb_build_object('threshold', s, 'exclude', '["id"]'::jsonb, 'holdout', 0))) t;

-- The training pass is a parallel aggregate: a parallel plan splits it across workers.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT fraud_train_pass(t, '{}') FROM awkward t;
-- Workers that see no rows hand over NULL states; combining two of them gives NULL.
EXPLAIN (COSTS OFF) SELECT fraud_train_pass(t, '{}') FROM empty_tx t;
SELECT fraud_train_pass(t, '{}') IS NULL AS no_rows_no_state FROM empty_tx t;
-- ... and training under that plan gives the same model as without it.
CREATE TEMP TABLE parallel_model AS SELECT document FROM train_fraud_model('tx', 'is_fraud', 'par', '{"exclude": ["id"]}');
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial_model AS SELECT document FROM train_fraud_model('tx', 'is_fraud', 'par', '{"exclude": ["id"]}');
SELECT abs((p.document ->> 'intercept')::float8 - (s.document ->> 'intercept')::float8) < 1e-9 AS same_intercept,
       p.document -> 'metrics' -> 'confusion' = s.document -> 'metrics' -> 'confusion' AS same_confusion
  FROM parallel_model p, serial_model s;
RESET ALL;
SET client_min_messages = warning;

-- A statement timeout stops training promptly and leaves no model behind.
SET statement_timeout = '50ms';
\set VERBOSITY terse
SELECT train_fraud_model('awkward', 'is_fraud', 'cancelled');
\set VERBOSITY default
RESET statement_timeout;
SELECT count(*) AS cancelled_models FROM fraud_models WHERE name = 'cancelled';

DELETE FROM fraud_models;

-- Rows in memory (the default when the source fits maintenance_work_mem) and passes over the
-- table reach the same model: every column kind, with a holdout and in-sample (a tight tol:
-- the default stops within about 1e-4 of the optimum, wherever the iterations started).
SET maintenance_work_mem = '64MB';
CREATE FUNCTION pg_temp.same_models(a text, b text) RETURNS TABLE (in_memory jsonb, passes jsonb, table_passes jsonb,
                                                                   weights_agree boolean, auc_agrees boolean,
                                                                   threshold_agrees boolean) AS $$
  SELECT ma.document -> 'training' -> 'in_memory', mb.document -> 'training' -> 'in_memory',
         mb.document -> 'training' -> 'passes',
         (SELECT bool_and(abs(x - y) < 1e-5 * (1 + abs(x)))
            FROM unnest(fraud_document_coefficients(ma.document), fraud_document_coefficients(mb.document)) AS c(x, y))
           AND cardinality(fraud_document_coefficients(ma.document)) = cardinality(fraud_document_coefficients(mb.document)),
         -- logits equal to the last bits can fall in neighbouring score bins (0.005 wide): a
         -- handful of the holdout's rows (15 copies of each row here, drawn apart) move the AUC
         -- by ~1e-7 each
         abs((ma.metrics ->> 'roc_auc')::float8 - (mb.metrics ->> 'roc_auc')::float8) < 1e-5,
         abs(ma.threshold - mb.threshold) < 1e-3
    FROM fraud_models ma, fraud_models mb
   WHERE ma.name = a AND ma.active AND mb.name = b AND mb.active
$$ LANGUAGE sql;
SELECT 1 FROM train_fraud_model('tx', 'is_fraud', 'mem', '{"tol": 1e-12, "exclude": ["id"]}')
UNION ALL SELECT 1 FROM train_fraud_model('tx', 'is_fraud', 'pass', '{"tol": 1e-12, "exclude": ["id"], "in_memory": false}');
SELECT * FROM pg_temp.same_models('mem', 'pass');
SELECT 1 FROM train_fraud_model('tx', 'is_fraud', 'mem_in_sample', '{"tol": 1e-12, "exclude": ["id"], "holdout": 0, "class_weight": "balanced"}')
UNION ALL SELECT 1 FROM train_fraud_model('tx', 'is_fraud', 'pass_in_sample', '{"tol": 1e-12, "exclude": ["id"], "holdout": 0, "class_weight": "balanced", "in_memory": false}');
SELECT * FROM pg_temp.same_models('mem_in_sample', 'pass_in_sample');
-- Threads: in memory, 1 + the workers a Gather may have (within max_parallel_workers), up to
-- the cores; one thread gives the same model.
SET max_parallel_workers_per_gather = 0;
SELECT 1 FROM train_fraud_model('tx', 'is_fraud', 'mem_one_thread', '{"tol": 1e-12, "exclude": ["id"]}');
RESET max_parallel_workers_per_gather;
SET max_parallel_workers = 0;
SELECT 1 FROM train_fraud_model('tx', 'is_fraud', 'mem_no_workers', '{"tol": 1e-12, "exclude": ["id"]}');
RESET max_parallel_workers;
SELECT name, document -> 'training' -> 'threads' AS threads FROM fraud_models
 WHERE name IN ('mem_one_thread', 'mem_no_workers') AND active ORDER BY name;
SELECT (document -> 'training' ->> 'threads')::int BETWEEN 1 AND 1 + current_setting('max_parallel_workers_per_gather')::int
       AS threads_within_the_setting
  FROM fraud_models WHERE name = 'mem' AND active;
SELECT * FROM pg_temp.same_models('mem', 'mem_one_thread');
-- A source larger than maintenance_work_mem is trained in passes; so is one the planner
-- underestimates (never analysed: the rows are kept until the budget runs out, then dropped).
CREATE TABLE tx_big AS SELECT t.* FROM tx t, generate_series(1, 15);
SET maintenance_work_mem = '1MB';
SELECT 1 FROM train_fraud_model('tx_big', 'is_fraud', 'big_unanalysed', '{"tol": 1e-12, "exclude": ["id"]}');
ANALYZE tx_big;
SELECT 1 FROM train_fraud_model('tx_big', 'is_fraud', 'big_pass', '{"tol": 1e-12, "exclude": ["id"]}');
SET maintenance_work_mem = '64MB';
SELECT 1 FROM train_fraud_model('tx_big', 'is_fraud', 'big_mem', '{"tol": 1e-12, "exclude": ["id"]}');
SELECT * FROM pg_temp.same_models('big_mem', 'big_pass');
SELECT * FROM pg_temp.same_models('big_mem', 'big_unanalysed');
-- In memory a plain table is read directly (a heap scan, no executor): it reads what the
-- passes' queries read. Rows of an inheriting table (the parent's scan alone would miss them),
-- rows updated (their dead versions skipped), a dropped column, and a column added with a
-- default after the rows were written (the default, not NULL, in those rows).
CREATE TABLE tx_parent AS SELECT amount, country, channel, is_fraud FROM tx WHERE id <= 2500;
CREATE TABLE tx_child () INHERITS (tx_parent);
INSERT INTO tx_child SELECT amount, country, channel, is_fraud FROM tx WHERE id > 2500;
SELECT 1 FROM train_fraud_model('tx_parent', 'is_fraud', 'inherit_mem', '{"tol": 1e-12}')
UNION ALL SELECT 1 FROM train_fraud_model('tx_parent', 'is_fraud', 'inherit_pass', '{"tol": 1e-12, "in_memory": false}');
SELECT * FROM pg_temp.same_models('inherit_mem', 'inherit_pass');
SELECT document -> 'training' -> 'rows' AS rows FROM fraud_models WHERE name = 'inherit_mem' AND active;
CREATE TABLE tx_altered AS SELECT id, amount, country, new_device, is_fraud FROM tx;
UPDATE tx_altered SET is_fraud = NOT is_fraud WHERE id % 5 = 0;
ALTER TABLE tx_altered DROP COLUMN id;
INSERT INTO tx_altered SELECT amount, country, new_device, is_fraud FROM tx WHERE id <= 400;
ALTER TABLE tx_altered ADD COLUMN fee float8 DEFAULT 2.5;
INSERT INTO tx_altered SELECT amount, country, new_device, is_fraud, amount / 100 FROM tx WHERE id <= 400;
SELECT 1 FROM train_fraud_model('tx_altered', 'is_fraud', 'altered_mem', '{"tol": 1e-12}')
UNION ALL SELECT 1 FROM train_fraud_model('tx_altered', 'is_fraud', 'altered_pass', '{"tol": 1e-12, "in_memory": false}');
SELECT * FROM pg_temp.same_models('altered_mem', 'altered_pass');
SELECT document -> 'training' -> 'rows' AS rows, document -> 'training' -> 'notices' AS notices
  FROM fraud_models WHERE name = 'altered_mem' AND active;
DROP TABLE tx_child, tx_parent, tx_altered;
RESET maintenance_work_mem;
-- The option is a boolean.
SELECT pg_temp.outcome($$SELECT 1 FROM train_fraud_model('tx', 'is_fraud', 'x', '{"in_memory": "yes"}')$$);
-- Passes read columns as arguments (fraud_train_columns) when they fit in a call, else whole
-- rows (fraud_train_pass). Both readings give byte-identical pass states (serial scan).
SET max_parallel_workers_per_gather = 0;
WITH spec AS (SELECT '{"columns": [["amount", "numeric"], ["country", "categorical"], ["channel", "categorical"],
                                   ["new_device", "boolean"], ["created_at", "timestamp"]],
                       "label": "is_fraud", "seed": 42, "holdout": 0.2, "category_capacity": 1000,
                       "whole_rows": 500, "whole_cutoff": 18446744073709551615, "newton": false}' AS s)
SELECT fraud_train_pass(t, s) = fraud_train_columns(s, t.amount, t.country, t.channel, t.new_device,
                                                    t.created_at, t.created_at, t.is_fraud) AS same_state,
       length(fraud_train_pass(t, s)) > 1000 AS has_sample
  FROM tx t, spec GROUP BY s;
RESET max_parallel_workers_per_gather;
-- 120 feature columns are more than a call's arguments: whole rows, same learning.
DO $$ BEGIN
  EXECUTE (SELECT format('CREATE TABLE wide AS SELECT id, is_fraud, amount, %s FROM tx',
                         string_agg(format('pg_temp.u(id, %s) AS noise%s', 100 + i, i), ', '))
             FROM generate_series(1, 119) i);
END $$;
SELECT jsonb_array_length(document -> 'features') AS features, (metrics ->> 'roc_auc')::float8 > 0.6 AS learns,
       document -> 'training' -> 'converged' AS converged
  FROM train_fraud_model('wide', 'is_fraud', 'wide', '{"exclude": ["id"]}');
-- A wrong column count or a missing spec in a direct call is an error, not a crash.
SELECT pg_temp.outcome($$SELECT fraud_train_columns('{"columns": [["amount", "numeric"]], "label": "is_fraud", "seed": 42, "holdout": 0.2, "category_capacity": 1000, "whole_rows": 0, "whole_cutoff": 0, "newton": false}', amount) FROM tx$$);
SELECT pg_temp.outcome($$SELECT fraud_train_columns(NULL, amount, is_fraud) FROM tx$$);
