//! MFA Delete on the log bucket and, with access logging, the access-log bucket (CIS 2.1.2; a
//! scanner checks every bucket of the account). Only the bucket owner's root user, with its MFA
//! device, can enable it, and only through the API: not from the console, not from an IAM user or
//! assumed role (S3 User Guide, "Configuring MFA delete"). So the `mfa-delete` step only verifies
//! it on every managed bucket and, until it is on on all, reports the exact command for an
//! operator; `enable` is that command, run with the log-archive account's root credentials. The
//! MFA code is never logged nor put in an error.
use aws_sdk_s3::types::{BucketVersioningStatus, MfaDelete, MfaDeleteStatus, VersioningConfiguration};

use super::support::{home_session, in_region};
use super::{absent, Action, Change, Ctx, Outcome, StepError, StepResult};
use crate::aws::{Aws, AwsError, CallError, Site};
use crate::config::Config;

fn resource(bucket: &str) -> String {
    format!("s3-bucket {bucket} mfa-delete")
}

/// The serial of a root user's virtual MFA device as IAM names it; a hardware device has its own serial.
pub fn default_mfa_serial(partition: &str, account: &str) -> String {
    format!("arn:{partition}:iam::{account}:mfa/root-account-mfa-device")
}

/// The ARN the base credentials must have for `enable`: the log-archive account's root user.
pub fn root_arn(partition: &str, account: &str) -> String {
    format!("arn:{partition}:iam::{account}:root")
}

/// The command that enables MFA Delete, with `CODE` where the device's current code goes.
pub fn enable_command(mfa_serial: &str) -> String {
    format!("orgtrail mfa-delete enable --mfa-serial {mfa_serial} --mfa-code CODE")
}

/// A managed bucket MFA Delete is still off on, with its lifecycle rules (S3 refuses MFA Delete while
/// a bucket has any). A bucket that does not exist yet (a plan of an empty account) has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lacking {
    pub bucket: String,
    pub lifecycle_rules: usize,
}

/// "the log bucket NAME" or "the access-log bucket NAME".
fn describe(config: &Config, bucket: &str) -> String {
    let role = if bucket == config.log_archive.bucket { "log bucket" } else { "access-log bucket" };
    format!("the {role} {bucket}")
}

/// What an operator must do to turn MFA Delete on, on exactly the buckets of `lacking` (in order).
pub fn instructions(config: &Config, lacking: &[Lacking]) -> String {
    let la = &config.log_archive;
    let serial = default_mfa_serial(config.partition(), &la.account);
    let names: Vec<String> = lacking.iter().map(|l| describe(config, &l.bucket)).collect();
    // One bucket left: the command names it, so it says exactly what is missing.
    let command = match lacking {
        [one] => format!("{} --bucket {}", enable_command(&serial), one.bucket),
        _ => enable_command(&serial),
    };
    let cli: Vec<String> = lacking
        .iter()
        .map(|l| format!("  aws s3api put-bucket-versioning --bucket {} --versioning-configuration Status=Enabled,MFADelete=Enabled --mfa \"{serial} CODE\"", l.bucket))
        .collect();
    let mut text = format!(
        "MFA Delete is not enabled on {names} (CIS 2.1.2; security scanners check every bucket of the account). Only the root user \
         of the log-archive account {account}, with its MFA device, can enable it, and only through the API or CLI: not in the \
         console, not from an IAM user or an assumed role such as the one orgtrail uses. With that root user's credentials (for \
         example temporary root access keys, deleted afterwards) and the current 6-digit code of its MFA device in place of CODE, \
         run:\n  \
         {command}\n\
         or, equivalently{each}:\n\
         {cli}\n\
         Use your device's own serial if it differs (IAM > Security credentials of the root user).",
        names = names.join(" and "),
        account = la.account,
        each = if cli.len() > 1 { ", with a new code for each" } else { "" },
        cli = cli.join("\n"),
    );
    for l in lacking.iter().filter(|l| l.lifecycle_rules > 0) {
        text.push_str(&format!(
            "\nThe bucket {bucket} has {rules} lifecycle rule(s): S3 refuses MFA Delete on a bucket with a lifecycle configuration, \
             so remove it first (aws s3api delete-bucket-lifecycle --bucket {bucket}).",
            bucket = l.bucket,
            rules = l.lifecycle_rules,
        ));
    }
    text
}

/// The `mfa-delete` step, read-only (plan and apply alike): every bucket `target_buckets` names is
/// read at once; NoChange on each that has MFA Delete, and while any lacks it, one `ManualAction`
/// (on the first of them) whose command covers exactly those.
pub async fn verify(ctx: &Ctx<'_>) -> StepResult {
    let la = &ctx.config.log_archive;
    let buckets = managed_buckets(ctx.config);
    if !la.mfa_delete {
        return Ok(Outcome { changes: buckets.iter().map(|b| Change::no_change(resource(b))).collect() });
    }
    let s3 = ctx.aws.s3(&home_session(ctx, &la.account));
    let observed = futures::future::try_join_all(buckets.iter().map(|b| observe(&s3, &la.account, b))).await?;
    let lacking: Vec<Lacking> = observed.iter().flatten().cloned().collect();
    let mut changes = Vec::new();
    for (bucket, seen) in buckets.iter().zip(&observed) {
        match seen {
            None => changes.push(Change::no_change(resource(bucket))),
            // One person with one device does them all: one action, not one per bucket.
            Some(l) if *l == lacking[0] => changes.push(Change::new(resource(bucket), Action::ManualAction { instructions: instructions(ctx.config, &lacking) })),
            Some(_) => {}
        }
    }
    Ok(Outcome { changes })
}

/// None when MFA Delete is enabled on `bucket`; else what it lacks.
async fn observe(s3: &aws_sdk_s3::Client, account: &str, bucket: &str) -> Result<Option<Lacking>, CallError> {
    let site = Site::new(account, s3.config().region(), resource(bucket));
    let live = s3.get_bucket_versioning().bucket(bucket).send().await.map_err(site.fail("S3.GetBucketVersioning"));
    // No bucket yet (a plan of an empty account): once its bucket step makes it, it needs the same manual action.
    let Some(live) = absent(live, &["NoSuchBucket"])? else {
        return Ok(Some(Lacking { bucket: bucket.to_string(), lifecycle_rules: 0 }));
    };
    if live.mfa_delete() == Some(&MfaDeleteStatus::Enabled) {
        return Ok(None);
    }
    Ok(Some(Lacking { bucket: bucket.to_string(), lifecycle_rules: lifecycle_rules(s3, &site, bucket).await? }))
}

async fn lifecycle_rules(s3: &aws_sdk_s3::Client, site: &Site, bucket: &str) -> Result<usize, CallError> {
    let out = s3.get_bucket_lifecycle_configuration().bucket(bucket).send().await.map_err(site.fail("S3.GetBucketLifecycleConfiguration"));
    Ok(absent(out, &["NoSuchLifecycleConfiguration"])?.map_or(0, |o| o.rules().len()))
}

/// Every bucket orgtrail manages MFA Delete on: the log bucket and, with access logging on, the
/// access-log bucket (a scanner checks every bucket of the account).
pub fn managed_buckets(config: &Config) -> Vec<String> {
    let la = &config.log_archive;
    let mut managed = vec![la.bucket.clone()];
    if la.access_logging {
        managed.push(la.access_log_bucket.clone());
    }
    managed
}

/// The buckets `mfa-delete enable` acts on: `requested` (one of the managed buckets), else all of them.
pub fn target_buckets(config: &Config, requested: Option<&str>) -> Result<Vec<String>, String> {
    let managed = managed_buckets(config);
    match requested {
        None => Ok(managed),
        Some(b) if managed.iter().any(|m| m == b) => Ok(vec![b.to_string()]),
        Some(b) => Err(format!("--bucket {b} is not a bucket orgtrail manages: use {}", managed.join(" or "))),
    }
}

/// `orgtrail mfa-delete enable`: turn MFA Delete on, on every bucket of `buckets` in turn, with the
/// BASE credentials, which must be the log-archive account's root user. A bucket that already has it
/// is left alone. Stops at the first failure, saying which buckets are already done.
pub async fn enable(aws: &Aws, config: &Config, buckets: &[String], mfa_serial: &str, mfa_code: &str) -> Result<Outcome, StepError> {
    let mut outcome = Outcome::default();
    for bucket in buckets {
        match enable_one(aws, config, bucket, mfa_serial, mfa_code).await {
            Ok(one) => outcome.changes.extend(one.changes),
            Err(e) if outcome.changes.is_empty() => return Err(e),
            Err(e) => {
                let done: Vec<&str> = outcome.changes.iter().map(|c| c.resource.as_str()).collect();
                return Err(StepError::refused(
                    &config.log_archive.account,
                    resource(bucket),
                    format!(
                        "{e}. Already done: {}. If S3 refused a code it had just accepted, wait for the next code and run \
                         again with --bucket {bucket}",
                        done.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(outcome)
}

/// MFA Delete on one bucket; `x-amz-mfa` carries "{serial} {code}".
async fn enable_one(aws: &Aws, config: &Config, bucket: &str, mfa_serial: &str, mfa_code: &str) -> Result<Outcome, StepError> {
    let la = &config.log_archive;
    let res = resource(bucket);
    let refuse = |reason: String| StepError::refused(&la.account, res.clone(), reason);
    if mfa_serial.is_empty() || mfa_serial.chars().any(char::is_whitespace) {
        return Err(refuse("--mfa-serial must be the MFA device's serial or ARN, without spaces".into()));
    }
    // Never echo the code: a typo'd code is still most of a valid one.
    if mfa_code.len() != 6 || !mfa_code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse("--mfa-code must be the 6-digit code the MFA device shows now".into()));
    }
    let who = aws.caller_identity().await.map_err(|e| Site::global(&la.account, res.clone()).error(e))?;
    let root = root_arn(config.partition(), &la.account);
    let not_root = |what: &str| {
        format!(
            "the credentials in use are {} ({what}), not the root user of the log-archive account ({root}). S3 lets only the \
             bucket owner's root user enable MFA Delete, with its MFA device, through the API; an IAM user or assumed role \
             cannot, whatever its permissions. Run this command with that root user's credentials (e.g. temporary root access \
             keys, deleted afterwards).",
            who.arn
        )
    };
    // Refused here: what is sure to fail (another account, a role session). S3 itself judges any other
    // principal of the account, and a refusal is explained below; the emulator, which has no root
    // identity, exercises this command with an IAM user of the log-archive account.
    if who.account != la.account {
        return Err(refuse(not_root("another account")));
    }
    if [":assumed-role/", ":federated-user/"].iter().any(|session| who.arn.contains(session)) {
        return Err(refuse(not_root("a role session")));
    }
    let conf = in_region(aws.base(), &config.organization.home_region);
    let s3 = aws.s3(&conf);
    let site = Site::new(&la.account, conf.region(), res.clone());
    let fail = |e: CallError| StepError::from(site.error(scrub(e.source, mfa_code)));
    let live = s3.get_bucket_versioning().bucket(bucket).send().await.map_err(site.fail("S3.GetBucketVersioning")).map_err(fail)?;
    if live.mfa_delete() == Some(&MfaDeleteStatus::Enabled) {
        return Ok(Outcome { changes: vec![Change::no_change(res)] });
    }
    let rules = lifecycle_rules(&s3, &site, bucket).await.map_err(fail)?;
    if rules > 0 {
        return Err(refuse(format!(
            "the bucket has {rules} lifecycle rule(s) and S3 refuses MFA Delete on a bucket with a lifecycle configuration: remove it \
             first (aws s3api delete-bucket-lifecycle --bucket {}), or keep lifecycle and set log_archive.mfa_delete = false",
            bucket
        )));
    }
    let versioning = VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).mfa_delete(MfaDelete::Enabled).build();
    let put = s3
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(versioning)
        .mfa(format!("{mfa_serial} {mfa_code}"))
        .send()
        .await
        .map_err(site.fail("S3.PutBucketVersioning"));
    match put {
        Err(e) if e.source.is_access_denied() && who.arn != root => return Err(refuse(not_root("S3 answered AccessDenied"))),
        other => other.map_err(fail)?,
    };
    // Confirm: a 200 from an endpoint that ignores MFA Delete would otherwise pass for success.
    let after = s3.get_bucket_versioning().bucket(bucket).send().await.map_err(site.fail("S3.GetBucketVersioning")).map_err(fail)?;
    if after.mfa_delete() != Some(&MfaDeleteStatus::Enabled) {
        return Err(refuse("S3 accepted PutBucketVersioning but GetBucketVersioning does not report MFADelete=Enabled".into()));
    }
    Ok(Outcome { changes: vec![Change::update(res, vec!["MFADelete".into()])] })
}

/// AWS does not echo the `x-amz-mfa` header in errors; this makes sure of it.
fn scrub(mut e: AwsError, code: &str) -> AwsError {
    e.message = e.message.replace(code, "<redacted>");
    e
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const CONFIG: &str = r#"
[organization]
home_region = "eu-west-1"

[log_archive]
account = "222222222222"
bucket = "org-logs"
admin_roles = ["arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"]

[trail]
name = "org-trail"

[[wave]]
name = "all"
remaining = true
"#;

    fn config() -> Config {
        crate::config::parse(Path::new("orgtrail.toml"), CONFIG).unwrap()
    }

    fn lacking(bucket: &str, lifecycle_rules: usize) -> Lacking {
        Lacking { bucket: bucket.into(), lifecycle_rules }
    }

    const ENABLE: &str = "orgtrail mfa-delete enable --mfa-serial arn:aws:iam::222222222222:mfa/root-account-mfa-device --mfa-code CODE";

    fn cli_buckets(text: &str) -> Vec<&str> {
        text.lines().filter_map(|l| l.trim().strip_prefix("aws s3api put-bucket-versioning --bucket ")).map(|l| l.split(' ').next().unwrap()).collect()
    }

    #[test]
    fn both_buckets_lacking_one_command_covers_both() {
        let c = config();
        assert_eq!(managed_buckets(&c), vec!["org-logs".to_string(), "org-logs-access-logs".to_string()]);
        let text = instructions(&c, &[lacking("org-logs", 0), lacking("org-logs-access-logs", 0)]);
        assert!(text.lines().any(|l| l.trim() == ENABLE), "{text}");
        assert!(text.contains("the log bucket org-logs and the access-log bucket org-logs-access-logs"), "{text}");
        assert_eq!(cli_buckets(&text), vec!["org-logs", "org-logs-access-logs"]);
        assert!(!text.contains("lifecycle rule"), "{text}");
    }

    #[test]
    fn one_bucket_lacking_the_command_names_it_and_only_it() {
        let c = config();
        let text = instructions(&c, &[lacking("org-logs-access-logs", 2)]);
        assert!(text.lines().any(|l| l.trim() == format!("{ENABLE} --bucket org-logs-access-logs")), "{text}");
        assert!(text.contains("not enabled on the access-log bucket org-logs-access-logs (CIS 2.1.2"), "{text}");
        assert!(!text.contains("the log bucket"), "{text}");
        assert_eq!(cli_buckets(&text), vec!["org-logs-access-logs"]);
        assert!(text.contains("The bucket org-logs-access-logs has 2 lifecycle rule(s)") && text.contains("delete-bucket-lifecycle --bucket org-logs-access-logs"), "{text}");
    }

    #[test]
    fn without_access_logging_only_the_log_bucket_is_managed() {
        let c = crate::config::parse(Path::new("orgtrail.toml"), &CONFIG.replace("admin_roles", "access_logging = false\nadmin_roles")).unwrap();
        assert_eq!(managed_buckets(&c), vec!["org-logs".to_string()]);
        assert!(target_buckets(&c, Some("org-logs-access-logs")).is_err());
    }
}
