#!/usr/bin/env bash
# Runs every test: unit tests and the end-to-end tests against the local AWS emulator, then a
# bounded fuzz run of the config parser. Needs only Rust, Python 3 and Node.js (npm): the emulator
# (moto server), the CloudFormation linter (cfn-lint) and the IAM policy linter (parliament) are
# installed, pinned, into ./.venv, ./.venv-lint and ./.venv-parliament, the IAM policy evaluator
# (@cloud-copilot/iam-simulate) into tests/policy-eval/.
# Arguments go to the test binaries (e.g. a name filter: `scripts/test.sh bootstrap`).
# Ends with one line `N passed, M failed` (every cargo test, plus the fuzz run as one) and exits
# non-zero if anything failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/bootstrap-emulator.sh || exit 1
./scripts/bootstrap-lint.sh || exit 1
./scripts/bootstrap-policy-eval.sh || exit 1
./scripts/bootstrap-parliament.sh || exit 1
./scripts/bootstrap-chromium.sh || exit 1
./scripts/bootstrap-awscli.sh || exit 1
# Two cores: two test threads per binary, and at most two emulators at once across binaries.
export ORGTRAIL_TEST_EMULATORS="${ORGTRAIL_TEST_EMULATORS:-2}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
passed=0
failed=0
# The end-to-end tests run the real binaries (target/debug/orgtrail, sandbox, fault-proxy), which
# `cargo test` does not build for another package's tests.
if cargo build --workspace --locked --bins; then
    cargo test --workspace --locked --no-fail-fast -- --test-threads="${TEST_THREADS:-2}" "$@" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    # "test result: ok. 12 passed; 0 failed; ..." once per test binary and doc-test run.
    read -r p f < <(sed -n 's/^test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed;.*/\1 \2/p' "$log" | awk '{p+=$1; f+=$2} END {print p+0, f+0}')
    passed=$((passed + p))
    failed=$((failed + f))
    # A build error or a test binary that died prints no failed test: count it.
    if [[ $status -ne 0 && $f -eq 0 ]]; then
        echo "test.sh: cargo test exited $status without a failed test (a build error or a crashed test binary)" >&2
        failed=$((failed + 1))
    fi
else
    echo "test.sh: cargo build failed" >&2
    failed=$((failed + 1))
fi
# The benchmark's emulator speed-ups (bench/moto_perf) must answer exactly as moto does: one check.
if .venv/bin/python bench/moto_perf/check.py; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
# Then fuzz the config parser for a bounded time (FUZZ_SECONDS, default 60; ORGTRAIL_FUZZ=0 skips).
if [[ "${ORGTRAIL_FUZZ:-1}" == 1 ]]; then
    if ./scripts/fuzz.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
