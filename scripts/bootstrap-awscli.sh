#!/usr/bin/env bash
# Installs the pinned AWS CLI (v1, PyPI `awscli`) into ./.venv-awscli, once: the outside judge of the
# emulator's delivery (`aws cloudtrail validate-logs`, tests/tests/delivery_validate.rs). Its own
# virtualenv, since awscli pins its botocore apart from the emulator's. Idempotent and quiet when done.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/venv-pinned.sh"
install_pinned bootstrap-awscli "$root/.venv-awscli" aws "awscli==1.46.3"
