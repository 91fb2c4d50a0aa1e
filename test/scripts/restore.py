"""Data-only restore (pg_restore -s, then pg_restore -a, without --disable-triggers) into a
database where tables are attached: the tables that sort before fraud_models (restored before
any model exists) and after it (restored with the model there) get every row with the verdict
it was dumped with, and no NOTIFY is sent. The dumped verdicts differ from what the restored
model would give now (its threshold was raised after they were stored), so re-scoring would
show. Prints "N passed, N failed"."""
import os
import select
import subprocess
import sys
import tempfile

import psycopg2

RESULTS = []


def check(name, ok, detail=""):
    RESULTS.append(bool(ok))
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)


def connect(db):
    conn = psycopg2.connect(dbname=db)
    conn.autocommit = True
    return conn


def verdicts(cur, table):
    cur.execute(f"SELECT id, is_flagged, fraud_score FROM {table} ORDER BY id")
    return cur.fetchall()


def main():
    admin = connect("postgres").cursor()
    for db in ("restore_src", "restore_dst"):
        admin.execute(f"DROP DATABASE IF EXISTS {db}")
    admin.execute("CREATE DATABASE restore_src")
    admin.execute("CREATE DATABASE restore_dst")
    src = connect("restore_src").cursor()
    src.execute("SET client_min_messages = warning")
    src.execute("CREATE EXTENSION pg_fraud")
    src.execute("""SELECT fraud_import_model('{"format": "pg_fraud.model/1", "algorithm": "logistic_regression",
                   "intercept": -3, "threshold": 0.5, "features": [{"name": "amount", "kind": "numeric", "weight": 0.01}]}', 'rm')""")
    tables = ("a_tx", "z_tx")  # before and after fraud_models in pg_dump's order
    for t in tables:
        src.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, amount numeric)")
        src.execute(f"""SELECT fraud_attach('{t}', 'rm', '{{"add_columns": true, "notify": "restore_alerts"}}')""")
        src.execute(f"INSERT INTO {t} SELECT i, i * 7 % 700 FROM generate_series(1, 500) i")
    src.execute("SELECT fraud_set_threshold('rm', 0.95)")  # today's model would flag fewer rows
    before = {t: verdicts(src, t) for t in tables}
    flagged = sum(1 for t in tables for r in before[t] if r[1])
    src.execute("SELECT count(*) FROM a_tx WHERE fraud_score >= 0.5 AND fraud_score < 0.95")
    would_change = src.fetchone()[0]
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "db.dump")
        subprocess.run(["pg_dump", "-Fc", "-f", dump, "restore_src"], check=True)
        subprocess.run(["pg_restore", "-s", "-d", "restore_dst", dump], check=True, capture_output=True)
        listener = connect("restore_dst")
        listener.cursor().execute("LISTEN restore_alerts")
        data = subprocess.run(["pg_restore", "-a", "-d", "restore_dst", dump], capture_output=True, text=True)
        select.select([listener], [], [], 1.0)
        listener.poll()
        alerts = len(listener.notifies)
    dst = connect("restore_dst").cursor()
    after = {t: verdicts(dst, t) for t in tables}
    check("data-only restore without --disable-triggers succeeds", data.returncode == 0, data.stderr.strip()[:300])
    for t in tables:
        check(f"{t}: every row restored with the verdict it was dumped with",
              after[t] == before[t], f"{len(after[t])} of {len(before[t])} rows, "
              f"{sum(1 for a, b in zip(after[t], before[t]) if a != b)} differ")
    check("the dumped verdicts differ from today's model's (a re-score would show)", would_change > 0,
          f"{would_change} rows of a_tx flagged at 0.5 but not at 0.95")
    check("no NOTIFY during the restore", alerts == 0, f"{alerts} notifications, {flagged} flagged rows restored")
    # After the restore the trigger scores new rows as usual, and alerts.
    listener.cursor().execute("LISTEN restore_alerts")
    dst.execute("INSERT INTO z_tx (id, amount) VALUES (1000, 990) RETURNING is_flagged, fraud_score IS NOT NULL")
    scored = dst.fetchone()
    select.select([listener], [], [], 2.0)
    listener.poll()
    check("after the restore, new rows are scored and alert", scored == (True, True) and len(listener.notifies) == 1,
          f"{scored}, {len(listener.notifies)} notifications")
    passed = sum(RESULTS)
    print(f"{passed} passed, {len(RESULTS) - passed} failed")
    return 0 if passed == len(RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
