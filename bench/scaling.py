"""Scaling: time and peak private memory of training and of bulk scoring at growing sizes;
the ratios between sizes show whether cost grows linearly. At each size training and scoring
alternate (T S T S ...); times are medians of --runs, memory the largest peak. Training passes
over the table at every size ("in_memory": false): with the default maintenance_work_mem the
smallest size would otherwise be trained in memory and the ratios would compare two methods."""
import argparse
import json
import statistics
from benchlib import connect, print_table, timed_peak_rss

COLUMNS = ["amount", "merchant_category", "country", "channel", "created_at"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    conn = connect()
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS pg_fraud")
    cur.execute("SET client_min_messages = warning")
    cur.execute("SET max_parallel_workers_per_gather = 0")  # one backend: its memory is the whole story
    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]
    rows, previous = [], None
    for n in sizes:
        cur.execute("DROP TABLE IF EXISTS scale_tx")
        cur.execute(f"CREATE TABLE scale_tx AS SELECT {', '.join(COLUMNS)}, is_fraud FROM fraud_generate_transactions(%s, 9)", (n,))
        cur.execute("VACUUM ANALYZE scale_tx")
        trains, scores = [], []
        for _ in range(args.runs):
            trains.append(timed_peak_rss(cur, pid, "SELECT version FROM train_fraud_model('scale_tx', 'is_fraud', 'scale', "
                                                     "'{\"in_memory\": false}')"))
            scores.append(timed_peak_rss(cur, pid, "SELECT sum(fraud_score(t, 'scale')) FROM scale_tx t"))
        train, train_mb = statistics.median(t for t, _ in trains), max(m for _, m in trains)
        score, score_mb = statistics.median(t for t, _ in scores), max(m for _, m in scores)
        if previous:
            growth = n / previous[0]
            rows.append((f"{previous[0]} -> {n} rows ({growth:.0f}x)", f"train {train / previous[1]:.1f}x",
                         f"score {score / previous[2]:.1f}x", f"{train_mb:.0f} / {score_mb:.0f} MB", "~linear", "-"))
        rows.append((f"{n} rows", f"train {train:.2f} s", f"score {score:.2f} s", f"{train_mb:.0f} / {score_mb:.0f} MB",
                     "memory flat", "yes" if train_mb < 256 else "no"))
        previous = (n, train, score)
    cur.execute("DROP TABLE scale_tx")
    print_table(rows, f"Scaling: training and scoring time (median of {args.runs}, alternated), "
                      "peak backend RssAnon (train / score), 0 workers")
    print(json.dumps({"scaling": rows}))


if __name__ == "__main__":
    main()
