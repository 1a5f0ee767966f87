#!/usr/bin/env python3
"""The benchmark's peer: botocove (the widely used library that runs a function in every account of
an organization through assumed roles) doing orgtrail's member-side work, call for call
(orchestrator/src/steps/member_checks.rs `inspect_member`), in every member account:

  AssumeRole (botocove), Account ListRegions, CloudTrail ListTrails in the home region and in each
  enabled opt-in region, GetTrailStatus + GetEventSelectors of the organization trail by its ARN,
  and GetTrailStatus + GetEventSelectors + GetTrail of each own trail in its home region.

Run with the bench's own venv (bench/peer/install.sh), the endpoint in AWS_ENDPOINT_URL:
  botocove_peer.py --trail-arn ARN [--home-region us-east-1] [--role R] [--threads 32]
Prints one JSON line: accounts done, failures, duplicates found, calls by operation, wall seconds.
"""
import argparse
import json
import sys
import threading
import time
from collections import Counter

from botocove import cove

CALLS = Counter()
LOCK = threading.Lock()


def count(op):
    with LOCK:
        CALLS[op] += 1


def logs_management_events(sel):
    """As orgtrail reads a GetEventSelectors answer: no selectors at all is CloudTrail's default."""
    advanced, basic = sel.get("AdvancedEventSelectors") or [], sel.get("EventSelectors") or []
    if advanced:
        return any(f["Field"] == "eventCategory" and "Management" in f.get("Equals", []) for s in advanced for f in s["FieldSelectors"])
    if basic:
        return any(s.get("IncludeManagementEvents", True) for s in basic)
    return True


def member_check(session, home, trail_arn):
    """What orgtrail's member check reads in one account; returns (visible, logging, duplicates)."""
    count("STS.AssumeRole")  # made by botocove for this session
    account = session.client("account", region_name=home)
    count("Account.ListRegions")
    regions = account.list_regions(RegionOptStatusContains=["ENABLED", "ENABLED_BY_DEFAULT"], MaxResults=50)["Regions"]
    opt_in = [r["RegionName"] for r in regions if r["RegionOptStatus"] == "ENABLED" and r["RegionName"] != home]
    listed = {}
    for region in [home] + opt_in:
        ct = session.client("cloudtrail", region_name=region)
        for page in ct.get_paginator("list_trails").paginate():
            count("CloudTrail.ListTrails")
            for t in page.get("Trails", []):
                listed.setdefault(t["TrailARN"], t)
    ct = session.client("cloudtrail", region_name=home)
    try:
        count("CloudTrail.GetTrailStatus")
        logging = ct.get_trail_status(Name=trail_arn)["IsLogging"]
        count("CloudTrail.GetEventSelectors")
        ct.get_event_selectors(TrailName=trail_arn)
        visible = True
    except ct.exceptions.TrailNotFoundException:
        visible, logging = False, False
    me = session.session_information["Id"]
    duplicates = []
    for arn, t in listed.items():
        if arn.split(":")[4] != me:
            continue
        own = session.client("cloudtrail", region_name=t["HomeRegion"])
        count("CloudTrail.GetTrailStatus")
        on = own.get_trail_status(Name=arn)["IsLogging"]
        count("CloudTrail.GetEventSelectors")
        sel = own.get_event_selectors(TrailName=arn)
        count("CloudTrail.GetTrail")
        own.get_trail(Name=arn)
        mgmt = logs_management_events(sel)
        if on and mgmt:
            duplicates.append(arn)
    return {"visible": visible, "logging": logging, "duplicates": duplicates}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trail-arn", required=True)
    ap.add_argument("--home-region", default="us-east-1")
    ap.add_argument("--role", default="OrganizationAccountAccessRole")
    ap.add_argument("--threads", type=int, default=32)
    args = ap.parse_args()

    @cove(rolename=args.role, thread_workers=args.threads)
    def run(session):
        return member_check(session, args.home_region, args.trail_arn)

    started = time.monotonic()
    out = run()
    wall = time.monotonic() - started
    results = [r["Result"] for r in out["Results"]]
    print(json.dumps({
        "accounts": len(results),
        "failed": len(out["Exceptions"]) + len(out["FailedAssumeRole"]),
        "confirmed": sum(1 for r in results if r["visible"] and r["logging"]),
        "duplicates": sum(len(r["duplicates"]) for r in results),
        "by_operation": dict(sorted(CALLS.items())),
        "wall_seconds": round(wall, 2),
    }))
    return 0 if not out["Exceptions"] and not out["FailedAssumeRole"] else 1


if __name__ == "__main__":
    sys.exit(main())
