"""Account API ListRegions / EnableRegion (patch g; not implemented by moto 5.2.5) and the regions
enabled per account. ENABLED_OPT_IN is mutated in place only: the reset hook clears this object.
"""

from __future__ import annotations

import json
import os
from typing import Any

from fid_org import _error, _management_of, is_delegated_admin


# Regions enabled by default in every AWS account; the others are opt-in (AWS Account API).
DEFAULT_REGIONS = {
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
    "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "eu-central-1", "eu-west-1",
    "eu-west-2", "eu-west-3", "eu-north-1", "sa-east-1",
}
OPT_IN_REGIONS = {
    "af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
    "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1",
    "me-central-1", "me-south-1", "mx-central-1",
}
# account id -> opt-in region -> when EnableRegion was called (time.monotonic())
ENABLED_OPT_IN: dict[str, dict[str, float]] = {}
# "It can take several minutes" (Account API, EnableRegion): the region reads ENABLING this long.
REGION_ENABLING_SECONDS = float(os.environ.get("ORGTRAIL_MOTO_REGION_ENABLING_SECONDS", "1.0"))
ACCOUNT_ADMIN_PRINCIPAL = "account.amazonaws.com"


def enabled_regions(account: str) -> set[str]:
    """The regions enabled for `account` now: the default ones and the opt-in ones done ENABLING."""
    import time

    return DEFAULT_REGIONS | {r for r, since in ENABLED_OPT_IN.get(account, {}).items() if time.monotonic() - since >= REGION_ENABLING_SECONDS}


def apply() -> None:
    from moto.account import responses, urls

    import time

    Response = responses.AccountResponse

    def status(account: str, region: str) -> str:
        if region in DEFAULT_REGIONS:
            return "ENABLED_BY_DEFAULT"
        since = ENABLED_OPT_IN.get(account, {}).get(region)
        if since is None:
            return "DISABLED"
        return "ENABLED" if time.monotonic() - since >= REGION_ENABLING_SECONDS else "ENABLING"

    def target_account(self: Any, params: dict[str, Any]) -> str:
        """AccountId names another account only for "an identity in the organization's management
        account or a delegated administrator account" (Account API reference); else AccessDenied."""
        caller = self.current_account
        account = params.get("AccountId") or caller
        if account == caller:
            return account
        owner = _management_of(account)
        if owner is None or _management_of(caller) != owner or (caller != owner[0] and not is_delegated_admin(caller, ACCOUNT_ADMIN_PRINCIPAL)):
            raise _error("AccessDeniedException", f"Account {caller} may not act for account {account}: only its organization's management account or an Account Management delegated administrator can.")
        return account

    def list_regions(self: Any) -> str:
        params = json.loads(self.body or "{}")
        account = target_account(self, params)
        wanted = set(params.get("RegionOptStatusContains") or [])
        regions = [
            {"RegionName": r, "RegionOptStatus": status(account, r)}
            for r in sorted(DEFAULT_REGIONS | OPT_IN_REGIONS)
            if not wanted or status(account, r) in wanted
        ]
        start = int(params.get("NextToken") or 0)
        size = int(params.get("MaxResults") or 20)
        page = {"Regions": regions[start : start + size]}
        if start + size < len(regions):
            page["NextToken"] = str(start + size)
        return json.dumps(page)

    def enable_region(self: Any) -> str:
        params = json.loads(self.body or "{}")
        account = target_account(self, params)
        ENABLED_OPT_IN.setdefault(account, {}).setdefault(params["RegionName"], time.monotonic())
        return "{}"

    Response.list_regions = list_regions
    Response.enable_region = enable_region
    urls.url_paths["{0}/listRegions$"] = Response.dispatch
    urls.url_paths["{0}/enableRegion$"] = Response.dispatch
