#!/usr/bin/env bash
# Warroom HTTP benchmark: builds release, then for each backend (SQLite file, throwaway
# PostgreSQL cluster) starts `warroom serve` on a free loopback port with a fresh data dir,
# runs every scenario RUNS times with warroom-loadgen, and prints one Markdown table per
# backend (median of the runs). Server logs, raw JSON results and `top` snapshots are kept
# in the work directory printed at the end.
#
#   bash bench/run.sh                      # both backends
#   BACKENDS=sqlite bash bench/run.sh      # one backend
#
# Knobs (environment): BACKENDS="sqlite postgres", RUNS=3, WRITE_N=2000, READ_N=5000,
# LIST_INCIDENTS=300, QUIET_WAIT=300 (seconds to wait for other cargo/rustc jobs to finish
# before measuring), OTHER_MAX=0.3 and RETRIES=2 (a run during which other processes used more
# than OTHER_MAX cores is repeated, at most RETRIES times; its errors still count),
# KEEP_DATA=0 (1 keeps the databases in the work dir), BUILD=1 (0 uses the binaries already in
# target/release).
#
# PostgreSQL runs with its default durability settings (fsync on, synchronous_commit on).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

BACKENDS=${BACKENDS:-"sqlite postgres"}
RUNS=${RUNS:-3}
WRITE_N=${WRITE_N:-2000}
READ_N=${READ_N:-5000}
LIST_INCIDENTS=${LIST_INCIDENTS:-300}
QUIET_WAIT=${QUIET_WAIT:-300}
OTHER_MAX=${OTHER_MAX:-0.3}
RETRIES=${RETRIES:-2}
KEEP_DATA=${KEEP_DATA:-0}
BUILD=${BUILD:-1}

# scenario:concurrency:requests, in order. list and read first, so list sees the few hundred
# seeded incidents rather than the thousands the write scenarios declare.
SCENARIOS=(
    "list:16:$READ_N"
    "read:16:$READ_N"
    "declare:1:$WRITE_N"
    "declare:16:$WRITE_N"
    "note:1:$WRITE_N"
    "note:16:$WRITE_N"
)

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

for tool in curl jq; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is needed (apt-get install $tool)"
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/warroom-bench.XXXXXX")

cleanup() {
    set +e
    stop_server
    stop_postgres
    if [ "$KEEP_DATA" != 1 ]; then
        rm -rf "$WORK"/*/data
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One timed loadgen run, annotated with the CPU each party used.
measure() { # backend dir scenario conc n run out
    local backend=$1 dir=$2 scenario=$3 conc=$4 n=$5 run=$6 out=$7
    local su0 ss0 pu0 ps0 m0 t0 t1 su1 ss1 pu1 ps1 m1
    read -r su0 ss0 <<<"$(cpu_ticks "$SERVER_PID")"
    # shellcheck disable=SC2046
    read -r pu0 ps0 <<<"$(cpu_ticks $(postgres_pids))"
    m0=$(machine_busy_ticks)
    t0=$(date +%s%N)
    "$ROOT/target/release/warroom-loadgen" --url "$BASE" --token "$TOKEN" \
        --scenario "$scenario" --requests "$n" --concurrency "$conc" \
        --list-incidents "$LIST_INCIDENTS" --json >"$out" 2>"$dir/loadgen.stderr" &
    local lg=$!
    # A `top` snapshot half a second into the middle run of each concurrent scenario.
    if [ "$run" = $(((RUNS + 1) / 2)) ] && [ "$conc" != 1 ]; then
        (sleep 0.5 && top -b -n1 -w 200 2>/dev/null | head -25 >"$dir/top-$scenario-c$conc.txt") &
    fi
    if ! wait "$lg"; then
        cat "$dir/loadgen.stderr" >&2
        die "$backend $scenario c=$conc run $run failed"
    fi
    t1=$(date +%s%N)
    read -r su1 ss1 <<<"$(cpu_ticks "$SERVER_PID")"
    # shellcheck disable=SC2046
    read -r pu1 ps1 <<<"$(cpu_ticks $(postgres_pids))"
    m1=$(machine_busy_ticks)
    # CPU cores used over the loadgen's whole life (set-up included), and what everything
    # else on the machine used meanwhile ("other": builds, tests, kernel threads; near 0 when
    # the machine is otherwise idle).
    jq --argjson su "$((su1 - su0))" --argjson ss "$((ss1 - ss0))" \
        --argjson pu "$((pu1 - pu0))" --argjson ps "$((ps1 - ps0))" \
        --argjson mb "$((m1 - m0))" --argjson ns "$((t1 - t0))" '
        ($ns / 1e9) as $wall
        | (.client_cpu_seconds // 0) as $client
        | . + {wall_seconds: $wall,
               server_user_cores: ($su / 100 / $wall), server_sys_cores: ($ss / 100 / $wall),
               server_cores: (($su + $ss) / 100 / $wall),
               postgres_cores: (($pu + $ps) / 100 / $wall),
               client_cores: ($client / $wall),
               other_cores: ((($mb - $su - $ss - $pu - $ps) / 100 - $client) / $wall)}
        ' "$out" >"$out.tmp"
    mv "$out.tmp" "$out"
    log "$backend $(jq -r '"\(.scenario) c=\(.concurrency) n=\(.requests): \(.rps|floor) req/s p50 \(.latency_ms.p50) ms p99 \(.latency_ms.p99) ms max \(.latency_ms.max) ms errors \(.errors) other-cpu \(.other_cores * 100 | round / 100)"' "$out")"
    if grep -q . "$dir/loadgen.stderr"; then
        sed 's/^/    loadgen: /' "$dir/loadgen.stderr" >&2
    fi
}

# ---- one backend ----
run_backend() { # backend
    local backend=$1 dir="$WORK/$1" url=""
    mkdir -p "$dir"
    if [ "$backend" = postgres ]; then
        start_postgres
        url=$PG_URL
    fi
    start_server "$dir" "$url"
    log "$backend: server pid $SERVER_PID on $BASE"
    local spec scenario conc n run
    for spec in "${SCENARIOS[@]}"; do
        IFS=: read -r scenario conc n <<<"$spec"
        wait_until_quiet
        for run in $(seq "$RUNS"); do
            local out="$dir/$scenario-c$conc-run$run.json" attempt
            for attempt in $(seq 0 "$RETRIES"); do
                measure "$backend" "$dir" "$scenario" "$conc" "$n" "$run" "$out"
                if [ "$attempt" -lt "$RETRIES" ] &&
                    jq -e --argjson max "$OTHER_MAX" '.other_cores > $max' "$out" >/dev/null; then
                    log "  other work used $(jq '.other_cores * 100 | round / 100' "$out") cores during that run; repeating it"
                    mv "$out" "${out%.json}.disturbed$attempt.json"
                    wait_until_quiet
                    continue
                fi
                break
            done
        done
    done
    stop_server
    if [ "$backend" = postgres ]; then
        stop_postgres
    fi
    # What the server said beyond its routine lines.
    grep -v -e ' INFO ' "$dir/server.log" >"$dir/server-unusual.log" || true
    local panics errors warns
    panics=$(grep -c -i 'panic' "$dir/server.log" || true)
    errors=$(grep -c ' ERROR ' "$dir/server.log" || true)
    warns=$(grep -c ' WARN ' "$dir/server.log" || true)
    echo "$backend: server log $dir/server.log: $panics panic lines, $errors ERROR, $warns WARN" >>"$WORK/server-log-summary.txt"
}

table() { # backend -> Markdown table (per-column medians of the runs; errors summed)
    local backend=$1 dir="$WORK/$1"
    echo
    echo "### $backend"
    echo
    echo "| Scenario | Concurrency | Requests/run | req/s | p50 ms | p90 ms | p99 ms | max ms | Errors (all runs) | Server CPU user+sys (cores) | PostgreSQL CPU | Loadgen CPU | Other CPU |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    local spec scenario conc n run
    for spec in "${SCENARIOS[@]}"; do
        IFS=: read -r scenario conc n <<<"$spec"
        local files=() extra_errors=0 f
        for run in $(seq "$RUNS"); do files+=("$dir/$scenario-c$conc-run$run.json"); done
        for f in "$dir/$scenario-c$conc-run"*.disturbed*.json; do
            if [ -e "$f" ]; then
                extra_errors=$((extra_errors + $(jq .errors "$f")))
            fi
        done
        jq -s -r --arg b "$backend" --argjson extra "$extra_errors" '
            def med(f): map(f) | sort | .[(length / 2 | floor)];
            def r1: . * 10 | round / 10;
            def r2: . * 100 | round / 100;
            "| \(.[0].scenario) | \(.[0].concurrency) | \(.[0].requests) | \(med(.rps) | round) | \(med(.latency_ms.p50) | r2) | \(med(.latency_ms.p90) | r2) | \(med(.latency_ms.p99) | r2) | \(med(.latency_ms.max) | r1) | \(map(.errors) | add + $extra) | \(med(.server_user_cores) | r2)+\(med(.server_sys_cores) | r2) | \(if $b == "postgres" then (med(.postgres_cores) | r2 | tostring) else "-" end) | \(med(.client_cores) | r2) | \(max_by(.other_cores).other_cores | r2) (max) |"
        ' "${files[@]}"
    done
}

# ---- main ----
if [ "$BUILD" = 1 ]; then
    log "building release binaries"
    cargo build --release -p warroom -p warroom-loadgen
fi
for bin in warroom warroom-loadgen; do
    [ -x "target/release/$bin" ] || die "target/release/$bin is missing (build with BUILD=1)"
done
REV="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null)" ]; then
    REV="$REV + uncommitted changes under crates/"
fi
[ "$BUILD" = 1 ] || REV="$REV (BUILD=0: the binaries in target/release were not rebuilt)"
wait_until_quiet
log "machine: $(nproc) cores, $(free -h | awk '/^Mem:/ {print $2}') memory, $(rustc --version), load $(cut -d' ' -f1-3 /proc/loadavg)"
START=$(date +%s)
for backend in $BACKENDS; do
    case "$backend" in
    sqlite | postgres) run_backend "$backend" ;;
    *) die "unknown backend $backend (sqlite, postgres)" ;;
    esac
done
log "measured in $(($(date +%s) - START)) s"

echo
echo "## Results ($RUNS runs each, median per column; $(nproc) cores, load generator on the same cores)"
echo
echo "Source: $REV; $(rustc --version)."
for backend in $BACKENDS; do
    table "$backend"
done
echo
if [ "$(cat "$WORK/quiet.txt" 2>/dev/null)" = busy ]; then
    echo "WARNING: the machine was busy with other work when the measurement started."
fi
echo "\"Other CPU\" is what the rest of the machine used during the worst kept run; well above"
echo "0.1 core means the row was disturbed by other work. Runs above $OTHER_MAX cores were repeated"
echo "(at most $RETRIES times); their errors are counted in the Errors column."
disturbed=$(find "$WORK" -name '*.disturbed*.json' | wc -l)
echo "Repeated runs: $disturbed."
cat "$WORK/server-log-summary.txt"
echo "Raw results, server logs and top snapshots: $WORK"
