#!/usr/bin/env bash
# Installs the pinned local AWS emulator (moto server) into ./.venv, once. Idempotent and quiet when done.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/venv-pinned.sh"
install_pinned bootstrap-emulator "$root/.venv" moto_server "moto[server]==5.2.5" boto3
