#!/usr/bin/env bash
# Installs the pinned CloudFormation linter (cfn-lint, PyPI) into ./.venv-lint, once: the bootstrap
# test (tests/tests/bootstrap.rs) lints `orgtrail render-bootstrap` with it. Idempotent and quiet when done.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/venv-pinned.sh"
install_pinned bootstrap-lint "$root/.venv-lint" cfn-lint "cfn-lint==1.58.0"
