//! OrgTrail.Delivery: GetTrailStatus shows a log delivery and a digest delivery within
//! `max_delivery_age` and no delivery error. A failing finding quotes the error and names its likely
//! cause: GetTrailStatus reports the S3 error CloudTrail met (API reference, LatestDeliveryError), so
//! `NoSuchBucket` is the missing bucket, `AccessDenied` the bucket policy, a `KMS.` error the key
//! policy or a disabled key.
//!
//! A trail that started logging within `max_delivery_age` and has not attempted a delivery yet is
//! NOT-APPLICABLE, "first delivery not due": CloudTrail's first digest arrives about an hour after
//! StartLogging, so `verify` right after `apply` has nothing to judge yet. Once any attempt is on
//! record (LatestDeliveryAttemptTime), it is judged.
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::stream::{self, StreamExt};

use super::super::{Control, Finding, Status};
use super::{iso, max_age, since};
use crate::aws::Site;
use crate::config::TrailMode;
use crate::steps::delivery_check::delivering_trail;
use crate::steps::support::{in_region, trail_resource};
use crate::steps::{Ctx, StepError};

const CONTROL: Control = Control::OrgTrailDelivery;

/// The likely cause of a delivery error string, as an operator acts on it.
pub fn cause(error: &str) -> &'static str {
    if error.contains("NoSuchBucket") {
        "the log bucket does not exist"
    } else if error.starts_with("KMS.") && error.contains("Disabled") {
        "the trail's KMS key is disabled"
    } else if error.starts_with("KMS.") {
        "the KMS key policy does not let cloudtrail.amazonaws.com kms:GenerateDataKey* for this trail's encryption context"
    } else if error.contains("AccessDenied") {
        "the bucket policy does not let cloudtrail.amazonaws.com s3:PutObject under this trail's prefix (AWSCloudTrailWrite, its aws:SourceArn)"
    } else {
        "see the S3 error responses in the Amazon S3 API Reference"
    }
}

/// The findings, and the trail owners whose first delivery is not due yet.
pub async fn check(ctx: &Ctx<'_>) -> (Vec<Finding>, Vec<String>) {
    let owners: Vec<String> = match ctx.config.trail.mode {
        TrailMode::Organization => vec![ctx.management_account().to_string()],
        TrailMode::Account => ctx.targets.to_vec(),
    };
    let judged: Vec<(Finding, bool)> =
        stream::iter(owners).map(|account| async move { judge(ctx, &account).await }).buffer_unordered(ctx.config.access.max_concurrency.max(1)).collect().await;
    let fresh = judged.iter().filter(|(_, fresh)| *fresh).map(|(f, _)| f.account.clone()).collect();
    (judged.into_iter().map(|(f, _)| f).collect(), fresh)
}

fn time(t: Option<&aws_smithy_types::DateTime>) -> Option<SystemTime> {
    t.and_then(|t| u64::try_from(t.secs()).ok()).map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

async fn judge(ctx: &Ctx<'_>, account: &str) -> (Finding, bool) {
    let arn = delivering_trail(ctx, account);
    let resource = trail_resource(&arn);
    // The organization trail with the base credentials (the management account's or a delegated
    // administrator's, which reads it by ARN); an account trail with that account's role.
    let conf = match ctx.config.trail.mode {
        TrailMode::Organization => ctx.aws.base().clone(),
        TrailMode::Account => ctx.session(account),
    };
    let ct = ctx.aws.cloudtrail(&in_region(&conf, ctx.home_region()));
    let site = Site::new(account, ct.config().region(), resource.clone());
    let status = match ct.get_trail_status().name(&arn).send().await.map_err(site.fail("CloudTrail.GetTrailStatus")) {
        Ok(s) => s,
        Err(e) => return (Finding::error(CONTROL, account, resource, &StepError::from(e)), false),
    };
    let since = since(ctx);
    let started = time(status.start_logging_time());
    let attempted = status.latest_delivery_attempt_time().is_some_and(|t| !t.is_empty());
    if !attempted && started.is_some_and(|t| t >= since) {
        let evidence = format!(
            "first delivery not due: StartLoggingTime={} is within {} and no delivery was attempted yet (LatestDeliveryAttemptTime empty)",
            started.map(iso).unwrap_or_default(),
            max_age(ctx)
        );
        return (Finding::new(CONTROL, account, resource, Status::NotApplicable, evidence), true);
    }
    let logs = time(status.latest_delivery_time());
    let digests = time(status.latest_digest_delivery_time());
    let show = |t: Option<SystemTime>| t.map_or("never".to_string(), iso);
    let mut evidence = format!("LatestDeliveryTime={}; LatestDigestDeliveryTime={}", show(logs), show(digests));
    let errors: Vec<&str> = [status.latest_delivery_error(), status.latest_digest_delivery_error()].into_iter().flatten().filter(|e| !e.is_empty()).collect();
    let mut problems = Vec::new();
    if let Some(e) = status.latest_delivery_error().filter(|e| !e.is_empty()) {
        evidence.push_str(&format!("; LatestDeliveryError={e}"));
    }
    if let Some(e) = status.latest_digest_delivery_error().filter(|e| !e.is_empty()) {
        evidence.push_str(&format!("; LatestDigestDeliveryError={e}"));
    }
    if let Some(first) = errors.first() {
        problems.push(format!("CloudTrail reports {first}: {}", cause(first)));
    }
    if logs.is_none_or(|t| t < since) {
        problems.push(format!("no log file delivered within {}", max_age(ctx)));
    }
    if digests.is_none_or(|t| t < since) {
        problems.push(format!("no digest delivered within {}", max_age(ctx)));
    }
    let finding = if problems.is_empty() {
        Finding::new(CONTROL, account, resource, Status::Pass, evidence)
    } else {
        Finding::new(CONTROL, account, resource, Status::Fail, format!("{evidence} — {}", problems.join("; ")))
    };
    (finding, false)
}
