"""The emulator's digest-signing keys: one RSA key pair per region, as CloudTrail signs each
region's digests with that region's key ("Custom implementations of CloudTrail log file integrity
validation"). ListPublicKeys returns them as AWS does: `Value` the DER of the PKCS #1 RSAPublicKey
(the AWS CLI's validate-logs loads it with `rsa.PublicKey.load_pkcs1(..., format='DER')`),
`Fingerprint` the hex MD5 of that DER (32 hex digits, as in AWS's digest example), and a validity
window covering every digest the key signed."""

from __future__ import annotations

import base64
import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

ALGORITHM = "SHA256withRSA"
# How long a key stays valid after its first use (AWS rotates its keys; the window only has to cover
# what the key signed).
VALIDITY = timedelta(days=365)


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

    def cover(self, when: datetime) -> None:
        """Widens the validity window to include `when` (a digest signed for that time)."""
        if when < self.valid_from:
            self.valid_from = when
        if when > self.valid_to:
            self.valid_to = when + VALIDITY


# Kept across POST /moto-api/reset: the keys are the service's, not an account's state (and a
# 2048-bit key per region per test would cost seconds).
_KEYS: dict[str, RegionKey] = {}
_LOCK = threading.Lock()


def key_for(region: str, when: datetime) -> RegionKey:
    """The region's key, created on first use, its window widened to cover `when`."""
    with _LOCK:
        key = _KEYS.get(region)
        if key is None:
            key = _new_key(when)
            _KEYS[region] = key
        key.cover(when)
        return key


def _new_key(when: datetime) -> RegionKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return RegionKey(private, der, hashlib.md5(der).hexdigest(), when, when + VALIDITY)


def list_public_keys(region: str, start: datetime | None, end: datetime | None) -> dict[str, Any]:
    """ListPublicKeys: the region's keys whose window overlaps [start, end]; without a range, the
    current key ("If StartTime and EndTime are not specified, returns only the current public key")."""
    now = datetime.now(timezone.utc)
    start = start or now
    end = end or now
    with _LOCK:
        key = _KEYS.get(region)
        keys = [key] if key is not None and key.valid_from <= end and key.valid_to >= start else []
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

