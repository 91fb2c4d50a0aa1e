"""Training gradient-boosted trees in the database against XGBoost in Python.

--rows rows x 30 numeric features (bench/training.py's table), --trees trees of depth 6,
learning rate 0.1, hist, 256 bins, 2 threads, every row trained on ("holdout": 0), timed side
by side in one run (alternated, medians of --runs):
- pg_fraud: train_fraud_model(..., {"algorithm": "gradient_boosting"}) (a statistics pass,
  XGBoost's passes through its data iterator, an evaluation pass, the model stored);
- xgboost.train on the same rows already in a numpy array (matrix built, then trained):
  goal <= 1.3;
- what a team does today: psycopg2 fetch -> pandas -> xgboost.train -> fraud_import_model:
  goal <= 0.5.
Also the training backend's peak memory (RssAnon, sampled as bench/training.py samples it) and the AUC.
"""
import argparse
import json
import os
import statistics
import time

import numpy as np
import pandas as pd
import xgboost as xgb

from benchlib import connect, print_table, timed_peak_rss
from training import N_FEATURES, make_table

PARAMS = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 6, "eta": 0.1, "max_bin": 256,
          "nthread": 2, "seed": 0, "verbosity": 0}
FEATURES = [f"f{i}" for i in range(1, N_FEATURES + 1)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cur = connect().cursor()
    cur.execute("SET client_min_messages = warning")
    make_table(cur, "btt", args.rows, 0.4)
    options = json.dumps({"algorithm": "gradient_boosting", "trees": args.trees, "max_depth": 6, "learning_rate": 0.1,
                          "threads": 2, "holdout": 0})
    peaks = []

    def in_database():
        conn = connect()  # a fresh backend: its peak memory is this training's
        c = conn.cursor()
        c.execute("SET client_min_messages = warning")
        c.execute("SELECT pg_backend_pid()")
        elapsed, peak = timed_peak_rss(c, c.fetchone()[0],
                                       c.mogrify("SELECT 1 FROM train_fraud_model('btt', 'is_fraud', 'btt_gb', %s)",
                                                 (options,)).decode())
        peaks.append(peak)
        conn.close()
        return elapsed

    def fetch():
        cur.execute("SELECT " + ", ".join(FEATURES) + ", is_fraud FROM btt")
        return pd.DataFrame(cur.fetchall(), columns=FEATURES + ["is_fraud"])

    df = fetch()
    X = df[FEATURES].to_numpy(dtype=np.float32)
    y = df["is_fraud"].to_numpy(dtype=np.float32)
    del df

    def in_memory():
        start = time.perf_counter()
        xgb.train(PARAMS, xgb.QuantileDMatrix(X, y, max_bin=256), args.trees)
        return time.perf_counter() - start

    def exported():
        start = time.perf_counter()
        frame = fetch()
        booster = xgb.train(PARAMS, xgb.QuantileDMatrix(frame[FEATURES].astype(np.float32), frame["is_fraud"].astype(int)),
                            args.trees)
        path = "/tmp/pg_fraud_bench_trees.json"
        booster.save_model(path)
        with open(path) as f:
            doc = json.load(f)
        os.unlink(path)
        cur.execute("SELECT 1 FROM fraud_import_model(%s::jsonb, 'btt_import')", (json.dumps(doc),))
        return time.perf_counter() - start

    ours, memory, export = [], [], []
    for _ in range(args.runs):
        ours.append(in_database())
        memory.append(in_memory())
        export.append(exported())
    t_ours, t_mem, t_exp = statistics.median(ours), statistics.median(memory), statistics.median(export)
    cur.execute("SELECT document -> 'metrics' ->> 'roc_auc', document -> 'training' -> 'booster' ->> 'seconds' "
                "FROM fraud_models WHERE name = 'btt_gb' ORDER BY version DESC LIMIT 1")
    auc, boosting = cur.fetchone()
    rows = [(f"train {args.rows:,} x {N_FEATURES}, {args.trees} trees of depth 6", f"{t_ours:.2f} s",
             f"{t_mem:.2f} s xgboost.train on numpy", f"{t_ours / t_mem:.2f}", "<= 1.3",
             "yes" if t_ours / t_mem <= 1.3 else "no"),
            ("", f"{t_ours:.2f} s", f"{t_exp:.2f} s fetch+pandas+train+import", f"{t_ours / t_exp:.2f}", "<= 0.5",
             "yes" if t_ours / t_exp <= 0.5 else "no")]
    print_table(rows, f"Training boosted trees ({args.runs} alternated runs, medians; 2 threads each)")
    print(f"  pg_fraud: XGBoost (its passes over the rows and the rounds) {boosting} s of {t_ours:.2f} s; in-sample ROC AUC {float(auc):.4f}; "
          f"peak backend RssAnon {max(peaks):.0f} MB for {args.rows:,} rows "
          f"(goal at 10,000,000 rows: <= 1.5 GB; run with --rows 10000000)")
    cur.execute("SELECT fraud_retire_model(n) FROM unnest(ARRAY['btt_gb', 'btt_import']) n")
    cur.execute("DROP TABLE btt")


if __name__ == "__main__":
    main()
