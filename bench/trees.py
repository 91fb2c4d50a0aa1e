"""Gradient-boosted trees scored in the database against XGBoost's own predict.

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
import statistics
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

    ours, theirs, fetched = [], [], []
    for _ in range(args.runs):
        ours.append(in_sql())
        theirs.append(in_python())
        fetched.append(fetch_and_python())
    o, t, f = statistics.median(ours), statistics.median(theirs), statistics.median(fetched)
    cur.execute("SELECT fraud_score(t, 'xgb_bench') FROM bt_tx t ORDER BY id LIMIT 100000")
    got = np.array([r[0] for r in cur.fetchall()])
    diff = float(np.max(np.abs(got - model.get_booster().predict(xgb.DMatrix(all_rows.iloc[:100000])))))
    print_table([
        (f"score {args.rows} rows, {args.trees} trees: fraud_score in SQL / XGBoost predict (rows in memory)", f"{o:.2f} s",
         f"{t:.2f} s", f"{o / t:.2f}", "-", "-"),
        (f"score {args.rows} rows: fraud_score in SQL / fetch the rows + XGBoost predict", f"{o:.2f} s", f"{f:.2f} s",
         f"{o / f:.2f}", "<= 1", "yes" if o <= f else "no"),
        ("max |fraud_score - predict|, 100000 rows", f"{diff:.1e}", "-", "-", "< 1e-6", "yes" if diff < 1e-6 else "no"),
    ], f"Gradient-boosted trees: native scoring against XGBoost (median of {args.runs})")
    cur.execute("DROP TABLE bt_tx")


if __name__ == "__main__":
    main()
