//! Issue 11: `plan` and `apply` agree, always. Twelve distinct drifts of the central resources are
//! made one at a time with the AWS SDK, as an operator with console access would; for each, `plan`
//! names the field, a plain `apply` writes exactly that (its changes are plan's, its write calls
//! the one that fixes the field), and the next `plan` and `verify` are clean (MFA Delete, left to
//! the root user by the default config, stays MANUAL).
use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_s3::types::{
    BucketLoggingStatus, BucketVersioningStatus, PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};
use orgtrail_tests::harness::{self, event_selector, orgtrail_json, Operator};
use orgtrail_tests::Sandbox;
use serde_json::{json, Value};

/// The changes of `steps` (harness::changes), none of them a failed step.
fn changes(steps: &Value) -> BTreeMap<String, String> {
    for s in steps.as_array().unwrap() {
        assert!(s["error"].is_null(), "step failed: {s}");
    }
    harness::changes(steps)
}

struct Drifts {
    sb: Sandbox,
    op: Operator,
    /// The change that stays: MFA Delete, which only the root user can turn on.
    mfa: String,
    checked: Vec<&'static str>,
}

impl Drifts {
    /// Plan shows exactly `planned` (besides MFA Delete); apply changes exactly that with exactly
    /// `writes`; then plan shows nothing more and verify is clean.
    fn check(&mut self, drift: &'static str, planned: &[(&str, &str)], writes: Value) {
        let (code, plan) = orgtrail_json(&self.sb, &["plan"]);
        assert_eq!(code, 0, "{drift}: plan {plan:#}");
        assert_eq!(plan["api_calls"]["writes"], json!({}), "{drift}: plan writes nothing");
        let mut want: BTreeMap<String, String> = planned.iter().map(|(r, a)| (r.to_string(), a.to_string())).collect();
        want.insert(self.mfa.clone(), "manual-action".into());
        let seen = changes(&plan["steps"]);
        assert_eq!(seen, want, "{drift}: plan names the field");

        let (code, apply) = orgtrail_json(&self.sb, &["apply"]);
        assert_eq!(code, 3, "{drift}: only MFA Delete left: {apply:#}");
        assert_eq!(apply["report"]["resumed"], false, "{drift}: the finished run is not resumed");
        assert_eq!(changes(&apply["report"]["central"]), seen, "{drift}: apply changed what plan showed");
        assert_eq!(apply["api_calls"]["writes"], writes, "{drift}: apply wrote exactly the fix");

        let (_, again) = orgtrail_json(&self.sb, &["plan"]);
        assert_eq!(changes(&again["steps"]).into_keys().collect::<Vec<_>>(), vec![self.mfa.clone()], "{drift}: no change left");
        let (code, verify) = orgtrail_json(&self.sb, &["verify"]);
        let findings = verify["findings"].as_array().unwrap();
        let failing: BTreeSet<&str> = findings.iter().filter(|f| f["status"] == "FAIL" || f["status"] == "ERROR").map(|f| f["control"].as_str().unwrap()).collect();
        assert_eq!((code, failing), (0, BTreeSet::new()), "{drift}: verify clean");
        assert!(findings.iter().any(|f| f["control"] == "CIS.2.1.2" && f["status"] == "MANUAL"), "{drift}: MFA Delete stays MANUAL");
        self.checked.push(drift);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_drift_plan_names_is_exactly_what_apply_writes() {
    let sb = Sandbox::new(3).await.unwrap();
    let (code, first) = orgtrail_json(&sb, &["apply"]);
    assert_eq!(code, 3, "{first:#}");
    let op = Operator::new(&sb);
    let mfa = format!("mfa-delete s3-bucket {} mfa-delete", op.bucket);
    let trail = format!("org-trail cloudtrail-trail {}", op.trail_arn);
    let key = "kms-key kms-key alias/orgtrail";
    let bucket = format!("log-bucket s3-bucket {}", op.bucket);
    let policy = format!("log-bucket s3-bucket-policy {}", op.bucket);
    let (arn, name) = (op.trail_arn.clone(), op.bucket.clone());
    let mut d = Drifts { sb, op, mfa, checked: Vec::new() };
    let ct = d.op.cloudtrail();
    let s3 = d.op.s3();
    let kms = d.op.kms();

    ct.stop_logging().name(&arn).send().await.unwrap();
    d.check("trail stopped", &[(&trail, "update: IsLogging")], json!({"CloudTrail.StartLogging": 1}));

    let reads_only = event_selector("Management events", &[("eventCategory", "Management"), ("readOnly", "true")]);
    ct.put_event_selectors().trail_name(&arn).advanced_event_selectors(reads_only).send().await.unwrap();
    d.check("selectors changed", &[(&trail, "update: AdvancedEventSelectors")], json!({"CloudTrail.PutEventSelectors": 1}));

    ct.update_trail().name(&arn).enable_log_file_validation(false).send().await.unwrap();
    d.check("log file validation off", &[(&trail, "update: EnableLogFileValidation")], json!({"CloudTrail.UpdateTrail": 1}));

    let other_key = kms.create_key().description("someone else's key").send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    ct.update_trail().name(&arn).kms_key_id(&other_key).send().await.unwrap();
    d.check("KMS key swapped on the trail", &[(&trail, "update: KmsKeyId")], json!({"CloudTrail.UpdateTrail": 1}));

    ct.update_trail().name(&arn).s3_key_prefix("elsewhere").send().await.unwrap();
    d.check("log prefix moved", &[(&trail, "update: S3KeyPrefix")], json!({"CloudTrail.UpdateTrail": 1}));

    let key_id = kms.describe_key().key_id("alias/orgtrail").send().await.unwrap().key_metadata.unwrap().key_id;
    kms.disable_key_rotation().key_id(&key_id).send().await.unwrap();
    d.check("key rotation off", &[(key, "update: rotation")], json!({"KMS.EnableKeyRotation": 1}));

    let suspended = VersioningConfiguration::builder().status(BucketVersioningStatus::Suspended).build();
    s3.put_bucket_versioning().bucket(&name).versioning_configuration(suspended).send().await.unwrap();
    d.check("versioning suspended", &[(&bucket, "update: versioning")], json!({"S3.PutBucketVersioning": 1}));

    let partly = PublicAccessBlockConfiguration::builder().block_public_acls(true).ignore_public_acls(true).block_public_policy(false).restrict_public_buckets(false).build();
    s3.put_public_access_block().bucket(&name).public_access_block_configuration(partly).send().await.unwrap();
    d.check(
        "Block Public Access partly off",
        &[(&bucket, "update: public-access-block.BlockPublicPolicy, public-access-block.RestrictPublicBuckets")],
        json!({"S3.PutPublicAccessBlock": 1}),
    );

    let live: Value = serde_json::from_str(&s3.get_bucket_policy().bucket(&name).send().await.unwrap().policy.unwrap()).unwrap();
    let mut without = live.clone();
    without["Statement"].as_array_mut().unwrap().retain(|s| s["Sid"] != "DenyInsecureTransport");
    assert_eq!(without["Statement"].as_array().unwrap().len() + 1, live["Statement"].as_array().unwrap().len());
    s3.put_bucket_policy().bucket(&name).policy(without.to_string()).send().await.unwrap();
    d.check("a bucket policy statement removed", &[(&policy, "update: DenyInsecureTransport (missing)")], json!({"S3.PutBucketPolicy": 1}));

    let sse_s3 = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256).build().unwrap())
        .bucket_key_enabled(false)
        .build();
    let config = ServerSideEncryptionConfiguration::builder().rules(sse_s3).build().unwrap();
    s3.put_bucket_encryption().bucket(&name).server_side_encryption_configuration(config).send().await.unwrap();
    d.check(
        "default encryption changed to SSE-S3",
        &[(&bucket, "update: encryption.SSEAlgorithm, encryption.KMSMasterKeyID, encryption.BucketKeyEnabled")],
        json!({"S3.PutBucketEncryption": 1}),
    );

    s3.put_bucket_logging().bucket(&name).bucket_logging_status(BucketLoggingStatus::builder().build()).send().await.unwrap();
    d.check("access logging off", &[(&bucket, "update: logging")], json!({"S3.PutBucketLogging": 1}));

    s3.delete_bucket_ownership_controls().bucket(&name).send().await.unwrap();
    d.check("ownership controls removed (ACLs back on)", &[(&bucket, "update: ownership-controls")], json!({"S3.PutBucketOwnershipControls": 1}));

    println!("{} drifts planned, applied and verified: {:?}", d.checked.len(), d.checked);
    assert_eq!(d.checked.len(), 12);
}
