//! Per member account, through its assumed role:
//! - `check_member`: the organization trail reaches the account (DescribeTrails with shadow trails
//!   in the home region lists it by its full ARN) and is logging (GetTrailStatus by that ARN); the
//!   account's own trails that log management events again (billed twice) are found in every
//!   region enabled for the account.
//! - `legacy_trails`: `keep | stop | delete` those duplicates, only once the organization trail is
//!   confirmed for that account (re-checked right before acting), never when the check failed.
//! - `delivery_check`: log objects exist under the account's prefix in the central bucket.
//!
//! In account mode the trail that must reach the account is orgtrail's own trail there.
use aws_sdk_cloudtrail::types::Trail as LiveTrail;
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::Serialize;

use super::account_trail::account_trail_arn;
use super::org_trail::{describe, fail, in_region, logs_management_events, trail_resource};
use super::{Action, Change, Ctx, Outcome, StepError, StepResult};
use crate::aws::metrics::MetricsInterceptor;
use crate::config::{ExistingOrgTrail, LegacyTrails, TrailMode};

/// Regions of one account searched at once (per account; the executor bounds accounts in flight).
pub const REGION_CONCURRENCY: usize = 4;

/// A trail the member account owns that logs management events the organization trail already logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegacyTrail {
    pub arn: String,
    pub name: String,
    pub home_region: String,
    pub multi_region: bool,
}

/// What the member-side checks found in one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberFindings {
    pub account: String,
    /// Regions enabled for the account, home region first: where legacy trails were looked for.
    pub regions: Vec<String>,
    /// The trail that must reach the account: the organization trail (account mode: orgtrail's own).
    pub expected_trail: String,
    pub visible: bool,
    pub logging: bool,
    pub duplicates: Vec<LegacyTrail>,
}

impl MemberFindings {
    /// The organization trail check passed: visible in the account and logging.
    pub fn confirmed(&self) -> bool {
        self.visible && self.logging
    }

    fn problem(&self) -> Option<String> {
        let home = self.regions.first().map(String::as_str).unwrap_or("");
        if !self.visible {
            Some(format!("trail {} is not visible in account {} (DescribeTrails with shadow trails in {home})", self.expected_trail, self.account))
        } else if !self.logging {
            Some(format!("trail {} is visible in account {} but not logging (GetTrailStatus IsLogging=false)", self.expected_trail, self.account))
        } else {
            None
        }
    }
}

fn arn_part(arn: &str, i: usize) -> &str {
    arn.split(':').nth(i).unwrap_or("")
}

/// The regions enabled for `account`, the home region first, from the Account API's ListRegions
/// called with the account's own role. Why this source: a single-region legacy trail can sit in
/// any enabled region; opt-in regions differ per account, and a call to a disabled one fails. One
/// ListRegions call answers it exactly, and aws-sdk-account is a small crate, where EC2's
/// DescribeRegions would pull in the largest SDK crate for one call, and a configured list would
/// go stale and hit disabled opt-in regions.
pub async fn enabled_regions(ctx: &Ctx<'_>, account: &str) -> Result<Vec<String>, StepError> {
    use aws_sdk_account::types::RegionOptStatus;
    let conf = ctx.session(account);
    let client = aws_sdk_account::Client::from_conf(aws_sdk_account::config::Builder::from(&conf).interceptor(MetricsInterceptor(ctx.aws.metrics.clone())).build());
    let mut regions = vec![ctx.home_region().to_string()];
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_regions()
            .region_opt_status_contains(RegionOptStatus::Enabled)
            .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
            .max_results(50)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(fail(account, "account-regions", "Account.ListRegions"))?;
        regions.extend(page.regions().iter().filter_map(|r| r.region_name()).filter(|r| *r != ctx.home_region()).map(str::to_string));
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(regions),
        }
    }
}

/// (logging, selects management events) of a trail, read by ARN with a client in its home region.
async fn trail_state(ct: &aws_sdk_cloudtrail::Client, account: &str, arn: &str) -> Result<(bool, bool), StepError> {
    let resource = trail_resource(arn);
    let status = ct.get_trail_status().name(arn).send().await.map_err(fail(account, &resource, "CloudTrail.GetTrailStatus"))?;
    let sel = ct.get_event_selectors().trail_name(arn).send().await.map_err(fail(account, &resource, "CloudTrail.GetEventSelectors"))?;
    Ok((status.is_logging() == Some(true), logs_management_events(&sel)))
}

/// Reads only: the organization trail as the account sees it, and the account's duplicate trails.
pub async fn inspect_member(ctx: &Ctx<'_>, account: &str) -> Result<MemberFindings, StepError> {
    let regions = enabled_regions(ctx, account).await?;
    let session = ctx.session(account);
    let home = ctx.home_region().to_string();
    let listings: Vec<(String, Vec<LiveTrail>)> = stream::iter(regions.clone())
        .map(|r| {
            let ct = ctx.aws.cloudtrail(&in_region(&session, &r));
            let shadows = r == home; // organization trails show up as shadows; once is enough
            async move { describe(&ct, account, shadows).await.map(|t| (r, t)) }
        })
        .buffer_unordered(REGION_CONCURRENCY)
        .try_collect()
        .await?;
    let all: Vec<&LiveTrail> = listings.iter().flat_map(|(_, t)| t).collect();
    let arn_of = |t: &LiveTrail| t.trail_arn().unwrap_or_default().to_string();

    // The trail that must reach the account, and the trails whose management events make an
    // account's own trail a duplicate.
    let mgmt = ctx.management_account();
    let (expected, covering): (String, Vec<String>) = match ctx.config.trail.mode {
        TrailMode::Account => {
            let arn = account_trail_arn(ctx, account);
            (arn.clone(), vec![arn])
        }
        TrailMode::Organization => {
            let org: Vec<String> = all.iter().filter(|t| t.is_organization_trail() == Some(true) && arn_part(&arn_of(t), 4) == mgmt).map(|t| arn_of(t)).collect();
            let ours = ctx.trail_arn();
            let expected = if org.contains(&ours) || ctx.config.trail.existing_org_trail != ExistingOrgTrail::Adopt {
                ours
            } else {
                org.first().cloned().unwrap_or(ours)
            };
            (expected, org)
        }
    };
    let visible = all.iter().any(|t| arn_of(t) == expected);
    let home_ct = ctx.aws.cloudtrail(&in_region(&session, &home));
    let mut logging = false;
    let mut covered = false;
    for arn in covering.iter().filter(|a| all.iter().any(|t| &&arn_of(t) == a)) {
        let (on, mgmt_events) = trail_state(&home_ct, account, arn).await?;
        logging |= on && *arn == expected;
        covered |= mgmt_events;
    }

    // The account's own trails (not orgtrail's), homed where they were listed, deduplicated.
    let mut own: Vec<LegacyTrail> = Vec::new();
    for (region, trails) in &listings {
        for t in trails {
            let arn = arn_of(t);
            if arn_part(&arn, 4) == account && arn_part(&arn, 3) == region && arn != expected && !own.iter().any(|o| o.arn == arn) {
                own.push(LegacyTrail { name: t.name().unwrap_or_default().to_string(), home_region: region.clone(), multi_region: t.is_multi_region_trail() == Some(true), arn });
            }
        }
    }
    // Without a covering trail that logs management events, the account's trails duplicate nothing.
    let duplicates = if covered {
        stream::iter(own)
            .map(|t| {
                let ct = ctx.aws.cloudtrail(&in_region(&session, &t.home_region));
                async move { trail_state(&ct, account, &t.arn).await.map(|(on, mgmt_events)| (on && mgmt_events).then_some(t)) }
            })
            .buffered(REGION_CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await?
            .into_iter()
            .flatten()
            .collect()
    } else {
        Vec::new()
    };
    Ok(MemberFindings { account: account.to_string(), regions, expected_trail: expected, visible, logging, duplicates })
}

/// The `member-checks` step: fails (Refused, naming what is wrong) when the organization trail is
/// not visible or not logging in the account. Duplicate trails are reported: as a manual action
/// with `legacy_trails = "keep"` (orgtrail was told not to touch them, yet they cost twice), as
/// information otherwise (the legacy-trails step acts on them).
pub async fn check_member(ctx: &Ctx<'_>, account: &str) -> StepResult {
    let f = inspect_member(ctx, account).await?;
    if let Some(problem) = f.problem() {
        return Err(StepError::refused(account, trail_resource(&f.expected_trail), problem));
    }
    let mut outcome = Outcome::default();
    outcome.push(Change::no_change(format!("{} (seen and logging in {account})", trail_resource(&f.expected_trail))));
    let policy = ctx.config.trail.legacy_trails;
    for d in &f.duplicates {
        let resource = format!("{} (duplicates management events)", trail_resource(&d.arn));
        outcome.push(match policy {
            LegacyTrails::Keep => Change::new(
                resource,
                Action::ManualAction {
                    instructions: format!(
                        "account {account}: trail {} logs management events the organization trail already logs (billed twice). \
                         Stop it (`aws cloudtrail stop-logging --name {} --region {}`) or set legacy_trails = \"stop\" or \"delete\"",
                        d.arn, d.arn, d.home_region
                    ),
                },
            ),
            LegacyTrails::Stop | LegacyTrails::Delete => Change::no_change(resource),
        });
    }
    Ok(outcome)
}

/// The `legacy-trails` step: inspects the account afresh, then acts per `legacy_trails`.
pub async fn legacy_trails(ctx: &Ctx<'_>, account: &str) -> StepResult {
    let findings = inspect_member(ctx, account).await?;
    act_on_legacy_trails(ctx, account, &findings).await
}

/// Stop or delete the duplicates in `findings`, only when its organization-trail check passed and
/// GetTrailStatus still says the trail logs right before acting. Refused (nothing touched) otherwise.
pub async fn act_on_legacy_trails(ctx: &Ctx<'_>, account: &str, findings: &MemberFindings) -> StepResult {
    let policy = ctx.config.trail.legacy_trails;
    let mut outcome = Outcome::default();
    if policy == LegacyTrails::Keep {
        return Ok(outcome);
    }
    // Refused even with no duplicates in sight: without a confirmed trail, an account's own trails
    // duplicate nothing yet, and the step must not read as done before the trail reaches the account.
    let refuse = |why: String| StepError::refused(account, trail_resource(&findings.expected_trail), format!("legacy trails left untouched: {why}"));
    if findings.account != account {
        return Err(refuse(format!("the findings are for account {}", findings.account)));
    }
    if let Some(problem) = findings.problem() {
        return Err(refuse(problem));
    }
    if findings.duplicates.is_empty() {
        return Ok(outcome);
    }
    let session = ctx.session(account);
    if ctx.apply {
        let home_ct = ctx.aws.cloudtrail(&in_region(&session, ctx.home_region()));
        let resource = trail_resource(&findings.expected_trail);
        let status = home_ct.get_trail_status().name(&findings.expected_trail).send().await.map_err(fail(account, &resource, "CloudTrail.GetTrailStatus"))?;
        if status.is_logging() != Some(true) {
            return Err(refuse(format!("trail {} stopped logging in account {account}", findings.expected_trail)));
        }
    }
    for d in &findings.duplicates {
        let resource = trail_resource(&d.arn);
        // StopLogging and DeleteTrail must be called in the trail's home region.
        let ct = ctx.aws.cloudtrail(&in_region(&session, &d.home_region));
        outcome.push(match policy {
            LegacyTrails::Stop => {
                if ctx.apply {
                    ct.stop_logging().name(&d.arn).send().await.map_err(fail(account, &resource, "CloudTrail.StopLogging"))?;
                }
                Change::update(resource, vec!["IsLogging".into()])
            }
            _ => {
                if ctx.apply {
                    ct.delete_trail().name(&d.arn).send().await.map_err(fail(account, &resource, "CloudTrail.DeleteTrail"))?;
                }
                Change::new(resource, Action::Delete)
            }
        });
    }
    Ok(outcome)
}

/// Where CloudTrail writes this account's logs in the central bucket.
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

/// The `delivery-check` step: at least one object under the account's prefix, listed through the
/// log-archive account. None yet is a finding for an operator (needs-manual-action), not a failure:
/// CloudTrail delivers about every 5 minutes, so a fresh trail may not have delivered yet.
pub async fn delivery_check(ctx: &Ctx<'_>, account: &str) -> StepResult {
    let la = &ctx.config.log_archive;
    let prefix = log_prefix(ctx, account);
    let resource = format!("log-delivery s3://{}/{prefix}", la.bucket);
    let s3 = ctx.aws.s3(&in_region(&ctx.session(&la.account), ctx.home_region()));
    let out = s3.list_objects_v2().bucket(&la.bucket).prefix(&prefix).max_keys(1).send().await.map_err(fail(&la.account, &resource, "S3.ListObjectsV2"))?;
    let mut outcome = Outcome::default();
    outcome.push(if out.contents().is_empty() {
        Change::new(
            resource.clone(),
            Action::ManualAction {
                instructions: format!(
                    "no CloudTrail log files for account {account} under {resource} yet. CloudTrail delivers about every 5 minutes \
                     once a trail logs; if none arrive, look at GetTrailStatus LatestDeliveryError of {}, the bucket policy \
                     (AWSCloudTrailWrite for this prefix) and the KMS key policy (cloudtrail.amazonaws.com kms:GenerateDataKey*), \
                     then run `orgtrail verify` again. The local emulator never delivers log files.",
                    match ctx.config.trail.mode {
                        TrailMode::Organization => ctx.trail_arn(),
                        TrailMode::Account => account_trail_arn(ctx, account),
                    }
                ),
            },
        )
    } else {
        Change::no_change(resource)
    });
    Ok(outcome)
}
