//! A resume observes the central steps again before any member account starts
//! (executor/reobserve.rs): all at once when nothing changed, in order when something did. So a
//! central resource that drifted between two invocations of one run is repaired before the first
//! member check (which would otherwise see a stopped trail and fail the account), and a central
//! refusal found on resume leaves every pending account untouched.
use orgtrail_tests::fault_proxy::{Fault, FaultPlan, FaultProxy, Rule, Target};
use orgtrail_tests::harness::{json, stderr, toml_array, Operator};
use orgtrail_tests::Sandbox;
use serde_json::{json, Value};

/// A run halted in its canary: the canary (three accounts, one at a time) fails its second
/// account, so the first is done, the third and every later wave pending, the central steps done.
async fn halted_run(members: usize) -> (Sandbox, String, String) {
    let sb = Sandbox::new(members).await.unwrap();
    let canary = toml_array(sb.org.members[..3].iter().map(|m| &m.id));
    sb.edit_config(|c| c.mfa_delete(false).set("wave[canary].accounts", canary).add("wave[canary].max_concurrency", 1i64));
    let plan = json(&sb.orgtrail(&["plan", "--json"]));
    let bad = plan["waves"][0]["accounts"][1].as_str().unwrap().to_string();
    let proxy = FaultProxy::start(&sb.emulator.endpoint(), FaultPlan::seeded(1).rule(Rule::new(Target::op("STS.AssumeRole").containing(&bad), Fault::AccessDenied))).unwrap();
    let first = sb.orgtrail(&["apply", "--json", "--endpoint-url", &proxy.url()]);
    assert_eq!(first.status.code(), Some(1), "halted: {}", stderr(&first));
    let report = json(&first);
    assert_eq!(report["report"]["outcome"]["outcome"], "halted", "{report:#}");
    let central = report["report"]["central"].as_array().unwrap();
    assert!(central.iter().all(|c| c["status"]["status"] == "done"), "the central steps ended: {central:#?}");
    (sb, report["report"]["run"].as_str().unwrap().to_string(), bad)
}

/// (wave, done, failed) of the member waves.
fn waves_done(sb: &Sandbox) -> Vec<(String, u64, u64)> {
    let st = json(&sb.orgtrail(&["status", "--json"]));
    st["waves"].as_array().unwrap().iter().filter(|w| w["wave"] != "central").map(|w| (w["wave"].as_str().unwrap().to_string(), w["done"].as_u64().unwrap(), w["failed"].as_u64().unwrap())).collect()
}

fn central_changes(report: &Value) -> Vec<(String, String)> {
    let central = report["report"]["central"].as_array().unwrap();
    central.iter().flat_map(|c| c["changes"].as_array().unwrap().iter().filter(|ch| ch["action"] != "no-change").map(move |ch| (c["step"].as_str().unwrap().to_string(), ch["action"].as_str().unwrap().to_string()))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trail_stopped_between_invocations_is_started_before_the_first_member_check() {
    let (sb, run, _) = halted_run(12).await;
    let op = Operator::new(&sb);
    op.cloudtrail().stop_logging().name(&op.trail_arn).send().await.unwrap();

    let out = sb.orgtrail(&["apply", "--json"]);
    let report = json(&out);
    assert_eq!(out.status.code(), Some(0), "no member saw the stopped trail: {report:#}");
    assert_eq!((report["report"]["run"].clone(), report["report"]["resumed"].clone()), (json!(run), json!(true)));
    assert_eq!(report["report"]["outcome"], json!({"outcome": "converged", "manual_actions": 0}));
    assert_eq!(central_changes(&report), vec![("org-trail".to_string(), "update".to_string())], "the drift was found on resume");
    assert_eq!(report["api_calls"]["writes"], json!({"CloudTrail.StartLogging": 1}), "{report:#}");
    for (wave, done, failed) in waves_done(&sb) {
        assert_eq!(failed, 0, "wave {wave}: no account failed");
        assert!(done > 0, "wave {wave} ran");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_central_refusal_found_on_resume_leaves_every_pending_account_untouched() {
    let (sb, run, _) = halted_run(12).await;
    let before = waves_done(&sb);
    let op = Operator::new(&sb);
    // Another organization trail appears (Control Tower's), which the org-trail step refuses to
    // run beside.
    let ct_bucket = format!("aws-controltower-logs-{}-us-east-1", op.log_archive);
    op.s3().create_bucket().bucket(&ct_bucket).send().await.unwrap();
    let ct = op.cloudtrail();
    ct.create_trail().name("aws-controltower-BaselineCloudTrail").s3_bucket_name(&ct_bucket).is_organization_trail(true).is_multi_region_trail(true).send().await.unwrap();

    let out = sb.orgtrail(&["apply", "--json"]);
    let report = json(&out);
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    assert_eq!((report["report"]["run"].clone(), report["report"]["resumed"].clone()), (json!(run), json!(true)));
    assert_eq!(report["report"]["outcome"], json!({"outcome": "central-failed", "step": "org-trail"}));
    assert_eq!(report["report"]["waves"], json!([]), "no wave started");
    assert_eq!(report["api_calls"]["writes"], json!({}), "refused before any write");
    assert_eq!(waves_done(&sb), before, "no pending account was touched");
}
