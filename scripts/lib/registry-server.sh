# Sourced by the scripts that drive a real `keyfleet-server` (api-conformance.sh, bench-registry.sh,
# bench-agent.sh): a random administrator token, a server on a free loopback port, and its removal on exit.
#
#   work=$(mktemp -d); source scripts/lib/registry-server.sh
#   start_registry_server BINARY DATA_DIR [environment assignments...]   # sets server_pid and url
#
# DATA_DIR is empty for a server on PostgreSQL (KEYFLEET_DATABASE_URL among the assignments).
#
# Each call starts one more server (several share one PostgreSQL database through KEYFLEET_DATABASE_URL);
# server_pids and server_urls list them all.
#
# BINARY is keyfleet-server, or keyfleet with keyfleet-server beside it: both take `server OPTIONS...`.
#
# The caller's EXIT trap must call stop_registry_server and remove $work.

server_pid=
server_pids=()
server_urls=()

# A fresh administrator token: kft_ and 256 random bits in base64url.
new_admin_token() {
    echo "kft_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
}

start_registry_server() {
    local binary=$1 data=$2 out="$work/server-${#server_pids[@]}"
    shift 2
    env "$@" "$binary" server ${data:+--data-dir "$data"} --listen 127.0.0.1:0 --log-level error >"$out.out" 2>"$out.err" &
    server_pid=$!
    server_pids+=("$server_pid")
    for _ in $(seq 1 300); do
        grep -q "listening on" "$out.out" 2>/dev/null && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    url=$(grep -o 'http://[0-9.:]*' "$out.out" | head -1 || true)
    if [ -z "$url" ]; then
        cat "$out.err" >&2
        echo "error: keyfleet server did not start (see above)" >&2
        exit 1
    fi
    server_urls+=("$url")
}

stop_registry_server() {
    local pid
    for pid in "${server_pids[@]}"; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    done
}
