#!/usr/bin/env bash
# The served OpenAPI document is checked against the OpenAPI specification
# (openapi-spec-validator), then the HTTP API is run property-based from it (schemathesis):
# no 5xx, and every response matches the documented status codes, content types and schemas.
# Usage: scripts/api-contract.sh [max-examples]
#   (needs `pip install schemathesis openapi-spec-validator` and a debug build)
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
python3 - "http://$addr/api/v1/openapi.json" <<'PY'
import json, sys, urllib.request
from openapi_spec_validator import validate
document = json.load(urllib.request.urlopen(sys.argv[1]))
validate(document)
print(f"OpenAPI {document['openapi']} document valid: {len(document['paths'])} paths")
PY
schemathesis run "http://$addr/api/v1/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  -H "Authorization: Bearer $token" --max-examples "$examples" --seed 20261123 \
  --exclude-path-regex 'admin/backup'
