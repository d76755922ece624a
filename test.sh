#!/usr/bin/env bash
# Runs every check and test Warroom has. Installs what the tests need from Debian when missing
# (PostgreSQL server binaries: the store and API suites start their own throwaway cluster;
# python3-aiosmtpd: the email channel's tests send to a real SMTP server; Chromium: the web
# UI's browser tests in e2e/ drive it with playwright-core from npm).
set -euo pipefail
cd "$(dirname "$0")"

find_pg_bin() {
    command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1 && return 0
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ]; then
            export PATH="$dir:$PATH"
            return 0
        fi
    done
    return 1
}

if ! find_pg_bin; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "test.sh: installing PostgreSQL server binaries (Debian package postgresql)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        find_pg_bin || { echo "test.sh: PostgreSQL installed but initdb not found" >&2; exit 1; }
    else
        echo "test.sh: PostgreSQL server binaries (initdb, postgres) are needed: apt-get install postgresql" >&2
        exit 1
    fi
fi

# The email channel is tested against a real SMTP server: Debian's python3-aiosmtpd.
has_aiosmtpd() {
    /usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || python3 -c 'import aiosmtpd' >/dev/null 2>&1
}
if ! has_aiosmtpd; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "test.sh: installing the SMTP test server (Debian package python3-aiosmtpd)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-aiosmtpd >/dev/null
        has_aiosmtpd || { echo "test.sh: python3-aiosmtpd installed but not importable" >&2; exit 1; }
    else
        echo "test.sh: the SMTP tests need python3-aiosmtpd: apt-get install python3-aiosmtpd" >&2
        exit 1
    fi
fi

# Alert ingestion is tested end to end with a real sender: Debian's prometheus-alertmanager
# (crates/cli/tests/alertmanager.rs runs /usr/bin/prometheus-alertmanager itself; the package's
# service is not needed and policy-rc.d may keep it from starting, which is fine).
has_alertmanager() {
    [ -x /usr/bin/prometheus-alertmanager ] || command -v prometheus-alertmanager >/dev/null 2>&1
}
if ! has_alertmanager; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "test.sh: installing Alertmanager (Debian package prometheus-alertmanager)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus-alertmanager >/dev/null
        has_alertmanager || { echo "test.sh: prometheus-alertmanager installed but not found" >&2; exit 1; }
    else
        echo "test.sh: the alert ingestion tests need prometheus-alertmanager: apt-get install prometheus-alertmanager" >&2
        exit 1
    fi
fi

# The web UI's browser tests drive Debian's Chromium (playwright-core never downloads a browser
# of its own here) from Node.js, which the machine provides.
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
export CHROMIUM
if [ ! -x "$CHROMIUM" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "test.sh: installing Chromium for the browser tests (Debian package chromium)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
        [ -x "$CHROMIUM" ] || { echo "test.sh: chromium installed but $CHROMIUM not found" >&2; exit 1; }
    else
        echo "test.sh: the browser tests need Chromium at $CHROMIUM: apt-get install chromium" >&2
        exit 1
    fi
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "test.sh: the browser tests need Node.js 20 or newer with npm" >&2
    exit 1
fi

# In CI nothing is rebuilt twice, so incremental state (gigabytes under target/) is only disk.
if [ -n "${CI:-}" ]; then
    export CARGO_INCREMENTAL=0
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked

echo "== browser tests (e2e/: Playwright driving Chromium against target/debug/warroom)"
cargo build --locked -p warroom
if [ ! -d e2e/node_modules ]; then
    (cd e2e && npm ci --no-audit --no-fund)
fi
(cd e2e && node --test --test-concurrency=1 tests/)

# Fuzzing: every target in fuzz/ from its committed seed corpus for a short while (stable
# toolchain; fuzz/run.sh installs cargo-fuzz when missing and needs a C++ compiler for
# libFuzzer). FUZZ_SECONDS=0 skips it; docs/SECURITY.md "Fuzzing" has the longer run.
if [ "${FUZZ_SECONDS:-20}" != 0 ]; then
    if ! command -v c++ >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "test.sh: installing a C++ compiler for libFuzzer (Debian package g++)"
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ >/dev/null
        else
            echo "test.sh: the fuzz step needs a C++ compiler: apt-get install g++" >&2
            exit 1
        fi
    fi
    echo "== fuzz (${FUZZ_SECONDS:-20}s per target)"
    ./fuzz/run.sh "${FUZZ_SECONDS:-20}"
fi
