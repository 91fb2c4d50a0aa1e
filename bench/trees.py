"""Gradient-boosted trees scored in the database against XGBoost's own predict.

Also: the same scoring on one thread against XGBoost's inplace_predict on a numpy array with
nthread=1 (goal <= 1.5), against logistic regression's fraud_score over the same columns, and
pgbench single-row INSERTs into a table with the tree model attached against the same table
without pg_fraud (goal >= 0.9).

An XGBoost model (--trees trees of depth 6, trained here with Debian's python3-xgboost on the
generator's application columns, one-hot channel and category) is imported into pg_fraud.
Then --rows rows are scored three ways, each timed on the same rows: pg_fraud's native
evaluator in SQL (`SELECT sum(fraud_score(t, 'xgb_bench')) FROM table t`), XGBoost's
Booster.predict on a DMatrix built from the same rows already in Python memory (the model
service's best case: no fetch, no HTTP), and the same plus fetching the rows from PostgreSQL
first (what a service or a batch job does). Reports the ratios and that the scores agree.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time

import numpy as np
import pandas as pd
import xgboost as xgb

from benchlib import connect, print_table

COLUMNS = ["amount", "channel", "merchant_category"]


def frame(rows):
    df = pd.DataFrame(rows, columns=COLUMNS)
    out = pd.DataFrame({"amount": df["amount"].astype(float)})
    for c in ["channel", "merchant_category"]:
        for v in sorted(df[c].dropna().unique()):
            out[f"{c}={v}"] = (df[c] == v).astype(float)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--trees", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="each pgbench run")
    args = parser.parse_args()
    cur = connect().cursor()
    cur.execute("SET client_min_messages = warning")
    cur.execute("DROP TABLE IF EXISTS bt_tx")
    cur.execute("CREATE TABLE bt_tx AS SELECT * FROM fraud_generate_transactions(%s, 9, 0.03, '2026-01-01', 1, 20000)", (args.rows,))
    cur.execute("VACUUM ANALYZE bt_tx")
    cur.execute("SELECT amount, channel, merchant_category, is_fraud FROM bt_tx ORDER BY id LIMIT 200000")
    train = cur.fetchall()
    X = frame([r[:3] for r in train])
    model = xgb.XGBClassifier(n_estimators=args.trees, max_depth=6, learning_rate=0.1, tree_method="hist", random_state=0)
    model.fit(X, np.array([r[3] for r in train], dtype=int))
    path = "/tmp/pg_fraud_bench_xgb.json"
    model.get_booster().save_model(path)
    booster = json.load(open(path))
    os.unlink(path)
    inputs = [{"name": c} if "=" not in c else {"name": c.split("=")[0], "equals": c.split("=", 1)[1]} for c in X.columns]
    cur.execute("DELETE FROM fraud_models WHERE name = 'xgb_bench'")
    cur.execute("SELECT version FROM fraud_import_model(%s::jsonb, 'xgb_bench')", (json.dumps({"xgboost": booster, "inputs": inputs}),))

    def in_sql():
        start = time.perf_counter()
        cur.execute("SELECT sum(fraud_score(t, 'xgb_bench')) FROM bt_tx t")
        cur.fetchone()
        return time.perf_counter() - start

    cur.execute("SELECT amount, channel, merchant_category FROM bt_tx ORDER BY id")
    all_rows = frame(cur.fetchall())
    all_rows = all_rows.reindex(columns=X.columns, fill_value=0.0)

    def in_python():
        start = time.perf_counter()
        model.get_booster().predict(xgb.DMatrix(all_rows))
        return time.perf_counter() - start

    def fetch_and_python():
        start = time.perf_counter()
        cur.execute("SELECT amount, channel, merchant_category FROM bt_tx")
        f = frame(cur.fetchall()).reindex(columns=X.columns, fill_value=0.0)
        model.get_booster().predict(xgb.DMatrix(f))
        return time.perf_counter() - start

    dense = all_rows.to_numpy(dtype=np.float32)
    single = model.get_booster().copy()
    single.set_param({"nthread": 1})

    def inplace_one_thread():
        start = time.perf_counter()
        single.inplace_predict(dense)
        return time.perf_counter() - start

    def serial_sql(name):
        def run():
            cur.execute("SET max_parallel_workers_per_gather = 0")
            start = time.perf_counter()
            cur.execute(f"SELECT sum(fraud_score(t, '{name}')) FROM bt_tx t")
            cur.fetchone()
            elapsed = time.perf_counter() - start
            cur.execute("RESET max_parallel_workers_per_gather")
            return elapsed
        return run

    cur.execute("SELECT 1 FROM train_fraud_model('bt_tx', 'is_fraud', 'lr_bench', "
                "'{\"features\": [\"amount\", \"channel\", \"merchant_category\"]}')")
    ours, theirs, fetched, one, inplace, linear = [], [], [], [], [], []
    for _ in range(args.runs):
        ours.append(in_sql())
        theirs.append(in_python())
        fetched.append(fetch_and_python())
        one.append(serial_sql("xgb_bench")())
        inplace.append(inplace_one_thread())
        linear.append(serial_sql("lr_bench")())
    o, t, f = statistics.median(ours), statistics.median(theirs), statistics.median(fetched)
    o1, i1, l1 = statistics.median(one), statistics.median(inplace), statistics.median(linear)
    tps_trees, tps_plain = insert_path(cur, args.seconds)
    cur.execute("SELECT fraud_score(t, 'xgb_bench') FROM bt_tx t ORDER BY id LIMIT 100000")
    got = np.array([r[0] for r in cur.fetchall()])
    diff = float(np.max(np.abs(got - model.get_booster().predict(xgb.DMatrix(all_rows.iloc[:100000])))))
    print_table([
        (f"score {args.rows} rows, {args.trees} trees: fraud_score in SQL / XGBoost predict (rows in memory)", f"{o:.2f} s",
         f"{t:.2f} s", f"{o / t:.2f}", "-", "-"),
        (f"score {args.rows} rows: fraud_score in SQL / fetch the rows + XGBoost predict", f"{o:.2f} s", f"{f:.2f} s",
         f"{o / f:.2f}", "<= 1", "yes" if o <= f else "no"),
        (f"score {args.rows} rows, one thread: fraud_score in SQL / inplace_predict on numpy, nthread 1", f"{o1:.2f} s",
         f"{i1:.2f} s", f"{o1 / i1:.2f}", "<= 1.5", "yes" if o1 / i1 <= 1.5 else "no"),
        (f"score {args.rows} rows, one thread: trees / logistic regression (fraud_score, same columns)", f"{o1:.2f} s",
         f"{l1:.2f} s", f"{o1 / l1:.2f}", "-", "-"),
        (f"pgbench INSERT TPS, {args.trees} trees attached / no pg_fraud", f"{tps_trees:.0f} tps", f"{tps_plain:.0f} tps",
         f"{tps_trees / tps_plain:.3f}", ">= 0.9", "yes" if tps_trees / tps_plain >= 0.9 else "no"),
        ("max |fraud_score - predict|, 100000 rows", f"{diff:.1e}", "-", "-", "< 1e-6", "yes" if diff < 1e-6 else "no"),
    ], f"Gradient-boosted trees: native scoring against XGBoost (median of {args.runs})")
    cur.execute("DROP TABLE bt_tx")
    cur.execute("SELECT fraud_retire_model('lr_bench')")


PGBENCH = "/usr/lib/postgresql/15/bin/pgbench"


def insert_path(cur, seconds):
    """pgbench single-row INSERTs (1 client) into a table with the tree model attached and into
    the same table without pg_fraud, alternated, 5 pairs: the medians of their TPS."""
    for table in ("bt_live", "bt_plain"):
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, amount numeric, channel text, "
                    "merchant_category text, is_flagged boolean, fraud_score float8)")
    cur.execute("SELECT fraud_attach('bt_live', 'xgb_bench')")
    cur.execute("CHECKPOINT")
    rates = {"bt_live": [], "bt_plain": []}
    for k in range(5):
        for table in (("bt_plain", "bt_live") if k % 2 == 0 else ("bt_live", "bt_plain")):
            with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
                script.write(f"INSERT INTO {table} (amount, channel, merchant_category) VALUES "
                             "(round((random() * 500)::numeric, 2), (ARRAY['web', 'pos', 'app'])[1 + (random() * 2)::int], "
                             "(ARRAY['grocery', 'travel', 'digital_goods', 'fuel', 'electronics', 'gaming'])[1 + (random() * 5)::int]);\n")
            out = subprocess.run([PGBENCH, "-n", "-M", "prepared", "-c", "1", "-T", str(seconds), "-f", script.name],
                                 capture_output=True, text=True, check=True).stdout
            os.unlink(script.name)
            rates[table].append(float(re.search(r"tps = ([0-9.]+)", out).group(1)))
    cur.execute("SELECT fraud_detach('bt_live')")
    cur.execute("DROP TABLE bt_live, bt_plain")
    return statistics.median(rates["bt_live"]), statistics.median(rates["bt_plain"])


if __name__ == "__main__":
    main()
