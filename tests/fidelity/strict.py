"""Where AWS refuses what moto 5.2.5 accepts, or where AWS's documentation is silent and the stricter
reading is the one a tool must survive (docs/emulator.md, "Stricter readings"). Applied by
moto_fidelity.apply() after its own patches, so these wrap theirs; each named patch can be left out
with ORGTRAIL_MOTO_FIDELITY_SKIP like the lettered ones:

- member-reads: a member reads the organization trail by ARN only with GetTrailStatus;
- cwl-targets: CreateTrail/UpdateTrail check the CloudWatch Logs group and role (in the calling
  account, existing, a role CloudTrail may assume and IAM has propagated);
- delegated-org-flag: a delegated administrator's UpdateTrail may not carry IsOrganizationTrail;
- logs-kms-check: CreateLogGroup/AssociateKmsKey with a missing or disabled KMS key fail.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import unquote

import moto_fidelity as fidelity

# IAM is eventually consistent: a role made this many seconds ago is not yet assumable by CloudTrail.
IAM_PROPAGATION_SECONDS = float(os.environ.get("ORGTRAIL_MOTO_IAM_PROPAGATION_SECONDS", "1.0"))


def _arn_account(name: Any) -> str | None:
    if isinstance(name, str) and name.startswith("arn:"):
        parts = name.split(":")
        return parts[4] if len(parts) > 5 else None
    return None


def _foreign_arn_refused(caller: str, name: Any) -> Exception | None:
    """The error for a read by the ARN of another account's trail from `caller`, unless `caller` is a
    CloudTrail delegated administrator (who reads the organization trail by ARN)."""
    owner = _arn_account(name)
    if owner is None or owner == caller or fidelity.is_delegated_admin(caller, fidelity.CLOUDTRAIL_PRINCIPAL):
        return None
    return fidelity._error("CloudTrailARNInvalidException", f"AccountID in ARN is wrong, you can only access resources with AccountID {caller}.")


def _member_reads() -> None:
    """(member-reads) AWS documents a member's read of the organization trail by ARN for
    GetTrailStatus only; public evidence on GetEventSelectors is mixed (steampipe-plugin-aws#577
    and cloud-custodian#6394 report CloudTrailARNInvalidException / failures). Patches b and e
    answer GetEventSelectors, GetInsightSelectors and GetTrail by ARN from a member: refused here."""
    from moto.cloudtrail import models, responses

    Backend = models.CloudTrailBackend
    for method, arg in [("get_event_selectors", "trail_name"), ("get_insight_selectors", "trail_name")]:
        original = getattr(Backend, method)

        def wrapper(self: Any, *args: Any, _original: Any = original, _arg: str = arg, **kwargs: Any) -> Any:
            refused = _foreign_arn_refused(self.account_id, kwargs.get(_arg, args[0] if args else None))
            if refused is not None:
                raise refused
            return _original(self, *args, **kwargs)

        setattr(Backend, method, wrapper)

    original_get_trail = responses.CloudTrailResponse.get_trail

    def get_trail(self: Any) -> str:
        refused = _foreign_arn_refused(self.current_account, self._get_param("Name"))
        if refused is not None:
            raise refused
        return original_get_trail(self)

    responses.CloudTrailResponse.get_trail = get_trail


def _policy(document: str) -> dict[str, Any]:
    try:
        return json.loads(document)
    except (TypeError, ValueError):
        try:
            return json.loads(unquote(document))
        except (TypeError, ValueError):
            return {}


def trust_lets_cloudtrail_assume(policy: dict[str, Any], trail_arn: str) -> bool:
    """An Allow statement for cloudtrail.amazonaws.com with sts:AssumeRole whose conditions hold
    for this trail (aws:SourceArn / aws:SourceAccount; any other condition key does not count),
    and no Deny statement naming CloudTrail."""
    trail_account = trail_arn.split(":")[4]
    allowed = False
    for statement in fidelity._listed(policy.get("Statement", [])):
        if not isinstance(statement, dict):
            continue
        principal = statement.get("Principal")
        services = fidelity._listed(principal.get("Service", [])) if isinstance(principal, dict) else ["*"] if principal == "*" else []
        if fidelity.CLOUDTRAIL_PRINCIPAL not in services and "*" not in services:
            continue
        if not any(str(a).lower() in ("sts:assumerole", "sts:*", "*") for a in fidelity._listed(statement.get("Action", []))):
            continue
        holds = all(
            fidelity._condition_holds(op, key, values, trail_arn, trail_account)
            for op, keys in (statement.get("Condition") or {}).items()
            for key, values in keys.items()
        )
        if statement.get("Effect") == "Deny" and holds:
            return False
        if statement.get("Effect") == "Allow" and holds:
            allowed = True
    return allowed


def _trail_arn_for(response: Any, creating: bool) -> str:
    """The trail the call is about: the ARN given (UpdateTrail), else the one CreateTrail makes
    (a delegated administrator's organization trail is the management account's, patch i)."""
    name = response._get_param("Name") or ""
    if name.startswith("arn:"):
        return name
    owner = response.current_account
    if creating and response._get_bool_param("IsOrganizationTrail", False):
        management = fidelity._management_of(owner)
        owner = management[0] if management else owner
    return f"arn:aws:cloudtrail:{response.region}:{owner}:trail/{name}"


def _check_targets(response: Any, creating: bool) -> None:
    """(cwl-targets) "Both the CloudWatch Logs log group and log role must exist in the calling
    account" (CloudTrail User Guide, organization trails of a delegated administrator); a log group
    or role that does not exist, or a role CloudTrail cannot assume, fails with the error the
    CreateTrail/UpdateTrail references document."""
    from moto.core.utils import utcnow
    from moto.iam.models import iam_backends
    from moto.logs.models import logs_backends

    caller = response.current_account
    group = response._get_param("CloudWatchLogsLogGroupArn")
    role = response._get_param("CloudWatchLogsRoleArn")
    if group:
        parts = group.split(":")
        bad = fidelity._error("InvalidCloudWatchLogsLogGroupArnException", f"Access denied. Verify in IAM that the log group {group} exists in account {caller} and that the role has permission to write to it.")
        if len(parts) < 7 or parts[2] != "logs" or parts[5] != "log-group":
            raise fidelity._error("InvalidCloudWatchLogsLogGroupArnException", f"CloudWatch Logs log group ARN {group} is invalid.")
        if parts[4] != caller:
            raise fidelity._error("InvalidCloudWatchLogsLogGroupArnException", f"The log group {group} must exist in the calling account {caller}.")
        if parts[6] not in logs_backends[parts[4]][parts[3]].groups:
            raise bad
    if role:
        parts = role.split(":")
        if len(parts) < 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
            raise fidelity._error("InvalidCloudWatchLogsRoleArnException", f"CloudWatch Logs role ARN {role} is invalid.")
        if parts[4] != caller:
            raise fidelity._error("InvalidCloudWatchLogsRoleArnException", f"The role {role} must exist in the calling account {caller}.")
        found = next((r for r in iam_backends[caller]["global"].roles.values() if r.arn == role), None)
        cannot = fidelity._error("InvalidCloudWatchLogsRoleArnException", f"Access denied. Check the trust relationships for your role {role}.")
        if found is None or not trust_lets_cloudtrail_assume(_policy(found.assume_role_policy_document), _trail_arn_for(response, creating)):
            raise cannot
        if (utcnow() - found.create_date).total_seconds() < IAM_PROPAGATION_SECONDS:
            raise fidelity._error("InvalidCloudWatchLogsRoleArnException", f"Access denied. Check the trust relationships for your role {role} (created moments ago: IAM has not propagated it yet).")


def _trail_writes() -> None:
    from moto.cloudtrail import responses

    Response = responses.CloudTrailResponse
    original_create = Response.create_trail
    original_update = Response.update_trail

    def create_trail(self: Any) -> str:
        if fidelity.enabled("cwl-targets"):
            _check_targets(self, creating=True)
        return original_create(self)

    def update_trail(self: Any) -> str:
        # (delegated-org-flag) "Only the management account for the organization can convert an
        # organization trail to a non-organization trail, or convert a non-organization trail to an
        # organization trail" (UpdateTrail, IsOrganizationTrail): a delegated administrator sending
        # the field at all is refused (the stricter reading: even its current value).
        caller = self.current_account
        if fidelity.enabled("delegated-org-flag") and self._get_param("IsOrganizationTrail") is not None and fidelity.is_delegated_admin(caller, fidelity.CLOUDTRAIL_PRINCIPAL):
            raise fidelity._error("NotOrganizationMasterAccountException", f"Account {caller} is a delegated administrator: only the management account can change IsOrganizationTrail.")
        if fidelity.enabled("cwl-targets"):
            _check_targets(self, creating=False)
        return original_update(self)

    Response.create_trail = create_trail
    Response.update_trail = update_trail


def _logs_kms() -> None:
    """(logs-kms-check) CreateLogGroup and AssociateKmsKey: "If you attempt to associate a KMS key
    with the log group but the KMS key does not exist or the KMS key is disabled, you receive an
    InvalidParameterException error" (CloudWatch Logs API reference)."""
    from moto.kms.models import kms_backends
    from moto.logs import responses
    from moto.logs.exceptions import InvalidParameterException

    def check(response: Any) -> None:
        key = response._get_param("kmsKeyId")
        if not key:
            return
        parts = key.split(":")
        account, region, resource = (parts[4], parts[3], parts[5]) if len(parts) >= 6 and parts[2] == "kms" else (response.current_account, response.region, f"key/{key}")
        backend = kms_backends[account][region]
        key_id = resource[len("key/"):] if resource.startswith("key/") else backend.get_key_id_from_alias(resource) if resource.startswith("alias/") else None
        found = backend.keys.get(key_id) if key_id else None
        if found is None or getattr(found, "key_state", "Enabled") != "Enabled":
            state = "does not exist" if found is None else f"is {found.key_state}"
            raise InvalidParameterException(msg=f"The specified KMS key {key} {state}: a log group's key must exist and be enabled.")

    for method in ("create_log_group", "associate_kms_key"):
        original = getattr(responses.LogsResponse, method, None)
        if original is None:
            continue

        def wrapper(self: Any, _original: Any = original) -> str:
            check(self)
            return _original(self)

        setattr(responses.LogsResponse, method, wrapper)


def apply() -> None:
    if fidelity.enabled("member-reads"):
        _member_reads()
    _trail_writes()
    if fidelity.enabled("logs-kms-check"):
        _logs_kms()
