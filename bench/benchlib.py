"""Shared helpers for pg_fraud benchmarks: connections, alternated timing, result tables."""
import json
import threading
import os
import statistics
import time

import psycopg2


def connect():
    """A connection from the libpq environment (PGHOST, PGPORT, ...), autocommit."""
    conn = psycopg2.connect(dbname=os.environ.get("PGDATABASE", "postgres"))
    conn.autocommit = True
    return conn


def timed(cur, sql, params=None):
    """Wall seconds of one statement, result fetched."""
    start = time.perf_counter()
    cur.execute(sql, params)
    if cur.description is not None:
        cur.fetchall()
    return time.perf_counter() - start


def alternate(runs, a, b):
    """Runs a and b alternately (A B A B ...) and returns the medians of each."""
    ta, tb = [], []
    for _ in range(runs):
        ta.append(a())
        tb.append(b())
    return statistics.median(ta), statistics.median(tb)


def model_document(n_features, seed=7):
    """A logistic model over numeric features f1..fn with fixed, varied weights."""
    features = []
    for i in range(1, n_features + 1):
        features.append({"name": f"f{i}", "kind": "numeric", "mean": (i * 37 % 11) / 10.0,
                         "scale": 1.0 + (i % 5) / 4.0, "weight": ((i * seed) % 13 - 6) / 10.0})
    return {"format": "pg_fraud.model/1", "algorithm": "logistic_regression",
            "intercept": -2.5, "threshold": 0.5, "features": features}


def sql_logit(doc, column):
    """The model's logit as a SQL expression; column(name) gives the SQL of one input."""
    terms = [repr(doc["intercept"])]
    for f in doc["features"]:
        terms.append(f"{f['weight']!r} * ({column(f['name'])} - {f['mean']!r}) / {f['scale']!r}")
    return " + ".join(terms)


def print_table(rows, title):
    """Prints rows of (workload, pg_fraud, alternative, ratio, goal, verdict) aligned."""
    head = ("workload", "pg_fraud", "alternative", "ratio", "goal", "met")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    print(title)
    for r in [head] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


def import_model(cur, doc, name="default"):
    cur.execute("SELECT version FROM fraud_import_model(%s::jsonb, %s)", (json.dumps(doc), name))
    return cur.fetchone()[0]


def timed_peak_rss(cur, pid, sql):
    """Runs sql; returns (wall seconds, peak RssAnon of backend `pid` in MB) sampled every 50 ms."""
    peak, done = [0], threading.Event()

    def sample():
        while not done.is_set():
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("RssAnon:"):
                            peak[0] = max(peak[0], int(line.split()[1]))
            except OSError:
                pass
            time.sleep(0.05)

    thread = threading.Thread(target=sample)
    thread.start()
    start = time.perf_counter()
    try:
        cur.execute(sql)
        if cur.description is not None:
            cur.fetchall()
    finally:
        done.set()
        thread.join()
    return time.perf_counter() - start, peak[0] / 1024.0
