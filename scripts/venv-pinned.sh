#!/usr/bin/env bash
# Sourced by the bootstrap scripts: `install_pinned NAME VENV BIN PIN [EXTRA...]` installs PIN (and
# EXTRA packages) from PyPI into the virtualenv VENV once; a stamp file keeps it idempotent and
# quiet until PIN changes. BIN is the venv's executable that shows the install is there.
install_pinned() {
  local name=$1 venv=$2 bin=$3 pin=$4
  shift 4
  local stamp="$venv/.orgtrail-pin"
  if [[ -x "$venv/bin/$bin" && -f "$stamp" && "$(cat "$stamp")" == "$pin" ]]; then
    return 0
  fi
  local python="${PYTHON:-python3}"
  command -v "$python" >/dev/null || { echo "$name: $python not found (Python 3 is required for $pin)" >&2; return 1; }
  echo "$name: installing $pin into $venv" >&2
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$pin" "$@"
  echo "$pin" > "$stamp"
}
