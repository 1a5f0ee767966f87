//! An apply interrupted between KMS CreateKey and CreateAlias leaves a key without its alias. The
//! next run adopts that key (found by the `orgtrail:alias` tag CreateKey put on it) instead of
//! making a second one, and nothing ever asks KMS to delete a key: the role orgtrail runs as holds
//! no deletion power (docs/iam.md), so none can reach the log key.
use orgtrail_tests::fault_proxy::{Fault, FaultPlan, FaultProxy, Rule, Target};
use orgtrail_tests::harness::{json, requests_by_account, stderr, Operator};
use orgtrail_tests::Sandbox;

/// The log-archive account's keys: (id, state, the alias tag), oldest first.
async fn keys(op: &Operator) -> Vec<(String, String, Option<String>)> {
    let kms = op.kms();
    let mut out = Vec::new();
    for k in kms.list_keys().send().await.unwrap().keys() {
        let id = k.key_id().unwrap().to_string();
        let meta = kms.describe_key().key_id(&id).send().await.unwrap().key_metadata.unwrap();
        let tags = kms.list_resource_tags().key_id(&id).send().await.unwrap();
        let tag = tags.tags().iter().find(|t| t.tag_key() == "orgtrail:alias").map(|t| t.tag_value().to_string());
        out.push((id, meta.key_state().map(|s| s.as_str().to_string()).unwrap_or_default(), tag));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_interrupted_between_create_key_and_create_alias_adopts_its_key_on_resume() {
    let sb = Sandbox::new(3).await.unwrap();
    sb.edit_config(|c| c.mfa_delete(false));
    let op = Operator::new(&sb);
    let proxy = FaultProxy::start(&sb.emulator.endpoint(), FaultPlan::seeded(1).rule(Rule::new(Target::op("KMS.CreateAlias"), Fault::AccessDenied))).unwrap();
    let first = sb.orgtrail(&["apply", "--json", "--endpoint-url", &proxy.url()]);
    assert_eq!(first.status.code(), Some(1), "CreateAlias refused: {}", stderr(&first));
    let orphaned = keys(&op).await;
    assert_eq!(orphaned.len(), 1, "one key made, its alias not: {orphaned:?}");
    assert_eq!((orphaned[0].1.as_str(), orphaned[0].2.as_deref()), ("Enabled", Some("alias/orgtrail")), "the orphan is tagged for its alias and left enabled");

    let resumed = sb.orgtrail(&["apply", "--json"]);
    assert_eq!(resumed.status.code(), Some(0), "resumed: {}", stderr(&resumed));
    let report = json(&resumed);
    let writes = &report["api_calls"]["writes"];
    assert!(writes.get("KMS.CreateKey").is_none(), "no second key: {writes:#}");
    assert_eq!(writes["KMS.CreateAlias"], 1, "the alias is created for the orphan: {writes:#}");
    let after = keys(&op).await;
    assert_eq!(after.len(), 1, "exactly one key: {after:?}");
    assert_eq!(op.key_id().await, orphaned[0].0, "the alias names the first key");

    let deletions: Vec<(String, String, u64)> = requests_by_account(&sb)
        .into_iter()
        .flat_map(|(account, ops)| ops.into_iter().filter(|(o, _)| o.ends_with(".ScheduleKeyDeletion") || o.ends_with(".DisableKey")).map(move |(o, n)| (account.clone(), o, n)))
        .collect();
    assert!(deletions.is_empty(), "no key deletion or disabling was ever requested: {deletions:?}");
    println!("keys after the interrupted apply: {orphaned:?}; after the resume: {after:?}; writes of the resume: {writes}; deletion calls: {}", deletions.len());
}
