#!/usr/bin/env bash
# The main job end to end on a local sandbox organization: starts the emulator, seeds an
# organization, runs orgtrail against it, and stops the emulator.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/bootstrap-emulator.sh
cargo build --locked --quiet --bins
exec ./target/debug/sandbox run --accounts "${ACCOUNTS:-200}" --dir .sandbox -- ./scripts/demo-steps.sh
