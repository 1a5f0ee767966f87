//! The record itself: OrgTrail.Delivery (the trail's own word, GetTrailStatus) and
//! OrgTrail.Coverage (the digests in the bucket, per account and region), both bounded by
//! `[verify] max_delivery_age`. Organization mode judges the organization trail and every targeted
//! account plus the management account; account mode each target's own trail.
mod coverage;
mod status;

use std::time::{SystemTime, UNIX_EPOCH};

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;

use super::Finding;
use crate::steps::Ctx;

pub async fn check(ctx: &Ctx<'_>) -> Vec<Finding> {
    let (mut findings, fresh) = status::check(ctx).await;
    findings.extend(coverage::check(ctx, &fresh).await);
    findings
}

/// The oldest end a delivery may have to count: now minus `max_delivery_age`.
fn since(ctx: &Ctx<'_>) -> SystemTime {
    SystemTime::now().checked_sub(ctx.config.verify.max_delivery_age).unwrap_or(UNIX_EPOCH)
}

fn iso(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    DateTime::from_secs(secs).fmt(Format::DateTime).unwrap_or_default()
}

fn max_age(ctx: &Ctx<'_>) -> String {
    crate::config::verify::format_duration(ctx.config.verify.max_delivery_age)
}
