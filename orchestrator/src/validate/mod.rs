//! `orgtrail validate-logs`: proves each account x region's CloudTrail record complete and
//! untampered from the trail's signed hourly digests (evidence spec: vocabulary, incremental and
//! sharded validation). Pure parts (digest model, signature, chain, results, shards) are apart
//! from the S3 and CloudTrail reads (listing, fetch, keys, walker), so each is tested on its own.
pub mod chain;
pub mod digest;
mod fetch;
mod keys;
pub mod listing;
pub mod render;
pub mod results;
pub mod shard;
pub mod signature;
pub mod tails;
pub mod times;
mod walker;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use futures::{stream, StreamExt};
use tokio::sync::Semaphore;

use crate::config::TrailMode;
use crate::steps::support::in_region;
use crate::steps::Ctx;
use listing::Place;
pub use results::{ChainHead, Finding, PairResult, Report, Subject, Summary, Verdict};
pub use shard::Shard;
use times::Window;

/// What one run validates.
#[derive(Debug, Clone)]
pub struct Request {
    pub window: Window,
    /// The accounts whose records are validated (resolved from --accounts / --wave / the plan).
    pub accounts: Vec<String>,
    /// None: every region the accounts have digests in.
    pub regions: Option<Vec<String>>,
    pub digests_only: bool,
    /// Chain from these heads (`--since-last`); pairs without one validate the window.
    pub since_last: Option<Vec<ChainHead>>,
    pub shard: Option<Shard>,
    pub concurrency: usize,
    /// When the run looks: digests of the last `tails::DELIVERY_LAG` are not yet due.
    pub now: times::Time,
}

/// The trail the heads of this configuration belong to: the organization trail's ARN, or the
/// per-account trails' name in account mode.
pub fn trail_id(ctx: &Ctx<'_>) -> String {
    let name = &ctx.config.trail.name;
    match ctx.config.trail.mode {
        TrailMode::Organization => crate::aws::Arn::new(ctx.partition(), "cloudtrail", ctx.home_region(), ctx.management_account(), &format!("trail/{name}")).to_string(),
        TrailMode::Account => format!("account-trails/{name}"),
    }
}

/// The account's folder in the bucket: `[prefix/]AWSLogs/[O-ID/]ACCOUNT/`.
fn account_base(ctx: &Ctx<'_>, account: &str) -> String {
    let prefix = ctx.config.log_archive.prefix.as_deref().filter(|p| !p.is_empty()).map(|p| format!("{}/", p.trim_end_matches('/'))).unwrap_or_default();
    match ctx.config.trail.mode {
        TrailMode::Organization => format!("{prefix}AWSLogs/{}/{account}/", ctx.org.id),
        TrailMode::Account => format!("{prefix}AWSLogs/{account}/"),
    }
}

pub async fn validate(ctx: &Ctx<'_>, req: &Request) -> Report {
    let la = &ctx.config.log_archive;
    let trail = trail_id(ctx);
    let s3 = ctx.aws.s3(&in_region(&ctx.session(&la.account), ctx.home_region()));
    let permits = Arc::new(Semaphore::new(req.concurrency.max(1)));
    let mut findings = Vec::new();
    let regions: Vec<String> = match &req.regions {
        Some(r) => r.clone(),
        None => discover_regions(ctx, &s3, &req.accounts, &permits, &mut findings).await,
    };
    let pairs: Vec<(String, String)> = req.accounts.iter().flat_map(|a| regions.iter().map(move |r| (a.clone(), r.clone()))).filter(|(a, r)| req.shard.is_none_or(|s| s.takes(a, r))).collect();
    let heads: HashMap<(String, String), ChainHead> = req.since_last.iter().flatten().map(|h| ((h.account.clone(), h.region.clone()), h.clone())).collect();
    let key_from = heads.values().filter_map(|h| times::parse_time(&h.end_time).ok()).chain([req.window.start]).min().unwrap_or(req.window.start);
    let wanted: BTreeSet<&str> = pairs.iter().map(|(_, r)| r.as_str()).collect();
    let clients = wanted
        .into_iter()
        .map(|region| {
            let ct = ctx.aws.cloudtrail(&in_region(ctx.aws.base(), region));
            let site = crate::aws::Site::new(&ctx.caller.account, ct.config().region(), "cloudtrail-public-keys");
            (region.to_string(), ct, site)
        })
        .collect();
    let (keys, ring_errors) = keys::Keys::load_all(clients, key_from, req.window.end + time::Duration::hours(2)).await;
    let scope = walker::Scope { s3, reader: la.account.clone(), keys: Arc::new(keys), window: req.window, digests_only: req.digests_only, trail: trail.clone(), permits };
    let walked: Vec<(PairResult, Vec<Finding>, Option<tails::Tail>)> = stream::iter(pairs.iter())
        .map(|(account, region)| {
            let place = Place { bucket: la.bucket.clone(), base: account_base(ctx, account), account: account.clone(), region: region.clone(), trail_name: ctx.config.trail.name.clone(), home_region: ctx.home_region().to_string() };
            let head = heads.get(&(account.clone(), region.clone()));
            let (scope, ring_errors) = (&scope, &ring_errors);
            async move {
                if let Some(e) = ring_errors.get(region) {
                    let f = Finding::new(account, region, Subject::Pair, Verdict::Error, place.digest_folder(), format!("no public keys to check signatures with: {e}"));
                    return (PairResult { account: account.clone(), region: region.clone(), ..PairResult::default() }, vec![f], None);
                }
                walker::walk(scope, &place, head).await
            }
        })
        .buffer_unordered(req.concurrency.max(1))
        .collect()
        .await;
    let mut pairs_out = Vec::with_capacity(walked.len());
    let mut ends = Vec::new();
    for (p, f, tail) in walked {
        if let Some(t) = tail {
            ends.push((pairs_out.len(), t));
        }
        pairs_out.push(p);
        findings.extend(f);
    }
    let tails_only: Vec<tails::Tail> = ends.iter().map(|(_, t)| t.clone()).collect();
    for (i, absent, missing) in tails::due_but_absent(&tails_only, ctx.config.trail.mode == TrailMode::Account, req.now) {
        let pair = &mut pairs_out[ends[i].0];
        pair.digests_missing += missing;
        pair.valid = false;
        // The pair failed: the next --since-last starts from its last good head again.
        pair.head = None;
        findings.extend(absent);
    }
    let base = Report {
        organization: ctx.org.id.clone(),
        trail,
        bucket: la.bucket.clone(),
        start_time: times::display(req.window.start),
        end_time: times::display(req.window.end),
        since_last: req.since_last.is_some(),
        digests_only: req.digests_only,
        shard: req.shard.map(|s| s.to_string()),
        summary: Summary::default(),
        pairs: vec![],
        findings: vec![],
    };
    Report::new(base, pairs_out, findings)
}

/// The union of the regions the accounts have digest folders in: a region one account lacks
/// then shows as missing there.
async fn discover_regions(ctx: &Ctx<'_>, s3: &aws_sdk_s3::Client, accounts: &[String], permits: &Arc<Semaphore>, findings: &mut Vec<Finding>) -> Vec<String> {
    let la = &ctx.config.log_archive;
    let listed: Vec<_> = stream::iter(accounts.iter())
        .map(|a| async move {
            let _p = permits.acquire().await.expect("permits stay open");
            let base = account_base(ctx, a);
            let site = crate::aws::Site::new(&la.account, s3.config().region(), format!("s3://{}/{base}CloudTrail-Digest/", la.bucket));
            (a, listing::digest_regions(s3, &site, &la.bucket, &base).await)
        })
        .buffer_unordered(permits.available_permits().max(1))
        .collect()
        .await;
    let mut regions = BTreeSet::new();
    for (account, r) in listed {
        match r {
            Ok(r) => regions.extend(r),
            Err(e) => findings.push(Finding::new(account, "*", Subject::Pair, Verdict::Error, format!("s3://{}/{}", la.bucket, account_base(ctx, account)), e.to_string())),
        }
    }
    regions.into_iter().collect()
}
