"""CloudTrail's delivery, emulated (docs/emulator.md, "Delivery"): moto 5.2.5 never delivers a log
file, a digest or a CloudWatch Logs event, has no ListPublicKeys, and reports a delivery time that
never happened. `apply()` adds:

- (deliver) `POST /moto-api/fidelity/deliver` (endpoint.py), writing what CloudTrail writes
  (deliver.py: paths.py, records.py, digests.py, keys.py) or refusing where AWS would (refusals.py,
  decided by the pinned IAM policy evaluator);
- (backfill) `POST /moto-api/fidelity/backfill` (backfill.py): a late log file and the backfill
  digest that lists it, signed when generated;
- (trail-status) GetTrailStatus from what was delivered (status.py);
- (public-keys) ListPublicKeys with the emulator's per-region signing keys (keys.py);
- (object-reads) object reads decided by the bucket policy with the caller's context (reads.py), so
  the delivered record can be read back by whom the policy lets read it.

Each can be left out with ORGTRAIL_MOTO_FIDELITY_SKIP (its name in brackets), like the letters of
moto_fidelity.py.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Callable

from . import backfill, digests, endpoint, keys, reads, status


def _public_keys() -> None:
    from moto.cloudtrail import responses

    def when(value: Any) -> datetime | None:
        return datetime.fromtimestamp(float(value), timezone.utc) if value is not None else None

    def list_public_keys(self: Any) -> str:
        params = json.loads(self.body or "{}")
        return json.dumps(keys.list_public_keys(self.region, when(params.get("StartTime")), when(params.get("EndTime"))))

    responses.CloudTrailResponse.list_public_keys = list_public_keys


def _reset_hook() -> None:
    from moto.moto_api._internal import models as api_models

    original_reset = api_models.MotoAPIBackend.reset

    def reset(self: Any) -> None:
        digests.clear()
        original_reset(self)

    api_models.MotoAPIBackend.reset = reset


def apply(enabled: Callable[[str], bool], enabled_regions: Callable[[str], set[str]]) -> None:
    """`enabled(name)`: whether a patch is on; `enabled_regions(account)`: the regions enabled for
    an account (fid_regions.py, the Account API patch g)."""
    if enabled("deliver"):
        endpoint.install(enabled_regions)
        _reset_hook()
    if enabled("backfill"):
        backfill.install(enabled_regions)
    if enabled("trail-status"):
        status.patch()
    if enabled("public-keys"):
        _public_keys()
    if enabled("object-reads"):
        reads.patch()
