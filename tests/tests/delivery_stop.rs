//! A stopped trail delivers nothing for the hours it is stopped: with logging stopped for 2 of 4
//! delivered hours, those hours have no digest, the digest after the restart starts a new chain
//! (no previous digest), and the AWS CLI's validate-logs reports the gap ("No log files were
//! delivered by CloudTrail between ...") while both digests validate. On plain moto nothing is
//! delivered at all.
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_s3::primitives::{DateTime, DateTimeFormat};
use orgtrail_tests::harness::{assumed_env, aws, deliver, stderr, stdout, Operator};
use orgtrail_tests::Sandbox;

fn iso(secs: i64) -> String {
    DateTime::from_secs(secs).fmt(DateTimeFormat::DateTime).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn hours_a_trail_is_stopped_have_no_digests_and_the_chain_restarts_after() {
    let sb = Sandbox::with_config(3, |c| c.mfa_delete(false)).await.unwrap();
    let out = sb.orgtrail(&["apply"]);
    assert_eq!(out.status.code(), Some(0), "apply: {}\n{}", stdout(&out), stderr(&out));
    let op = Operator::new(&sb);
    let trail = sb.org_trail_arn();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let base = now - now % 3600;
    // Hour 1 delivered, hours 2 and 3 stopped, hour 4 delivered again.
    let delivered = |end: i64| {
        let counts = deliver(&sb, 1, Some(&iso(end)), Some(&[sb.org.management_account.as_str()]));
        counts["trails"][&trail]["digest_files"].as_u64().unwrap()
    };
    assert!(delivered(base - 3 * 3600) > 0);
    op.cloudtrail().stop_logging().name(&trail).send().await.unwrap();
    assert_eq!(delivered(base - 2 * 3600), 0, "stopped: nothing delivered");
    assert_eq!(delivered(base - 3600), 0, "stopped: nothing delivered");
    op.cloudtrail().start_logging().name(&trail).send().await.unwrap();
    assert!(delivered(base) > 0);

    let mgmt = &sb.org.management_account;
    let prefix = format!("org/AWSLogs/{}/{mgmt}/CloudTrail-Digest/us-east-1/", sb.org.org_id);
    let listed = sb.s3().list_objects_v2().bucket(&op.bucket).prefix(&prefix).send().await.unwrap();
    let mut ends: Vec<String> = listed.contents().iter().filter_map(|o| o.key()).map(|k| k[k.len() - 24..k.len() - 8].to_string()).collect();
    ends.sort();
    let stamp = |secs: i64| iso(secs).replace(['-', ':'], "");
    assert_eq!(ends, vec![stamp(base - 3 * 3600), stamp(base)], "digests only for the hours logging was on");

    let reader = assumed_env(&sb, &sb.org.log_archive_account).await;
    let out = aws(&sb, &reader, &["cloudtrail", "validate-logs", "--trail-arn", &trail, "--start-time", &iso(base - 5 * 3600), "--account-id", mgmt]);
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{text}\n{err}");
    assert!(text.contains("2/2 digest files valid"), "{text}\n{err}");
    assert!(err.contains(&format!("No log files were delivered by CloudTrail between {} and {}", iso(base - 3 * 3600), iso(base - 3600))), "{text}\n{err}");
}
