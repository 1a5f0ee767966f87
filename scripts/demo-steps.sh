#!/usr/bin/env bash
# The demo's steps, run by `sandbox run` with AWS_ENDPOINT_URL pointing at the emulator and
# ORGTRAIL_SANDBOX_DIR at the sandbox directory (config, state and reports live there).
set -euo pipefail
dir="$ORGTRAIL_SANDBOX_DIR"
state="$dir/orgtrail.state"
rm -rf "$state" "$dir"/report.*
# demo.sh exports where cargo built the binaries; run alone, ask cargo the same way.
bin="${ORGTRAIL_BIN_DIR:-$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/debug}"
orgtrail() { "$bin/orgtrail" --config "$dir/orgtrail.toml" --state-dir "$state" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
expect_exit() { # expect_exit CODE COMMAND...: run, and fail the demo unless it exits with CODE
  local want=$1; shift
  local got=0; "$@" || got=$?
  if [ "$got" != "$want" ]; then echo "demo: expected exit $want from '$*', got $got" >&2; exit 1; fi
  echo "(exit $got, as expected)"
}

step "orgtrail accounts: the organization, walked OU by OU (first lines)"
orgtrail accounts --no-tags | head -n 8

step "orgtrail plan: what apply would change, and the three waves"
orgtrail plan

canary=$(orgtrail plan --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["waves"][0]["accounts"][0])')
step "A broken canary: the role in account $canary refuses orgtrail (a fault proxy answers its AssumeRole with AccessDenied)"
proxy_log=$(mktemp)
"$bin/fault-proxy" --upstream "$AWS_ENDPOINT_URL" --deny-assume-role "$canary" > "$proxy_log" 2>/dev/null &
proxy_pid=$!
trap 'kill $proxy_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$proxy_log" ] && break; sleep 0.1; done
proxy_url=$(head -n 1 "$proxy_log")

step "orgtrail apply: central steps, then the canary wave halts (tolerance 0); later waves are not started"
expect_exit 1 orgtrail apply --endpoint-url "$proxy_url"

step "orgtrail status --failed: the failed account, its step and the AWS error code"
orgtrail status --failed

step "The fix: the role can be assumed again (the fault proxy is gone)"
kill $proxy_pid; wait $proxy_pid 2>/dev/null || true

step "orgtrail apply: resumes the same run, skips what is done, finishes all three waves"
# Exit 3: everything converged except MFA Delete, which only the log-archive root user can enable.
expect_exit 3 orgtrail apply

step "orgtrail status"
orgtrail status

step "Two hours later: the emulator's CloudTrail delivers log files and signed digests for every account and region"
# The fixed delivery interface of the emulator's fidelity layer (docs/emulator.md, "Delivery").
python3 - "$AWS_ENDPOINT_URL" <<'PY'
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/moto-api/fidelity/deliver", data=json.dumps({"hours": 2}).encode(), method="POST")
for arn, c in json.load(urllib.request.urlopen(req))["trails"].items():
    print(f"{arn}: {c['log_files']} log files, {c['digest_files']} digests, {c['failures']} failures")
PY

step "orgtrail verify: the live organization against the baseline, and the record of every account (OrgTrail.Delivery, OrgTrail.Coverage)"
expect_exit 0 orgtrail verify
orgtrail verify --format json --output "$dir/report.json" >/dev/null
orgtrail verify --format junit --output "$dir/report.junit.xml" >/dev/null
orgtrail verify --format sarif --output "$dir/report.sarif" >/dev/null

step "Done"
echo "state:   $state   (orgtrail status --state-dir $state)"
echo "reports: $dir/report.json, $dir/report.junit.xml, $dir/report.sarif"

step "orgtrail validate-logs --digests-only: the delivered digests, signature and chain, per account x region"
expect_exit 0 orgtrail validate-logs --digests-only --regions us-east-1,eu-west-1 --format json --output "$dir/validate.json"

step "orgtrail report: one self-contained HTML file for auditors (from verify's and validate-logs' JSON and the state's runs)"
orgtrail report --verify "$dir/report.json" --validate "$dir/validate.json" --output "$dir/report.html"
echo "report:  $dir/report.html   (open it in a browser; it loads nothing and runs no script)"
