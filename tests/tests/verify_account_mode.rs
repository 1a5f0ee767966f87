//! `orgtrail verify` in account mode against the emulator: the trail controls and the delivery
//! topic are judged per targeted account, on orgtrail's trail (and topic) there.
#[path = "verify_support/mod.rs"]
mod support;

use std::collections::BTreeSet;

use orgtrail_tests::harness::{failing, findings, verify_json as verify};
use orgtrail_tests::Sandbox;
use serde_json::Value;
use support::{applied, apply, failing_accounts, in_home, Breaker};


/// Account mode: the trail controls are judged per targeted account, on orgtrail's trail there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_mode_judges_each_accounts_trail() {
    let sb = applied(|c| c.mfa_delete(false).trail_mode("account")).await;
    let (code, v) = verify(&sb);
    assert_eq!((code, failing(&v)), (0, BTreeSet::new()), "{v:#}");
    assert_eq!(accounts_with(&v, "OrgTrail.DeliveryTopic", "NOT-APPLICABLE"), targeted(&sb), "no sns_topic: not applicable in each account");
    let accounts: BTreeSet<&str> = findings(&v).iter().filter(|f| f["control"] == "CloudTrail.1").map(|f| f["account"].as_str().unwrap()).collect();
    for m in &sb.org.members {
        assert!(accounts.contains(m.id.as_str()), "CloudTrail.1 for {}: {accounts:?}", m.id);
        let arn = format!("arn:aws:cloudtrail:us-east-1:{}:trail/orgtrail", m.id);
        assert!(findings(&v).iter().any(|f| f["control"] == "CloudTrail.4" && f["resource"].as_str().unwrap().ends_with(&arn)), "{arn}");
    }

    // One member's trail loses validation: only that account's CloudTrail.4 fails.
    let b = Breaker::new(&sb);
    let member = &sb.org.members[1].id;
    let arn = format!("arn:aws:cloudtrail:us-east-1:{member}:trail/orgtrail");
    b.member_trail(member).update_trail().name(&arn).enable_log_file_validation(false).send().await.unwrap();
    let (code, v) = verify(&sb);
    assert_eq!(code, 1);
    assert_eq!(failing_accounts(&v), BTreeSet::from([("CloudTrail.4".to_string(), member.clone())]), "{v:#}");
}

/// The accounts whose `control` finding has `status`.
fn accounts_with(v: &Value, control: &str, status: &str) -> BTreeSet<String> {
    findings(v).iter().filter(|f| f["control"] == control && f["status"] == status).map(|f| f["account"].as_str().unwrap().to_string()).collect()
}

/// The accounts account mode targets: the members and the log-archive account.
fn targeted(sb: &Sandbox) -> BTreeSet<String> {
    sb.org.members.iter().map(|m| m.id.clone()).chain([sb.org.log_archive_account.clone()]).collect()
}

/// Account mode with `[trail] sns_topic`: each member's trail notifies a topic of that member,
/// OrgTrail.DeliveryTopic is judged per account (through the member role, as the step acts), and
/// orgtrail's statement removed from one member's topic fails only that account until `apply`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_mode_judges_each_accounts_delivery_topic() {
    let sb = applied(|c| c.mfa_delete(false).trail_mode("account").add("trail.sns_topic", "orgtrail-delivery")).await;
    let (code, v) = verify(&sb);
    assert_eq!((code, failing(&v)), (0, BTreeSet::new()), "{v:#}");
    assert_eq!(accounts_with(&v, "OrgTrail.DeliveryTopic", "PASS"), targeted(&sb), "{v:#}");

    let b = Breaker::new(&sb);
    let member = sb.org.members[1].id.clone();
    let topic = format!("arn:aws:sns:us-east-1:{member}:orgtrail-delivery");
    let sns = b.aws.sns(&in_home(b.aws.session(&member)));
    let attrs = sns.get_topic_attributes().topic_arn(&topic).send().await.unwrap().attributes.unwrap_or_default();
    let mut policy: Value = serde_json::from_str(&attrs["Policy"]).unwrap();
    let before = policy["Statement"].as_array().unwrap().len();
    policy["Statement"].as_array_mut().unwrap().retain(|s| s["Sid"] != "AWSCloudTrailSNSPolicy");
    assert_eq!(policy["Statement"].as_array().unwrap().len() + 1, before, "orgtrail's statement was there: {policy:#}");
    sns.set_topic_attributes().topic_arn(&topic).attribute_name("Policy").attribute_value(policy.to_string()).send().await.unwrap();
    let (code, v) = verify(&sb);
    assert_eq!((code, failing_accounts(&v)), (1, BTreeSet::from([("OrgTrail.DeliveryTopic".to_string(), member.clone())])), "{v:#}");
    let f = findings(&v).iter().find(|f| f["control"] == "OrgTrail.DeliveryTopic" && f["account"] == member.as_str()).unwrap();
    assert!(f["evidence"].as_str().unwrap().contains("statement AWSCloudTrailSNSPolicy missing"), "{f}");
    assert!(f["resource"].as_str().unwrap().ends_with(&format!("-> sns-topic {topic}")), "{f}");

    apply(&sb, &["apply", "--new-run", "--json"]);
    let (code, v) = verify(&sb);
    assert_eq!((code, accounts_with(&v, "OrgTrail.DeliveryTopic", "PASS")), (0, targeted(&sb)), "{v:#}");
}
