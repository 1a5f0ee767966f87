//! `orgtrail render-policies`: the exact bucket and key policies `apply` would put, for review.
use anyhow::Result;
use orgtrail::policy::{render_access_log_bucket_policy, render_access_log_key_policy, render_bucket_policy, render_key_policy};
use orgtrail::report;
use orgtrail::steps::{kms_key, log_bucket::policy::policy_context};

use crate::Global;

pub async fn render(global: &Global) -> Result<u8> {
    let live = super::Live::load(global, "orgtrail-render").await?;
    let config = &live.config;
    let ctx = live.ctx();
    let key_arn = kms_key::key_arn(&ctx).await?.unwrap_or_else(|| {
        format!("arn:{}:kms:{}:{}:key/KEY-ID-CREATED-BY-APPLY", config.organization.partition, config.organization.home_region, config.log_archive.account)
    });
    let pctx = policy_context(&ctx, &key_arn, true);
    let bucket = render_bucket_policy(&pctx)?;
    let key = render_key_policy(&pctx)?;
    let access = config.log_archive.access_logging.then(|| render_access_log_bucket_policy(&pctx)).transpose()?;
    // With access_log_encryption = "sse-kms": the access-log key's policy (it does not name the key).
    let access_key = match (&config.log_archive.access_log_kms_alias, config.log_archive.access_logging) {
        (Some(alias), true) => Some((alias, render_access_log_key_policy(&pctx)?)),
        _ => None,
    };
    // Issue 15: the tamper-protection SCP (with [protection]), the CloudTrail-to-Logs role and the alarm topic.
    let detection = orgtrail::steps::detection::render_for_review(&ctx, &key_arn)?;
    if global.json {
        let mut doc = serde_json::json!({
            "bucket_policy": bucket,
            "key_policy": key,
            "access_log_bucket_policy": access,
            "access_log_key_policy": access_key.as_ref().map(|(_, p)| p),
        });
        for (name, _, policy) in &detection {
            doc[*name] = policy.clone();
        }
        report::print_json(&doc)?;
    } else {
        println!("# bucket policy of s3://{}\n{}\n", config.log_archive.bucket, serde_json::to_string_pretty(&bucket)?);
        println!("# key policy of {key_arn}\n{}\n", serde_json::to_string_pretty(&key)?);
        if let Some(a) = access {
            println!("# bucket policy of s3://{}\n{}\n", config.log_archive.access_log_bucket, serde_json::to_string_pretty(&a)?);
        }
        if let Some((alias, p)) = access_key {
            println!("# key policy of {alias} (access-log bucket)\n{}", serde_json::to_string_pretty(&p)?);
        }
        for (_, title, policy) in &detection {
            println!("\n# {title}\n{}", serde_json::to_string_pretty(policy)?);
        }
    }
    Ok(0)
}
