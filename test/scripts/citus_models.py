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
"""
import json
import subprocess
import sys

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
