//! A key whose alias was never created (a run interrupted between CreateKey and CreateAlias) is
//! found again and adopted, never deleted: the role orgtrail runs as holds no power to schedule a
//! key's deletion, which would also reach the log key (docs/iam.md). CreateKey tags each new key
//! with the alias it is for; when that alias does not exist, the account's keys are searched for
//! that tag before another key is made. The search costs one ListKeys page per 1,000 keys and one
//! ListResourceTags per key, and happens only while the alias is missing.
use aws_sdk_kms::types::{KeyManagerType, KeyMetadata, KeySpec, KeyState, KeyUsageType};

use super::{absent, Key, StepError};
use crate::aws::Site;
use crate::steps::Ctx;

/// The tag CreateKey puts on every key orgtrail makes: its value is the alias the key is for.
pub const ALIAS_TAG: &str = "orgtrail:alias";

/// The oldest usable key tagged for `key`'s alias, if any. A tagged key that is not enabled (an
/// older orgtrail scheduled such orphans for deletion) or not a symmetric customer key is passed over.
pub async fn find_orphan(ctx: &Ctx<'_>, kms: &aws_sdk_kms::Client, key: Key, site: &Site) -> Result<Option<KeyMetadata>, StepError> {
    let alias = key.alias(ctx);
    let mut found: Option<KeyMetadata> = None;
    let mut marker: Option<String> = None;
    loop {
        let page = kms.list_keys().set_marker(marker.take()).send().await.map_err(site.fail("KMS.ListKeys"))?;
        for listed in page.keys() {
            let Some(id) = listed.key_id() else { continue };
            if !tagged_for(kms, id, alias, site).await? {
                continue;
            }
            let described = absent(kms.describe_key().key_id(id).send().await.map_err(site.fail("KMS.DescribeKey")), &["NotFoundException"])?;
            let Some(meta) = described.and_then(|d| d.key_metadata) else { continue };
            if usable(&meta) && found.as_ref().is_none_or(|f| meta.creation_date() < f.creation_date()) {
                found = Some(meta);
            }
        }
        match page.next_marker() {
            Some(m) if page.truncated() => marker = Some(m.to_string()),
            _ => break,
        }
    }
    Ok(found)
}

/// Whether the key carries `ALIAS_TAG = alias`. A key has at most 50 tags: one page holds them.
async fn tagged_for(kms: &aws_sdk_kms::Client, key_id: &str, alias: &str, site: &Site) -> Result<bool, StepError> {
    let tags = absent(kms.list_resource_tags().key_id(key_id).limit(50).send().await.map_err(site.fail("KMS.ListResourceTags")), &["NotFoundException"])?;
    Ok(tags.is_some_and(|t| t.tags().iter().any(|tag| tag.tag_key() == ALIAS_TAG && tag.tag_value() == alias)))
}

fn usable(meta: &KeyMetadata) -> bool {
    meta.key_manager() == Some(&KeyManagerType::Customer)
        && meta.key_state() == Some(&KeyState::Enabled)
        && meta.key_spec().is_none_or(|s| *s == KeySpec::SymmetricDefault)
        && meta.key_usage().is_none_or(|u| *u == KeyUsageType::EncryptDecrypt)
}
