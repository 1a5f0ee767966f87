//! A trail's selectors judged from the side that may read them. AWS documents a member's read of
//! the organization trail by ARN for GetTrailStatus only (GetEventSelectors from a member fails on
//! some organizations), so whether an organization trail logs management events is read once per
//! run with the base credentials (the management account, or a delegated administrator by ARN)
//! and shared by every member's check; a trail the member owns itself is read from the member.
use super::logs_management_events;
use crate::aws::{Arn, Site};
use crate::steps::support::{in_region, trail_resource};
use crate::steps::{Ctx, StepError};

/// Whether the trail `arn`, homed in `region`, logs management events, as its owner's side reads
/// it. `account` is the account being checked: when it owns the trail, it reads it itself.
pub async fn logs_management_events_of(ctx: &Ctx<'_>, account: &str, arn: &str, region: &str) -> Result<bool, StepError> {
    let owner = Arn::account_of(arn).unwrap_or_default();
    if owner == account {
        return read(ctx, account, arn, region).await;
    }
    let key = format!("logs-management-events {arn}");
    ctx.aws.memo.flag(&key, || read(ctx, &ctx.caller.account, arn, region)).await
}

/// GetEventSelectors by ARN through `acting`'s session (the base credentials for the caller).
async fn read(ctx: &Ctx<'_>, acting: &str, arn: &str, region: &str) -> Result<bool, StepError> {
    let ct = ctx.aws.cloudtrail(&in_region(&ctx.session(acting), region));
    let site = Site::new(acting, ct.config().region(), trail_resource(arn));
    let out = ct.get_event_selectors().trail_name(arn).send().await.map_err(site.fail("CloudTrail.GetEventSelectors"))?;
    Ok(logs_management_events(&out))
}
