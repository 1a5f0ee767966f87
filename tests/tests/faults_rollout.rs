//! A whole rollout through the fault proxy (issue 6): 30% of the per-account services' calls
//! throttled, plus HTTP 500s and connection resets. It must converge, and leave the live state
//! equal to a clean run's: a clean `apply --new-run` afterwards writes nothing.
use orgtrail_tests::fault_proxy::{Fault, FaultPlan, FaultProxy, Rule, Target};
use orgtrail_tests::harness::stderr;
use orgtrail_tests::Sandbox;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_under_throttling_5xx_and_resets_converges_like_a_clean_run() {
    // 16 members: enough calls (about 5 per member since the ListTrails search, issue 14) for the
    // seeded draws to inject every kind of fault.
    let sb = Sandbox::new(16).await.unwrap();
    sb.edit_config(|c| c.mfa_delete(false));
    let mut plan = FaultPlan::seeded(11);
    for service in ["STS.*", "S3.*", "KMS.*", "CloudTrail.*"] {
        plan = plan
            .rule(Rule::new(Target::op(service), Fault::Throttle).rate(0.3))
            .rule(Rule::new(Target::op(service), Fault::ServerError).rate(0.05))
            .rule(Rule::new(Target::op(service), Fault::Reset).rate(0.03));
    }
    let proxy = FaultProxy::start(&sb.emulator.endpoint(), plan).unwrap();
    let started = std::time::Instant::now();
    let out = sb.orgtrail(&["apply", "--json", "--endpoint-url", &proxy.url()]);
    let elapsed = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "converges under faults: {}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["report"]["outcome"]["outcome"], "converged");
    let total = &report["api_calls"]["total"];
    let p = proxy.total();
    println!(
        "[apply, 30% throttled + 5% 500 + 3% resets] calls={} attempts={} throttles_absorbed={} error_answers={} | proxy: requests={} throttled={} 5xx={} resets={} | {:.1}s",
        total["calls"], total["attempts"], total["throttled"], total["errors"], p.requests, p.throttled, p.server_errors, p.resets, elapsed.as_secs_f64()
    );
    assert!(p.throttled > 20 && p.server_errors > 0 && p.resets > 0, "faults were injected: {p:?}");
    assert!(total["attempts"].as_u64().unwrap() > total["calls"].as_u64().unwrap(), "retries happened");

    let clean = sb.orgtrail(&["apply", "--new-run", "--json"]);
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
    let clean: Value = serde_json::from_slice(&clean.stdout).unwrap();
    assert_eq!(clean["api_calls"]["writes"], serde_json::json!({}), "the faulty run left the live state converged");
    assert_eq!(clean["report"]["outcome"]["outcome"], "converged");
}
