#!/usr/bin/env bash
# The scale-out set-up (#10) on one machine, for a try before spreading it over machines: a
# PostgreSQL primary with a streaming replica, three techmatch nodes on the primary, haproxy in
# front. Stops everything on Ctrl-C (the databases keep their data for the next run).
#
#   deploy/run-local.sh          # its own primary and replica (Debian's postgresql package)
#   TECHMATCH_STORE_URL=postgres://techmatch@db:5432/techmatch deploy/run-local.sh
#                                # an existing database instead (no replica started)
#
# Everything lives in deploy-data/: pg/primary and pg/replica (ports ${TECHMATCH_PG_PORT:-5433}
# and the next one, sockets in deploy-data/pg), passwords in deploy-data/pg/*.password, nodes'
# data dirs node1..3 (each its own index) on 127.0.0.1:8081-8083, haproxy on
# ${TECHMATCH_LB_BIND:-127.0.0.1:8080}. The nodes share one admin token
# (deploy-data/admin.token), since a request may reach any node. Failing over to the replica:
# deploy/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

export TECHMATCH_LB_BIND="${TECHMATCH_LB_BIND:-127.0.0.1:8080}"
bin="${TECHMATCH_BIN:-target/release/techmatch}"
[ -x "$bin" ] || { echo "no $bin: cargo build --release (or set TECHMATCH_BIN)" >&2; exit 1; }
haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)
[ -x "$haproxy" ] || { echo "haproxy is not installed (apt-get install haproxy)" >&2; exit 1; }

mkdir -p deploy-data
random_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
token_file=deploy-data/admin.token
if [ ! -s "$token_file" ]; then
  (umask 077; random_hex 32 > "$token_file")
fi

pids=()
pg_started=()
stop() {
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  for dir in "${pg_started[@]}"; do as_pg "$pg_bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null || true; done
  pids=() pg_started=()
}
trap stop EXIT INT TERM

# PostgreSQL refuses to run as root: as root, its programs run as the postgres account.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ -z "${TECHMATCH_STORE_URL:-}" ]; then
  pg_bin="${TECHMATCH_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
  [ -x "$pg_bin/initdb" ] || { echo "PostgreSQL is not installed (apt-get install postgresql), or set TECHMATCH_STORE_URL" >&2; exit 1; }
  pg="$root/deploy-data/pg"
  primary="$pg/primary" replica="$pg/replica"
  port="${TECHMATCH_PG_PORT:-5433}" replica_port=$(( ${TECHMATCH_PG_PORT:-5433} + 1 ))
  mkdir -p "$pg"
  [ "$(id -u)" = 0 ] && chown postgres: "$pg"
  chmod 700 "$pg"
  psql_primary() { as_pg "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$pg" -p "$port" -U postgres "$@"; }

  if [ ! -d "$primary" ]; then
    echo "creating the primary in $primary"
    (umask 077; random_hex 16 > "$pg/techmatch.password"; random_hex 16 > "$pg/replicator.password")
    [ "$(id -u)" = 0 ] && chown postgres: "$pg"/*.password
    as_pg "$pg_bin/initdb" -D "$primary" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    cat >> "$primary/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$pg'
# Streaming replication: WAL for a replica, senders for it and for pg_basebackup.
wal_level = replica
max_wal_senders = 5
wal_keep_size = '256MB'
hot_standby = on
max_connections = 60
EOF
    # The nodes' account for the techmatch database, the replica's account for replication.
    cat > "$primary/pg_hba.conf" <<EOF
local all          all        trust
host  techmatch    techmatch  127.0.0.1/32 scram-sha-256
host  replication  replicator 127.0.0.1/32 scram-sha-256
EOF
    as_pg "$pg_bin/pg_ctl" -D "$primary" -l "$pg/primary.log" -w start >/dev/null
    pg_started+=("$primary")
    psql_primary <<EOF
CREATE ROLE techmatch LOGIN PASSWORD '$(cat "$pg/techmatch.password")';
CREATE DATABASE techmatch OWNER techmatch;
CREATE ROLE replicator REPLICATION LOGIN PASSWORD '$(cat "$pg/replicator.password")';
EOF
  else
    as_pg "$pg_bin/pg_ctl" -D "$primary" -l "$pg/primary.log" -w start >/dev/null
    pg_started+=("$primary")
  fi

  if [ ! -d "$replica" ]; then
    echo "creating the streaming replica in $replica (pg_basebackup -R)"
    # -R writes standby.signal and primary_conninfo (with the password) for the replica.
    as_pg env PGPASSWORD="$(cat "$pg/replicator.password")" "$pg_bin/pg_basebackup" \
      -h 127.0.0.1 -p "$port" -U replicator -D "$replica" -R -X stream -c fast
    echo "port = $replica_port" >> "$replica/postgresql.conf"
  fi
  as_pg "$pg_bin/pg_ctl" -D "$replica" -l "$pg/replica.log" -w start >/dev/null
  pg_started+=("$replica")
  psql_primary -c "SELECT client_addr, state, sync_state FROM pg_stat_replication" -t

  TECHMATCH_STORE_URL="postgres://techmatch:$(cat "$pg/techmatch.password")@127.0.0.1:$port/techmatch"
  echo "PostgreSQL primary on 127.0.0.1:$port, streaming replica on 127.0.0.1:$replica_port"
fi
export TECHMATCH_STORE_URL

for n in 1 2 3; do
  dir="deploy-data/node$n"
  mkdir -p "$dir"
  install -m 600 "$token_file" "$dir/admin.token"
  "$bin" --data-dir "$dir" serve --addr "127.0.0.1:808$n" --trusted-proxy 127.0.0.1 &
  pids+=($!)
  export "TECHMATCH_NODE$n=127.0.0.1:808$n"
done
"$haproxy" -db -f deploy/haproxy.cfg &
pids+=($!)
echo "techmatch on http://$TECHMATCH_LB_BIND (admin token in $token_file); Ctrl-C stops all"
wait -n
