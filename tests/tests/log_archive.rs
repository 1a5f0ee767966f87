//! Issue 3: the log-archive baseline (KMS key, access-log bucket, log bucket, MFA Delete) converged
//! against the (patched) moto server, every result read back through the SDK.
use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_s3::types::{BucketVersioningStatus, MfaDeleteStatus, ObjectLockEnabled, ObjectLockRetentionMode, ObjectOwnership, PublicAccessBlockConfiguration, ServerSideEncryption, VersioningConfiguration};
use orgtrail::aws::Aws;
use orgtrail::policy::{diff_policies, normalize_policy, render_bucket_policy, render_key_policy};
use orgtrail::steps::log_bucket::policy_context;
use orgtrail::steps::{kms_key, log_bucket, mfa_delete, Action, Outcome, StepError};
use orgtrail_tests::harness::{assert_no_writes, fields_of, iam_user_credentials, only, test_aws as aws, ConfigEdit, StepWorld};
use serde_json::Value;

/// Every Sid baseline.md lists for the log bucket's policy (phase one; `AllowLogReaders` because the
/// seed config has a reader role, `DenyVersioningChanges` is the versioning part of item 6 with the
/// root user's MFA Delete exception), then the phase-two denies.
const SPEC_SIDS: &[&str] = &[
    "AWSCloudTrailAclCheck",
    "AWSCloudTrailWrite",
    "DenyInsecureTransport",
    "DenyExternalPrincipals",
    "RestrictLogReads",
    "AllowLogReaders",
    "DenyLogDeletion",
    "DenyVersioningChanges",
    "DenyPolicyTampering",
];
const ENFORCEMENT_SIDS: &[&str] = &["DenyUnencryptedObjectUploads", "DenyWrongKMSKey"];

/// Lifecycle (MFA Delete off, as the config rules demand) and Object Lock.
const FULL_LOG_ARCHIVE: &str = r#"
[log_archive]
object_lock = { mode = "GOVERNANCE", retention_days = 30 }

[log_archive.lifecycle]
archive_after_days = 90
archive_storage_class = "GLACIER"
expire_after_days = 400
noncurrent_expire_after_days = 30
"#;

orgtrail_tests::step_world!();

impl World {
    /// A sandbox org with one member; `edit` changes the generated config.
    async fn new(edit: impl FnOnce(ConfigEdit) -> ConfigEdit) -> World {
        World(StepWorld::sandbox(1, edit).await)
    }

    fn bucket(&self) -> &str {
        &self.config.log_archive.bucket
    }

    fn access_log_bucket(&self) -> &str {
        &self.config.log_archive.access_log_bucket
    }

    async fn key_arn(&self) -> String {
        let a = aws(&self.sb);
        kms_key::key_arn(&self.ctx(&a, false)).await.unwrap().expect("the key exists")
    }

    async fn live_bucket_policy(&self) -> Value {
        let text = self.s3().get_bucket_policy().bucket(self.bucket()).send().await.unwrap().policy.unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

fn sids(policy: &Value) -> BTreeSet<String> {
    normalize_policy(policy).statements.keys().cloned().collect()
}

fn pab_all_on(c: &PublicAccessBlockConfiguration) -> bool {
    [c.block_public_acls(), c.ignore_public_acls(), c.block_public_policy(), c.restrict_public_buckets()].iter().all(|f| *f == Some(true))
}

async fn key_count(kms: &aws_sdk_kms::Client) -> usize {
    kms.list_keys().send().await.unwrap().keys().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_creates_the_whole_baseline_and_a_second_apply_writes_nothing() {
    // A home region that needs a LocationConstraint.
    let w = World::new(|c| c.home_region("eu-west-1").mfa_delete(false).merge(FULL_LOG_ARCHIVE)).await;
    let (la, bucket, alb) = (w.la().to_string(), w.bucket().to_string(), w.access_log_bucket().to_string());

    // Plan on the empty account: everything to create, nothing written.
    let planner = aws(&w.sb);
    let plan = w.converge_log_archive(&planner, false).await;
    for r in ["kms-key alias/orgtrail".to_string(), format!("s3-bucket {alb}"), format!("s3-bucket {bucket}"), format!("s3-bucket-policy {bucket}")] {
        assert_eq!(only(&plan, &r).action, Action::Create, "{r}: {plan:?}");
    }
    assert_no_writes(&planner);
    assert_eq!(key_count(&w.kms()).await, 0);

    let applier = aws(&w.sb);
    let applied = w.converge_log_archive(&applier, true).await;
    assert_eq!(only(&applied, "kms-key alias/orgtrail").action, Action::Create);
    assert_eq!(only(&applied, &format!("s3-bucket {bucket}")).action, Action::Create);
    assert_eq!(only(&applied, &format!("s3-bucket-policy {bucket}")).action, Action::Create);
    let enforced = log_bucket::enforce_encryption(&w.ctx(&applier, true)).await.unwrap();
    assert_eq!(fields_of(&only(&enforced.changes, &format!("s3-bucket-policy {bucket}"))), vec!["DenyUnencryptedObjectUploads (missing)", "DenyWrongKMSKey (missing)"]);

    // KMS key: one customer managed key, rotation on, tags, alias, the rendered policy.
    let kms = w.kms();
    assert_eq!(key_count(&kms).await, 1);
    let key_arn = w.key_arn().await;
    assert!(key_arn.starts_with(&format!("arn:aws:kms:eu-west-1:{la}:key/")), "{key_arn}");
    let meta = kms.describe_key().key_id("alias/orgtrail").send().await.unwrap().key_metadata.unwrap();
    assert_eq!(meta.arn(), Some(key_arn.as_str()));
    assert!(kms.get_key_rotation_status().key_id(&key_arn).send().await.unwrap().key_rotation_enabled());
    let tags: BTreeMap<_, _> = kms.list_resource_tags().key_id(&key_arn).send().await.unwrap().tags().iter().map(|t| (t.tag_key().to_string(), t.tag_value().to_string())).collect();
    assert_eq!(tags.get("owner").map(String::as_str), Some("platform"));
    let live_key_policy = kms.get_key_policy().key_id(&key_arn).policy_name("default").send().await.unwrap().policy.unwrap();
    let want_key_policy = render_key_policy(&policy_context(&w.ctx(&applier, false), &key_arn, false)).unwrap();
    assert!(diff_policies(&Value::String(live_key_policy.clone()), &want_key_policy).is_empty(), "{live_key_policy}");
    for sid in ["EnableRootAccess", "AllowCloudTrailEncrypt", "AllowCloudTrailDescribeKey", "AllowLogReadersDecrypt"] {
        assert!(sids(&Value::String(live_key_policy.clone())).contains(sid), "{sid} missing from {live_key_policy}");
    }

    let s3 = w.s3();
    for b in [&bucket, &alb] {
        // In the home region, through a LocationConstraint (eu-west-1 is not us-east-1).
        let loc = s3.get_bucket_location().bucket(b).send().await.unwrap();
        assert_eq!(loc.location_constraint().map(|l| l.as_str()), Some("eu-west-1"), "{b}");
        assert_eq!(s3.get_bucket_versioning().bucket(b).send().await.unwrap().status(), Some(&BucketVersioningStatus::Enabled), "{b}");
        let pab = s3.get_public_access_block().bucket(b).send().await.unwrap().public_access_block_configuration.unwrap();
        assert!(pab_all_on(&pab), "{b}: {pab:?}");
        let own = s3.get_bucket_ownership_controls().bucket(b).send().await.unwrap().ownership_controls.unwrap();
        assert_eq!(own.rules()[0].object_ownership(), &ObjectOwnership::BucketOwnerEnforced, "{b}");
        let tags = s3.get_bucket_tagging().bucket(b).send().await.unwrap();
        assert!(tags.tag_set().iter().any(|t| t.key() == "owner" && t.value() == "platform"), "{b}: {tags:?}");
    }

    // Log bucket: SSE-KMS with the key's full ARN and a Bucket Key.
    let enc = s3.get_bucket_encryption().bucket(&bucket).send().await.unwrap().server_side_encryption_configuration.unwrap();
    let rule = &enc.rules()[0];
    let by_default = rule.apply_server_side_encryption_by_default().unwrap();
    assert_eq!(by_default.sse_algorithm(), &ServerSideEncryption::AwsKms);
    assert_eq!(by_default.kms_master_key_id(), Some(key_arn.as_str()));
    assert_eq!(rule.bucket_key_enabled(), Some(true));
    // Access-log bucket: SSE-S3 (the aws/s3 key cannot take log delivery).
    let enc = s3.get_bucket_encryption().bucket(&alb).send().await.unwrap().server_side_encryption_configuration.unwrap();
    assert_eq!(enc.rules()[0].apply_server_side_encryption_by_default().unwrap().sse_algorithm(), &ServerSideEncryption::Aes256);

    // Server access logging into the access-log bucket.
    let logging = s3.get_bucket_logging().bucket(&bucket).send().await.unwrap().logging_enabled.unwrap();
    assert_eq!((logging.target_bucket(), logging.target_prefix()), (alb.as_str(), format!("{bucket}/").as_str()));

    // Lifecycle: archive transition, expiry, noncurrent expiry.
    let rules = s3.get_bucket_lifecycle_configuration().bucket(&bucket).send().await.unwrap().rules.unwrap();
    assert_eq!(rules.len(), 1, "{rules:?}");
    let r = &rules[0];
    assert_eq!(r.transitions()[0].days(), Some(90));
    assert_eq!(r.transitions()[0].storage_class().map(|c| c.as_str()), Some("GLACIER"));
    assert_eq!(r.expiration().and_then(|e| e.days()), Some(400));
    assert_eq!(r.noncurrent_version_expiration().and_then(|n| n.noncurrent_days()), Some(30));

    // Object Lock, chosen at creation, with its default retention.
    let lock = s3.get_object_lock_configuration().bucket(&bucket).send().await.unwrap().object_lock_configuration.unwrap();
    assert_eq!(lock.object_lock_enabled(), Some(&ObjectLockEnabled::Enabled));
    let retention = lock.rule().and_then(|r| r.default_retention()).unwrap();
    assert_eq!((retention.mode(), retention.days()), (Some(&ObjectLockRetentionMode::Governance), Some(30)));

    // The bucket policy: every Sid of the spec plus the phase-two denies, semantically the rendered one.
    let live = w.live_bucket_policy().await;
    let want = render_bucket_policy(&policy_context(&w.ctx(&applier, false), &key_arn, true)).unwrap();
    assert!(diff_policies(&live, &want).is_empty(), "{:?}", diff_policies(&live, &want));
    let expected: BTreeSet<String> = SPEC_SIDS.iter().chain(ENFORCEMENT_SIDS).map(|s| s.to_string()).collect();
    assert_eq!(sids(&live), expected);
    let alb_policy: Value = serde_json::from_str(&s3.get_bucket_policy().bucket(&alb).send().await.unwrap().policy.unwrap()).unwrap();
    assert_eq!(sids(&alb_policy), BTreeSet::from(["DenyInsecureTransport".to_string(), "S3ServerAccessLogsPolicy".to_string()]));

    // A second apply (both phases) reads everything and writes nothing.
    let again = aws(&w.sb);
    let second = w.converge_log_archive(&again, true).await;
    let enforced = log_bucket::enforce_encryption(&w.ctx(&again, true)).await.unwrap();
    assert!(second.iter().chain(&enforced.changes).all(|c| !c.is_change()), "{second:?} {enforced:?}");
    assert_no_writes(&again);
    assert!(again.metrics.total().calls > 10, "the second apply read the resources back");
    assert_eq!(key_count(&kms).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_alias_is_reused_and_its_key_converged() {
    let w = World::new(|c| c).await;
    let kms = w.kms();
    // Someone made the key by hand: default policy, rotation off, no tags.
    let key = kms.create_key().description("made by hand").send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    kms.create_alias().alias_name("alias/orgtrail").target_key_id(&key).send().await.unwrap();

    let a = aws(&w.sb);
    let plan = kms_key::converge(&w.ctx(&a, false)).await.unwrap();
    let fields = fields_of(&only(&plan.changes, "kms-key alias/orgtrail"));
    assert!(fields.contains(&"rotation".to_string()) && fields.contains(&"tags".to_string()), "{fields:?}");
    let policy_fields = fields_of(&only(&plan.changes, "kms-key-policy alias/orgtrail"));
    assert!(policy_fields.iter().any(|f| f == "AllowCloudTrailEncrypt (missing)"), "{policy_fields:?}");
    assert_no_writes(&a);

    let a = aws(&w.sb);
    kms_key::converge(&w.ctx(&a, true)).await.unwrap();
    assert_eq!(key_count(&kms).await, 1, "no second key");
    assert_eq!(w.key_arn().await, key);
    assert!(kms.get_key_rotation_status().key_id(&key).send().await.unwrap().key_rotation_enabled());
    let live = kms.get_key_policy().key_id(&key).policy_name("default").send().await.unwrap().policy.unwrap();
    let want = render_key_policy(&policy_context(&w.ctx(&a, false), &key, false)).unwrap();
    assert!(diff_policies(&Value::String(live), &want).is_empty());
    let tags = kms.list_resource_tags().key_id(&key).send().await.unwrap();
    assert!(tags.tags().iter().any(|t| t.tag_key() == "owner" && t.tag_value() == "platform"), "{tags:?}");

    let a = aws(&w.sb);
    let again = kms_key::converge(&w.ctx(&a, true)).await.unwrap();
    assert!(again.changes.iter().all(|c| !c.is_change()), "{again:?}");
    assert_no_writes(&a);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_is_planned_without_writing_then_repaired() {
    let w = World::new(|c| c).await;
    w.converge_log_archive(&aws(&w.sb), true).await;
    let (s3, kms, bucket) = (w.s3(), w.kms(), w.bucket().to_string());
    let key = w.key_arn().await;

    // Drift: versioning suspended, two of the four Block Public Access settings off, the TLS deny removed, rotation off.
    let suspended = VersioningConfiguration::builder().status(BucketVersioningStatus::Suspended).build();
    s3.put_bucket_versioning().bucket(&bucket).versioning_configuration(suspended).send().await.unwrap();
    let partial = PublicAccessBlockConfiguration::builder().block_public_acls(true).ignore_public_acls(true).block_public_policy(false).restrict_public_buckets(false).build();
    s3.put_public_access_block().bucket(&bucket).public_access_block_configuration(partial).send().await.unwrap();
    let mut policy = w.live_bucket_policy().await;
    policy["Statement"].as_array_mut().unwrap().retain(|s| s["Sid"] != "DenyInsecureTransport");
    s3.put_bucket_policy().bucket(&bucket).policy(policy.to_string()).send().await.unwrap();
    kms.disable_key_rotation().key_id(&key).send().await.unwrap();

    let planner = aws(&w.sb);
    let plan = w.converge_log_archive(&planner, false).await;
    assert_no_writes(&planner);
    assert_eq!(fields_of(&only(&plan, "kms-key alias/orgtrail")), vec!["rotation"]);
    assert_eq!(fields_of(&only(&plan, &format!("s3-bucket {bucket}"))), vec!["public-access-block.BlockPublicPolicy", "public-access-block.RestrictPublicBuckets", "versioning"]);
    assert_eq!(fields_of(&only(&plan, &format!("s3-bucket-policy {bucket}"))), vec!["DenyInsecureTransport (missing)"]);
    assert!(!only(&plan, "kms-key-policy alias/orgtrail").is_change());
    assert!(!only(&plan, &format!("s3-bucket {}", w.access_log_bucket())).is_change(), "{plan:?}");
    // The plan left the drift in place.
    assert_eq!(s3.get_bucket_versioning().bucket(&bucket).send().await.unwrap().status(), Some(&BucketVersioningStatus::Suspended));
    assert!(!kms.get_key_rotation_status().key_id(&key).send().await.unwrap().key_rotation_enabled());

    let applier = aws(&w.sb);
    let applied = w.converge_log_archive(&applier, true).await;
    assert_eq!(applied.iter().filter(|c| c.is_change()).count(), 3, "{applied:?}");
    let writes: BTreeSet<String> = applier.metrics.write_calls().into_keys().collect();
    let expected = ["KMS.EnableKeyRotation", "S3.PutBucketPolicy", "S3.PutBucketVersioning", "S3.PutPublicAccessBlock"];
    assert_eq!(writes, expected.iter().map(|s| s.to_string()).collect(), "only what drifted is written");

    assert_eq!(s3.get_bucket_versioning().bucket(&bucket).send().await.unwrap().status(), Some(&BucketVersioningStatus::Enabled));
    let pab = s3.get_public_access_block().bucket(&bucket).send().await.unwrap().public_access_block_configuration.unwrap();
    assert!(pab_all_on(&pab), "{pab:?}");
    assert!(sids(&w.live_bucket_policy().await).contains("DenyInsecureTransport"));
    assert!(kms.get_key_rotation_status().key_id(&key).send().await.unwrap().key_rotation_enabled());

    let again = aws(&w.sb);
    assert!(w.converge_log_archive(&again, true).await.iter().all(|c| !c.is_change()));
    assert_no_writes(&again);
}

/// A PutObject over the emulator's plain-HTTP endpoint, as the log-archive role; Err(HTTP status) when refused.
async fn put_object(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<(), u16> {
    match s3.put_object().bucket(bucket).key(key).body(b"{}".to_vec().into()).send().await {
        Ok(_) => Ok(()),
        Err(e) => Err(e.raw_response().map(|r| r.status().as_u16()).unwrap_or_default()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rendered_policy_has_every_spec_sid_and_its_tls_deny_refuses_plain_http() {
    let w = World::new(|c| c).await;
    w.converge_log_archive(&aws(&w.sb), true).await;
    let (s3, bucket) = (w.s3(), w.bucket().to_string());
    let key = format!("org/AWSLogs/{}/probe.json", w.sb.org.org_id);

    let live = w.live_bucket_policy().await;
    let expected: BTreeSet<String> = SPEC_SIDS.iter().map(|s| s.to_string()).collect();
    assert_eq!(sids(&live), expected, "phase one: the spec's statements, no encryption denies yet");
    let tls = live["Statement"].as_array().unwrap().iter().find(|s| s["Sid"] == "DenyInsecureTransport").unwrap().clone();
    assert_eq!(tls["Effect"], "Deny");
    assert_eq!(tls["Condition"]["Bool"]["aws:SecureTransport"], "false", "{tls}");

    // moto evaluates a bucket policy on object writes by action and resource only: it passes no
    // principal, and ignores every condition operator but StringEquals (so `Bool aws:SecureTransport`
    // always holds, as it does for this plain-HTTP endpoint). A refusal under the full policy could
    // come from DenyExternalPrincipals as well, so the TLS statement is also tried alone, with a
    // control write to the same bucket without any policy.
    assert_eq!(put_object(&s3, &bucket, &key).await, Err(403), "the full policy refuses a plain-HTTP PutObject");

    s3.delete_bucket_policy().bucket(&bucket).send().await.unwrap();
    assert_eq!(put_object(&s3, &bucket, &key).await, Ok(()), "control: without a policy the write goes through");

    let only_tls = serde_json::json!({ "Version": "2012-10-17", "Statement": [tls] });
    s3.put_bucket_policy().bucket(&bucket).policy(only_tls.to_string()).send().await.unwrap();
    assert_eq!(put_object(&s3, &bucket, &key).await, Err(403), "DenyInsecureTransport alone refuses it");

    // The next apply reports the other statements missing and puts the whole policy back.
    let a = aws(&w.sb);
    let out = log_bucket::converge_log_bucket(&w.ctx(&a, true)).await.unwrap();
    let fields = fields_of(&only(&out.changes, &format!("s3-bucket-policy {bucket}")));
    assert_eq!(fields.len(), SPEC_SIDS.len() - 1, "{fields:?}");
    assert_eq!(sids(&w.live_bucket_policy().await), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_that_would_lock_orgtrail_out_is_refused_before_any_write() {
    // admin_roles without the role orgtrail runs as in the log-archive account.
    let w = World::new(|c| {
        let la = c.get_str("log_archive.account");
        c.admin_roles([format!("arn:aws:iam::{la}:role/BreakGlass")])
    })
    .await;
    let a = aws(&w.sb);
    kms_key::converge(&w.ctx(&a, true)).await.unwrap();
    log_bucket::converge_access_log_bucket(&w.ctx(&a, true)).await.unwrap();

    let before = aws(&w.sb);
    for apply in [false, true] {
        let err = log_bucket::converge_log_bucket(&w.ctx(&before, apply)).await.unwrap_err();
        let StepError::Refused { account, resource, reason } = &err else { panic!("expected a refusal, got {err:?}") };
        assert_eq!(account, w.la());
        assert_eq!(resource, &format!("s3-bucket-policy {}", w.bucket()));
        let role = format!("arn:aws:iam::{}:role/OrganizationAccountAccessRole", w.la());
        assert!(reason.contains(&role), "names the principal that would be locked out: {reason}");
        assert!(reason.contains("DenyLogDeletion") || reason.contains("DenyPolicyTampering"), "names the statement: {reason}");
    }
    assert!(before.metrics.write_calls().is_empty(), "refused before any write: {:?}", before.metrics.write_calls());
    let head = w.s3().head_bucket().bucket(w.bucket()).send().await;
    assert_eq!(head.unwrap_err().raw_response().map(|r| r.status().as_u16()), Some(404), "the log bucket was not created");
}

fn manual_instructions(out: &Outcome) -> String {
    out.manual_instructions().unwrap_or_else(|| panic!("expected a manual action: {out:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mfa_delete_needs_a_manual_action_until_enable_turns_it_on() {
    let w = World::new(|c| c).await; // the sandbox config asks for MFA Delete (and no lifecycle)
    let bucket = w.bucket().to_string();
    let resource = format!("s3-bucket {bucket} mfa-delete");
    // A plan of the empty account already names the manual action the new bucket will need.
    let planned = mfa_delete::verify(&w.ctx(&aws(&w.sb), false)).await.unwrap();
    assert!(matches!(only(&planned.changes, &resource).action, Action::ManualAction { .. }), "{planned:?}");
    w.converge_log_archive(&aws(&w.sb), true).await;

    let a = aws(&w.sb);
    let out = mfa_delete::verify(&w.ctx(&a, true)).await.unwrap();
    assert!(matches!(only(&out.changes, &resource).action, Action::ManualAction { .. }), "{out:?}");
    let text = manual_instructions(&out);
    let command = format!("orgtrail mfa-delete enable --mfa-serial arn:aws:iam::{}:mfa/root-account-mfa-device --mfa-code CODE", w.la());
    assert!(text.lines().any(|l| l.trim() == command), "the exact command on a line of its own: {text}");
    assert!(a.metrics.write_calls().is_empty(), "verify never writes: {:?}", a.metrics.write_calls());

    let serial = mfa_delete::default_mfa_serial("aws", w.la());
    let both = mfa_delete::target_buckets(&w.config, None).unwrap();
    assert_eq!(both, vec![bucket.clone(), w.config.log_archive.access_log_bucket.clone()]);
    // The management account's credentials are refused up front, naming why and whose are needed.
    let err = mfa_delete::enable(&aws(&w.sb), &w.config, &both, &serial, "123456").await.unwrap_err();
    assert!(err.to_string().contains(&format!("arn:aws:iam::{}:root", w.la())), "{err}");
    // So is the role orgtrail assumes in the log-archive account: S3 never lets a role session do it.
    let role_session = Aws::from_config(aws(&w.sb).session(w.la()), 50);
    let err = mfa_delete::enable(&role_session, &w.config, &both, &serial, "123456").await.unwrap_err();
    assert!(err.to_string().contains("a role session") && err.to_string().contains("root user"), "{err}");
    // A malformed code is refused without being echoed.
    let (id, secret) = iam_user_credentials(&w.sb.emulator.endpoint(), w.la());
    let creds = aws_credential_types::Credentials::new(id, secret, None, None, "test");
    let la_user = Aws::from_config(w.sb.conf.to_builder().credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds)).build(), 50);
    let err = mfa_delete::enable(&la_user, &w.config, &both, &serial, "12x456").await.unwrap_err();
    assert!(err.to_string().contains("6-digit") && !err.to_string().contains("12x456"), "{err}");

    let enabled = mfa_delete::enable(&la_user, &w.config, &both, &serial, "123456").await.unwrap();
    assert_eq!(fields_of(&only(&enabled.changes, &resource)), vec!["MFADelete"]);
    // By default the access-log bucket too: a scanner checks every bucket of the account.
    let access = w.config.log_archive.access_log_bucket.clone();
    assert_eq!(fields_of(&only(&enabled.changes, &format!("s3-bucket {access} mfa-delete"))), vec!["MFADelete"]);
    for b in [&bucket, &access] {
        let v = w.s3().get_bucket_versioning().bucket(b).send().await.unwrap();
        assert_eq!((v.status(), v.mfa_delete()), (Some(&BucketVersioningStatus::Enabled), Some(&MfaDeleteStatus::Enabled)), "{b}");
    }
    // Once on, `--bucket` of either reports no change; another bucket is refused as bad input.
    let again = mfa_delete::enable(&la_user, &w.config, &mfa_delete::target_buckets(&w.config, Some(&access)).unwrap(), &serial, "123456").await.unwrap();
    assert!(again.changes.iter().all(|c| !c.is_change()) && again.changes.len() == 1, "{again:?}");
    let refused = mfa_delete::target_buckets(&w.config, Some("someone-elses")).unwrap_err();
    assert!(refused.contains(&bucket) && refused.contains(&access), "{refused}");

    let a = aws(&w.sb);
    let out = mfa_delete::verify(&w.ctx(&a, true)).await.unwrap();
    assert!(!only(&out.changes, &resource).is_change(), "{out:?}");
    assert!(out.manual_instructions().is_none());
    // The bucket steps leave MFA Delete alone: a converged re-run still writes nothing.
    let again = aws(&w.sb);
    assert!(w.converge_log_archive(&again, true).await.iter().all(|c| !c.is_change()));
    assert_no_writes(&again);
}
