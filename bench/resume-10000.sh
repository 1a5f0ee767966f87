#!/usr/bin/env bash
# Resume to the first member call at 10,000 accounts: an open run (central steps done, the canary
# done: `apply --wave canary`), then a plain `apply` through the 50 ms proxy, timed from its start
# to the first wave's "accounts to do" line, then stopped.
set -uo pipefail
cd "$(dirname "$0")/.."
B=$PWD/target/release
W=target/bench/resume-10000; rm -rf $W; mkdir -p $W
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
export PATH=$PWD/.venv/bin:$PATH PYTHONPATH=$PWD/bench/moto_perf ORGTRAIL_BENCH_MOTO_PERF=1
$B/sandbox up --accounts 10000 --dir $W --port $PORT > $W/sandbox.out 2> $W/sandbox.err &
SB=$!
until grep -q "AWS_ENDPOINT_URL" $W/sandbox.out 2>/dev/null; do sleep 2; kill -0 $SB || { cat $W/sandbox.err; exit 1; }; done
echo "seeded at $(date +%T)"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
unset PYTHONPATH ORGTRAIL_BENCH_MOTO_PERF
EP=http://127.0.0.1:$PORT
$B/fault-proxy --upstream $EP --latency-ms 50 --throttle-rate 0.0 --seed 1 > $W/proxy.out 2>&1 &
PX=$!; sleep 1; PURL=$(grep -o 'http://127.0.0.1:[0-9]*' $W/proxy.out | head -1)
O="$B/orgtrail --config $W/orgtrail.toml --state-dir $W/state --endpoint-url"
/usr/bin/time -f "canary apply %e s, %M KiB" $O $EP --json apply --wave canary --no-progress > $W/canary.json 2> $W/canary.err; echo "canary exit $?"; tail -1 $W/canary.err
for i in 1 2 3; do
  start=$(date +%s.%N)
  ORGTRAIL_LOG=warn,orgtrail=info $O $PURL --json apply --no-progress > $W/resume$i.json 2> $W/resume$i.err &
  P=$!
  while ! grep -q "accounts to do" $W/resume$i.err; do sleep 0.02; done
  t=$(python3 -c "print(round($(date +%s.%N)-$start,3))")
  kill -9 $P; wait $P 2>/dev/null
  echo "resume $i: first member call after ${t} s (poll 20 ms)"; grep -E "re-observed|state and plan loaded|accounts to do" $W/resume$i.err | cut -c1-160
done
kill $PX; kill -INT $SB; wait
