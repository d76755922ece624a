#!/usr/bin/env bash
# Alert ingestion benchmark (issue 5): Warroom's PagerDuty Events API v2 endpoint against
# Debian's Prometheus Alertmanager on the same machine.
#
# For each backend (SQLite file, throwaway PostgreSQL cluster) it starts `warroom serve` on a free
# loopback port with a fresh data dir and the built-in config, creates an integration with
# `warroom integration create --service api --json`, and sends PagerDuty v2 triggers to
# `POST /v2/enqueue` with warroom-loadgen:
#   - pd-unique (a new dedup key per event) and pd-repeat (REPEAT_KEYS keys over and over) at
#     1, 16 and 64 connections, one event per request, as fast as answers come back;
#   - pd-unique at a fixed RATE events/s for RATE_SECONDS (latency counted from when each event
#     was due);
#   - memory: on a fresh server (and fresh database), VmRSS from /proc/PID/status before and
#     after MEMORY_ALERTS distinct open alerts (pd-unique), in KiB per open alert.
# Then it starts Debian's prometheus-alertmanager (installed with apt-get when missing and run
# as root) on a free port, clustering off, storage in the work dir, and runs am-alerts (one new
# alert per `POST /api/v2/alerts`) and am-batch (AM_BATCH alerts per request) at AM_CONC
# connections, plus the same memory measurement. It prints one Markdown table (medians of RUNS
# runs), the memory table, the issue's targets and the Warroom/Alertmanager ratios.
#
#   bash bench/ingest.sh                      # both backends and Alertmanager
#   BACKENDS=sqlite bash bench/ingest.sh      # SQLite only
#   BACKENDS=sqlite AM=0 RUNS=1 bash bench/ingest.sh   # a quick look, no Alertmanager
#   BACKENDS= bash bench/ingest.sh            # Alertmanager only
#
# Knobs (environment): BACKENDS="sqlite postgres", RUNS=3, EVENTS=50000 (events per run at 16
# and 64 connections), EVENTS_C1=5000 (at 1 connection), REPEAT_KEYS=100, RATE=2000,
# RATE_SECONDS=10, RATE_CONC=16, MEMORY_ALERTS=100000, AM=1 (0 skips Alertmanager), AM_CONC=16,
# AM_ALERTS=50000 (am-alerts requests per run), AM_BATCH=100, AM_BATCH_REQUESTS=500,
# AM_BIN=/usr/bin/prometheus-alertmanager, SERVICE=api, QUIET_WAIT=300, OTHER_MAX=0.3,
# RETRIES=2, KEEP_DATA=0, BUILD=1 (same meaning as in bench/run.sh).
#
# Every 2xx from Warroom means the event is committed and on disk (SQLite: the write-ahead log
# fsynced after the batch's commit, see docs/ARCHITECTURE.md; or
# PostgreSQL with its default durability). Alertmanager keeps alerts only in memory. A 429 is
# counted apart from errors; the load generator sends a throttled PagerDuty event again after
# Retry-After, so none is lost, and reports how many were retried.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

BACKENDS=${BACKENDS-"sqlite postgres"}
RUNS=${RUNS:-3}
EVENTS=${EVENTS:-50000}
EVENTS_C1=${EVENTS_C1:-5000}
REPEAT_KEYS=${REPEAT_KEYS:-100}
RATE=${RATE:-2000}
RATE_SECONDS=${RATE_SECONDS:-10}
RATE_CONC=${RATE_CONC:-16}
MEMORY_ALERTS=${MEMORY_ALERTS:-100000}
AM=${AM:-1}
AM_CONC=${AM_CONC:-16}
AM_ALERTS=${AM_ALERTS:-50000}
AM_BATCH=${AM_BATCH:-100}
AM_BATCH_REQUESTS=${AM_BATCH_REQUESTS:-500}
AM_BIN=${AM_BIN:-/usr/bin/prometheus-alertmanager}
SERVICE=${SERVICE:-api}
QUIET_WAIT=${QUIET_WAIT:-300}
OTHER_MAX=${OTHER_MAX:-0.3}
RETRIES=${RETRIES:-2}
KEEP_DATA=${KEEP_DATA:-0}
BUILD=${BUILD:-1}

# scenario:concurrency:requests:rate (empty rate: closed loop), in order.
WARROOM_SCENARIOS=(
    "pd-unique:1:$EVENTS_C1:"
    "pd-unique:16:$EVENTS:"
    "pd-unique:64:$EVENTS:"
    "pd-repeat:1:$EVENTS_C1:"
    "pd-repeat:16:$EVENTS:"
    "pd-repeat:64:$EVENTS:"
    "pd-unique:$RATE_CONC:$((RATE * RATE_SECONDS)):$RATE"
)
AM_SCENARIOS=(
    "am-alerts:$AM_CONC:$AM_ALERTS:"
    "am-batch:$AM_CONC:$AM_BATCH_REQUESTS:"
)

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

for tool in curl jq; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is needed (apt-get install $tool)"
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/warroom-ingest.XXXXXX")
AM_PID=""
AM_URL=""
# The process whose CPU a run is charged to (the Warroom server or Alertmanager).
TARGET_PID=""

cleanup() {
    set +e
    stop_server
    stop_alertmanager
    stop_postgres
    rm -rf "$WORK/bin"
    if [ "$KEEP_DATA" != 1 ]; then
        find "$WORK" -mindepth 2 -maxdepth 3 -type d -name data -prune -exec rm -rf {} + 2>/dev/null
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rss_kib() { # pid -> VmRSS in KiB
    awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}
hwm_kib() { # pid -> VmHWM (peak RSS) in KiB
    awk '/^VmHWM:/ {print $2}' "/proc/$1/status"
}

# ---- Alertmanager ----
ensure_alertmanager() {
    [ -x "$AM_BIN" ] && return 0
    if [ "$AM_BIN" = /usr/bin/prometheus-alertmanager ] && [ "$(id -u)" = 0 ] &&
        command -v apt-get >/dev/null 2>&1; then
        log "installing Debian's prometheus-alertmanager"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus-alertmanager >/dev/null
    fi
    [ -x "$AM_BIN" ] || die "$AM_BIN not found: apt-get install prometheus-alertmanager (or AM=0)"
}

start_alertmanager() { # dir; sets AM_PID AM_URL TARGET_PID
    local dir=$1 port
    mkdir -p "$dir"
    port=$(free_port)
    AM_URL="http://127.0.0.1:$port"
    # Every alert goes to one receiver without integrations, grouped by alert name: the
    # loadgen's alerts share one name, so this is Alertmanager's cheapest case (one group).
    cat >"$dir/alertmanager.yml" <<'EOF'
route:
  receiver: blackhole
  group_by: [alertname]
receivers:
  - name: blackhole
EOF
    "$AM_BIN" --config.file="$dir/alertmanager.yml" --storage.path="$dir/data" \
        --web.listen-address="127.0.0.1:$port" --cluster.listen-address= --log.level=warn \
        >"$dir/alertmanager.log" 2>&1 &
    AM_PID=$!
    TARGET_PID=$AM_PID
    for _ in $(seq 300); do
        if curl -sf "$AM_URL/-/ready" >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$AM_PID" 2>/dev/null || {
            cat "$dir/alertmanager.log" >&2
            die "Alertmanager exited during start"
        }
        sleep 0.1
    done
    die "Alertmanager was not ready within 30 s"
}

stop_alertmanager() {
    [ -n "$AM_PID" ] || return 0
    kill -TERM "$AM_PID" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$AM_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$AM_PID" 2>/dev/null || true
    wait "$AM_PID" 2>/dev/null || true
    AM_PID=""
}

# ---- Warroom set-up ----
pg_create_database() { # name -> prints its URL (on the running throwaway cluster)
    local name=$1 port psql
    port=${PG_URL##*:}
    port=${port%%/*}
    psql=$(command -v "$PG_BIN/psql" || command -v psql || true)
    [ -n "$psql" ] || die "psql not found"
    "${PG_USER_PREFIX[@]}" "$psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAtc \
        "create database $name" >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/$name"
}

# ---- one timed run ----
loadgen() {
    "$LOADGEN_BIN" "$@"
}

measure() { # label dir run out loadgen-args...
    local label=$1 dir=$2 run=$3 out=$4
    shift 4
    local su0 ss0 pu0 ps0 m0 t0 t1 su1 ss1 pu1 ps1 m1
    read -r su0 ss0 <<<"$(cpu_ticks "$TARGET_PID")"
    # shellcheck disable=SC2046
    read -r pu0 ps0 <<<"$(cpu_ticks $(postgres_pids))"
    m0=$(machine_busy_ticks)
    t0=$(date +%s%N)
    loadgen "$@" --json >"$out" 2>"$dir/loadgen.stderr" &
    local lg=$!
    if [ "$run" = $(((RUNS + 1) / 2)) ]; then
        (sleep 0.5 && top -b -n1 -w 200 2>/dev/null | head -25 >"${out%-run*}-top.txt") &
    fi
    if ! wait "$lg"; then
        cat "$dir/loadgen.stderr" >&2
        die "$label run $run failed"
    fi
    t1=$(date +%s%N)
    read -r su1 ss1 <<<"$(cpu_ticks "$TARGET_PID")"
    # shellcheck disable=SC2046
    read -r pu1 ps1 <<<"$(cpu_ticks $(postgres_pids))"
    m1=$(machine_busy_ticks)
    jq --argjson su "$((su1 - su0))" --argjson ss "$((ss1 - ss0))" \
        --argjson pu "$((pu1 - pu0))" --argjson ps "$((ps1 - ps0))" \
        --argjson mb "$((m1 - m0))" --argjson ns "$((t1 - t0))" '
        ($ns / 1e9) as $wall
        | (.client_cpu_seconds // 0) as $client
        | . + {wall_seconds: $wall,
               target_cores: (($su + $ss) / 100 / $wall),
               postgres_cores: (($pu + $ps) / 100 / $wall),
               client_cores: ($client / $wall),
               other_cores: ((($mb - $su - $ss - $pu - $ps) / 100 - $client) / $wall)}
        ' "$out" >"$out.tmp"
    mv "$out.tmp" "$out"
    log "$label $(jq -r '"\(.scenario) c=\(.concurrency)\(if .rate then " rate=\(.rate)/s" else "" end) n=\(.events): \(.eps|floor) events/s p50 \(.latency_ms.p50) ms p99 \(.latency_ms.p99) ms p99.9 \(.latency_ms.p999) ms errors \(.errors) 429s \(.throttled) (retried \(.retried)) other-cpu \(.other_cores * 100 | round / 100)"' "$out")"
    if grep -q . "$dir/loadgen.stderr"; then
        sed 's/^/    loadgen: /' "$dir/loadgen.stderr" >&2
    fi
}

result_name() { # scenario conc rate -> file stem
    echo "$1-c$2${3:+-r$3}"
}

run_scenarios() { # label dir loadgen-base-args-as-one-string scenarios...
    local label=$1 dir=$2 base=$3
    shift 3
    local spec scenario conc n rate run attempt out
    for spec in "$@"; do
        IFS=: read -r scenario conc n rate <<<"$spec"
        wait_until_quiet
        for run in $(seq "$RUNS"); do
            out="$dir/$(result_name "$scenario" "$conc" "$rate")-run$run.json"
            local args
            # shellcheck disable=SC2206
            args=($base --scenario "$scenario" --requests "$n" --concurrency "$conc")
            [ -n "$rate" ] && args+=(--rate "$rate")
            for attempt in $(seq 0 "$RETRIES"); do
                measure "$label" "$dir" "$run" "$out" "${args[@]}"
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
}

# Fresh target, a warm-up (connections, buffers, caches), then VmRSS before and after `count`
# more distinct open alerts. Writes $out: {system, backend, alerts, before_kib, after_kib,
# hwm_kib, kib_per_alert, errors, throttled}.
measure_memory() { # system backend pid out loadgen-args-for-the-fill...
    local system=$1 backend=$2 pid=$3 out=$4
    shift 4
    local dir before after hwm
    dir=$(dirname "$out")
    wait_until_quiet
    sleep 1
    before=$(rss_kib "$pid")
    loadgen "$@" --json >"$out.loadgen" 2>"$dir/memory-loadgen.stderr" || {
        cat "$dir/memory-loadgen.stderr" >&2
        die "$system $backend memory fill failed"
    }
    sleep 1
    after=$(rss_kib "$pid")
    hwm=$(hwm_kib "$pid")
    jq -n --arg system "$system" --arg backend "$backend" --argjson before "$before" \
        --argjson after "$after" --argjson hwm "$hwm" --slurpfile lg "$out.loadgen" '
        ($lg[0]) as $l
        | {system: $system, backend: $backend, alerts: $l.events, before_kib: $before,
           after_kib: $after, hwm_kib: $hwm,
           kib_per_alert: (($after - $before) / $l.events),
           errors: $l.errors, throttled: $l.throttled, eps: $l.eps}' >"$out"
    log "$system $backend memory: $(jq -r '"\(.alerts) open alerts: RSS \(.before_kib / 1024 | floor) MiB -> \(.after_kib / 1024 | floor) MiB, \(.kib_per_alert * 100 | round / 100) KiB per alert (errors \(.errors), 429s \(.throttled))"' "$out")"
}

# ---- Warroom, one backend ----
run_backend() { # backend
    local backend=$1 dir="$WORK/$1" url="" key
    mkdir -p "$dir"
    if [ "$backend" = postgres ]; then
        start_postgres
        url=$PG_URL
    fi
    start_server "$dir" "$url"
    TARGET_PID=$SERVER_PID
    key=$(create_integration "$dir")
    log "$backend: server pid $SERVER_PID on $BASE, integration on $SERVICE"
    run_scenarios "warroom/$backend" "$dir" \
        "--url $BASE --routing-key $key --dedup-keys $REPEAT_KEYS" "${WARROOM_SCENARIOS[@]}"
    summarize_log "$backend" "$dir/server.log"
    stop_server

    # Memory: a fresh server on a fresh store, so only this fill's alerts are open.
    local mdir="$WORK/$backend-memory" murl=""
    mkdir -p "$mdir"
    if [ "$backend" = postgres ]; then
        murl=$(pg_create_database warroom_memory)
    fi
    start_server "$mdir" "$murl"
    TARGET_PID=$SERVER_PID
    key=$(create_integration "$mdir")
    loadgen --url "$BASE" --routing-key "$key" --scenario pd-unique --requests 2000 \
        --concurrency 16 >/dev/null
    measure_memory Warroom "$backend" "$SERVER_PID" "$mdir/memory.json" --url "$BASE" \
        --routing-key "$key" --scenario pd-unique --requests "$MEMORY_ALERTS" --concurrency 16
    summarize_log "$backend-memory" "$mdir/server.log"
    stop_server
    if [ "$backend" = postgres ]; then
        stop_postgres
    fi
}

summarize_log() { # label log
    local panics errors warns
    panics=$(grep -c -i 'panic' "$2" || true)
    errors=$(grep -c ' ERROR ' "$2" || true)
    warns=$(grep -c ' WARN ' "$2" || true)
    echo "$1: server log $2: $panics panic lines, $errors ERROR, $warns WARN" >>"$WORK/server-log-summary.txt"
}

# ---- Alertmanager ----
run_alertmanager() {
    local dir="$WORK/alertmanager" spec scenario conc n rate
    mkdir -p "$dir"
    # A fresh Alertmanager per scenario, so one scenario's alerts do not weigh on the next.
    for spec in "${AM_SCENARIOS[@]}"; do
        IFS=: read -r scenario conc n rate <<<"$spec"
        start_alertmanager "$dir/$scenario"
        log "alertmanager ($($AM_BIN --version 2>&1 | head -1)): pid $AM_PID on $AM_URL"
        run_scenarios alertmanager "$dir" "--url $AM_URL --batch $AM_BATCH" "$spec"
        stop_alertmanager
    done
    start_alertmanager "$dir/memory"
    loadgen --url "$AM_URL" --scenario am-batch --batch 100 --requests 20 --concurrency 16 >/dev/null
    measure_memory Alertmanager "memory only" "$AM_PID" "$dir/memory.json" --url "$AM_URL" \
        --scenario am-batch --batch 100 --requests "$((MEMORY_ALERTS / 100))" --concurrency 16
    stop_alertmanager
}

# ---- report ----
row() { # system backend dir scenario conc rate -> one Markdown row (medians; errors summed)
    local system=$1 backend=$2 dir=$3 scenario=$4 conc=$5 rate=$6
    local stem files=() extra_errors=0 f run
    stem=$(result_name "$scenario" "$conc" "$rate")
    for run in $(seq "$RUNS"); do files+=("$dir/$stem-run$run.json"); done
    for f in "$dir/$stem-run"*.disturbed*.json; do
        if [ -e "$f" ]; then
            extra_errors=$((extra_errors + $(jq .errors "$f")))
        fi
    done
    jq -s -r --arg sys "$system" --arg b "$backend" --argjson extra "$extra_errors" '
        def med(f): map(f) | sort | .[(length / 2 | floor)];
        def r1: . * 10 | round / 10;
        def r2: . * 100 | round / 100;
        "| \($sys) | \($b) | \(.[0].scenario)\(if .[0].events_per_request > 1 then " (\(.[0].events_per_request)/request)" else "" end) | \(.[0].concurrency) | \(if .[0].rate then "\(.[0].rate | floor)/s" else "max" end) | \(.[0].events) | \(med(.eps) | round) | \(med(.latency_ms.p50) | r2) | \(med(.latency_ms.p99) | r2) | \(med(.latency_ms.p999) | r2) | \(med(.latency_ms.max) | r1) | \(map(.throttled) | add) (\(map(.retried) | add)) | \(map(.errors) | add + $extra) | \(med(.target_cores) | r2) | \(if $b == "postgres" then (med(.postgres_cores) | r2 | tostring) else "-" end) | \(med(.client_cores) | r2) | \(max_by(.other_cores).other_cores | r2) |"
    ' "${files[@]}"
}

median_of() { # jq-path file... -> median
    local path=$1
    shift
    jq -s "map($path) | sort | .[(length / 2 | floor)]" "$@"
}

report() {
    echo
    echo "## Alert ingestion ($RUNS runs each, median per column; $(nproc) cores, load generator on the same cores)"
    echo
    echo "Source: $REV; $(rustc --version)."
    [ "$AM" = 1 ] && echo "Alertmanager: $($AM_BIN --version 2>&1 | head -1)."
    echo
    echo "| System | Backend | Scenario | Conns | Rate | Events/run | events/s | p50 ms | p99 ms | p99.9 ms | max ms | 429s (retried) | Errors | Server CPU | PostgreSQL CPU | Loadgen CPU | Other CPU (worst run) |"
    echo "|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    local backend spec scenario conc n rate
    for backend in $BACKENDS; do
        for spec in "${WARROOM_SCENARIOS[@]}"; do
            IFS=: read -r scenario conc n rate <<<"$spec"
            row Warroom "$backend" "$WORK/$backend" "$scenario" "$conc" "$rate"
        done
    done
    if [ "$AM" = 1 ]; then
        for spec in "${AM_SCENARIOS[@]}"; do
            IFS=: read -r scenario conc n rate <<<"$spec"
            row Alertmanager "memory only" "$WORK/alertmanager" "$scenario" "$conc" "$rate"
        done
    fi
    echo
    echo "Memory: RSS (VmRSS) of the server process on a fresh store after a 2,000-event warm-up, then after $MEMORY_ALERTS more distinct open alerts (pd-unique, 16 connections; Alertmanager: am-batch)."
    echo
    echo "| System | Backend | Open alerts added | RSS before MiB | RSS after MiB | Peak RSS MiB | KiB per open alert | Fill events/s | Errors | 429s |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    local f
    for f in "$WORK"/*-memory/memory.json "$WORK/alertmanager/memory.json"; do
        [ -e "$f" ] || continue
        jq -r 'def r1: . * 10 | round / 10; def r2: . * 100 | round / 100;
            "| \(.system) | \(.backend) | \(.alerts) | \(.before_kib / 1024 | r1) | \(.after_kib / 1024 | r1) | \(.hwm_kib / 1024 | r1) | \(.kib_per_alert | r2) | \(.eps | round) | \(.errors) | \(.throttled) |"' "$f"
    done
    echo
    echo "Targets (issue 5):"
    for backend in $BACKENDS; do
        local d="$WORK/$backend" c16 p99 rp99 kib
        c16=$(median_of .eps "$d"/pd-unique-c16-run[0-9].json)
        p99=$(median_of .latency_ms.p99 "$d"/pd-unique-c16-run[0-9].json)
        rp99=$(median_of .latency_ms.p99 "$d"/pd-unique-c"$RATE_CONC"-r"$RATE"-run[0-9].json)
        kib=$(jq .kib_per_alert "$WORK/$backend-memory/memory.json")
        if [ "$backend" = postgres ]; then
            echo "- $backend: pd-unique at 16 connections $(printf %.0f "$c16") events/s (target >= 10,000): $(awk -v v="$c16" 'BEGIN {print (v >= 10000) ? "met" : "MISSED"}')"
        else
            echo "- $backend: pd-unique at 16 connections $(printf %.0f "$c16") events/s (target >= 25,000): $(awk -v v="$c16" 'BEGIN {print (v >= 25000) ? "met" : "MISSED"}'); p99 $p99 ms (target < 10 ms): $(awk -v v="$p99" 'BEGIN {print (v < 10) ? "met" : "MISSED"}'); p99 at $RATE/s $rp99 ms (target < 5 ms): $(awk -v v="$rp99" 'BEGIN {print (v < 5) ? "met" : "MISSED"}'); $(printf %.2f "$kib") KiB per open alert (target <= 2): $(awk -v v="$kib" 'BEGIN {print (v <= 2) ? "met" : "MISSED"}')"
        fi
    done
    if [ "$AM" = 1 ]; then
        local am1 ambatch amp99
        am1=$(median_of .eps "$WORK"/alertmanager/am-alerts-c"$AM_CONC"-run[0-9].json)
        amp99=$(median_of .latency_ms.p99 "$WORK"/alertmanager/am-alerts-c"$AM_CONC"-run[0-9].json)
        ambatch=$(median_of .eps "$WORK"/alertmanager/am-batch-c"$AM_CONC"-run[0-9].json)
        echo
        echo "Ratio Warroom / Alertmanager (events/s, Warroom pd-unique at 16 connections, one durable event per request):"
        for backend in $BACKENDS; do
            local c16 p99
            c16=$(median_of .eps "$WORK/$backend"/pd-unique-c16-run[0-9].json)
            p99=$(median_of .latency_ms.p99 "$WORK/$backend"/pd-unique-c16-run[0-9].json)
            echo "- $backend: $(printf %.0f "$c16") / $(printf %.0f "$am1") (am-alerts, c=$AM_CONC) = $(awk -v a="$c16" -v b="$am1" 'BEGIN {printf "%.2f", a / b}')x; vs am-batch ($AM_BATCH alerts per request) $(printf %.0f "$ambatch") alerts/s = $(awk -v a="$c16" -v b="$ambatch" 'BEGIN {printf "%.2f", a / b}')x; p99 $p99 ms vs $amp99 ms"
        done
    fi
    echo
    if [ "$(cat "$WORK/quiet.txt" 2>/dev/null)" = busy ]; then
        echo "WARNING: the machine was busy with other work when the measurement started."
    fi
    echo "\"Other CPU\" is what the rest of the machine used during the worst kept run; runs above"
    echo "$OTHER_MAX cores were repeated (at most $RETRIES times); their errors count in Errors."
    echo "Repeated runs: $(find "$WORK" -name '*.disturbed*.json' | wc -l)."
    cat "$WORK/server-log-summary.txt" 2>/dev/null || true
    echo "Raw results, logs and top snapshots: $WORK"
}

# ---- main ----
[ "$AM" = 1 ] && ensure_alertmanager
if [ "$BUILD" = 1 ]; then
    log "building release binaries"
    cargo build --release -p warroom -p warroom-loadgen
fi
for bin in warroom warroom-loadgen; do
    [ -x "target/release/$bin" ] || die "target/release/$bin is missing (build with BUILD=1)"
done
# Measure copies: a `cargo build` running meanwhile (others work on this tree) must not swap
# the binary between one server start and the next.
mkdir -p "$WORK/bin"
cp target/release/warroom target/release/warroom-loadgen "$WORK/bin/"
WARROOM_BIN="$WORK/bin/warroom"
LOADGEN_BIN="$WORK/bin/warroom-loadgen"
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
if [ "$AM" = 1 ]; then
    run_alertmanager
fi
log "measured in $(($(date +%s) - START)) s"
report
