"""(object-reads) Who may read an object, decided like AWS decides it. moto 5.2.5 evaluates a bucket
policy without any request context: a statement whose condition it cannot evaluate counts as a
deny, whatever its effect, so no one can read from orgtrail's log bucket (its deny statements carry
conditions) and no reader, the AWS CLI's validate-logs included, could check what was delivered.

Here a signed GetObject / HeadObject on a bucket with a policy is decided by the pinned policy
evaluator (refusals.py), with the caller as AWS sees it: `aws:PrincipalArn` the role's ARN for a
role session ("AWS global condition context keys": "For a role session, the ARN of the role"), the
account's root ARN otherwise, `aws:PrincipalAccount`, `aws:PrincipalOrgID` of its organization,
`aws:PrincipalIsAWSService` false. The caller's own identity policies are not modelled: a caller of
the bucket's account is allowed unless the bucket policy denies it; one of another account needs the
bucket policy's grant. `aws:SecureTransport` is true: the emulator's loopback HTTP stands for the TLS
endpoint every SDK uses by default.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from . import refusals, target

_CALLER = threading.local()
_CACHE: dict[tuple[str, str, str], str] = {}
_SCOPE = re.compile(r"Credential=([^/,\s]+)/")


def _caller(headers: Any) -> tuple[str, str] | None:
    """(principal ARN as aws:PrincipalArn names it, account) of a signed request."""
    from moto.iam.models import get_account_id_from
    from moto.sts.models import sts_backends

    signed = _SCOPE.search(headers.get("Authorization", "") or "")
    if not signed:
        return None
    key = signed.group(1)
    account = get_account_id_from(key)
    for role in sts_backends[account]["aws"].assumed_roles:
        if role.access_key_id == key:
            return role.role_arn, account
    return f"arn:aws:iam::{account}:root", account


def _decide(policy: bytes, bucket_account: str, caller: tuple[str, str], resource: str) -> str:
    arn, account = caller
    cache_key = (policy.decode(), arn, resource)
    if cache_key not in _CACHE:
        org = target.organization_of(account)
        context = {
            "aws:PrincipalArn": arn,
            "aws:PrincipalAccount": account,
            "aws:PrincipalIsAWSService": "false",
            "aws:SecureTransport": "true",
        }
        if org is not None and org[1].org is not None:
            context["aws:PrincipalOrgID"] = org[1].org.id
        row = {
            "id": "read",
            "principal": arn,
            "action": "s3:GetObject",
            "resource": resource,
            "resource_account": bucket_account,
            "context": context,
            "identity_policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}] if account == bucket_account else [],
            "resource_policy": json.loads(policy),
        }
        _CACHE[cache_key] = refusals.evaluate([row])["read"]
    return _CACHE[cache_key]


def patch() -> None:
    from moto.iam.access_control import PermissionResult
    from moto.s3 import models, responses

    original_key_response = responses.S3Response._key_response
    original_permission = models.FakeBucket.get_permission

    def key_response(self: Any, request: Any, full_url: str) -> Any:
        _CALLER.value = _caller(request.headers) if request.method in ("GET", "HEAD") else None
        try:
            return original_key_response(self, request, full_url)
        finally:
            _CALLER.value = None

    def get_permission(self: Any, action: str, resource: str) -> Any:
        caller = getattr(_CALLER, "value", None)
        if caller is None or self.policy is None or action not in ("s3:GetObject", "s3:HeadObject"):
            return original_permission(self, action, resource)
        decision = _decide(self.policy, self.account_id, caller, resource)
        if decision == "Allowed":
            return PermissionResult.PERMITTED
        return PermissionResult.DENIED

    responses.S3Response._key_response = key_response
    models.FakeBucket.get_permission = get_permission
