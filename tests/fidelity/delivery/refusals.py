"""Whether AWS would refuse a delivery, decided by the pinned IAM policy evaluator
(tests/policy-eval: @cloud-copilot/iam-simulate, the one the access-matrix test uses), never by
reading policy text here. One evaluator run per trail and delivery, whatever the number of objects.

The request context is the one CloudTrail sends:
- `aws:SourceArn` (the trail's ARN) and `aws:SourceAccount` (the trail owner's account), plus
  `aws:SourceOrgID` ("Amazon S3 bucket policy for CloudTrail", AWS CloudTrail User Guide: the
  condition keys a bucket policy may use for organization and account trails);
- `s3:x-amz-acl` = `bucket-owner-full-control` (the same page: CloudTrail writes with that ACL);
- `s3:x-amz-server-side-encryption` = `aws:kms` and `s3:x-amz-server-side-encryption-aws-kms-key-id`
  when the trail has a KMS key ("Encrypting CloudTrail log files ... with AWS KMS keys (SSE-KMS)");
- `aws:SecureTransport` = true, `aws:PrincipalIsAWSService` = true (a service principal over TLS);
- for KMS, `kms:EncryptionContext:aws:cloudtrail:arn` = the trail ARN ("Configure AWS KMS key
  policies for CloudTrail": CloudTrail asks `kms:GenerateDataKey*` with that encryption context).

Error strings are what GetTrailStatus carries: its API reference says LatestDeliveryError "displays
any Amazon S3 error", so the S3 error codes `NoSuchBucket` and `AccessDenied`; a KMS refusal surfaces
through S3 as the KMS error code S3 relays (`KMS.AccessDeniedException`, `KMS.DisabledException`),
the stricter reading where the documentation gives no string.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from typing import Any

SERVICE = "cloudtrail.amazonaws.com"
EVALUATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "policy-eval", "evaluate.mjs")

NO_SUCH_BUCKET = "NoSuchBucket"
ACCESS_DENIED = "AccessDenied"
KMS_ACCESS_DENIED = "KMS.AccessDeniedException"
KMS_DISABLED = "KMS.DisabledException"


class EvaluatorError(RuntimeError):
    """The evaluator could not run or answered an error: the delivery cannot be decided."""


@dataclass
class Target:
    """Where a trail delivers: its bucket (None if missing), the bucket's policy, its KMS key."""

    bucket: str
    bucket_account: str | None
    bucket_exists: bool
    bucket_policy: dict[str, Any] | None
    kms_key_arn: str | None
    kms_key_enabled: bool
    kms_key_policy: dict[str, Any] | None


def _context(trail_arn: str, org_id: str | None) -> dict[str, str]:
    ctx = {
        "aws:SourceArn": trail_arn,
        "aws:SourceAccount": trail_arn.split(":")[4],
        "aws:PrincipalIsAWSService": "true",
        "aws:PrincipalServiceName": SERVICE,
        "aws:SecureTransport": "true",
    }
    if org_id:
        ctx["aws:SourceOrgID"] = org_id
    return ctx


def _put_context(base: dict[str, str], kms_key_arn: str | None) -> dict[str, str]:
    ctx = dict(base, **{"s3:x-amz-acl": "bucket-owner-full-control"})
    if kms_key_arn:
        ctx["s3:x-amz-server-side-encryption"] = "aws:kms"
        ctx["s3:x-amz-server-side-encryption-aws-kms-key-id"] = kms_key_arn
    return ctx


# The evaluator matches variable condition keys only after a `/` (`aws:PrincipalTag/x`), so it drops
# `kms:EncryptionContext:<key>` (it reports it as ignored, tests/tests/access_matrix.rs) and a
# condition on it could never match. Renaming the key, in the key policy and in the request alike, to
# a global key with a `/` lets the evaluator still apply every operator (StringLike, ArnEquals, ...)
# to the value: the decision stays the evaluator's.
ENCRYPTION_CONTEXT = "kms:encryptioncontext:"
MODELLED_CONTEXT = "aws:PrincipalTag/kms-encryption-context:"


def _modelled(policy: Any) -> Any:
    if isinstance(policy, list):
        return [_modelled(p) for p in policy]
    if not isinstance(policy, dict):
        return policy
    out = {}
    for k, v in policy.items():
        if k == "Condition" and isinstance(v, dict):
            out[k] = {op: {_modelled_key(key): val for key, val in keys.items()} if isinstance(keys, dict) else keys for op, keys in v.items()}
        else:
            out[k] = _modelled(v)
    return out


def _modelled_key(key: str) -> str:
    if key.lower().startswith(ENCRYPTION_CONTEXT):
        return MODELLED_CONTEXT + key[len(ENCRYPTION_CONTEXT) :]
    return key


def evaluate(rows: list[dict[str, Any]]) -> dict[str, str]:
    """id -> the evaluator's overall decision ("Allowed", "ImplicitlyDenied", "ExplicitlyDenied")."""
    if not rows:
        return {}
    try:
        done = subprocess.run(["node", EVALUATOR], input=json.dumps(rows).encode(), capture_output=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise EvaluatorError(f"{EVALUATOR}: {e} (run scripts/bootstrap-policy-eval.sh)") from e
    if done.returncode != 0:
        raise EvaluatorError(f"{EVALUATOR} exited {done.returncode}: {done.stderr.decode(errors='replace')[-500:]}")
    out = {}
    for r in json.loads(done.stdout):
        if r["decision"] == "Error":
            raise EvaluatorError(f"{EVALUATOR}: row {r['id']}: {r['errors']}")
        out[r["id"]] = r["decision"]
    return out


def decide(trail_arn: str, org_id: str | None, target: Target, object_keys: dict[str, list[str]]) -> tuple[str | None, dict[str, str]]:
    """(error refusing the whole delivery, {label: error} for the labels refused). `object_keys`
    holds, per (account, region) label, keys of the objects CloudTrail would write there (one log
    file and one digest key: every hour of a label shares its prefix up to the date)."""
    if not target.bucket_exists:
        return NO_SUCH_BUCKET, {}
    base = _context(trail_arn, org_id)
    bucket_account = target.bucket_account
    rows: list[dict[str, Any]] = [
        {
            "id": "acl",
            "principal": SERVICE,
            "action": "s3:GetBucketAcl",
            "resource": f"arn:aws:s3:::{target.bucket}",
            "resource_account": bucket_account,
            "context": base,
            "resource_policy": target.bucket_policy,
        }
    ]
    for label, keys in object_keys.items():
        for i, key in enumerate(keys):
            rows.append(
                {
                    "id": f"put:{label}:{i}",
                    "principal": SERVICE,
                    "action": "s3:PutObject",
                    "resource": f"arn:aws:s3:::{target.bucket}/{key}",
                    "resource_account": bucket_account,
                    "context": _put_context(base, target.kms_key_arn),
                    "resource_policy": target.bucket_policy,
                }
            )
    if target.kms_key_arn:
        rows.append(
            {
                "id": "kms",
                "principal": SERVICE,
                "action": "kms:GenerateDataKey",
                "resource": target.kms_key_arn,
                "resource_account": target.kms_key_arn.split(":")[4],
                "context": dict(base, **{_modelled_key("kms:EncryptionContext:aws:cloudtrail:arn"): trail_arn}),
                "resource_policy": _modelled(target.kms_key_policy),
            }
        )
    if target.bucket_policy is None:
        # No bucket policy: nothing grants the service principal anything.
        decisions = {r["id"]: "ImplicitlyDenied" for r in rows if r["id"] != "kms"}
        decisions.update(evaluate([r for r in rows if r["id"] == "kms"]))
    else:
        decisions = evaluate(rows)
    if decisions.get("acl") != "Allowed":
        return ACCESS_DENIED, {}
    if target.kms_key_arn and not target.kms_key_enabled:
        return KMS_DISABLED, {}
    if target.kms_key_arn and decisions.get("kms") != "Allowed":
        return KMS_ACCESS_DENIED, {}
    refused = {}
    for label, keys in object_keys.items():
        if any(decisions.get(f"put:{label}:{i}") != "Allowed" for i in range(len(keys))):
            refused[label] = ACCESS_DENIED
    return None, refused
