#!/usr/bin/env bash
# Property-based run of the HTTP API from its OpenAPI document (schemathesis, from PyPI):
# no 5xx, and every response matches the documented status codes, content types and schemas.
# Usage: scripts/api-contract.sh [max-examples]   (needs `pip install schemathesis` and a debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-30}"
data="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$data"' EXIT
# Lexical only: embedding the 4,290 demo listings would take the CPU for many minutes, and
# the semantic flag's checking is the same with or without an embedder.
./target/debug/techmatch --data-dir "$data" serve --demo --addr 127.0.0.1:0 \
  --max-writes-per-second 100000 --max-reads-per-second 0 --max-sign-ins-per-minute 0 --embedder-url off >"$data/server.log" 2>&1 &
server=$!
for _ in $(seq 120); do [ -s "$data/server.addr" ] && break; sleep 0.5; done
addr="$(cat "$data/server.addr")"
token="$(cat "$data/admin.token")"
schemathesis run "http://$addr/api/v1/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  -H "Authorization: Bearer $token" --max-examples "$examples" --seed 20261123 \
  --exclude-path-regex 'admin/backup'
