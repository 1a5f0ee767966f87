//! The KMS keys of the log-archive account, in its home region: customer managed, symmetric,
//! rotation on (KMS.4), tagged, each with its rendered key policy. The log key (`kms_alias`)
//! encrypts the CloudTrail logs; with `access_log_encryption = "sse-kms"` a second key
//! (`access_log_kms_alias`) encrypts the S3 server access logs. An alias is its key's identity: an
//! existing alias is reused and its key converged, so a re-run never makes a second key; a key
//! whose alias was never created is adopted by the next run (`adopt`), never deleted.
mod adopt;

use std::collections::BTreeMap;

use aws_sdk_kms::types::{KeyManagerType, KeyMetadata, KeySpec, KeyState, KeyUsageType, Tag};
use serde_json::Value;

use super::support::{home_session, missing_tags, policy_context, policy_fields};
use super::{absent, Action, Change, Ctx, Outcome, StepError, StepResult};
use crate::aws::Site;
use crate::policy::{diff_policies, render_access_log_key_policy, render_key_policy};

/// Which of the two keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    /// The CloudTrail log key.
    Log,
    /// The access-log bucket's key.
    AccessLog,
}

impl Key {
    fn alias<'c>(self, ctx: &'c Ctx<'_>) -> &'c str {
        let la = &ctx.config.log_archive;
        match self {
            Key::Log => &la.kms_alias,
            Key::AccessLog => la.access_log_kms_alias.as_deref().unwrap_or_default(),
        }
    }

    fn description(self, ctx: &Ctx<'_>) -> String {
        match self {
            Key::Log => format!("orgtrail: encrypts the CloudTrail logs of organization {} ({})", ctx.org.id, self.alias(ctx)),
            Key::AccessLog => format!("orgtrail: encrypts the S3 server access logs of s3://{} ({})", ctx.config.log_archive.bucket, self.alias(ctx)),
        }
    }
}

fn resource(ctx: &Ctx<'_>, key: Key) -> String {
    format!("kms-key {}", key.alias(ctx))
}

fn policy_resource(ctx: &Ctx<'_>, key: Key) -> String {
    format!("kms-key-policy {}", key.alias(ctx))
}

fn client(ctx: &Ctx<'_>) -> aws_sdk_kms::Client {
    ctx.aws.kms(&home_session(ctx, &ctx.config.log_archive.account))
}

/// Where calls about `key` go: the log-archive account, the client's region.
fn site(ctx: &Ctx<'_>, kms: &aws_sdk_kms::Client, key: Key) -> Site {
    Site::new(&ctx.config.log_archive.account, kms.config().region(), resource(ctx, key))
}

/// The log-archive key, looked up live through its alias (so a step can run alone on resume).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef {
    Arn(String),
    /// The alias resolves to nothing yet: the kms-key step has not run.
    Missing { alias: String },
}

/// The key behind the configured alias. A trail needs the full ARN: the key lives in another
/// account than the trail.
pub async fn lookup_key(ctx: &Ctx<'_>) -> Result<KeyRef, StepError> {
    Ok(match key_arn(ctx).await? {
        Some(arn) => KeyRef::Arn(arn),
        None => KeyRef::Missing { alias: ctx.config.log_archive.kms_alias.clone() },
    })
}

/// The full ARN of the key behind the configured alias, or None when the alias does not exist yet.
/// A trail in another account and the bucket's default encryption both need the full ARN.
pub async fn key_arn(ctx: &Ctx<'_>) -> Result<Option<String>, StepError> {
    arn_behind(ctx, Key::Log).await
}

/// The access-log key's full ARN: None without `access_log_encryption = "sse-kms"`, or while the
/// alias does not exist yet.
pub async fn access_log_key_arn(ctx: &Ctx<'_>) -> Result<Option<String>, StepError> {
    if ctx.config.log_archive.access_log_kms_alias.is_none() {
        return Ok(None);
    }
    arn_behind(ctx, Key::AccessLog).await
}

async fn arn_behind(ctx: &Ctx<'_>, key: Key) -> Result<Option<String>, StepError> {
    let kms = client(ctx);
    let Some(meta) = describe(ctx, &kms, key).await? else { return Ok(None) };
    Ok(Some(arn_of(&site(ctx, &kms, key), &meta)?))
}

async fn describe(ctx: &Ctx<'_>, kms: &aws_sdk_kms::Client, key: Key) -> Result<Option<KeyMetadata>, StepError> {
    let out = kms.describe_key().key_id(key.alias(ctx)).send().await.map_err(site(ctx, kms, key).fail("KMS.DescribeKey"));
    let out = absent(out, &["NotFoundException"])?;
    Ok(out.and_then(|o| o.key_metadata))
}

fn arn_of(site: &Site, meta: &KeyMetadata) -> Result<String, StepError> {
    meta.arn().map(str::to_string).ok_or_else(|| StepError::unexpected(site, "KMS.DescribeKey", "the response carried no key ARN"))
}

/// The `kms-key` step: create each key (policy, tags, alias, rotation), or converge the one its alias names.
pub async fn converge(ctx: &Ctx<'_>) -> StepResult {
    let kms = client(ctx);
    let mut outcome = converge_key(ctx, &kms, Key::Log).await?;
    if ctx.config.log_archive.access_log_kms_alias.is_some() {
        outcome.changes.extend(converge_key(ctx, &kms, Key::AccessLog).await?.changes);
    }
    Ok(outcome)
}

async fn converge_key(ctx: &Ctx<'_>, kms: &aws_sdk_kms::Client, key: Key) -> StepResult {
    let mut outcome = Outcome::default();
    let site = site(ctx, kms, key);
    let (meta, mut fields) = match describe(ctx, kms, key).await? {
        Some(meta) => (meta, vec![]),
        None => match adopt::find_orphan(ctx, kms, key, &site).await? {
            Some(orphan) => {
                if ctx.apply {
                    create_alias(ctx, kms, key, orphan.key_id()).await?;
                }
                (orphan, vec!["alias".to_string()])
            }
            None => {
                // The key policy does not name the key itself, so it can be rendered before the key exists.
                let policy = desired_policy(ctx, key, "")?;
                if ctx.apply {
                    create(ctx, kms, key, &policy).await?;
                }
                outcome.push(Change::new(resource(ctx, key), Action::Create));
                return Ok(outcome);
            }
        },
    };
    check_usable(ctx, key, &meta)?;
    let policy = desired_policy(ctx, key, &arn_of(&site, &meta)?)?;
    if meta.key_state() == Some(&KeyState::Disabled) {
        fields.push("enabled".to_string());
        if ctx.apply {
            kms.enable_key().key_id(meta.key_id()).send().await.map_err(site.fail("KMS.EnableKey"))?;
        }
    }
    fields.extend(converge_settings(ctx, kms, key, meta.key_id()).await?);
    outcome.push(Change::update(resource(ctx, key), fields));
    outcome.push(converge_policy(ctx, kms, key, meta.key_id(), &policy).await?);
    Ok(outcome)
}

fn desired_policy(ctx: &Ctx<'_>, key: Key, key_arn: &str) -> Result<Value, StepError> {
    let pctx = policy_context(ctx, key_arn, false);
    let rendered = match key {
        Key::Log => render_key_policy(&pctx),
        Key::AccessLog => render_access_log_key_policy(&pctx),
    };
    rendered.map_err(|e| StepError::refused(&ctx.config.log_archive.account, policy_resource(ctx, key), e.to_string()))
}

/// A key the alias points at but CloudTrail cannot use, and that apply cannot simply converge, is the
/// operator's call to repair (cancelling a deletion, or re-pointing the alias): orgtrail does not
/// guess. A disabled key is drift like any other setting: `converge_settings` enables it again, since
/// every hour it stays disabled is an hour CloudTrail delivers nothing.
fn check_usable(ctx: &Ctx<'_>, key: Key, meta: &KeyMetadata) -> Result<(), StepError> {
    let alias = key.alias(ctx);
    let id = meta.key_id();
    let problem = if meta.key_manager() != Some(&KeyManagerType::Customer) {
        Some("is an AWS managed key; orgtrail needs a customer managed key whose policy it controls (CloudTrail organization logs and S3 log delivery cannot use AWS managed keys)".to_string())
    } else if meta.key_spec().is_some_and(|s| *s != KeySpec::SymmetricDefault) || meta.key_usage().is_some_and(|u| *u != KeyUsageType::EncryptDecrypt) {
        Some("is not a symmetric ENCRYPT_DECRYPT key; CloudTrail and S3 SSE-KMS only use symmetric keys".to_string())
    } else {
        match meta.key_state() {
            Some(KeyState::Enabled) | Some(KeyState::Disabled) | None => None,
            Some(KeyState::PendingDeletion) => Some(format!(
                "is pending deletion, so CloudTrail cannot encrypt with it: cancel the deletion (`aws kms cancel-key-deletion --key-id {id}` then `aws kms enable-key --key-id {id}`) or point {alias} at another key"
            )),
            Some(state) => Some(format!(
                "is in state {}, so CloudTrail cannot encrypt with it: enable it (`aws kms enable-key --key-id {id}`) or point {alias} at another key",
                state.as_str()
            )),
        }
    };
    match problem {
        Some(p) => Err(StepError::refused(&ctx.config.log_archive.account, resource(ctx, key), format!("the key {id} behind {alias} {p}"))),
        None => Ok(()),
    }
}

async fn create(ctx: &Ctx<'_>, kms: &aws_sdk_kms::Client, key: Key, policy: &Value) -> Result<(), StepError> {
    let site = site(ctx, kms, key);
    let alias = key.alias(ctx);
    // The alias tag lets the next run find this key again if its alias is never created.
    let mut tags = vec![kms_tag(adopt::ALIAS_TAG, alias)];
    tags.extend(ctx.config.log_archive.tags.iter().filter(|(k, _)| k.as_str() != adopt::ALIAS_TAG).map(|(k, v)| kms_tag(k, v)));
    let out = kms
        .create_key()
        .description(key.description(ctx))
        .key_usage(KeyUsageType::EncryptDecrypt)
        .key_spec(KeySpec::SymmetricDefault)
        .policy(policy.to_string())
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(site.fail("KMS.CreateKey"))?;
    let Some(key_id) = out.key_metadata().map(|m| m.key_id().to_string()) else {
        return Err(StepError::unexpected(&site, "KMS.CreateKey", "the response carried no key id"));
    };
    // A failure here leaves a tagged key without its alias: the next run adopts it (`adopt`).
    create_alias(ctx, kms, key, &key_id).await?;
    kms.enable_key_rotation().key_id(&key_id).send().await.map_err(site.fail("KMS.EnableKeyRotation"))?;
    Ok(())
}

async fn create_alias(ctx: &Ctx<'_>, kms: &aws_sdk_kms::Client, key: Key, key_id: &str) -> Result<(), StepError> {
    kms.create_alias().alias_name(key.alias(ctx)).target_key_id(key_id).send().await.map_err(site(ctx, kms, key).fail("KMS.CreateAlias"))?;
    Ok(())
}

/// Rotation and tags of an existing key; returns the fields that differed.
async fn converge_settings(ctx: &Ctx<'_>, kms: &aws_sdk_kms::Client, key: Key, key_id: &str) -> Result<Vec<String>, StepError> {
    let site = site(ctx, kms, key);
    let mut fields = Vec::new();

    let rotation = kms.get_key_rotation_status().key_id(key_id).send().await.map_err(site.fail("KMS.GetKeyRotationStatus"))?;
    if !rotation.key_rotation_enabled() {
        fields.push("rotation".to_string());
        if ctx.apply {
            kms.enable_key_rotation().key_id(key_id).send().await.map_err(site.fail("KMS.EnableKeyRotation"))?;
        }
    }

    let mut live = BTreeMap::new();
    let mut marker: Option<String> = None;
    loop {
        let page = kms
            .list_resource_tags()
            .key_id(key_id)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(site.fail("KMS.ListResourceTags"))?;
        live.extend(page.tags().iter().map(|t| (t.tag_key().to_string(), t.tag_value().to_string())));
        match page.next_marker() {
            Some(m) if page.truncated() => marker = Some(m.to_string()),
            _ => break,
        }
    }
    let missing = missing_tags(&ctx.config.log_archive.tags, &live);
    if !missing.is_empty() {
        fields.push("tags".to_string());
        if ctx.apply {
            // TagResource adds and overwrites, leaving other tags (cost allocation, ...) alone.
            let tags = missing.iter().map(|(k, v)| kms_tag(k, v)).collect();
            kms.tag_resource().key_id(key_id).set_tags(Some(tags)).send().await.map_err(site.fail("KMS.TagResource"))?;
        }
    }
    Ok(fields)
}

async fn converge_policy(ctx: &Ctx<'_>, kms: &aws_sdk_kms::Client, key: Key, key_id: &str, desired: &Value) -> Result<Change, StepError> {
    let site = site(ctx, kms, key).on(policy_resource(ctx, key));
    let live = kms
        .get_key_policy()
        .key_id(key_id)
        .policy_name("default")
        .send()
        .await
        .map_err(site.fail("KMS.GetKeyPolicy"))?;
    let diff = diff_policies(&Value::String(live.policy().unwrap_or_default().to_string()), desired);
    if !diff.is_empty() && ctx.apply {
        // KMS's own lock-out safety check stays on: EnableRootAccess keeps the key manageable through IAM.
        kms.put_key_policy()
            .key_id(key_id)
            .policy_name("default")
            .policy(desired.to_string())
            .send()
            .await
        .map_err(site.fail("KMS.PutKeyPolicy"))?;
    }
    Ok(Change::update(site.resource, policy_fields(&diff)))
}

fn kms_tag(k: &str, v: &str) -> Tag {
    Tag::builder().tag_key(k).tag_value(v).build().expect("tag key and value are set")
}
