#!/usr/bin/env bash
# Installs the pinned CloudFormation linter (cfn-lint, PyPI) into ./.venv-lint, once: the bootstrap
# test (tests/tests/bootstrap.rs) lints `orgtrail render-bootstrap` with it. Idempotent and quiet when done.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-lint"
pin="cfn-lint==1.58.0"
stamp="$venv/.orgtrail-pin"
if [[ -x "$venv/bin/cfn-lint" && -f "$stamp" && "$(cat "$stamp")" == "$pin" ]]; then
  exit 0
fi
python="${PYTHON:-python3}"
command -v "$python" >/dev/null || { echo "bootstrap-lint: $python not found (Python 3 is required for cfn-lint)" >&2; exit 1; }
echo "bootstrap-lint: installing $pin into $venv" >&2
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "$pin"
echo "$pin" > "$stamp"
