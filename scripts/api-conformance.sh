#!/usr/bin/env bash
# Drives the real `keyfleet-server` with schemathesis (PyPI) from the document it serves at
# /openapi.yaml: a bounded number of generated requests per operation, valid and invalid, and checks
# that no answer is a 5xx and that every status, content type, header and body matches the contract.
#
# Usage: scripts/api-conformance.sh [path to a built keyfleet-server binary]
# SCHEMATHESIS_EXAMPLES (default 10) bounds the examples per operation; SCHEMATHESIS_SEED fixes them.
# To find where the time goes: SCHEMATHESIS_PHASES=coverage SCHEMATHESIS_EXTRA="--include-operation-id createHost"
# SCHEMATHESIS_REPORT=har SCHEMATHESIS_REPORT_DIR=DIR keeps every request with its duration.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${1:-.build/debug/keyfleet-server}
examples=${SCHEMATHESIS_EXAMPLES:-10}
work=$(mktemp -d)
source scripts/lib/registry-server.sh
cleanup() {
    stop_registry_server
    rm -rf "$work"
}
trap cleanup EXIT

token=$(new_admin_token)
start_registry_server "$binary" "$work/data" KEYFLEET_ADMIN_TOKEN="$token"

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
    --phases ${SCHEMATHESIS_PHASES:-examples,coverage,fuzzing} ${SCHEMATHESIS_EXTRA:-} \
    --max-examples "$examples" --seed "$seed" \
    --request-timeout 10 --workers 2 --no-color --suppress-health-check all --generation-database none \
    --report ${SCHEMATHESIS_REPORT:-junit} --report-dir "${SCHEMATHESIS_REPORT_DIR:-$work/report}" || {
    echo "error: the server does not keep its OpenAPI contract (seed $seed; rerun with SCHEMATHESIS_SEED=$seed)" >&2
    exit 1
}
