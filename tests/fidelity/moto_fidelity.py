"""AWS behaviours that moto 5.2.5 lacks, patched into its backends for orgtrail's tests.

Each patch makes the emulator behave like AWS where moto's difference would hide a bug in orgtrail
(docs/emulator.md lists them, why, and the test that proves each is active). `apply()` is
idempotent and must run before moto's server handles its first request (run_moto.py does it).
Patches replace methods on moto's classes, so they hold for backends created later, per account.
Each section lives in a module of its own (fid_*.py, iam.py, strict.py, delivery/, ...); this
module decides which run, in which order.
"""

from __future__ import annotations

import os
from typing import Any

import fid_cloudtrail
import fid_delegation
import fid_detection
import fid_list_trails
import fid_regions
import fid_s3_mfa
import fid_topics

# Re-exported: strict.py and others read these as moto_fidelity.NAME (one object each, never rebound).
from fid_cloudtrail import TRAIL_READS, TRAIL_WRITES  # noqa: F401
from fid_delegation import ORGANIZATIONS_READS, REQUESTS  # noqa: F401
from fid_org import (  # noqa: F401
    CLOUDTRAIL_PRINCIPAL,
    MAX_CLOUDTRAIL_ADMINS,
    _cloudtrail_admins,
    _error,
    _management_of,
    _org_backend_of,
    is_delegated_admin,
)
from fid_regions import (  # noqa: F401
    ACCOUNT_ADMIN_PRINCIPAL,
    DEFAULT_REGIONS,
    ENABLED_OPT_IN,
    OPT_IN_REGIONS,
    REGION_ENABLING_SECONDS,
    enabled_regions,
)
from fid_s3_mfa import LIFECYCLE_WITH_MFA, MFA_REQUIRED, MFA_WITH_LIFECYCLE, _s3_error  # noqa: F401
from fid_topics import _condition_holds, _listed, topic_grants_cloudtrail  # noqa: F401

PATCHED = False

# Patch letters (docs/emulator.md) to leave out, e.g. ORGTRAIL_MOTO_FIDELITY_SKIP=a,f: shows that the
# test named for a patch fails without it, the others still applied.
SKIP = {p.strip() for p in os.environ.get("ORGTRAIL_MOTO_FIDELITY_SKIP", "").split(",") if p.strip()}


def enabled(patch: str) -> bool:
    return patch not in SKIP


def _reset_hook() -> None:
    # POST /moto-api/reset clears moto's backends; clear our side tables with them (the opt-in
    # regions of patch g, the request log of the delegated-administrator section).
    from moto.moto_api._internal import models as api_models

    original_reset = api_models.MotoAPIBackend.reset

    def reset(self: Any) -> None:
        ENABLED_OPT_IN.clear()
        REQUESTS.clear()
        original_reset(self)

    api_models.MotoAPIBackend.reset = reset


def apply() -> None:
    global PATCHED
    if PATCHED:
        return
    fid_cloudtrail.apply(enabled)
    fid_s3_mfa.apply(enabled)
    if enabled("g"):
        fid_regions.apply()
    fid_detection.apply(enabled)
    if enabled("l"):
        fid_list_trails.apply()
    _reset_hook()
    fid_delegation.apply(enabled)
    if enabled("m"):
        fid_topics.apply()
    __import__("iam").apply(enabled)  # roles, trust policies, the principal log (tests/fidelity/iam.py)
    __import__("strict").apply()  # tests/fidelity/strict.py: stricter readings, wrapping the patches above
    __import__("request_order").apply()
    __import__("delivery").apply(enabled, enabled_regions)
    __import__("securityhub").apply(enabled)
    PATCHED = True
