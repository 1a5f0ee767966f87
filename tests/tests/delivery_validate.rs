//! The emulator's CloudTrail delivery, judged from outside: after a real `apply` and a delivery of
//! three hours, every ACTIVE account has, in every region the organization trail covers, three
//! digests and their log files at the keys AWS documents, and the AWS CLI's own
//! `aws cloudtrail validate-logs` (pinned, scripts/bootstrap-awscli.sh) says they are valid for the
//! management account and two members. Without the fidelity layer's delivery (plain moto) the
//! deliver endpoint does not exist and no object is ever written.
use std::collections::BTreeMap;

use orgtrail_tests::harness::{assumed_env, aws, deliver, stderr, stdout};
use orgtrail_tests::Sandbox;

const MEMBERS: usize = 3;

/// Object keys under the trail's prefix, by (account, "CloudTrail" | "CloudTrail-Digest", region).
async fn delivered(sb: &Sandbox) -> BTreeMap<(String, String, String), Vec<String>> {
    let bucket = format!("orgtrail-logs-{}", sb.org.log_archive_account);
    let s3 = sb.s3();
    let mut pages = s3.list_objects_v2().bucket(&bucket).prefix(format!("org/AWSLogs/{}/", sb.org.org_id)).into_paginator().send();
    let mut out: BTreeMap<_, Vec<String>> = BTreeMap::new();
    while let Some(page) = pages.next().await {
        for o in page.expect("listing the log bucket").contents.unwrap_or_default() {
            let key = o.key.unwrap_or_default();
            let parts: Vec<&str> = key.split('/').collect();
            // org/AWSLogs/O-ID/ACCOUNT/KIND/REGION/YYYY/MM/DD/NAME
            assert_eq!(parts.len(), 10, "unexpected key {key}");
            out.entry((parts[3].to_string(), parts[4].to_string(), parts[5].to_string())).or_default().push(parts[9].to_string());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_logs_accepts_what_the_emulator_delivered() {
    let sb = Sandbox::with_config(MEMBERS, |c| c.mfa_delete(false)).await.unwrap();
    let out = sb.orgtrail(&["apply"]);
    assert_eq!(out.status.code(), Some(0), "apply: {}\n{}", stdout(&out), stderr(&out));

    let counts = deliver(&sb, 3, None, None);
    let trail = sb.org_trail_arn();
    let ours = &counts["trails"][&trail];
    assert_eq!(ours["failures"], 0, "{counts:#}");
    assert!(ours["error"].is_null(), "{counts:#}");

    let objects = delivered(&sb).await;
    let mut accounts: Vec<String> = vec![sb.org.management_account.clone(), sb.org.log_archive_account.clone()];
    accounts.extend(sb.org.members.iter().map(|m| m.id.clone()));
    let regions: std::collections::BTreeSet<&String> = objects.keys().map(|(_, _, r)| r).collect();
    assert!(regions.contains(&"us-east-1".to_string()) && regions.len() >= 17, "a multi-region trail covers every enabled region: {regions:?}");
    for account in &accounts {
        for region in &regions {
            let digests = &objects[&(account.clone(), "CloudTrail-Digest".to_string(), region.to_string())];
            assert_eq!(digests.len(), 3, "{account} {region}: {digests:?}");
            for name in digests {
                assert!(name.starts_with(&format!("{account}_CloudTrail-Digest_{region}_orgtrail_us-east-1_")) && name.ends_with("Z.json.gz"), "{name}");
            }
            let logs = &objects[&(account.clone(), "CloudTrail".to_string(), region.to_string())];
            assert_eq!(logs.len(), 3, "{account} {region}: {logs:?}");
            assert!(logs.iter().all(|n| n.starts_with(&format!("{account}_CloudTrail_{region}_"))), "{logs:?}");
        }
    }
    assert_eq!(ours["digest_files"].as_u64().unwrap() as usize, accounts.len() * regions.len() * 3);

    // Read as the log-archive account's admin role (the bucket policy lets only readers and admins read).
    let reader = assumed_env(&sb, &sb.org.log_archive_account).await;
    let start = counts["start"].as_str().unwrap().to_string();
    for account in [&sb.org.management_account, &sb.org.members[0].id, &sb.org.members[1].id] {
        let out = aws(&sb, &reader, &["cloudtrail", "validate-logs", "--trail-arn", &trail, "--start-time", &start, "--account-id", account]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "validate-logs {account}: {text}\n{}", stderr(&out));
        assert!(text.contains("3/3 digest files valid") && text.contains("3/3 log files valid"), "validate-logs {account}: {text}\n{}", stderr(&out));
        assert!(!text.contains("INVALID") && stderr(&out).trim().is_empty(), "{text}\n{}", stderr(&out));
    }
    // Another region's chain, signed with that region's key.
    let out = aws(&sb, &reader, &["cloudtrail", "validate-logs", "--region", "eu-west-1", "--trail-arn", &trail, "--start-time", &start, "--account-id", &sb.org.members[2].id]);
    assert!(stdout(&out).contains("3/3 digest files valid"), "{}\n{}", stdout(&out), stderr(&out));
}
