"""Gradient-boosted trees trained in the database (train_fraud_model with "algorithm":
"gradient_boosting", libxgboost through its data iterator) against Python XGBoost (Debian's
python3-xgboost 1.7.4) with the same parameters on the same split: |delta ROC AUC| <= 0.002 on
the held-out rows, for the ULB credit-card subset, the insurance claims and generated
transactions with history features; each AUC computed by scikit-learn from the scores, with
logistic regression's beside. Prints "N passed, N failed".
"""
import json
import os

import numpy as np
import pandas as pd
import psycopg2
import xgboost as xgb
from sklearn.metrics import roc_auc_score

from xgboost_import import insurance

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "shared", "datasets")
passed = failed = 0
TREES, DEPTH, ETA = 100, 4, 0.1


def check(name, ok):
    global passed, failed
    print(("ok   " if ok else "FAIL ") + name)
    passed, failed = passed + bool(ok), failed + (not ok)


def held_out(y, seed=0, fraction=0.3):
    """A stratified random split: True for held-out rows."""
    rng = np.random.RandomState(seed)
    held = np.zeros(len(y), dtype=bool)
    for c in (0, 1):
        idx = np.flatnonzero(np.asarray(y) == c)
        rng.shuffle(idx)
        held[idx[: int(round(fraction * len(idx)))]] = True
    return held


def python_auc(X_train, y_train, X_test, y_test):
    params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": DEPTH, "eta": ETA, "nthread": 2,
              "max_bin": 256, "seed": 0, "verbosity": 0}
    booster = xgb.train(params, xgb.QuantileDMatrix(X_train, y_train, max_bin=256), TREES)
    return roc_auc_score(y_test, booster.predict(xgb.DMatrix(X_test)))


def load(cur, table, frame, text_columns):
    held = frame["__held"].tolist()
    body = frame.drop(columns="__held")
    cols = ", ".join(f'"{c}" ' + ("text" if c in text_columns else "float8") for c in body.columns)
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(f"CREATE TABLE {table} (row_id int, held boolean, {cols})")
    rows = [[i, bool(held[i])] + [None if (isinstance(v, float) and np.isnan(v)) else v for v in r]
            for i, r in enumerate(body.itertuples(index=False))]
    cur.executemany(f"INSERT INTO {table} VALUES ({', '.join(['%s'] * (len(body.columns) + 2))})", rows)


def ours(cur, table, label, options, name):
    """pg_fraud's trees and logistic regression on the rows not held out; AUCs on the held-out rows."""
    out = {}
    for algo, opts in (("gb", dict(options, algorithm="gradient_boosting", trees=TREES, max_depth=DEPTH,
                                   learning_rate=ETA, threads=2)),
                       ("lr", dict(options))):
        cur.execute("SELECT 1 FROM train_fraud_model(%s, %s, %s, %s)", (table, label, f"{name}_{algo}", json.dumps(opts)))
        cur.execute(f"SELECT fraud_score(t, %s), t.\"{label}\" FROM {table} t WHERE held ORDER BY row_id", (f"{name}_{algo}",))
        scores, labels = zip(*cur.fetchall())
        labels = [1 if v in (True, 1, "Y", "1") else 0 for v in labels]
        out[algo] = roc_auc_score(labels, scores)
    return out


def compare(name, theirs, mine):
    delta = abs(mine["gb"] - theirs)
    check(f"{name}: ROC AUC of pg_fraud's trees {mine['gb']:.4f}, Python XGBoost's {theirs:.4f} (|delta| {delta:.4f} <= 0.002);"
          f" logistic regression {mine['lr']:.4f}", delta <= 0.002)


def main():
    conn = psycopg2.connect(dbname=os.environ.get("PGDATABASE", "postgres"))
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET client_min_messages = warning")
    cur.execute("CREATE EXTENSION IF NOT EXISTS pg_fraud")

    # 1. Credit cards: 29 numbers.
    cc = pd.read_csv(os.path.join(DATA, "creditcard_ulb_subset.csv"))
    held = held_out(cc["Class"])
    X, y = cc.drop(columns="Class"), cc["Class"]
    theirs = python_auc(X[~held], y[~held], X[held], y[held])
    load(cur, "xgbt_cc", cc.assign(__held=held), set())
    compare(f"credit cards ({len(cc)} rows, {held.sum()} held out)", theirs,
            ours(cur, "xgbt_cc", "Class", {"holdout_column": "held", "exclude": ["row_id"]}, "xgbt_cc"))

    # 2. Insurance claims: numbers and 17 text columns ('?' missing, loaded as NULL), one-hot
    # in Python (xgboost_import.py reads them the same way).
    frame, y, numeric, text = insurance()
    held = held_out(y)
    # In the table's column order, each text column's one-hot columns in its place (XGBoost
    # breaks ties between equally good splits by column order).
    X = pd.concat([pd.get_dummies(frame[[c]], prefix_sep="=", dtype=float) if c in text else frame[[c]].astype(float)
                   for c in frame.columns], axis=1)
    theirs = python_auc(X[~held], y[~held], X[held], y[held])
    load(cur, "xgbt_ins", frame.assign(fraud_reported=y.astype(float), __held=held), set(text))
    compare(f"insurance claims ({len(frame)} rows, {held.sum()} held out)", theirs,
            ours(cur, "xgbt_ins", "fraud_reported", {"holdout_column": "held", "exclude": ["row_id"]}, "xgbt_ins"))

    # 3. Generated transactions with history features, held out by time (the latest 20%).
    history = {"by": "account_id", "time": "created_at", "windows": ["1 hour", "1 day", "30 days"],
               "amounts": ["amount"], "distinct": ["country"], "new": ["country", "device_id"]}
    cur.execute("DROP TABLE IF EXISTS xgbt_tx")
    cur.execute("CREATE TABLE xgbt_tx AS SELECT * FROM fraud_generate_transactions(20000, 11)")
    opts = {"exclude": ["id", "device_id"], "history": history, "time_zone": "UTC"}
    mine = {}
    for algo, o in (("gb", dict(opts, algorithm="gradient_boosting", trees=TREES, max_depth=DEPTH, learning_rate=ETA,
                                threads=2)), ("lr", opts)):
        cur.execute("SELECT document -> 'metrics' ->> 'holdout_from' FROM train_fraud_model('xgbt_tx', 'is_fraud', %s, %s)",
                    (f"xgbt_tx_{algo}", json.dumps(o)))
        cutoff = cur.fetchone()[0]
        cur.execute("SELECT fraud_score(t, %s), is_fraud FROM xgbt_tx t WHERE created_at >= %s::timestamptz ORDER BY id",
                    (f"xgbt_tx_{algo}", cutoff))
        s, l = zip(*cur.fetchall())
        mine[algo] = roc_auc_score(l, s)
    cur.execute("SELECT fraud_history_source('xgbt_tx', 'xgbt_tx_gb')")
    cur.execute(f"SELECT * FROM {cur.fetchone()[0]} AS f ORDER BY id")
    f = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
    hist = [c for c in f.columns if c.startswith("account_id:")]
    when = pd.to_datetime(f["created_at"], utc=True)
    X = pd.concat([f[["amount"] + hist].astype(float),
                   pd.get_dummies(f[["merchant_category", "country", "channel"]], prefix_sep="=", dtype=float),
                   pd.DataFrame({"hour": when.dt.hour, "weekday": (when.dt.dayofweek + 1) % 7}, dtype=float)], axis=1)
    later = (when >= pd.Timestamp(cutoff)).to_numpy()
    y = f["is_fraud"].astype(int)
    theirs = python_auc(X[~later], y[~later], X[later], y[later])
    compare(f"generated transactions with {len(hist)} history features ({len(f)} rows, {later.sum()} held out by time)",
            theirs, mine)

    for t in ("xgbt_cc", "xgbt_ins", "xgbt_tx"):
        cur.execute(f"DROP TABLE {t}")
    cur.execute("SELECT fraud_retire_model(name) FROM (SELECT DISTINCT name FROM fraud_models WHERE name LIKE 'xgbt_%') m")
    print(f"{passed} passed, {failed} failed")


if __name__ == "__main__":
    main()
