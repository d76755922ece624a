#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (default 30) from its committed seed
# corpus. Works on the stable toolchain: RUSTC_BOOTSTRAP=1 lets stable rustc take the
# -Z flags cargo-fuzz passes, and `--sanitizer none` needs no sanitizer runtime (libFuzzer
# itself is built from source by libfuzzer-sys with the system C++ compiler).
#
# New inputs found during a run go to a scratch directory, never into fuzz/corpus/, so a run
# leaves the work tree as it was. A crash stops the script with libFuzzer's report; the input
# that caused it is saved under fuzz/artifacts/<target>/ (reproduce with
# `fuzz/run.sh --reproduce TARGET FILE`).
set -euo pipefail
called_from=$(pwd)
cd "$(dirname "$0")"

export RUSTC_BOOTSTRAP=1
# Debug assertions on (overflow checks too), release optimisation, no sanitizer. cargo-fuzz
# builds release code as one codegen unit per crate (faster fuzzing, much slower to build);
# 16 keeps the build of warroom-core parallel, which is what a short run in CI needs.
# FUZZ_CODEGEN_UNITS=1 for long runs.
BUILD_FLAGS=(--sanitizer none --debug-assertions --codegen-units "${FUZZ_CODEGEN_UNITS:-16}")

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "fuzz/run.sh: installing cargo-fuzz from crates.io"
    cargo install cargo-fuzz --locked --quiet
fi
if ! command -v c++ >/dev/null 2>&1 && ! command -v g++ >/dev/null 2>&1; then
    echo "fuzz/run.sh: libfuzzer-sys needs a C++ compiler (apt-get install g++)" >&2
    exit 1
fi

targets=$(cargo fuzz list)

if [ "${1:-}" = "--reproduce" ]; then
    target=${2:?target}
    file=${3:?file}
    case $file in /*) ;; *) file="$called_from/$file" ;; esac
    exec cargo fuzz run "${BUILD_FLAGS[@]}" "$target" "$file"
fi

seconds=${1:-30}
echo "== building fuzz targets"
cargo fuzz build "${BUILD_FLAGS[@]}"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in $targets; do
    mkdir -p "$scratch/$target" "artifacts/$target"
    echo "== fuzzing $target for ${seconds}s"
    # -rss_limit_mb: a render or parse that balloons is a finding, not a machine-wide OOM.
    # -timeout: one input taking over 10 s is a hang.
    log="$scratch/$target.log"
    if ! cargo fuzz run "${BUILD_FLAGS[@]}" "$target" "$scratch/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="artifacts/$target/" -print_final_stats=1 >"$log" 2>&1; then
        tail -n 80 "$log" >&2
        echo "fuzz/run.sh: $target found a problem; the input is in fuzz/artifacts/$target/." >&2
        echo "  reproduce: fuzz/run.sh --reproduce $target fuzz/artifacts/$target/<file>" >&2
        exit 1
    fi
    { grep -E '^(#[0-9]+[[:space:]]+DONE|stat::(number_of_executed_units|peak_rss_mb))' "$log" || true; } | tr '\n' ' '
    echo
done
echo "fuzz: every target ran ${seconds}s without a finding"
