#!/usr/bin/env bash
# Fuzz the config parser (fuzz/fuzz_targets/config_parse.rs) for a bounded time: coverage-guided
# libFuzzer (libfuzzer-sys, pinned in fuzz/Cargo.lock) on the stable toolchain. The instrumentation
# below uses stable codegen options only (the SanitizerCoverage pass that cargo-fuzz also uses, minus
# its nightly-only AddressSanitizer), so neither cargo-fuzz, nightly, nor RUSTC_BOOTSTRAP is needed.
# Safe Rust needs no ASan; debug assertions and overflow checks stay on.
#   FUZZ_SECONDS  how long to fuzz (default 60)
# Seeds: the example config and the bad-config corpus. New inputs go to fuzz/corpus/ (git-ignored).
# libFuzzer's own output (with its dictionary dump) goes to fuzz/last-run.log; this prints one line
# of final stats. A crash is written to fuzz/artifacts/config_parse/ and makes this script fail.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
host="$(rustc -vV | sed -n 's/^host: //p')"
flags=(
    -Cpasses=sancov-module
    -Cllvm-args=-sanitizer-coverage-level=4
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters
    -Cllvm-args=-sanitizer-coverage-pc-table
    -Cllvm-args=-sanitizer-coverage-trace-compares
    --cfg fuzzing
    -Cdebug-assertions
    -Coverflow-checks
)
# --target keeps the flags off build scripts and proc macros (as cargo-fuzz does).
RUSTFLAGS="${flags[*]}" cargo build --quiet --release --locked --manifest-path fuzz/Cargo.toml \
    --target-dir fuzz/target --target "$host" --bin config_parse
seeds=fuzz/corpus/config_parse
artifacts=fuzz/artifacts/config_parse
log=fuzz/last-run.log
mkdir -p "$seeds" "$artifacts"
cp templates/orgtrail.example.toml "$seeds/example.toml"
cp tests/corpus/bad-configs/*.toml "$seeds/"
seconds="${FUZZ_SECONDS:-60}"
set +e
"fuzz/target/$host/release/config_parse" "$seeds" \
    -max_total_time="$seconds" -dict=fuzz/config.dict -artifact_prefix="$artifacts/" \
    -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1
status=$?
set -e
runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | tr -dc 0-9 || true)"
if [[ $status -ne 0 ]]; then
    # The crash report, without the recommended-dictionary dump.
    sed '/^###### Recommended dictionary/,/^###### End of recommended dictionary/d' "$log" | tail -40 >&2
    echo "fuzz: config_parse FAILED (exit $status) after ${runs:-?} runs; input in $artifacts/, log in $log" >&2
    exit 1
fi
echo "fuzz: config_parse: ${runs:-?} runs in ${seconds}s, coverage ${cov:-?} edges, no crash (log: $log)"
