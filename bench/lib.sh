# Shell helpers shared by the benchmark scripts (bench/run.sh, bench/ingest.sh, bench/quick.sh);
# sourced, not run.
#
# They use these globals of the sourcing script: ROOT (repository root), WORK (work directory),
# QUIET_WAIT (seconds wait_until_quiet waits at most), WARROOM_BIN (the server binary; default
# target/release/warroom), and keep their own state in SERVER_PID,
# BASE, TOKEN (the Warroom server) and PG_DIR, PG_BIN, PG_USER_PREFIX, PG_URL (PostgreSQL).
# shellcheck shell=bash

SERVER_PID=${SERVER_PID:-}
PG_DIR=${PG_DIR:-}
PG_BIN=${PG_BIN:-}
PG_USER_PREFIX=()

log() { echo "bench: $*" >&2; }
die() {
    log "error: $*"
    exit 1
}

free_port() {
    local port
    for _ in $(seq 100); do
        port=$((20000 + RANDOM % 40000))
        # Nothing answers there (connect refused) => free enough for a moment.
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    die "no free port found"
}

# ---- CPU accounting from /proc (ticks of 1/100 s) ----
cpu_ticks() { # pids... -> "utime stime" summed; vanished pids count 0
    local user=0 sys=0 pid rest
    for pid in "$@"; do
        if [ -r "/proc/$pid/stat" ]; then
            rest=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
            # fields after ')' start at 3; utime=14 stime=15 => 12th and 13th here
            # shellcheck disable=SC2086
            set -- $rest
            user=$((user + ${12}))
            sys=$((sys + ${13}))
        fi
    done
    echo "$user $sys"
}
machine_busy_ticks() { # all CPUs: user+nice+system+irq+softirq (not idle, iowait, steal)
    awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat
}
postgres_pids() {
    [ -n "$PG_DIR" ] || return 0
    local master
    master=$(head -1 "$PG_DIR/data/postmaster.pid" 2>/dev/null) || return 0
    echo "$master"
    pgrep -P "$master" || true
}

# ---- PostgreSQL ----
find_pg_bin() {
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        PG_BIN=$(dirname "$(readlink -f "$(command -v initdb)")")
        return 0
    fi
    local dir
    # Highest installed version (the glob sorts 15 before 9, so numeric order is asked for).
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            PG_BIN=$dir
        fi
    done
    [ -n "$PG_BIN" ]
}

start_postgres() { # sets PG_URL
    find_pg_bin || die "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql"
    PG_DIR="$WORK/pg"
    mkdir -p "$PG_DIR"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || die "running as root needs a postgres user to run PostgreSQL"
        chown postgres: "$PG_DIR"
        chmod 0755 "$WORK" # postgres must traverse it
        PG_USER_PREFIX=(runuser -u postgres --)
    fi
    local port
    port=$(free_port)
    log "postgres: initdb in $PG_DIR ($PG_BIN), port $port"
    "${PG_USER_PREFIX[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 \
        --no-instructions >"$WORK/pg-initdb.log" 2>&1 || {
        cat "$WORK/pg-initdb.log" >&2
        die "initdb failed"
    }
    "${PG_USER_PREFIX[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=100" \
        start >/dev/null || {
        cat "$PG_DIR/server.log" >&2
        die "PostgreSQL did not start"
    }
    # The throwaway cluster's default `postgres` database is the benchmark's database.
    local psql
    psql=$(command -v "$PG_BIN/psql" || command -v psql || true)
    if [ -n "$psql" ]; then
        "${PG_USER_PREFIX[@]}" "$psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -Atc \
            "select string_agg(name || '=' || setting, ' ' order by name) from pg_settings
             where name in ('fsync','synchronous_commit','wal_sync_method','full_page_writes',
                            'shared_buffers','server_version')" >"$WORK/pg-settings.txt" 2>&1 || true
        log "postgres: $(cat "$WORK/pg-settings.txt")"
    fi
    PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

stop_postgres() {
    [ -n "$PG_DIR" ] || return 0
    if [ -f "$PG_DIR/data/postmaster.pid" ]; then
        "${PG_USER_PREFIX[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    cp "$PG_DIR/server.log" "$WORK/postgres/postgres.log" 2>/dev/null || true
    rm -rf "$PG_DIR"
    PG_DIR=""
}

# ---- the Warroom server ----
start_server() { # backend dir [database url]; sets SERVER_PID BASE TOKEN
    local dir=$1 url=${2:-}
    local port
    port=$(free_port)
    BASE="http://127.0.0.1:$port"
    # One token from one address at thousands of requests a second is the point of a
    # benchmark and the opposite of the API limits' defaults, so those are off here; the
    # ingestion limits keep their defaults, which are meant to let a storm through.
    local args=(serve --listen "127.0.0.1:$port" --data-dir "$dir/data"
        --rate-limit-per-second 0 --source-rate-limit-per-second 0)
    [ -n "$url" ] && args+=(--database-url "$url")
    "${WARROOM_BIN:-$ROOT/target/release/warroom}" "${args[@]}" 2>"$dir/server.log" >"$dir/server.stdout" &
    SERVER_PID=$!
    for _ in $(seq 300); do
        if curl -sf "$BASE/health" >/dev/null 2>&1 && [ -s "$dir/data/admin.token" ]; then
            TOKEN=$(tr -d '[:space:]' <"$dir/data/admin.token")
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || {
            cat "$dir/server.log" >&2
            die "the server exited during start"
        }
        sleep 0.1
    done
    die "the server did not answer /health within 30 s"
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        log "the server did not stop within 10 s after SIGTERM; killing it"
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

create_integration() { # dir -> prints the routing key of a new integration on ${SERVICE:-api}
    local dir=$1 out
    out=$("${WARROOM_BIN:-$ROOT/target/release/warroom}" --server "$BASE" --token "$TOKEN" --json \
        integration create --service "${SERVICE:-api}" --name "ingest benchmark" 2>"$dir/integration.stderr") || {
        cat "$dir/integration.stderr" >&2
        die "warroom integration create failed"
    }
    jq -er '.routing_key' <<<"$out" || die "no routing_key in: $out"
}

busy_cores_over() { # seconds -> CPU cores busy machine-wide over that interval
    local b0 b1
    b0=$(machine_busy_ticks)
    sleep "$1"
    b1=$(machine_busy_ticks)
    echo $(((b1 - b0) / $1))  # ticks per second = hundredths of a core
}

# Waits until no cargo/rustc runs and the machine is idle (< 0.25 cores busy over 3 s).
wait_until_quiet() {
    local waited=0 busy
    while :; do
        busy=$(busy_cores_over 3)
        if ! pgrep -x cargo >/dev/null && ! pgrep -x rustc >/dev/null && [ "$busy" -lt 25 ]; then
            [ -f "$WORK/quiet.txt" ] || echo "quiet" >"$WORK/quiet.txt"
            return 0
        fi
        if [ "$waited" -ge "$QUIET_WAIT" ]; then
            log "WARNING: the machine is still busy (${busy}% of a core, or cargo/rustc running) after ${QUIET_WAIT}s; measuring anyway (numbers are skewed)"
            echo "busy" >"$WORK/quiet.txt"
            return 0
        fi
        [ "$waited" = 0 ] && log "waiting for the machine to be idle (other builds/tests; up to ${QUIET_WAIT}s)"
        waited=$((waited + 3))
    done
}
