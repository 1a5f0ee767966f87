//! Per member account, through its assumed role:
//! - `check_member`: the organization trail reaches the account (GetTrailStatus by its full ARN
//!   answers from the account, docs/design.md "Legacy-trail search") and is logging; the account's
//!   own trails that log management events again (billed twice) are found with ListTrails, which
//!   names every trail of the account with its home region (one call, not one per region).
//! - `legacy_trails`: `keep | stop | delete` those duplicates, only once the organization trail is
//!   confirmed for that account (re-checked right before acting), never when the check failed.
//! (`delivery_check`, the record itself, is in steps/delivery_check.rs.)
//!
//! In account mode the trail that must reach the account is orgtrail's own trail there.
use aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput;
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::Serialize;

use super::account_trail::account_trail_arn;
use super::support::{in_region, trail_resource};
use super::trail::logs_management_events;
use super::{Action, Change, Ctx, Outcome, StepError, StepResult};
use crate::aws::{Arn, Site};
use crate::config::{ExistingOrgTrail, LegacyTrails, TrailMode};

/// Reads of one account made at once (per account; the executor bounds accounts in flight).
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
    /// Regions enabled for the account, home region first: where its trails can be homed.
    pub regions: Vec<String>,
    /// Where ListTrails was called: the home region, then each enabled opt-in region.
    pub listed_in: Vec<String>,
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
            Some(format!("trail {} is not visible in account {} (GetTrailStatus by ARN in {home}: not found)", self.expected_trail, self.account))
        } else if !self.logging {
            Some(format!("trail {} is visible in account {} but not logging (GetTrailStatus IsLogging=false)", self.expected_trail, self.account))
        } else {
            None
        }
    }
}

/// The account that owns a listed trail, from its ARN.
fn owner(arn: &str) -> String {
    Arn::account_of(arn).unwrap_or_default()
}

/// A region enabled for an account; `opt_in` when it had to be enabled (status ENABLED, not
/// ENABLED_BY_DEFAULT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnabledRegion {
    pub name: String,
    pub opt_in: bool,
}

/// The regions enabled for `account`, the home region first, from the Account API's ListRegions
/// called with the account's own role. Why this source: opt-in regions differ per account, a call
/// to a disabled one fails, and one ListRegions call answers it exactly (aws-sdk-account is a
/// small crate; EC2's DescribeRegions would pull in the largest SDK crate for one call).
pub async fn enabled_regions(ctx: &Ctx<'_>, account: &str) -> Result<Vec<EnabledRegion>, StepError> {
    use aws_sdk_account::types::RegionOptStatus;
    let conf = ctx.session(account);
    let client = ctx.aws.account(&conf);
    let site = Site::new(account, conf.region(), "account-regions");
    let home = ctx.home_region();
    let mut regions = vec![EnabledRegion { name: home.to_string(), opt_in: false }];
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
            .map_err(site.fail("Account.ListRegions"))?;
        for r in page.regions() {
            let Some(name) = r.region_name() else { continue };
            let opt_in = r.region_opt_status() == Some(&RegionOptStatus::Enabled);
            if name == home {
                regions[0].opt_in = opt_in;
            } else {
                regions.push(EnabledRegion { name: name.to_string(), opt_in });
            }
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(regions),
        }
    }
}

/// A trail as ListTrails names it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed {
    arn: String,
    name: String,
    home_region: String,
}

/// Every trail ListTrails returns through `ct` (all pages).
async fn list_trails(ct: &aws_sdk_cloudtrail::Client, account: &str) -> Result<Vec<Listed>, StepError> {
    let site = Site::new(account, ct.config().region(), "cloudtrail-trails");
    let mut out = Vec::new();
    let mut pages = ct.list_trails().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(site.fail("CloudTrail.ListTrails"))?;
        for t in page.trails() {
            let arn = t.trail_arn().unwrap_or_default().to_string();
            let home_region = t.home_region().map_or_else(|| arn.parse::<Arn>().map(|a| a.region().to_string()).unwrap_or_default(), str::to_string);
            out.push(Listed { name: t.name().unwrap_or_default().to_string(), home_region, arn });
        }
    }
    Ok(out)
}

/// ListTrails in the home region, and in each enabled opt-in region other than it, deduplicated by
/// ARN. AWS documents ListTrails as listing the account's trails with their home regions; it does
/// not say whether a trail homed in an opt-in region is listed from another region, so each enabled
/// opt-in region is asked too (no extra call for an account with none enabled).
async fn account_trails(ctx: &Ctx<'_>, account: &str, home_listing: Vec<Listed>, regions: &[EnabledRegion]) -> Result<(Vec<Listed>, Vec<String>), StepError> {
    let session = ctx.session(account);
    let home = ctx.home_region();
    let opt_in: Vec<String> = regions.iter().filter(|r| r.opt_in && r.name != home).map(|r| r.name.clone()).collect();
    let more: Vec<Vec<Listed>> = stream::iter(opt_in.clone())
        .map(|r| {
            let ct = ctx.aws.cloudtrail(&in_region(&session, &r));
            async move { list_trails(&ct, account).await }
        })
        .buffered(REGION_CONCURRENCY)
        .try_collect()
        .await?;
    let mut all = home_listing;
    for t in more.into_iter().flatten() {
        if !all.iter().any(|a| a.arn == t.arn) {
            all.push(t);
        }
    }
    Ok((all, std::iter::once(home.to_string()).chain(opt_in).collect()))
}

/// The trail as read by ARN from the account in `region`: None when AWS says the account cannot
/// see it (TrailNotFoundException; CloudTrailARNInvalidException for another account's trail that
/// is not an organization trail of its organization), else (logging, logs management events).
async fn probe(ctx: &Ctx<'_>, account: &str, arn: &str, region: &str) -> Result<Option<(bool, bool)>, StepError> {
    let ct = ctx.aws.cloudtrail(&in_region(&ctx.session(account), region));
    let site = Site::new(account, ct.config().region(), trail_resource(arn));
    let (status, selectors) = tokio::join!(ct.get_trail_status().name(arn).send(), ct.get_event_selectors().trail_name(arn).send());
    let unseen = |code: Option<&str>| matches!(code, Some("TrailNotFoundException" | "CloudTrailARNInvalidException"));
    let status = match status {
        Ok(s) => s,
        Err(e) if unseen(aws_sdk_cloudtrail::error::ProvideErrorMetadata::code(&e)) => return Ok(None),
        Err(e) => return Err(site.fail("CloudTrail.GetTrailStatus")(e).into()),
    };
    let selectors: GetEventSelectorsOutput = selectors.map_err(site.fail("CloudTrail.GetEventSelectors"))?;
    Ok(Some((status.is_logging() == Some(true), logs_management_events(&selectors))))
}

/// An own trail read in its home region: a duplicate when it logs and selects management events.
async fn legacy(ctx: &Ctx<'_>, account: &str, t: Listed) -> Result<Option<LegacyTrail>, StepError> {
    let ct = ctx.aws.cloudtrail(&in_region(&ctx.session(account), &t.home_region));
    let site = Site::new(account, ct.config().region(), trail_resource(&t.arn));
    let (status, selectors, trail) =
        tokio::join!(ct.get_trail_status().name(&t.arn).send(), ct.get_event_selectors().trail_name(&t.arn).send(), ct.get_trail().name(&t.arn).send());
    let on = status.map_err(site.fail("CloudTrail.GetTrailStatus"))?.is_logging() == Some(true);
    let mgmt = logs_management_events(&selectors.map_err(site.fail("CloudTrail.GetEventSelectors"))?);
    let multi_region = trail.map_err(site.fail("CloudTrail.GetTrail"))?.trail().and_then(|t| t.is_multi_region_trail()) == Some(true);
    Ok((on && mgmt).then_some(LegacyTrail { arn: t.arn, name: t.name, home_region: t.home_region, multi_region }))
}

/// Reads only: the organization trail as the account sees it, and the account's duplicate trails.
/// With no legacy trails and no opt-in region enabled this is four calls after AssumeRole, all made
/// at once: ListRegions, ListTrails, and GetTrailStatus + GetEventSelectors of the expected trail.
pub async fn inspect_member(ctx: &Ctx<'_>, account: &str) -> Result<MemberFindings, StepError> {
    let home = ctx.home_region().to_string();
    let mgmt = ctx.management_account().to_string();
    let ours = match ctx.config.trail.mode {
        TrailMode::Account => account_trail_arn(ctx, account),
        TrailMode::Organization => ctx.trail_arn(),
    };
    let home_ct = ctx.aws.cloudtrail(&in_region(&ctx.session(account), &home));
    let (regions, home_listing, ours_seen) = tokio::join!(enabled_regions(ctx, account), list_trails(&home_ct, account), probe(ctx, account, &ours, &home));
    let regions = regions?;
    let (listed, listed_in) = account_trails(ctx, account, home_listing?, &regions).await?;

    // Organization trails of the management account the account lists (Control Tower's, say).
    let org_listed: Vec<&Listed> = match ctx.config.trail.mode {
        TrailMode::Account => Vec::new(),
        TrailMode::Organization => listed.iter().filter(|t| owner(&t.arn) == mgmt && t.arn != ours).collect(),
    };
    let mut expected = (ours, ours_seen?);
    if expected.1.is_none() && ctx.config.trail.mode == TrailMode::Organization && ctx.config.trail.existing_org_trail == ExistingOrgTrail::Adopt {
        if let Some(t) = org_listed.first() {
            expected = (t.arn.clone(), probe(ctx, account, &t.arn, &t.home_region).await?);
        }
    }
    let (expected, seen) = expected;
    let (visible, logging) = (seen.is_some(), seen.is_some_and(|(on, _)| on));
    // Own trails duplicate management events only when a trail of the organization logs them.
    let mut covered = seen.is_some_and(|(_, mgmt_events)| mgmt_events);
    for t in org_listed.iter().filter(|t| t.arn != expected) {
        if covered {
            break;
        }
        covered = probe(ctx, account, &t.arn, &t.home_region).await?.is_some_and(|(_, mgmt_events)| mgmt_events);
    }

    let own: Vec<Listed> = listed.into_iter().filter(|t| owner(&t.arn) == account && t.arn != expected).collect();
    let duplicates = if covered && !own.is_empty() {
        stream::iter(own).map(|t| legacy(ctx, account, t)).buffered(REGION_CONCURRENCY).try_collect::<Vec<_>>().await?.into_iter().flatten().collect()
    } else {
        Vec::new()
    };
    Ok(MemberFindings { account: account.to_string(), regions: regions.into_iter().map(|r| r.name).collect(), listed_in, expected_trail: expected, visible, logging, duplicates })
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
        let site = Site::new(account, home_ct.config().region(), trail_resource(&findings.expected_trail));
        let status = home_ct.get_trail_status().name(&findings.expected_trail).send().await.map_err(site.fail("CloudTrail.GetTrailStatus"))?;
        if status.is_logging() != Some(true) {
            return Err(refuse(format!("trail {} stopped logging in account {account}", findings.expected_trail)));
        }
    }
    for d in &findings.duplicates {
        let resource = trail_resource(&d.arn);
        // StopLogging and DeleteTrail must be called in the trail's home region.
        let ct = ctx.aws.cloudtrail(&in_region(&session, &d.home_region));
        let site = Site::new(account, ct.config().region(), resource.clone());
        outcome.push(match policy {
            LegacyTrails::Stop => {
                if ctx.apply {
                    ct.stop_logging().name(&d.arn).send().await.map_err(site.fail("CloudTrail.StopLogging"))?;
                }
                Change::update(resource, vec!["IsLogging".into()])
            }
            _ => {
                if ctx.apply {
                    ct.delete_trail().name(&d.arn).send().await.map_err(site.fail("CloudTrail.DeleteTrail"))?;
                }
                Change::new(resource, Action::Delete)
            }
        });
    }
    Ok(outcome)
}
