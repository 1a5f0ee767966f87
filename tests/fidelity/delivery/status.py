"""GetTrailStatus from what delivery did. moto 5.2.5 reports LatestDeliveryTime = now whenever a
trail is logging (a delivery that never happened); here the delivery fields say what the last
`POST /moto-api/fidelity/deliver` did for the trail: when it last delivered log files, digests and
CloudWatch Logs events, when it last tried, and the error AWS would show (API reference,
GetTrailStatus). A successful attempt clears the error, as a repaired policy does on AWS."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .paths import iso


@dataclass
class DeliveryStatus:
    log_time: datetime | None = None
    digest_time: datetime | None = None
    attempt_time: datetime | None = None
    attempt_succeeded: datetime | None = None
    log_error: str | None = None
    digest_error: str | None = None
    cloudwatch_time: datetime | None = None
    cloudwatch_error: str | None = None
    notification_time: datetime | None = None
    notification_error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def of(trail: Any) -> DeliveryStatus:
    status = trail.status
    current = getattr(status, "fidelity_delivery", None)
    if current is None:
        current = DeliveryStatus()
        status.fidelity_delivery = current
    return current


def record(trail: Any, when: datetime, logs: int, digests: int, error: str | None, digest_error: str | None) -> None:
    s = of(trail)
    s.attempt_time = when
    if logs:
        s.log_time = when
    if digests:
        s.digest_time = when
    s.log_error = error
    s.digest_error = digest_error
    if error is None and digest_error is None:
        s.attempt_succeeded = when


def _epoch(when: datetime | None) -> float | None:
    return when.timestamp() if when else None


def patch() -> None:
    from moto.cloudtrail import models
    from moto.core.utils import iso_8601_datetime_without_milliseconds

    def description(self: Any) -> dict[str, Any]:
        desc: dict[str, Any] = {"IsLogging": self.is_logging}
        if self.started:
            desc["StartLoggingTime"] = self.started.timestamp()
            desc["TimeLoggingStarted"] = iso_8601_datetime_without_milliseconds(self.started)
        if self.stopped:
            desc["StopLoggingTime"] = self.stopped.timestamp()
            desc["TimeLoggingStopped"] = iso_8601_datetime_without_milliseconds(self.stopped)
        s: DeliveryStatus | None = getattr(self, "fidelity_delivery", None)
        if s is None:
            return desc
        fields = {
            "LatestDeliveryTime": _epoch(s.log_time),
            "LatestDigestDeliveryTime": _epoch(s.digest_time),
            "LatestDeliveryAttemptTime": iso(s.attempt_time) if s.attempt_time else None,
            "LatestDeliveryAttemptSucceeded": iso(s.attempt_succeeded) if s.attempt_succeeded else None,
            "LatestDeliveryError": s.log_error,
            "LatestDigestDeliveryError": s.digest_error,
            "LatestCloudWatchLogsDeliveryTime": _epoch(s.cloudwatch_time),
            "LatestCloudWatchLogsDeliveryError": s.cloudwatch_error,
            "LatestNotificationTime": _epoch(s.notification_time),
            "LatestNotificationError": s.notification_error,
        }
        desc.update({k: v for k, v in fields.items() if v is not None})
        return desc

    models.TrailStatus.description = description
