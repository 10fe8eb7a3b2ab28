#!/usr/bin/env bash
# The registry at scale: what one change costs when the registry is large. Seeds an embedded SQLite
# registry through the store (BENCH_PROJECTS projects, each with BENCH_KEYS project keys and BENCH_HOSTS
# hosts; defaults 10,000 x 100 x 10 = 1,000,000 keys and 100,000 hosts), starts the release
# `keyfleet-server` on loopback, and measures through the HTTP API:
#
# - the seeding time;
# - the first effective-access read after start (the whole registry is read once);
# - BENCH_CHANGES (default 20) key creations, one at a time: for each, the seconds from the creation's
#   answer until a host of that project reads the key in its access, and the server's CPU time per change
#   (user + system, from /proc);
# - the server's resident memory after the first read and after the changes;
# - GET /v1/hosts/{id}/access (100 keys) against GET /health with wrk, as scripts/bench-registry.sh does.
#
# BENCH_DATABASE=postgresql runs the registry on a PostgreSQL this script starts (scripts/lib/postgres.sh;
# durable commits, as in production); the CPU per change then adds the database's CPU, and the memory line
# the database's. BENCH_KEEP_SEED=DIR keeps the seeded SQLite registry in DIR; BENCH_SEEDED=DIR runs on a copy
# of it instead of seeding again. Release builds only. The figures and how to read them are in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

projects=${BENCH_PROJECTS:-10000}
keys=${BENCH_KEYS:-100}
hosts=${BENCH_HOSTS:-10}
changes=${BENCH_CHANGES:-20}
seconds=${BENCH_SECONDS:-10}
connections=${BENCH_CONNECTIONS:-32}

source scripts/lib/bench-http.sh
build_release_bench

work=$(mktemp -d)
source scripts/lib/registry-server.sh
source scripts/lib/postgres.sh
cleanup() {
    stop_registry_server
    stop_postgres
    rm -rf "$work"
}
trap cleanup EXIT
database=${BENCH_DATABASE:-sqlite}
case "$database" in
sqlite) store=(--data-dir "$work/data"); server_env=() ;;
postgresql)
    start_postgres
    store=(--database-url "$postgres_url")
    server_env=(KEYFLEET_DATABASE_URL="$postgres_url")
    ;;
*) echo "error: BENCH_DATABASE is $database; it must be sqlite or postgresql" >&2; exit 1 ;;
esac

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.3f", b - a}'; }
# The server's CPU seconds so far (utime + stime of /proc/PID/stat), with the database's on PostgreSQL.
database_pids() { if [ "$database" = postgresql ]; then postgres_pids; fi; }
cpu() {
    # shellcheck disable=SC2046
    cat "/proc/$server_pid/stat" $(database_pids | sed 's|.*|/proc/&/stat|') 2>/dev/null |
        awk -v hz="$(getconf CLK_TCK)" '{sum += $14 + $15} END {printf "%.3f", sum / hz}'
}
rss_mib() { awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$server_pid/status"; }
# The database's proportional set size (shared buffers counted once), in MiB.
database_mib() {
    local total=0 pid
    for pid in $(database_pids); do total=$((total + $(awk '/^Pss:/ {s += $2} END {print s + 0}' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0))); done
    echo $((total / 1024))
}

if [ -n "${BENCH_SEEDED:-}" ]; then
    [ "$database" = sqlite ] || { echo "error: BENCH_SEEDED is for SQLite" >&2; exit 1; }
    # A registry seeded by an earlier run with BENCH_KEEP_SEED=DIR: copied, not seeded again.
    cp -r "$BENCH_SEEDED/data" "$work/data"
    token=$(cat "$BENCH_SEEDED/token")
    ids=$(cat "$BENCH_SEEDED/ids")
    seed_seconds="(seeded before)"
else
    token=$(new_admin_token)
    echo "seeding $((projects * keys)) keys and $((projects * hosts)) hosts in $projects projects..."
    start=$(now)
    ids=$("$bin/keyfleet-bench" registry-seed "${store[@]}" --token "$token" --projects "$projects" --keys "$keys" --hosts "$hosts")
    seed_seconds=$(elapsed "$start")
    if [ -n "${BENCH_KEEP_SEED:-}" ] && [ "$database" = sqlite ]; then
        mkdir -p "$BENCH_KEEP_SEED"
        cp -r "$work/data" "$BENCH_KEEP_SEED/data"
        echo "$token" >"$BENCH_KEEP_SEED/token"
        echo "$ids" >"$BENCH_KEEP_SEED/ids"
    fi
fi
host=$(sed -E 's/.*host=([^ ]+).*/\1/' <<<"$ids")
project=$(sed -E 's/.*project=([^ ]+).*/\1/' <<<"$ids")

start_registry_server "$bin/keyfleet-server" "$([ "$database" = sqlite ] && echo "$work/data" || true)" "${server_env[@]}"
auth="Authorization: Bearer $token"

start=$(now)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" "$url/v1/hosts/$host/access")
first_read=$(elapsed "$start")
[ "$code" = 200 ] || { echo "error: the first access read answered $code" >&2; exit 1; }
rss_loaded=$(rss_mib)

ssh-keygen -q -t ed25519 -N '' -f "$work/change" -C change
line=$(cat "$work/change.pub")
propagation=()
cpu_before=$(cpu)
for i in $(seq 1 "$changes"); do
    rm -f "$work/change" "$work/change.pub"
    ssh-keygen -q -t ed25519 -N '' -f "$work/change" -C change
    line=$(cat "$work/change.pub")
    material=$(cut -d' ' -f2 <<<"$line")
    body=$(printf '{"name":"change-%s","public_key":"%s","project":"%s"}' "$(date +%s%N)" "$line" "$project")
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" -H 'Content-Type: application/json' -d "$body" "$url/v1/ssh-keys")
    [ "$code" = 201 ] || { echo "error: creating key $i answered $code" >&2; exit 1; }
    start=$(now)
    # The whole answer first: grep -q closing the pipe early would fail curl, and the pipeline with it.
    until [[ "$(curl -s -H "$auth" "$url/v1/hosts/$host/access")" == *"$material"* ]]; do :; done
    propagation+=("$(elapsed "$start")")
done
cpu_after=$(cpu)
rss_changed=$(rss_mib)
cpu_per_change=$(awk -v a="$cpu_before" -v b="$cpu_after" -v n="$changes" 'BEGIN {printf "%.4f", (b - a) / n}')
sorted=$(printf '%s\n' "${propagation[@]}" | sort -n)
p50=$(awk -v n="$changes" 'NR == int((n + 1) / 2) {print}' <<<"$sorted")
worst=$(tail -1 <<<"$sorted")

read -r health_rps health_p99 <<<"$(measure_route /health)"
read -r access_rps access_p99 <<<"$(measure_route "/v1/hosts/$host/access")"

echo "registry: $((projects * keys)) keys, $((projects * hosts)) hosts, $projects projects, on $database"
echo "seeding:                                  ${seed_seconds} s"
echo "first access read after start:            ${first_read} s"
echo "resident memory after it:                 ${rss_loaded} MiB"
echo "key creation to the host's access (n=$changes): median ${p50} s, worst ${worst} s"
echo "server CPU per change (creation + reads): ${cpu_per_change} s"
echo "resident memory after the changes:        ${rss_changed} MiB"
if [ "$database" = postgresql ]; then echo "PostgreSQL's memory (PSS) at the end:     $(database_mib) MiB"; fi
printf '%-28s %12s %10s %8s\n' route 'requests/s' p99 ratio
printf '%-28s %12s %10s %8s\n' 'GET /health' "$health_rps" "$health_p99" 1.00
printf '%-28s %12s %10s %8.2f\n' 'GET /v1/hosts/{id}/access' "$access_rps" "$access_p99" \
    "$(awk -v a="$access_rps" -v b="$health_rps" 'BEGIN {print a / b}')"
