//! The record itself, as CloudTrail delivered it: where an account's digests land in the central
//! bucket and the newest one per region, listed by the narrowest prefix AWS's key layout allows
//! (account, region, day: "CloudTrail digest file structure"). `verify`'s OrgTrail.Coverage and the
//! `delivery-check` member step read the same evidence.
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;

use super::account_trail::account_trail_arn;
use super::support::in_region;
use super::{Action, Change, Ctx, Outcome, StepError, StepResult};
use crate::aws::Site;
use crate::config::TrailMode;

/// Where CloudTrail writes this account's logs in the central bucket (`[prefix/]AWSLogs/[O-ID/]ACCOUNT/`).
pub fn log_prefix(ctx: &Ctx<'_>, account: &str) -> String {
    let base = match ctx.config.log_archive.prefix.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => format!("{p}/AWSLogs/"),
        None => "AWSLogs/".to_string(),
    };
    match ctx.config.trail.mode {
        TrailMode::Organization => format!("{base}{}/{account}/", ctx.org.id),
        TrailMode::Account => format!("{base}{account}/"),
    }
}

/// The trail whose delivery an account's record proves.
pub fn delivering_trail(ctx: &Ctx<'_>, account: &str) -> String {
    match ctx.config.trail.mode {
        TrailMode::Organization => ctx.trail_arn(),
        TrailMode::Account => account_trail_arn(ctx, account),
    }
}

/// The newest digest of one account and region: its key and when its hour ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewestDigest {
    pub key: String,
    pub end: SystemTime,
}

/// Seconds since the epoch, now.
pub fn now() -> SystemTime {
    SystemTime::now()
}

/// `YYYY/MM/DD` of a time (UTC), as in the key layout.
fn day_path(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let text = DateTime::from_secs(secs).fmt(Format::DateTime).unwrap_or_default();
    text.get(..10).unwrap_or_default().replace('-', "/")
}

/// The end time a digest's name carries (`..._YYYYMMDDTHHMMSSZ.json.gz`, backfills `..._backfill.json.gz`).
pub fn digest_end(key: &str) -> Option<SystemTime> {
    let stem = key.strip_suffix(".json.gz")?;
    let stem = stem.strip_suffix("_backfill").unwrap_or(stem);
    let stamp = stem.rsplit('_').next()?;
    if stamp.len() != 16 {
        return None;
    }
    let iso = format!("{}-{}-{}T{}:{}:{}Z", &stamp[0..4], &stamp[4..6], &stamp[6..8], &stamp[9..11], &stamp[11..13], &stamp[13..15]);
    let t = DateTime::from_str(&iso, Format::DateTime).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(t.secs()).ok()?))
}

/// The newest digest of `account` in `region` ending after `since`, listing only the days from
/// `since` to now under `.../ACCOUNT/CloudTrail-Digest/REGION/YYYY/MM/DD/` (one or two listings for
/// a two-hour window), through the log-archive account.
pub async fn newest_digest(ctx: &Ctx<'_>, s3: &aws_sdk_s3::Client, account: &str, region: &str, since: SystemTime) -> Result<Option<NewestDigest>, StepError> {
    let bucket = &ctx.config.log_archive.bucket;
    let root = format!("{}CloudTrail-Digest/{region}/", log_prefix(ctx, account));
    let mut days = vec![day_path(since)];
    let today = day_path(now());
    if days[0] != today {
        days.push(today);
    }
    let mut newest: Option<NewestDigest> = None;
    for day in days {
        let prefix = format!("{root}{day}/");
        let site = Site::new(&ctx.config.log_archive.account, s3.config().region(), format!("log-delivery s3://{bucket}/{prefix}"));
        let mut pages = s3.list_objects_v2().bucket(bucket).prefix(&prefix).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(site.fail("S3.ListObjectsV2"))?;
            for key in page.contents().iter().filter_map(|o| o.key()) {
                if let Some(end) = digest_end(key).filter(|e| *e >= since) {
                    if newest.as_ref().is_none_or(|n| end > n.end) {
                        newest = Some(NewestDigest { key: key.to_string(), end });
                    }
                }
            }
        }
    }
    Ok(newest)
}

/// The log-archive account's S3 client in the home region: where every listing of the record runs.
pub fn archive_s3(ctx: &Ctx<'_>) -> aws_sdk_s3::Client {
    ctx.aws.s3(&in_region(&ctx.session(&ctx.config.log_archive.account), ctx.home_region()))
}

/// The `delivery-check` step: a digest for the account in the home region within `[verify]
/// max_delivery_age`. None is a finding for an operator (needs-manual-action), not a failure:
/// CloudTrail's first digest arrives about an hour after a trail starts logging.
pub async fn delivery_check(ctx: &Ctx<'_>, account: &str) -> StepResult {
    let region = ctx.home_region();
    let root = format!("{}CloudTrail-Digest/{region}/", log_prefix(ctx, account));
    let resource = format!("log-delivery s3://{}/{root}", ctx.config.log_archive.bucket);
    let age = ctx.config.verify.max_delivery_age;
    let since = now().checked_sub(age).unwrap_or(UNIX_EPOCH);
    let newest = newest_digest(ctx, &archive_s3(ctx), account, region, since).await?;
    let mut outcome = Outcome::default();
    outcome.push(match newest {
        Some(_) => Change::no_change(resource),
        None => Change::new(
            resource.clone(),
            Action::ManualAction {
                instructions: format!(
                    "no CloudTrail digest for account {account} in {region} under {resource} within the last {} ([verify] \
                     max_delivery_age). CloudTrail delivers a digest every hour once a trail logs; if none arrive, run \
                     `orgtrail verify` (OrgTrail.Delivery quotes GetTrailStatus LatestDeliveryError of {} and names the cause: \
                     bucket policy, key policy or missing bucket), then `orgtrail apply` to repair the policies.",
                    crate::config::verify::format_duration(age),
                    delivering_trail(ctx, account)
                ),
            },
        ),
    });
    Ok(outcome)
}
