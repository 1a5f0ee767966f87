#!/usr/bin/env bash
# Fuzz the config parser (fuzz/fuzz_targets/config_parse.rs) for a bounded time.
#   FUZZ_SECONDS  how long to fuzz (default 60)
# Installs cargo-fuzz if missing. cargo-fuzz needs nightly-only compiler flags (-Zsanitizer);
# this machine has only the stable toolchain, so RUSTC_BOOTSTRAP=1 unlocks them.
# Seeds: the example config and the bad-config corpus. New inputs go to fuzz/corpus/ (git-ignored);
# a crash is written to fuzz/artifacts/config_parse/ and makes this script fail.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install --locked cargo-fuzz
fi
export RUSTC_BOOTSTRAP=1
seeds=fuzz/corpus/config_parse
mkdir -p "$seeds"
cp templates/orgtrail.example.toml "$seeds/example.toml"
cp tests/corpus/bad-configs/*.toml "$seeds/"
exec cargo fuzz run config_parse "$PWD/$seeds" -- \
    -max_total_time="${FUZZ_SECONDS:-60}" -dict="$PWD/fuzz/config.dict" \
    -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
