#!/usr/bin/env bash
# Installs the pinned IAM policy linter (parliament, PyPI, with its community auditors) into
# ./.venv-parliament, once: the lint test (tests/tests/iam_lint.rs) runs it on every IAM document
# orgtrail renders. Idempotent and quiet when done.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/venv-pinned.sh"
install_pinned bootstrap-parliament "$root/.venv-parliament" parliament "parliament==1.6.4"
