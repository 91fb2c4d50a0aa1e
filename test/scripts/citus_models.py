"""Models and rules on every node of a Citus cluster (called by citus.sh with the cluster's
socket directory and base port, after citus.sh trained model 'dist' over dist_tx and its
local copy local_tx). Prints "ok ..." / "FAIL ..." lines.

- Before fraud_distribute_models() a worker has no model (0.2.0's failure, kept as documented).
- After it: every node holds the coordinator's rows of fraud_models and fraud_rules, with the
  same ids and versions; SELECT fraud_score(t) FROM dist_tx t runs on the workers and gives the
  scores of the local copy exactly; an import, an activation and rule changes on the
  coordinator reach a worker's open session at the coordinator's commit, not before; a
  rolled-back activation changes nothing; a node added later gets the models when the
  function runs again.
- fraud_attach on a distributed table (after create_distributed_table, and before it): a
  multi-shard INSERT scores every row as the coordinator would, with rules and versions; the
  alerts queue in the outbox (none for a rolled-back insert) and fraud_relay_alerts() sends
  them to the coordinator's listeners naming the distributed table; reference tables and
  history by another column than the distribution column are refused.
"""
import collections
import re
import json
import select
import subprocess
import sys
import time

import psycopg2

DIR, BASE = sys.argv[1], int(sys.argv[2])
failed = 0


def check(name, ok):
    global failed
    print(("ok   " if ok else "FAIL ") + name)
    failed += 0 if ok else 1


def connect(offset):
    conn = psycopg2.connect(host=DIR, port=BASE + offset, user="postgres", dbname="postgres")
    conn.autocommit = True
    return conn.cursor()


def one(cur, sql, args=None):
    cur.execute(sql, args)
    return cur.fetchone()[0]


coordinator, worker1, worker2 = connect(0), connect(1), connect(2)
TX = json.dumps({"amount": 60.0, "country": "US", "channel": "web", "merchant_category": "electronics"})
ROWS = ("SELECT string_agg(format('%s/%s/%s/%s/%s', id, name, version, active, md5(document::text)), ',' ORDER BY id) "
        "FROM fraud_models")

try:
    one(worker1, "SELECT fraud_score(%s::jsonb, 'dist')", (TX,))
    check("before fraud_distribute_models a worker has no model (its fraud_models is its own)", False)
except psycopg2.Error as e:
    check(f"before fraud_distribute_models a worker has no model ({e.pgcode})", e.pgcode == "42704")

made = one(coordinator, "SELECT fraud_distribute_models()")
again = one(coordinator, "SELECT fraud_distribute_models()")
check(f"fraud_distribute_models makes {made} reference tables, then nothing more ({again})",
      made == ["fraud_models", "fraud_rules"] and again == [])
rows = [one(c, ROWS) for c in (coordinator, worker1, worker2)]
check(f"every node holds the coordinator's model rows, ids and versions ({len(rows[0].split(','))} rows)",
      rows[0] is not None and rows[0] == rows[1] == rows[2])
check("the coordinator's own table keeps no stale copy (0 bytes)",
      one(coordinator, "SELECT pg_relation_size('fraud_models') + pg_relation_size('fraud_rules')") == 0)

# Scoring pushes down: the task queries score on the workers, and the scores equal the local copy's.
coordinator.execute("EXPLAIN (VERBOSE, COSTS OFF) SELECT id, fraud_score(t, 'dist') FROM dist_tx t")
plan = "\n".join(r[0] for r in coordinator.fetchall())
check("SELECT fraud_score(t) FROM dist_tx t scores in the workers' task queries",
      "Task Count: 32" in plan and "Query: SELECT id, public.fraud_score(t.*, 'dist'::text)" in plan)
coordinator.execute("DROP TABLE IF EXISTS s_dist, s_local")
coordinator.execute("CREATE TABLE s_dist AS SELECT id, fraud_score(t, 'dist') AS s, fraud_is_fraud(t, 'dist') AS f FROM dist_tx t")
coordinator.execute("CREATE TABLE s_local AS SELECT id, fraud_score(t, 'dist') AS s, fraud_is_fraud(t, 'dist') AS f FROM local_tx t")
coordinator.execute("""SELECT count(*), count(*) FILTER (WHERE d.s IS DISTINCT FROM l.s OR d.f IS DISTINCT FROM l.f),
                              count(*) FILTER (WHERE d.f) FROM s_dist d JOIN s_local l USING (id)""")
n, differ, flagged = coordinator.fetchone()
check(f"its scores and flags of {n} rows equal the local table's exactly ({differ} differ, {flagged} flagged)",
      n == 70000 and differ == 0 and flagged > 0)


def on_worker(cur):
    return tuple(x for x in (one(cur, "SELECT fraud_score(%s::jsonb, 'dist')", (TX,)),
                             one(cur, "SELECT version FROM fraud_models WHERE name = 'dist' AND active")))


first = on_worker(worker1)  # this session's cache holds the model now
coordinator.execute("""SELECT version FROM fraud_import_model(fraud_export_model('dist') || '{"intercept": 3.0}', 'dist')""")
imported = coordinator.fetchone()[0]
expected = one(coordinator, "SELECT fraud_score(%s::jsonb, 'dist')", (TX,))
after = on_worker(worker1)
check(f"an import on the coordinator reaches a worker's open session (version {first[1]} -> {after[1]}, "
      f"score {first[0]:.6f} -> {after[0]:.6f}, coordinator {expected:.6f})",
      after == (expected, imported) and after[0] != first[0])
coordinator.execute("BEGIN")
coordinator.execute("SELECT fraud_activate_model('dist', %s)", (first[1],))
during = on_worker(worker2)
coordinator.execute("COMMIT")
committed = on_worker(worker2)
check(f"an activation reaches the workers at the coordinator's commit, not before ({during[1]} while open, {committed[1]} after)",
      during == after and committed == first)
coordinator.execute("BEGIN")
coordinator.execute("SELECT fraud_activate_model('dist', %s)", (imported,))
coordinator.execute("ROLLBACK")
check("a rolled-back activation leaves every worker on the active version", on_worker(worker1) == first == on_worker(worker2))

RULE_TX = json.dumps({"amount": 123456.0, "country": "US", "channel": "pos", "merchant_category": "grocery"})
flags = "SELECT fraud_is_fraud(%s::jsonb, 'dist')"
before_rule = one(worker1, flags, (RULE_TX,))
coordinator.execute("INSERT INTO fraud_rules (model, name, predicate) VALUES ('dist', 'large', '$.amount >= 500')")
with_rule = one(worker1, flags, (RULE_TX,)), one(worker2, flags, (RULE_TX,))
pushed = one(coordinator, "SELECT count(*) FILTER (WHERE fraud_is_fraud(t, 'dist')) FROM dist_tx t WHERE amount >= 500")
large = one(coordinator, "SELECT count(*) FROM dist_tx WHERE amount >= 500")
coordinator.execute("UPDATE fraud_rules SET enabled = false WHERE model = 'dist' AND name = 'large'")
disabled = one(worker1, flags, (RULE_TX,))
check(f"a rule added on the coordinator flags on the workers ({before_rule} -> {with_rule}; {pushed} of {large} "
      f"shard rows it matches), disabled there too ({disabled})",
      before_rule is False and with_rule == (True, True) and disabled is False and pushed == large > 0)

# fraud_attach on a distributed table: rules and versions on the workers, multi-shard inserts,
# alerts through the outbox to the coordinator's listeners, naming the distributed table.
coordinator.execute("UPDATE fraud_rules SET enabled = true WHERE model = 'dist' AND name = 'large'")
listener = connect(0)
listener.execute("LISTEN fraud_alerts")
coordinator.execute("CREATE TABLE live (LIKE local_tx)")
coordinator.execute("ALTER TABLE live ADD PRIMARY KEY (account_id, id)")
coordinator.execute("SELECT create_distributed_table('live', 'account_id')")
coordinator.execute("""SELECT fraud_attach('live', 'dist', '{"add_columns": true, "notify": "fraud_alerts", "rules_column": "fired"}')""")
coordinator.execute("BEGIN")
coordinator.execute("INSERT INTO live SELECT * FROM local_tx WHERE id <= 500")
coordinator.execute("ROLLBACK")
queued_after_rollback = one(coordinator, "SELECT count(*) FROM live_fraud_alerts")
coordinator.execute("INSERT INTO live SELECT * FROM local_tx WHERE id <= 3000")  # rows of every shard, one transaction
coordinator.execute("CREATE TABLE live_copy AS SELECT id, is_flagged, fraud_score, fired, model_version FROM live")
coordinator.execute("""SELECT count(*), count(*) FILTER (WHERE c.is_flagged), count(*) FILTER (WHERE c.is_flagged IS DISTINCT FROM fraud_is_fraud(t, 'dist')
                              OR c.fraud_score IS DISTINCT FROM fraud_score(t, 'dist')),
                              count(*) FILTER (WHERE 'large' = ANY (c.fired)), count(*) FILTER (WHERE t.amount >= 500),
                              count(*) FILTER (WHERE c.model_version IS DISTINCT FROM (SELECT version FROM fraud_models WHERE name = 'dist' AND active))
                         FROM live_copy c JOIN local_tx t USING (id)""")
rows_in, flagged_in, differ_in, fired_large, large_in, other_version = coordinator.fetchone()
check(f"a multi-shard INSERT into the attached distributed table scores every row as the coordinator does "
      f"({rows_in} rows, {flagged_in} flagged, {differ_in} differ, {other_version} with another version)",
      rows_in == 3000 and flagged_in > 0 and differ_in == 0 and other_version == 0)
check(f"rules apply on the workers ({fired_large} rows fired 'large', {large_in} have amount >= 500)",
      fired_large == large_in > 0)
queued = one(coordinator, "SELECT count(*) FROM live_fraud_alerts")
check(f"flagged rows queue one alert each in the outbox, a rolled-back insert none ({queued} queued, {queued_after_rollback} after the rollback)",
      queued == flagged_in and queued_after_rollback == 0)
coordinator.execute("BEGIN")
coordinator.execute("SELECT fraud_relay_alerts()")
coordinator.execute("ROLLBACK")
listener.connection.poll()
check("a rolled-back relay sends nothing and keeps the alerts",
      not listener.connection.notifies and one(coordinator, "SELECT count(*) FROM live_fraud_alerts") == queued)
sent = one(coordinator, "SELECT fraud_relay_alerts()")
deadline = time.monotonic() + 10  # the notifications may come in several reads
while len(listener.connection.notifies) < sent and time.monotonic() < deadline:
    select.select([listener.connection], [], [], 1)
    listener.connection.poll()
payloads = [json.loads(n.payload) for n in listener.connection.notifies]
tables = {p["table"] for p in payloads}
check(f"fraud_relay_alerts sends them to the coordinator's listeners, naming the distributed table ({sent} sent, "
      f"{len(payloads)} received, tables {sorted(tables)}), and empties the outbox",
      sent == len(payloads) == queued and tables == {"public.live"}
      and one(coordinator, "SELECT count(*) FROM live_fraud_alerts") == 0 and all(p["key"] for p in payloads))
del listener.connection.notifies[:]

# The BI views and the monitoring functions over the distributed table give what they give over
# a local table holding the same rows, scored the same way, and name the distributed table.
coordinator.execute("CREATE TABLE live_local (LIKE live INCLUDING ALL)")
coordinator.execute("""SELECT fraud_attach('live_local', 'dist', '{"add_columns": true, "rules_column": "fired"}')""")
coordinator.execute("INSERT INTO live_local SELECT * FROM local_tx WHERE id <= 3000")
coordinator.execute("CREATE TABLE byid (LIKE local_tx)")
coordinator.execute("ALTER TABLE byid ADD PRIMARY KEY (id)")
coordinator.execute("SELECT create_distributed_table('byid', 'id')")
coordinator.execute("CREATE TABLE byid_local (LIKE byid INCLUDING ALL)")
for table in ("byid", "byid_local"):
    coordinator.execute(f"""SELECT fraud_attach('{table}', 'dist', '{{"add_columns": true}}')""")
    coordinator.execute(f"INSERT INTO {table} SELECT * FROM local_tx WHERE id <= 3000")
    coordinator.execute(f"SELECT count(fraud_record_outcome('{table}', id, is_fraud)) FROM local_tx WHERE id <= 3000 AND (is_fraud OR id % 7 = 0)")
# Recording outcomes from a query over the distributed table: Citus would run the function on
# the workers, where it is refused with a hint; the form of the hint records them here.
try:
    coordinator.execute("SELECT count(fraud_record_outcome('byid', id, is_fraud)) FROM byid WHERE id <= 10")
    worker_record = "accepted"
except psycopg2.Error as e:
    worker_record = e.pgcode if "on the Citus coordinator, not on a worker" in e.pgerror else f"{e.pgcode}: {e.pgerror}"
hinted = one(coordinator, "WITH k AS MATERIALIZED (SELECT id, is_fraud FROM byid WHERE id <= 3000 AND (is_fraud OR id % 7 = 0)) "
                          "SELECT count(fraud_record_outcome('byid', id, is_fraud)) FROM k")
check(f"fraud_record_outcome over the distributed table's rows is refused on the workers ({worker_record}); the hinted "
      f"form records {hinted} outcomes again on the coordinator",
      worker_record == "0A000" and hinted > 0 and hinted == one(coordinator, "SELECT count(*) FROM fraud_outcomes WHERE tab = 'byid'::regclass"))
VIEWS = {  # view: (the distributed table, its local twin, the columns compared, rounded where sums of floats)
    "fraud_daily_activity": ("live", "day, model_version, scored, flagged, round(mean_score::numeric, 12)"),
    "fraud_flag_reasons": ("live", "reason, flagged"),
    "fraud_daily_score_histogram": ("live", "day, model_version, bucket, lower_score, upper_score, rows"),
    "fraud_daily_rule_hits": ("live", "day, rule, action, hits, overrides, errors"),
    "fraud_alert_outcomes_daily": ("byid", "day, model_version, alerts, reviewed, confirmed, \"precision\", known_frauds, caught, recall"),
}
for view, (table, columns) in VIEWS.items():
    got = {}
    for name in (table, table + "_local"):
        coordinator.execute(f"SELECT {columns} FROM {view} WHERE table_name::text = %s ORDER BY {columns}", (name,))
        got[name] = coordinator.fetchall()
    names = one(coordinator, f"SELECT string_agg(DISTINCT table_name::text, ',') FROM {view}")
    check(f"{view} over the distributed table equals its local twin's ({len(got[table])} rows) and names it ({names})",
          len(got[table]) > 0 and got[table] == got[table + "_local"] and table in names.split(","))
monitors = ["(fraud_evaluate('{t}', 'is_fraud', 'dist')) - 'model'",
            "to_jsonb(fraud_choose_threshold('{t}', '{{\"strategy\": \"f1\"}}', 'is_fraud', 'dist'))",
            "(SELECT jsonb_agg(d ORDER BY d.feature) FROM fraud_drift('{t}', 'dist') AS d)"]


def close(a, b):
    """Equal, numbers to 1e-9 relative (sums over shards add in another order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    return a == b


coordinator.connection.notices = collections.deque(maxlen=100000)  # a list would keep the last 50
coordinator.execute("SET citus.log_remote_commands = on")
over_shards = [one(coordinator, "SELECT " + m.format(t="live")) for m in monitors]
coordinator.execute("RESET citus.log_remote_commands")
remote = [n for n in coordinator.connection.notices if "fraud_monitor_partial" in n]
gathered = [n for n in coordinator.connection.notices if "fraud_monitor(" in n]
same = [close(a, one(coordinator, "SELECT " + m.format(t="live_local"))) for a, m in zip(over_shards, monitors)]
# One command per worker and request (not one per shard), which reads all the worker's shards.
named = {s for n in remote for s in re.findall(r"live_[0-9]+", n)}
check(f"fraud_evaluate, fraud_choose_threshold and fraud_drift over it run on its shards ({len(remote)} worker commands "
      f"naming {len(named)} shards, {len(gathered)} gathering) and equal its local twin's, to 1e-9 ({same})",
      all(same) and len(remote) == 3 * 2 and len(named) == 32 and not gathered)

# With the recorded outcomes as labels: each worker is sent the outcomes of its own shards' rows
# (every recorded key once in all, none twice) and computes its counts there; nothing gathers.
outcome_monitors = ["fraud_evaluate('{t}', 'fraud_outcomes', 'dist') - 'model'",
                    "to_jsonb(fraud_choose_threshold('{t}', '{{\"strategy\": \"f1\"}}', 'fraud_outcomes', 'dist'))"]
coordinator.connection.notices.clear()
coordinator.execute("SET citus.log_remote_commands = on")
outcomes = [one(coordinator, "SELECT " + m.format(t="byid")) for m in outcome_monitors]
coordinator.execute("RESET citus.log_remote_commands")
remote = [n for n in coordinator.connection.notices if "fraud_monitor_partial" in n]
gathered = [n for n in coordinator.connection.notices if re.search(r"byid_[0-9]+", n) and "fraud_monitor_partial" not in n]
sent = [k for n in remote[:len(remote) // 2] for k in re.findall(r"'\{([0-9,]*)\}'::text\[\]", n)[0].split(",") if k]
recorded = sorted(str(k) for k in one(coordinator, "SELECT array_agg(row_key::bigint) FROM fraud_outcomes WHERE tab = 'byid'::regclass"))
same = [close(a, one(coordinator, "SELECT " + m.format(t="byid_local"))) for a, m in zip(outcomes, outcome_monitors)]
check(f"fraud_evaluate and fraud_choose_threshold with the recorded outcomes as labels run on the workers "
      f"({len(remote)} worker commands, {len(gathered)} gathering; {len(sent)} keys sent for {len(recorded)} outcomes, "
      f"{len(sent) - len(set(sent))} twice) and equal the local twin's ({same}; {outcomes[0]['rows']} rows with an outcome)",
      all(same) and outcomes[0]["rows"] > 0 and len(remote) == 2 * 2 and not gathered and sorted(sent) == recorded)

# Attached before create_distributed_table: scoring goes on, alerts ask for fraud_attach again.
coordinator.execute("CREATE TABLE early (LIKE local_tx)")
coordinator.execute("""SELECT fraud_attach('early', 'dist', '{"add_columns": true, "notify": "fraud_alerts"}')""")
coordinator.execute("SET citus.enable_unsafe_triggers = on")
coordinator.execute("SELECT create_distributed_table('early', 'account_id')")
coordinator.execute("RESET citus.enable_unsafe_triggers")
FLAGGED = "INSERT INTO early SELECT * FROM local_tx WHERE id = (SELECT min(id) FROM s_local WHERE f)"
try:
    coordinator.execute(FLAGGED)
    early_error = None
except psycopg2.Error as e:  # Citus reports errors of a row copied to a shard as XX000, with their message
    early_error = e.pgcode if "has no alert outbox on this node" in e.pgerror else f"{e.pgcode}: {e.pgerror}"
coordinator.execute("INSERT INTO early SELECT * FROM local_tx WHERE id = (SELECT min(id) FROM s_local WHERE NOT f)")
coordinator.execute("""SELECT fraud_attach('early', 'dist', '{"add_columns": true, "notify": "fraud_alerts"}')""")
coordinator.execute(FLAGGED)
check(f"a table attached before create_distributed_table scores there; a flagged row is refused ({early_error}) until "
      "fraud_attach runs again, then queues its alert",
      early_error in ("0A000", "XX000") and one(coordinator, "SELECT count(*) FROM early WHERE is_flagged IS NOT NULL") == 2
      and one(coordinator, "SELECT count(*) FROM early_fraud_alerts") == 1 and one(coordinator, "SELECT fraud_relay_alerts()") == 1)

coordinator.execute("SELECT fraud_detach('early')")
coordinator.execute("INSERT INTO early SELECT * FROM local_tx WHERE id = (SELECT max(id) FROM s_local WHERE f)")
check("fraud_detach of a distributed table drops the triggers of its shards (the next flagged row is stored unscored)",
      one(coordinator, "SELECT count(*) FROM early WHERE is_flagged IS NULL") == 1
      and one(coordinator, "SELECT count(*) FROM early_fraud_alerts") == 0)


def refused(sql):
    try:
        coordinator.execute(sql)
        return None
    except psycopg2.Error as e:
        return e.pgcode


coordinator.execute("CREATE TABLE ref_live (LIKE local_tx)")
coordinator.execute("SELECT create_reference_table('ref_live')")
ref_code = refused("""SELECT fraud_attach('ref_live', 'dist', '{"add_columns": true}')""")
coordinator.execute("SET client_min_messages = warning")
coordinator.execute("""SELECT version FROM train_fraud_model('local_tx', 'is_fraud', 'by_device',
    '{"exclude": ["id", "account_id"], "history": {"by": "device_id", "time": "created_at", "windows": ["1 day"]}}')""")
coordinator.execute("CREATE TABLE live_devices (LIKE local_tx)")
coordinator.execute("SELECT create_distributed_table('live_devices', 'account_id')")
device_code = refused("""SELECT fraud_attach('live_devices', 'by_device', '{"add_columns": true}')""")
check(f"refused with 0A000: a reference table ({ref_code}), history by an entity the table is not distributed by ({device_code})",
      ref_code == "0A000" and device_code == "0A000")

# History features on a table distributed by the entity: each shard holds whole accounts, and
# the features of rows inserted in time order equal those of a local attached table.
coordinator.execute("""SELECT version FROM train_fraud_model('local_tx', 'is_fraud', 'by_account',
    '{"exclude": ["id", "device_id"], "history": {"by": "account_id", "time": "created_at",
      "windows": ["1 day", "30 days"], "amounts": ["amount"], "distinct": ["country"], "new": ["device_id"]}}')""")
for table in ("hist_dist", "hist_local"):
    coordinator.execute(f"CREATE TABLE {table} (LIKE local_tx)")
    if table == "hist_dist":
        coordinator.execute("SELECT create_distributed_table('hist_dist', 'account_id')")
    coordinator.execute(f"""SELECT fraud_attach('{table}', 'by_account', '{{"add_columns": true, "history_column": "hist"}}')""")
    coordinator.execute(f"""DO $$ DECLARE r bigint; BEGIN
        FOR r IN SELECT id FROM local_tx WHERE account_id <= 200 ORDER BY created_at, id LOOP
            INSERT INTO {table} SELECT * FROM local_tx WHERE id = r;
        END LOOP; END $$""")
coordinator.execute("CREATE TABLE hist_dist_copy AS SELECT id, hist, fraud_score FROM hist_dist")
coordinator.execute("""SELECT count(*), count(*) FILTER (WHERE d.hist IS DISTINCT FROM l.hist OR d.fraud_score IS DISTINCT FROM l.fraud_score),
                              count(*) FILTER (WHERE (l.hist ->> 'account_id:count:1 day')::float8 > 0)
                         FROM hist_dist_copy d JOIN hist_local l USING (id)""")
n_hist, differ_hist, with_history = coordinator.fetchone()
check(f"history features on a table distributed by the entity equal a local table's ({n_hist} rows, {differ_hist} differ, "
      f"{with_history} with earlier rows within a day)", n_hist > 1000 and differ_hist == 0 and with_history > 0)

# Monitoring the history model: each worker computes its shards' rows' history (an account's
# rows are on one shard) in one command; a model with history by another column than the
# distribution column gathers the rows to the coordinator instead. Both equal the local twin's.
def monitored(model, table):
    """The three monitors of `model` over `table`, and the remote commands they sent."""
    coordinator.connection.notices.clear()
    coordinator.execute("SET client_min_messages = notice")
    coordinator.execute("SET citus.log_remote_commands = on")
    got = [one(coordinator, "SELECT " + m.format(t=table).replace("'dist'", f"'{model}'")) for m in monitors]
    coordinator.execute("RESET citus.log_remote_commands")
    coordinator.execute("SET client_min_messages = warning")
    return got, list(coordinator.connection.notices)


for model in ("by_account", "by_device"):
    on_dist, notices = monitored(model, "hist_dist")
    on_local, _ = monitored(model, "hist_local")
    node_passes = [n for n in notices if "fraud_monitor_partial" in n and "fraud_history_window" in n]
    # Shard queries returning rows (not the time span's max/min, an aggregate on the shards).
    gathering = [n for n in notices if re.search(r"hist_dist_[0-9]+", n) and "fraud_monitor_partial" not in n
                 and "max(created_at)" not in n]
    same = [close(a, b) for a, b in zip(on_dist, on_local)]
    if model == "by_account":
        check(f"fraud_evaluate, fraud_choose_threshold and fraud_drift of the history model run on the workers "
              f"({len(node_passes)} worker commands computing history, {len(gathering)} gathering) and equal its local "
              f"twin's ({same}; {on_dist[0]['rows']} rows, ROC AUC {on_dist[0]['roc_auc']:.4f})",
              all(same) and len(node_passes) == 3 * 2 and not gathering)
    else:
        check(f"with history by another column they gather the rows ({len(gathering)} shard queries, "
              f"{len(node_passes)} worker passes) and still equal the local twin's ({same})",
              all(same) and gathering and not node_passes)

# A node added later: Citus adds it; fraud_distribute_models() places the tables there.
added = subprocess.run(["scripts/citus-cluster.sh", "add", DIR, str(BASE)], capture_output=True, text=True)
check("a third worker joins the cluster" + (f" ({added.stdout}{added.stderr})" if added.returncode else ""),
      added.returncode == 0)
if added.returncode == 0:
    coordinator.execute("SELECT fraud_distribute_models()")
    worker3 = connect(3)
    check("after fraud_distribute_models the added node holds the same rows and scores as the coordinator",
          one(worker3, ROWS) == one(coordinator, ROWS) and on_worker(worker3) == first)
sys.exit(1 if failed else 0)
