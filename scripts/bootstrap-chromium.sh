#!/usr/bin/env bash
# Installs headless Chromium (Debian's `chromium` package) for the report's browser test
# (tests/tests/report.rs), once: only when /usr/bin/chromium is missing. Needs root (or sudo) and apt.
set -euo pipefail
if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
command -v apt-get >/dev/null || { echo "bootstrap-chromium: apt-get not found; install Chromium so that /usr/bin/chromium exists" >&2; exit 1; }
sudo=""
if [[ "$(id -u)" != 0 ]]; then
  command -v sudo >/dev/null || { echo "bootstrap-chromium: needs root (or sudo) to apt-get install chromium" >&2; exit 1; }
  sudo="sudo"
fi
echo "bootstrap-chromium: installing Debian's chromium package (headless browser test of the report)" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
[[ -x /usr/bin/chromium ]] || { echo "bootstrap-chromium: /usr/bin/chromium still missing after apt-get install" >&2; exit 1; }
