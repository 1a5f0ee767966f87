"""The emulator's digest-signing keys: one RSA key pair per region, as CloudTrail signs each
region's digests with that region's key ("Custom implementations of CloudTrail log file integrity
validation"). ListPublicKeys returns them as AWS does: `Value` the DER of the PKCS #1 RSAPublicKey
(the AWS CLI's validate-logs loads it with `rsa.PublicKey.load_pkcs1(..., format='DER')`),
`Fingerprint` the hex MD5 of that DER (32 hex digits, as in AWS's digest example), and a validity
window. AWS rotates the keys (ListPublicKeys "returns all public keys whose private keys were used
to sign the digest files within the specified time range"; the period is not documented): here each
region has one key per fixed 30-day period of signing time, valid for that period, so a digest
signed long after the hour it covers (a backfill digest) carries a key the hour's range lacks."""

from __future__ import annotations

import base64
import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

ALGORITHM = "SHA256withRSA"
# How long one key signs (periods counted from the Unix epoch, so every process agrees).
ROTATION = timedelta(days=30)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass
class RegionKey:
    private: Any
    der: bytes
    fingerprint: str
    valid_from: datetime
    valid_to: datetime

    def sign(self, message: bytes) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        return self.private.sign(message, padding.PKCS1v15(), hashes.SHA256()).hex()


# Kept across POST /moto-api/reset: the keys are the service's, not an account's state (and a
# 2048-bit key per region per test would cost seconds). (region, period) -> key.
_KEYS: dict[tuple[str, int], RegionKey] = {}
_LOCK = threading.Lock()


def _period(when: datetime) -> int:
    return (when - _EPOCH) // ROTATION


def key_for(region: str, when: datetime) -> RegionKey:
    """The key the region signs with at `when`, created on first use."""
    period = _period(when)
    with _LOCK:
        key = _KEYS.get((region, period))
        if key is None:
            key = _new_key(_EPOCH + period * ROTATION)
            _KEYS[(region, period)] = key
        return key


def _new_key(valid_from: datetime) -> RegionKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return RegionKey(private, der, hashlib.md5(der).hexdigest(), valid_from, valid_from + ROTATION)


def list_public_keys(region: str, start: datetime | None, end: datetime | None) -> dict[str, Any]:
    """ListPublicKeys: the region's keys (that signed anything) whose window overlaps [start, end];
    without a range, the current key ("If StartTime and EndTime are not specified, returns only the
    current public key")."""
    now = datetime.now(timezone.utc)
    start = start or now
    end = end or now
    with _LOCK:
        keys = [k for (r, _), k in sorted(_KEYS.items(), key=lambda item: item[0]) if r == region and k.valid_from <= end and k.valid_to >= start]
        return {
            "PublicKeyList": [
                {
                    "Value": base64.b64encode(k.der).decode(),
                    "ValidityStartTime": k.valid_from.timestamp(),
                    "ValidityEndTime": k.valid_to.timestamp(),
                    "Fingerprint": k.fingerprint,
                }
                for k in keys
            ]
        }

