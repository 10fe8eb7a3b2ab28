# Sourced by the benchmarks that run the registry on PostgreSQL: Debian's postgresql package run by hand
# (initdb in a directory under $work as the postgres user, password authentication, a free loopback port,
# fsync and synchronous commits as a production server has them), and its removal on exit.
#
#   work=$(mktemp -d); source scripts/lib/postgres.sh
#   start_postgres          # sets postgres_url (a new database `keyfleet` owned by user keyfleet)
#
# The caller's EXIT trap must call stop_postgres before it removes $work.

postgres_data=
postgres_bin=

start_postgres() {
    postgres_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    local base="$work/postgres" password port
    password=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    mkdir -p "$base"
    chmod 700 "$base"
    echo "$password" >"$base/password"
    chown -R postgres:postgres "$base"
    chmod 755 "$work"
    postgres_data="$base/data"
    runuser -u postgres -- "$postgres_bin/initdb" -D "$postgres_data" -U keyfleet --pwfile "$base/password" \
        --auth scram-sha-256 --encoding UTF8 >/dev/null
    runuser -u postgres -- "$postgres_bin/pg_ctl" -D "$postgres_data" -l "$base/log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $base -c max_connections=300 -c shared_buffers=512MB" start >/dev/null
    postgres_url="postgres://keyfleet:$password@127.0.0.1:$port/keyfleet?sslmode=disable"
    PGPASSWORD=$password psql -X -q -h 127.0.0.1 -p "$port" -U keyfleet -d postgres -c "CREATE DATABASE keyfleet" >/dev/null
}

# The PostgreSQL server's process ids (the postmaster and its backends), for CPU and memory figures.
postgres_pids() {
    pgrep -u postgres -f "$postgres_data" || true
    local postmaster
    postmaster=$(head -1 "$postgres_data/postmaster.pid" 2>/dev/null) || return 0
    pgrep -P "$postmaster" || true
}

stop_postgres() {
    if [ -n "$postgres_data" ] && [ -f "$postgres_data/postmaster.pid" ]; then
        runuser -u postgres -- "$postgres_bin/pg_ctl" -D "$postgres_data" -m fast -w stop >/dev/null 2>&1 || true
    fi
}
