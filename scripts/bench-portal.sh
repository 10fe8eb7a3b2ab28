#!/usr/bin/env bash
# The portal's keys page with 10,000 keys in the registry (BENCH_PROJECTS projects of BENCH_KEYS keys each,
# default 100 x 100): seeds an embedded SQLite registry, starts the release `keyfleet-server`, signs in as
# the administrator (who sees every key) and measures the first page of GET /keys with wrk on one
# connection, one request at a time, so that each latency is the server's time for one page. The peers in
# the same run: the API's JSON of the same page (GET /v1/ssh-keys?limit=50) and GET /health.
# Goal: the keys page's median at most 50 ms.
#
# BENCH_SECONDS (default 10) per route. Release builds only.
set -euo pipefail
cd "$(dirname "$0")/.."

projects=${BENCH_PROJECTS:-100}
keys=${BENCH_KEYS:-100}
seconds=${BENCH_SECONDS:-10}

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
"$bin/keyfleet-bench" registry-seed --data-dir "$work/data" --token "$token" --projects "$projects" --keys "$keys" --hosts 1 >/dev/null
start_registry_server "$bin/keyfleet-server" "$work/data"

cookie=$(curl -s -o /dev/null -D - --data-urlencode "token=$token" "$url/sign-in" | sed -n 's/^Set-Cookie: \([^;]*\);.*/\1/p')
[ -n "$cookie" ] || { echo "error: signing in to the portal failed" >&2; exit 1; }
rows=$(curl -s -H "Cookie: $cookie" "$url/keys" | grep -c '<tr><td><a href="/keys/' || true)
[ "$rows" = 50 ] || { echo "error: the keys page shows $rows keys, not 50" >&2; exit 1; }

# Median and p99 of GET PATH with HEADER, one connection; fails on any answer other than 2xx.
measure() {
    local out
    out=$(wrk -t1 -c1 -d"${seconds}s" --latency -H "$2" "$url$1")
    if grep -q "Non-2xx" <<<"$out"; then echo "error: $1 had non-2xx answers" >&2; echo "$out" >&2; exit 1; fi
    echo "$(awk '$1 == "50%" {print $2}' <<<"$out") $(awk '$1 == "99%" {print $2}' <<<"$out") $(awk '/Requests\/sec/ {print $2}' <<<"$out")"
}

read -r page_median page_p99 page_rps <<<"$(measure /keys "Cookie: $cookie")"
read -r api_median api_p99 api_rps <<<"$(measure "/v1/ssh-keys?limit=50" "Authorization: Bearer $token")"
read -r health_median health_p99 health_rps <<<"$(measure /health "Accept: */*")"

echo "registry: $((projects * keys)) keys; one connection, ${seconds} s per route"
printf '%-32s %10s %10s %12s\n' route median p99 'requests/s'
printf '%-32s %10s %10s %12s\n' 'GET /keys (portal, 50 keys)' "$page_median" "$page_p99" "$page_rps"
printf '%-32s %10s %10s %12s\n' 'GET /v1/ssh-keys?limit=50 (API)' "$api_median" "$api_p99" "$api_rps"
printf '%-32s %10s %10s %12s\n' 'GET /health' "$health_median" "$health_p99" "$health_rps"
