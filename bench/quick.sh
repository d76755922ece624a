#!/usr/bin/env bash
# One quick ingestion run against a fresh server, for A/B comparisons of two builds (run them
# interleaved: the same binary varies by up to a third between runs on a small VM).
#
#   bench/quick.sh BINARY SCENARIO CONNECTIONS EVENTS [loadgen args...]
#   bench/quick.sh target/release/warroom pd-unique 16 40000
#   bench/quick.sh target/release/warroom pd-unique 16 20000 --rate 2000
#
# It starts BINARY serve on 127.0.0.1:$PORT (default 18777) with a fresh data directory and the
# API rate limits off, creates an integration, sends 2,000 warm-up events, then runs
# warroom-loadgen (LOADGEN, default target/release/warroom-loadgen) and prints its summary line
# and the server's CPU (user + system) per event. PERF=1 records a perf profile of the server
# into $WORK/perf.data. The server's log is $WORK/server.log (RUST_LOG passes through).
# DATABASE_URL=postgres://... runs the server on that database instead of SQLite (it should be
# empty: each run adds its alerts to it).
set -euo pipefail
[ $# -ge 4 ] || { sed -n '2,15p' "$0" >&2; exit 2; }
BIN=$1 SCENARIO=$2 CONNS=$3 EVENTS=$4
shift 4
LOADGEN=${LOADGEN:-target/release/warroom-loadgen}
PORT=${PORT:-18777}
WORK=${WORK:-$(mktemp -d /tmp/warroom-quick.XXXXXX)}
URL=http://127.0.0.1:$PORT
rm -rf "$WORK/data"
mkdir -p "$WORK/data"
DB_ARGS=()
[ -n "${DATABASE_URL:-}" ] && DB_ARGS=(--database-url "$DATABASE_URL")
RUST_LOG=${RUST_LOG:-warn} "$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" \
    --rate-limit-per-second 0 --source-rate-limit-per-second 0 "${DB_ARGS[@]}" >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    [ -f "$WORK/data/admin.token" ] && curl -fs "$URL/healthz" >/dev/null 2>&1 && break
    sleep 0.2
done
KEY=$("$BIN" --server "$URL" --token "$(cat "$WORK/data/admin.token")" --json \
    integration create --service api | python3 -c 'import sys, json; print(json.load(sys.stdin)["routing_key"])')
"$LOADGEN" --url "$URL" --routing-key "$KEY" --scenario pd-unique --requests 2000 --concurrency 16 >/dev/null
ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
T0=$(ticks)
if [ "${PERF:-0}" = 1 ]; then
    perf record -F 999 -g -p "$SERVER" -o "$WORK/perf.data" 2>/dev/null &
    PERF_PID=$!
fi
"$LOADGEN" --url "$URL" --routing-key "$KEY" --scenario "$SCENARIO" --requests "$EVENTS" \
    --concurrency "$CONNS" "$@"
T1=$(ticks)
[ -n "${PERF_PID:-}" ] && { kill -INT "$PERF_PID"; wait "$PERF_PID" || true; }
HZ=$(getconf CLK_TCK)
echo "server CPU per event: $(( (T1 - T0) * 1000000 / HZ / EVENTS )) us (work dir $WORK)"
