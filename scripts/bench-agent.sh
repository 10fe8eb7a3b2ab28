#!/usr/bin/env bash
# The host agent's benchmarks, release builds only:
#  1. keyfleet-authorized-keys answering sshd from a cache of BENCH_LOOKUP_KEYS (default 100,000) keys,
#     the matching key last (a full scan): median wall time with hyperfine, beside `grep -F` over the
#     same file in the same run. Goal: median at most 2 ms.
#  2. BENCH_HOSTS (default 1,000) real agents in one process, each with its own state and cache,
#     long-polling one release `keyfleet-server`: the server's CPU and memory while they idle, and the
#     time from the API call that deletes a key until the last host's agent has written a set without it
#     (p50, p99, last). Goal: p99 within 1 s.
#     The hosts are spread over BENCH_PROJECTS projects (default 100); the revoked key is then an operator's
#     who is a member of each, so it still reaches every host. Before the revocation, BENCH_CHURN_RATE
#     (default 10) key creations a second run for BENCH_CHURN_SECONDS (default 60; 0 skips it), each in one
#     project in turn: the time from each creation until each host of its project applied it, and the
#     servers' CPU meanwhile. Goals: p99 within 1 s, at most half a core.
#     BENCH_SERVERS=2 runs two servers on one PostgreSQL database (scripts/lib/postgres.sh), the agents and
#     the creations split over them in turn; the revocation goes through the first.
set -euo pipefail
cd "$(dirname "$0")/.."

hosts=${BENCH_HOSTS:-1000}
projects=${BENCH_PROJECTS:-100}
servers=${BENCH_SERVERS:-1}
lookup_keys=${BENCH_LOOKUP_KEYS:-100000}
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
for product in keyfleet-server keyfleet-bench keyfleet-authorized-keys; do
    swift build -c release --static-swift-stdlib --scratch-path .build-release --product "$product" >/dev/null
done
bin=$(swift build -c release --static-swift-stdlib --scratch-path .build-release --show-bin-path)

work=$(mktemp -d)
source scripts/lib/registry-server.sh
source scripts/lib/postgres.sh
cleanup() {
    stop_registry_server
    stop_postgres
    [ -n "${BENCH_KEEP_WORK:-}" ] || rm -rf "$work" "${agents:-}"
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

if [ "${BENCH_SKIP_LOOKUP:-0}" != 1 ]; then
echo "== keyfleet-authorized-keys with $lookup_keys cached keys"
fingerprint=$("$bin/keyfleet-bench" lookup-cache --dir "$work/cache" --keys "$lookup_keys")
chmod 755 "$work/cache"
test "$("$bin/keyfleet-authorized-keys" --cache-dir "$work/cache" root "$fingerprint" | wc -l)" = 1
hyperfine -N --warmup 20 --runs "${BENCH_RUNS:-200}" --export-json "$work/lookup.json" \
    "$bin/keyfleet-authorized-keys --cache-dir $work/cache root $fingerprint" \
    "grep -F -m1 $fingerprint $work/cache/root" >/dev/null
python3 - "$work/lookup.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
ours, grep = results[0]["median"] * 1000, results[1]["median"] * 1000
print(f"median: keyfleet-authorized-keys {ours:.2f} ms, grep -F {grep:.2f} ms, ratio {ours / grep:.2f}")
PY
fi

# The agents' state and caches: on the same disk by default. BENCH_AGENT_DIR=/dev/shm puts them on tmpfs,
# which is closer to 1,000 real hosts, each replacing one file on its own disk, than 1,000 directories on
# one ext4 file system (where allocating and freeing inodes for the atomic replaces dominates).
agents=$(mktemp -d -p "${BENCH_AGENT_DIR:-$work}")
echo "== $hosts agents in $projects projects against $servers server(s) (agents' files in $(df --output=fstype "$agents" | tail -1))"
token=$(new_admin_token)
if [ "$servers" = 1 ]; then
    store=(--data-dir "$work/data")
    server_env=()
else
    start_postgres
    store=(--database-url "$postgres_url")
    server_env=(KEYFLEET_DATABASE_URL="$postgres_url" KEYFLEET_ADMIN_TOKEN="$token")
fi
ids=$("$bin/keyfleet-bench" fleet-seed "${store[@]}" --token "$token" --tokens-file "$work/tokens" --hosts "$hosts" --projects "$projects")
key=$(sed -E 's/.*key=([^ ]+).*/\1/' <<<"$ids")
key_fingerprint=$(sed -E 's/.*fingerprint=([^ ]+).*/\1/' <<<"$ids")
data_dir=$([ "$servers" = 1 ] && echo "$work/data" || true)
for _ in $(seq 1 "$servers"); do start_registry_server "$bin/keyfleet-server" "$data_dir" "${server_env[@]}"; done
join() { local IFS=,; echo "$*"; }
${FLEET_PREFIX:-} "$bin/keyfleet-bench" fleet-run --server "$(join "${server_urls[@]}")" --token "$token" --tokens-file "$work/tokens" \
    --key "$key" --fingerprint "$key_fingerprint" --work "$agents" --server-pid "$(join "${server_pids[@]}")" \
    --churn-seconds "${BENCH_CHURN_SECONDS:-60}" --churn-rate "${BENCH_CHURN_RATE:-10}"
