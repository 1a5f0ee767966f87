#!/usr/bin/env bash
# The demo's steps, run by `sandbox run` with AWS_ENDPOINT_URL pointing at the emulator.
set -euo pipefail
orgtrail() { ./target/debug/orgtrail --config "$ORGTRAIL_SANDBOX_DIR/orgtrail.toml" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "orgtrail accounts: the organization, walked OU by OU"
orgtrail accounts
step "orgtrail accounts --check-access: assume the role in every account"
orgtrail accounts --check-access --no-tags | tail -n 5
