"""Reliability and security checks that need more than one session or the server itself:
sentinel values never leak, a killed training leaves no partial model, a statement timeout
stops training promptly, memory stays flat, dump/restore keeps models and scores, and a soak
of concurrent inserts while retraining loses nothing. Prints "N passed, N failed".
Sizes: RELIABILITY_SCALE (default 1) multiplies the row counts; RELIABILITY_MEMORY_ROWS
(default 10,000,000) is the size of the full-size memory check."""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

import psycopg2

SCALE = float(os.environ.get("RELIABILITY_SCALE", "1"))
SENTINEL = "SENTINEL-4111-1111-1111-1111"
RESULTS = []


def reconnect(attempts=60):
    """A new connection once the server accepts them again (after crash recovery)."""
    for _ in range(attempts):
        try:
            return connect()
        except psycopg2.Error:
            time.sleep(0.5)
    return connect()


def check(name, ok, detail=""):
    RESULTS.append(bool(ok))
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)


def connect(db="reliability"):
    conn = psycopg2.connect(dbname=db)
    conn.autocommit = True
    return conn


def server_log():
    port = os.environ.get("PGPORT", "5432")
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 7 and fields[2] == port:
            return fields[6]
    return None


def rss_anon_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def setup(cur):
    cur.execute("DROP EXTENSION IF EXISTS pg_fraud CASCADE")
    cur.execute("CREATE EXTENSION pg_fraud")
    cur.execute("SET client_min_messages = warning")
    cur.execute("DROP TABLE IF EXISTS history, live, big")
    cur.execute("CREATE TABLE history AS SELECT * FROM fraud_generate_transactions(%s, 3)", (int(20000 * SCALE),))
    cur.execute("""SELECT version FROM train_fraud_model('history', 'is_fraud', 'default',
                   '{"exclude": ["id", "account_id", "device_id"]}')""")


def sentinels(conn, cur):
    """Sentinel values in training rows and inserted rows never reach errors, notices,
    notifications or the server log."""
    messages = []
    log = server_log()
    log_start = os.path.getsize(log) if log and os.path.exists(log) else 0
    cur.execute("CREATE TABLE live (LIKE history)")
    cur.execute("ALTER TABLE live ADD PRIMARY KEY (id), ADD COLUMN card_number text, ALTER COLUMN amount TYPE text")
    cur.execute("""SELECT fraud_attach('live', 'default', '{"add_columns": true, "notify": "alerts",
                   "rules_column": "fired"}')""")
    cur.execute("INSERT INTO fraud_rules (model, name, predicate) VALUES ('default', 'big', '$.country == \"NG\"')")
    listener = connect()
    listener.cursor().execute("LISTEN alerts")
    # Rows arrive by COPY into a staging table, then INSERT ... SELECT: no statement text and no
    # COPY line (which PostgreSQL quotes in its own error context) holds their values.
    good = f"1\t1\tgambling\tNG\tweb\tdev1\t5000\t2024-01-01 02:00:00+00\tt\t{SENTINEL}\n"
    bad_amount = f"2\t1\tgambling\tNG\tweb\tdev1\t{SENTINEL}\t2024-01-01 02:00:00+00\tt\t{SENTINEL}\n"
    columns = ("id, account_id, merchant_category, country, channel, device_id, amount, "
               "created_at, is_fraud, card_number")
    cur.execute("CREATE TABLE staging AS SELECT * FROM live WITH NO DATA")
    cur.copy_expert(f"COPY staging ({columns}) FROM STDIN", __import__("io").StringIO(good + bad_amount))
    cur.execute("INSERT INTO live SELECT * FROM staging WHERE id = 1")
    try:
        cur.execute("INSERT INTO live SELECT * FROM staging WHERE id = 2")
    except psycopg2.Error as e:
        messages.append(str(e) + str(e.diag.message_detail))
    # A label that is not a label, in a training source, also by COPY.
    cur.execute("CREATE TABLE bad_labels (amount numeric, country text, is_fraud text)")
    cur.copy_expert("COPY bad_labels FROM STDIN", __import__("io").StringIO(f"1\tUS\t{SENTINEL}\n2\tNG\tY\n"))
    for sql in ["SELECT train_fraud_model('bad_labels', 'is_fraud', 'sentinel')",
                "SELECT fraud_score(jsonb_build_object('amount', (SELECT card_number FROM live LIMIT 1)))",
                "SELECT fraud_score((SELECT card_number FROM live LIMIT 1))",
                "SELECT fraud_explain(jsonb_build_object('created_at', (SELECT card_number FROM live LIMIT 1)))"]:
        try:
            cur.execute(sql)
            cur.fetchall()
        except psycopg2.Error as e:
            messages.append(str(e) + str(e.diag.message_detail))
    messages += conn.notices
    time.sleep(0.2)
    listener.poll()
    payloads = [n.payload for n in listener.notifies]
    log_text = ""
    if log and os.path.exists(log):
        with open(log, errors="replace") as f:
            f.seek(log_start)
            log_text = f.read()
    check("errors were raised for the sentinel rows", len(messages) >= 4, f"{len(messages)} errors")
    leaks = [m for m in messages if SENTINEL in m]
    check("no error or notice contains a sentinel value", not leaks, leaks[0] if leaks else "")
    check("an alert was sent and holds no transaction value",
          len(payloads) == 1 and SENTINEL not in payloads[0] and "5000" not in payloads[0], payloads[0] if payloads else "")
    check("the server log holds no sentinel value", "ERROR" in log_text and SENTINEL not in log_text, log or "no log")


# Options that keep a training busy well past the kill at 1 s however fast it gets: tol 0
# never converges, so it iterates up to max_iter (in memory about 30 s on 300,000 rows).
ENDLESS = '{"tol": 0, "max_iter": 1000}'


def killed_training(cur):
    """kill -9 of a backend in the middle of train_fraud_model: no partial model, and the
    server comes back with the trigger working."""
    cur.execute("CREATE TABLE big AS SELECT * FROM fraud_generate_transactions(%s, 4)", (int(300000 * SCALE),))
    cur.execute("SELECT count(*) FROM fraud_models")
    before = cur.fetchone()[0]
    victim = connect()
    vcur = victim.cursor()
    vcur.execute("SELECT pg_backend_pid()")
    pid = vcur.fetchone()[0]
    thread = threading.Thread(target=lambda: _swallow(vcur, "SELECT train_fraud_model('big', 'is_fraud', 'killed', %s)", (ENDLESS,)))
    thread.start()
    time.sleep(1.0)
    os.kill(pid, signal.SIGKILL)
    thread.join()
    conn = reconnect()  # crash recovery restarts every backend
    cur = conn.cursor()
    cur.execute("SELECT count(*), count(*) FILTER (WHERE name = 'killed') FROM fraud_models")
    total, killed = cur.fetchone()
    check("kill -9 during training: the model table holds no partial version", total == before and killed == 0,
          f"{total} versions before and after")
    cur.execute("INSERT INTO live (id, amount, country, created_at) VALUES (99, '10', 'US', now()) RETURNING fraud_score")
    check("after crash recovery the trigger scores inserts", cur.fetchone()[0] is not None)
    return conn, cur


def killed_postmaster(cur):
    """kill -9 of the postmaster and its children in the middle of a training, then a restart:
    crash recovery leaves the old versions only, and the trigger works."""
    cur.execute("SELECT count(*) FROM fraud_models")
    before = cur.fetchone()[0]
    cur.execute("SHOW data_directory")
    data = cur.fetchone()[0]
    with open(os.path.join(data, "postmaster.pid")) as f:
        postmaster = int(f.readline())
    port = os.environ.get("PGPORT", "5432")
    cluster = next(l.split()[:2] for l in subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True)
                   .stdout.splitlines() if l.split()[2] == port)
    victim = connect()
    thread = threading.Thread(target=lambda: _swallow(victim.cursor(), "SELECT train_fraud_model('big', 'is_fraud', 'killed_pm', %s)",
                                                           (ENDLESS,)))
    thread.start()
    time.sleep(1.0)
    children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True).stdout.split()
    for pid in [postmaster] + [int(c) for c in children]:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    thread.join()
    for _ in range(20):  # the killed processes may take a moment to release shared memory
        if subprocess.run(["pg_ctlcluster", cluster[0], cluster[1], "start"], capture_output=True).returncode == 0:
            break
        time.sleep(1)
    conn = reconnect()
    cur = conn.cursor()
    cur.execute("SELECT count(*), count(*) FILTER (WHERE name = 'killed_pm') FROM fraud_models")
    total, killed = cur.fetchone()
    check("kill -9 of the postmaster during training: after restart no partial version", total == before and killed == 0,
          f"{total} versions")
    cur.execute("INSERT INTO live (id, amount, country, created_at) VALUES (98, '10', 'US', now()) RETURNING fraud_score")
    check("after the restart the trigger scores inserts", cur.fetchone()[0] is not None)
    return conn, cur


def _swallow(cur, sql, params=None):
    try:
        cur.execute(sql, params)
    except psycopg2.Error:
        pass


def timeout(cur):
    """statement_timeout cancels a training wherever it is: the rows being read and added to the
    statistics on a second thread (rows in memory, two cores allowed), the warm start, Newton.
    Each cancel returns within 1 s, stores nothing, and the backend goes on answering."""
    cur.execute("SET max_parallel_workers_per_gather = 2")
    outcomes = []
    for ms in (100, 20, 40, 60, 80, 150, 250):
        cur.execute(f"SET statement_timeout = '{ms}ms'")
        start = time.perf_counter()
        try:
            cur.execute("SELECT train_fraud_model('big', 'is_fraud', 'timeout', %s)", (ENDLESS,))
            cancelled = False
        except psycopg2.errors.QueryCanceled:
            cancelled = True
        outcomes.append((ms, cancelled, time.perf_counter() - start))
        cur.execute("RESET statement_timeout")
        cur.execute("SELECT 1")
    cur.execute("RESET max_parallel_workers_per_gather")
    cur.execute("SELECT count(*) FROM fraud_models WHERE name = 'timeout'")
    stored = cur.fetchone()[0]
    check("statement_timeout (20 to 250 ms) cancels training within 1 s and stores nothing",
          all(c and elapsed < 1.0 for _, c, elapsed in outcomes) and stored == 0,
          ", ".join(f"{ms} ms: {'cancelled' if c else 'NOT cancelled'} after {elapsed:.3f} s" for ms, c, elapsed in outcomes))


def memory(cur):
    """Scoring many rows and inserting many rows through the trigger keeps backend memory flat."""
    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]
    rows = int(200000 * SCALE)
    samples = []
    for _ in range(4):
        cur.execute("SELECT sum(fraud_score(t)) FROM big t")
        cur.execute("SELECT sum(fraud_score(to_jsonb(t))) FROM (SELECT * FROM big LIMIT %s) t", (rows,))
        cur.execute("""INSERT INTO live (id, amount, country, created_at)
                       SELECT 1000000 + id + %s, amount::text, country, created_at FROM big LIMIT %s""",
                    (len(samples) * 10000000, rows // 4))
        samples.append(rss_anon_kb(pid))
    growth = (samples[-1] - samples[1]) / 1024
    check("backend memory is flat over repeated scoring and trigger inserts", growth < 8,
          f"RssAnon {samples[0] // 1024} -> {samples[-1] // 1024} MB")


def peak_rss_during(pid, run):
    """Runs run() and returns the peak RssAnon (kB) of backend pid sampled meanwhile."""
    peak, done = [rss_anon_kb(pid)], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_anon_kb(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        run()
    finally:
        done.set()
        sampler.join()
    return max(peak[0], rss_anon_kb(pid))


def memory_full(cur):
    """Scoring RELIABILITY_MEMORY_ROWS (default 10,000,000) rows as rows and as jsonb, and
    inserting a tenth of them through the trigger with rules in one statement, all in one
    session without parallel workers: the backend's peak private memory during each statement
    stays within 16 MB of the baseline (a leak of 8 bytes per row would add 80 MB)."""
    rows = int(os.environ.get("RELIABILITY_MEMORY_ROWS", "10000000"))
    cur.execute("SET max_parallel_workers_per_gather = 0")
    cur.execute("""CREATE UNLOGGED TABLE mem AS
                   SELECT i AS id, (ARRAY['grocery', 'travel', 'gambling', 'electronics', 'fuel'])[1 + i %% 5] AS merchant_category,
                          (ARRAY['US', 'GB', 'NG', 'FR', 'DE'])[1 + (i / 5) %% 5] AS country,
                          (ARRAY['web', 'pos', 'app'])[1 + (i / 25) %% 3] AS channel, i %% 7 = 0 AS new_device,
                          (i %% 1000)::numeric AS amount, ((i %% 97) / 10.0)::float8 AS amount_ratio,
                          timestamptz '2024-01-01' + (i %% 100000) * interval '1 minute' AS created_at
                     FROM generate_series(1, %s) i""", (rows,))
    cur.execute("CREATE UNLOGGED TABLE mem_live (LIKE mem)")
    cur.execute("SELECT fraud_attach('mem_live', 'default', '{\"add_columns\": true, \"rules_column\": \"fired\"}')")
    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]
    statements = [
        ("score rows", "SELECT sum(fraud_score(t)) FROM (SELECT * FROM mem LIMIT %s) t"),
        ("score jsonb", "SELECT sum(fraud_score(to_jsonb(t))) FROM (SELECT * FROM mem LIMIT %s) t"),
        ("insert through the trigger", "INSERT INTO mem_live (id, merchant_category, country, channel, new_device, "
                                       "amount, amount_ratio, created_at) SELECT * FROM mem LIMIT %s / 10"),
    ]
    for _, sql in statements:  # warm-up: caches, plans and the allocator's arenas
        cur.execute(sql, (100000,))
    baseline = rss_anon_kb(pid)
    report, ok = [], True
    start = time.perf_counter()
    for name, sql in statements:
        peak = peak_rss_during(pid, lambda: cur.execute(sql, (rows,)))
        ok = ok and peak - baseline < 16 * 1024
        report.append(f"{name} +{(peak - baseline) / 1024:.1f} MB")
    cur.execute("SELECT count(*), count(*) FILTER (WHERE fired = '{big}') > 0 FROM mem_live")
    inserted, rules_fired = cur.fetchone()
    check(f"memory is flat scoring {rows} rows (rows, jsonb) and inserting {rows // 10} through the trigger",
          ok and inserted == rows // 10 + 10000 and rules_fired,
          f"baseline RssAnon {baseline // 1024} MB, peaks: {', '.join(report)} ({time.perf_counter() - start:.0f} s)")
    cur.execute("DROP TABLE mem, mem_live")
    cur.execute("RESET max_parallel_workers_per_gather")


def dump_restore(cur):
    """pg_dump/pg_restore keeps models, rules and attached tables: identical documents and scores."""
    cur.execute("SELECT fraud_export_model('default')")
    doc = cur.fetchone()[0]
    cur.execute("SELECT sum(fraud_score(t)) FROM history t")
    score = cur.fetchone()[0]
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "db.dump")
        subprocess.run(["pg_dump", "-Fc", "-f", dump, "reliability"], check=True)
        subprocess.run(["dropdb", "--if-exists", "restored"], check=True)
        subprocess.run(["createdb", "restored"], check=True)
        subprocess.run(["pg_restore", "-d", "restored", dump], check=True, capture_output=True)
    r = connect("restored").cursor()
    r.execute("SELECT fraud_export_model('default')")
    same_doc = r.fetchone()[0] == doc
    r.execute("SELECT sum(fraud_score(t)) FROM history t")
    same_score = r.fetchone()[0] == score
    r.execute("SELECT count(*) FROM fraud_rules")
    rules = r.fetchone()[0]
    r.execute("INSERT INTO live (id, amount, country, created_at) VALUES (5, '10', 'NG', now()) RETURNING is_flagged, fired")
    flagged, fired = r.fetchone()
    check("dump/restore: identical model document and scores", same_doc and same_score)
    check("dump/restore: rules and the attached trigger work", rules == 1 and flagged and fired == ["big"])


def dump_restore_unprivileged(cur):
    """The same as a role without superuser that owns the data and was granted the pg_fraud
    tables (README, "Backups"): pg_dump as that role, and pg_restore as that role into a
    database where a superuser created the extension and made the same grants."""
    password = os.environ.get("PGPASSWORD", "")
    cur.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'fraud_owner'")
    if cur.fetchone()[0] == 0:
        cur.execute("CREATE ROLE fraud_owner LOGIN PASSWORD %s", (password,))
    grants = ["GRANT SELECT, INSERT, UPDATE, DELETE ON fraud_models, fraud_rules, fraud_attachments, fraud_scoring_failures, "
              "fraud_model_events, fraud_detached_tables, fraud_outcomes, fraud_retraining TO fraud_owner",
              "GRANT USAGE, SELECT, UPDATE ON SEQUENCE fraud_models_id_seq, fraud_rules_id_seq, fraud_scoring_failures_id_seq, "
              "fraud_model_events_id_seq, fraud_retraining_id_seq TO fraud_owner",
              "GRANT EXECUTE ON FUNCTION train_fraud_model(regclass, name, text, jsonb), "
              "fraud_import_model(jsonb, text, boolean), fraud_export_model(text, integer), "
              "fraud_attach(regclass, text, jsonb) TO fraud_owner"]
    admin = connect("postgres").cursor()
    for db in ("owned", "owned_restored"):
        admin.execute(f"DROP DATABASE IF EXISTS {db}")
        admin.execute(f"CREATE DATABASE {db} OWNER fraud_owner")
        c = connect(db).cursor()
        c.execute("CREATE EXTENSION pg_fraud")
        for g in grants:
            c.execute(g)
    owner = psycopg2.connect(dbname="owned", user="fraud_owner")
    owner.autocommit = True
    o = owner.cursor()
    o.execute("SET client_min_messages = warning")
    o.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    unprivileged = not o.fetchone()[0]
    o.execute("CREATE TABLE history AS SELECT * FROM fraud_generate_transactions(5000, 4)")
    o.execute("""SELECT version FROM train_fraud_model('history', 'is_fraud', 'default',
                 '{"exclude": ["id", "account_id", "device_id"]}')""")
    o.execute("INSERT INTO fraud_rules (model, name, predicate) VALUES ('default', 'ng', '$.country == \"NG\"')")
    o.execute("CREATE TABLE live (LIKE history)")
    o.execute("SELECT fraud_attach('live', 'default', '{\"add_columns\": true, \"rules_column\": \"fired\"}')")
    o.execute("SELECT fraud_export_model('default')")
    doc = o.fetchone()[0]
    o.execute("SELECT sum(fraud_score(t)) FROM history t")
    score = o.fetchone()[0]
    env = dict(os.environ, PGUSER="fraud_owner")
    with tempfile.TemporaryDirectory() as tmp:
        dump, listing = os.path.join(tmp, "db.dump"), os.path.join(tmp, "list")
        dumped = subprocess.run(["pg_dump", "-Fc", "-f", dump, "owned"], env=env, capture_output=True, text=True)
        # The extension and its comment exist already (created by the superuser).
        entries = subprocess.run(["pg_restore", "-l", dump], capture_output=True, text=True).stdout.splitlines()
        with open(listing, "w") as f:
            f.write("\n".join(e for e in entries if " EXTENSION " not in e) + "\n")
        restored = subprocess.run(["pg_restore", "--exit-on-error", "-L", listing, "-d", "owned_restored", dump],
                                  env=env, capture_output=True, text=True)
    check("dump/restore as a non-superuser: pg_dump and pg_restore succeed",
          unprivileged and dumped.returncode == 0 and restored.returncode == 0,
          (dumped.stderr + restored.stderr).strip()[:300])
    r_conn = psycopg2.connect(dbname="owned_restored", user="fraud_owner")
    r_conn.autocommit = True
    r = r_conn.cursor()
    r.execute("SELECT fraud_export_model('default')")
    same_doc = r.fetchone()[0] == doc
    r.execute("SELECT sum(fraud_score(t)) FROM history t")
    same_score = r.fetchone()[0] == score
    r.execute("INSERT INTO live (id, amount, country, created_at) VALUES (5, 10, 'NG', now()) RETURNING is_flagged, fired")
    flagged, fired = r.fetchone()
    check("dump/restore as a non-superuser: identical document and scores; rules and trigger work",
          same_doc and same_score and flagged and fired == ["ng"])
    r_conn.close()
    owner.close()


def soak(cur):
    """Three pgbench clients insert single rows while the model is retrained again and again."""
    cur.execute("CREATE TABLE soak (id bigserial PRIMARY KEY, worker int, amount numeric, merchant_category text, "
                "country text, channel text, new_device boolean, amount_ratio float8, created_at timestamptz)")
    cur.execute("SELECT fraud_attach('soak', 'default', '{\"add_columns\": true, \"version_column\": \"v\"}')")
    seconds = max(1, int(10 * SCALE))
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write("INSERT INTO soak (worker, amount, merchant_category, country, channel, new_device, amount_ratio, "
                "created_at) VALUES (:client_id, 100, 'grocery', 'US', 'pos', false, 1, now());\n")
        script = f.name
    os.chmod(script, 0o644)
    bench = subprocess.Popen(["pgbench", "-n", "-c", "3", "-j", "3", "-T", str(seconds), "-f", script, "reliability"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    trainer = connect().cursor()
    trainer.execute("SET client_min_messages = warning")
    retrains = 0
    while bench.poll() is None:
        trainer.execute("""SELECT version FROM train_fraud_model('history', 'is_fraud', 'default',
                           '{"exclude": ["id", "account_id", "device_id"], "max_iter": 3}')""")
        retrains += 1
    output = bench.communicate()[0]
    os.unlink(script)
    processed = re.search(r"number of transactions actually processed: (\d+)", output)
    failed = re.search(r"number of failed transactions: (\d+)", output)
    attempts = int(processed.group(1)) if processed else -1
    errors = [] if bench.returncode == 0 and failed and failed.group(1) == "0" else [output[-300:]]
    counts = [attempts]
    cur.execute("SELECT count(*), count(*) FILTER (WHERE v IS NULL) FROM soak")
    rows, unversioned = cur.fetchone()
    cur.execute("""SELECT count(*) FROM (SELECT v < lag(v) OVER (PARTITION BY worker ORDER BY id) AS back FROM soak) s
                   WHERE back""")
    backwards = cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM soak s WHERE NOT EXISTS (SELECT FROM fraud_models m WHERE m.name = 'default' AND m.version = s.v)")
    unknown = cur.fetchone()[0]
    check("soak: no pgbench insert failed while retraining", not errors,
          f"{retrains} retrains, {sum(counts)} inserts by 3 pgbench clients" if not errors else errors[0])
    check("soak: committed rows = attempted rows", rows == sum(counts), f"{rows} rows")
    check("soak: every row carries a committed version, never going back per session",
          unversioned == 0 and backwards == 0 and unknown == 0)


def main():
    conn = connect("postgres")
    conn.cursor().execute("DROP DATABASE IF EXISTS reliability")
    conn.cursor().execute("CREATE DATABASE reliability")
    conn = connect()
    cur = conn.cursor()
    setup(cur)
    sentinels(conn, cur)
    conn, cur = killed_training(cur)
    if os.geteuid() == 0:  # restarting the cluster needs pg_ctlcluster as root
        conn, cur = killed_postmaster(cur)
    cur.execute("SET client_min_messages = warning")
    timeout(cur)
    memory(cur)
    memory_full(cur)
    dump_restore(cur)
    dump_restore_unprivileged(cur)
    soak(cur)
    passed = sum(RESULTS)
    print(f"{passed} passed, {len(RESULTS) - passed} failed")
    return 0 if passed == len(RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
