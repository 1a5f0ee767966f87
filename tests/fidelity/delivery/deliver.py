"""One delivery: for every logging trail, the H hours before `end`, each covered account and region,
written where CloudTrail writes them (log files, digests, CloudWatch Logs events, SNS notifications),
or refused where AWS would refuse, the outcome recorded in the trail's status."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from . import digests, records, refusals, status, target
from .paths import account_root, digest_key, iso, log_key


@dataclass
class TrailCounts:
    logging: bool = True
    log_files: int = 0
    digest_files: int = 0
    failures: int = 0
    error: str | None = None
    refused: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "logging": self.logging,
            "log_files": self.log_files,
            "digest_files": self.digest_files,
            "failures": self.failures,
            "error": self.error,
            "refused": self.refused,
        }


def all_trails() -> list[Any]:
    from moto.cloudtrail.models import cloudtrail_backends

    return [t for _, regional in list(cloudtrail_backends.items()) for _, b in list(regional.items()) for t in list(b.trails.values())]


def hours_before(end: datetime, hours: int) -> list[datetime]:
    """Start times of the `hours` whole hours before `end`, oldest first."""
    last = end.replace(minute=0, second=0, microsecond=0)
    return [last - timedelta(hours=k) for k in range(hours, 0, -1)]


def deliver(hours: int, end: datetime, only: set[str] | None, enabled_regions: Callable[[str], set[str]]) -> dict[str, Any]:
    starts = hours_before(end, hours)
    out = {}
    for trail in all_trails():
        out[trail.arn] = deliver_trail(trail, starts, only, enabled_regions).as_json()
    return {"start": iso(starts[0]), "end": iso(starts[-1] + timedelta(hours=1)), "trails": out}


def deliver_trail(trail: Any, starts: list[datetime], only: set[str] | None, enabled_regions: Callable[[str], set[str]]) -> TrailCounts:
    counts = TrailCounts()
    if not trail.status.is_logging:
        # A stopped trail delivers nothing for the hours it is stopped, and tries nothing.
        counts.logging = False
        return counts
    accounts, org_id = target.covered_accounts(trail)
    labels = [(a, r) for a in accounts if only is None or a in only for r in target.covered_regions(trail, a, enabled_regions)]
    if not labels:
        return counts
    where = target.target_of(trail)
    prefix = trail.s3_key_prefix
    sample = {
        f"{a}/{r}": [log_key(account_root(prefix, org_id, a), a, r, starts[0]), digest_key(account_root(prefix, org_id, a), a, r, trail.trail_name, trail.region_name, starts[0])]
        for a, r in labels
    }
    # aws:SourceOrgID is the trail owner's organization, for account trails too.
    owner_org = target.organization_of(trail.account_id)
    source_org = org_id or (owner_org[1].org.id if owner_org is not None and owner_org[1].org is not None else None)
    whole, refused = refusals.decide(trail.arn, source_org, where, sample)
    attempt = starts[-1] + timedelta(hours=1)
    if whole is not None:
        counts.error, counts.failures = whole, len(labels) * len(starts)
        status.record(trail, attempt, 0, 0, whole, whole if trail.log_validation else None)
        return counts
    counts.refused = refused
    counts.failures = len(refused) * len(starts)
    s3 = target.bucket_backend(trail)
    sink = _Sinks(trail, org_id)
    for account, region in labels:
        if f"{account}/{region}" in refused:
            continue
        root = account_root(prefix, org_id, account)
        for start in starts:
            logs = _write_logs(s3, trail, where, root, account, region, start, sink)
            counts.log_files += len(logs)
            if trail.log_validation:
                key = digest_key(root, account, region, trail.trail_name, trail.region_name, start + timedelta(hours=1))
                body, metadata = digests.build(trail.arn, account, region, trail.bucket_name, key, start, logs)
                _put(s3, trail.bucket_name, key, body, where, metadata)
                counts.digest_files += 1
    error = next(iter(refused.values()), None)
    status.record(trail, attempt, counts.log_files, counts.digest_files, error, error if trail.log_validation else None)
    sink.flush(attempt)
    return counts


def _put(s3: Any, bucket: str, key: str, body: bytes, where: refusals.Target, metadata: dict[str, str] | None = None) -> None:
    kms = where.kms_key_arn
    obj = s3.put_object(bucket, key, body, encryption="aws:kms" if kms else None, kms_key_id=kms)
    obj.set_metadata(dict(metadata or {}, **{"Content-Type": "application/json"}))


def _write_logs(s3: Any, trail: Any, where: refusals.Target, root: str, account: str, region: str, start: datetime, sink: "_Sinks") -> list[digests.LogEntry]:
    events = records.records_for(trail, account, region, start)
    if not events:
        return []
    key = log_key(root, account, region, start + timedelta(minutes=55))
    raw, body = records.log_file(events)
    _put(s3, trail.bucket_name, key, body, where)
    sink.add(account, region, trail.bucket_name, key, events)
    return [digests.LogEntry(trail.bucket_name, key, raw, events)]


class _Sinks:
    """CloudWatch Logs events into the trail's log group (stream `[O-ID_]ACCOUNT_CloudTrail_REGION`,
    "Sending events to CloudWatch Logs") and one SNS notification per log file to its topic."""

    def __init__(self, trail: Any, org_id: str | None):
        self.trail, self.org_id = trail, org_id
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.notifications: list[dict[str, Any]] = []

    def add(self, account: str, region: str, bucket: str, key: str, events: list[dict[str, Any]]) -> None:
        if self.trail.cw_log_group_arn:
            stream = f"{self.org_id + '_' if self.org_id else ''}{account}_CloudTrail_{region}"
            self.events.setdefault(stream, []).extend(events)
        if self.trail.topic_arn:
            self.notifications.append({"s3Bucket": bucket, "s3ObjectKey": [key]})

    def flush(self, when: datetime) -> None:
        s = status.of(self.trail)
        if self.events:
            s.cloudwatch_time, s.cloudwatch_error = self._cloudwatch(when)
        if self.notifications:
            s.notification_time, s.notification_error = self._sns(when)

    def _cloudwatch(self, when: datetime) -> tuple[datetime | None, str | None]:
        from moto.logs.models import logs_backends

        arn = self.trail.cw_log_group_arn
        parts = arn.split(":")
        group = parts[6]
        backend = logs_backends[parts[4]][parts[3]]
        if group not in backend.groups:
            return None, "ResourceNotFoundException"
        for stream, events in self.events.items():
            if stream not in backend.groups[group].streams:
                backend.create_log_stream(group, stream)
            batch = [{"timestamp": _millis(e["eventTime"]), "message": json.dumps(e)} for e in events]
            backend.put_log_events(group, stream, sorted(batch, key=lambda e: e["timestamp"]))
        return when, None

    def _sns(self, when: datetime) -> tuple[datetime | None, str | None]:
        from moto.sns.models import sns_backends

        arn = self.trail.topic_arn
        parts = arn.split(":")
        backend = sns_backends[parts[4]][parts[3]]
        if arn not in backend.topics:
            return None, "NotFound"
        for note in self.notifications:
            backend.publish(json.dumps(note), arn=arn)
        return when, None


def _millis(event_time: str) -> int:
    return int(datetime.strptime(event_time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp() * 1000)
