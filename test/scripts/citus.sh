#!/usr/bin/env bash
# pg_fraud on a real Citus cluster (a coordinator and 2 workers on loopback, started and
# stopped here; Citus built from ../shared/vendor by scripts/citus-build.sh and cached):
# training over a distributed table runs its passes on the shards and equals the model of a
# local copy of the same rows; after fraud_distribute_models every node scores with the
# coordinator's current models and rules (citus_models.py). Runs as root.
set -uo pipefail
cd "$(dirname "$0")/../.."
passed=0 failed=0
check() { if eval "$2"; then echo "ok   $1"; passed=$((passed + 1)); else echo "FAIL $1"; failed=$((failed + 1)); fi; }
if [ "$(id -u)" -ne 0 ]; then echo "FAIL citus.sh runs as root"; echo "0 passed, 1 failed"; exit 1; fi
scripts/citus-build.sh
built=$?
if [ "$built" -eq 2 ]; then echo "skip: Citus cannot be built here (above); no Citus test ran"; echo "0 passed, 0 failed"; exit 0; fi
check "Citus 13.2.2 is built and installed (scripts/citus-build.sh)" "[ $built -eq 0 ]"
dir=$(mktemp -d /tmp/pg_fraud_citus.XXXX)
trap 'scripts/citus-cluster.sh stop "$dir"' EXIT
scripts/citus-cluster.sh start "$dir" 5481
started=$?
check "a coordinator and 2 workers start, with citus and pg_fraud on every node" "[ $started -eq 0 ]"
[ "$started" -eq 0 ] || { echo "$passed passed, $failed failed"; exit 1; }
sql() { psql -h "$dir" -p 5481 -U postgres -d postgres -v ON_ERROR_STOP=1 -qAtX "$@"; }
on_worker() { psql -h "$dir" -p 5482 -U postgres -d postgres -v ON_ERROR_STOP=1 -qAtX "$@"; }
check "pg_fraud is on the workers too, at the coordinator's version" \
  "[ \"\$(on_worker -c \"SELECT extversion FROM pg_extension WHERE extname = 'pg_fraud'\")\" = \"\$(sql -c \"SELECT extversion FROM pg_extension WHERE extname = 'pg_fraud'\")\" ]"

# 70,000 rows: a local copy, and the same rows distributed by account over 32 shards, the
# coordinator's shell emptied as Citus recommends.
sql >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE TABLE local_tx AS SELECT * FROM fraud_generate_transactions(70000, 3, 0.03, '2026-01-01', 1, 2000);
CREATE TABLE dist_tx AS SELECT * FROM local_tx;
SELECT create_distributed_table('dist_tx', 'account_id');
SELECT truncate_local_data_after_distributing_table('dist_tx');
-- The local copy read through a view: a view is held out by row hash, as the shards are.
SET citus.enable_ddl_propagation = off;  -- a view of a local table stays local
CREATE VIEW local_view AS SELECT * FROM local_tx;
SQL
count=$(sql -c "SELECT count(*) FROM dist_tx") shell=$(sql -c "SELECT pg_relation_size('dist_tx')")
check "the distributed table has the 70,000 rows ($count), its shell on the coordinator none ($shell bytes)" \
  "[ '$count' = 70000 ] && [ '$shell' = 0 ]"
opts='{"exclude": ["id", "account_id", "device_id"], "in_memory": false}'
sql -c "SET client_min_messages = warning" -c "SELECT version FROM train_fraud_model('dist_tx', 'is_fraud', 'dist', '$opts')" >/dev/null
trained=$?
check "train_fraud_model over the distributed table succeeds with its shell empty" "[ $trained -eq 0 ]"
sql -c "SET client_min_messages = warning" -c "SELECT version FROM train_fraud_model('local_view', 'is_fraud', 'local', '$opts')" >/dev/null
split() { sql -c "SELECT (document -> 'training' ->> 'training_rows') || '/' || (document -> 'training' ->> 'holdout_rows') FROM fraud_models WHERE name = '$1'"; }
dist_split=$(split dist) local_split=$(split local)
check "it trained on every row and held out the local copy's rows (training/held out: $dist_split, local $local_split)" \
  "[ '$dist_split' = '$local_split' ] && [ \$(( \${dist_split%/*} + \${dist_split#*/} )) -eq 70000 ]"
diff=$(sql -c "SELECT max(abs(a - b)) FROM (SELECT unnest(fraud_document_coefficients(l.document)) AS a, unnest(fraud_document_coefficients(d.document)) AS b
               FROM fraud_models l, fraud_models d WHERE l.name = 'local' AND d.name = 'dist') AS x")
check "its coefficients equal the local copy's to 1e-9 (max difference $diff)" "awk -v d='$diff' 'BEGIN {exit !(d < 1e-9)}'"
sdiff=$(sql -c "SELECT max(abs(fraud_score(t, 'dist') - fraud_score(t, 'local'))) FROM local_tx t")
check "so are its scores of every row (max difference $sdiff)" "awk -v d='$sdiff' 'BEGIN {exit !(d < 1e-9)}'"
# The evaluation's figures come from the last pass only (earlier passes leave the score
# histograms out): they equal the local copy's.
mdiff=$(sql -c "SELECT max(abs((d.document -> 'metrics' ->> k)::float8 - (l.document -> 'metrics' ->> k)::float8))
               FROM fraud_models l, fraud_models d, unnest(ARRAY['roc_auc', 'pr_auc', 'log_loss', 'threshold', 'tp', 'fp', 'fn']) AS k
               WHERE l.name = 'local' AND d.name = 'dist'")
check "its held-out metrics and threshold equal the local copy's (max difference $mdiff)" "awk -v d='$mdiff' 'BEGIN {exit !(d != \"\" && d < 1e-9)}'"
passes=$(sql -c "SELECT document -> 'training' -> 'distributed' ->> 'passes_over_shards' FROM fraud_models WHERE name = 'dist'")
bytes=$(sql -c "SELECT document -> 'training' -> 'distributed' ->> 'bytes_received_per_pass' FROM fraud_models WHERE name = 'dist'")
rowbytes=$(sql -c "SELECT sum(pg_column_size(t)) FROM local_tx t")
echo "bytes of state received from the shards per pass (statistics, then Newton): $bytes; the rows are $rowbytes bytes"
newton=$(sql -c "SELECT max(p.b::bigint) FROM fraud_models m, jsonb_array_elements_text(m.document -> 'training' -> 'distributed' -> 'bytes_received_per_pass') WITH ORDINALITY AS p(b, i) WHERE p.i > 1 AND m.name = 'dist'")
check "every pass ran on the shards ($passes passes), each Newton pass received less than the rows' bytes ($newton < $rowbytes)" \
  "[ '$passes' -ge 2 ] && [ '$newton' -lt '$rowbytes' ]"
# History features over a table distributed by the entity: an account's rows are on one
# shard, so each worker computes its shards' history in its own pass command; the model and
# its held-out (latest rows) metrics equal the local copy's.
hopts='{"exclude": ["id", "device_id"], "in_memory": false, "history": {"by": "account_id", "time": "created_at",
  "windows": ["1 hour", "1 day"], "amounts": ["amount"], "distinct": ["country"], "new": ["device_id"]}}'
hremote=$(sql -c "SET client_min_messages = notice" -c "SET citus.log_remote_commands = on" \
  -c "SELECT version FROM train_fraud_model('dist_tx', 'is_fraud', 'dist_hist', '$hopts')" 2>&1 |
  grep "fraud_train_columns" | grep -c "fraud_history_window" || true)
sql -c "SET client_min_messages = warning" -c "SELECT version FROM train_fraud_model('local_tx', 'is_fraud', 'local_hist', '$hopts')" >/dev/null
hpasses=$(sql -c "SELECT document -> 'training' -> 'distributed' ->> 'passes_over_shards' FROM fraud_models WHERE name = 'dist_hist'")
hdiff=$(sql -c "SELECT max(abs(a - b)) FROM (SELECT unnest(fraud_document_coefficients(l.document)) AS a, unnest(fraud_document_coefficients(d.document)) AS b
               FROM fraud_models l, fraud_models d WHERE l.name = 'local_hist' AND d.name = 'dist_hist') AS x")
hmdiff=$(sql -c "SELECT max(abs((d.document -> 'metrics' ->> k)::float8 - (l.document -> 'metrics' ->> k)::float8))
               FROM fraud_models l, fraud_models d, unnest(ARRAY['roc_auc', 'pr_auc', 'log_loss', 'threshold']) AS k
               WHERE l.name = 'local_hist' AND d.name = 'dist_hist'")
hobj=$(sql -c "SELECT abs((d.document -> 'training' ->> 'objective')::float8 / (l.document -> 'training' ->> 'objective')::float8 - 1)
               FROM fraud_models l, fraud_models d WHERE l.name = 'local_hist' AND d.name = 'dist_hist'")
# Neither table is counted yet (VACUUM ANALYZE, below), so both warm starts keep the same
# sample, and the model is the same to 1e-9.
check "history by the distribution column trains on the workers ($hremote featurising pass commands for $hpasses passes) and equals the local copy (objective $hobj relative, held-out metrics $hmdiff, coefficients $hdiff)" \
  "[ -n '$hpasses' ] && [ '$hremote' -eq \$((2 * $hpasses)) ] && awk -v d='$hdiff' -v m='$hmdiff' -v o='$hobj' 'BEGIN {exit !(d != \"\" && d < 1e-9 && m != \"\" && m < 1e-9 && o != \"\" && o < 1e-9)}'"
# With the shards counted (VACUUM ANALYZE on the workers), their rows size the warm start's
# sample per shard as a local table's estimate does: the statistics pass receives about the
# sample the merge keeps rather than that many rows from every shard, and the model is the same.
sql -c "VACUUM ANALYZE dist_tx" -c "SET client_min_messages = warning" \
  -c "SELECT version FROM train_fraud_model('dist_tx', 'is_fraud', 'dist_counted', '$opts')" >/dev/null
estimate=$(sql -c "SELECT round((document -> 'training' -> 'distributed' ->> 'estimated_rows')::numeric) FROM fraud_models WHERE name = 'dist_counted'")
cdiff=$(sql -c "SELECT max(abs(a - b)) FROM (SELECT unnest(fraud_document_coefficients(l.document)) AS a, unnest(fraud_document_coefficients(d.document)) AS b
               FROM fraud_models l, fraud_models d WHERE l.name = 'local' AND d.name = 'dist_counted') AS x")
check "counted shards give the row estimate ($estimate of 70000) and the same model (max difference $cdiff)" \
  "[ -n '$estimate' ] && [ '$estimate' -gt 63000 ] && [ '$estimate' -lt 77000 ] && awk -v d='$cdiff' 'BEGIN {exit !(d < 1e-9)}'"
# The coordinator's plan of a pass gathers no rows: each pass sends one command to each worker
# (not one per shard: a connection each), which reads all the worker's shards.
remote=$(sql -c "SET client_min_messages = notice" -c "SET citus.log_remote_commands = on" \
  -c "SELECT version FROM train_fraud_model('dist_tx', 'is_fraud', 'dist2', '$opts')" 2>&1 | grep "fraud_train_columns" || true)
plan=$(printf '%s\n' "$remote" | grep -c "fraud_train_columns" || true)
named=$(printf '%s\n' "$remote" | grep -o "dist_tx_[0-9]*" | sort -u | wc -l)
passes2=$(sql -c "SELECT document -> 'training' -> 'distributed' ->> 'passes_over_shards' FROM fraud_models WHERE name = 'dist2'")
check "the workers ran the pass aggregate on their shards ($plan remote commands for $passes2 passes, naming $named shards)" \
  "[ '$plan' -eq \$((2 * $passes2)) ] && [ '$named' -eq 32 ]"

# A reference table (one shard, a placement on every node) is read once, not once a placement.
sql >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE TABLE ref_tx AS SELECT * FROM local_tx WHERE id <= 5000;
SELECT create_reference_table('ref_tx');
SELECT truncate_local_data_after_distributing_table('ref_tx');
SET citus.enable_ddl_propagation = off;
CREATE VIEW ref_local AS SELECT * FROM local_tx WHERE id <= 5000;
SQL
sql -c "SET client_min_messages = warning" -c "SELECT version FROM train_fraud_model('ref_tx', 'is_fraud', 'ref', '$opts')" \
  -c "SELECT version FROM train_fraud_model('ref_local', 'is_fraud', 'ref_local', '$opts')" >/dev/null
ref=$(sql -c "SELECT (d.document -> 'training' ->> 'training_rows') || ' ' || ((SELECT max(abs(a - b)) FROM unnest(fraud_document_coefficients(l.document), fraud_document_coefficients(d.document)) AS c(a, b)) < 1e-9)
              FROM fraud_models l, fraud_models d WHERE l.name = 'ref_local' AND d.name = 'ref'")
expected=$(sql -c "SELECT document -> 'training' ->> 'training_rows' FROM fraud_models WHERE name = 'ref_local'")
check "a reference table trains on its rows once and equals its local copy (training rows, equal: $ref)" "[ '$ref' = '$expected true' ]"

# Models and rules on every node, scoring pushed down (test/scripts/citus_models.py).
models=$(/usr/bin/python3 test/scripts/citus_models.py "$dir" 5481 2>&1)
echo "$models"
passed=$((passed + $(grep -c '^ok ' <<<"$models"))) failed=$((failed + $(grep -c '^FAIL' <<<"$models")))
check "the models' checks ran to the end" "grep -q 'added node' <<<\"\$models\""

scripts/citus-cluster.sh stop "$dir"; trap - EXIT
for i in 0 1 2 3; do
  [ -f "$dir/node$i.log" ] && check "node $i: no backend was terminated by a signal" "! grep -q 'terminated by signal' $dir/node$i.log"
done
rm -rf "$dir"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
