"""The streaming part of the demo: a steady flow of new transactions into the attached
table, and a LISTEN loop printing each fraud alert with its top reasons as it arrives
(what a Kafka fraud-topic consumer would do, without Kafka)."""
import json
import os
import select
import sys
import time

import psycopg2

TOTAL = int(os.environ.get("DEMO_STREAM", "2000"))
RATE = float(os.environ.get("DEMO_RATE", "200"))     # transactions per second
SHOW = int(os.environ.get("DEMO_SHOW_ALERTS", "12"))  # alerts printed in full
FIRST_ID = int(os.environ.get("DEMO_FIRST_ID", "1000000"))  # the stream continues the history's ids and clock


def connect():
    conn = psycopg2.connect(dbname=os.environ.get("PGDATABASE", "postgres"))
    conn.autocommit = True
    return conn


def reasons(cur, key):
    # The row as the history view holds it: its history as of its own time, as the trigger saw it.
    cur.execute("""SELECT string_agg(feature || ' ' || CASE WHEN contribution >= 0 THEN '+' ELSE '' END
                                     || round(contribution::numeric, 1), ', ')
                     FROM (SELECT e.feature, e.contribution
                             FROM all_transactions t, fraud_explain(t) e WHERE t.id = %s AND e.feature <> '(intercept)'
                            ORDER BY e.contribution DESC LIMIT 3) AS top""", (key,))
    return cur.fetchone()[0] or ""


def main():
    writer, listener, lookup = connect(), connect(), connect()
    listener.cursor().execute("LISTEN fraud_alerts")
    wcur, lcur = writer.cursor(), lookup.cursor()
    print(f"  {'id':>8}  {'amount':>9}  {'country':7}  {'hour':>4}  {'score':>6}  {'rules':12}  top reasons")
    sent, alerts, start = 0, 0, time.perf_counter()
    batch = max(1, int(RATE / 10))
    last_progress = start
    while sent < TOTAL:
        n = min(batch, TOTAL - sent)
        # Same accounts, the history's simulated clock carried on (37 s between transactions).
        first = FIRST_ID + sent
        wcur.execute("""INSERT INTO transactions (id, account_id, merchant_category, country, channel, device_id,
                                                  amount, created_at, is_fraud)
                        SELECT * FROM fraud_generate_transactions(%s, 2, 0.02,
                                      '2024-01-01 00:00:00+00'::timestamptz + (%s - 1) * interval '37 seconds', %s)""",
                     (n, first, first))
        sent += n
        # Alerts of committed inserts arrive here; print them as they come.
        deadline = start + sent / RATE
        while True:
            timeout = max(0.0, deadline - time.perf_counter())
            if select.select([listener], [], [], timeout) == ([], [], []):
                break
            listener.poll()
            while listener.notifies:
                alert = json.loads(listener.notifies.pop(0).payload)
                alerts += 1
                if alerts <= SHOW:
                    lcur.execute("SELECT amount, country, extract(hour FROM created_at) FROM transactions WHERE id = %s",
                                 (int(alert["key"]),))
                    amount, country, hour = lcur.fetchone()
                    print(f"  {alert['key']:>8}  {amount:>9}  {country:7}  {int(hour):>4}  {alert['score']:6.3f}  "
                          f"{','.join(alert['rules']) or '-':12}  {reasons(lcur, int(alert['key']))}", flush=True)
                elif alerts == SHOW + 1:
                    print("  ... (further alerts are counted, not printed)", flush=True)
        now = time.perf_counter()
        if now - last_progress >= 1.0 or sent == TOTAL:
            rate = sent / (now - start)
            bar = "#" * int(30 * sent / TOTAL)
            print(f"  streaming [{bar:30}] {sent}/{TOTAL} transactions, {alerts} alerts, {rate:.0f} tx/s",
                  flush=True)
            last_progress = now
    elapsed = time.perf_counter() - start
    time.sleep(0.5)
    listener.poll()
    alerts += len(listener.notifies)
    print(json.dumps({"streamed": sent, "alerts": alerts, "seconds": elapsed, "throughput": sent / elapsed}))


if __name__ == "__main__":
    main()
