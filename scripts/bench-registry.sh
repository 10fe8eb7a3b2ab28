#!/usr/bin/env bash
# The registry's HTTP benchmark: seeds an embedded SQLite registry (BENCH_PROJECTS projects, each with
# BENCH_KEYS project keys and BENCH_HOSTS hosts; defaults 1000 x 100 x 10 = 100,000 keys and 10,000
# hosts), starts the release `keyfleet-server` on loopback and drives it with wrk (Debian's package):
# GET /health, an authenticated key read (GET /v1/ssh-keys/{id}) and an effective-access read
# (GET /v1/hosts/{id}/access). It prints requests/s and p99 of each and the ratio of each read to
# /health in the same run. Goal: both ratios at least 0.5.
#
# BENCH_SECONDS (default 10) per route, BENCH_CONNECTIONS (default 32). Release builds only.
set -euo pipefail
cd "$(dirname "$0")/.."

projects=${BENCH_PROJECTS:-1000}
keys=${BENCH_KEYS:-100}
hosts=${BENCH_HOSTS:-10}
seconds=${BENCH_SECONDS:-10}
connections=${BENCH_CONNECTIONS:-32}

source scripts/lib/bench-http.sh
build_release_bench

work=$(mktemp -d)
source scripts/lib/registry-server.sh
cleanup() {
    stop_registry_server
    rm -rf "$work"
}
trap cleanup EXIT

token=$(new_admin_token)
echo "seeding $((projects * keys)) keys and $((projects * hosts)) hosts..."
start=$(date +%s)
ids=$("$bin/keyfleet-bench" registry-seed --data-dir "$work/data" --token "$token" \
    --projects "$projects" --keys "$keys" --hosts "$hosts")
echo "seeded in $(( $(date +%s) - start )) s: $ids"
key=$(sed -E 's/.*key=([^ ]+).*/\1/' <<<"$ids")
host=$(sed -E 's/.*host=([^ ]+).*/\1/' <<<"$ids")

start_registry_server "$bin/keyfleet-server" "$work/data"

auth="Authorization: Bearer $token"
# Every route answers 200 before it is measured (the first access read builds the access cache).
for path in /health "/v1/ssh-keys/$key" "/v1/hosts/$host/access"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" "$url$path")
    [ "$code" = 200 ] || { echo "error: $path answered $code" >&2; exit 1; }
done

read -r health_rps health_p99 <<<"$(measure_route /health)"
read -r key_rps key_p99 <<<"$(measure_route "/v1/ssh-keys/$key")"
read -r access_rps access_p99 <<<"$(measure_route "/v1/hosts/$host/access")"

rss=$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")
printf '%-28s %12s %10s %8s\n' route 'requests/s' p99 ratio
printf '%-28s %12s %10s %8s\n' 'GET /health' "$health_rps" "$health_p99" 1.00
printf '%-28s %12s %10s %8.2f\n' 'GET /v1/ssh-keys/{id}' "$key_rps" "$key_p99" "$(awk -v a="$key_rps" -v b="$health_rps" 'BEGIN {print a / b}')"
printf '%-28s %12s %10s %8.2f\n' 'GET /v1/hosts/{id}/access' "$access_rps" "$access_p99" "$(awk -v a="$access_rps" -v b="$health_rps" 'BEGIN {print a / b}')"
echo "server resident memory after the run: $((rss / 1024)) MiB"
