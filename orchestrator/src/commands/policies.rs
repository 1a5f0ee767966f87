//! `orgtrail render-policies`: the exact bucket and key policies `apply` would put, for review.
//! Live, it reads the organization and the key; `--offline`, it renders from the config alone,
//! with the flags or named placeholders for what only AWS knows (policies_offline.rs).
use orgtrail::policy::{render_access_log_bucket_policy, render_access_log_key_policy, render_bucket_policy, render_key_policy};
use orgtrail::steps::{kms_key, log_bucket::policy::policy_context, Ctx};

use super::output::{self, outln};
use crate::cli::PoliciesArgs;
use crate::failure::{Exit, Failure};
use crate::settings::Settings;

pub async fn render(settings: &Settings, args: &PoliciesArgs) -> Result<Exit, Failure> {
    if args.offline {
        return super::policies_offline::render(settings, args);
    }
    let live = super::Live::load(settings, "orgtrail-render").await?;
    let ctx = live.ctx();
    let key_arn = kms_key::key_arn(&ctx).await?.unwrap_or_else(|| placeholder_key_arn(&ctx));
    let documents = documents(&ctx, &key_arn)?;
    print(settings, &documents)?;
    Ok(Exit::Ok)
}

/// The log key's ARN before `apply` creates it.
pub fn placeholder_key_arn(ctx: &Ctx<'_>) -> String {
    let config = ctx.config;
    format!("arn:{}:kms:{}:{}:key/KEY-ID-CREATED-BY-APPLY", config.organization.partition, config.organization.home_region, config.log_archive.account)
}

/// One policy for review: its key in the JSON output, its title, the document.
pub struct Document {
    pub key: &'static str,
    pub title: String,
    pub policy: serde_json::Value,
}

/// Every policy this config would put, in the order apply puts them.
pub fn documents(ctx: &Ctx<'_>, key_arn: &str) -> Result<Vec<Document>, Failure> {
    let config = ctx.config;
    let pctx = policy_context(ctx, key_arn, true);
    let mut docs = vec![
        Document { key: "bucket_policy", title: format!("bucket policy of s3://{}", config.log_archive.bucket), policy: render_bucket_policy(&pctx)? },
        Document { key: "key_policy", title: format!("key policy of {key_arn}"), policy: render_key_policy(&pctx)? },
    ];
    if config.log_archive.access_logging {
        docs.push(Document { key: "access_log_bucket_policy", title: format!("bucket policy of s3://{}", config.log_archive.access_log_bucket), policy: render_access_log_bucket_policy(&pctx)? });
        // With access_log_encryption = "sse-kms": the access-log key's policy (it does not name the key).
        if let Some(alias) = &config.log_archive.access_log_kms_alias {
            docs.push(Document { key: "access_log_key_policy", title: format!("key policy of {alias} (access-log bucket)"), policy: render_access_log_key_policy(&pctx)? });
        }
    }
    // The tamper-protection SCP (with [protection]), the CloudTrail-to-Logs role and the alarm topic.
    for (key, title, policy) in orgtrail::steps::detection::render_for_review(ctx, key_arn)? {
        docs.push(Document { key, title, policy });
    }
    Ok(docs)
}

/// `--json`: one object keyed by policy (null where the config has none); else each titled.
pub fn print(settings: &Settings, docs: &[Document]) -> Result<(), Failure> {
    if settings.output.json {
        let mut doc = serde_json::json!({ "bucket_policy": null, "key_policy": null, "access_log_bucket_policy": null, "access_log_key_policy": null });
        for d in docs {
            doc[d.key] = d.policy.clone();
        }
        return output::json(&doc);
    }
    for (i, d) in docs.iter().enumerate() {
        outln!("{}# {}\n{}", if i == 0 { "" } else { "\n" }, d.title, serde_json::to_string_pretty(&d.policy).expect("a JSON value serializes"))?;
    }
    Ok(())
}
