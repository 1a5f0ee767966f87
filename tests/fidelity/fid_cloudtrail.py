"""CloudTrail trails as AWS keeps them (patches a, b, e, f; docs/emulator.md): CreateTrail is no
upsert, members see the organization's trails, multi-region reads answer everywhere, DeleteTrail
fails for an unknown trail. Called from moto_fidelity.apply().
"""

from __future__ import annotations

import json
from typing import Any, Callable


# CloudTrail backend methods that act on one trail, with the argument naming it (a name or an ARN).
TRAIL_READS = [
    ("get_trail_status", "name"),
    ("get_event_selectors", "trail_name"),
    ("get_insight_selectors", "trail_name"),
]
TRAIL_WRITES = [
    ("start_logging", "name"),
    ("stop_logging", "name"),
    ("delete_trail", "name"),
    ("update_trail", "name"),
    ("put_event_selectors", "trail_name"),
    ("put_insight_selectors", "trail_name"),
]


def apply(enabled: Callable[[str], bool]) -> None:
    from moto.cloudtrail import models, responses
    from moto.cloudtrail.exceptions import TrailNotFoundException
    from moto.core.exceptions import JsonRESTError
    from moto.organizations.models import organizations_backends

    class TrailAlreadyExistsException(JsonRESTError):
        code = 400

        def __init__(self, name: str, account_id: str):
            super().__init__("TrailAlreadyExistsException", f"Trail {name} already exists for customer: {account_id}")

    class NotOrganizationMasterAccountException(JsonRESTError):
        code = 400

        def __init__(self, account_id: str, arn: str):
            super().__init__(
                "NotOrganizationMasterAccountException",
                f"Account {account_id} is not the management account of the organization that owns {arn}: "
                "only the management account (or a CloudTrail delegated administrator) can change an organization trail.",
            )

    Backend = models.CloudTrailBackend
    backends = models.cloudtrail_backends

    def account_trails(account_id: str) -> list[Any]:
        return [t for b in backends[account_id].values() for t in b.trails.values()]

    def org_trails_seen_by(self: Any) -> list[Any]:
        """(b) The organization trails a member account sees: its management account's, as shadows."""
        owner = organizations_backends.master_accounts.get(self.account_id)
        if owner is None or owner[0] == self.account_id:
            return []
        return [t for t in account_trails(owner[0]) if t.is_org_trail and (t.is_multi_region or t.region_name == self.region_name)]

    def foreign_org_trail(self: Any, name: str | None) -> Any:
        # AWS addresses another account's trail only by its full ARN.
        if not enabled("b"):
            return None
        return next((t for t in org_trails_seen_by(self) if name and t.arn == name), None)

    # (a) CreateTrail is not an upsert: a name already used in this region (its own trail, or the
    # shadow of a multi-region trail homed elsewhere) raises TrailAlreadyExistsException; so does
    # a new multi-region trail named like a single-region trail of another region (its shadow
    # there would take that name).
    original_create = Backend.create_trail

    def create_trail(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        # moto's CloudTrailResponse passes (bucket_name, s3_key_prefix, sns_topic_name, is_global,
        # is_multi_region, ...) positionally after the name.
        multi_region = bool(kwargs.get("is_multi_region", args[4] if len(args) > 4 else False))
        for t in account_trails(self.account_id):
            if t.trail_name == name and (t.region_name == self.region_name or t.is_multi_region or multi_region):
                raise TrailAlreadyExistsException(name, self.account_id)
        return original_create(self, name, *args, **kwargs)

    if enabled("a"):
        Backend.create_trail = create_trail

    # (b) DescribeTrails with shadow trails (the default) includes the organization's trails.
    original_describe = Backend.describe_trails

    def describe_trails(self: Any, include_shadow_trails: bool) -> Any:
        own = list(original_describe(self, include_shadow_trails))
        return own + org_trails_seen_by(self) if include_shadow_trails else own

    if enabled("b"):
        Backend.describe_trails = describe_trails

    # (b) GetTrailStatus: a member reads the organization trail's status by its ARN. moto's own
    # lookup walks describe_trails, which now holds foreign trails, so it is re-done here to keep
    # bare names bound to the caller's own trails.
    def get_trail_status(self: Any, name: str) -> Any:
        foreign = foreign_org_trail(self, name)
        if foreign is not None:
            return foreign.status
        own = [t for t in original_describe(self, True) if t.trail_name == name or t.arn == name]
        if own:
            return own[0].status
        arn = name if name.startswith("arn:") else f"arn:aws:cloudtrail:{self.region_name}:{self.account_id}:trail/{name}"
        raise TrailNotFoundException(account_id=self.account_id, name=arn)

    if enabled("b"):
        Backend.get_trail_status = get_trail_status

    # (e) Reads of a multi-region trail answer in every region (moto: only in the home region),
    # and GetEventSelectors / GetTrail by ARN answer for the organization trail in a member (b).
    original_get = Backend.get_trail

    def read_trail(self: Any, name: str) -> Any:
        try:
            return original_get(self, name)
        except TrailNotFoundException:
            foreign = foreign_org_trail(self, name)
            if foreign is not None:
                return foreign
            for t in account_trails(self.account_id) if enabled("e") else []:
                if t.is_multi_region and (t.arn == name or t.trail_name == name):
                    return t
            raise

    def get_event_selectors(self: Any, trail_name: str) -> Any:
        trail = read_trail(self, trail_name)
        selectors, advanced = trail.get_event_selectors()
        return trail.arn, selectors, advanced

    def get_insight_selectors(self: Any, trail_name: str) -> Any:
        trail = read_trail(self, trail_name)
        return trail.arn, trail.get_insight_selectors()

    if enabled("b") or enabled("e"):
        Backend.get_event_selectors = get_event_selectors
        Backend.get_insight_selectors = get_insight_selectors

    def get_trail_response(self: Any) -> str:
        trail = read_trail(self.cloudtrail_backend, self._get_param("Name"))
        return json.dumps({"Trail": trail.description(include_region=True)})

    if enabled("b") or enabled("e"):
        responses.CloudTrailResponse.get_trail = get_trail_response

    # (b) A member cannot change or stop the organization trail: AWS answers
    # NotOrganizationMasterAccountException. (f) DeleteTrail takes a name or an ARN and raises
    # TrailNotFoundException for an unknown trail (moto: silently succeeds, by name only).
    def guarded(method_name: str, arg: str) -> None:
        original = getattr(Backend, method_name)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            name = kwargs.get(arg, args[0] if args else None)
            if foreign_org_trail(self, name) is not None:
                raise NotOrganizationMasterAccountException(self.account_id, name)
            return original(self, *args, **kwargs)

        setattr(Backend, method_name, wrapper)

    def delete_trail(self: Any, name: str) -> None:
        trail = original_get(self, name)
        del self.trails[trail.trail_name]

    if enabled("f"):
        Backend.delete_trail = delete_trail
    for method, arg in [] if not enabled("b") else TRAIL_WRITES:
        guarded(method, arg)
