"""The monitoring views over --rows scored rows (10,000,000 by default).

One attached table holds the rows as the trigger would have stored them (score, flag, model
version, fired rules, rule errors) over 30 days: they are loaded with the trigger disabled and
the model's score computed in SQL, so the load takes a minute rather than the trigger's hour.
One row in 100 of the flagged ones has a confirmed outcome. Each view is read whole
(count(*) over it) and timed against one sequential scan of the table (count(*) FROM the
table): the ratio says how many table scans a view costs.
"""
import argparse
import json
import time

from benchlib import connect, print_table

MODEL = {"format": "pg_fraud.model/1", "algorithm": "logistic_regression", "intercept": -9.0, "threshold": 0.5,
         "features": [{"name": "amount", "kind": "numeric", "weight": 0.004},
                      {"name": "channel", "kind": "categorical", "weights": {"web": 1.5, "pos": -0.5}, "default_weight": 0}]}
VIEWS = ["fraud_daily_activity", "fraud_daily_score_histogram", "fraud_alert_outcomes_daily", "fraud_daily_rule_hits",
         "fraud_flag_reasons", "fraud_scoring_failures_daily", "fraud_model_timeline", "fraud_model_versions"]


def load(cur, rows):
    cur.execute("SET client_min_messages = warning")
    cur.execute("DROP TABLE IF EXISTS bv_tx CASCADE")
    cur.execute("DELETE FROM fraud_outcomes")
    cur.execute("DELETE FROM fraud_models WHERE name = 'bv'")
    cur.execute("SELECT version FROM fraud_import_model(%s::jsonb, 'bv')", (json.dumps(MODEL),))
    cur.execute("INSERT INTO fraud_rules (model, name, predicate) VALUES ('bv', 'big_web', '$.amount > 2000 && $.channel == \"web\"')")
    cur.execute("CREATE TABLE bv_tx (id bigint PRIMARY KEY, amount numeric, channel text, created_at timestamptz)")
    cur.execute("""SELECT fraud_attach('bv_tx', 'bv', '{"add_columns": true, "rules_column": "fired_rules",
                                                       "rule_errors_column": "rule_errors"}')""")
    cur.execute("ALTER TABLE bv_tx DISABLE TRIGGER USER")
    start = time.perf_counter()
    # The score the model gives, the flag at its threshold or by the rule, as the trigger stores them.
    cur.execute("""
      INSERT INTO bv_tx (id, amount, channel, created_at, is_flagged, fraud_score, model_version, fired_rules, rule_errors)
      SELECT i, a, c, t, s >= 0.5 OR r IS NOT NULL, s, 1, r, NULL
        FROM (SELECT i, a, c, t, 1 / (1 + exp(-(-9.0 + 0.004 * a + CASE c WHEN 'web' THEN 1.5 WHEN 'pos' THEN -0.5 ELSE 0 END))) AS s,
                     CASE WHEN a > 2000 AND c = 'web' THEN ARRAY['big_web'] END AS r
                FROM (SELECT i, round((exp(random() * 8))::numeric, 2) AS a,
                             (ARRAY['web', 'pos', 'atm'])[1 + i %% 3] AS c,
                             timestamptz '2026-01-01 00:00+00' + (i::float8 / %s) * interval '30 days' AS t
                        FROM generate_series(1, %s) AS i) AS g) AS scored""", (rows, rows))
    cur.execute("ALTER TABLE bv_tx ENABLE TRIGGER USER")
    cur.execute("""INSERT INTO fraud_outcomes (tab, row_key, outcome, source)
                   SELECT 'bv_tx'::regclass, id::text, id % 3 = 0, 'review' FROM bv_tx WHERE is_flagged AND id % 100 = 0""")
    cur.execute("VACUUM ANALYZE bv_tx")
    cur.execute("SELECT count(*) FILTER (WHERE is_flagged) FROM bv_tx")
    return time.perf_counter() - start, cur.fetchone()[0]


def timed_count(cur, relation):
    start = time.perf_counter()
    cur.execute(f"SELECT count(*) FROM {relation}")
    n = cur.fetchone()[0]
    return time.perf_counter() - start, n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    conn = connect()
    cur = conn.cursor()
    seconds, flagged = load(cur, args.rows)
    scan, _ = timed_count(cur, "bv_tx")
    scan = min(scan, timed_count(cur, "bv_tx")[0])
    out = []
    for view in VIEWS:
        t, n = timed_count(cur, view)
        out.append((f"SELECT count(*) FROM {view} ({n} rows)", f"{t:.2f} s", f"{scan:.2f} s (table scan)", f"{t / scan:.1f}",
                    "-", "-"))
    print_table(out, f"Monitoring views over {args.rows} scored rows ({flagged} flagged, loaded in {seconds:.0f} s)")
    cur.execute("DROP TABLE bv_tx CASCADE")
    cur.execute("DELETE FROM fraud_outcomes")


if __name__ == "__main__":
    main()
