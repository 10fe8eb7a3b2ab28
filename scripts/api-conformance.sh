#!/usr/bin/env bash
# Drives the real `keyfleet server` with schemathesis (PyPI) from the document it serves at
# /openapi.yaml: a bounded number of generated requests per operation, valid and invalid, and checks
# that no answer is a 5xx and that every status, content type, header and body matches the contract.
#
# Usage: scripts/api-conformance.sh [path to a built keyfleet binary]
# SCHEMATHESIS_EXAMPLES (default 10) bounds the examples per operation; SCHEMATHESIS_SEED fixes them.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${1:-.build/debug/keyfleet}
examples=${SCHEMATHESIS_EXAMPLES:-10}
work=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

token="kft_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
KEYFLEET_ADMIN_TOKEN=$token "$binary" server --data-dir "$work/data" --listen 127.0.0.1:0 --log-level error \
    >"$work/out" 2>"$work/err" &
server_pid=$!
for _ in $(seq 1 100); do
    grep -q "listening on" "$work/out" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/err" >&2; echo "error: keyfleet server did not start" >&2; exit 1; }
    sleep 0.1
done
url=$(grep -o 'http://[0-9.:]*' "$work/out" | head -1)
[ -n "$url" ] || { echo "error: keyfleet server never said where it listens" >&2; exit 1; }

# Some objects to address, so that generated identifiers sometimes hit something real.
auth=(-H "Authorization: Bearer $token" -H "Content-Type: application/json")
curl -fsS "${auth[@]}" -d '{"name":"conformance"}' "$url/v1/projects" >"$work/project.json"
project=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/project.json")
ssh-keygen -q -t ed25519 -N '' -C conformance -f "$work/key"
python3 - "$work/key.pub" "$project" >"$work/key.json" <<'PY'
import json, sys
print(json.dumps({"name": "conformance", "public_key": open(sys.argv[1]).read(), "project": sys.argv[2]}))
PY
curl -fsS "${auth[@]}" -d @"$work/key.json" "$url/v1/ssh-keys" >/dev/null
curl -fsS "${auth[@]}" -d "{\"name\":\"conformance\",\"project\":\"$project\"}" "$url/v1/hosts" >/dev/null

seed=${SCHEMATHESIS_SEED:-$RANDOM}
echo "schemathesis: $examples examples per operation, seed $seed"
schemathesis run "$url/openapi.yaml" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "$examples" --seed "$seed" \
    --request-timeout 10 --workers 2 --no-color --suppress-health-check all --generation-database none \
    --report junit --report-dir "$work/report" || {
    echo "error: the server does not keep its OpenAPI contract (seed $seed; rerun with SCHEMATHESIS_SEED=$seed)" >&2
    exit 1
}
