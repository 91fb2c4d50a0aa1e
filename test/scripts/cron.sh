#!/usr/bin/env bash
# Scheduled retraining with pg_cron (Debian's postgresql-15-cron) in a throwaway cluster: a
# job runs fraud_retrain every minute; its first run promotes a candidate over a weak champion,
# its second refuses the same candidate (not better by the margin). About 2-3 minutes (pg_cron
# schedules by the minute). Runs as root (the server runs as postgres).
set -uo pipefail
cd "$(dirname "$0")/../.."
passed=0 failed=0
check() { if eval "$2"; then echo "ok   $1"; passed=$((passed + 1)); else echo "FAIL $1"; failed=$((failed + 1)); fi; }
if [ "$(id -u)" -ne 0 ]; then echo "FAIL cron.sh runs as root"; echo "0 passed, 1 failed"; exit 1; fi
bin=$(pg_config --bindir)
if [ ! -f "$(pg_config --pkglibdir)/pg_cron.so" ]; then
  echo "FAIL pg_cron is not installed (scripts/install-deps.sh installs postgresql-15-cron)"; echo "0 passed, 1 failed"; exit 1
fi
dir=$(mktemp -d /tmp/pg_fraud_cron.XXXX)
chown postgres "$dir"
su postgres -c "$bin/initdb -D $dir/data -A trust >/dev/null"
printf "port=5487\nunix_socket_directories='%s'\nlisten_addresses=''\nshared_preload_libraries='pg_cron'\ncron.database_name='crontest'\ncron.use_background_workers=on\nmax_worker_processes=16\n" "$dir" >>"$dir/data/postgresql.conf"
su postgres -c "$bin/pg_ctl -D $dir/data -l $dir/server.log -w start >/dev/null"
sql() { psql -h "$dir" -p 5487 -U postgres -d crontest -v ON_ERROR_STOP=1 -qAtX "$@"; }
psql -h "$dir" -p 5487 -U postgres -d postgres -qAtX -c "CREATE DATABASE crontest"
sql -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION pg_fraud"; created=$?
check "pg_cron and pg_fraud are created in a cluster preloading pg_cron" "[ $created -eq 0 ]"
sql >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE TABLE tx AS SELECT * FROM fraud_generate_transactions(20000, 5, 0.03, '2026-01-01', 1, 500);
SELECT version FROM train_fraud_model('tx', 'is_fraud', 'cronm', '{"features": ["channel"]}');
SELECT cron.schedule('pg_fraud_retrain', '* * * * *', $job$SELECT fraud_retrain('cronm', 'tx', '{"as_of": "2026-01-10 03:00+00",
  "time_column": "created_at", "evaluation_window": "3 days", "training": {"exclude": ["id", "account_id", "device_id"]}}')$job$);
SQL
start=$SECONDS
while [ $((SECONDS - start)) -lt 200 ] && [ "$(sql -c "SELECT count(*) FROM fraud_retraining")" -lt 2 ]; do sleep 3; done
sql -c "SELECT cron.unschedule('pg_fraud_retrain')" >/dev/null
echo "two scheduled runs after $((SECONDS - start)) s"
runs=$(sql -c "SELECT count(*) FROM cron.job_run_details WHERE command LIKE '%fraud_retrain%' AND status = 'succeeded'")
check "pg_cron ran the retraining job at least twice, each succeeded ($runs)" "[ '$runs' -ge 2 ]"
first=$(sql -c "SELECT active_version || ' ' || candidate_version || ' ' || promoted || ' ' || (candidate_value > active_value + margin) FROM fraud_retraining ORDER BY id LIMIT 1")
check "the first run promoted version 2 over version 1, better by more than the margin ($first)" "[ '$first' = '1 2 true true' ]"
second=$(sql -c "SELECT active_version || ' ' || candidate_version || ' ' || promoted || ' ' || (reason LIKE '%not better by%') FROM fraud_retraining ORDER BY id OFFSET 1 LIMIT 1")
check "the second run kept version 2 and refused candidate 3, saying why ($second)" "[ '$second' = '2 3 false true' ]"
active=$(sql -c "SELECT string_agg(version || ':' || active, ' ' ORDER BY version) FROM fraud_models WHERE name = 'cronm' AND version <= 3")
check "version 2 is the active one, 1 and 3 kept inactive ($active)" "[ '$active' = '1:false 2:true 3:false' ]"
events=$(sql -c "SELECT string_agg(version || ' ' || event, ', ' ORDER BY id) FROM fraud_model_events WHERE model = 'cronm' AND event = 'activated'")
check "the activation is in fraud_model_events ($events)" "[[ '$events' == *'2 activated'* ]]"
su postgres -c "$bin/pg_ctl -D $dir/data stop -m fast >/dev/null"
check "no backend was terminated by a signal" "! grep -q 'terminated by signal' $dir/server.log"
rm -rf "$dir"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
