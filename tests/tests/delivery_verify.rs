//! `verify` proves delivery (OrgTrail.Delivery, OrgTrail.Coverage) from what the emulator's
//! CloudTrail delivered: after apply and a delivery every account passes; each break of delivery
//! (the bucket policy's CloudTrail statement removed, its aws:SourceArn naming another account, the
//! key policy's CloudTrail statement removed, the key disabled) fails exactly OrgTrail.Delivery,
//! naming the cause, and a plain `apply` repairs it so the next delivery succeeds (a disabled key:
//! apply enables it again, and `plan` shows that first); an account created
//! after the rollout is missing from Coverage until the next delivery covers it, with no apply.
//! On plain moto nothing is delivered: Delivery and Coverage fail after any number of hours.
use std::collections::BTreeSet;

use orgtrail_tests::harness::{deliver, failing, findings, stderr, stdout, verify_json, Operator};
use orgtrail_tests::Sandbox;
use serde_json::Value;

const MEMBERS: usize = 3;

fn apply(sb: &Sandbox) {
    let out = sb.orgtrail(&["apply"]);
    assert_eq!(out.status.code(), Some(0), "apply: {}\n{}", stdout(&out), stderr(&out));
}

fn of<'v>(v: &'v Value, control: &str) -> Vec<&'v Value> {
    findings(v).iter().filter(|f| f["control"] == control).collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

/// verify fails exactly `controls`; the Delivery finding's evidence contains `cause`.
fn expect(sb: &Sandbox, controls: &[&str], cause: &str, what: &str) -> Value {
    let (code, v) = verify_json(sb);
    assert_eq!((code, failing(&v)), (if controls.is_empty() { 0 } else { 1 }, set(controls)), "{what}: {v:#}");
    if !cause.is_empty() {
        let evidence = of(&v, "OrgTrail.Delivery")[0]["evidence"].as_str().unwrap().to_string();
        assert!(evidence.contains(cause), "{what}: {evidence}");
    }
    v
}

async fn applied() -> Sandbox {
    let sb = Sandbox::with_config(MEMBERS, |c| c.mfa_delete(false)).await.unwrap();
    apply(&sb);
    sb
}

#[tokio::test(flavor = "multi_thread")]
async fn delivery_and_coverage_pass_after_a_delivery_and_are_pending_before_it() {
    let sb = applied().await;
    let (code, v) = verify_json(&sb);
    assert_eq!((code, failing(&v)), (0, BTreeSet::new()), "{v:#}");
    assert!(of(&v, "OrgTrail.Delivery")[0]["evidence"].as_str().unwrap().contains("first delivery not due"), "{v:#}");

    deliver(&sb, 3, None, None);
    let v = expect(&sb, &[], "", "after a 3-hour delivery");
    let delivery = of(&v, "OrgTrail.Delivery");
    assert_eq!(delivery.len(), 1, "one organization trail");
    assert_eq!(delivery[0]["status"], "PASS", "{v:#}");
    let coverage = of(&v, "OrgTrail.Coverage");
    let accounts: BTreeSet<&str> = coverage.iter().map(|f| f["account"].as_str().unwrap()).collect();
    let mut expected: BTreeSet<&str> = sb.org.members.iter().map(|m| m.id.as_str()).collect();
    expected.insert(&sb.org.management_account);
    expected.insert(&sb.org.log_archive_account);
    assert_eq!(accounts, expected, "one Coverage finding per account");
    assert!(coverage.iter().all(|f| f["status"] == "PASS" && f["evidence"].as_str().unwrap().starts_with("delivered in 17 of 17 regions")), "{v:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_break_of_delivery_fails_exactly_delivery_and_apply_repairs_it() {
    let sb = applied().await;
    deliver(&sb, 2, None, None);
    expect(&sb, &[], "", "clean");
    let op = Operator::new(&sb);
    let policy: Value = serde_json::from_str(&op.s3().get_bucket_policy().bucket(&op.bucket).send().await.unwrap().policy.unwrap()).unwrap();

    let mut broken = policy.clone();
    broken["Statement"].as_array_mut().unwrap().retain(|s| s["Sid"] != "AWSCloudTrailWrite");
    op.s3().put_bucket_policy().bucket(&op.bucket).policy(broken.to_string()).send().await.unwrap();
    check_break(&sb, "AccessDenied: the bucket policy", "bucket policy without AWSCloudTrailWrite");

    let wrong = policy.to_string().replace(&format!(":{}:trail/", sb.org.management_account), ":111111111111:trail/");
    op.s3().put_bucket_policy().bucket(&op.bucket).policy(wrong).send().await.unwrap();
    check_break(&sb, "AccessDenied: the bucket policy", "bucket policy's aws:SourceArn naming another account");

    let key_id = op.key_id().await;
    let key_policy: Value = serde_json::from_str(&op.kms().get_key_policy().key_id(&key_id).policy_name("default").send().await.unwrap().policy.unwrap()).unwrap();
    let mut broken = key_policy.clone();
    broken["Statement"].as_array_mut().unwrap().retain(|s| s["Sid"] != "AllowCloudTrailEncrypt");
    op.kms().put_key_policy().key_id(&key_id).policy_name("default").policy(broken.to_string()).send().await.unwrap();
    check_break(&sb, "KMS.AccessDeniedException: the KMS key policy", "key policy without AllowCloudTrailEncrypt");

    // A disabled key is drift like the others: plan shows the key's "enabled" field, apply writes
    // exactly that (one KMS.EnableKey), and the next delivery succeeds.
    op.kms().disable_key().key_id(&key_id).send().await.unwrap();
    let counts = deliver(&sb, 1, None, None);
    assert_eq!(counts["trails"][&sb.org_trail_arn()]["error"], "KMS.DisabledException", "{counts:#}");
    expect(&sb, &["OrgTrail.Delivery"], "KMS.DisabledException: the trail's KMS key is disabled", "key disabled");
    let plan = sb.orgtrail(&["plan"]);
    assert!(stdout(&plan).contains("enabled"), "plan names the key's enabled field: {}", stdout(&plan));
    apply(&sb);
    let state = op.key_metadata().await.key_state().cloned();
    assert_eq!(state, Some(aws_sdk_kms::types::KeyState::Enabled), "apply enabled the key again");
    assert_eq!(deliver(&sb, 1, None, None)["trails"][&sb.org_trail_arn()]["failures"], 0);
    expect(&sb, &[], "", "key enabled again");
}

/// After the break, the next delivery is refused: exactly Delivery fails, naming the cause (Coverage
/// still sees the digests of the last two hours); a plain apply repairs it and the next delivery
/// succeeds.
fn check_break(sb: &Sandbox, cause: &str, what: &str) {
    let counts = deliver(sb, 1, None, None);
    let ours = &counts["trails"][&sb.org_trail_arn()];
    assert_eq!((ours["log_files"].as_u64(), ours["digest_files"].as_u64()), (Some(0), Some(0)), "{what}: nothing written: {counts:#}");
    expect(sb, &["OrgTrail.Delivery"], cause, what);
    apply(sb);
    let counts = deliver(sb, 1, None, None);
    assert_eq!(counts["trails"][&sb.org_trail_arn()]["failures"], 0, "{what}: repaired: {counts:#}");
    expect(sb, &[], "", &format!("{what}, repaired by apply"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_created_after_the_rollout_is_covered_after_the_next_delivery_without_apply() {
    let sb = applied().await;
    deliver(&sb, 1, None, None);
    let org = aws_sdk_organizations::Client::new(&sb.conf);
    let created = org.create_account().account_name("late-joiner").email("late@sandbox.example").send().await.unwrap();
    let late = created.create_account_status.unwrap().account_id.unwrap();

    // verify targets the organization as discovered now: the new account is in, without a digest.
    let (code, v) = verify_json(&sb);
    let late_coverage: Vec<&Value> = of(&v, "OrgTrail.Coverage").into_iter().filter(|f| f["account"] == late.as_str()).collect();
    assert_eq!(late_coverage.len(), 1, "one line for the account missing everywhere: {v:#}");
    assert_eq!(late_coverage[0]["status"], "FAIL");
    assert!(late_coverage[0]["evidence"].as_str().unwrap().starts_with("missing in every region the trail covers (17)"), "{v:#}");
    assert_eq!((code, failing(&v)), (1, set(&["OrgTrail.Coverage"])), "{v:#}");

    deliver(&sb, 1, None, None);
    expect(&sb, &[], "", "the next delivery covers the new account");
}
