-- History features: declaration, hand-worked values (windows, ties, first rows), NULL entity
-- and time, the trigger, jsonb scoring without side effects, explain, export/import, and bad
-- declarations, each with its SQLSTATE and nothing stored.
\i test/helpers.psql
SET client_min_messages = warning;

-- Account 1 has four rows, two of them at the same time; accounts 2..101 pad the table.
CREATE TABLE tx (id int, acct int, t timestamptz, amount numeric, country text, device text, is_fraud boolean);
INSERT INTO tx VALUES (1, 1, '2024-03-01 10:00:00+00', 10, 'US', 'd1', false),
                      (2, 1, '2024-03-01 10:05:00+00', 20, 'GB', 'd1', false),
                      (3, 1, '2024-03-01 10:05:00+00', 30, 'US', 'd2', false),
                      (4, 1, '2024-03-01 11:30:00+00', 40, 'FR', 'd3', true);
INSERT INTO tx SELECT 100 + i, 2 + i % 100, '2024-03-01'::timestamptz + i * interval '7 minutes',
                      round((5 + 100 * pg_temp.u(i, 1))::numeric, 2), (ARRAY['US', 'GB', 'NG'])[1 + i % 3],
                      'p' || (i % 150), pg_temp.u(i, 2) < 0.2
                 FROM generate_series(1, 2000) i;

SELECT name, version, document -> 'history' AS history, metrics ->> 'holdout_by' AS holdout_by,
       (metrics ->> 'rows')::int > 0 AS evaluated_on_latest_rows, metrics ->> 'threshold_chosen_on' AS threshold_chosen_on
  FROM train_fraud_model('tx', 'is_fraud', 'hh', '{"exclude": ["id"], "history": {"by": "acct", "time": "t",
         "windows": ["10 minutes", "1 hour"], "amounts": ["amount"], "distinct": ["country"], "new": ["device"]}}');
-- The entity column is not a feature; every derived feature is, of kind history.
SELECT f ->> 'name' AS feature, f ->> 'kind' AS kind
  FROM fraud_models m, jsonb_array_elements(m.document -> 'features') f WHERE m.name = 'hh' ORDER BY 1, 2;
-- The latest 20% of labelled rows (by t) are held out: the holdout starts at the 80th percentile time.
SELECT m.metrics ->> 'holdout_from' = (SELECT percentile_disc(0.8) WITHIN GROUP (ORDER BY t) FROM tx)::text AS holdout_from_ok,
       (m.document -> 'training' ->> 'holdout_rows')::int = (SELECT count(*) FROM tx WHERE t >= (SELECT percentile_disc(0.8) WITHIN GROUP (ORDER BY t) FROM tx)) AS holdout_rows_ok,
       (m.document -> 'training' ->> 'holdout_positives')::int = (SELECT count(*) FROM tx WHERE is_fraud AND t >= (SELECT percentile_disc(0.8) WITHIN GROUP (ORDER BY t) FROM tx)) AS holdout_positives_ok
  FROM fraud_models m WHERE m.name = 'hh';
-- The holdout's metrics are those of the held-out rows, each scored with its history as of its
-- own time (fraud_score of the stored row), counted here apart from training.
SELECT m.metrics -> 'confusion' = jsonb_build_object(
         'tp', count(*) FILTER (WHERE s.is_fraud AND s.flagged), 'fp', count(*) FILTER (WHERE NOT s.is_fraud AND s.flagged),
         'fn', count(*) FILTER (WHERE s.is_fraud AND NOT s.flagged), 'tn', count(*) FILTER (WHERE NOT s.is_fraud AND NOT s.flagged))
         AS holdout_confusion_ok,
       (m.metrics ->> 'rows')::int = count(*) AS holdout_metrics_rows_ok
  FROM fraud_models m,
       LATERAL (SELECT tx.is_fraud, fraud_score(tx, 'hh') >= m.threshold AS flagged FROM tx
                 WHERE tx.t >= (m.metrics ->> 'holdout_from')::timestamptz) s
 WHERE m.name = 'hh' AND m.active GROUP BY m.metrics;
-- Passes over the table (rows not kept in memory) mark and hold out the same rows.
SELECT p.metrics ->> 'holdout_from' = m.metrics ->> 'holdout_from' AS same_cutoff,
       p.document -> 'training' -> 'holdout_rows' = m.document -> 'training' -> 'holdout_rows' AS same_holdout_rows,
       (p.document -> 'training' ->> 'in_memory')::boolean AS passes_in_memory,
       abs((p.metrics ->> 'roc_auc')::float8 - (m.metrics ->> 'roc_auc')::float8) < 1e-6 AS same_roc_auc
  FROM fraud_models m,
       train_fraud_model('tx', 'is_fraud', 'hh_passes', '{"exclude": ["id"], "in_memory": false, "history": {"by": "acct",
         "time": "t", "windows": ["10 minutes", "1 hour"], "amounts": ["amount"], "distinct": ["country"], "new": ["device"]}}') p
 WHERE m.name = 'hh' AND m.active;
DELETE FROM fraud_models WHERE name = 'hh_passes';

-- Hand-worked: at 10:06 the 10-minute window [09:56, 10:06) holds rows 1-3 (amounts 10, 20, 30;
-- countries US, GB); the previous row was at 10:05 (60 s), the first at 10:00 (360 s); d2 was seen.
SELECT feature, value FROM fraud_explain('{"acct": 1, "t": "2024-03-01 10:06:00+00", "amount": 60, "country": "US",
                                           "device": "d2"}', 'hh') WHERE feature LIKE 'acct:%' ORDER BY feature;
-- A tie: at 10:05 exactly only row 1 is earlier (rows 2 and 3 are not); d9 is new.
SELECT feature, value FROM fraud_explain('{"acct": 1, "t": "2024-03-01 10:05:00+00", "amount": 10, "country": "US",
                                           "device": "d9"}', 'hh') WHERE feature LIKE 'acct:%' ORDER BY feature;
-- At 11:30 both windows are empty (means and ratios missing); d3 is new (row 4 is not earlier).
SELECT feature, value FROM fraud_explain('{"acct": 1, "t": "2024-03-01 11:30:00+00", "amount": 40, "country": "FR",
                                           "device": "d3"}', 'hh') WHERE feature LIKE 'acct:%' ORDER BY feature;
-- History features are measured in absolute time: the session's TimeZone changes none of them.
CREATE TEMP TABLE utc AS SELECT feature, value FROM fraud_explain('{"acct": 1, "t": "2024-03-01 10:06:00+00",
       "amount": 60, "country": "US", "device": "d2"}', 'hh') WHERE feature LIKE 'acct:%';
SET TimeZone = 'Asia/Tokyo';
SELECT (SELECT count(*) FROM utc) AS compared,
       (SELECT count(*) FROM (SELECT feature, value FROM fraud_explain('{"acct": 1, "t": "2024-03-01 10:06:00+00",
         "amount": 60, "country": "US", "device": "d2"}', 'hh') WHERE feature LIKE 'acct:%' EXCEPT SELECT * FROM utc) d) AS differing;
RESET TimeZone;
-- A NULL entity or time: no history, every history feature missing; an unknown entity: its first row.
SELECT count(*) FILTER (WHERE value IS NULL) AS missing, count(*) AS features
  FROM fraud_explain('{"acct": null, "t": "2024-03-01 10:06:00+00", "amount": 60, "country": "US", "device": "d2"}', 'hh')
 WHERE feature LIKE 'acct:%';
SELECT count(*) FILTER (WHERE value IS NULL) AS missing, count(*) AS features
  FROM fraud_explain('{"acct": 1, "amount": 60, "country": "US", "device": "d2"}', 'hh') WHERE feature LIKE 'acct:%';
SELECT feature, value FROM fraud_explain('{"acct": 999, "t": "2024-03-01 10:06:00+00", "amount": 60}', 'hh')
 WHERE feature LIKE 'acct:%' ORDER BY feature;
-- Scoring jsonb reads the history and changes nothing: the same score twice, the table unchanged.
SELECT fraud_score('{"acct": 1, "t": "2024-03-01 10:06:00+00", "amount": 60, "country": "US", "device": "d2"}'::jsonb, 'hh')
     = fraud_score('{"acct": 1, "t": "2024-03-01 10:06:00+00", "amount": 60, "country": "US", "device": "d2"}'::jsonb, 'hh')
       AS same_score, (SELECT count(*) FROM tx) AS rows;
-- A key that does not read as its column's type: 22P02, and no value in the message.
SELECT pg_temp.outcome($$SELECT fraud_score('{"acct": "SECRET-4111", "t": "2024-03-01"}'::jsonb, 'hh')$$);
-- Stored rows are scored with the history as of their own time, as the same row given as jsonb
-- (which reads the table's rows earlier than its time: never itself, never a later row).
SELECT id, abs(fraud_score(tx, 'hh') - fraud_score(to_jsonb(tx), 'hh')) < 1e-12 AS row_as_of_its_time
  FROM tx WHERE acct = 1 ORDER BY id;

-- The trigger: attaching creates the (entity, time) index; a NULL time is stamped with the clock.
CREATE TABLE live (LIKE tx);
SELECT fraud_attach('live', 'hh', '{"add_columns": true, "history_column": "features"}');
SELECT indexdef FROM pg_indexes WHERE tablename = 'live';
INSERT INTO live SELECT * FROM tx WHERE acct = 1 ORDER BY t, id;
INSERT INTO live (id, acct, t, amount, country, device) VALUES (5, 1, NULL, 15, 'US', 'd1'), (6, NULL, now(), 15, 'US', 'd1');
SELECT id, t IS NOT NULL AS has_time, features -> 'acct:count:1 hour' AS count_1h, features -> 'acct:new(device)' AS new_device,
       features -> 'acct:seconds_since_last' IS NOT NULL AND features -> 'acct:seconds_since_last' <> 'null' AS has_since_last
  FROM live ORDER BY id;
-- The trigger's first-time lookup starts from where this session last found the account's
-- first row: a deleted first row, and an earlier row arriving late, still give the exact age.
-- And a device met in the window and one met only before it are both not new.
INSERT INTO live (id, acct, t, amount, country, device) VALUES (20, 3, '2024-03-01 10:00:00+00', 5, 'US', 'd7');
INSERT INTO live (id, acct, t, amount, country, device) VALUES (21, 3, '2024-03-01 10:01:00+00', 5, 'US', 'd8');
INSERT INTO live (id, acct, t, amount, country, device) VALUES (22, 3, '2024-03-01 10:02:00+00', 5, 'US', 'd8');
DELETE FROM live WHERE id = 20;
INSERT INTO live (id, acct, t, amount, country, device) VALUES (23, 3, '2024-03-01 10:03:00+00', 5, 'US', 'd8');
INSERT INTO live (id, acct, t, amount, country, device) VALUES (24, 3, '2024-03-01 09:00:00+00', 5, 'US', 'd9');
INSERT INTO live (id, acct, t, amount, country, device) VALUES (25, 3, '2024-03-01 10:04:00+00', 5, 'US', 'd8');
INSERT INTO live (id, acct, t, amount, country, device) VALUES (26, 3, '2024-03-01 12:00:00+00', 5, 'US', 'd9');
INSERT INTO live (id, acct, t, amount, country, device) VALUES (27, 3, '2024-03-01 12:01:00+00', 5, 'US', 'd7');
SELECT id, features -> 'acct:age_seconds' AS age, features -> 'acct:seconds_since_last' AS since_last,
       features -> 'acct:count:1 hour' AS count_1h, features -> 'acct:new(device)' AS new_device
  FROM live WHERE acct = 3 ORDER BY id;
-- The account's window is read straight off the leaf page this session last found its newest
-- rows on, and its first row off the page where the window ends when it is there (the entry
-- before it is another account's): no scan of the (entity, time) index. Account 5: a first row
-- (an empty window: one scan, and one for the last earlier row), then five in its hour (the
-- first of them scans once, and remembers the leaf; the other four read it).
SELECT pg_stat_force_next_flush();
SELECT idx_scan AS scans_before FROM pg_stat_user_indexes WHERE indexrelname = 'live_acct_t_amount_country_device_idx' \gset
INSERT INTO live (id, acct, t, amount, country, device) VALUES (40, 5, '2024-03-01 10:00:00+00', 5, 'US', 'f1');
INSERT INTO live (id, acct, t, amount, country, device) VALUES (41, 5, '2024-03-01 10:10:00+00', 5, 'US', 'f1');
INSERT INTO live (id, acct, t, amount, country, device) VALUES (42, 5, '2024-03-01 10:20:00+00', 5, 'US', 'f1');
INSERT INTO live (id, acct, t, amount, country, device) VALUES (43, 5, '2024-03-01 10:30:00+00', 5, 'US', 'f1');
INSERT INTO live (id, acct, t, amount, country, device) VALUES (44, 5, '2024-03-01 10:40:00+00', 5, 'US', 'f1');
INSERT INTO live (id, acct, t, amount, country, device) VALUES (45, 5, '2024-03-01 10:50:00+00', 5, 'US', 'f1');
SELECT pg_stat_force_next_flush();
SELECT idx_scan - :scans_before AS window_index_scans FROM pg_stat_user_indexes
 WHERE indexrelname = 'live_acct_t_amount_country_device_idx';
SELECT id, features -> 'acct:age_seconds' AS age, features -> 'acct:count:1 hour' AS count_1h FROM live WHERE acct = 5 ORDER BY id;
-- Rows deleted from the window, on pages not yet all-visible, are in no later row's history:
-- account 4 keeps 30, 32 and 33 of its four rows; row 34's window holds those three (count 3,
-- 3 countries, amounts 5 + 9 + 11), and its device, last seen in the deleted row, is new.
INSERT INTO live (id, acct, t, amount, country, device) VALUES (30, 4, '2024-03-01 10:00:00+00', 5, 'US', 'e1'),
  (31, 4, '2024-03-01 10:10:00+00', 7, 'GB', 'e2'), (32, 4, '2024-03-01 10:20:00+00', 9, 'FR', 'e3'),
  (33, 4, '2024-03-01 10:30:00+00', 11, 'DE', 'e4');
DELETE FROM live WHERE id = 31;
INSERT INTO live (id, acct, t, amount, country, device) VALUES (34, 4, '2024-03-01 10:40:00+00', 13, 'GB', 'e2');
SELECT features -> 'acct:count:1 hour' AS count_1h, features -> 'acct:distinct(country):1 hour' AS countries_1h,
       features -> 'acct:sum(amount):1 hour' AS sum_1h, features -> 'acct:new(device)' AS new_device
  FROM live WHERE id = 34;
-- fraud_explain of a stored row: its history from its table as of its time (row 2, at the tie).
SELECT feature, value FROM tx, fraud_explain(tx, 'hh') WHERE tx.id = 2 AND feature LIKE 'acct:count%' ORDER BY feature;
-- The history features the trigger stored in `live`.features against training's featurisation
-- of `source` (the rows joined by id): NULL only equals NULL, numbers to 1e-12 relative.
CREATE FUNCTION pg_temp.trigger_vs_training(live regclass, source regclass, model text,
                                            OUT rows bigint, OUT values_compared bigint, OUT differing bigint)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($q$SELECT count(DISTINCT l.id), count(*),
        count(*) FILTER (WHERE NOT coalesce(to_jsonb(f) -> k = l.features -> k
          OR abs((to_jsonb(f) ->> k)::float8 - (l.features ->> k)::float8) <= 1e-12 * greatest(1, abs((to_jsonb(f) ->> k)::float8)),
          false))
      FROM %s l JOIN %s f USING (id), jsonb_object_keys(l.features) k$q$, live, fraud_history_source(source, model))
    INTO rows, values_compared, differing;
END $$;
-- An index on (entity, time) that is not ascending in time does not serve the lookups (they
-- read an entity's rows in time order): attaching creates the ascending one beside it, and the
-- trigger's features equal training's for every row (a newest-first index once gave wrong
-- seconds since the last row and window counts).
CREATE TABLE live_desc (LIKE tx);
CREATE INDEX live_desc_newest_first ON live_desc (acct, t DESC);
CREATE INDEX live_desc_brin ON live_desc USING brin (acct, t);
SELECT fraud_attach('live_desc', 'hh', '{"add_columns": true, "history_column": "features"}');
SELECT indexdef FROM pg_indexes WHERE tablename = 'live_desc' ORDER BY indexdef;
INSERT INTO live_desc SELECT * FROM tx WHERE acct <= 12 ORDER BY t, id;
SELECT * FROM pg_temp.trigger_vs_training('live_desc', 'tx', 'hh');
-- A text entity in a collation other than "C": its B-tree is ordered by that collation, and
-- the trigger's scans compare in it (they once compared in "C", descended to the wrong leaves
-- and missed rows). Mixed-case account names, a column in ICU's English collation.
CREATE TABLE txt AS SELECT id, (ARRAY['a', 'B', 'b', 'A', '_'])[1 + acct % 5] || acct AS acct, t, amount, country,
                           device, is_fraud FROM tx;
SELECT name FROM train_fraud_model('txt', 'is_fraud', 'ht', '{"exclude": ["id"], "history": {"by": "acct", "time": "t",
         "windows": ["10 minutes", "1 hour"], "amounts": ["amount"], "distinct": ["country"], "new": ["device"]}}');
CREATE TABLE live_icu (id int, acct text COLLATE "en-x-icu", t timestamptz, amount numeric, country text, device text,
                       is_fraud boolean);
SELECT fraud_attach('live_icu', 'ht', '{"add_columns": true, "history_column": "features"}');
INSERT INTO live_icu SELECT * FROM txt ORDER BY t, id;
SELECT * FROM pg_temp.trigger_vs_training('live_icu', 'live_icu', 'ht');
SELECT fraud_detach('live_icu');
DELETE FROM fraud_models WHERE name = 'ht';
-- Ties in an index without INCLUDE columns (a count-only model's) are deduplicated into
-- posting lists: the trigger's window read off leaf copies leaves such pages to the scans
-- (it once read a posting list's TID as a heap TID in a test build), and every tie counts.
CREATE EXTENSION pageinspect;
CREATE TABLE ties AS SELECT g AS id, 1 + g % 3 AS acct, '2024-03-01 10:00+00'::timestamptz + (g / 150) * interval '1 minute' AS t,
                            (g % 7 = 0) AS is_fraud FROM generate_series(1, 1800) g;
SELECT name FROM train_fraud_model('ties', 'is_fraud', 'hc', '{"exclude": ["id"], "history": {"by": "acct", "time": "t",
         "windows": ["5 minutes"]}}');
CREATE TABLE live_ties (LIKE ties);
SELECT fraud_attach('live_ties', 'hc', '{"add_columns": true, "history_column": "features"}');
SELECT indexdef FROM pg_indexes WHERE tablename = 'live_ties';
INSERT INTO live_ties SELECT * FROM ties ORDER BY t, id;
SELECT count(*) FILTER (WHERE tids IS NOT NULL) > 0 AS has_posting_lists
  FROM generate_series(1, pg_relation_size('live_ties_acct_t_idx') / 8192 - 1) b, bt_page_items('live_ties_acct_t_idx', b::int);
SELECT * FROM pg_temp.trigger_vs_training('live_ties', 'ties', 'hc');
SELECT features FROM live_ties WHERE id = 1500;
SELECT fraud_detach('live_ties');
DELETE FROM fraud_models WHERE name = 'hc';
DROP EXTENSION pageinspect;
-- History read from another relation: a view over the archive and the live table.
CREATE TABLE live2 (LIKE tx);
CREATE VIEW everything AS SELECT * FROM tx UNION ALL SELECT id, acct, t, amount, country, device, is_fraud FROM live2;
SELECT fraud_attach('live2', 'hh', '{"add_columns": true, "history_column": "features", "history_relation": "everything"}');
INSERT INTO live2 (id, acct, t, amount, country, device) VALUES (7, 1, '2024-03-01 10:06:00+00', 60, 'US', 'd2'),
                                                                (8, 1, '2024-03-01 10:07:00+00', 60, 'US', 'd2');
SELECT id, features -> 'acct:count:10 minutes' AS count_10m, features -> 'acct:new(device)' AS new_device FROM live2 ORDER BY id;
SELECT pg_temp.outcome($$SELECT fraud_attach('live2', 'hh', '{"history_relation": "no_such_view"}')$$);
-- Attaching a table that lacks a history column is refused.
CREATE TABLE narrow (id int, t timestamptz, amount numeric, country text, device text);
SELECT pg_temp.outcome($$SELECT fraud_attach('narrow', 'hh', '{"add_columns": true}')$$);

-- Export and import carry the declaration; the imported model explains the same values.
SELECT fraud_export_model('hh') -> 'history' = (SELECT document -> 'history' FROM fraud_models WHERE name = 'hh') AS exported;
SELECT name FROM fraud_import_model(fraud_export_model('hh'), 'hh2');
SELECT count(*) AS differing FROM
  (SELECT * FROM fraud_explain('{"acct": 1, "t": "2024-03-01 10:06:00+00", "amount": 60, "country": "US", "device": "d2"}', 'hh')
   EXCEPT SELECT * FROM fraud_explain('{"acct": 1, "t": "2024-03-01 10:06:00+00", "amount": 60, "country": "US", "device": "d2"}', 'hh2')) d;
-- Validation of documents: a history feature the declaration does not derive, none declared, a bad window.
SELECT pg_temp.outcome(format('SELECT fraud_import_model(%L, %L)',
       jsonb_set(fraud_export_model('hh'), '{features,0}', '{"name": "acct:count:2 hours", "kind": "history", "weight": 1}'), 'bad'));
SELECT pg_temp.outcome(format('SELECT fraud_import_model(%L, %L)', fraud_export_model('hh') - 'history', 'bad'));
SELECT pg_temp.outcome(format('SELECT fraud_import_model(%L, %L)',
       jsonb_set(fraud_export_model('hh'), '{history,windows,0,seconds}', '-5'), 'bad'));

-- Bad declarations: each its SQLSTATE, and no model stored.
CREATE TABLE oddtypes (id int, acct jsonb, t text, amount text, score float8, label boolean, tt timestamptz);
SELECT count(*) AS models_before FROM fraud_models;
SELECT q, pg_temp.outcome(format('SELECT train_fraud_model(%L, %L, %L, %L)', src, 'is_fraud', 'bad', o)) AS outcome
  FROM (VALUES
    ('by missing', 'tx', '{"history": {"by": "nope", "time": "t"}}'),
    ('time missing', 'tx', '{"history": {"by": "acct", "time": "nope"}}'),
    ('no by', 'tx', '{"history": {"time": "t"}}'),
    ('no time', 'tx', '{"history": {"by": "acct"}}'),
    ('bad window', 'tx', '{"history": {"by": "acct", "time": "t", "windows": ["2 fortnights"]}}'),
    ('month window', 'tx', '{"history": {"by": "acct", "time": "t", "windows": ["1 month"]}}'),
    ('negative window', 'tx', '{"history": {"by": "acct", "time": "t", "windows": ["-1 hour"]}}'),
    ('window not text', 'tx', '{"history": {"by": "acct", "time": "t", "windows": [3600]}}'),
    ('too many windows', 'tx', '{"history": {"by": "acct", "time": "t", "windows": ["1 s", "2 s", "3 s", "4 s", "5 s", "6 s", "7 s"]}}'),
    ('too many entities', 'tx', '{"history": {"by": ["acct", "id", "country", "device", "amount"], "time": "t"}}'),
    ('unknown key', 'tx', '{"history": {"by": "acct", "time": "t", "colour": "red"}}'),
    ('amounts without window', 'tx', '{"history": {"by": "acct", "time": "t", "amounts": ["amount"]}}'),
    ('holdout_by time, no history', 'tx', '{"holdout_by": "time"}'),
    ('holdout_by unknown', 'tx', '{"holdout_by": "sideways"}')) v(q, src, o);
SELECT count(*) AS models_after FROM fraud_models;
CREATE TABLE typed AS SELECT *, '{}'::jsonb AS blob, 1.5::float8 AS ratio, t::text AS t_text FROM tx;
SELECT q, pg_temp.outcome(format('SELECT train_fraud_model(%L, %L, %L, %L)', 'typed', 'is_fraud', 'bad', o)) AS outcome
  FROM (VALUES
    ('by of a wrong type', '{"exclude": ["blob"], "history": {"by": "blob", "time": "t"}}'),
    ('time of a wrong type', '{"exclude": ["blob"], "history": {"by": "acct", "time": "t_text"}}'),
    ('amount of a wrong type', '{"exclude": ["blob"], "history": {"by": "acct", "time": "t", "windows": ["1 hour"], "amounts": ["country"]}}'),
    ('new of an unusable type', '{"exclude": ["blob"], "history": {"by": "acct", "time": "t", "new": ["ratio"]}}'),
    ('distinct of an unusable type', '{"exclude": ["blob"], "history": {"by": "acct", "time": "t", "windows": ["1 hour"], "distinct": ["blob"]}}')) v(q, o);
SELECT count(*) AS models_after FROM fraud_models;

-- A random holdout stays an option.
SELECT metrics ->> 'holdout_by' IS NULL AS not_by_time, (metrics ->> 'in_sample')::boolean AS in_sample
  FROM train_fraud_model('tx', 'is_fraud', 'hr', '{"exclude": ["id"], "holdout_by": "random", "history": {"by": "acct",
         "time": "t", "windows": ["1 hour"], "amounts": ["amount"]}}');

DROP VIEW everything;
DROP TABLE tx, live, live2, live_desc, txt, live_icu, ties, live_ties, narrow, oddtypes, typed;
DELETE FROM fraud_models;
