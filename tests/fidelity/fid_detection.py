"""Detection patches: Insights selectors, CloudWatch Logs KMS association, SCP policy type
(insights-replace, logs-associate-kms, scp-type-enabled; docs/emulator.md).
"""

from __future__ import annotations

from typing import Any, Callable


def apply(enabled: Callable[[str], bool]) -> None:
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
