"""Backfill digests ("CloudTrail digest file structure": delivered when CloudTrail must include log
files that the original digest did not reference because of processing delays; the key ends in
`_backfill.json.gz`). `POST /moto-api/fidelity/backfill` with a JSON body `{"end": ISO (the end of
the hour covered), "generated": ISO (optional, default now), "accounts": [ids] (optional)}` writes,
for every logging trail with log file validation and each covered account and region, one late log
file of that hour and the backfill digest listing it, and answers 200 with
`{"trails": {ARN: {"log_files", "backfill_digests", "failures", "error"}}}`. A separate endpoint, so
the fixed delivery interface keeps its shape.

The backfill digest is the hour's (digestStartTime/EndTime, stamped with the end like the original),
chains to nothing, and is signed when generated: with the region's key at `generated` (keys.py
rotates keys), that time in the object's `backfill-generation-timestamp` metadata, which the AWS
CLI's validate-logs requires and looks the key up around."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from . import deliver, digests, keys, records, refusals, target
from .paths import account_root, digest_key, iso, log_key

PATH = "/moto-api/fidelity/backfill"


def _time(params: dict[str, Any], name: str, default: datetime | None) -> datetime:
    value = params.get(name)
    if value is None:
        if default is None:
            raise ValueError(f'"{name}" is required')
        return default
    when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError(f'"{name}" must carry its zone (e.g. "2026-12-01T10:00:00Z")')
    return when.astimezone(timezone.utc)


def parse(body: bytes) -> tuple[datetime, datetime, set[str] | None]:
    params = json.loads(body or b"{}")
    if not isinstance(params, dict):
        raise ValueError("body must be a JSON object")
    end = _time(params, "end", None).replace(minute=0, second=0, microsecond=0)
    generated = _time(params, "generated", datetime.now(timezone.utc))
    if generated < end:
        raise ValueError('"generated" must not be before "end": a backfill digest follows its hour')
    accounts = params.get("accounts")
    if accounts is not None and (not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts)):
        raise ValueError('"accounts" must be a list of account ids')
    return end, generated, set(accounts) if accounts is not None else None


def backfill(end: datetime, generated: datetime, only: set[str] | None, enabled_regions: Callable[[str], set[str]]) -> dict[str, Any]:
    out = {}
    for trail in deliver.all_trails():
        if trail.status.is_logging and trail.log_validation:
            out[trail.arn] = _backfill_trail(trail, end, generated, only, enabled_regions)
    return {"trails": out}


def _backfill_trail(trail: Any, end: datetime, generated: datetime, only: set[str] | None, enabled_regions: Callable[[str], set[str]]) -> dict[str, Any]:
    counts: dict[str, Any] = {"log_files": 0, "backfill_digests": 0, "failures": 0, "error": None}
    accounts, org_id = target.covered_accounts(trail)
    labels = [(a, r) for a in accounts if only is None or a in only for r in target.covered_regions(trail, a, enabled_regions)]
    if not labels:
        return counts
    where = target.target_of(trail)
    start = end - timedelta(hours=1)
    owner_org = target.organization_of(trail.account_id)
    source_org = org_id or (owner_org[1].org.id if owner_org is not None and owner_org[1].org is not None else None)
    sample = {f"{a}/{r}": [_backfill_key(trail, org_id, a, r, end)] for a, r in labels}
    whole, refused = refusals.decide(trail.arn, source_org, where, sample)
    if whole is not None:
        counts["error"], counts["failures"] = whole, len(labels)
        return counts
    counts["failures"] = len(refused)
    s3 = target.bucket_backend(trail)
    for account, region in labels:
        if f"{account}/{region}" in refused:
            continue
        root = account_root(trail.s3_key_prefix, org_id, account)
        events = records.records_for(trail, account, region, start)
        logs = []
        if events:
            key = log_key(root, account, region, start + timedelta(minutes=58))
            raw, body = records.log_file(events)
            deliver._put(s3, trail.bucket_name, key, body, where)
            logs.append(digests.LogEntry(trail.bucket_name, key, raw, events))
            counts["log_files"] += 1
        key = _backfill_key(trail, org_id, account, region, end)
        body, metadata = _digest(account, region, trail.bucket_name, key, start, generated, logs)
        deliver._put(s3, trail.bucket_name, key, body, where, metadata)
        counts["backfill_digests"] += 1
    return counts


def _backfill_key(trail: Any, org_id: str | None, account: str, region: str, end: datetime) -> str:
    standard = digest_key(account_root(trail.s3_key_prefix, org_id, account), account, region, trail.trail_name, trail.region_name, end)
    return standard[: -len(".json.gz")] + "_backfill.json.gz"


def _digest(account: str, region: str, bucket: str, key: str, start: datetime, generated: datetime, logs: list[digests.LogEntry]) -> tuple[bytes, dict[str, str]]:
    signer = keys.key_for(region, generated)
    times = [r["eventTime"] for log in logs for r in log.records]
    digest = {
        "awsAccountId": account,
        "digestStartTime": iso(start),
        "digestEndTime": iso(start + timedelta(hours=1)),
        "digestS3Bucket": bucket,
        "digestS3Object": key,
        "digestPublicKeyFingerprint": signer.fingerprint,
        "digestSignatureAlgorithm": keys.ALGORITHM,
        "newestEventTime": max(times) if times else None,
        "oldestEventTime": min(times) if times else None,
        "previousDigestS3Bucket": None,
        "previousDigestS3Object": None,
        "previousDigestHashValue": None,
        "previousDigestHashAlgorithm": None,
        "previousDigestSignature": None,
        "logFiles": digests.log_file_entries(logs),
    }
    raw = json.dumps(digest, separators=(",", ":")).encode()
    to_sign = f"{digest['digestEndTime']}\n{bucket}/{key}\n{hashlib.sha256(raw).hexdigest()}\nnull"
    metadata = {
        "x-amz-meta-signature": signer.sign(to_sign.encode()),
        "x-amz-meta-signature-algorithm": keys.ALGORITHM,
        "x-amz-meta-backfill-generation-timestamp": iso(generated),
    }
    return gzip.compress(raw, mtime=0), metadata


def install(enabled_regions: Callable[[str], set[str]]) -> None:
    from .endpoint import post_endpoint

    def run(body: bytes) -> Any:
        end, generated, accounts = parse(body)
        return backfill(end, generated, accounts, enabled_regions)

    post_endpoint(PATH, run)
