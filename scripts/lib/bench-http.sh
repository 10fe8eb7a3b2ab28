# Sourced by the benchmarks that drive a release `keyfleet-server` with wrk (bench-registry.sh,
# bench-scale.sh): the release build of the server and keyfleet-bench, and one wrk measurement.
#
#   source scripts/lib/bench-http.sh
#   build_release_bench            # sets bin; installs wrk when missing
#   read -r rps p99 <<<"$(measure_route PATH)"   # uses url, auth, seconds, connections

build_release_bench() {
    command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
    local product
    for product in keyfleet-server keyfleet-bench; do
        swift build -c release --static-swift-stdlib --scratch-path .build-release --product "$product" >/dev/null
    done
    bin=$(swift build -c release --static-swift-stdlib --scratch-path .build-release --show-bin-path)
}

# Requests/s and p99 of GET PATH with wrk (one thread); fails on any answer other than 2xx.
measure_route() {
    local out rps p99
    out=$(wrk -t1 -c"$connections" -d"${seconds}s" --latency -H "$auth" "$url$1")
    if grep -q "Non-2xx" <<<"$out"; then echo "error: $1 had non-2xx answers" >&2; echo "$out" >&2; exit 1; fi
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    echo "$rps $p99"
}
