"""Organization lookups shared by the fidelity patches: the management account of an account, its
CloudTrail delegated administrators, and the error type the patches raise.
"""

from __future__ import annotations

from typing import Any


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
