#!/usr/bin/env python3
"""The HTML report at scale: `orgtrail report --verify --validate` on synthetic inputs of N accounts.

Synthetic, not a live sandbox: verify's JSON (the central findings, and OrgTrail.Reach plus
OrgTrail.NoDuplicate per member, 1% of members failing, accounts spread over 12 OUs two levels deep)
and validate-logs' JSON (every account x 4 regions, 0.5% of pairs with an invalid digest, 0.2% with a gap)
of the shapes orgtrail writes. The report is built from these files alone, so their size is what counts.
Prints, per size: input sizes, generation time (best and median of RUNS), the HTML's size, and the time
headless Chromium takes to load it and dump its DOM. Standard library only; run from the repository root
after `cargo build --release --bins` (or set ORGTRAIL=target/debug/orgtrail).

    python3 bench/report.py            # 1,000 and 10,000 accounts
    SIZES=100000 python3 bench/report.py
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORGTRAIL = str(Path(os.environ.get("ORGTRAIL", ROOT / "target/release/orgtrail")).resolve())
SIZES = [int(s) for s in os.environ.get("SIZES", "1000,10000").split(",")]
RUNS = int(os.environ.get("RUNS", "3"))
REGIONS = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1"]
OUS = [f"Root/Unit{a}/Team{b}" for a in range(4) for b in range(3)]
CENTRAL = ["CloudTrail.1", "CloudTrail.2", "CloudTrail.4", "CloudTrail.5", "CloudTrail.6", "CloudTrail.7", "S3.5", "CIS.2.1.2", "S3.22", "S3.23", "KMS.4"]
MGMT, LA = "100000000000", "100000000001"


def verify_doc(n):
    members = [f"{200000000000 + i:012d}" for i in range(n)]
    trail = f"trail arn:aws:cloudtrail:us-east-1:{MGMT}:trail/orgtrail"
    findings = [{"control": c, "title": f"{c} title", "account": MGMT if c.startswith("CloudTrail") else LA, "resource": trail, "status": "PASS", "evidence": "IsMultiRegionTrail=true; IsLogging=true"} for c in CENTRAL]
    for i, m in enumerate(members):
        failing = i % 100 == 7
        findings.append({"control": "OrgTrail.Reach", "title": "The organization trail reaches the account", "account": m, "resource": "trail orgtrail", "status": "FAIL" if failing else "PASS", "evidence": "IsLogging=false" if failing else "visible; IsLogging=true"})
        findings.append({"control": "OrgTrail.NoDuplicate", "title": "No duplicate trail", "account": m, "resource": "trails", "status": "PASS", "evidence": "no other trail logs management events"})
    accounts = [{"id": MGMT, "name": "management", "ou_path": "Root", "status": "ACTIVE", "targeted": False}, {"id": LA, "name": "log-archive", "ou_path": "Root/Security", "status": "ACTIVE", "targeted": True}]
    accounts += [{"id": m, "name": f"member-{i:05d}", "ou_path": OUS[i % len(OUS)], "status": "ACTIVE", "targeted": True} for i, m in enumerate(members)]
    return {"organization": "o-bench", "management_account": MGMT, "accounts_checked": n + 1, "generated_at": "2026-12-06T20:00:00Z", "orgtrail_version": "bench", "config_path": "orgtrail.toml", "config_fingerprint": "0123456789abcdef", "home_region": "us-east-1", "partition": "aws", "caller_account": MGMT, "findings": findings, "accounts": accounts}, members


def validate_doc(members):
    """validate-logs' JSON (`--digests-only`): 24 hourly digests per pair."""
    pairs, findings = [], []
    for i, m in enumerate([MGMT, LA] + members):
        for j, r in enumerate(REGIONS):
            k = i * len(REGIONS) + j
            invalid, gap = k % 200 == 3, k % 500 == 11
            prefix = f"AWSLogs/o-bench/{m}/CloudTrail-Digest/{r}/2026/12/06/{m}_CloudTrail-Digest_{r}_orgtrail_us-east-1_20261206T"
            pairs.append({"account": m, "region": r, "digests_valid": 24 - invalid - 2 * gap, "digests_invalid": int(invalid), "digests_missing": 2 * gap, "backfill_digests_valid": 0, "logs_valid": 0, "logs_invalid": 0, "stops": 0, "head": {"trail": "t", "account": m, "region": r, "digest_key": prefix + "195959Z.json.gz", "signature": "00", "end_time": "2026-12-06T19:59:59Z"}, "valid": not (invalid or gap)})
            if invalid:
                findings.append({"account": m, "region": r, "subject": "digest", "verdict": "invalid: signature", "key": prefix + "105959Z.json.gz", "detail": "the signature does not verify", "count": 1})
            if gap:
                findings.append({"account": m, "region": r, "subject": "chain", "verdict": "gap", "key": prefix + "135959Z.json.gz", "detail": "2 digests missing", "count": 2})
    return {"organization": "o-bench", "trail": "t", "bucket": "b", "start_time": "2026-12-05T20:00:00Z", "end_time": "2026-12-06T20:00:00Z", "since_last": False, "digests_only": True, "shard": None, "summary": {}, "pairs": pairs, "findings": findings}


def chromium_load(page, profile):
    t = time.monotonic()
    subprocess.run(["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", "--dump-dom", f"file://{page}"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - t


def main():
    results = []
    for n in SIZES:
        with tempfile.TemporaryDirectory() as d:
            d = Path(d)
            verify, members = verify_doc(n)
            (d / "verify.json").write_text(json.dumps(verify))
            (d / "validate.json").write_text(json.dumps(validate_doc(members)))
            times = []
            for _ in range(RUNS):
                t = time.monotonic()
                subprocess.run([ORGTRAIL, "report", "--verify", "verify.json", "--validate", "validate.json", "--output", "report.html"], cwd=d, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                times.append(time.monotonic() - t)
            browser = chromium_load(d / "report.html", d / "profile") if Path("/usr/bin/chromium").exists() else None
            row = {"accounts": n, "verify_json_bytes": (d / "verify.json").stat().st_size, "validate_json_bytes": (d / "validate.json").stat().st_size, "pairs": (n + 2) * len(REGIONS), "generate_s_best": round(min(times), 3), "generate_s_median": round(statistics.median(times), 3), "html_bytes": (d / "report.html").stat().st_size, "chromium_load_dump_s": None if browser is None else round(browser, 2)}
            results.append(row)
            print(f"{n:>7} accounts: verify.json {row['verify_json_bytes'] / 1e6:.1f} MB, validate.json {row['validate_json_bytes'] / 1e6:.1f} MB ({row['pairs']} pairs) -> report.html {row['html_bytes'] / 1e6:.2f} MB in {row['generate_s_best']:.2f} s (median {row['generate_s_median']:.2f} s of {RUNS}); Chromium load + dump-dom {row['chromium_load_dump_s']} s", flush=True)
    print(json.dumps({"orgtrail": ORGTRAIL, "runs": RUNS, "results": results}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
