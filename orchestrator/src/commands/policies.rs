//! `orgtrail render-policies`: the exact bucket and key policies `apply` would put, for review.
use orgtrail::policy::{render_access_log_bucket_policy, render_access_log_key_policy, render_bucket_policy, render_key_policy};
use orgtrail::steps::{kms_key, log_bucket::policy::policy_context};

use super::output::{self, outln};
use crate::failure::{Exit, Failure};
use crate::settings::Settings;

pub async fn render(settings: &Settings) -> Result<Exit, Failure> {
    let live = super::Live::load(settings, "orgtrail-render").await?;
    let config = live.config;
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
    if settings.output.json {
        let mut doc = serde_json::json!({
            "bucket_policy": bucket,
            "key_policy": key,
            "access_log_bucket_policy": access,
            "access_log_key_policy": access_key.as_ref().map(|(_, p)| p),
        });
        for (name, _, policy) in &detection {
            doc[*name] = policy.clone();
        }
        output::json(&doc)?;
    } else {
        outln!("# bucket policy of s3://{}\n{}\n", config.log_archive.bucket, pretty(&bucket))?;
        outln!("# key policy of {key_arn}\n{}\n", pretty(&key))?;
        if let Some(a) = access {
            outln!("# bucket policy of s3://{}\n{}\n", config.log_archive.access_log_bucket, pretty(&a))?;
        }
        if let Some((alias, p)) = access_key {
            outln!("# key policy of {alias} (access-log bucket)\n{}", pretty(&p))?;
        }
        for (_, title, policy) in &detection {
            outln!("\n# {title}\n{}", pretty(policy))?;
        }
    }
    Ok(Exit::Ok)
}

fn pretty(policy: &serde_json::Value) -> String {
    serde_json::to_string_pretty(policy).expect("a JSON value serializes")
}
