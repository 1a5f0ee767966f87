//! MFA Delete on the log bucket (CIS 2.1.2). Only the bucket owner's root user, with its MFA device,
//! can enable it, and only through the API: not from the console, not from an IAM user or assumed
//! role (S3 User Guide, "Configuring MFA delete"). So the `mfa-delete` step only verifies it and,
//! until it is on, reports the exact command for an operator; `enable` is that command, run with
//! the log-archive account's root credentials, on the log bucket and the access-log bucket (a
//! scanner checks every bucket of the account). The MFA code is never logged nor put in an error.
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

/// What an operator must do to turn MFA Delete on.
pub fn instructions(config: &Config, lifecycle_rules: usize) -> String {
    let la = &config.log_archive;
    let serial = default_mfa_serial(config.partition(), &la.account);
    let mut text = format!(
        "MFA Delete is not enabled on the log bucket {bucket} (CIS 2.1.2). Only the root user of the log-archive account {account}, \
         with its MFA device, can enable it, and only through the API or CLI: not in the console, not from an IAM user or an assumed \
         role such as the one orgtrail uses. With that root user's credentials (for example temporary root access keys, deleted \
         afterwards) and the current 6-digit code of its MFA device in place of CODE, run:\n  \
         {command}\n\
         or, equivalently:\n  \
         aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled,MFADelete=Enabled --mfa \"{serial} CODE\"\n\
         Use your device's own serial if it differs (IAM > Security credentials of the root user).",
        bucket = la.bucket,
        account = la.account,
        command = enable_command(&serial),
    );
    if la.access_logging {
        text.push_str(&format!(
            "\nThe command also enables it on the access-log bucket {access} (security scanners check every bucket of the \
             account); with the AWS CLI, run the put-bucket-versioning above for --bucket {access} too, with the next code.",
            access = la.access_log_bucket
        ));
    }
    if lifecycle_rules > 0 {
        text.push_str(&format!(
            "\nThe bucket has {lifecycle_rules} lifecycle rule(s): S3 refuses MFA Delete on a bucket with a lifecycle configuration, \
             so remove it first (aws s3api delete-bucket-lifecycle --bucket {}).",
            la.bucket
        ));
    }
    text
}

/// The `mfa-delete` step: NoChange when MFA Delete is enabled, else a `ManualAction` with the command.
pub async fn verify(ctx: &Ctx<'_>) -> StepResult {
    let la = &ctx.config.log_archive;
    if !la.mfa_delete {
        return Ok(Outcome { changes: vec![Change::no_change(resource(&la.bucket))] });
    }
    let s3 = ctx.aws.s3(&home_session(ctx, &la.account));
    let site = Site::new(&la.account, s3.config().region(), resource(&la.bucket));
    let live = s3.get_bucket_versioning().bucket(&la.bucket).send().await.map_err(site.fail("S3.GetBucketVersioning"));
    // No bucket yet (a plan of an empty account): once the log-bucket step makes it, it will need the same manual action.
    let live = absent(live, &["NoSuchBucket"])?;
    if live.as_ref().and_then(|v| v.mfa_delete()) == Some(&MfaDeleteStatus::Enabled) {
        return Ok(Outcome { changes: vec![Change::no_change(resource(&la.bucket))] });
    }
    let rules = if live.is_none() { 0 } else { lifecycle_rules(&s3, &site, &la.bucket).await? };
    let change = Change::new(resource(&la.bucket), Action::ManualAction { instructions: instructions(ctx.config, rules) });
    Ok(Outcome { changes: vec![change] })
}

async fn lifecycle_rules(s3: &aws_sdk_s3::Client, site: &Site, bucket: &str) -> Result<usize, CallError> {
    let out = s3.get_bucket_lifecycle_configuration().bucket(bucket).send().await.map_err(site.fail("S3.GetBucketLifecycleConfiguration"));
    Ok(absent(out, &["NoSuchLifecycleConfiguration"])?.map_or(0, |o| o.rules().len()))
}

/// The buckets `mfa-delete enable` acts on: `requested` (one of the two orgtrail manages), else the log
/// bucket and, with access logging on, the access-log bucket.
pub fn target_buckets(config: &Config, requested: Option<&str>) -> Result<Vec<String>, String> {
    let la = &config.log_archive;
    let mut managed = vec![la.bucket.clone()];
    if la.access_logging {
        managed.push(la.access_log_bucket.clone());
    }
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
