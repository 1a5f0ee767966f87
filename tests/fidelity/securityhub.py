"""Security Hub behaviours that moto 5.2.5 lacks, for `orgtrail verify --to-security-hub`.

Patched into moto's SecurityHubBackend.batch_import_findings (docs/emulator.md, rows sh-*):
- sh-enabled: BatchImportFindings into a hub that is not enabled fails with InvalidAccessException
  (moto imports into it anyway);
- sh-batch: more than 100 findings in one request fail with InvalidInputException (moto takes any number);
- sh-asff: a finding missing a required ASFF attribute, with another SchemaVersion, a ProductArn that is
  not the calling account's default product in this region, or an AwsAccountId other than the caller's
  (AWS: "the identifier of the account that you are calling BatchImportFindings from needs to be the same
  as the AwsAccountId attribute") is refused in FailedFindings, the others imported (moto checks only
  Resources);
- sh-workflow: a new finding's Workflow.Status is NEW; an update never changes Workflow, Note,
  UserDefinedFields or VerificationState (the customer's fields); Security Hub itself sets RESOLVED when
  RecordState goes ACTIVE -> ARCHIVED or Compliance.Status goes to PASSED from another status (while NEW or
  NOTIFIED), and NEW again when a RESOLVED finding becomes ACTIVE or fails again (moto keeps no Workflow).
"""

from __future__ import annotations

import datetime
from typing import Any

REQUIRED = ["AwsAccountId", "CreatedAt", "Description", "GeneratorId", "Id", "ProductArn", "Resources", "SchemaVersion", "Severity", "Title", "Types", "UpdatedAt"]
SEVERITY_LABELS = {"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}
MAX_BATCH = 100


def _error(code: str, message: str, status: int) -> Exception:
    from moto.core.exceptions import JsonRESTError

    class SecurityHubFidelityError(JsonRESTError):
        pass

    err = SecurityHubFidelityError(code, message)
    err.code = status
    return err


def _is_time(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def _asff_problem(backend: Any, finding: dict[str, Any]) -> tuple[str, str] | None:
    """(ErrorCode, ErrorMessage) of a finding AWS would refuse, else None."""
    for key in REQUIRED:
        if key not in finding or finding[key] in (None, "", []):
            return "InvalidInput", f"Finding does not adhere to Amazon Finding Format. data should have required property '{key}'"
    if finding["SchemaVersion"] != "2018-10-08":
        return "InvalidInput", "Finding does not adhere to Amazon Finding Format. data.SchemaVersion should be equal to '2018-10-08'"
    for key in ("CreatedAt", "UpdatedAt"):
        if not _is_time(finding[key]):
            return "InvalidInput", f"Finding does not adhere to Amazon Finding Format. data.{key} should match format \"date-time\""
    label = (finding.get("Severity") or {}).get("Label")
    if label is not None and label not in SEVERITY_LABELS:
        return "InvalidInput", "Finding does not adhere to Amazon Finding Format. data.Severity.Label should be equal to one of the allowed values"
    account, region = backend.account_id, backend.region_name
    partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    default_product = f"arn:{partition}:securityhub:{region}:{account}:product/{account}/default"
    if finding["ProductArn"] != default_product:
        return "InvalidInput", f"ProductArn {finding['ProductArn']} is not the default product of account {account} in {region} ({default_product})"
    if finding["AwsAccountId"] != account:
        return "AccessDeniedException", f"AwsAccountId {finding['AwsAccountId']} is not the calling account {account}: with the default product ARN a finding belongs to the account that imports it"
    return None


def _next_workflow(old: dict[str, Any], new: dict[str, Any]) -> str:
    status = (old.get("Workflow") or {}).get("Status", "NEW")
    old_record, new_record = old.get("RecordState", "ACTIVE"), new.get("RecordState", old.get("RecordState", "ACTIVE"))
    old_compliance = (old.get("Compliance") or {}).get("Status")
    new_compliance = (new.get("Compliance") or {}).get("Status", old_compliance)
    if status in ("NEW", "NOTIFIED"):
        if (old_record == "ACTIVE" and new_record == "ARCHIVED") or (new_compliance == "PASSED" and old_compliance not in (None, "PASSED")):
            return "RESOLVED"
    if status == "RESOLVED":
        if (old_record == "ARCHIVED" and new_record == "ACTIVE") or (old_compliance == "PASSED" and new_compliance in ("FAILED", "WARNING", "NOT_AVAILABLE")):
            return "NEW"
    return status


CUSTOMER_FIELDS = ("Workflow", "WorkflowState", "Note", "UserDefinedFields", "VerificationState")


def apply(enabled: Any) -> None:
    from moto.securityhub.models import SecurityHubBackend

    original = SecurityHubBackend.batch_import_findings

    def batch_import_findings(self: Any, findings: list[dict[str, Any]]) -> tuple[int, int, list[dict[str, Any]]]:
        if enabled("sh-enabled") and not self.enabled:
            raise _error("InvalidAccessException", f"Account {self.account_id} is not subscribed to AWS Security Hub", 401)
        if enabled("sh-batch") and len(findings) > MAX_BATCH:
            raise _error("InvalidInputException", f"Findings must contain at most {MAX_BATCH} items; {len(findings)} were given", 400)
        accepted, refused = [], []
        for finding in findings:
            problem = _asff_problem(self, finding) if enabled("sh-asff") else None
            if problem:
                refused.append({"Id": finding.get("Id", ""), "ErrorCode": problem[0], "ErrorMessage": problem[1]})
            else:
                accepted.append(finding)
        workflows: dict[str, str] = {}
        if enabled("sh-workflow"):
            existing = {f.id: f.data for f in self.findings}
            for finding in accepted:
                old = existing.get(finding.get("Id"))
                if old is None:
                    workflows[finding["Id"]] = (finding.get("Workflow") or {}).get("Status", "NEW")
                else:
                    workflows[finding["Id"]] = _next_workflow(old, finding)
                    for key in CUSTOMER_FIELDS:
                        finding.pop(key, None)
        failed_count, success_count, failed = original(self, accepted)
        for f in self.findings:
            if f.id in workflows:
                f.data["Workflow"] = {"Status": workflows[f.id]}
                f.data["WorkflowState"] = workflows[f.id]
        return failed_count + len(refused), success_count, failed + refused

    SecurityHubBackend.batch_import_findings = batch_import_findings
