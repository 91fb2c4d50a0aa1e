"""Per-transaction scoring of logistic regression and of 300 gradient-boosted trees: SELECT
fraud_score($1) (a prepared statement over a local connection) against FastAPI services
wrapping the same models (bench/score_service_models.py): for trees, one building a pandas
DataFrame per request and the leanest a user would write (the transaction read into a numpy
vector, inplace_predict); for logistic regression, that lean service with predict_proba (the
pandas pipeline service is bench/service.py's). Throughput over --requests sequential calls
each, in alternated rounds; goal for trees >= 10x the throughput of the services.
"""
import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time

import numpy as np
import requests
import xgboost as xgb
from sklearn.linear_model import LogisticRegression

from benchlib import connect, print_table

CATEGORICAL = ["merchant_category", "country", "channel"]


def encode(rows, columns, mean, scale):
    index = {c: i for i, c in enumerate(columns)}
    x = np.zeros((len(rows), len(columns)), dtype=np.float32)
    for r, row in enumerate(rows):
        x[r, 0] = (float(row[0]) - mean) / scale
        for key, value in zip(CATEGORICAL, row[1:4]):
            i = index.get(f"{key}={value}")
            if i is not None:
                x[r, i] = 1.0
    return x


def serve(kind, state, port):
    with tempfile.NamedTemporaryFile(suffix=".pkl", delete=False) as f:
        pickle.dump(state, f)
    env = dict(os.environ, SERVICE_MODEL=f.name, SERVICE_API_KEY="secret", SERVICE_KIND=kind)
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "score_service_models:app", "--host", "127.0.0.1",
                               "--port", str(port), "--log-level", "warning"], env=env,
                              cwd=os.path.dirname(os.path.abspath(__file__)))
    return server, f.name


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--trees", type=int, default=300)
    args = parser.parse_args()
    cur = connect().cursor()
    cur.execute("SET client_min_messages = warning")
    cur.execute("DROP TABLE IF EXISTS svm_history")
    cur.execute("CREATE TABLE svm_history AS SELECT * FROM fraud_generate_transactions(50000, 11)")
    cur.execute("SELECT amount, merchant_category, country, channel, is_fraud FROM svm_history")
    rows = cur.fetchall()
    amounts = np.array([float(r[0]) for r in rows])
    mean, scale = float(amounts.mean()), float(amounts.std())
    columns = ["amount"] + sorted({f"{k}={r[1 + j]}" for r in rows for j, k in enumerate(CATEGORICAL)})
    X, y = encode(rows, columns, mean, scale), np.array([int(r[4]) for r in rows])
    lr = LogisticRegression(C=1.0, max_iter=1000).fit(X, y)
    gb = xgb.XGBClassifier(n_estimators=args.trees, max_depth=6, learning_rate=0.1, tree_method="hist",
                           random_state=0, n_jobs=1).fit(X, y)
    # The same models in pg_fraud: the booster imported with its inputs (the amount read
    # standardised is the only difference: the trees split on its standardised value, so the
    # SQL side reads a standardised copy of the key); logistic regression trained in SQL.
    path = "/tmp/pg_fraud_bench_svm.json"
    gb.get_booster().save_model(path)
    with open(path) as f:
        booster = json.load(f)
    os.unlink(path)
    inputs = [{"name": "amount_z"}] + [{"name": c.split("=")[0], "equals": c.split("=", 1)[1]} for c in columns[1:]]
    cur.execute("SELECT 1 FROM fraud_import_model(%s::jsonb, 'svm_trees')", (json.dumps({"xgboost": booster, "inputs": inputs}),))
    cur.execute("SELECT 1 FROM train_fraud_model('svm_history', 'is_fraud', 'svm_lr', "
                "'{\"features\": [\"amount\", \"merchant_category\", \"country\", \"channel\"], \"holdout\": 0}')")
    cur.execute("SELECT row_to_json(t)::text FROM (SELECT amount, merchant_category, country, channel "
                "FROM fraud_generate_transactions(%s, 12)) t", (args.requests,))
    texts = [r[0] for r in cur.fetchall()]
    parsed = [json.loads(t) for t in texts]
    sql_texts = [json.dumps(dict(p, amount_z=(float(p["amount"]) - mean) / scale)) for p in parsed]
    cur.execute("PREPARE score_trees(text) AS SELECT fraud_score($1::jsonb, 'svm_trees')")
    cur.execute("PREPARE score_lr(text) AS SELECT fraud_score($1::jsonb, 'svm_lr')")
    state = {"columns": columns, "mean": mean, "scale": scale}
    services = {}
    try:
        for port, (kind, model) in enumerate([("pandas_xgboost", gb), ("lean_xgboost", gb), ("lean_sklearn", lr)], 8770):
            services[kind] = (port,) + serve(kind, dict(state, model=model), port)
        session = requests.Session()
        for kind, (port, _, _) in services.items():
            for _ in range(150):
                try:
                    session.post(f"http://127.0.0.1:{port}/score", json=parsed[0], headers={"x-api-key": "secret"}, timeout=1)
                    break
                except requests.RequestException:
                    time.sleep(0.2)
        spent = {k: 0.0 for k in ["sql_trees", "sql_lr"] + list(services)}
        per_round = max(1, len(texts) // args.rounds)
        for r in range(args.rounds):
            chunk = range(r * per_round, min(len(texts), (r + 1) * per_round))
            for kind, (port, _, _) in services.items():
                t0 = time.perf_counter()
                for i in chunk:
                    session.post(f"http://127.0.0.1:{port}/score", json=parsed[i], headers={"x-api-key": "secret"}).json()
                spent[kind] += time.perf_counter() - t0
            for name, statement, payload in (("sql_trees", "score_trees", sql_texts), ("sql_lr", "score_lr", texts)):
                t0 = time.perf_counter()
                for i in chunk:
                    cur.execute(f"EXECUTE {statement}(%s)", (payload[i],))
                    cur.fetchone()
                spent[name] += time.perf_counter() - t0
        # The SQL side gives the service's scores (same booster): checked on 200 calls.
        worst = 0.0
        for i in range(200):
            s = session.post(f"http://127.0.0.1:{services['lean_xgboost'][0]}/score", json=parsed[i],
                             headers={"x-api-key": "secret"}).json()["score"]
            cur.execute("EXECUTE score_trees(%s)", (sql_texts[i],))
            worst = max(worst, abs(cur.fetchone()[0] - s))
    finally:
        for _, server, name in services.values():
            server.terminate()
            server.wait()
            os.unlink(name)
    n = per_round * args.rounds
    rate = {k: n / v for k, v in spent.items()}
    table = [
        (f"{args.trees} trees per transaction: SQL / FastAPI + pandas + XGBoost", f"{rate['sql_trees']:.0f}/s",
         f"{rate['pandas_xgboost']:.0f}/s", f"{rate['sql_trees'] / rate['pandas_xgboost']:.1f}", ">= 10",
         "yes" if rate["sql_trees"] >= 10 * rate["pandas_xgboost"] else "no"),
        (f"{args.trees} trees per transaction: SQL / lean FastAPI (numpy vector, inplace_predict)",
         f"{rate['sql_trees']:.0f}/s", f"{rate['lean_xgboost']:.0f}/s", f"{rate['sql_trees'] / rate['lean_xgboost']:.1f}",
         ">= 10", "yes" if rate["sql_trees"] >= 10 * rate["lean_xgboost"] else "no"),
        ("logistic regression per transaction: SQL / lean FastAPI (numpy vector, predict_proba)",
         f"{rate['sql_lr']:.0f}/s", f"{rate['lean_sklearn']:.0f}/s", f"{rate['sql_lr'] / rate['lean_sklearn']:.1f}", "-", "-"),
        ("max |SQL score - service score|, 200 calls (same booster)", f"{worst:.1e}", "-", "-", "< 1e-6",
         "yes" if worst < 1e-6 else "no"),
    ]
    print_table(table, f"Per-transaction scoring against model services ({n} sequential calls each, {args.rounds} rounds)")
    cur.execute("SELECT fraud_retire_model(n) FROM unnest(ARRAY['svm_trees', 'svm_lr']) n")
    cur.execute("DROP TABLE svm_history")


if __name__ == "__main__":
    main()
