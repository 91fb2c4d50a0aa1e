-- Evaluate, thresholds, versions, drift and the BI views; every number is checked against an
-- independent computation in SQL (rank-based ROC AUC, average precision, PSI by hand).
SET client_min_messages = warning;
\i test/helpers.psql
DELETE FROM fraud_model_events;  -- the events of earlier test files' models
CREATE TABLE history AS
SELECT i AS id, round((pg_temp.u(i, 1) * 500)::numeric, 2) AS amount,
       (ARRAY['US', 'GB', 'NG', 'FR'])[1 + (pg_temp.u(i, 2) * 4)::int % 4] AS country,
       false AS is_fraud
  FROM generate_series(1, 3000) i;
UPDATE history SET is_fraud = pg_temp.u(id, 6) < 1 / (1 + exp(-(-3 + amount / 150 + (country = 'NG')::int * 1.5)));
CREATE TABLE recent AS SELECT id + 100000 AS id, amount, country,
       CASE WHEN is_fraud THEN 'Y' ELSE 'N' END AS is_fraud FROM history WHERE id % 3 = 0;
SELECT version FROM train_fraud_model('history', options => '{"exclude": ["id"]}');

-- fraud_evaluate and fraud_choose_threshold default to the label the model was trained on.
CREATE TABLE relabelled AS SELECT amount, country, is_fraud AS confirmed FROM history;
SELECT version FROM train_fraud_model('relabelled', 'confirmed', 'relabelled');
SELECT (fraud_evaluate('relabelled', model => 'relabelled') ->> 'rows')::int AS evaluated_rows,
       fraud_choose_threshold('relabelled', '{"strategy": "f1"}', model => 'relabelled') > 0 AS chose_threshold;
DELETE FROM fraud_models WHERE name = 'relabelled';
DROP TABLE relabelled;

-- An alert budget (alert_rate) is a share of all scored rows: on 5,000 unlabelled rows (no label
-- column at all) and on the same rows with 12% labelled (small amounts only, as reviewed cases
-- are not a random sample), a 1% budget flags 1% of them (+-10%).
CREATE TABLE traffic AS
SELECT i AS id, round((pg_temp.u(i, 11) * 500)::numeric, 2) AS amount,
       (ARRAY['US', 'GB', 'NG', 'FR'])[1 + (pg_temp.u(i, 12) * 4)::int % 4] AS country
  FROM generate_series(1, 5000) i;
CREATE TABLE traffic_some_labels AS
SELECT t.*, CASE WHEN amount < 200 AND pg_temp.u(id, 13) < 0.3 THEN pg_temp.u(id, 14) < 0.1 END AS is_fraud FROM traffic t;
SELECT count(*) FILTER (WHERE is_fraud IS NOT NULL) AS labelled FROM traffic_some_labels;
WITH t AS MATERIALIZED (SELECT fraud_choose_threshold('traffic', '{"strategy": "alert_rate", "target": 0.01}') AS thr)
SELECT count(*) FILTER (WHERE fraud_score(x) >= t.thr)::float8 / count(*) BETWEEN 0.009 AND 0.011 AS budget_no_labels
  FROM traffic x, t GROUP BY t.thr;
WITH t AS MATERIALIZED (SELECT fraud_choose_threshold('traffic_some_labels', '{"strategy": "alert_rate", "target": 0.01}') AS thr)
SELECT count(*) FILTER (WHERE fraud_score(x) >= t.thr)::float8 / count(*) BETWEEN 0.009 AND 0.011 AS budget_some_labels
  FROM traffic_some_labels x, t GROUP BY t.thr;
DROP TABLE traffic, traffic_some_labels;

-- fraud_evaluate on new labelled rows (a text Y/N label where training had a boolean).
CREATE TEMP TABLE ev AS SELECT fraud_evaluate('recent') AS e;
SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(e) k) AS keys FROM ev;
CREATE TEMP TABLE scored AS SELECT fraud_score(t) AS s, is_fraud = 'Y' AS y FROM recent t;
-- ROC AUC by ranks (Mann-Whitney), average precision by its definition, log-loss, confusion.
WITH ranked AS (SELECT y, avg(r) OVER (PARTITION BY s) AS r
                  FROM (SELECT s, y, row_number() OVER (ORDER BY s) AS r FROM scored) q),
     auc AS (SELECT (sum(r) FILTER (WHERE y) - count(*) FILTER (WHERE y) * (count(*) FILTER (WHERE y) + 1) / 2.0)
                    / (count(*) FILTER (WHERE y) * count(*) FILTER (WHERE NOT y)) AS value FROM ranked),
     ap AS (SELECT sum(prec) / count(*) AS value FROM (
              SELECT y, count(*) FILTER (WHERE y) OVER w::float8 / count(*) OVER w AS prec
                FROM scored WINDOW w AS (ORDER BY s DESC RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) q WHERE y),
     ll AS (SELECT avg(CASE WHEN y THEN -ln(s) ELSE -ln(1 - s) END) AS value FROM scored),
     m AS (SELECT threshold FROM fraud_models WHERE active)
SELECT abs((e ->> 'roc_auc')::float8 - auc.value) < 0.002 AS roc_auc_matches,
       abs((e ->> 'pr_auc')::float8 - ap.value) < 0.005 AS pr_auc_matches,
       abs((e ->> 'log_loss')::float8 - ll.value) < 1e-9 AS log_loss_matches,
       (e -> 'confusion' ->> 'tp')::int = (SELECT count(*) FROM scored, m WHERE y AND s >= m.threshold) AS tp_matches,
       (e -> 'confusion' ->> 'fp')::int = (SELECT count(*) FROM scored, m WHERE NOT y AND s >= m.threshold) AS fp_matches,
       (e ->> 'rows')::int = 1000 AS rows_matches,
       jsonb_array_length(e -> 'roc_curve') BETWEEN 10 AND 110 AS roc_points,
       jsonb_array_length(e -> 'pr_curve') BETWEEN 10 AND 110 AS pr_points
  FROM ev, auc, ap, ll;
-- Curve points a BI tool can chart: monotone, from (0, 0) to (1, 1).
SELECT (e -> 'roc_curve' -> 0) AS first_point, (e -> 'roc_curve' -> -1 ->> 'fpr')::float8 = 1 AS ends_at_fpr_1,
       (e -> 'roc_curve' -> -1 ->> 'tpr')::float8 = 1 AS ends_at_tpr_1 FROM ev;

-- Undefined metrics are NULL with a notice, not NaN.
SET client_min_messages = notice;
CREATE TABLE all_legit AS SELECT amount, country, false AS is_fraud FROM history LIMIT 100;
SELECT e -> 'roc_auc' AS roc_auc, e -> 'pr_auc' AS pr_auc, e -> 'recall' AS recall, e -> 'rows' AS rows
  FROM fraud_evaluate('all_legit') AS e;
CREATE TABLE nothing (amount numeric, country text, is_fraud boolean);
SELECT fraud_evaluate('nothing');
SET client_min_messages = warning;
-- Bad sources: a missing column, a label of an unusable type, an unknown model.
CREATE TABLE no_country AS SELECT amount, is_fraud FROM history;
SELECT pg_temp.outcome($$SELECT fraud_evaluate('no_country')$$);
CREATE TABLE json_label AS SELECT amount, country, '{}'::jsonb AS is_fraud FROM history;
SELECT pg_temp.outcome($$SELECT fraud_evaluate('json_label')$$);
SELECT pg_temp.outcome($$SELECT fraud_evaluate('recent', 'is_fraud', 'nope')$$);

-- Thresholds: chosen on new data by the training strategies, applied with fraud_set_threshold.
SELECT strategy ->> 'strategy' AS strategy,
       CASE strategy ->> 'strategy'
         WHEN 'alert_rate' THEN (SELECT avg((s >= t)::int) FROM scored) <= 0.05
         WHEN 'precision' THEN (SELECT avg(y::int) FROM scored WHERE s >= t) >= 0.6
         WHEN 'recall' THEN (SELECT avg((s >= t)::int) FROM scored WHERE y) >= 0.8
         ELSE t > 0 AND t < 1 END AS target_met
  FROM unnest(ARRAY['{"strategy": "f1"}', '{"strategy": "alert_rate", "target": 0.05}',
                    '{"strategy": "precision", "target": 0.6}', '{"strategy": "recall", "target": 0.8}']::jsonb[]) AS strategy,
       LATERAL fraud_choose_threshold('recent', strategy) AS t;
SELECT threshold, document -> 'threshold' AS in_document FROM fraud_set_threshold('default', 0.99);
SELECT fraud_is_fraud('{"amount": 450, "country": "NG"}') AS flagged_at_099;
SELECT threshold FROM fraud_set_threshold('default', 0.01);
SELECT fraud_is_fraud('{"amount": 450, "country": "NG"}') AS flagged_at_001;
SELECT pg_temp.outcome($$SELECT fraud_set_threshold('default', 1.5)$$);
SELECT pg_temp.outcome($$SELECT fraud_set_threshold('default', 'NaN')$$);
SELECT pg_temp.outcome($$SELECT fraud_set_threshold('nope', 0.5)$$);

-- Versions: every version is kept; activation rolls forward and back.
SELECT version FROM train_fraud_model('history', options => '{"exclude": ["id"], "l2": 1000}');
SELECT name, version, active, roc_auc > 0.6 AS has_auc, features FROM fraud_model_versions ORDER BY version;
SELECT round(fraud_score('{"amount": 450, "country": "NG"}')::numeric, 3) AS v2_score;
SELECT version, active FROM fraud_activate_model('default', 1);
SELECT round(fraud_score('{"amount": 450, "country": "NG"}')::numeric, 3) AS v1_score;
SELECT pg_temp.outcome($$SELECT fraud_activate_model('default', 7)$$);
SELECT version FROM fraud_models WHERE active;

-- A threshold change leaves no precision, recall, F1 or confusion matrix of the old threshold
-- beside the new one: they move under at_previous_threshold (AUCs stay, they do not depend on
-- it; after two changes they are still those of the trained threshold). Every activation
-- and threshold change is recorded, and the timeline says what was live when (here: v1 at its trained threshold, 0.99, 0.01, then v2, then v1 again at 0.01).
SELECT threshold, metrics -> 'precision' AS precision, metrics -> 'at_previous_threshold' ? 'precision' AS kept_aside,
       (metrics -> 'at_previous_threshold' ->> 'threshold')::float8 = (SELECT e.new_threshold FROM fraud_model_events AS e
           WHERE e.model = 'default' AND e.version = 1 AND e.event = 'activated' ORDER BY e.at, e.id LIMIT 1) AS from_trained,
       metrics ? 'roc_auc' AS has_auc
  FROM fraud_models WHERE name = 'default' AND version = 1;
SELECT version, round(threshold::numeric, 4) AS threshold, round("precision"::numeric, 4) AS "precision",
       round(recall::numeric, 4) AS recall, round(f1::numeric, 4) AS f1 FROM fraud_model_versions WHERE name = 'default' ORDER BY version;
SELECT event, version, round(old_threshold::numeric, 4) AS old_threshold, round(new_threshold::numeric, 4) AS new_threshold,
       by_role = current_user AS by_me
  FROM fraud_model_events WHERE model = 'default' ORDER BY at, id;
SELECT version, round(threshold::numeric, 4) AS threshold, valid_to IS NULL AS still_live
  FROM fraud_model_timeline WHERE model = 'default' ORDER BY valid_from;
-- Which version and threshold were live at a moment: the interval containing it.
SELECT version, round(threshold::numeric, 4) AS threshold FROM fraud_model_timeline
 WHERE model = 'default' AND valid_from <= clock_timestamp() AND (valid_to IS NULL OR valid_to > clock_timestamp());

-- Drift: a copy of the training data is stable, a shifted copy is not; PSI checked by hand
-- from the reference stored in the model document.
CREATE TABLE same AS SELECT amount, country FROM history;
CREATE TABLE shifted AS SELECT amount * 3 AS amount, CASE WHEN amount < 100 THEN 'NG' ELSE country END AS country FROM history;
SELECT feature, round(psi::numeric, 3) AS psi, band FROM fraud_drift('same') ORDER BY feature;
SELECT feature, band FROM fraud_drift('shifted') ORDER BY feature;
WITH ref AS (SELECT f -> 'reference' AS r FROM fraud_models m, jsonb_array_elements(m.document -> 'features') f
              WHERE m.active AND f ->> 'name' = 'amount'),
     edges AS (SELECT array_agg(e::float8 ORDER BY o) AS e FROM ref, jsonb_array_elements_text(r -> 'edges') WITH ORDINALITY AS x(e, o)),
     expected AS (SELECT o - 1 AS bucket, p::float8 AS p FROM ref, jsonb_array_elements_text(r -> 'proportions') WITH ORDINALITY AS x(p, o)),
     actual AS (SELECT CASE WHEN amount IS NULL THEN array_length(e, 1) + 1
                            ELSE (SELECT count(*) FROM unnest(e) AS edge WHERE edge <= amount) END AS bucket, count(*) AS n
                  FROM shifted, edges GROUP BY 1),
     psi AS (SELECT sum((greatest(coalesce(a.n, 0)::float8 / 3000, 1e-4) - greatest(x.p, 1e-4))
                        * ln(greatest(coalesce(a.n, 0)::float8 / 3000, 1e-4) / greatest(x.p, 1e-4))) AS value
               FROM expected x LEFT JOIN actual a USING (bucket))
SELECT abs(psi.value - d.psi) < 1e-9 AS psi_matches, d.psi > 0.25 AS is_shift
  FROM psi, fraud_drift('shifted') AS d WHERE d.feature = 'amount';

-- BI views: activity per day and model version, reasons among flagged rows.
CREATE TABLE live (id serial PRIMARY KEY, amount numeric, country text, created_at timestamptz DEFAULT '2024-05-01 10:00+00');
SELECT fraud_attach('live', 'default', '{"add_columns": true, "version_column": "model_version", "rules_column": "fired"}');
INSERT INTO fraud_rules (model, name, predicate) VALUES ('default', 'big', '$.amount >= 450');
INSERT INTO live (amount, country) SELECT amount, country FROM history WHERE id <= 200;
INSERT INTO live (amount, country, created_at) SELECT amount, country, '2024-05-02 10:00+00' FROM history WHERE id > 200 AND id <= 300;
SELECT table_name, day, model_version, scored, flagged = (SELECT count(*) FROM live WHERE is_flagged AND created_at::date = a.day) AS flagged_matches
  FROM fraud_daily_activity a ORDER BY day;
SELECT reason, flagged FROM fraud_flag_reasons WHERE table_name = 'live'::regclass ORDER BY flagged DESC, reason LIMIT 3;
-- Each flagged row has one reason (its first rule, else its top feature, else "(no positive
-- contribution)"): the counts add up to the flagged rows.
SELECT (SELECT sum(flagged) FROM fraud_flag_reasons WHERE table_name = 'live'::regclass) AS reasons,
       (SELECT count(*) FROM live WHERE is_flagged) AS flagged_rows;
-- Only scored rows count as scored (a row stored with the trigger disabled is not), and the day
-- of a timestamptz is its UTC day whatever the session's TimeZone.
ALTER TABLE live DISABLE TRIGGER fraud_flag;
INSERT INTO live (amount, country, created_at) VALUES (10, 'US', '2024-05-02 23:30+00');
ALTER TABLE live ENABLE TRIGGER fraud_flag;
SET TimeZone = 'Asia/Tokyo';
SELECT day, sum(scored) AS scored FROM fraud_daily_activity WHERE table_name = 'live'::regclass GROUP BY day ORDER BY day;
-- The score distribution per day: buckets add up to the scored rows of each day, each row in
-- the bucket its score falls in (counted here independently with the same edges).
SELECT h.day, sum(h.rows) = a.scored AS adds_up,
       bool_and(h.rows = (SELECT count(*) FROM live l WHERE l.fraud_score IS NOT NULL
                             AND (l.created_at AT TIME ZONE 'UTC')::date = h.day
                             AND l.fraud_score >= h.lower_score AND (l.fraud_score < h.upper_score OR h.upper_score = 1))) AS exact
  FROM fraud_daily_score_histogram h JOIN fraud_daily_activity a USING (table_name, day, model_version)
 WHERE h.table_name = 'live'::regclass GROUP BY h.day, a.scored ORDER BY h.day;
SELECT count(DISTINCT bucket) > 1 AS several_buckets, min(lower_score) >= 0 AND max(upper_score) <= 1 AS in_range
  FROM fraud_daily_score_histogram WHERE table_name = 'live'::regclass;
RESET TimeZone;
SELECT sum(scored) AS scored_before, sum(flagged) AS flagged_before FROM fraud_daily_activity
 WHERE table_name = 'live'::regclass \gset
SELECT fraud_detach('live');
SELECT count(*) AS attachments FROM fraud_attachments;
-- Detaching keeps the rows scored while attached in the views: they are still the table's history.
SELECT sum(scored) = :scored_before AS scored_kept, sum(flagged) = :flagged_before AS flagged_kept
  FROM fraud_daily_activity WHERE table_name = 'live'::regclass;
SELECT sum(flagged) = :flagged_before AS reasons_kept FROM fraud_flag_reasons WHERE table_name = 'live'::regclass;
SELECT sum(rows) = :scored_before AS histogram_kept FROM fraud_daily_score_histogram WHERE table_name = 'live'::regclass;
-- Attached with add_columns alone, a table gets a model_version column: the views tell
-- versions apart without a version_column option.
CREATE TABLE live3 (amount numeric, country text, created_at timestamptz DEFAULT '2024-05-03 10:00+00');
SELECT fraud_attach('live3', 'default', '{"add_columns": true}');
INSERT INTO live3 (amount, country) SELECT amount, country FROM history WHERE id <= 20;
SELECT model_version, scored FROM fraud_daily_activity WHERE table_name = 'live3'::regclass;
SELECT fraud_detach('live3');
DROP TABLE live3;

DELETE FROM fraud_rules;
DELETE FROM fraud_models;
-- With its model gone, a detached table's flagged rows still count, under a reason that says so.
SELECT reason FROM fraud_flag_reasons WHERE table_name = 'live'::regclass ORDER BY reason;
SELECT sum(flagged) = :flagged_before AS all_flagged FROM fraud_flag_reasons WHERE table_name = 'live'::regclass;
DROP TABLE live;
