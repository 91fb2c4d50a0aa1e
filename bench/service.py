"""Per-transaction scoring: a FastAPI + scikit-learn service (uvicorn, API-key header) against
SELECT fraud_score($1) as a prepared statement over a local connection; end to end (HTTP
call then INSERT of the verdict, against one INSERT into the attached table); bulk rows/s.
Medians and percentiles over --requests calls, in alternated rounds."""
import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
import psycopg2
import requests
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from benchlib import connect, print_table

NUMERIC = ["amount"]
CATEGORICAL = ["merchant_category", "country", "channel"]
BOOLEAN = []  # 0.3.0: the generator returns what an application has (no new_device flag)
COLUMNS = NUMERIC + CATEGORICAL + BOOLEAN


def percentile(values, q):
    return float(np.percentile(np.array(values) * 1e6, q))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()

    conn = connect()
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS pg_fraud")
    cur.execute("SET client_min_messages = warning")
    cur.execute("DROP TABLE IF EXISTS svc_history, svc_live, svc_verdicts")
    cur.execute("CREATE TABLE svc_history AS SELECT * FROM fraud_generate_transactions(50000, 11)")
    cur.execute("SELECT version FROM train_fraud_model('svc_history', 'is_fraud', 'bench_svc', %s)",
                (json.dumps({"features": COLUMNS, "holdout": 0}),))
    cur.execute(f"SELECT {', '.join(COLUMNS)}, is_fraud FROM svc_history")
    frame = pd.DataFrame(cur.fetchall(), columns=COLUMNS + ["is_fraud"])
    frame["amount"] = frame["amount"].astype(float)
    pipeline = make_pipeline(
        ColumnTransformer([("num", StandardScaler(), NUMERIC), ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
                           ("bool", "passthrough", BOOLEAN)]),
        LogisticRegression(C=1.0, max_iter=1000))
    pipeline.fit(frame[COLUMNS], frame["is_fraud"].astype(int))
    cur.execute(f"SELECT row_to_json(t)::text FROM (SELECT {', '.join(COLUMNS)} FROM fraud_generate_transactions(%s, 12)) t",
                (args.requests,))
    transactions = [r[0] for r in cur.fetchall()]
    parsed = [json.loads(t) for t in transactions]

    cur.execute("CREATE TABLE svc_live (id bigserial PRIMARY KEY, amount numeric, "
                "merchant_category text, country text, channel text)")
    cur.execute("SELECT fraud_attach('svc_live', 'bench_svc', '{\"add_columns\": true}')")
    cur.execute("CREATE TABLE svc_verdicts (id bigserial PRIMARY KEY, transaction jsonb, score float8, is_flagged boolean)")

    with tempfile.NamedTemporaryFile(suffix=".pkl", delete=False) as f:
        pickle.dump(pipeline, f)
    env = dict(os.environ, SERVICE_MODEL=f.name, SERVICE_API_KEY="secret")
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "score_service:app", "--host", "127.0.0.1",
                               "--port", "8765", "--log-level", "warning"], env=env, cwd=os.path.dirname(__file__) or ".")
    try:
        session = requests.Session()
        for _ in range(100):
            try:
                session.post("http://127.0.0.1:8765/score", json=parsed[0], headers={"x-api-key": "secret"}, timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.2)
        cur.execute("PREPARE one AS SELECT 1")
        cur.execute("PREPARE score(text) AS SELECT fraud_score($1::jsonb, 'bench_svc')")
        cur.execute("PREPARE ins(numeric, text, text, text) AS INSERT INTO svc_live "
                    "(amount, merchant_category, country, channel) VALUES ($1, $2, $3, $4)")
        cur.execute("PREPARE verdict(jsonb, float8, boolean) AS INSERT INTO svc_verdicts (transaction, score, is_flagged) "
                    "VALUES ($1, $2, $3)")
        lat = {"http": [], "sql": [], "floor": [], "e2e_http": [], "e2e_sql": []}
        per_round = max(1, len(transactions) // args.rounds)
        for r in range(args.rounds):
            chunk = range(r * per_round, min(len(transactions), (r + 1) * per_round))
            for i in chunk:
                t0 = time.perf_counter()
                session.post("http://127.0.0.1:8765/score", json=parsed[i], headers={"x-api-key": "secret"}).json()
                lat["http"].append(time.perf_counter() - t0)
            for i in chunk:
                t0 = time.perf_counter()
                cur.execute("EXECUTE score(%s)", (transactions[i],))
                cur.fetchone()
                lat["sql"].append(time.perf_counter() - t0)
            for i in chunk:
                t0 = time.perf_counter()
                cur.execute("EXECUTE one")
                cur.fetchone()
                lat["floor"].append(time.perf_counter() - t0)
            for i in chunk:
                t0 = time.perf_counter()
                s = session.post("http://127.0.0.1:8765/score", json=parsed[i], headers={"x-api-key": "secret"}).json()["score"]
                cur.execute("EXECUTE verdict(%s, %s, %s)", (transactions[i], s, s >= 0.5))
                lat["e2e_http"].append(time.perf_counter() - t0)
            for i in chunk:
                p = parsed[i]
                t0 = time.perf_counter()
                cur.execute("EXECUTE ins(%s, %s, %s, %s)", (p["amount"], p["merchant_category"], p["country"], p["channel"]))
                lat["e2e_sql"].append(time.perf_counter() - t0)
        # Bulk: the service scores one call at a time; pg_fraud scores a table in one query.
        start = time.perf_counter()
        cur.execute("SELECT sum(fraud_score(t, 'bench_svc')) FROM svc_history t")
        bulk_sql = 50000 / (time.perf_counter() - start)
        bulk_http = 1 / statistics.mean(lat["http"])
    finally:
        server.terminate()
        server.wait()
        os.unlink(f.name)

    tput = {k: 1 / statistics.mean(v) for k, v in lat.items()}
    p50 = {k: percentile(v, 50) for k, v in lat.items()}
    p99 = {k: percentile(v, 99) for k, v in lat.items()}
    rows = [
        ("per-transaction throughput, SQL / HTTP", f"{tput['sql']:.0f}/s", f"{tput['http']:.0f}/s",
         f"{tput['sql'] / tput['http']:.1f}", ">= 8", "yes" if tput["sql"] / tput["http"] >= 8 else "no"),
        ("p50 latency, SQL / HTTP", f"{p50['sql']:.0f} us", f"{p50['http']:.0f} us", f"{p50['sql'] / p50['http']:.3f}",
         "<= 0.167", "yes" if p50["sql"] / p50["http"] <= 1 / 6 else "no"),
        ("p99 latency, SQL and HTTP", f"{p99['sql']:.0f} us", f"{p99['http']:.0f} us", f"{p99['sql'] / p99['http']:.3f}", "-", "-"),
        ("floor: prepared SELECT 1 p50", f"{p50['floor']:.0f} us", "-", "-", "-", "-"),
        ("end to end: one INSERT / HTTP call + INSERT", f"{tput['e2e_sql']:.0f}/s", f"{tput['e2e_http']:.0f}/s",
         f"{tput['e2e_sql'] / tput['e2e_http']:.1f}", ">= 5", "yes" if tput["e2e_sql"] / tput["e2e_http"] >= 5 else "no"),
        ("bulk rows/s, fraud_score over a table / service", f"{bulk_sql:.0f}/s", f"{bulk_http:.0f}/s",
         f"{bulk_sql / bulk_http:.0f}", ">= 300", "yes" if bulk_sql / bulk_http >= 300 else "no"),
    ]
    print_table(rows, f"Per-transaction scoring, FastAPI + scikit-learn vs SQL, {len(transactions)} transactions")
    print(json.dumps({"service": rows}))


if __name__ == "__main__":
    main()
