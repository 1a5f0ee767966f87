#!/usr/bin/env python3
"""validate-logs benchmark: orgtrail against the AWS CLI's `aws cloudtrail validate-logs` on the same
delivered data, every call behind the 50 ms latency proxy.

`sandbox up` seeds the organization (ACCOUNTS in all: management, log archive and members), one
`orgtrail apply` puts the organization trail in place, and the emulator's delivery interface
(`POST /moto-api/fidelity/deliver`) writes HOURS hours of log files and signed digests for every
account and region. Then, through a fault proxy that adds the latency and counts the calls:
- orgtrail: `validate-logs` over every account x the REGIONS (all log files read);
- the peer: what a platform engineer runs today, `aws cloudtrail validate-logs --account-id A
  --region R` once per account and region, one after another. It is run on --peer-sample pairs
  and scaled to all of them (each invocation is sequential and alike, so the total is linear).
Printed: walls, the ratio, calls by operation, the bound (calls x latency / concurrency, and the
emulator's CPU seconds: it serves ~300 calls/s on this machine), orgtrail's peak RSS.

Then, on the same data, orgtrail `--digests-only` over every region the accounts have digests in
(17 per account), without latency: its peak RSS at that many digests. Standard library only;
results JSON on stdout.
"""
import argparse
import calendar
import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

from common import Proxy, Sandbox, Timed, cpu_seconds, loadavg, log, machine, orgtrail_env

ROOT = Path(__file__).resolve().parent.parent
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"]
CONCURRENCY = 32  # access.max_concurrency of the sandbox config


def deliver(sb, hours, end):
    body = json.dumps({"hours": hours, "end": end}).encode()
    req = urllib.request.Request(sb.endpoint + "/moto-api/fidelity/deliver", data=body, headers={"Content-Type": "application/json"})
    t0 = time.monotonic()
    with urllib.request.urlopen(req, timeout=3600) as r:
        out = json.loads(r.read())
    counts = next(iter(out["trails"].values()))
    log(f"delivered {counts['digest_files']} digests, {counts['log_files']} log files in {time.monotonic() - t0:.0f}s")
    return counts, round(time.monotonic() - t0, 1)


def setup(bins, members, work, hours, moto_perf):
    sb = Sandbox(bins, members, work, moto_perf)
    org = json.loads((sb.dir / "org.json").read_text())
    state = sb.dir / "state"
    shutil.rmtree(state, ignore_errors=True)
    base = [str(bins / "orgtrail"), "--config", str(sb.dir / "orgtrail.toml"), "--state-dir", str(state), "--endpoint-url"]
    rc = Timed(base + [sb.endpoint, "--json", "apply", "--no-progress"], orgtrail_env(), sb.dir / "apply.json").wait()
    if rc not in (0, 3):
        raise SystemExit(f"apply exited {rc}")
    end = time.strftime("%Y-%m-%dT%H:00:00Z", time.gmtime())
    counts, seconds = deliver(sb, hours, end)
    drop_bucket_policy(sb, org["log_archive_account"])
    return sb, org, base, end, counts, seconds


def drop_bucket_policy(sb, la):
    """After the delivery (which the policy decided), the log bucket's policy comes off: the
    emulator decides each first read of an object under a policy by running the policy evaluator
    (~0.18 s per object), which would measure the evaluator, for both sides alike, not the readers."""
    script = ("import sys, boto3\n"
              "kw = dict(endpoint_url=sys.argv[1], region_name='us-east-1')\n"
              "sts = boto3.client('sts', aws_access_key_id='testing', aws_secret_access_key='testing', **kw)\n"
              "c = sts.assume_role(RoleArn=f'arn:aws:iam::{sys.argv[2]}:role/OrganizationAccountAccessRole', RoleSessionName='bench')['Credentials']\n"
              "s3 = boto3.client('s3', aws_access_key_id=c['AccessKeyId'], aws_secret_access_key=c['SecretAccessKey'], aws_session_token=c['SessionToken'], **kw)\n"
              "s3.delete_bucket_policy(Bucket=f'orgtrail-logs-{sys.argv[2]}')\n")
    subprocess.run([str(ROOT / ".venv/bin/python"), "-c", script, sb.endpoint, la], check=True)


def start_of(end, hours):
    t = time.strptime(end, "%Y-%m-%dT%H:%M:%SZ")
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(calendar.timegm(t) - hours * 3600))


def orgtrail_side(bins, sb, base, start, end, latency, extra, out_name):
    proxy = Proxy(bins, sb.endpoint, latency)
    moto0 = cpu_seconds(sb.moto_pid)
    cmd = base + [proxy.url, "validate-logs", "--start-time", start, "--end-time", end, "--format", "json", "--output", str(sb.dir / out_name)] + extra
    p = Timed(cmd, orgtrail_env(), sb.dir / (out_name + ".out"))
    rc = p.wait()
    emu = cpu_seconds(sb.moto_pid) - moto0
    stats = proxy.stop()
    calls = sum(s["requests"] for s in stats.values())
    report = json.loads((sb.dir / out_name).read_text())
    log(f"orgtrail exited {rc} after {p.wall:.1f}s, {calls} calls, peak RSS {p.maxrss_kib / 1024:.1f} MiB")
    return {"exit_code": rc, "wall_seconds": round(p.wall, 2), "cpu_seconds": round(p.cpu, 1), "peak_rss_mib": round(p.maxrss_kib / 1024, 1),
            "emulator_cpu_seconds": round(emu, 1), "api_calls": calls, "by_operation": {k: v["requests"] for k, v in sorted(stats.items())},
            "summary": report["summary"]}


def log_archive_credentials(sb, la):
    script = ("import sys, boto3\n"
              "sts = boto3.client('sts', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')\n"
              "c = sts.assume_role(RoleArn=f'arn:aws:iam::{sys.argv[2]}:role/OrganizationAccountAccessRole', RoleSessionName='bench-peer')['Credentials']\n"
              "print(c['AccessKeyId'], c['SecretAccessKey'], c['SessionToken'])\n")
    out = subprocess.run([str(ROOT / ".venv/bin/python"), "-c", script, sb.endpoint, la], check=True, capture_output=True, text=True).stdout.split()
    return {"AWS_ACCESS_KEY_ID": out[0], "AWS_SECRET_ACCESS_KEY": out[1], "AWS_SESSION_TOKEN": out[2]}


def peer_side(bins, sb, org, start, end, latency, pairs):
    aws = ROOT / ".venv-awscli/bin/aws"
    config = sb.dir / "aws-cli.config"
    config.write_text("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n")
    proxy = Proxy(bins, sb.endpoint, latency)
    env = {"PATH": "/usr/bin:/bin", "AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(sb.dir / "none"), "AWS_ENDPOINT_URL": proxy.url}
    env.update(log_archive_credentials(sb, org["log_archive_account"]))
    trail = f"arn:aws:cloudtrail:us-east-1:{org['management_account']}:trail/orgtrail"
    moto0 = cpu_seconds(sb.moto_pid)
    t0 = time.monotonic()
    codes, valid = [], 0
    for account, region in pairs:
        r = subprocess.run([str(aws), "cloudtrail", "validate-logs", "--trail-arn", trail, "--account-id", account, "--region", region, "--start-time", start, "--end-time", end],
                           env=env, capture_output=True, text=True)
        codes.append(r.returncode)
        valid += 1 if r.returncode == 0 and "digest files valid" in r.stdout else 0
    wall = time.monotonic() - t0
    emu = cpu_seconds(sb.moto_pid) - moto0
    stats = proxy.stop()
    calls = sum(s["requests"] for s in stats.values())
    log(f"AWS CLI: {len(pairs)} invocations in {wall:.1f}s, {calls} calls, exit codes {sorted(set(codes))}")
    return {"invocations": len(pairs), "wall_seconds": round(wall, 2), "emulator_cpu_seconds": round(emu, 1), "api_calls": calls,
            "exit_codes": sorted(set(codes)), "valid_invocations": valid, "by_operation": {k: v["requests"] for k, v in sorted(stats.items())}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=100, help="accounts in all (management + log archive + members)")
    ap.add_argument("--hours", type=int, default=24)
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--peer-sample", type=int, default=8, help="account x region pairs the AWS CLI is timed on")
    ap.add_argument("--plain-moto", action="store_true", help="without bench/moto_perf (the emulator's O(accounts) key scan per call)")
    ap.add_argument("--rss-only", action="store_true", help="only the digests-only run over every region (e.g. --hours 60: 100,000+ digests)")
    ap.add_argument("--work", default=str(ROOT / "target" / "bench-validate"))
    ap.add_argument("--profile", default="release", choices=["release", "debug"], help="which build of target/ to run (bench/run.sh builds release)")
    args = ap.parse_args()
    bins = ROOT / "target" / args.profile
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    res = {"machine": machine(), "load_before": loadavg(), "moto_perf": not args.plain_moto, "accounts": args.accounts, "regions": REGIONS, "hours": args.hours, "latency_ms": args.latency_ms}
    sb, org, base, end, counts, seconds = setup(bins, args.accounts - 2, work, args.hours, not args.plain_moto)
    start = start_of(end, args.hours)
    res.update({"delivered": counts, "delivery_seconds": seconds, "start": start, "end": end})
    try:
        if args.rss_only:
            r = orgtrail_side(bins, sb, base, start, end, 0, ["--digests-only"], "validate-rss.json")
            res["rss_run"] = {"digests": r["summary"]["digests_valid"] + r["summary"]["digests_invalid"], "orgtrail": r}
            print(json.dumps(res, indent=2))
            return
        o = orgtrail_side(bins, sb, base, start, end, args.latency_ms, ["--regions", ",".join(REGIONS)], "validate.json")
        res["orgtrail"] = o
        accounts = [org["management_account"], org["log_archive_account"]] + [m["id"] for m in org["members"]]
        pairs = [(a, r) for a in accounts for r in REGIONS]
        step = max(1, len(pairs) // args.peer_sample)
        sample = pairs[::step][: args.peer_sample]
        p = peer_side(bins, sb, org, start, end, args.latency_ms, sample)
        scale = len(pairs) / len(sample)
        p["scaled_to_pairs"] = len(pairs)
        p["scaled_wall_seconds"] = round(p["wall_seconds"] * scale, 1)
        p["scaled_api_calls"] = round(p["api_calls"] * scale)
        res["aws_cli"] = p
        res["ratio"] = round(p["scaled_wall_seconds"] / o["wall_seconds"], 1)
        latency_bound = o["api_calls"] * args.latency_ms / 1000 / CONCURRENCY
        res["bound"] = {"latency_seconds": round(latency_bound, 1), "emulator_cpu_seconds": o["emulator_cpu_seconds"],
                        "max_seconds": round(max(latency_bound, o["emulator_cpu_seconds"]), 1)}
        res["ratio_to_bound"] = round(o["wall_seconds"] / max(latency_bound, o["emulator_cpu_seconds"]), 2)
        r = orgtrail_side(bins, sb, base, start, end, 0, ["--digests-only"], "validate-rss.json")
        res["rss_run"] = {"digests": r["summary"]["digests_valid"] + r["summary"]["digests_invalid"], "orgtrail": r}
    finally:
        sb.stop()
    res["load_after"] = loadavg()
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
