"""Accuracy against scikit-learn on the real data sets of ../shared/datasets.

Both sides get the same stratified 80/20 split: scikit-learn fits StandardScaler +
OneHotEncoder + LogisticRegression(C = 1/l2) on the training rows; pg_fraud trains on a view
of the same rows with holdout 0. Both score the same test rows, and scikit-learn's
roc_auc_score rates both sets of scores. Prints "N passed, N failed".
"""
import json
import os
import sys

import numpy as np
import pandas as pd
import psycopg2
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

DATA = os.environ.get("PG_FRAUD_DATASETS", os.path.join(os.path.dirname(__file__), "../../../shared/datasets"))
RESULTS = []


def check(name, ok, detail):
    RESULTS.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")


def load(cur, table, frame, text_columns, date_columns):
    """Creates `table` from a DataFrame: numbers as float8, text as text, dates as date."""
    columns = []
    for c in frame.columns:
        if c in date_columns:
            columns.append(f'"{c}" date')
        elif c in text_columns or frame[c].dtype == object:
            columns.append(f'"{c}" text')
        else:
            columns.append(f'"{c}" float8')
    cur.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    cur.execute(f"CREATE TABLE {table} (row_id int, split text, {', '.join(columns)})")
    rows = []
    for i, record in enumerate(frame.itertuples(index=False)):
        rows.append([i, None] + [None if (isinstance(v, float) and np.isnan(v)) else v for v in record])
    placeholders = ", ".join(["%s"] * (len(frame.columns) + 2))
    cur.executemany(f"INSERT INTO {table} VALUES ({placeholders})", rows)


def signed_log1p(x):
    """pg_fraud's "log1p" transform: sign(x) * log1p(|x|) (NaN stays NaN, to be imputed after)."""
    return np.sign(x) * np.log1p(np.abs(x))


def compare(cur, name, frame, label, positive, numeric, categorical, l2=1.0, log1p=()):
    """Trains both on the same split (the `log1p` columns transformed on both sides, before
    imputing and scaling); returns pg_fraud's document."""
    y = (frame[label] == positive).astype(int).to_numpy()
    train_idx, test_idx = train_test_split(np.arange(len(frame)), test_size=0.2, stratify=y, random_state=0)
    cur.execute(f"UPDATE {name} SET split = CASE WHEN row_id = ANY(%s) THEN 'test' ELSE 'train' END",
                ([int(i) for i in test_idx],))
    keep = numeric + categorical
    cur.execute(f"CREATE OR REPLACE VIEW {name}_train AS SELECT * FROM {name} WHERE split = 'train'")
    options = {"features": keep, "holdout": 0, "l2": l2}
    if log1p:
        options["log1p"] = list(log1p)
    cur.execute("SELECT version, document FROM train_fraud_model(%s, %s, %s, %s)",
                (f"{name}_train", label, name, json.dumps(options)))
    _, document = cur.fetchone()
    cur.execute(f"SELECT row_id, fraud_score(t, %s) FROM {name} t WHERE split = 'test' ORDER BY row_id", (name,))
    db_scores = dict(cur.fetchall())

    plain = [c for c in numeric if c not in log1p]
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), plain),
        ("log", make_pipeline(FunctionTransformer(signed_log1p), SimpleImputer(strategy="mean"), StandardScaler()),
         list(log1p)),
        ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="(missing)"),
                              OneHotEncoder(handle_unknown="ignore")), categorical)])
    clf = make_pipeline(pre, LogisticRegression(C=1.0 / l2, max_iter=100000, tol=1e-10))
    X = frame[keep]
    clf.fit(X.iloc[train_idx], y[train_idx])
    sk = clf.predict_proba(X.iloc[test_idx])[:, 1]
    db = np.array([db_scores[int(i)] for i in sorted(test_idx)])
    sk_sorted = sk[np.argsort(test_idx)]
    y_test = y[np.sort(test_idx)]
    auc_db, auc_sk = roc_auc_score(y_test, db), roc_auc_score(y_test, sk_sorted)
    ap_db, ap_sk = average_precision_score(y_test, db), average_precision_score(y_test, sk_sorted)
    check(f"{name}: test ROC AUC within 0.005 of scikit-learn", abs(auc_db - auc_sk) <= 0.005,
          f"pg_fraud {auc_db:.4f}, scikit-learn {auc_sk:.4f}, difference {abs(auc_db - auc_sk):.5f}")
    check(f"{name}: average precision within 0.01 of scikit-learn", abs(ap_db - ap_sk) <= 0.01,
          f"pg_fraud {ap_db:.4f}, scikit-learn {ap_sk:.4f}")
    # fraud_evaluate on the test rows agrees with scikit-learn's metrics of the same scores.
    cur.execute(f"CREATE OR REPLACE VIEW {name}_test AS SELECT * FROM {name} WHERE split = 'test'")
    cur.execute("SELECT fraud_evaluate(%s, %s, %s)", (f"{name}_test", label, name))
    evaluation = cur.fetchone()[0]
    check(f"{name}: fraud_evaluate ROC AUC = roc_auc_score of fraud_score (histogram precision 0.002)",
          abs(evaluation["roc_auc"] - auc_db) <= 0.002, f"{evaluation['roc_auc']:.5f} vs {auc_db:.5f}")
    check(f"{name}: fraud_evaluate PR AUC = average_precision_score of fraud_score (0.005)",
          abs(evaluation["pr_auc"] - ap_db) <= 0.005, f"{evaluation['pr_auc']:.5f} vs {ap_db:.5f}")
    gap = float(np.max(np.abs(db - sk_sorted)))
    check(f"{name}: same objective, same probabilities (max gap < 0.01)", gap < 0.01, f"max |p_db - p_sk| = {gap:.2e}")
    return document


def log1p_effect(cur):
    """The generator's amounts are heavy-tailed (fraud far above the account's usual): read as
    log1p, one more dollar weighs less at 20,000 than at 20, and the model separates better;
    also the share of rows whose scores saturate (a logit beyond +-20) on each."""
    cur.execute("DROP TABLE IF EXISTS gen_tx")
    cur.execute("CREATE TABLE gen_tx AS SELECT * FROM fraud_generate_transactions(50000, 5)")
    figures = {}
    for model, extra in (("gen_linear", {}), ("gen_log1p", {"log1p": ["amount"]})):
        options = {"exclude": ["id", "account_id", "device_id"], **extra}
        cur.execute("SELECT metrics FROM train_fraud_model('gen_tx', 'is_fraud', %s, %s)", (model, json.dumps(options)))
        metrics = cur.fetchone()[0]
        # the share of rows whose logit is beyond +-20 (scores within 2e-9 of 0 or 1)
        cur.execute("SELECT avg((fraud_score(t, %s) NOT BETWEEN 2.1e-9 AND 1 - 2.1e-9)::int) FROM gen_tx t", (model,))
        figures[model] = (metrics["roc_auc"], metrics["pr_auc"], float(cur.fetchone()[0]))
    (auc_l, ap_l, sat_l), (auc_g, ap_g, sat_g) = figures["gen_linear"], figures["gen_log1p"]
    check("generator: log1p(amount) measures better on the holdout (PR AUC) and saturates no more rows (|logit| > 20)",
          ap_g > ap_l and sat_g <= sat_l,
          f"linear amount: {100 * sat_l:.2f}% saturated, holdout ROC AUC {auc_l:.4f}, PR AUC {ap_l:.4f}; "
          f"log1p: {100 * sat_g:.2f}%, ROC AUC {auc_g:.4f}, PR AUC {ap_g:.4f}")


def main():
    conn = psycopg2.connect(dbname=os.environ.get("PGDATABASE", "postgres"))
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("DROP EXTENSION IF EXISTS pg_fraud CASCADE")
    cur.execute("CREATE EXTENSION pg_fraud")
    cur.execute("SET client_min_messages = warning")

    cc = pd.read_csv(os.path.join(DATA, "creditcard_ulb_subset.csv"))
    cc.columns = [c.lower() for c in cc.columns]
    load(cur, "creditcard", cc, [], [])
    compare(cur, "creditcard", cc, "class", 1, [c for c in cc.columns if c != "class"], [])

    ins = pd.read_csv(os.path.join(DATA, "insurance_claims.csv"), keep_default_na=False, na_values=[""])
    dates = ["policy_bind_date", "incident_date"]
    text = [c for c in ins.columns if ins[c].dtype == object and c not in dates and c != "fraud_reported"]
    load(cur, "insurance", ins, text + ["fraud_reported"], dates)
    dropped = ["policy_number", "incident_location", "insured_zip"] + dates
    numeric = [c for c in ins.columns if c not in text + dates + ["fraud_reported"] and c not in dropped]
    categorical = [c for c in text if c not in dropped]
    compare(cur, "insurance", ins, "fraud_reported", "Y", numeric, categorical)

    # The same with the heavy-tailed amounts read as log1p, on both sides.
    load(cur, "insurance_log", ins, text + ["fraud_reported"], dates)
    tailed = ["total_claim_amount", "injury_claim", "property_claim", "vehicle_claim", "umbrella_limit",
              "capital-gains", "capital-loss", "policy_annual_premium"]
    doc_log = compare(cur, "insurance_log", ins, "fraud_reported", "Y", numeric, categorical, log1p=tailed)
    check("insurance with log1p: the document records the transform of each named column",
          sorted(f["name"] for f in doc_log["features"] if f.get("transform") == "log1p") == sorted(tailed),
          f"{sum(f.get('transform') == 'log1p' for f in doc_log['features'])} columns read as log1p")
    log1p_effect(cur)

    # No preprocessing at all: every column as loaded, Y/N label, '?' as a category, dates.
    cur.execute("SET client_min_messages = notice")
    del conn.notices[:]
    cur.execute("SELECT document FROM train_fraud_model('insurance', 'fraud_reported', 'insurance_raw', "
                "'{\"exclude\": [\"row_id\", \"split\"]}')")
    doc = cur.fetchone()[0]
    notices = " ".join(conn.notices)
    names = {f["name"] for f in doc["features"]}
    check("insurance as loaded: trains, leaves out the identifier-like incident_location",
          "incident_location" not in names and "identifier" in notices and doc["metrics"]["roc_auc"] is not None,
          f"{len(doc['features'])} features, holdout ROC AUC {doc['metrics']['roc_auc']:.3f}")
    check("training reports progress per pass and iteration as NOTICEs",
          "pass 1 (statistics)" in notices and "Newton 1" in notices and "objective" in notices,
          f"{sum('train_fraud_model: ' in n for n in conn.notices)} progress lines"
          f" ({'rows in memory' if doc['training']['in_memory'] else 'passes over the table'})")
    check("insurance as loaded: dates give day_of_week features",
          any(f["kind"] == "day_of_week" and f["name"] == "incident_date" for f in doc["features"]),
          "incident_date -> day_of_week")

    passed = sum(RESULTS)
    print(f"{passed} passed, {len(RESULTS) - passed} failed")
    return 0 if passed == len(RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
