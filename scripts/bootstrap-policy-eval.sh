#!/usr/bin/env bash
# Installs the pinned outside IAM policy evaluator (@cloud-copilot/iam-simulate, exact versions in
# tests/policy-eval/package-lock.json) into tests/policy-eval/node_modules (git-ignored), once.
# Used by tests/tests/access_matrix.rs. Idempotent and quiet when done; needs Node.js >= 18 and npm.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/tests/policy-eval"
stamp="$dir/node_modules/.orgtrail-lock-sha256"
want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
command -v npm >/dev/null || { echo "bootstrap-policy-eval: npm not found (Node.js >= 18 is required for the IAM policy evaluator)" >&2; exit 1; }
echo "bootstrap-policy-eval: installing the pinned IAM policy evaluator into $dir/node_modules" >&2
# npm ci installs exactly the lockfile (integrity-checked) and never rewrites it; no install scripts run.
(cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
echo "$want" > "$stamp"
