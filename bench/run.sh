#!/usr/bin/env bash
# orgtrail benchmarks: the botocove peer over 300 accounts, then rollouts of 1,000 and 10,000 sandbox
# accounts behind a 50 ms-per-call fault proxy (with discovery timed first, and under 30% throttling).
#   bench/run.sh [--no-build] [bench.py options: --sizes 1000,10000 --latency-ms 50 --resume-size N
#                 --zero-latency 1000 --peer-size 300 --discovery 1000,10000 --throttled-discovery 1000
#                 --discovery-only --plain-moto --out FILE]
# The peer (botocove, pinned) is installed into bench/.venv-peer by bench/peer/install.sh.
# Builds the release binaries (unless --no-build), copies them aside (a concurrent build cannot
# swap them mid-run), runs bench/bench.py and prints its table. Results JSON: target/bench/results.json.
# Needs the emulator's virtualenv (scripts/bootstrap-emulator.sh). See docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
build=1
args=()
for a in "$@"; do
  if [[ $a == --no-build ]]; then build=0; else args+=("$a"); fi
done
[[ -x .venv/bin/python ]] || { echo "bench: the emulator is not installed: run scripts/bootstrap-emulator.sh" >&2; exit 2; }
if [[ $build == 1 ]]; then
  cargo build --release -p orgtrail -p orgtrail-tests --bins
fi
bin=target/bench/bin
mkdir -p "$bin"
for b in orgtrail sandbox fault-proxy; do
  cp -f "target/release/$b" "$bin/$b.tmp" && mv -f "$bin/$b.tmp" "$bin/$b"
done
echo "bench: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exec .venv/bin/python bench/bench.py --bin "$bin" --work target/bench --out target/bench/results.json "${args[@]}"
