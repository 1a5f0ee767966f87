"""CloudTrail ListTrails (patch l) -- owned by the legacy-trail search (docs/design.md,
"Legacy-trail search: what ListTrails returns"). Kept apart from fid_cloudtrail.py.
"""

from __future__ import annotations

from typing import Any

from fid_regions import OPT_IN_REGIONS


def apply() -> None:
    """(l) ListTrails names every trail of the calling account, whatever region it is homed in,
    each with its HomeRegion (AWS API reference: "Lists trails that are in the current account";
    "Returns the name, ARN, and home Region of trails in the current account"). moto 5.2.5 answers
    with DescribeTrails' set instead: the account's multi-region trails and only the called
    region's single-region ones.

    Where AWS's documentation is silent the layer takes the stricter reading a tool must survive:
    a trail homed in an opt-in region is listed only when ListTrails is called in that region.
    The organization's trails seen by a member (patch b) are listed as DescribeTrails lists them.
    """
    from moto.cloudtrail import models

    Backend = models.CloudTrailBackend

    def list_trails(self: Any) -> list[Any]:
        own = [
            t
            for backend in models.cloudtrail_backends[self.account_id].values()
            for t in backend.trails.values()
            if t.region_name not in OPT_IN_REGIONS or t.region_name == self.region_name
        ]
        foreign = [t for t in self.describe_trails(include_shadow_trails=True) if t.account_id != self.account_id]
        return own + foreign

    Backend.list_trails = list_trails
