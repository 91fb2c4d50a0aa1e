"""contrib/sklearn_to_pg_fraud.py on the insurance data with missing values: a fitted
scikit-learn pipeline becomes a document whose fraud_score equals predict_proba to 1e-9, the
document becomes a pipeline again that scores the same, and what cannot be mapped is refused.
Prints "N passed, N failed"."""
import json
import os
import sys
import warnings

import numpy as np
import pandas as pd
import psycopg2
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, PolynomialFeatures, StandardScaler

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../contrib"))
from sklearn_to_pg_fraud import to_document, to_pipeline  # noqa: E402

DATA = os.environ.get("PG_FRAUD_DATASETS", os.path.join(os.path.dirname(__file__), "../../../shared/datasets"))
RESULTS = []


def check(name, ok, detail):
    RESULTS.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")


def pipeline(numeric, booleans, categorical, drop=None, numeric_imputer="mean"):
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy=numeric_imputer), StandardScaler()), numeric),
        ("bool", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), booleans),
        ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="(missing)"),
                              OneHotEncoder(handle_unknown="ignore", drop=drop)), categorical)])
    return make_pipeline(pre, LogisticRegression(C=1.0, max_iter=10000))


def main():
    warnings.simplefilter("ignore")
    # "?" marks a missing value in this data set (as pandas reads it with na_values).
    ins = pd.read_csv(os.path.join(DATA, "insurance_claims.csv"), keep_default_na=False, na_values=["", "?"])
    ins = ins.drop(columns=[c for c in ins.columns if c.startswith("_c")])
    y = (ins["fraud_reported"] == "Y").astype(int).to_numpy()
    # A boolean column with missing values (0/1/NaN for scikit-learn, boolean/NULL in the table).
    high = (ins["policy_annual_premium"] > 1300).astype(float)
    high[np.arange(len(ins)) % 17 == 0] = np.nan
    ins["high_premium"] = high
    dates = ["policy_bind_date", "incident_date"]
    dropped = ["policy_number", "incident_location", "insured_zip", "fraud_reported"] + dates
    text = [c for c in ins.columns if ins[c].dtype == object and c not in dropped]
    numeric = [c for c in ins.columns if c not in text + dropped + ["high_premium"]]
    missing_cells = int(ins[text].isna().sum().sum())

    conn = psycopg2.connect(dbname=os.environ.get("PGDATABASE", "postgres"))
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("DROP EXTENSION IF EXISTS pg_fraud CASCADE")
    cur.execute("CREATE EXTENSION pg_fraud")
    cur.execute("SET client_min_messages = warning")
    cols = ["row_id int"] + [f'"{c}" float8' for c in numeric] + ['"high_premium" boolean'] + [f'"{c}" text' for c in text]
    cur.execute("DROP TABLE IF EXISTS ins")
    cur.execute(f"CREATE TABLE ins ({', '.join(cols)})")
    rows = []
    for i in range(len(ins)):
        r = [i] + [None if pd.isna(ins[c].iloc[i]) else float(ins[c].iloc[i]) for c in numeric]
        r.append(None if pd.isna(ins["high_premium"].iloc[i]) else bool(ins["high_premium"].iloc[i]))
        r += [None if pd.isna(ins[c].iloc[i]) else str(ins[c].iloc[i]) for c in text]
        rows.append(r)
    cur.executemany(f"INSERT INTO ins VALUES ({', '.join(['%s'] * len(cols))})", rows)
    X = ins[numeric + ["high_premium"] + text]

    for name, drop in (("sk_plain", None), ("sk_drop_first", "first")):
        clf = pipeline(numeric, ["high_premium"], text, drop=drop)
        clf.fit(X, y)
        expected = clf.predict_proba(X)[:, 1]
        doc = to_document(clf, label="fraud_reported", booleans=["high_premium"])
        cur.execute("SELECT version FROM fraud_import_model(%s, %s)", (json.dumps(doc), name))
        cur.execute("SELECT row_id, fraud_score(t, %s) FROM ins t ORDER BY row_id", (name,))
        got = np.array([s for _, s in cur.fetchall()])
        gap = float(np.max(np.abs(got - expected)))
        check(f"{name}: fraud_score = predict_proba on all {len(ins)} rows ({missing_cells} missing categories, "
              f"{int(high.isna().sum())} missing booleans)", gap < 1e-9, f"max difference {gap:.2e}")
        cur.execute("SELECT fraud_export_model(%s)", (name,))
        back = to_pipeline(cur.fetchone()[0])
        again = back.predict_proba(X)[:, 1]
        gap_back = float(np.max(np.abs(again - got)))
        check(f"{name}: the exported document as a pipeline again scores as fraud_score", gap_back < 1e-9,
              f"max difference {gap_back:.2e}")

    def refused(what, build, needle):
        try:
            to_document(build(), booleans=["high_premium"])
        except ValueError as e:
            check(f"refuses {what}", needle in str(e), str(e))
            return
        check(f"refuses {what}", False, "converted")

    def median():
        return pipeline(numeric, ["high_premium"], text, numeric_imputer="median").fit(X, y)

    def poly():
        p = make_pipeline(ColumnTransformer([("num", make_pipeline(SimpleImputer(), PolynomialFeatures(2)), numeric[:3])]),
                          LogisticRegression(max_iter=1000))
        return p.fit(X, y)

    def three_classes():
        p = make_pipeline(ColumnTransformer([("num", make_pipeline(SimpleImputer(), StandardScaler()), numeric[:3])]),
                          LogisticRegression(max_iter=1000))
        return p.fit(X, np.arange(len(X)) % 3)

    refused("a median imputer (pg_fraud imputes the mean)", median, "median")
    refused("PolynomialFeatures", poly, "PolynomialFeatures")
    refused("three classes", three_classes, "two classes")
    try:
        to_pipeline({"format": "pg_fraud.model/1", "algorithm": "logistic_regression", "intercept": 0,
                     "features": [{"name": "t", "kind": "hour_of_day", "weights": {"1": 1}}]})
        check("refuses an hour_of_day feature going back", False, "converted")
    except ValueError as e:
        check("refuses an hour_of_day feature going back", "hour_of_day" in str(e), str(e))

    passed = sum(RESULTS)
    print(f"{passed} passed, {len(RESULTS) - passed} failed")
    return 0 if passed == len(RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
