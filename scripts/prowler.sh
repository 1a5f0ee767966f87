#!/usr/bin/env bash
# Prowler (pinned) in its own git-ignored venv, for the detection evidence (issue 15):
#   scripts/prowler.sh install        # idempotent
#   scripts/prowler.sh run ARGS...    # prowler ARGS with the venv's interpreter
# tests/tests/detection.rs (prowler_*, an ignored test: run it with -- --ignored) runs it against the emulator,
# after one hour of the emulator's delivery, so every check it runs must pass (cloudtrail_cloudwatch_logging_enabled too).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.tools/prowler"
VERSION="5.46.0"
case "${1:-install}" in
  install)
    if [[ ! -x "$VENV/bin/prowler" ]] || ! "$VENV/bin/pip" show prowler 2>/dev/null | grep -qx "Version: $VERSION"; then
      python3 -m venv "$VENV"
      "$VENV/bin/pip" install --quiet --upgrade pip
      "$VENV/bin/pip" install --quiet "prowler==$VERSION"
    fi
    echo "$VENV/bin/prowler"
    ;;
  run)
    shift
    exec "$VENV/bin/prowler" "$@"
    ;;
  *) echo "usage: $0 install|run ARGS..." >&2; exit 2 ;;
esac
