"""AWS behaviours that moto 5.2.5 lacks, patched into its backends for orgtrail's tests.

Each patch makes the emulator behave like AWS where moto's difference would hide a bug in orgtrail
(docs/emulator.md lists them, why, and the test that proves each is active). `apply()` is
idempotent and must run before moto's server handles its first request (run_moto.py does it).
Patches replace methods on moto's classes, so they hold for backends created later, per account.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

PATCHED = False

# Patch letters (docs/emulator.md) to leave out, e.g. ORGTRAIL_MOTO_FIDELITY_SKIP=a,f: shows that the
# test named for a patch fails without it, the others still applied.
SKIP = {p.strip() for p in os.environ.get("ORGTRAIL_MOTO_FIDELITY_SKIP", "").split(",") if p.strip()}


def enabled(patch: str) -> bool:
    return patch not in SKIP

# ---------------------------------------------------------------------------------------------
# CloudTrail
# ---------------------------------------------------------------------------------------------

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


def _cloudtrail() -> None:
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


# ---------------------------------------------------------------------------------------------
# S3: MFA Delete
# ---------------------------------------------------------------------------------------------


def _s3_error(status: int, code: str, message: str, bucket: str) -> tuple[int, dict[str, str], str]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message><BucketName>{bucket}</BucketName>"
        "<RequestId>fidelity</RequestId><HostId>fidelity</HostId></Error>"
    )
    return status, {"content-type": "application/xml"}, body


MFA_REQUIRED = "Mfa Authentication must be used for this request"
MFA_WITH_LIFECYCLE = (
    "Mfa Authentication is not supported on a bucket with lifecycle configuration. "
    "Delete lifecycle configuration before enabling Mfa Authentication."
)
LIFECYCLE_WITH_MFA = "Lifecycle configuration is not supported on a bucket with MFA Delete enabled."


def _s3() -> None:
    from moto.s3 import responses

    Response = responses.S3Response
    original_put = Response._bucket_response_put

    def bucket_put(self: Any, request: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
        if "versioning" in querystring:
            return put_versioning(self, request, bucket_name, querystring)
        if "lifecycle" in querystring and enabled("d"):
            bucket = self.backend.get_bucket(bucket_name)
            # (d) S3 does not support lifecycle rules on a bucket with MFA Delete enabled.
            if getattr(bucket, "fidelity_mfa_delete", None) == "Enabled":
                return _s3_error(409, "InvalidBucketState", LIFECYCLE_WITH_MFA, bucket_name)
        return original_put(self, request, bucket_name, querystring)

    def put_versioning(self: Any, request: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
        body = self.body.decode("utf-8") if isinstance(self.body, bytes) else (self.body or "")
        wanted = re.search(r"<MfaDelete>\s*([A-Za-z]+)\s*</MfaDelete>", body)
        bucket = self.backend.get_bucket(bucket_name)
        current = getattr(bucket, "fidelity_mfa_delete", None)
        mfa = request.headers.get("x-amz-mfa")
        # (c) Changing MFA Delete, or any versioning change once it is on, needs the x-amz-mfa header.
        if enabled("c") and (wanted or current == "Enabled") and not mfa:
            return _s3_error(403, "AccessDenied", MFA_REQUIRED, bucket_name)
        if mfa is not None and len(mfa.split()) != 2:
            return _s3_error(
                400, "InvalidArgument", "Mfa header is invalid -- the header should be formatted as {serialNumber}(space){tokenCode}", bucket_name
            )
        # (d) ... and likewise MFA Delete cannot be enabled while lifecycle rules exist.
        if enabled("d") and wanted and wanted.group(1) == "Enabled" and getattr(bucket, "rules", None):
            return _s3_error(409, "InvalidBucketState", MFA_WITH_LIFECYCLE, bucket_name)
        result = original_put(self, request, bucket_name, querystring)
        if wanted and enabled("c"):
            bucket.fidelity_mfa_delete = wanted.group(1)
        return result

    def get_versioning(self: Any) -> Any:
        # Rendered here: moto's serializer names the root element GetBucketVersioningResponse,
        # which the Rust SDK rejects (AWS: VersioningConfiguration), and it drops MfaDelete.
        bucket = self.backend.get_bucket(self.bucket_name)
        parts = []
        if bucket.versioning_status:
            parts.append(f"<Status>{bucket.versioning_status}</Status>")
        mfa = getattr(bucket, "fidelity_mfa_delete", None)
        if mfa:
            parts.append(f"<MfaDelete>{mfa}</MfaDelete>")
        self.data["Action"] = "GetBucketVersioning"
        body = '<?xml version="1.0" encoding="UTF-8"?>\n<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' + "".join(parts) + "</VersioningConfiguration>"
        return 200, {"content-type": "application/xml"}, body

    Response._bucket_response_put = bucket_put
    if enabled("c'"):
        Response.get_bucket_versioning = get_versioning


# ---------------------------------------------------------------------------------------------
# Account: ListRegions (not implemented by moto 5.2.5)
# ---------------------------------------------------------------------------------------------

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


def _account() -> None:
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


# ---------------------------------------------------------------------------------------------
# Detection (issue 15): Insights selectors, CloudWatch Logs KMS association, SCP policy type
# ---------------------------------------------------------------------------------------------


def _detection() -> None:
    """(insights-replace) PutInsightSelectors replaces the trail's selectors (moto appends, so a
    repaired drift would pile up duplicates). (logs-associate-kms) AssociateKmsKey and
    DisassociateKmsKey exist (moto lacks them; the KMS drift of a log group could not be repaired).
    (scp-type-enabled) AttachPolicy of an SCP answers PolicyTypeNotEnabledException while the
    SERVICE_CONTROL_POLICY type is off on the root (moto attaches anyway, hiding a missing
    EnablePolicyType)."""
    from moto.cloudtrail import models as ct_models
    from moto.logs import responses as logs_responses
    from moto.logs.exceptions import ResourceNotFoundException
    from moto.organizations.exceptions import PolicyTypeNotEnabledException

    if enabled("insights-replace"):
        def put_insight_selectors(self: Any, insight_selectors: list[dict[str, str]]) -> None:
            self.insight_selectors = list(insight_selectors)

        ct_models.Trail.put_insight_selectors = put_insight_selectors

    if enabled("logs-associate-kms"):
        def group(self: Any) -> Any:
            name = self._get_param("logGroupName")
            found = self.logs_backend.groups.get(name)
            if found is None:
                raise ResourceNotFoundException()
            return found

        def associate_kms_key(self: Any) -> str:
            group(self).kms_key_id = self._get_param("kmsKeyId")
            return ""

        def disassociate_kms_key(self: Any) -> str:
            group(self).kms_key_id = None
            return ""

        logs_responses.LogsResponse.associate_kms_key = associate_kms_key
        logs_responses.LogsResponse.disassociate_kms_key = disassociate_kms_key

    if enabled("scp-type-enabled"):
        # On the API only: moto's CreateOrganization attaches FullAWSAccess through the backend.
        from moto.organizations import responses as org_responses

        original_attach = org_responses.OrganizationsResponse.attach_policy

        def attach_policy(self: Any) -> str:
            backend = self.organizations_backend
            policy = backend.get_policy_by_id(self.request_params["PolicyId"])
            if policy.type == "SERVICE_CONTROL_POLICY":
                root = next((ou for ou in backend.ou if getattr(ou, "type", "") == "ROOT"), None)
                types = getattr(root, "policy_types", [])
                if not any(t.get("Type") == "SERVICE_CONTROL_POLICY" and t.get("Status") == "ENABLED" for t in types):
                    raise PolicyTypeNotEnabledException()
            return original_attach(self)

        org_responses.OrganizationsResponse.attach_policy = attach_policy
# =============================================================================================
# CloudTrail ListTrails (patch l) -- owned by the legacy-trail search (docs/design.md,
# "Legacy-trail search: what ListTrails returns"). Kept apart from the CloudTrail section above.
# =============================================================================================


def _list_trails() -> None:
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


# ---------------------------------------------------------------------------------------------
# CloudTrail delegated administrators (issue 17): patches h, i, j and the per-account request log
# ---------------------------------------------------------------------------------------------

CLOUDTRAIL_PRINCIPAL = "cloudtrail.amazonaws.com"
# AWS allows at most three CloudTrail delegated administrators per organization.
MAX_CLOUDTRAIL_ADMINS = 3


def _error(code: str, message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    class FidelityError(JsonRESTError):
        pass

    err = FidelityError(code, message)
    err.code = 400
    return err


def _management_of(account: str) -> tuple[str, str] | None:
    """(management account, partition) of the organization `account` belongs to, or None."""
    from moto.organizations.models import organizations_backends

    for partition in ("aws", "aws-us-gov", "aws-cn"):
        if organizations_backends[account][partition].org is not None:
            return account, partition
    return organizations_backends.master_accounts.get(account)


def _org_backend_of(account: str) -> Any:
    from moto.organizations.models import organizations_backends

    owner = _management_of(account)
    return organizations_backends[owner[0]][owner[1]] if owner else None


def _cloudtrail_admins(org_backend: Any) -> list[str]:
    return [a.account.id for a in org_backend.admins if CLOUDTRAIL_PRINCIPAL in a.services]


def is_delegated_admin(account: str, service: str | None = None) -> bool:
    """Whether `account` is a registered delegated administrator (of `service`, or of any service)."""
    ob = _org_backend_of(account)
    if ob is None or ob.account_id == account:
        return False
    return any(a.account.id == account and (bool(a.services) if service is None else service in a.services) for a in ob.admins)


def _cloudtrail_delegation() -> None:
    """(h) CloudTrail RegisterOrganizationDelegatedAdmin / DeregisterOrganizationDelegatedAdmin.

    moto 5.2.5 answers both with HTTP 500. AWS: only the management account calls them, trusted
    access for CloudTrail must be on, at most three administrators; registering records the
    Organizations delegated administrator for cloudtrail.amazonaws.com (ListDelegatedAdministrators
    shows it). Errors as the CloudTrail API reference documents them.
    """
    from moto.cloudtrail import responses
    from moto.organizations.models import FakeDelegatedAdministrator, organizations_backends
    from moto.core.utils import unix_time

    if CLOUDTRAIL_PRINCIPAL not in FakeDelegatedAdministrator.SUPPORTED_SERVICES:
        FakeDelegatedAdministrator.SUPPORTED_SERVICES.append(CLOUDTRAIL_PRINCIPAL)

    def management_backend(caller: str) -> Any:
        for partition in ("aws", "aws-us-gov", "aws-cn"):
            ob = organizations_backends[caller][partition]
            if ob.org is not None:
                if not any(s["ServicePrincipal"] == CLOUDTRAIL_PRINCIPAL for s in ob.services):
                    raise _error(
                        "CloudTrailAccessNotEnabledException",
                        "You must enable trusted access for CloudTrail in AWS Organizations before you can register a delegated administrator.",
                    )
                return ob
        if caller in organizations_backends.master_accounts:
            raise _error(
                "NotOrganizationManagementAccountException",
                f"Account {caller} is not the management account of its organization: only the management account can change CloudTrail delegated administrators.",
            )
        raise _error("OrganizationsNotInUseException", f"Account {caller} is not in an organization.")

    def member_of(ob: Any, account: str) -> Any:
        found = next((a for a in ob.accounts if a.id == account), None)
        if found is None:
            raise _error("AccountNotFoundException", f"Account {account} is not found or not part of the organization.")
        return found

    def register(self: Any) -> str:
        member = self._get_param("MemberAccountId")
        ob = management_backend(self.current_account)
        if member == ob.account_id:
            raise _error("CannotDelegateManagementAccountException", "You cannot register the management account as a CloudTrail delegated administrator.")
        account = member_of(ob, member)
        admins = _cloudtrail_admins(ob)
        if member in admins:
            raise _error("AccountRegisteredException", f"Account {member} is already registered as the CloudTrail delegated administrator.")
        if len(admins) >= MAX_CLOUDTRAIL_ADMINS:
            raise _error(
                "DelegatedAdminAccountLimitExceededException",
                f"The organization already has the maximum of {MAX_CLOUDTRAIL_ADMINS} CloudTrail delegated administrators.",
            )
        admin = next((a for a in ob.admins if a.account.id == member), None)
        if admin is None:
            admin = FakeDelegatedAdministrator(account)
            ob.admins.append(admin)
        admin.services[CLOUDTRAIL_PRINCIPAL] = {"ServicePrincipal": CLOUDTRAIL_PRINCIPAL, "DelegationEnabledDate": unix_time()}
        return "{}"

    def deregister(self: Any) -> str:
        member = self._get_param("DelegatedAdminAccountId")
        ob = management_backend(self.current_account)
        member_of(ob, member)
        admin = next((a for a in ob.admins if a.account.id == member and CLOUDTRAIL_PRINCIPAL in a.services), None)
        if admin is None:
            raise _error("AccountNotRegisteredException", f"Account {member} is not registered as the CloudTrail delegated administrator.")
        admin.services.pop(CLOUDTRAIL_PRINCIPAL)
        if not admin.services:
            ob.admins.remove(admin)
        return "{}"

    responses.CloudTrailResponse.register_organization_delegated_admin = register
    responses.CloudTrailResponse.deregister_organization_delegated_admin = deregister


def _cloudtrail_delegated_trails() -> None:
    """(i) Organization trails of a CloudTrail delegated administrator.

    CreateTrail with IsOrganizationTrail from a registered delegated administrator creates the trail
    in the management account (its ARN carries the management account id); the administrator then
    reads and changes it by that ARN only (a bare name means its own trails: TrailNotFoundException).
    From a member that is not registered, CreateTrail of an organization trail fails with
    NotOrganizationMasterAccountException (and so do changes by ARN: patch b). moto 5.2.5 creates
    the trail in the caller's own account, as a trail of nobody's organization.
    """
    from moto.cloudtrail import models

    Backend = models.CloudTrailBackend
    backends = models.cloudtrail_backends

    def delegated_target(self: Any, name: Any) -> Any:
        """The management account's organization trail `name` (an ARN) when the caller administers it."""
        if not isinstance(name, str) or not name.startswith("arn:") or not is_delegated_admin(self.account_id, CLOUDTRAIL_PRINCIPAL):
            return None
        owner = _management_of(self.account_id)[0]
        return next((t for b in backends[owner].values() for t in b.trails.values() if t.is_org_trail and t.arn == name), None)

    original_create = Backend.create_trail

    def create_trail(self: Any, *args: Any, **kwargs: Any) -> Any:
        # moto's CloudTrailResponse passes (name, bucket_name, s3_key_prefix, sns_topic_name,
        # is_global, is_multi_region, log_validation, is_org_trail, ...) positionally.
        is_org_trail = kwargs.get("is_org_trail", args[7] if len(args) > 7 else False)
        owner = _management_of(self.account_id)
        if is_org_trail and owner and owner[0] != self.account_id:
            if not is_delegated_admin(self.account_id, CLOUDTRAIL_PRINCIPAL):
                raise _error(
                    "NotOrganizationMasterAccountException",
                    f"Account {self.account_id} is not the management account (nor a CloudTrail delegated administrator) of its organization: it cannot create an organization trail.",
                )
            return original_create(backends[owner[0]][self.region_name], *args, **kwargs)
        return original_create(self, *args, **kwargs)

    Backend.create_trail = create_trail

    def redirected(method_name: str, arg: str) -> None:
        original = getattr(Backend, method_name)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            trail = delegated_target(self, kwargs.get(arg, args[0] if args else None))
            if trail is not None:
                return original(backends[trail.account_id][self.region_name], *args, **kwargs)
            return original(self, *args, **kwargs)

        setattr(Backend, method_name, wrapper)

    for method, arg in TRAIL_READS + TRAIL_WRITES:
        redirected(method, arg)


# Organizations read operations AWS answers for the management account and for any delegated
# administrator (of any service), and refuses to other members.
ORGANIZATIONS_READS = {
    "ListRoots", "ListOrganizationalUnitsForParent", "ListAccounts", "ListAccountsForParent",
    "ListTagsForResource", "DescribeAccount", "DescribeOrganizationalUnit", "ListParents", "ListChildren",
    "ListAWSServiceAccessForOrganization", "ListDelegatedAdministrators", "ListDelegatedServicesForAccount",
    "ListPolicies", "ListPoliciesForTarget", "ListTargetsForPolicy", "DescribePolicy",
    "ListCreateAccountStatus", "DescribeCreateAccountStatus", "ListHandshakesForOrganization",
}


def _organizations_reads() -> None:
    """(j) Organizations reads from a member: a delegated administrator gets the organization's
    answer; any other member AccessDeniedException. moto 5.2.5 answers a member from its own
    empty backend (ListAccounts: none; ListOrganizationalUnitsForParent: ParentNotFoundException),
    so discovery from a delegated administrator could not work, nor be refused.
    """
    from moto.organizations import responses
    from moto.organizations.models import organizations_backends

    def organizations_backend(self: Any) -> Any:
        own = organizations_backends[self.current_account][self.partition]
        if own.org is not None or self._get_action() not in ORGANIZATIONS_READS:
            return own
        owner = organizations_backends.master_accounts.get(self.current_account)
        if owner is None:
            return own
        if is_delegated_admin(self.current_account):
            return organizations_backends[owner[0]][owner[1]]
        raise _error("AccessDeniedException", "You don't have permissions to access this resource.")

    responses.OrganizationsResponse.organizations_backend = property(organizations_backend)


# account id -> "service.Operation" -> requests signed with that account's credentials (by the
# access key's owner, as moto resolves it: unknown keys count for moto's default account, the
# sandbox's management account). GET /moto-api/fidelity/requests returns it as JSON.
REQUESTS: dict[str, dict[str, int]] = {}


def _request_log() -> None:
    """Counts requests per account whose credentials signed them, outside the tool under test: the
    delegated-administrator test proves no call was made with management-account credentials."""
    import io
    import threading
    from urllib.parse import parse_qs

    from moto.iam.models import get_account_id_from
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    lock = threading.Lock()
    original_call = DomainDispatcherApplication.__call__
    scope = re.compile(r"Credential=([^/,\s]+)/[^/]+/[^/]+/([^/]+)/")

    def operation(environ: dict[str, Any], service: str) -> str:
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            return f"{service}.{target.rsplit('.', 1)[-1]}"
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            action = parse_qs(body.decode("utf-8", "replace")).get("Action")
            if action:
                return f"{service}.{action[0]}"
        query = environ.get("QUERY_STRING", "").split("&", 1)[0].split("=", 1)[0]
        return f"{service}.{environ.get('REQUEST_METHOD', '?')}" + (f"?{query}" if query else "")

    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/moto-api/fidelity/requests":
            with lock:
                body = json.dumps(REQUESTS, sort_keys=True).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        signed = scope.search(environ.get("HTTP_AUTHORIZATION", ""))
        if signed:
            account = get_account_id_from(signed.group(1))
            op = operation(environ, signed.group(2))
            with lock:
                per_account = REQUESTS.setdefault(account, {})
                per_account[op] = per_account.get(op, 0) + 1
        return original_call(self, environ, start_response)

    DomainDispatcherApplication.__call__ = call


def _apply_delegation() -> None:
    if enabled("h"):
        _cloudtrail_delegation()
    if enabled("i"):
        _cloudtrail_delegated_trails()
    if enabled("j"):
        _organizations_reads()
    _request_log()

# ---------------------------------------------------------------------------------------------
# end of the CloudTrail delegated-administrator section
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# CloudTrail delivery topics (patch m) -- the trail's SNS topic by ARN, in any account, and the
# topic policy CreateTrail / UpdateTrail check (docs/design.md, "The delivery topic of a delegated
# administrator's trail").
# ---------------------------------------------------------------------------------------------


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def topic_grants_cloudtrail(policy: dict[str, Any], topic_arn: str, trail_arn: str) -> bool:
    """Whether `policy` has a statement letting the CloudTrail service principal publish to
    `topic_arn` for the trail `trail_arn`. Conditions on aws:SourceArn / aws:SourceAccount are
    evaluated against the trail (whose ARN carries its owner, the management account for an
    organization trail); an Allow with any other condition does not count (stricter reading), and
    an explicit Deny of publishing (to CloudTrail or to everyone) whose conditions hold wins."""
    import fnmatch

    trail_account = trail_arn.split(":")[4]
    allowed = False
    for statement in _listed(policy.get("Statement", [])):
        if not isinstance(statement, dict) or statement.get("Effect") not in ("Allow", "Deny"):
            continue
        deny = statement["Effect"] == "Deny"
        principal = statement.get("Principal")
        # A Deny counts for CloudTrail when it names it or everyone ("*", {"AWS": "*"}).
        everyone = principal == "*" or (isinstance(principal, dict) and "*" in _listed(principal.get("AWS", [])))
        if not (deny and everyone) and (not isinstance(principal, dict) or CLOUDTRAIL_PRINCIPAL not in _listed(principal.get("Service", []))):
            continue
        if not any(str(a).lower() in ("sns:publish", "sns:*", "*") for a in _listed(statement.get("Action", []))):
            continue
        if not any(fnmatch.fnmatchcase(topic_arn, str(r)) for r in _listed(statement.get("Resource", []))):
            continue
        holds = all(
            _condition_holds(op, key, values, trail_arn, trail_account)
            for op, keys in (statement.get("Condition") or {}).items()
            for key, values in keys.items()
        )
        if holds and deny:
            return False  # an explicit Deny wins over any Allow
        allowed = allowed or holds
    return allowed


def _condition_holds(op: str, key: str, values: Any, trail_arn: str, trail_account: str) -> bool:
    import fnmatch

    actual = {"aws:sourcearn": trail_arn, "aws:sourceaccount": trail_account}.get(key.lower())
    base = op[: -len("IfExists")] if op.endswith("IfExists") else op
    if actual is None:
        return False
    if base in ("StringEquals", "ArnEquals"):
        return actual in _listed(values)
    if base in ("StringLike", "ArnLike"):
        return any(fnmatch.fnmatchcase(actual, str(v)) for v in _listed(values))
    return False


def _cloudtrail_topics() -> None:
    """(m) CreateTrail / UpdateTrail take SnsTopicName as "the name or ARN of the Amazon SNS topic";
    an ARN may name a topic of another account or region ("You can also enter the ARN of a topic
    from another Region or from an account with appropriate permissions", CloudTrail User Guide),
    and the trail reports that ARN as SnsTopicARN. The topic must exist and its policy must let
    CloudTrail publish for this trail, else InsufficientSnsTopicPolicyException (the error the API
    reference lists for both calls; how CloudTrail evaluates the policy is not documented: the
    stricter reading above). moto 5.2.5 builds the topic ARN from the trail's own account and
    region (an ARN given becomes "arn:...:sns:REGION:ACCOUNT:arn:aws:sns:..." and CreateTrail
    fails), ignores the policy, and UpdateTrail checks nothing.
    """
    from moto.cloudtrail import models
    from moto.cloudtrail.exceptions import InsufficientSnsTopicPolicyException
    from moto.sns.models import sns_backends

    Trail = models.Trail

    def topic_arn_of(trail: Any, name: str | None) -> str | None:
        if not name:
            return None
        if name.startswith("arn:"):
            return name
        return f"arn:{trail.partition}:sns:{trail.region_name}:{trail.account_id}:{name}"

    def check(trail: Any, name: str | None) -> None:
        arn = topic_arn_of(trail, name)
        if arn is None:
            return
        parts = arn.split(":")
        topic = None
        if len(parts) == 6 and parts[2] == "sns":
            topic = sns_backends[parts[4]][parts[3]].topics.get(arn)
        if topic is None:
            raise InsufficientSnsTopicPolicyException(f"SNS Topic {arn} does not exist or the topic policy is incorrect!")
        if not topic_grants_cloudtrail(topic._policy_json, arn, trail.arn):
            raise InsufficientSnsTopicPolicyException(
                f"Insufficient permissions to publish to SNS topic {arn}: its policy must let {CLOUDTRAIL_PRINCIPAL} "
                f"publish for {trail.arn} (aws:SourceArn)."
            )

    original_update = Trail.update
    original_description = Trail.description

    def update(self: Any, *args: Any, **kwargs: Any) -> None:
        check(self, kwargs.get("sns_topic_name"))
        original_update(self, *args, **kwargs)

    def description(self: Any, include_region: bool = False) -> dict[str, Any]:
        desc = original_description(self, include_region)
        if desc.get("SnsTopicName", "").startswith("arn:"):
            desc["SnsTopicName"] = desc["SnsTopicName"].rsplit(":", 1)[-1]
        return desc

    Trail.topic_arn = property(lambda self: topic_arn_of(self, self.sns_topic_name))
    Trail.check_topic_exists = lambda self: check(self, self.sns_topic_name)
    Trail.update = update
    Trail.description = description


def apply() -> None:
    global PATCHED
    if PATCHED:
        return
    _cloudtrail()
    _s3()
    if enabled("g"):
        _account()
    _detection()
    if enabled("l"):
        _list_trails()
    _reset_hook()
    _apply_delegation()
    if enabled("m"):
        _cloudtrail_topics()
    __import__("iam").apply(enabled)  # roles, trust policies, the principal log (tests/fidelity/iam.py)
    __import__("strict").apply()  # tests/fidelity/strict.py: stricter readings, wrapping the patches above
    __import__("request_order").apply()
    __import__("delivery").apply(enabled, enabled_regions)
    __import__("securityhub").apply(enabled)
    PATCHED = True
