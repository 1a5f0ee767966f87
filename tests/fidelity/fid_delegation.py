"""CloudTrail delegated administrators: patches h, i, j and the per-account request log (REQUESTS,
mutated in place only: the reset hook clears this object). Called from moto_fidelity.apply().
"""

from __future__ import annotations

import json
from typing import Any, Callable

from fid_cloudtrail import TRAIL_READS, TRAIL_WRITES
from fid_org import CLOUDTRAIL_PRINCIPAL, MAX_CLOUDTRAIL_ADMINS, _cloudtrail_admins, _error, _management_of, is_delegated_admin


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
    delegated-administrator test proves no call was made with management-account credentials.
    request_order finds each request's account and operation, one naming for both logs."""
    import threading

    import request_order

    lock = threading.Lock()

    def record(account: str, op: str) -> None:
        with lock:
            per_account = REQUESTS.setdefault(account, {})
            per_account[op] = per_account.get(op, 0) + 1

    def body() -> bytes:
        with lock:
            return json.dumps(REQUESTS, sort_keys=True).encode()

    request_order.also_log("/moto-api/fidelity/requests", record, body)


def apply(enabled: Callable[[str], bool]) -> None:
    if enabled("h"):
        _cloudtrail_delegation()
    if enabled("i"):
        _cloudtrail_delegated_trails()
    if enabled("j"):
        _organizations_reads()
    _request_log()
