"""Bulk scoring benchmark: fraud_score over N rows against the floors a user would compare with.

Prints side-by-side medians of alternated runs (A B A B ...) and their ratios:
  1. sum(fraud_score(j)) / sum((j->>'amount')::float8) over 30-key jsonb   (goal <= 1.5)
  2. hand-written SQL expression of the model over jsonb / fraud_score(j)   (goal >= 5)
  3. PL/pgSQL function of the model / fraud_score(j)                        (goal >= 10)
  4. typed-row fraud_score(t) / the model as SQL arithmetic over columns   (goal <= 1.5)
"""
import argparse
import json

from benchlib import alternate, connect, import_model, model_document, print_table, sql_logit, timed

N_FEATURES = 30


def setup(cur, rows):
    cols = ", ".join(f"f{i} float8" for i in range(1, N_FEATURES + 1))
    cur.execute("DROP TABLE IF EXISTS bench_jsonb, bench_typed")
    cur.execute(f"CREATE TABLE bench_typed (id bigint, amount float8, {cols})")
    values = ", ".join(f"round((random() * 4 - 1)::numeric, 4)::float8" for _ in range(N_FEATURES))
    cur.execute(f"INSERT INTO bench_typed SELECT g, round((random() * 1000)::numeric, 2)::float8, {values} "
                f"FROM generate_series(1, %s) g", (rows,))
    # 30 keys in all: amount plus f1..f29 as numbers (the model reads f1..f30; f30 is missing
    # for jsonb rows, which costs the same lookup as a present key).
    keys = ", ".join(f"'f{i}', f{i}" for i in range(1, N_FEATURES))
    cur.execute(f"CREATE TABLE bench_jsonb AS SELECT id, jsonb_build_object('amount', amount, {keys}) AS j "
                f"FROM bench_typed")
    cur.execute("VACUUM ANALYZE bench_typed")
    cur.execute("VACUUM ANALYZE bench_jsonb")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-setup", action="store_true")
    args = parser.parse_args()

    conn = connect()
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS pg_fraud")
    cur.execute("SET max_parallel_workers_per_gather = 0")  # per-row cost, one core each
    if not args.skip_setup:
        setup(cur, args.rows)
    cur.execute("DELETE FROM fraud_models WHERE name = 'bench'")
    doc = model_document(N_FEATURES)
    import_model(cur, doc, "bench")

    jsonb_logit = sql_logit(doc, lambda n: f"(j->>'{n}')::float8")
    cur.execute(f"""CREATE OR REPLACE FUNCTION bench_plpgsql(j jsonb) RETURNS float8 LANGUAGE plpgsql
                    IMMUTABLE PARALLEL SAFE AS $$
                    DECLARE z float8 := 0; BEGIN
                      z := {sql_logit(doc, lambda n: f"COALESCE((j->>'{n}')::float8, {[f['mean'] for f in doc['features'] if f['name'] == n][0]!r})")};
                      RETURN 1 / (1 + exp(-z)); END $$""")
    typed_logit = sql_logit(doc, lambda n: n)

    q_score = "SELECT sum(fraud_score(j, 'bench')) FROM bench_jsonb"
    q_floor = "SELECT sum((j->>'amount')::float8) FROM bench_jsonb"
    q_sql = f"SELECT sum(1 / (1 + exp(-({jsonb_logit.replace(chr(39) + 'f30' + chr(39), chr(39) + 'f1' + chr(39))})))) FROM bench_jsonb"
    q_plpgsql = "SELECT sum(bench_plpgsql(j)) FROM bench_jsonb"
    q_typed = "SELECT sum(fraud_score(t, 'bench')) FROM bench_typed t"
    q_typed_sql = f"SELECT sum(1 / (1 + exp(-({typed_logit})))) FROM bench_typed"

    for q in (q_score, q_floor, q_typed, q_typed_sql):  # warm the cache and the buffers
        timed(cur, q)
    rows = []
    a, b = alternate(args.runs, lambda: timed(cur, q_score), lambda: timed(cur, q_floor))
    rows.append(("fraud_score(jsonb) / single-key floor", f"{a:.3f} s", f"{b:.3f} s", f"{a / b:.2f}", "<= 1.5",
                 "yes" if a / b <= 1.5 else "no"))
    a, b = alternate(args.runs, lambda: timed(cur, q_sql), lambda: timed(cur, q_score))
    rows.append(("SQL expression over jsonb / fraud_score", f"{b:.3f} s", f"{a:.3f} s", f"{a / b:.2f}", ">= 5",
                 "yes" if a / b >= 5 else "no"))
    # At least 5 pairs: a PL/pgSQL run is ten times as long as a fraud_score run, so a slow
    # spell of this shared machine that covers a whole fraud_score run covers only part of a
    # PL/pgSQL one (with 3 pairs, fraud_score's median was 0.86 s in this pair and 0.57 s in
    # the pairs before it, in one run).
    a, b = alternate(max(args.runs, 5), lambda: timed(cur, q_plpgsql), lambda: timed(cur, q_score))
    rows.append((f"PL/pgSQL function / fraud_score ({max(args.runs, 5)} pairs)", f"{b:.3f} s", f"{a:.3f} s", f"{a / b:.2f}", ">= 10",
                 "yes" if a / b >= 10 else "no"))
    a, b = alternate(args.runs, lambda: timed(cur, q_typed), lambda: timed(cur, q_typed_sql))
    rows.append(("typed-row fraud_score(t) / SQL arithmetic", f"{a:.3f} s", f"{b:.3f} s", f"{a / b:.2f}", "<= 1.5",
                 "yes" if a / b <= 1.5 else "no"))
    if not args.skip_setup:
        cur.execute("DROP TABLE bench_jsonb, bench_typed")
    print_table(rows, f"Bulk scoring, {args.rows} rows x {N_FEATURES} features (median of {args.runs}, alternated)")
    print(json.dumps({"bulk_scoring": rows}))


if __name__ == "__main__":
    main()
