//! One bucket-hardening routine for every bucket orgtrail owns (the log bucket, the access-log
//! bucket, the remote-state bucket): ownership controls, Block Public Access, versioning, Object
//! Lock, default encryption, access logging, tags, lifecycle, and the bucket policy. Each setting
//! is read, compared and (when applying) written only if it differs; every function pushes the
//! names of the fields that differed, the `Update` a plan reports.
use std::collections::BTreeMap;

use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, BucketLoggingStatus, BucketVersioningStatus, CreateBucketConfiguration, DefaultRetention, LoggingEnabled, MfaDeleteStatus,
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

/// Converge every setting of `spec`; returns the fields that differed. Every setting is read at once
/// (one round trip instead of eight, and a refusal is found before anything is written), then the
/// writes go one after another in the order of `read_all`: versioning before Object Lock and
/// lifecycle, which both need it on. They are not sent at once: S3 answers concurrent
/// configuration changes of one bucket with 409 OperationAborted.
pub async fn converge(b: &Bucket<'_>, spec: &BucketSpec<'_>) -> Result<Vec<String>, StepError> {
    let found = read_all(b, spec).await?;
    let fields = found.iter().flat_map(|f| f.fields.iter().cloned()).collect();
    for write in found.into_iter().filter_map(|f| f.write) {
        write.send(b).await?;
    }
    Ok(fields)
}

/// What reading one setting found: the fields that differ from the baseline, and (when applying)
/// the write that brings it there.
#[derive(Default)]
struct Found {
    fields: Vec<String>,
    write: Option<Write>,
}

impl Found {
    fn same() -> Self {
        Found::default()
    }

    /// `fields` differ; `write` fixes them, sent only when applying.
    fn differs(b: &Bucket<'_>, fields: Vec<String>, write: impl FnOnce() -> Write) -> Self {
        Found { fields, write: b.apply.then(write) }
    }
}

/// One configuration write to a bucket.
enum Write {
    Ownership(OwnershipControls),
    PublicAccessBlock(PublicAccessBlockConfiguration),
    Versioning(VersioningConfiguration),
    ObjectLock(ObjectLockConfiguration),
    Encryption(ServerSideEncryptionConfiguration),
    Logging(BucketLoggingStatus),
    Tags(Tagging),
    /// The whole lifecycle configuration; None deletes it (no rule left).
    Lifecycle(Option<BucketLifecycleConfiguration>),
}

impl Write {
    async fn send(self, b: &Bucket<'_>) -> Result<(), StepError> {
        let (s3, name, site) = (&b.s3, b.name, &b.site);
        match self {
            Write::Ownership(c) => drop(s3.put_bucket_ownership_controls().bucket(name).ownership_controls(c).send().await.map_err(site.fail("S3.PutBucketOwnershipControls"))?),
            Write::PublicAccessBlock(c) => drop(s3.put_public_access_block().bucket(name).public_access_block_configuration(c).send().await.map_err(site.fail("S3.PutPublicAccessBlock"))?),
            Write::Versioning(c) => drop(s3.put_bucket_versioning().bucket(name).versioning_configuration(c).send().await.map_err(site.fail("S3.PutBucketVersioning"))?),
            Write::ObjectLock(c) => drop(s3.put_object_lock_configuration().bucket(name).object_lock_configuration(c).send().await.map_err(site.fail("S3.PutObjectLockConfiguration"))?),
            Write::Encryption(c) => drop(s3.put_bucket_encryption().bucket(name).server_side_encryption_configuration(c).send().await.map_err(site.fail("S3.PutBucketEncryption"))?),
            Write::Logging(c) => drop(s3.put_bucket_logging().bucket(name).bucket_logging_status(c).send().await.map_err(site.fail("S3.PutBucketLogging"))?),
            Write::Tags(t) => drop(s3.put_bucket_tagging().bucket(name).tagging(t).send().await.map_err(site.fail("S3.PutBucketTagging"))?),
            Write::Lifecycle(None) => drop(s3.delete_bucket_lifecycle().bucket(name).send().await.map_err(site.fail("S3.DeleteBucketLifecycle"))?),
            Write::Lifecycle(Some(c)) => {
                drop(s3.put_bucket_lifecycle_configuration().bucket(name).lifecycle_configuration(c).send().await.map_err(site.fail("S3.PutBucketLifecycleConfiguration"))?)
            }
        }
        Ok(())
    }
}

/// Every setting of `spec`, read concurrently; returned in the order the writes must go.
async fn read_all(b: &Bucket<'_>, spec: &BucketSpec<'_>) -> Result<[Found; 8], StepError> {
    let (own, bpa, ver, lock, enc, log, tag, life) = futures::try_join!(
        ownership(b),
        public_access_block(b),
        versioning(b),
        async {
            match spec.object_lock {
                Some(want) => object_lock(b, want).await,
                None => Ok(Found::same()),
            }
        },
        encryption(b, &spec.encryption),
        async {
            match &spec.logging {
                Some((target, prefix)) => logging(b, target, prefix).await,
                None => Ok(Found::same()),
            }
        },
        tags(b, spec.tags),
        async {
            match spec.lifecycle {
                Some(want) => lifecycle_rule(b, want).await,
                None => Ok(Found::same()),
            }
        },
    )?;
    Ok([own, bpa, ver, lock, enc, log, tag, life])
}

async fn ownership(b: &Bucket<'_>) -> Result<Found, StepError> {
    let live = b.s3.get_bucket_ownership_controls().bucket(b.name).send().await.map_err(b.site.fail("S3.GetBucketOwnershipControls"));
    let live = absent(live, &["OwnershipControlsNotFoundError"])?;
    let enforced = live.and_then(|o| o.ownership_controls).is_some_and(|c| c.rules().iter().any(|r| *r.object_ownership() == ObjectOwnership::BucketOwnerEnforced));
    if enforced {
        return Ok(Found::same());
    }
    Ok(Found::differs(b, vec!["ownership-controls".into()], || {
        let rule = OwnershipControlsRule::builder().object_ownership(ObjectOwnership::BucketOwnerEnforced).build().expect("ownership is set");
        Write::Ownership(OwnershipControls::builder().rules(rule).build().expect("rules are set"))
    }))
}

async fn public_access_block(b: &Bucket<'_>) -> Result<Found, StepError> {
    let live = b.s3.get_public_access_block().bucket(b.name).send().await.map_err(b.site.fail("S3.GetPublicAccessBlock"));
    let live = absent(live, &["NoSuchPublicAccessBlockConfiguration"])?.and_then(|o| o.public_access_block_configuration);
    let flag = |f: fn(&PublicAccessBlockConfiguration) -> Option<bool>| live.as_ref().and_then(f).unwrap_or(false);
    let off: Vec<String> = [
        ("BlockPublicAcls", flag(PublicAccessBlockConfiguration::block_public_acls)),
        ("IgnorePublicAcls", flag(PublicAccessBlockConfiguration::ignore_public_acls)),
        ("BlockPublicPolicy", flag(PublicAccessBlockConfiguration::block_public_policy)),
        ("RestrictPublicBuckets", flag(PublicAccessBlockConfiguration::restrict_public_buckets)),
    ]
    .into_iter()
    .filter(|(_, on)| !on)
    .map(|(name, _)| format!("public-access-block.{name}"))
    .collect();
    if off.is_empty() {
        return Ok(Found::same());
    }
    Ok(Found::differs(b, off, || {
        Write::PublicAccessBlock(PublicAccessBlockConfiguration::builder().block_public_acls(true).ignore_public_acls(true).block_public_policy(true).restrict_public_buckets(true).build())
    }))
}

async fn versioning(b: &Bucket<'_>) -> Result<Found, StepError> {
    let live = b.s3.get_bucket_versioning().bucket(b.name).send().await.map_err(b.site.fail("S3.GetBucketVersioning"))?;
    if live.status() == Some(&BucketVersioningStatus::Enabled) {
        return Ok(Found::same());
    }
    // With MFA Delete on, every versioning change needs the root user's MFA: say so instead of failing
    // on AccessDenied, in a plan too (plan and apply agree).
    if live.mfa_delete() == Some(&MfaDeleteStatus::Enabled) {
        return Err(b.refuse(format!(
            "versioning is suspended and MFA Delete is enabled, so only the root user with its MFA device can re-enable it: \
             aws s3api put-bucket-versioning --bucket {} --versioning-configuration Status=Enabled,MFADelete=Enabled --mfa \"SERIAL CODE\"",
            b.name
        )));
    }
    // MfaDelete is left out: S3 keeps its current value.
    Ok(Found::differs(b, vec!["versioning".into()], || Write::Versioning(VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build())))
}

/// Object Lock with the configured default retention. AWS allows enabling Object Lock on an existing
/// versioned bucket (PutObjectLockConfiguration, since 2023); it cannot be turned off again, and the
/// default retention only applies to objects written afterwards.
async fn object_lock(b: &Bucket<'_>, want: &ObjectLock) -> Result<Found, StepError> {
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
        return Ok(Found::same());
    }
    let field = if enabled { "object-lock.default-retention" } else { "object-lock (enabled on the existing bucket; irreversible)" };
    Ok(Found::differs(b, vec![field.into()], || {
        let retention = DefaultRetention::builder().mode(mode).days(want.retention_days).build();
        Write::ObjectLock(ObjectLockConfiguration::builder().object_lock_enabled(ObjectLockEnabled::Enabled).rule(ObjectLockRule::builder().default_retention(retention).build()).build())
    }))
}

async fn encryption(b: &Bucket<'_>, want: &Encryption) -> Result<Found, StepError> {
    let live = b.s3.get_bucket_encryption().bucket(b.name).send().await.map_err(b.site.fail("S3.GetBucketEncryption"));
    let live = absent(live, &["ServerSideEncryptionConfigurationNotFoundError"])?;
    let rule = live.as_ref().and_then(|o| o.server_side_encryption_configuration()).and_then(|c| c.rules().first());
    let default = rule.and_then(|r| r.apply_server_side_encryption_by_default());
    let algorithm = default.map(|d| d.sse_algorithm().clone());
    let mut fields = Vec::new();
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
    if fields.is_empty() {
        return Ok(Found::same());
    }
    let (by_default, bucket_key) = match want {
        Encryption::SseS3 => (ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256), false),
        Encryption::AwsManagedKms => (ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::AwsKms), true),
        Encryption::SseKms { key_arn: Some(key_arn), bucket_key } => (ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::AwsKms).kms_master_key_id(key_arn), *bucket_key),
        Encryption::SseKms { key_arn: None, .. } if b.apply => return Err(b.refuse("the KMS key does not exist yet: the kms-key step must run first")),
        // A plan of an empty account: the key the kms-key step will create.
        Encryption::SseKms { key_arn: None, .. } => return Ok(Found { fields, write: None }),
    };
    Ok(Found::differs(b, fields, || {
        let rule = ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(by_default.build().expect("algorithm is set")).bucket_key_enabled(bucket_key).build();
        Write::Encryption(ServerSideEncryptionConfiguration::builder().rules(rule).build().expect("rules are set"))
    }))
}

async fn logging(b: &Bucket<'_>, target: &str, prefix: &str) -> Result<Found, StepError> {
    let live = b.s3.get_bucket_logging().bucket(b.name).send().await.map_err(b.site.fail("S3.GetBucketLogging"))?;
    if live.logging_enabled().is_some_and(|l| l.target_bucket() == target && l.target_prefix() == prefix) {
        return Ok(Found::same());
    }
    Ok(Found::differs(b, vec!["logging".into()], || {
        let enabled = LoggingEnabled::builder().target_bucket(target).target_prefix(prefix).build().expect("target and prefix are set");
        Write::Logging(BucketLoggingStatus::builder().logging_enabled(enabled).build())
    }))
}

async fn tags(b: &Bucket<'_>, want: &BTreeMap<String, String>) -> Result<Found, StepError> {
    if want.is_empty() {
        return Ok(Found::same());
    }
    let live = b.s3.get_bucket_tagging().bucket(b.name).send().await.map_err(b.site.fail("S3.GetBucketTagging"));
    let live: BTreeMap<String, String> =
        absent(live, &["NoSuchTagSet"])?.map(|o| o.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()).unwrap_or_default();
    let missing = missing_tags(want, &live);
    if missing.is_empty() {
        return Ok(Found::same());
    }
    Ok(Found::differs(b, vec!["tags".into()], || {
        // PutBucketTagging replaces the whole set: send the live tags with ours merged in.
        let mut all = live;
        all.extend(missing);
        let set = all.iter().map(|(k, v)| Tag::builder().key(k).value(v).build().expect("key and value are set")).collect();
        Write::Tags(Tagging::builder().set_tag_set(Some(set)).build().expect("tag set is set"))
    }))
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
