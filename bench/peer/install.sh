#!/usr/bin/env bash
# The benchmark's peer: botocove (PyPI, pinned), in the bench's own git-ignored virtualenv
# bench/.venv-peer, apart from the emulator's .venv. Idempotent; bench/run.sh calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
BOTOCOVE=1.7.4
BOTO3=1.44.8  # and the botocore it pins
venv=.venv-peer
if [[ -x $venv/bin/python ]] && $venv/bin/python -c "import botocove, importlib.metadata as m; assert m.version('botocove') == '$BOTOCOVE'" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "botocove==$BOTOCOVE" "boto3==$BOTO3"
"$venv/bin/python" -c "import importlib.metadata as m; print('bench: peer botocove', m.version('botocove'), 'boto3', m.version('boto3'))" >&2
