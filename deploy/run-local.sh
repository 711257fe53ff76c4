#!/usr/bin/env bash
# Three techmatch nodes on one PostgreSQL store behind haproxy, on this machine: for trying the
# scale-out set-up (#10) before spreading the nodes over machines. Stops everything on Ctrl-C.
#
#   TECHMATCH_STORE_URL=postgres://techmatch@127.0.0.1:5432/techmatch deploy/run-local.sh
#
# Nodes listen on 127.0.0.1:8081-8083 with data dirs deploy-data/node1..3 (each its own index);
# haproxy on ${TECHMATCH_LB_BIND:-127.0.0.1:8080}. They share one admin token
# (deploy-data/admin.token), since a request may reach any node.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${TECHMATCH_STORE_URL:?set TECHMATCH_STORE_URL=postgres://user@host:port/db}"
export TECHMATCH_STORE_URL
export TECHMATCH_LB_BIND="${TECHMATCH_LB_BIND:-127.0.0.1:8080}"
bin="${TECHMATCH_BIN:-target/release/techmatch}"
[ -x "$bin" ] || { echo "no $bin: cargo build --release (or set TECHMATCH_BIN)" >&2; exit 1; }
command -v haproxy >/dev/null || { echo "haproxy is not installed (apt-get install haproxy)" >&2; exit 1; }

mkdir -p deploy-data
token_file=deploy-data/admin.token
if [ ! -s "$token_file" ]; then
  (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$token_file")
fi

pids=()
stop() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop EXIT INT TERM

for n in 1 2 3; do
  dir="deploy-data/node$n"
  mkdir -p "$dir"
  install -m 600 "$token_file" "$dir/admin.token"
  "$bin" --data-dir "$dir" serve --addr "127.0.0.1:808$n" --trusted-proxy 127.0.0.1 &
  pids+=($!)
  export "TECHMATCH_NODE$n=127.0.0.1:808$n"
done
haproxy -db -f deploy/haproxy.cfg &
pids+=($!)
echo "techmatch on http://$TECHMATCH_LB_BIND (admin token in $token_file); Ctrl-C stops all"
wait -n
