//! The log-archive bucket and the bucket that receives its server access logs, both in the
//! log-archive account's home region (SSE-KMS needs the key and the bucket in one region).
//!
//! Each step reads every setting, compares it with the desired state and writes only what differs;
//! with `ctx.apply == false` it only reads. The bucket policy is applied last, after the lock-out
//! check, and in two phases: `converge_log_bucket` without the encryption-enforcing denies (CloudTrail
//! could not create the trail with them), `enforce_encryption` with them once the trail logs.
pub mod policy;

use super::bucket::{self, Bucket, BucketSpec, Encryption};
use super::support::home_session;
use super::{kms_key, Action, Change, Ctx, Outcome, StepError, StepResult};
pub use super::support::policy_context;
pub use policy::ENFORCEMENT_SIDS;

/// A bucket of the log-archive account, through its session in the home region.
fn log_archive_bucket<'a>(ctx: &Ctx<'_>, name: &'a str) -> Bucket<'a> {
    let account = ctx.config.log_archive.account.as_str();
    Bucket::new(ctx.aws.s3(&home_session(ctx, account)), account, name, ctx.apply)
}

/// The `access-log-bucket` step: versioning, Block Public Access, BucketOwnerEnforced, tags, its
/// TLS-only + log-delivery policy, and SSE-S3 or, with `access_log_encryption = "sse-kms"`, SSE-KMS
/// with its own customer-managed key (the AWS managed aws/s3 key cannot be used for log delivery).
/// No Bucket Key there: the key policy grants S3 log delivery only kms:GenerateDataKey.
pub async fn converge_access_log_bucket(ctx: &Ctx<'_>) -> StepResult {
    let la = &ctx.config.log_archive;
    let encryption = match &la.access_log_kms_alias {
        None => Encryption::SseS3,
        Some(alias) => {
            let key_arn = kms_key::access_log_key_arn(ctx).await?;
            if key_arn.is_none() && ctx.apply {
                return Err(StepError::refused(
                    &la.account,
                    format!("s3-bucket {}", la.access_log_bucket),
                    format!("the KMS key {alias} does not exist yet: the kms-key step creates it and must run first"),
                ));
            }
            Encryption::SseKms { key_arn, bucket_key: false }
        }
    };
    let b = log_archive_bucket(ctx, &la.access_log_bucket);
    let exists = exists(ctx, &b).await?;
    let live_policy = if exists { bucket::live_policy(&b).await? } else { None };
    let desired = policy::render_access_log(ctx)?;
    let spec = BucketSpec { encryption, logging: None, tags: &la.tags, lifecycle: None, object_lock: None };
    converge_bucket(ctx, &b, exists, &spec, live_policy, &desired).await
}

/// The `log-bucket` step: the central bucket with every setting of the baseline and the phase-one policy.
pub async fn converge_log_bucket(ctx: &Ctx<'_>) -> StepResult {
    let la = &ctx.config.log_archive;
    let key_arn = required_key(ctx, &la.bucket).await?;
    let b = log_archive_bucket(ctx, &la.bucket);
    let exists = exists(ctx, &b).await?;
    let live_policy = if exists { bucket::live_policy(&b).await? } else { None };
    // Phase two, once reached, is kept: going back to phase one would drop the encryption denies until
    // the enforce-encryption step put them back, two policy writes on every run for nothing.
    let enforce = key_arn.is_some() && live_policy.as_deref().is_some_and(policy::enforces_encryption);
    let desired = policy::render_log_bucket(ctx, key_arn.as_deref().unwrap_or_default(), enforce)?;
    // Before any write, so a refused run leaves nothing half made.
    policy::check_lockout(ctx, &b, &desired).await?;
    let spec = BucketSpec {
        encryption: Encryption::SseKms { key_arn, bucket_key: true },
        logging: la.access_logging.then(|| (la.access_log_bucket.clone(), format!("{}/", la.bucket))),
        tags: &la.tags,
        lifecycle: Some(la.lifecycle.as_ref()),
        object_lock: la.object_lock.as_ref(),
    };
    converge_bucket(ctx, &b, exists, &spec, live_policy, &desired).await
}

/// The `enforce-encryption` step (phase two): the log bucket's policy plus the denies of any object not
/// encrypted with the log key. The executor runs it only once the trail is created and logging.
pub async fn enforce_encryption(ctx: &Ctx<'_>) -> StepResult {
    let la = &ctx.config.log_archive;
    let key_arn = required_key(ctx, &la.bucket).await?;
    let b = log_archive_bucket(ctx, &la.bucket);
    let exists = exists(ctx, &b).await?;
    let (Some(key_arn), true) = (key_arn, exists) else {
        if ctx.apply {
            return Err(b.refuse("the log bucket does not exist yet: the log-bucket step creates it and must run first"));
        }
        // A plan for an empty account: the statements this step will add once key and bucket exist.
        let fields = ENFORCEMENT_SIDS.iter().map(|s| format!("{s} (missing)")).collect();
        return Ok(Outcome { changes: vec![Change::update(b.policy_site().resource, fields)] });
    };
    let mut live_policy = bucket::live_policy(&b).await?;
    if !ctx.apply {
        // A plan writes nothing, so this step would see the policy the log-bucket step (just before it)
        // puts when applying: its desired policy, phase two kept once reached. Without this, drift of a
        // shared statement would be planned twice and written once: plan and apply must agree.
        let enforce = live_policy.as_deref().is_some_and(policy::enforces_encryption);
        live_policy = Some(policy::render_log_bucket(ctx, &key_arn, enforce)?.to_string());
    }
    let desired = policy::render_log_bucket(ctx, &key_arn, true)?;
    policy::check_lockout(ctx, &b, &desired).await?;
    Ok(Outcome { changes: vec![bucket::converge_policy(&b, live_policy, &desired).await?] })
}

/// The key ARN for the bucket's default encryption. Applying needs it; a plan of an empty account
/// does not have it yet (the kms-key step would create it first).
async fn required_key(ctx: &Ctx<'_>, bucket: &str) -> Result<Option<String>, StepError> {
    let arn = kms_key::key_arn(ctx).await?;
    if arn.is_none() && ctx.apply {
        return Err(StepError::refused(
            &ctx.config.log_archive.account,
            format!("s3-bucket {bucket}"),
            format!("the KMS key {} does not exist yet: the kms-key step creates it and must run first", ctx.config.log_archive.kms_alias),
        ));
    }
    Ok(arn)
}

async fn converge_bucket(ctx: &Ctx<'_>, b: &Bucket<'_>, exists: bool, spec: &BucketSpec<'_>, live_policy: Option<String>, desired: &serde_json::Value) -> StepResult {
    let mut outcome = Outcome::default();
    if exists {
        outcome.push(Change::update(b.resource(), bucket::converge(b, spec).await?));
    } else {
        outcome.push(Change::new(b.resource(), Action::Create));
        if !ctx.apply {
            outcome.push(Change::new(b.policy_site().resource, Action::Create));
            return Ok(outcome);
        }
        bucket::create(b, ctx.home_region(), spec.object_lock.is_some()).await?;
        // A new bucket has S3's defaults; the same reads and writes as for drift bring it to the baseline.
        bucket::converge(b, spec).await?;
    }
    outcome.push(bucket::converge_policy(b, live_policy, desired).await?);
    Ok(outcome)
}

/// Whether the bucket exists, checked with HeadBucket; a bucket in another region is refused.
async fn exists(ctx: &Ctx<'_>, b: &Bucket<'_>) -> Result<bool, StepError> {
    let home = ctx.home_region();
    let wrong_region = |region: &str| {
        b.refuse(format!(
            "the bucket exists in region {region}, not in the home region {home}: S3 default encryption needs the KMS key in the \
             bucket's region and a bucket cannot move; choose another bucket name or home_region"
        ))
    };
    match b.s3.head_bucket().bucket(b.name).send().await {
        Ok(out) => match out.bucket_region() {
            Some(region) if region != home => Err(wrong_region(region)),
            _ => Ok(true),
        },
        Err(e) => {
            let region = e.raw_response().and_then(|r| r.headers().get("x-amz-bucket-region")).map(str::to_string);
            match e.raw_response().map(|r| r.status().as_u16()) {
                Some(404) => Ok(false),
                Some(301) => Err(wrong_region(region.as_deref().unwrap_or("(another region)"))),
                Some(403) => Err(b.refuse(
                    "HeadBucket was denied (403): the bucket name is taken by another AWS account (bucket names are global), \
                     or the bucket's policy denies the role orgtrail uses in the log-archive account",
                )),
                _ => Err(b.site.fail("S3.HeadBucket")(e).into()),
            }
        }
    }
}

/// What would make the `access-log-bucket` step refuse, found before orgtrail's first write: the
/// bucket in another region or another account's, or a policy that does not render.
pub async fn preflight_access_log_bucket(ctx: &Ctx<'_>) -> Result<(), StepError> {
    exists(ctx, &log_archive_bucket(ctx, &ctx.config.log_archive.access_log_bucket)).await?;
    policy::render_access_log(ctx).map(drop)
}

/// What would make the `log-bucket` (or `enforce-encryption`) step refuse, found before orgtrail's
/// first write: the bucket in another region or another account's, or a policy that would lock
/// orgtrail out. The lock-out check only weighs denies that single out principals, which both
/// phases share, so phase one (which needs no key ARN) stands for both.
pub async fn preflight_log_bucket(ctx: &Ctx<'_>) -> Result<(), StepError> {
    let b = log_archive_bucket(ctx, &ctx.config.log_archive.bucket);
    exists(ctx, &b).await?;
    let desired = policy::render_log_bucket(ctx, "", false)?;
    policy::check_lockout(ctx, &b, &desired).await
}
