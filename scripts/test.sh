#!/usr/bin/env bash
# Runs every test: unit tests and the end-to-end tests against the local AWS emulator.
# Installs the emulator into ./.venv on first use; needs only Rust and Python 3.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/bootstrap-emulator.sh
./scripts/bootstrap-policy-eval.sh
# Two cores: two test threads per binary, and at most two emulators at once across binaries.
export ORGTRAIL_TEST_EMULATORS="${ORGTRAIL_TEST_EMULATORS:-2}"
# The end-to-end tests run the real binaries (target/debug/orgtrail, sandbox, fault-proxy), which
# `cargo test` does not build for another package's tests.
cargo build --workspace --locked --bins
cargo test --workspace --locked --no-fail-fast -- --test-threads="${TEST_THREADS:-2}" "$@"
# Then fuzz the config parser for a bounded time (FUZZ_SECONDS, default 60; ORGTRAIL_FUZZ=0 skips).
# The fuzz target compiles only the config module, so it builds in well under a minute.
if [[ "${ORGTRAIL_FUZZ:-1}" == 1 ]]; then
    ./scripts/fuzz.sh
fi
