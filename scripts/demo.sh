#!/usr/bin/env bash
# The main job end to end on a local sandbox organization: starts the emulator, seeds an
# organization, runs orgtrail against it, and stops the emulator.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/bootstrap-emulator.sh
cargo build --locked --quiet --bins
# Where cargo put them: CARGO_TARGET_DIR or build.target-dir may move target/ (cargo metadata knows).
ORGTRAIL_BIN_DIR="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/debug"
export ORGTRAIL_BIN_DIR
exec "$ORGTRAIL_BIN_DIR/sandbox" run --accounts "${ACCOUNTS:-200}" --dir .sandbox -- ./scripts/demo-steps.sh
