#!/usr/bin/env bash
# A throwaway Citus cluster on loopback for tests and benchmarks: a coordinator and 2 workers
# (initdb'd in DIR, run as postgres, ports BASE, BASE+1, BASE+2), each with citus and pg_fraud.
#   scripts/citus-cluster.sh start DIR [BASE]   prints nothing on success
#   scripts/citus-cluster.sh add DIR BASE     a third worker (port BASE+3), added to the cluster
#   scripts/citus-cluster.sh stop DIR
# Citus must be installed (scripts/citus-build.sh). Runs as root.
set -uo pipefail
action=$1 dir=$2 base=${3:-5491}
bin=/usr/lib/postgresql/15/bin
# Initialises and starts node $1 (port base + $1) with citus created.
node() {
  local i=$1 port=$((base + $1))
  su postgres -c "$bin/initdb -D $dir/node$i -A trust >/dev/null" || exit 1
  cat >>"$dir/node$i/postgresql.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
shared_preload_libraries = 'citus'
max_connections = 60
max_worker_processes = 16
shared_buffers = 128MB
citus.log_remote_commands = off
CONF
  su postgres -c "$bin/pg_ctl -D $dir/node$i -l $dir/node$i.log -w start >/dev/null" || exit 1
  psql -h "$dir" -p "$port" -U postgres -d postgres -qAtX -v ON_ERROR_STOP=1 \
    -c "CREATE EXTENSION citus" >/dev/null || exit 1
}
case "$action" in
  start)
    mkdir -p "$dir" && chown postgres "$dir"
    for i in 0 1 2; do node $i; done
    psql -h "$dir" -p "$base" -U postgres -d postgres -qAtX -v ON_ERROR_STOP=1 \
      -c "SELECT citus_set_coordinator_host('127.0.0.1', $base)" \
      -c "SELECT citus_add_node('127.0.0.1', $((base + 1)))" \
      -c "SELECT citus_add_node('127.0.0.1', $((base + 2)))" \
      -c "CREATE EXTENSION pg_fraud" >/dev/null || exit 1
    ;;
  add)
    node 3
    psql -h "$dir" -p "$base" -U postgres -d postgres -qAtX -v ON_ERROR_STOP=1 \
      -c "SELECT citus_add_node('127.0.0.1', $((base + 3)))" >/dev/null || exit 1
    ;;
  stop)
    for i in 0 1 2 3; do
      [ -d "$dir/node$i" ] && su postgres -c "$bin/pg_ctl -D $dir/node$i -m fast -w stop >/dev/null 2>&1"
    done
    true
    ;;
esac
