"""What a trail delivers to and for, read from moto's backends: the accounts and regions it covers,
its bucket and KMS key (with their policies), as AWS would see them at delivery time."""

from __future__ import annotations

import json
from typing import Any, Callable

from .refusals import Target


def organization_of(account: str) -> tuple[str, Any] | None:
    """(management account, organizations backend) of the organization `account` belongs to."""
    from moto.organizations.models import organizations_backends

    if organizations_backends[account]["aws"].org is not None:
        return account, organizations_backends[account]["aws"]
    owner = organizations_backends.master_accounts.get(account)
    if owner is None:
        return None
    return owner[0], organizations_backends[owner[0]][owner[1]]


def covered_accounts(trail: Any) -> tuple[list[str], str | None]:
    """(accounts, organization id): an organization trail covers the management account and every
    ACTIVE member at delivery time; any other trail its own account."""
    if not trail.is_org_trail:
        return [trail.account_id], None
    org = organization_of(trail.account_id)
    if org is None or org[1].org is None:
        return [trail.account_id], None
    management, backend = org
    accounts = [management] + [a.id for a in backend.accounts if a.status == "ACTIVE" and a.id != management]
    return accounts, backend.org.id


def covered_regions(trail: Any, account: str, enabled_regions: Callable[[str], set[str]]) -> list[str]:
    """A multi-region trail: every region enabled for the account; else its home region."""
    if trail.is_multi_region:
        return sorted(enabled_regions(account))
    return [trail.region_name]


def _json(text: Any) -> dict[str, Any] | None:
    if not text:
        return None
    return json.loads(text.decode() if isinstance(text, bytes) else text)


def kms_key(trail: Any) -> Any:
    """The trail's KMS key object (by ARN, alias or id), or None if it has none or it is gone."""
    from moto.kms.models import kms_backends

    key_id = trail.kms_key_id
    if not key_id:
        return None
    parts = key_id.split(":")
    account, region = (parts[4], parts[3]) if key_id.startswith("arn:") else (trail.account_id, trail.region_name)
    backend = kms_backends[account][region]
    try:
        return backend.describe_key(key_id)
    except Exception:  # noqa: BLE001 - moto raises KeyError or its NotFoundException
        return None


def target_of(trail: Any) -> Target:
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(trail.bucket_name)
    bucket = s3_backends[owner[1]][owner[0]].buckets.get(trail.bucket_name) if owner else None
    key = kms_key(trail)
    return Target(
        bucket=trail.bucket_name,
        bucket_account=owner[1] if owner else None,
        bucket_exists=bucket is not None,
        bucket_policy=_json(bucket.policy) if bucket is not None else None,
        kms_key_arn=(key.arn if key is not None else trail.kms_key_id) if trail.kms_key_id else None,
        kms_key_enabled=key is not None and key.key_state == "Enabled",
        kms_key_policy=_json(key.policy) if key is not None else None,
    )


def bucket_backend(trail: Any) -> Any:
    from moto.s3.models import s3_backends

    partition, account = s3_backends.bucket_accounts[trail.bucket_name]
    return s3_backends[account][partition]
