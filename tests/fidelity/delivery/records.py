"""The events of one account, region and hour, as CloudTrail records them (the record fields of
"CloudTrail record contents for management, data, and network activity events", AWS CloudTrail User
Guide), filtered the way the trail's settings filter them: global service events (IAM, STS's global
endpoint) only in us-east-1 and only where the trail includes them; management events unless the
selectors exclude them; data events only where a selector selects them."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from .paths import iso

GLOBAL_EVENTS_REGION = "us-east-1"
# (eventSource, eventName, readOnly, category): one of each kind per account, region and hour.
MANAGEMENT = ("ec2.amazonaws.com", "DescribeInstances", True)
GLOBAL = ("iam.amazonaws.com", "ListRoles", True)
DATA = ("s3.amazonaws.com", "GetObject", True)


def _values(selector: dict[str, Any], field: str) -> list[str]:
    for f in selector.get("FieldSelectors", []):
        if f.get("Field") == field:
            return list(f.get("Equals", []))
    return []


def selects(trail: Any) -> tuple[bool, bool]:
    """(management events, S3 object data events) the trail's selectors select. No selectors at
    all: management events only (CloudTrail's default)."""
    advanced = getattr(trail, "advanced_event_selectors", None) or []
    basic = getattr(trail, "event_selectors", None) or []
    if advanced:
        management = any("Management" in _values(s, "eventCategory") for s in advanced)
        data = any("Data" in _values(s, "eventCategory") and "AWS::S3::Object" in _values(s, "resources.type") for s in advanced)
        return management, data
    if basic:
        management = any(s.get("IncludeManagementEvents", True) for s in basic)
        data = any(r.get("Type") == "AWS::S3::Object" for s in basic for r in s.get("DataResources", []))
        return management, data
    return True, False


def _record(account: str, region: str, when: datetime, kind: tuple[str, str, bool], category: str) -> dict[str, Any]:
    source, name, read_only = kind
    record = {
        "eventVersion": "1.11",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": f"AROAEMULATOR{account[-6:]}:orgtrail",
            "arn": f"arn:aws:sts::{account}:assumed-role/OrganizationAccountAccessRole/orgtrail",
            "accountId": account,
            "accessKeyId": "ASIAEMULATOREXAMPLE",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": f"AROAEMULATOR{account[-6:]}",
                    "arn": f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
                    "accountId": account,
                    "userName": "OrganizationAccountAccessRole",
                },
                "attributes": {"creationDate": iso(when - timedelta(minutes=5)), "mfaAuthenticated": "false"},
            },
        },
        "eventTime": iso(when),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "198.51.100.10",
        "userAgent": "aws-cli/1.46.3",
        "requestParameters": None,
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": category == "Management",
        "recipientAccountId": account,
        "eventCategory": category,
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": f"{source.split('.')[0]}.{region}.amazonaws.com"},
    }
    if category == "Data":
        record["resources"] = [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::example-{account}/report.csv"}]
    return record


def records_for(trail: Any, account: str, region: str, hour: datetime) -> list[dict[str, Any]]:
    """The hour's records for `account` in `region`, oldest first."""
    management, data = selects(trail)
    out = []
    if management:
        out.append(_record(account, region, hour + timedelta(minutes=10), MANAGEMENT, "Management"))
        if region == GLOBAL_EVENTS_REGION and trail.include_global_service_events:
            out.append(_record(account, region, hour + timedelta(minutes=20), GLOBAL, "Management"))
    if data:
        out.append(_record(account, region, hour + timedelta(minutes=30), DATA, "Data"))
    return out


def log_file(records: list[dict[str, Any]]) -> tuple[bytes, bytes]:
    """(raw JSON, gzip of it): the digest hashes the raw bytes, S3 holds the gzip."""
    raw = json.dumps({"Records": records}, separators=(",", ":")).encode()
    return raw, gzip.compress(raw, mtime=0)
