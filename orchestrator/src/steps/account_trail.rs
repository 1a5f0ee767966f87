//! `mode = "account"` (like Landing Zone Accelerator's accountTrails): orgtrail's own trail in each
//! targeted member account, converged through the assumed role with the organization trail's
//! properties minus IsOrganizationTrail: multi-region, global events, log file validation, the
//! central bucket and log-archive key, the configured selectors. CloudTrail itself keeps accounts
//! apart in the bucket (`{prefix}/AWSLogs/{account}/...`), so every account shares one prefix.
//! Widening the bucket and key policies for account mode is the log-bucket / kms-key steps' job.
use super::kms_key::lookup_key;
use super::support::in_region;
use super::trail::{converge_trail, describe, topic, TrailSpec};
use super::{Ctx, Outcome, StepResult};

/// The ARN of orgtrail's trail in a member account (account mode).
pub fn account_trail_arn(ctx: &Ctx<'_>, account: &str) -> String {
    crate::aws::Arn::new(ctx.partition(), "cloudtrail", ctx.home_region(), account, &format!("trail/{}", ctx.config.trail.name)).to_string()
}

/// The `account-trail` step for one member account.
pub async fn converge(ctx: &Ctx<'_>, account: &str) -> StepResult {
    let conf = in_region(&ctx.session(account), ctx.home_region());
    let ct = ctx.aws.cloudtrail(&conf);
    let arn = account_trail_arn(ctx, account);
    // Own trails only: the account's view with shadows would also hold organization trails.
    let live = describe(&ct, account, false).await?.into_iter().find(|t| t.trail_arn() == Some(arn.as_str()));
    let spec = TrailSpec::new(ctx, account, arn.clone(), false, lookup_key(ctx).await?, true);
    let mut outcome = Outcome::default();
    if let Some(name) = &ctx.config.trail.sns_topic {
        outcome.push(topic::converge(ctx, &conf, account, name, &arn).await?);
    }
    outcome.changes.extend(converge_trail(ctx, &ct, &spec, live).await?.changes);
    Ok(outcome)
}
