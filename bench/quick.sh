#!/usr/bin/env bash
# One quick ingestion run against a fresh server, for A/B comparisons of two builds (run them
# interleaved: the same binary varies by up to a third between runs on a small VM).
#
#   bench/quick.sh BINARY SCENARIO CONNECTIONS EVENTS [loadgen args...]
#   bench/quick.sh target/release/warroom pd-unique 16 40000
#   bench/quick.sh target/release/warroom pd-unique 16 20000 --rate 2000
#   BACKEND=postgres bench/quick.sh target/release/warroom pd-unique 16 20000
#
# It starts BINARY serve with a fresh data directory and the API rate limits off (on a
# throwaway PostgreSQL cluster with BACKEND=postgres, made as bench/ingest.sh makes it),
# creates an integration, sends 2,000 warm-up events, then runs warroom-loadgen (LOADGEN,
# default target/release/warroom-loadgen) and prints its summary line and the server's CPU
# (user + system) per event, and PostgreSQL's with BACKEND=postgres. PERF=1 records a perf profile of the server into
# $WORK/perf.data; the server's log is $WORK/quick/server.log (RUST_LOG passes through).
set -euo pipefail
[ $# -ge 4 ] || { sed -n '2,16p' "$0" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WARROOM_BIN=$(readlink -f "$1")
SCENARIO=$2 CONNS=$3 EVENTS=$4
shift 4
LOADGEN=${LOADGEN:-$ROOT/target/release/warroom-loadgen}
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/warroom-quick.XXXXXX")}
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
trap 'stop_server; stop_postgres' EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK/quick" "$WORK/postgres"
rm -rf "$WORK/quick/data"
URL=""
if [ "${BACKEND:-sqlite}" = postgres ]; then
    start_postgres
    URL=$PG_URL
fi
export RUST_LOG=${RUST_LOG:-warn}
start_server "$WORK/quick" "$URL"
KEY=$(create_integration "$WORK/quick")
"$LOADGEN" --url "$BASE" --routing-key "$KEY" --scenario pd-unique --requests 2000 --concurrency 16 >/dev/null
read -r USER0 SYS0 <<<"$(cpu_ticks "$SERVER_PID")"
# shellcheck disable=SC2046 # one pid per word
read -r PGU0 PGS0 <<<"$(cpu_ticks $(postgres_pids))"
if [ "${PERF:-0}" = 1 ]; then
    perf record -F 999 -g -p "$SERVER_PID" -o "$WORK/perf.data" 2>/dev/null &
    PERF_PID=$!
fi
"$LOADGEN" --url "$BASE" --routing-key "$KEY" --scenario "$SCENARIO" --requests "$EVENTS" \
    --concurrency "$CONNS" "$@"
read -r USER1 SYS1 <<<"$(cpu_ticks "$SERVER_PID")"
# shellcheck disable=SC2046
read -r PGU1 PGS1 <<<"$(cpu_ticks $(postgres_pids))"
[ -n "${PERF_PID:-}" ] && { kill -INT "$PERF_PID"; wait "$PERF_PID" || true; }
echo "server CPU per event: $(( (USER1 + SYS1 - USER0 - SYS0) * 10000 / EVENTS )) us (work dir $WORK)"
if [ -n "$URL" ]; then
    echo "postgres CPU per event: $(( (PGU1 + PGS1 - PGU0 - PGS0) * 10000 / EVENTS )) us"
fi
