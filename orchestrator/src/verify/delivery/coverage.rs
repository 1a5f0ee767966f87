//! OrgTrail.Coverage: every targeted account has, in every region the trail covers (a multi-region
//! trail: each region enabled for the account), a digest ending within `max_delivery_age`. Digests
//! prove absence as well as presence (CloudTrail delivers one every hour even without log files), so
//! a region without one is a region whose record is not arriving. Listed per (account, region, day),
//! the narrowest prefix, with the run's concurrency; one finding per account, so an account missing
//! everywhere is one line naming its regions' count, not one per region.
use std::collections::BTreeMap;

use futures::stream::{self, StreamExt};

use super::super::{Control, Finding, Status};
use super::{iso, max_age, since};
use crate::config::TrailMode;
use crate::steps::delivery_check::{archive_s3, log_prefix, newest_digest, NewestDigest};
use crate::steps::member_checks::enabled_regions;
use crate::steps::{Ctx, StepError};

const CONTROL: Control = Control::OrgTrailCoverage;

/// The accounts whose record the trail must carry.
fn accounts(ctx: &Ctx<'_>) -> Vec<String> {
    let mut out: Vec<String> = ctx.targets.to_vec();
    if ctx.config.trail.mode == TrailMode::Organization && !out.iter().any(|a| a == ctx.management_account()) {
        out.insert(0, ctx.management_account().to_string());
    }
    out
}

/// The regions the trail covers for `account`: orgtrail's trail is multi-region (CloudTrail.1), so
/// every region enabled for the account.
/// The management account's regions are read with the caller's own credentials when the caller is
/// a delegated administrator: verify never acts as the management account it does not run as.
async fn regions(ctx: &Ctx<'_>, account: &str) -> Result<Vec<String>, StepError> {
    let probe = if account == ctx.management_account() && ctx.caller.account != account { ctx.caller.account.as_str() } else { account };
    Ok(enabled_regions(ctx, probe).await?.into_iter().map(|r| r.name).collect())
}

/// `fresh`: the trail owners whose first delivery is not due yet (status.rs); their accounts are
/// NOT-APPLICABLE rather than missing.
pub async fn check(ctx: &Ctx<'_>, fresh: &[String]) -> Vec<Finding> {
    let owner = |account: &str| match ctx.config.trail.mode {
        TrailMode::Organization => ctx.management_account().to_string(),
        TrailMode::Account => account.to_string(),
    };
    let (pending, judged): (Vec<String>, Vec<String>) = accounts(ctx).into_iter().partition(|a| fresh.contains(&owner(a)));
    let mut findings: Vec<Finding> = pending
        .iter()
        .map(|a| Finding::new(CONTROL, a, resource(ctx, a), Status::NotApplicable, "first delivery not due (see OrgTrail.Delivery)"))
        .collect();
    let concurrency = ctx.config.access.max_concurrency.max(1);
    let since = since(ctx);
    let s3 = archive_s3(ctx);
    let covered: Vec<(String, Result<Vec<String>, StepError>)> =
        stream::iter(judged).map(|a| async move { let r = regions(ctx, &a).await; (a, r) }).buffer_unordered(concurrency).collect().await;
    let mut pairs = Vec::new();
    for (account, regions) in covered {
        match regions {
            Ok(regions) => pairs.extend(regions.into_iter().map(|r| (account.clone(), r))),
            Err(e) => findings.push(Finding::error(CONTROL, &account, resource(ctx, &account), &e)),
        }
    }
    let listed: Vec<(String, String, Result<Option<NewestDigest>, StepError>)> = stream::iter(pairs)
        .map(|(account, region)| {
            let s3 = &s3;
            async move {
                let newest = newest_digest(ctx, s3, &account, &region, since).await;
                (account, region, newest)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let mut per_account: BTreeMap<String, Vec<(String, Result<Option<NewestDigest>, StepError>)>> = BTreeMap::new();
    for (account, region, newest) in listed {
        per_account.entry(account).or_default().push((region, newest));
    }
    for (account, mut regions) in per_account {
        regions.sort_by(|a, b| a.0.cmp(&b.0));
        findings.push(judge(ctx, &account, regions));
    }
    findings
}

fn resource(ctx: &Ctx<'_>, account: &str) -> String {
    format!("log-delivery s3://{}/{}CloudTrail-Digest/", ctx.config.log_archive.bucket, log_prefix(ctx, account))
}

fn judge(ctx: &Ctx<'_>, account: &str, regions: Vec<(String, Result<Option<NewestDigest>, StepError>)>) -> Finding {
    let resource = resource(ctx, account);
    let total = regions.len();
    let mut delivered = Vec::new();
    let mut missing = Vec::new();
    for (region, newest) in regions {
        match newest {
            Ok(Some(d)) => delivered.push((region, d)),
            Ok(None) => missing.push(region),
            Err(e) => return Finding::error(CONTROL, account, resource, &e),
        }
    }
    let age = max_age(ctx);
    if missing.is_empty() {
        let newest = delivered.iter().map(|(_, d)| d.end).max().map(iso).unwrap_or_default();
        return Finding::new(CONTROL, account, resource, Status::Pass, format!("delivered in {total} of {total} regions (newest digest ends {newest}, within {age})"));
    }
    let evidence = if delivered.is_empty() {
        format!("missing in every region the trail covers ({total}): no digest ending within {age}")
    } else {
        format!("missing in {} of {total} regions ({}): no digest ending within {age}; delivered in {}", missing.len(), missing.join(", "), delivered.len())
    };
    Finding::new(CONTROL, account, resource, Status::Fail, evidence)
}
