"""Digest files: one per account, region and hour, listing the hour's log files with their
SHA-256, chained to the previous digest (its bucket, key, hash and signature) and signed
SHA256withRSA over the string the AWS documents ("Custom implementations of CloudTrail log file
integrity validation"):

    digestEndTime \n digestS3Bucket/digestS3Object \n hex(SHA-256(digest bytes)) \n previousDigestSignature

the signature hex-encoded in the object's `x-amz-meta-signature`, the algorithm in
`x-amz-meta-signature-algorithm`. A chain restarts (previous fields null) after an hour without a
digest: a stopped trail, or a refused delivery, as the AWS CLI's validate-logs then reports "No log
files were delivered by CloudTrail between ..." rather than a missing digest."""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import keys
from .paths import iso


@dataclass
class ChainHead:
    end: datetime
    bucket: str
    key: str
    hash: str
    signature: str


@dataclass
class LogEntry:
    bucket: str
    key: str
    raw: bytes
    records: list[dict[str, Any]]


# (trail ARN, account, region) -> the newest digest delivered.
_HEADS: dict[tuple[str, str, str], ChainHead] = {}
_LOCK = threading.Lock()



def log_file_entries(logs: list[Any]) -> list[dict[str, Any]]:
    """A digest's `logFiles`: each log file's place, the SHA-256 of its gzipped bytes, its events' span."""
    return [
        {
            "s3Bucket": log.bucket,
            "s3Object": log.key,
            "hashValue": hashlib.sha256(log.raw).hexdigest(),
            "hashAlgorithm": "SHA-256",
            "newestEventTime": max(r["eventTime"] for r in log.records),
            "oldestEventTime": min(r["eventTime"] for r in log.records),
        }
        for log in logs
    ]

def build(trail_arn: str, account: str, region: str, bucket: str, key: str, start: datetime, logs: list[LogEntry]) -> tuple[bytes, dict[str, str]]:
    """(gzip body, metadata) of the digest at `key` for the hour from `start`; advances the chain."""
    end = start + timedelta(hours=1)
    # Signed when delivered, at the end of its hour.
    signer = keys.key_for(region, end)
    chain = (trail_arn, account, region)
    with _LOCK:
        head = _HEADS.get(chain)
    previous = head if head is not None and head.end == start else None
    times = [r["eventTime"] for log in logs for r in log.records]
    digest = {
        "awsAccountId": account,
        "digestStartTime": iso(start),
        "digestEndTime": iso(end),
        "digestS3Bucket": bucket,
        "digestS3Object": key,
        "digestPublicKeyFingerprint": signer.fingerprint,
        "digestSignatureAlgorithm": keys.ALGORITHM,
        "newestEventTime": max(times) if times else None,
        "oldestEventTime": min(times) if times else None,
        "previousDigestS3Bucket": previous.bucket if previous else None,
        "previousDigestS3Object": previous.key if previous else None,
        "previousDigestHashValue": previous.hash if previous else None,
        "previousDigestHashAlgorithm": "SHA-256" if previous else None,
        "previousDigestSignature": previous.signature if previous else None,
        "logFiles": log_file_entries(logs),
    }
    raw = json.dumps(digest, separators=(",", ":")).encode()
    digest_hash = hashlib.sha256(raw).hexdigest()
    to_sign = f"{digest['digestEndTime']}\n{bucket}/{key}\n{digest_hash}\n{previous.signature if previous else 'null'}"
    signature = signer.sign(to_sign.encode())
    with _LOCK:
        _HEADS[chain] = ChainHead(end, bucket, key, digest_hash, signature)
    metadata = {"x-amz-meta-signature": signature, "x-amz-meta-signature-algorithm": keys.ALGORITHM}
    return gzip.compress(raw, mtime=0), metadata


def clear() -> None:
    with _LOCK:
        _HEADS.clear()
