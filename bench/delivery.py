"""OrgTrail.Coverage at organization scale (issue: "verify proves delivery"). Seeds N member
accounts (`sandbox up`), rolls orgtrail out directly against the emulator, delivers one hour
(`POST /moto-api/fidelity/deliver`, timed: the emulator's own cost), then times `orgtrail verify
--json` through the fault proxy at --latency-ms. Coverage lists one prefix per account, region and
day (plus one ListRegions per account); its bound is those calls x latency / max_concurrency.
Printed: the verify wall, the coverage calls the proxy counted, the bound and wall / bound (verify
runs every other control alongside, so the ratio is an upper bound on coverage's own overhead), and
the same verify without the proxy: the emulator's own floor (moto answers a prefix listing by
scanning every key of the bucket, so its cost grows with what was delivered).

    python3 bench/delivery.py --accounts 235 --bin target/debug    # 236 accounts x 17 regions ~ 4,000 pairs

Standard library only.
"""
import argparse
import json
import shutil
import time
import urllib.request
from pathlib import Path

from common import Proxy, Sandbox, Timed, loadavg, log, machine, orgtrail_env


def deliver(endpoint, hours):
    req = urllib.request.Request(endpoint + "/moto-api/fidelity/deliver", data=json.dumps({"hours": hours}).encode(), method="POST")
    t0 = time.monotonic()
    answer = json.load(urllib.request.urlopen(req, timeout=3600))
    return time.monotonic() - t0, answer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=235)
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--bin", default="target/debug")
    ap.add_argument("--work", default="/tmp/orgtrail-bench-delivery")
    ap.add_argument("--out", default=None, help="write the results JSON here")
    args = ap.parse_args()
    bins = Path(args.bin).resolve()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(work / f"org-{args.accounts}", ignore_errors=True)  # a fresh organization each run: its state too
    log(f"seeding {args.accounts} member accounts")
    sb = Sandbox(bins, args.accounts, work, False)
    try:
        config = sb.dir / "orgtrail.toml"
        state = sb.dir / "orgtrail.state"
        concurrency = next(int(l.split("=")[1]) for l in config.read_text().splitlines() if l.startswith("max_concurrency"))
        log("apply (direct, no proxy)")
        apply = Timed([str(bins / "orgtrail"), "--config", str(config), "--state-dir", str(state), "--endpoint-url", sb.endpoint, "apply", "--json"],
                      orgtrail_env(), sb.dir / "apply.json")
        rc = apply.wait()
        if rc not in (0, 3):
            raise SystemExit(f"apply exited {rc}: {apply.lines[-5:]}")
        log("delivering one hour")
        deliver_s, answer = deliver(sb.endpoint, 1)
        counts = next(iter(answer["trails"].values()))
        log(f"delivered {counts['digest_files']} digests, {counts['log_files']} log files in {deliver_s:.1f}s")
        proxy = Proxy(bins, sb.endpoint, args.latency_ms)
        load = loadavg()
        verify = Timed([str(bins / "orgtrail"), "--config", str(config), "--state-dir", str(state), "--endpoint-url", proxy.url, "verify", "--json"],
                       orgtrail_env(), sb.dir / "verify.json")
        verify_rc = verify.wait()
        stats = proxy.stop()
        report = json.loads((sb.dir / "verify.json").read_text() or "{}")
        coverage = [f for f in report.get("findings", []) if f["control"] == "OrgTrail.Coverage"]
        calls = {op: s["requests"] for op, s in stats.items()}
        listings = sum(n for op, n in calls.items() if "ListObjects" in op)
        # Coverage's own ListRegions: one per account (the member checks of verify make theirs too).
        regions = len(coverage)
        total = sum(calls.values())
        latency = args.latency_ms / 1000
        res = {
            "machine": machine(), "load_at_start": load, "accounts": args.accounts + 1, "latency_ms": args.latency_ms, "max_concurrency": concurrency,
            "delivered_digests": counts["digest_files"], "deliver_seconds": round(deliver_s, 1), "verify_exit": verify_rc,
            "verify_wall_seconds": round(verify.wall, 2), "coverage_findings": len(coverage),
            "coverage_pass": sum(1 for f in coverage if f["status"] == "PASS"), "coverage_listings": listings, "list_regions": regions,
            "coverage_bound_seconds": round((listings + regions) * latency / concurrency, 2), "all_calls": total,
            "all_calls_bound_seconds": round(total * latency / concurrency, 2), "calls_by_operation": calls,
        }
        log("the same verify directly against the emulator (no proxy): the emulator's own floor")
        direct = Timed([str(bins / "orgtrail"), "--config", str(config), "--state-dir", str(state), "--endpoint-url", sb.endpoint, "verify", "--json"],
                       orgtrail_env(), sb.dir / "verify-direct.json")
        direct.wait()
        res["verify_direct_wall_seconds"] = round(direct.wall, 2)
        res["wall_over_coverage_bound"] = round(res["verify_wall_seconds"] / res["coverage_bound_seconds"], 2) if res["coverage_bound_seconds"] else None
        res["wall_over_all_calls_bound"] = round(res["verify_wall_seconds"] / res["all_calls_bound_seconds"], 2) if res["all_calls_bound_seconds"] else None
        print(json.dumps({k: v for k, v in res.items() if k != "calls_by_operation"}, indent=2))
        print(f"verify: {res['verify_wall_seconds']} s wall for {res['accounts']} accounts; coverage {listings} listings + {regions} ListRegions, "
              f"bound {res['coverage_bound_seconds']} s ({args.latency_ms} ms x calls / {concurrency}); all {total} calls, bound {res['all_calls_bound_seconds']} s; "
              f"wall / all-calls bound {res['wall_over_all_calls_bound']}; without the proxy {res['verify_direct_wall_seconds']} s (the emulator's floor)")
        if args.out:
            Path(args.out).write_text(json.dumps(res, indent=2) + "\n")
    finally:
        sb.stop()


if __name__ == "__main__":
    main()
