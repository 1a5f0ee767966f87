#!/usr/bin/env bash
# Installs the pinned local AWS emulator (moto server) into ./.venv, once. Idempotent and quiet when done.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
pin="moto[server]==5.2.5"
stamp="$venv/.orgtrail-pin"
if [[ -x "$venv/bin/moto_server" && -f "$stamp" && "$(cat "$stamp")" == "$pin" ]]; then
  exit 0
fi
python="${PYTHON:-python3}"
command -v "$python" >/dev/null || { echo "bootstrap-emulator: $python not found (Python 3 is required for the local AWS emulator)" >&2; exit 1; }
echo "bootstrap-emulator: installing $pin into $venv" >&2
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "$pin" "boto3"
echo "$pin" > "$stamp"
