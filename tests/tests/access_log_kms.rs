//! Issue 12: `access_log_encryption = "sse-kms"` gives the access-log bucket SSE-KMS with its own
//! customer-managed key, whose policy lets S3 log delivery (logging.s3.amazonaws.com) use it; a
//! re-apply writes nothing; verify checks the key's rotation (KMS.4); switching back to SSE-S3
//! converges the bucket. Against the (patched)
//! moto server; what the key policy lets do is proven by the access matrix.
use aws_sdk_s3::types::ServerSideEncryption;
use orgtrail::policy::{diff_policies, render_access_log_key_policy};
use orgtrail::steps::{kms_key, log_bucket, Action};
use orgtrail_tests::harness::{assert_no_writes, test_aws as aws, StepWorld};
use serde_json::Value;

const ALIAS: &str = "alias/orgtrail-access-logs";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_kms_access_logs_get_their_own_key_and_a_reapply_writes_nothing() {
    let w = StepWorld::sandbox(1, |c| c.add("log_archive.access_log_encryption", "sse-kms")).await;
    assert_eq!(w.config.log_archive.access_log_kms_alias.as_deref(), Some(ALIAS));

    // A plan of the empty account names both keys; nothing is written.
    let plan_aws = aws(&w.sb);
    let plan = w.converge_log_archive(&plan_aws, false).await;
    for alias in [w.config.log_archive.kms_alias.as_str(), ALIAS] {
        assert!(plan.iter().any(|c| c.resource == format!("kms-key {alias}") && c.action == Action::Create), "{plan:?}");
    }
    assert_no_writes(&plan_aws);

    let a = aws(&w.sb);
    w.converge_log_archive(&a, true).await;
    let (s3, kms) = (w.s3(), w.kms());
    let meta = kms.describe_key().key_id(ALIAS).send().await.unwrap().key_metadata.unwrap();
    let access_key = meta.arn().unwrap().to_string();
    let log_key = kms_key::key_arn(&w.ctx(&a, false)).await.unwrap().unwrap();
    assert_ne!(access_key, log_key, "a key of its own");
    assert!(kms.get_key_rotation_status().key_id(&access_key).send().await.unwrap().key_rotation_enabled(), "KMS.4");
    let policy: Value = serde_json::from_str(&kms.get_key_policy().key_id(&access_key).policy_name("default").send().await.unwrap().policy.unwrap()).unwrap();
    let want = render_access_log_key_policy(&log_bucket::policy_context(&w.ctx(&a, false), &log_key, false)).unwrap();
    assert!(diff_policies(&policy, &want).is_empty(), "{:?}", diff_policies(&policy, &want));
    let delivery = policy["Statement"].as_array().unwrap().iter().find(|s| s["Principal"]["Service"] == "logging.s3.amazonaws.com").expect("S3 log delivery");
    assert_eq!(delivery["Action"], "kms:GenerateDataKey");

    let enc = s3.get_bucket_encryption().bucket(&w.config.log_archive.access_log_bucket).send().await.unwrap();
    let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
    let default = rule.apply_server_side_encryption_by_default().unwrap();
    assert_eq!(default.sse_algorithm(), &ServerSideEncryption::AwsKms);
    assert_eq!(default.kms_master_key_id(), Some(access_key.as_str()));
    assert_ne!(rule.bucket_key_enabled(), Some(true));

    // Converged: a second apply reads everything and writes nothing.
    let again = aws(&w.sb);
    let second = w.converge_log_archive(&again, true).await;
    assert!(second.iter().all(|c| !c.is_change()), "{second:?}");
    assert_no_writes(&again);

    // verify reports KMS.4 for both keys.
    let report = orgtrail::verify::verify(&w.ctx(&aws(&w.sb), false)).await;
    let kms4: Vec<_> = report.findings.iter().filter(|f| f.control == orgtrail::verify::Control::Kms4).collect();
    assert_eq!(kms4.len(), 2, "{kms4:?}");
    assert!(kms4.iter().all(|f| f.status == orgtrail::verify::Status::Pass), "{kms4:?}");
    assert!(kms4.iter().any(|f| f.resource == format!("kms-key {access_key}")), "{kms4:?}");

    // Back to the SSE-S3 default: the bucket's encryption is converged, the key is left alone.
    let mut back = w;
    back.reconfigure(|c| c);
    let b = aws(&back.sb);
    let changes = back.converge_log_archive(&b, true).await;
    let access = changes.iter().find(|c| c.resource == format!("s3-bucket {}", back.config.log_archive.access_log_bucket)).unwrap();
    assert!(matches!(&access.action, Action::Update { fields } if fields.contains(&"encryption.SSEAlgorithm".to_string())), "{access:?}");
    let enc = s3.get_bucket_encryption().bucket(&back.config.log_archive.access_log_bucket).send().await.unwrap();
    assert_eq!(enc.server_side_encryption_configuration().unwrap().rules()[0].apply_server_side_encryption_by_default().unwrap().sse_algorithm(), &ServerSideEncryption::Aes256);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_kms_access_logs_need_the_kms_key_step_first() {
    let w = StepWorld::sandbox(1, |c| c.add("log_archive.access_log_encryption", "sse-kms")).await;
    let a = aws(&w.sb);
    let err = log_bucket::converge_access_log_bucket(&w.ctx(&a, true)).await.unwrap_err();
    assert!(err.to_string().contains(ALIAS) && err.to_string().contains("kms-key step"), "{err}");
    assert!(a.metrics.write_calls().is_empty(), "refused before any write: {:?}", a.metrics.write_calls());
}
