"""Where CloudTrail puts what it delivers: the object keys AWS documents for account and
organization trails ("Finding your CloudTrail log files" and "CloudTrail digest file structure",
AWS CloudTrail User Guide), and the time formats in their names and bodies."""

from __future__ import annotations

import secrets
import string
from datetime import datetime

# Digest and record times: ISO 8601 to the second, UTC ("2015-08-17T14:01:31Z").
ISO = "%Y-%m-%dT%H:%M:%SZ"
# Digest file names end with the digest's end time to the second; log file names to the minute.
DIGEST_STAMP = "%Y%m%dT%H%M%SZ"
LOG_STAMP = "%Y%m%dT%H%MZ"
_UNIQUE = string.ascii_letters + string.digits


def iso(when: datetime) -> str:
    return when.strftime(ISO)


def account_root(prefix: str | None, org_id: str | None, account: str) -> str:
    """`[prefix/]AWSLogs/[O-ID/]ACCOUNT/`: an organization trail adds the organization id."""
    head = f"{prefix}/" if prefix else ""
    org = f"{org_id}/" if org_id else ""
    return f"{head}AWSLogs/{org}{account}/"


def log_key(root: str, account: str, region: str, when: datetime) -> str:
    """`.../CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz`."""
    unique = "".join(secrets.choice(_UNIQUE) for _ in range(16))
    return f"{root}CloudTrail/{region}/{when:%Y/%m/%d}/{account}_CloudTrail_{region}_{when.strftime(LOG_STAMP)}_{unique}.json.gz"


def digest_key(root: str, account: str, region: str, trail_name: str, home_region: str, end: datetime) -> str:
    """`.../CloudTrail-Digest/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail-Digest_REGION_TRAIL_HOME_YYYYMMDDTHHmmssZ.json.gz`
    (REGION is where the events happened, HOME the trail's home region)."""
    return (
        f"{root}CloudTrail-Digest/{region}/{end:%Y/%m/%d}/"
        f"{account}_CloudTrail-Digest_{region}_{trail_name}_{home_region}_{end.strftime(DIGEST_STAMP)}.json.gz"
    )
