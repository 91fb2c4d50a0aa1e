"""XGBoost models trained in Python (Debian's python3-xgboost 1.7) imported into pg_fraud and
scored without XGBoost: fraud_score equals Booster.predict to 1e-6 and fraud_explain equals
pred_contribs=True to 1e-5 (adding up, with the intercept row, to the margin), on the
insurance claims (missing values, one-hot categories through an input mapping) and the credit
card data (a booster alone, named by its DataFrame); the trigger flags as predict says; models
pg_fraud cannot score are refused. Prints "N passed, N failed".
"""
import json
import os
import sys

import numpy as np
import pandas as pd
import psycopg2
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "shared", "datasets")
passed = failed = 0


def check(name, ok):
    global passed, failed
    print(("ok   " if ok else "FAIL ") + name)
    passed, failed = passed + bool(ok), failed + (not ok)


def booster_json(model):
    path = "/tmp/pg_fraud_xgb_model.json"
    model.get_booster().save_model(path)
    with open(path) as f:
        out = json.load(f)
    os.unlink(path)
    return out


def insurance():
    df = pd.read_csv(os.path.join(DATA, "insurance_claims.csv"), keep_default_na=False)
    y = (df.pop("fraud_reported") == "Y").astype(int)
    df = df.drop(columns=["policy_number", "incident_location", "insured_zip", "policy_bind_date", "incident_date"])
    df = df.replace("?", np.nan)
    categorical = [c for c in df.columns if df[c].dtype == object]
    numeric = [c for c in df.columns if c not in categorical]
    return df, y, numeric, categorical


def main():
    conn = psycopg2.connect(dbname=os.environ.get("PGDATABASE", "postgres"))
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET client_min_messages = warning")
    cur.execute("CREATE EXTENSION IF NOT EXISTS pg_fraud")
    cur.execute("DELETE FROM fraud_models WHERE name LIKE 'xgb_%'")

    # 1. Insurance: numbers with missing values, one-hot categories mapped back to their keys.
    df, y, numeric, categorical = insurance()
    onehot = pd.get_dummies(df[categorical], prefix_sep="=", dtype=float)  # a missing category: 0 in each column
    X = pd.concat([df[numeric].astype(float), onehot], axis=1)
    model = xgb.XGBClassifier(n_estimators=300, max_depth=6, learning_rate=0.1, tree_method="hist", random_state=0)
    model.fit(X, y)
    inputs = [{"name": c} if c in numeric else {"name": c.split("=", 1)[0], "equals": c.split("=", 1)[1]} for c in X.columns]
    cur.execute("SELECT version FROM fraud_import_model(%s::jsonb, 'xgb_ins')",
                (json.dumps({"xgboost": booster_json(model), "inputs": inputs, "threshold": 0.5, "label": "fraud_reported"}),))
    cur.execute("SELECT document ->> 'algorithm', jsonb_array_length(document -> 'trees' -> 'trees') FROM fraud_models WHERE name = 'xgb_ins'")
    algorithm, trees = cur.fetchone()
    check(f"the wrapped booster imports as a gradient_boosting document with its 300 trees ({algorithm}, {trees})",
          algorithm == "gradient_boosting" and trees == 300)
    rows = [{k: (None if (isinstance(v, float) and np.isnan(v)) else v) for k, v in r.items()}
            for r in df.astype(object).where(df.notna(), None).to_dict("records")]
    cur.execute("SELECT fraud_score(x::jsonb, 'xgb_ins') FROM unnest(%s::text[]) WITH ORDINALITY AS u(x, i) ORDER BY i",
                ([json.dumps(r) for r in rows],))
    ours = np.array([r[0] for r in cur.fetchall()])
    theirs = model.get_booster().predict(xgb.DMatrix(X))
    diff = float(np.max(np.abs(ours - theirs)))
    check(f"insurance: fraud_score equals Booster.predict on all {len(rows)} rows, missing values included (max difference {diff:.2e})",
          diff < 1e-6)
    contribs = model.get_booster().predict(xgb.DMatrix(X.iloc[:100]), pred_contribs=True)
    worst, sums = 0.0, 0.0
    for i in range(100):
        cur.execute("SELECT feature, contribution FROM fraud_explain(%s::jsonb, 'xgb_ins')", (json.dumps(rows[i]),))
        got = dict(cur.fetchall())
        want = {}
        for j, inp in enumerate(inputs):
            want[inp["name"]] = want.get(inp["name"], 0.0) + float(contribs[i, j])
        want["(intercept)"] = float(contribs[i, -1])
        worst = max(worst, max(abs(got[k] - want[k]) for k in want))
        margin = float(model.get_booster().predict(xgb.DMatrix(X.iloc[[i]]), output_margin=True)[0])
        sums = max(sums, abs(sum(got.values()) - margin))
    check(f"insurance: fraud_explain equals pred_contribs=True per feature and base value on 100 rows (max difference {worst:.2e})",
          worst < 1e-5)
    check(f"insurance: the explanation adds up to the margin (max difference {sums:.2e})", sums < 1e-5)

    # 2. Credit cards: a booster alone, its features named by the DataFrame it was trained on.
    cc = pd.read_csv(os.path.join(DATA, "creditcard_ulb_subset.csv"))
    cy = cc.pop("Class")
    m2 = xgb.XGBClassifier(n_estimators=100, max_depth=4, learning_rate=0.2, tree_method="hist", random_state=0)
    m2.fit(cc, cy)
    cur.execute("SELECT version FROM fraud_import_model(%s::jsonb, 'xgb_cc')", (json.dumps(booster_json(m2)),))
    cur.execute("SELECT fraud_score(x::jsonb, 'xgb_cc') FROM unnest(%s::text[]) WITH ORDINALITY AS u(x, i) ORDER BY i",
                ([json.dumps(r) for r in cc.to_dict("records")],))
    ours = np.array([r[0] for r in cur.fetchall()])
    diff = float(np.max(np.abs(ours - m2.get_booster().predict(xgb.DMatrix(cc)))))
    check(f"credit cards: a booster alone (features named by its DataFrame) scores as predict on {len(cc)} rows ({diff:.2e})", diff < 1e-6)

    # 3. The trigger scores and flags inserted rows with the imported model, as predict says.
    cur.execute("DROP TABLE IF EXISTS xgb_cards")
    cur.execute("CREATE TABLE xgb_cards (" + ", ".join(f'"{c}" float8' for c in cc.columns) + ", is_fraud boolean)")
    cur.execute("SELECT fraud_attach('xgb_cards', 'xgb_cc', '{\"add_columns\": true}')")
    labelled = cc.assign(is_fraud=cy.astype(bool))
    cur.execute("INSERT INTO xgb_cards SELECT * FROM jsonb_populate_recordset(NULL::xgb_cards, %s::jsonb)",
                (json.dumps(labelled.to_dict("records")),))
    cur.execute("SELECT fraud_score, is_flagged FROM xgb_cards")
    stored = cur.fetchall()
    pred = m2.get_booster().predict(xgb.DMatrix(cc))
    flags_ok = sorted(s >= 0.5 for s, _ in stored) == sorted(bool(p >= 0.5) for p in pred) and all(f == (s >= 0.5) for s, f in stored)
    sdiff = float(np.max(np.abs(np.sort([s for s, _ in stored]) - np.sort(pred))))
    check(f"the trigger stores the same scores ({sdiff:.2e}) and flags the rows predict puts at 0.5 or above", sdiff < 1e-6 and flags_ok)
    cur.execute("SELECT max(abs(fraud_score(t, 'xgb_cc') - t.fraud_score)) FROM xgb_cards t")
    rdiff = cur.fetchone()[0]
    check(f"fraud_score(row) of the stored rows gives the trigger's scores ({rdiff:.1e})", rdiff < 1e-12)
    from sklearn.metrics import roc_auc_score
    cur.execute("SELECT (fraud_evaluate('xgb_cards', 'is_fraud', 'xgb_cc') ->> 'roc_auc')::float8")
    auc, want = cur.fetchone()[0], roc_auc_score(cy, pred)
    check(f"fraud_evaluate's ROC AUC of the imported model is scikit-learn's of predict ({auc:.5f} vs {want:.5f}, binned)",
          abs(auc - want) < 2e-3)
    cur.execute("SELECT fraud_detach('xgb_cards')")
    cur.execute("DROP TABLE xgb_cards")

    # 4. History features as inputs: XGBoost trained on pg_fraud's own history features (the
    # featurising query of a model that declares them), imported with the declaration; stored
    # rows score as predict on the same features, and the trigger as the stored rows.
    history = {"by": "account_id", "time": "created_at", "windows": ["10 minutes", "1 day"], "amounts": ["amount"],
               "new": ["device_id"]}
    cur.execute("DROP TABLE IF EXISTS xgb_hist_tx, xgb_hist_live")
    cur.execute("CREATE TABLE xgb_hist_tx AS SELECT * FROM fraud_generate_transactions(20000, 4, 0.03, '2026-01-01', 1, 500)")
    cur.execute("CREATE INDEX ON xgb_hist_tx (account_id, created_at)")
    cur.execute("SELECT document FROM train_fraud_model('xgb_hist_tx', 'is_fraud', 'xgb_hist_lr', %s)",
                (json.dumps({"features": ["amount"], "history": history}),))
    declaration = cur.fetchone()[0]["history"]
    cur.execute("SELECT fraud_history_source('xgb_hist_tx', 'xgb_hist_lr')")
    cur.execute(f"SELECT * FROM {cur.fetchone()[0]} AS f ORDER BY id")
    frame = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
    hist_cols = [c for c in frame.columns if c.startswith("account_id:")]
    HX = frame[["amount"] + hist_cols].astype(float)
    m3 = xgb.XGBClassifier(n_estimators=50, max_depth=4, learning_rate=0.3, tree_method="hist", random_state=0)
    m3.fit(HX, frame["is_fraud"].astype(int))
    wrapper = {"xgboost": booster_json(m3), "history": declaration,
               "inputs": [{"name": "amount"}] + [{"name": c, "kind": "history"} for c in hist_cols]}
    cur.execute("SELECT version FROM fraud_import_model(%s::jsonb, 'xgb_hist')", (json.dumps(wrapper),))
    cur.execute("SELECT id, fraud_score(t, 'xgb_hist') FROM xgb_hist_tx t ORDER BY id")
    ours = np.array([r[1] for r in cur.fetchall()])
    hdiff = float(np.max(np.abs(ours - m3.get_booster().predict(xgb.DMatrix(HX)))))
    check(f"history features as inputs ({len(hist_cols)} of them): stored rows score as predict on the same features ({hdiff:.2e})",
          hdiff < 1e-6)
    cur.execute("CREATE TABLE xgb_hist_live (LIKE xgb_hist_tx)")
    cur.execute("SELECT fraud_attach('xgb_hist_live', 'xgb_hist', '{\"add_columns\": true}')")
    cur.execute("INSERT INTO xgb_hist_live SELECT * FROM fraud_generate_transactions(3000, 5, 0.03, '2026-02-01', 100000, 500) ORDER BY created_at")
    cur.execute("SELECT max(abs(fraud_score - fraud_score(t, 'xgb_hist'))), count(*) FROM xgb_hist_live t")
    tdiff, n = cur.fetchone()
    check(f"the trigger scores {n} inserts with their history as the stored rows do ({tdiff:.1e})", n == 3000 and tdiff < 1e-12)
    cur.execute("SELECT fraud_detach('xgb_hist_live')")
    cur.execute("DROP TABLE xgb_hist_live, xgb_hist_tx")

    # 5. What pg_fraud cannot score is refused with a clear error.
    def refused(name, booster, want):
        try:
            cur.execute("SELECT fraud_import_model(%s::jsonb, 'xgb_bad')", (json.dumps(booster),))
            check(f"{name} is refused", False)
        except psycopg2.Error as e:
            check(f"{name} is refused with {e.pgcode}: {e.pgerror.splitlines()[0][:110]}", e.pgcode == "22023" and want in e.pgerror)
    multi = xgb.XGBClassifier(n_estimators=2, max_depth=2, objective="multi:softprob")
    multi.fit(cc.iloc[:300], np.arange(300) % 3)
    refused("a multi-class model", booster_json(multi), "objective")
    dart = xgb.XGBClassifier(n_estimators=2, max_depth=2, booster="dart")
    dart.fit(cc.iloc[:300], cy.iloc[:300])
    refused("a dart booster", booster_json(dart), "gbtree")
    unnamed = booster_json(m2)
    unnamed["learner"]["feature_names"] = []
    refused("a booster that names no features", unnamed, "name its features")
    cat = pd.DataFrame({"c": pd.Categorical(["a", "b", "c"] * 100), "x": np.arange(300.0)})
    cm = xgb.XGBClassifier(n_estimators=2, max_depth=2, tree_method="hist", enable_categorical=True)
    cm.fit(cat, np.arange(300) % 2)
    refused("a model with categorical splits", booster_json(cm), "categorical")
    cur.execute("DELETE FROM fraud_models WHERE name LIKE 'xgb_%'")
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
