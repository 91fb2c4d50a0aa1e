"""Training, scoring and evaluation over a Citus distributed table against the same work on a
local table.

Run by bench/citus.sh inside a throwaway Citus cluster (a coordinator and 2 workers on this
machine, sharing its cores). --rows generated rows are loaded into a local table and into a
table distributed by account (32 shards, the coordinator's shell emptied); each is trained
with the same options, passes over the table (the distributed table is always trained by
passes over its shards). Reports the time ratio, the bytes of state the coordinator received
per pass (they must not grow with the rows), and that both give the same model. Then, after
fraud_distribute_models(), on the largest table: bulk scoring (SELECT sum(fraud_score(t)),
which runs on the workers) and fraud_evaluate (its passes on the shards), against the same
queries over the local table, with the results compared.
"""
import argparse
import json
import statistics
import time

from benchlib import connect, print_table

OPTIONS = {"exclude": ["id", "account_id", "device_id"], "in_memory": False}


def train(cur, table, name):
    start = time.perf_counter()
    cur.execute("SELECT document FROM train_fraud_model(%s, 'is_fraud', %s, %s)", (table, name, json.dumps(OPTIONS)))
    doc = cur.fetchone()[0]
    return time.perf_counter() - start, doc


def load(cur, rows):
    cur.execute("SET client_min_messages = warning")
    cur.execute("DROP TABLE IF EXISTS bc_local, bc_dist CASCADE")
    cur.execute("DELETE FROM fraud_models")
    cur.execute("CREATE TABLE bc_local AS SELECT * FROM fraud_generate_transactions(%s, 3, 0.03, '2026-01-01', 1, 20000)", (rows,))
    cur.execute("CREATE TABLE bc_dist AS SELECT * FROM bc_local")
    cur.execute("SELECT create_distributed_table('bc_dist', 'account_id')")
    cur.execute("SELECT truncate_local_data_after_distributing_table('bc_dist')")
    cur.execute("VACUUM ANALYZE bc_local")
    cur.execute("VACUUM ANALYZE bc_dist")  # counted on the workers, as the local table is here
    cur.execute("SET citus.enable_ddl_propagation = off")
    cur.execute("CREATE VIEW bc_local_view AS SELECT * FROM bc_local")  # held out by row hash, as the shards
    cur.execute("RESET citus.enable_ddl_propagation")


def timed_value(cur, sql):
    start = time.perf_counter()
    cur.execute(sql)
    value = cur.fetchone()[0]
    return time.perf_counter() - start, value


def scoring(cur, args):
    """Scoring and evaluation of the last loaded table, distributed / local (models on every node)."""
    cur.execute("SELECT fraud_distribute_models()")
    cur.execute("SELECT count(*) FROM bc_local")
    rows = cur.fetchone()[0]
    out = []
    for label, sql in (("bulk scoring, SELECT sum(fraud_score(t))", "SELECT sum(fraud_score(t, 'bc_dist')) FROM {} AS t"),
                       ("fraud_evaluate", "SELECT fraud_evaluate('{}', 'is_fraud', 'bc_dist') ->> 'roc_auc'")):
        local, dist = [], []
        for _ in range(args.runs):
            t, local_value = timed_value(cur, sql.format("bc_local"))
            local.append(t)
            t, dist_value = timed_value(cur, sql.format("bc_dist"))
            dist.append(t)
        lt, dt = statistics.median(local), statistics.median(dist)
        a, b = float(local_value), float(dist_value)
        agree = abs(a - b) <= 1e-9 * max(1.0, abs(a))
        out.append((f"{label}, {rows} rows, distributed / local", f"{dt:.2f} s", f"{lt:.2f} s", f"{dt / lt:.2f}", "<= 1.5",
                    "yes" if dt / lt <= 1.5 else "no"))
        out.append((f"  same result (distributed {b:.10g}, local {a:.10g})", "-", "-", "-", "1e-9",
                    "yes" if agree else "no"))
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cur = connect().cursor()
    out = []
    newton_bytes, last_bytes = {}, {}
    for rows in sorted({args.rows // 10, args.rows}):
        load(cur, rows)
        local, dist = [], []
        for _ in range(args.runs):
            t, local_doc = train(cur, "bc_local_view", "bc_local")
            local.append(t)
            t, dist_doc = train(cur, "bc_dist", "bc_dist")
            dist.append(t)
        lt, dt = statistics.median(local), statistics.median(dist)
        per_pass = dist_doc["training"]["distributed"]["bytes_received_per_pass"]
        # Newton passes that could not be the last carry sums only; the last also the score
        # histograms the metrics are read from (bounded by their bins).
        newton_bytes[rows] = max(per_pass[1:-1]) if len(per_pass) > 2 else per_pass[-1]
        last_bytes[rows] = per_pass[-1]
        cur.execute("SELECT max(abs(a - b)) FROM unnest(fraud_document_coefficients(%s), fraud_document_coefficients(%s)) AS c(a, b)",
                    (json.dumps(local_doc), json.dumps(dist_doc)))
        diff = cur.fetchone()[0]
        out.append((f"train {rows} rows, distributed (32 shards, 2 workers) / local, passes", f"{dt:.2f} s", f"{lt:.2f} s",
                    f"{dt / lt:.2f}", "<= 1.5", "yes" if dt / lt <= 1.5 else "no"))
        out.append((f"  bytes received per pass, {rows} rows: statistics / largest Newton pass before the last",
                    f"{per_pass[0]}", f"{newton_bytes[rows]}", "-", "-", "-"))
        out.append((f"  bytes received by the last pass (with the score histograms), {rows} rows", f"{last_bytes[rows]}",
                    "-", "-", "-", "-"))
        out.append((f"  max coefficient difference, distributed vs local, {rows} rows", f"{diff:.1e}", "-", "-", "< 1e-9",
                    "yes" if diff < 1e-9 else "no"))
    out.extend(scoring(cur, args))
    small, large = sorted(newton_bytes)
    growth = newton_bytes[large] / newton_bytes[small]
    out.append((f"Newton pass bytes before the last, {large} / {small} rows", f"{growth:.2f}x", f"{large // small}x rows",
                "-", "~1 (sums)", "yes" if growth < 1.25 else "no"))  # CBOR sizes numbers by their values
    out.append((f"last pass bytes, {large} / {small} rows", f"{last_bytes[large] / last_bytes[small]:.2f}x",
                f"{large // small}x rows", "-", "bounded by bins", "-"))
    print_table(out, f"Citus: training over a distributed table (median of {args.runs})")


if __name__ == "__main__":
    main()
