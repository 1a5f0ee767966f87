//! One bucket-hardening routine for every bucket orgtrail owns (the log bucket, the access-log
//! bucket, the remote-state bucket): ownership controls, Block Public Access, versioning, Object
//! Lock, default encryption, access logging, tags, lifecycle, and the bucket policy. Each setting
//! is read, compared and (when applying) written only if it differs; every function pushes the
//! names of the fields that differed, the `Update` a plan reports.
use std::collections::BTreeMap;

use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketLoggingStatus, BucketVersioningStatus, CreateBucketConfiguration, DefaultRetention, LoggingEnabled, MfaDeleteStatus,
    ObjectLockConfiguration, ObjectLockEnabled, ObjectLockRetentionMode, ObjectLockRule, ObjectOwnership, OwnershipControls, OwnershipControlsRule,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag,
    Tagging, VersioningConfiguration,
};

use serde_json::Value;

mod lifecycle;

use lifecycle::lifecycle_rule;
use super::support::{missing_tags, policy_fields};
use super::{absent, Action, Change, StepError};
use crate::aws::Site;
use crate::config::{Lifecycle, ObjectLock, ObjectLockMode};
use crate::policy::diff_policies;

/// One bucket, through the client of the account that owns it.
pub struct Bucket<'a> {
    pub s3: aws_sdk_s3::Client,
    pub name: &'a str,
    /// The owner account, the client's region, `s3-bucket NAME`: what a failed call names.
    pub site: Site,
    pub apply: bool,
}

impl<'a> Bucket<'a> {
    pub fn new(s3: aws_sdk_s3::Client, account: &str, name: &'a str, apply: bool) -> Self {
        let site = Site::new(account, s3.config().region(), format!("s3-bucket {name}"));
        Bucket { s3, name, site, apply }
    }

    pub fn account(&self) -> &str {
        &self.site.account
    }

    pub fn resource(&self) -> String {
        self.site.resource.clone()
    }

    /// The bucket policy as a resource of its own.
    pub fn policy_site(&self) -> Site {
        self.site.on(format!("s3-bucket-policy {}", self.name))
    }

    pub fn refuse(&self, reason: impl Into<String>) -> StepError {
        StepError::refused(self.account(), self.resource(), reason)
    }
}

/// The lifecycle rule orgtrail owns, by ID; other rules on the bucket are kept as they are.
pub const LIFECYCLE_RULE_ID: &str = "orgtrail-log-retention";

pub enum Encryption {
    /// SSE-S3 (AES256).
    SseS3,
    /// SSE-KMS with the AWS managed key (aws/s3) and an S3 Bucket Key: the remote-state bucket.
    AwsManagedKms,
    /// SSE-KMS with this key; None while the key does not exist (plan only). `bucket_key`: with an S3
    /// Bucket Key (the log bucket: it cuts KMS requests for CloudTrail's many small objects).
    SseKms { key_arn: Option<String>, bucket_key: bool },
}

pub struct BucketSpec<'a> {
    pub encryption: Encryption,
    /// Server access logging to (target bucket, prefix); None: not managed.
    pub logging: Option<(String, String)>,
    pub tags: &'a BTreeMap<String, String>,
    /// None: not managed. Some(None): orgtrail's rule must be absent. Some(Some(l)): it must match `l`.
    pub lifecycle: Option<Option<&'a Lifecycle>>,
    /// Default retention (Object Lock itself is enabled at creation, or on an existing bucket here).
    pub object_lock: Option<&'a ObjectLock>,
}

/// Converge every setting of `spec`; returns the fields that differed.
pub async fn converge(b: &Bucket<'_>, spec: &BucketSpec<'_>) -> Result<Vec<String>, StepError> {
    if !b.apply {
        return observe(b, spec).await;
    }
    let mut fields = Vec::new();
    ownership(b, &mut fields).await?;
    public_access_block(b, &mut fields).await?;
    // Before Object Lock and lifecycle: both need versioning on.
    versioning(b, &mut fields).await?;
    if let Some(lock) = spec.object_lock {
        object_lock(b, lock, &mut fields).await?;
    }
    encryption(b, &spec.encryption, &mut fields).await?;
    if let Some((target, prefix)) = &spec.logging {
        logging(b, target, prefix, &mut fields).await?;
    }
    tags(b, spec.tags, &mut fields).await?;
    if let Some(lifecycle) = spec.lifecycle {
        lifecycle_rule(b, lifecycle, &mut fields).await?;
    }
    Ok(fields)
}

/// Read-only (plan, verify, a resume's re-observation): nothing is written, so no setting waits
/// for another and the reads go at once, one round trip instead of eight; the fields come back in
/// the order `converge` writes them.
async fn observe(b: &Bucket<'_>, spec: &BucketSpec<'_>) -> Result<Vec<String>, StepError> {
    let mut found: [Vec<String>; 8] = Default::default();
    let [own, bpa, ver, lock, enc, log, tag, life] = &mut found;
    futures::try_join!(
        ownership(b, own),
        public_access_block(b, bpa),
        versioning(b, ver),
        async {
            match spec.object_lock {
                Some(want) => object_lock(b, want, lock).await,
                None => Ok(()),
            }
        },
        encryption(b, &spec.encryption, enc),
        async {
            match &spec.logging {
                Some((target, prefix)) => logging(b, target, prefix, log).await,
                None => Ok(()),
            }
        },
        tags(b, spec.tags, tag),
        async {
            match spec.lifecycle {
                Some(want) => lifecycle_rule(b, want, life).await,
                None => Ok(()),
            }
        },
    )?;
    Ok(found.concat())
}

async fn ownership(b: &Bucket<'_>, fields: &mut Vec<String>) -> Result<(), StepError> {
    let live = b.s3.get_bucket_ownership_controls().bucket(b.name).send().await.map_err(b.site.fail("S3.GetBucketOwnershipControls"));
    let live = absent(live, &["OwnershipControlsNotFoundError"])?;
    let enforced = live.and_then(|o| o.ownership_controls).is_some_and(|c| c.rules().iter().any(|r| *r.object_ownership() == ObjectOwnership::BucketOwnerEnforced));
    if !enforced {
        fields.push("ownership-controls".into());
        if b.apply {
            let rule = OwnershipControlsRule::builder().object_ownership(ObjectOwnership::BucketOwnerEnforced).build().expect("ownership is set");
            let controls = OwnershipControls::builder().rules(rule).build().expect("rules are set");
            b.s3.put_bucket_ownership_controls().bucket(b.name).ownership_controls(controls).send().await.map_err(b.site.fail("S3.PutBucketOwnershipControls"))?;
        }
    }
    Ok(())
}

async fn public_access_block(b: &Bucket<'_>, fields: &mut Vec<String>) -> Result<(), StepError> {
    let live = b.s3.get_public_access_block().bucket(b.name).send().await.map_err(b.site.fail("S3.GetPublicAccessBlock"));
    let live = absent(live, &["NoSuchPublicAccessBlockConfiguration"])?.and_then(|o| o.public_access_block_configuration);
    let flag = |f: fn(&PublicAccessBlockConfiguration) -> Option<bool>| live.as_ref().and_then(f).unwrap_or(false);
    let off: Vec<&str> = [
        ("BlockPublicAcls", flag(PublicAccessBlockConfiguration::block_public_acls)),
        ("IgnorePublicAcls", flag(PublicAccessBlockConfiguration::ignore_public_acls)),
        ("BlockPublicPolicy", flag(PublicAccessBlockConfiguration::block_public_policy)),
        ("RestrictPublicBuckets", flag(PublicAccessBlockConfiguration::restrict_public_buckets)),
    ]
    .into_iter()
    .filter(|(_, on)| !on)
    .map(|(name, _)| name)
    .collect();
    if !off.is_empty() {
        fields.extend(off.iter().map(|f| format!("public-access-block.{f}")));
        if b.apply {
            let all = PublicAccessBlockConfiguration::builder().block_public_acls(true).ignore_public_acls(true).block_public_policy(true).restrict_public_buckets(true).build();
            b.s3.put_public_access_block().bucket(b.name).public_access_block_configuration(all).send().await.map_err(b.site.fail("S3.PutPublicAccessBlock"))?;
        }
    }
    Ok(())
}

async fn versioning(b: &Bucket<'_>, fields: &mut Vec<String>) -> Result<(), StepError> {
    let live = b.s3.get_bucket_versioning().bucket(b.name).send().await.map_err(b.site.fail("S3.GetBucketVersioning"))?;
    if live.status() == Some(&BucketVersioningStatus::Enabled) {
        return Ok(());
    }
    fields.push("versioning".into());
    // With MFA Delete on, every versioning change needs the root user's MFA: say so instead of failing
    // on AccessDenied, in a plan too (plan and apply agree).
    if live.mfa_delete() == Some(&MfaDeleteStatus::Enabled) {
        return Err(b.refuse(format!(
            "versioning is suspended and MFA Delete is enabled, so only the root user with its MFA device can re-enable it: \
             aws s3api put-bucket-versioning --bucket {} --versioning-configuration Status=Enabled,MFADelete=Enabled --mfa \"SERIAL CODE\"",
            b.name
        )));
    }
    if !b.apply {
        return Ok(());
    }
    // MfaDelete is left out: S3 keeps its current value.
    let enabled = VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build();
    b.s3.put_bucket_versioning().bucket(b.name).versioning_configuration(enabled).send().await.map_err(b.site.fail("S3.PutBucketVersioning"))?;
    Ok(())
}

/// Object Lock with the configured default retention. AWS allows enabling Object Lock on an existing
/// versioned bucket (PutObjectLockConfiguration, since 2023); it cannot be turned off again, and the
/// default retention only applies to objects written afterwards.
async fn object_lock(b: &Bucket<'_>, want: &ObjectLock, fields: &mut Vec<String>) -> Result<(), StepError> {
    let live = b.s3.get_object_lock_configuration().bucket(b.name).send().await.map_err(b.site.fail("S3.GetObjectLockConfiguration"));
    let live = absent(live, &["ObjectLockConfigurationNotFoundError"])?.and_then(|o| o.object_lock_configuration);
    let mode = match want.mode {
        ObjectLockMode::Governance => ObjectLockRetentionMode::Governance,
        ObjectLockMode::Compliance => ObjectLockRetentionMode::Compliance,
    };
    let enabled = live.as_ref().and_then(|c| c.object_lock_enabled()) == Some(&ObjectLockEnabled::Enabled);
    let retention = live.as_ref().and_then(|c| c.rule()).and_then(|r| r.default_retention());
    // Years 0 is no years: some endpoints (the emulator) echo the unset field as 0.
    let same_retention = retention.is_some_and(|r| r.mode() == Some(&mode) && r.days() == Some(want.retention_days) && r.years().unwrap_or(0) == 0);
    if enabled && same_retention {
        return Ok(());
    }
    fields.push(if enabled { "object-lock.default-retention".into() } else { "object-lock (enabled on the existing bucket; irreversible)".into() });
    if b.apply {
        let retention = DefaultRetention::builder().mode(mode).days(want.retention_days).build();
        let config = ObjectLockConfiguration::builder().object_lock_enabled(ObjectLockEnabled::Enabled).rule(ObjectLockRule::builder().default_retention(retention).build()).build();
        b.s3.put_object_lock_configuration().bucket(b.name).object_lock_configuration(config).send().await.map_err(b.site.fail("S3.PutObjectLockConfiguration"))?;
    }
    Ok(())
}

async fn encryption(b: &Bucket<'_>, want: &Encryption, fields: &mut Vec<String>) -> Result<(), StepError> {
    let live = b.s3.get_bucket_encryption().bucket(b.name).send().await.map_err(b.site.fail("S3.GetBucketEncryption"));
    let live = absent(live, &["ServerSideEncryptionConfigurationNotFoundError"])?;
    let rule = live.as_ref().and_then(|o| o.server_side_encryption_configuration()).and_then(|c| c.rules().first());
    let default = rule.and_then(|r| r.apply_server_side_encryption_by_default());
    let algorithm = default.map(|d| d.sse_algorithm().clone());
    let before = fields.len();
    match want {
        Encryption::SseS3 => {
            if algorithm != Some(ServerSideEncryption::Aes256) {
                fields.push("encryption.SSEAlgorithm".into());
            }
        }
        Encryption::AwsManagedKms => {
            if algorithm != Some(ServerSideEncryption::AwsKms) {
                fields.push("encryption.SSEAlgorithm".into());
            }
            if default.and_then(|d| d.kms_master_key_id()).is_some() {
                fields.push("encryption.KMSMasterKeyID".into());
            }
            if !rule.and_then(|r| r.bucket_key_enabled()).unwrap_or(false) {
                fields.push("encryption.BucketKeyEnabled".into());
            }
        }
        Encryption::SseKms { key_arn, bucket_key } => {
            if algorithm != Some(ServerSideEncryption::AwsKms) {
                fields.push("encryption.SSEAlgorithm".into());
            }
            if key_arn.is_none() || default.and_then(|d| d.kms_master_key_id()) != key_arn.as_deref() {
                fields.push("encryption.KMSMasterKeyID".into());
            }
            if rule.and_then(|r| r.bucket_key_enabled()).unwrap_or(false) != *bucket_key {
                fields.push("encryption.BucketKeyEnabled".into());
            }
        }
    }
    if fields.len() == before || !b.apply {
        return Ok(());
    }
    let (by_default, bucket_key) = match want {
        Encryption::SseS3 => (ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256), false),
        Encryption::AwsManagedKms => (ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::AwsKms), true),
        Encryption::SseKms { key_arn, bucket_key } => {
            let Some(key_arn) = key_arn else { return Err(b.refuse("the KMS key does not exist yet: the kms-key step must run first")) };
            (ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::AwsKms).kms_master_key_id(key_arn), *bucket_key)
        }
    };
    let rule = ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(by_default.build().expect("algorithm is set")).bucket_key_enabled(bucket_key).build();
    let config = ServerSideEncryptionConfiguration::builder().rules(rule).build().expect("rules are set");
    b.s3.put_bucket_encryption().bucket(b.name).server_side_encryption_configuration(config).send().await.map_err(b.site.fail("S3.PutBucketEncryption"))?;
    Ok(())
}

async fn logging(b: &Bucket<'_>, target: &str, prefix: &str, fields: &mut Vec<String>) -> Result<(), StepError> {
    let live = b.s3.get_bucket_logging().bucket(b.name).send().await.map_err(b.site.fail("S3.GetBucketLogging"))?;
    if live.logging_enabled().is_some_and(|l| l.target_bucket() == target && l.target_prefix() == prefix) {
        return Ok(());
    }
    fields.push("logging".into());
    if b.apply {
        let enabled = LoggingEnabled::builder().target_bucket(target).target_prefix(prefix).build().expect("target and prefix are set");
        let status = BucketLoggingStatus::builder().logging_enabled(enabled).build();
        b.s3.put_bucket_logging().bucket(b.name).bucket_logging_status(status).send().await.map_err(b.site.fail("S3.PutBucketLogging"))?;
    }
    Ok(())
}

async fn tags(b: &Bucket<'_>, want: &BTreeMap<String, String>, fields: &mut Vec<String>) -> Result<(), StepError> {
    if want.is_empty() {
        return Ok(());
    }
    let live = b.s3.get_bucket_tagging().bucket(b.name).send().await.map_err(b.site.fail("S3.GetBucketTagging"));
    let live: BTreeMap<String, String> =
        absent(live, &["NoSuchTagSet"])?.map(|o| o.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()).unwrap_or_default();
    let missing = missing_tags(want, &live);
    if missing.is_empty() {
        return Ok(());
    }
    fields.push("tags".into());
    if b.apply {
        // PutBucketTagging replaces the whole set: send the live tags with ours merged in.
        let mut all = live;
        all.extend(missing);
        let set = all.iter().map(|(k, v)| Tag::builder().key(k).value(v).build().expect("key and value are set")).collect();
        let tagging = Tagging::builder().set_tag_set(Some(set)).build().expect("tag set is set");
        b.s3.put_bucket_tagging().bucket(b.name).tagging(tagging).send().await.map_err(b.site.fail("S3.PutBucketTagging"))?;
    }
    Ok(())
}

/// CreateBucket in `region`; false when it already exists and is ours (created by a concurrent run
/// since HeadBucket, or since the first lock attempt: converge it like an existing bucket).
pub async fn create(b: &Bucket<'_>, region: &str, object_lock: bool) -> Result<bool, StepError> {
    let mut req = b.s3.create_bucket().bucket(b.name);
    // us-east-1 is the one region that rejects its own name as LocationConstraint.
    if region != "us-east-1" {
        req = req.create_bucket_configuration(CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region)).build());
    }
    if object_lock {
        // Also turns versioning on; the default retention is set with the other settings.
        req = req.object_lock_enabled_for_bucket(true);
    }
    match req.send().await.map_err(b.site.fail("S3.CreateBucket")) {
        Ok(_) => Ok(true),
        Err(e) if e.source.is_code("BucketAlreadyOwnedByYou") => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The live policy document, None when the bucket has none.
pub async fn live_policy(b: &Bucket<'_>) -> Result<Option<String>, StepError> {
    let out = absent(b.s3.get_bucket_policy().bucket(b.name).send().await.map_err(b.policy_site().fail("S3.GetBucketPolicy")), &["NoSuchBucketPolicy"])?;
    Ok(out.and_then(|o| o.policy))
}

/// Put `desired` when it differs from `live` (None: no policy); the change names the statements that differ.
pub async fn converge_policy(b: &Bucket<'_>, live: Option<String>, desired: &Value) -> Result<Change, StepError> {
    let site = b.policy_site();
    let change = match &live {
        None => Change::new(site.resource.clone(), Action::Create),
        Some(live) => Change::update(site.resource.clone(), policy_fields(&diff_policies(&Value::String(live.clone()), desired))),
    };
    if change.is_change() && b.apply {
        b.s3.put_bucket_policy().bucket(b.name).policy(desired.to_string()).send().await.map_err(site.fail("S3.PutBucketPolicy"))?;
    }
    Ok(change)
}
