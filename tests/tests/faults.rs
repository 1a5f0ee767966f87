//! Reliability under injected faults (issue 6, item 3): orgtrail and its AWS layer against the moto
//! emulator through the fault proxy. Each test prints its figures (calls, retries, throttles
//! absorbed, time); none asserts on time.
use std::collections::BTreeMap;
use std::sync::Once;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use orgtrail::aws::{Aws, AwsError, AwsOptions, OperationCounts};
use orgtrail::discovery::{discover, DiscoverOptions};
use orgtrail_tests::fault_proxy::{Fault, FaultPlan, FaultProxy, OpStats, Rule, Target};
use orgtrail_tests::harness::{role, stderr, stdout};
use orgtrail_tests::Sandbox;
use serde_json::Value;

const MEMBERS: usize = 12;

/// The emulator's fake credentials for `Aws::load`'s default chain (the same values in every test).
fn fake_credentials_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::remove_var("AWS_PROFILE");
    });
}

/// orgtrail's production AWS configuration (retries, timeouts, rate limits), aimed at the proxy.
async fn aws_via(proxy: &FaultProxy, attempt_timeout: Option<Duration>) -> Aws {
    fake_credentials_env();
    let opts = AwsOptions { profile: None, region: Some("us-east-1".into()), endpoint_url: Some(proxy.url()), attempt_timeout };
    Aws::load(&opts, "us-east-1", 10).await.with_role(role("orgtrail-faults"), 8)
}

/// `orgtrail accounts --check-access --json` through the proxy: the parsed output and exit code.
fn accounts_via(sb: &Sandbox, proxy: &FaultProxy) -> (Option<i32>, Value, Duration) {
    let started = Instant::now();
    let out = sb.orgtrail(&["--endpoint-url", &proxy.url(), "accounts", "--check-access", "--json"]);
    let elapsed = started.elapsed();
    let json = serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("no JSON ({e}); stderr:\n{}", stderr(&out)));
    (out.status.code(), json, elapsed)
}

/// What a member account's rollout touches in S3, KMS, CloudTrail and STS, with its credentials.
async fn member_work(aws: &Aws, account: &str) -> Result<(), AwsError> {
    use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
    let session = aws.session(account);
    let s3 = aws.s3(&session);
    let bucket = format!("faults-{account}");
    match s3.create_bucket().bucket(&bucket).send().await {
        Ok(_) => {}
        // A retried create whose first attempt did land (a stalled answer) finds its own bucket.
        Err(e) if AwsError::from_sdk("S3.CreateBucket", &e).is_code("BucketAlreadyOwnedByYou") => {}
        Err(e) => return Err(AwsError::from_sdk("S3.CreateBucket", &e)),
    }
    let enabled = VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build();
    s3.put_bucket_versioning().bucket(&bucket).versioning_configuration(enabled).send().await.map_err(orgtrail::aws::aws_err("S3.PutBucketVersioning"))?;
    let v = s3.get_bucket_versioning().bucket(&bucket).send().await.map_err(orgtrail::aws::aws_err("S3.GetBucketVersioning"))?;
    assert_eq!(v.status(), Some(&BucketVersioningStatus::Enabled));
    let kms = aws.kms(&session);
    let key = kms.create_key().description("faults").send().await.map_err(orgtrail::aws::aws_err("KMS.CreateKey"))?;
    let key_id = key.key_metadata().map(|m| m.key_id().to_string()).unwrap_or_default();
    kms.enable_key_rotation().key_id(&key_id).send().await.map_err(orgtrail::aws::aws_err("KMS.EnableKeyRotation"))?;
    let rot = kms.get_key_rotation_status().key_id(&key_id).send().await.map_err(orgtrail::aws::aws_err("KMS.GetKeyRotationStatus"))?;
    assert!(rot.key_rotation_enabled());
    aws.cloudtrail(&session).describe_trails().send().await.map_err(orgtrail::aws::aws_err("CloudTrail.DescribeTrails"))?;
    let who = aws.sts_in(&session).get_caller_identity().send().await.map_err(orgtrail::aws::aws_err("STS.GetCallerIdentity"))?;
    assert_eq!(who.account(), Some(account));
    Ok(())
}

/// Every member's work, 8 accounts at a time; the failures by account.
async fn all_members(aws: &Aws, sb: &Sandbox) -> BTreeMap<String, AwsError> {
    let ids: Vec<String> = sb.org.members.iter().map(|m| m.id.clone()).collect();
    stream::iter(ids)
        .map(|id| async move { (member_work(aws, &id).await.err(), id) })
        .buffer_unordered(8)
        .filter_map(|(err, id)| async move { err.map(|e| (id, e)) })
        .collect()
        .await
}

fn counts_from_json(v: &Value) -> BTreeMap<String, OperationCounts> {
    serde_json::from_value::<BTreeMap<String, Value>>(v["api_calls"]["by_operation"].clone())
        .unwrap()
        .into_iter()
        .map(|(op, c)| {
            let n = |k: &str| c[k].as_u64().unwrap();
            (op, OperationCounts { calls: n("calls"), attempts: n("attempts"), throttled: n("throttled"), errors: n("errors") })
        })
        .collect()
}

/// orgtrail's own accounting agrees with what the proxy saw: one attempt per request, one
/// throttled attempt per injected throttle, per operation.
fn assert_metrics_match_proxy(metrics: &BTreeMap<String, OperationCounts>, proxy: &BTreeMap<String, OpStats>) {
    for (op, seen) in proxy {
        let m = metrics.get(op).copied().unwrap_or_default();
        assert_eq!(m.attempts, seen.requests, "{op}: orgtrail counted {m:?}, the proxy saw {seen:?}");
        assert_eq!(m.throttled, seen.throttled, "{op}: orgtrail counted {m:?}, the proxy saw {seen:?}");
    }
}

fn total(metrics: &BTreeMap<String, OperationCounts>) -> OperationCounts {
    metrics.values().fold(OperationCounts::default(), |a, c| OperationCounts {
        calls: a.calls + c.calls,
        attempts: a.attempts + c.attempts,
        throttled: a.throttled + c.throttled,
        errors: a.errors + c.errors,
    })
}

fn figures(what: &str, m: OperationCounts, p: OpStats, elapsed: Duration) {
    println!(
        "[{what}] calls={} attempts={} retries={} throttles_absorbed={} error_answers={} | proxy: requests={} forwarded={} throttled={} 5xx={} resets={} stalled={} | {:.1}s",
        m.calls,
        m.attempts,
        m.attempts - m.calls,
        m.throttled,
        m.errors,
        p.requests,
        p.forwarded,
        p.throttled,
        p.server_errors,
        p.resets,
        p.stalled,
        elapsed.as_secs_f64()
    );
}

fn assert_all_access_ok(v: &Value, expected: usize) {
    let access = v["access"].as_array().unwrap();
    assert_eq!(access.len(), expected);
    assert!(access.iter().all(|a| a["outcome"] == "ok"), "{access:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_percent_throttled_run_completes_with_every_account_ok() {
    // Organizations retries with capped, jittered backoff (no adaptive rate collapse), so the
    // whole organization runs here: 199 s for 4 members with the SDK's adaptive mode, now seconds.
    let sb = Sandbox::new(MEMBERS).await.unwrap();
    let throttle_all = |seed| FaultPlan::seeded(seed).rule(Rule::new(Target::all(), Fault::Throttle).rate(0.3));

    // Discovery and access checks by the binary: Organizations and STS.
    let proxy = FaultProxy::start(&sb.emulator.endpoint(), throttle_all(30)).unwrap();
    let (code, v, elapsed) = accounts_via(&sb, &proxy);
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(v["accounts"].as_array().unwrap().len(), MEMBERS + 2);
    assert_all_access_ok(&v, MEMBERS + 2);
    let metrics = counts_from_json(&v);
    assert_metrics_match_proxy(&metrics, &proxy.stats());
    assert!(proxy.op("Organizations.ListAccountsForParent").throttled > 0 && proxy.op("STS.AssumeRole").throttled > 0, "{:#?}", proxy.stats());
    figures("accounts --check-access, 30% throttled", total(&metrics), proxy.total(), elapsed);

    // Member-account work: S3 (503 SlowDown), KMS and CloudTrail (ThrottlingException), STS. Seed 31
    // throttles at least one first attempt of every service (the draws per operation are fixed).
    let proxy = FaultProxy::start(&sb.emulator.endpoint(), throttle_all(31)).unwrap();
    let aws = aws_via(&proxy, None).await;
    let started = Instant::now();
    let failed = all_members(&aws, &sb).await;
    assert!(failed.is_empty(), "{failed:#?}");
    assert_metrics_match_proxy(&aws.metrics.snapshot(), &proxy.stats());
    for service in ["S3", "KMS", "CloudTrail", "STS"] {
        let throttled: u64 = proxy.stats().iter().filter(|(op, _)| op.starts_with(&format!("{service}."))).map(|(_, s)| s.throttled).sum();
        assert!(throttled > 0, "no {service} call was throttled: {:#?}", proxy.stats());
    }
    figures("member S3/KMS/CloudTrail/STS work, 30% throttled", aws.metrics.total(), proxy.total(), started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_server_errors_and_connection_resets_are_retried() {
    let sb = Sandbox::new(MEMBERS).await.unwrap();
    let plan = || {
        FaultPlan::seeded(500)
            .rule(Rule::new(Target::all(), Fault::ServerError).rate(0.15))
            .rule(Rule::new(Target::all(), Fault::Reset).rate(0.1))
    };
    let proxy = FaultProxy::start(&sb.emulator.endpoint(), plan()).unwrap();
    let (code, v, elapsed) = accounts_via(&sb, &proxy);
    assert_eq!(code, Some(0), "{v:#}");
    assert_all_access_ok(&v, MEMBERS + 2);
    let (m, p) = (total(&counts_from_json(&v)), proxy.total());
    assert!(p.server_errors > 0 && p.resets > 0, "{p:?}");
    assert_eq!(m.errors, p.server_errors, "every 500 is one failed attempt in orgtrail's metrics");
    assert!(m.attempts >= m.calls + p.server_errors + p.resets, "each injected fault cost a retry: {m:?} {p:?}");
    figures("accounts --check-access, 15% HTTP 500 + 10% resets", m, p, elapsed);

    let proxy = FaultProxy::start(&sb.emulator.endpoint(), plan()).unwrap();
    let aws = aws_via(&proxy, None).await;
    let started = Instant::now();
    let failed = all_members(&aws, &sb).await;
    assert!(failed.is_empty(), "{failed:#?}");
    let (m, p) = (aws.metrics.total(), proxy.total());
    assert!(p.server_errors > 0 && p.resets > 0, "{p:?}");
    assert_eq!(m.errors, p.server_errors);
    assert!(m.attempts >= m.calls + p.server_errors + p.resets, "{m:?} {p:?}");
    figures("member work, 15% HTTP 500 + 10% resets", m, p, started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_is_not_retried_and_is_reported_with_its_code() {
    let sb = Sandbox::new(MEMBERS).await.unwrap();
    let victim = sb.org.members[3].id.clone();
    // Throttling elsewhere too: the denial must still be final at once, whatever the retry state.
    let plan = FaultPlan::seeded(403)
        .rule(Rule::new(Target::op("STS.AssumeRole").containing(&format!(":{victim}:")), Fault::AccessDenied))
        .rule(Rule::new(Target::all(), Fault::Throttle).rate(0.1));
    let proxy = FaultProxy::start(&sb.emulator.endpoint(), plan).unwrap();
    let (code, v, elapsed) = accounts_via(&sb, &proxy);
    assert_eq!(code, Some(1), "one account failed: exit 1; {v:#}");

    let access = v["access"].as_array().unwrap();
    let denied: Vec<&Value> = access.iter().filter(|a| a["outcome"] != "ok").collect();
    assert_eq!(denied.len(), 1, "{access:#?}");
    assert_eq!(denied[0]["account"], victim.as_str());
    assert_eq!(denied[0]["outcome"], "access-denied");
    assert_eq!(denied[0]["error_code"], "AccessDenied");
    // Exactly one attempt reached the proxy for that account: not retried.
    assert_eq!(proxy.rule_hits(0).fired, 1);
    assert_eq!(proxy.assume_role_requests()[&victim], 1, "{:?}", proxy.assume_role_requests());
    let metrics = counts_from_json(&v);
    assert_metrics_match_proxy(&metrics, &proxy.stats());
    figures("accounts --check-access, AssumeRole denied in one account, 10% throttled", total(&metrics), proxy.total(), elapsed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_beyond_the_attempt_timeout_are_timed_out_and_retried() {
    let sb = Sandbox::new(MEMBERS).await.unwrap();
    // Answers held 4 s against a 1 s attempt timeout, on a fifth of the requests of every service.
    let plan = FaultPlan::seeded(408).rule(Rule::new(Target::all(), Fault::Stall(Duration::from_secs(4))).rate(0.2));
    let proxy = FaultProxy::start(&sb.emulator.endpoint(), plan).unwrap();
    let aws = aws_via(&proxy, Some(Duration::from_secs(1))).await;
    let started = Instant::now();
    let inventory = discover(&aws, &DiscoverOptions { with_tags: true }).await.unwrap();
    assert_eq!(inventory.accounts.len(), MEMBERS + 2);
    let failed = all_members(&aws, &sb).await;
    assert!(failed.is_empty(), "{failed:#?}");
    let (m, p) = (aws.metrics.total(), proxy.total());
    assert!(p.stalled > 0, "{p:?}");
    // Stalled answers were given up on and the calls made again. (Retries can number fewer than
    // stalls: a stalled AssumeRole inside an S3/KMS attempt is abandoned with that attempt when its
    // timeout strikes, and the retried attempt issues a new AssumeRole call.)
    // Every request the proxy saw is an attempt orgtrail counted; on a loaded machine an attempt
    // can also time out before its request reaches the proxy, so only this direction is exact.
    assert!(p.requests <= m.attempts, "{m:?} {p:?}");
    assert!(m.attempts > m.calls, "{m:?} {p:?}");
    assert!(m.attempts - m.calls + p.stalled / 2 >= p.stalled, "most stalls cost a retry: {m:?} {p:?}");
    figures("discovery + member work, 20% of answers held 4 s (1 s attempt timeout)", m, p, started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_expiring_mid_run_are_refreshed_without_failing_accounts() {
    let sb = Sandbox::new(4).await.unwrap();
    // AssumeRole answers say the session ends 6 s after issue; the proxy then refuses its token with
    // ExpiredToken, as AWS would. A run of ~15 s needs each account's credentials renewed.
    let life = Duration::from_secs(6);
    let plan = FaultPlan::seeded(6).rule(Rule::new(Target::op("STS.AssumeRole"), Fault::ShortCredentials(life)));
    let proxy = FaultProxy::start(&sb.emulator.endpoint(), plan).unwrap();
    let aws = aws_via(&proxy, None).await;
    let started = Instant::now();
    let mut calls_per_account = 0;
    while started.elapsed() < Duration::from_secs(15) {
        let failed = all_members(&aws, &sb).await;
        assert!(failed.is_empty(), "after {:.1}s: {failed:#?}", started.elapsed().as_secs_f64());
        calls_per_account += 9;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let assumed = proxy.assume_role_requests();
    let p = proxy.total();
    assert_eq!(p.expired_tokens, 0, "no call may be signed with an expired session: {:#?}", proxy.stats());
    for m in &sb.org.members {
        let n = assumed.get(&m.id).copied().unwrap_or_default();
        assert!(n >= 2, "{}: credentials never renewed ({n} AssumeRole) in {:.1}s", m.id, started.elapsed().as_secs_f64());
        // Renewed when due, not per call.
        assert!(n * 4 < calls_per_account, "{}: {n} AssumeRole for {calls_per_account} calls", m.id);
    }
    assert_eq!(p.short_credentials, assumed.values().sum::<u64>());
    println!(
        "[credentials living {}s] {calls_per_account} calls per account over {:.1}s; AssumeRole per account: {:?}; expired-token refusals: {}",
        life.as_secs(),
        started.elapsed().as_secs_f64(),
        assumed.values().collect::<Vec<_>>(),
        p.expired_tokens
    );
    figures("member work with 6 s sessions", aws.metrics.total(), p, started.elapsed());
}
