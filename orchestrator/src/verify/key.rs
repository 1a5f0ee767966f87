//! KMS.4: automatic rotation of the key that encrypts the logs (log-archive account, home region), and
//! of the access-log bucket's key with `access_log_encryption = "sse-kms"` (Security Hub checks every
//! customer-managed key).
use super::{Control, Finding, Status};
use crate::aws::Site;
use crate::steps::support::home_session;
use crate::steps::{kms_key, Ctx, StepError};

/// The key behind the configured alias, read once for KMS.4 and CloudTrail.2.
pub(super) async fn key_arn(ctx: &Ctx<'_>) -> Result<Option<String>, StepError> {
    kms_key::key_arn(ctx).await
}

pub(super) async fn check(ctx: &Ctx<'_>, key_arn: Result<&Option<String>, &StepError>) -> Vec<Finding> {
    let mut out = rotation(ctx, &ctx.config.log_archive.kms_alias, key_arn).await;
    if let Some(alias) = &ctx.config.log_archive.access_log_kms_alias {
        let arn = kms_key::access_log_key_arn(ctx).await;
        out.extend(rotation(ctx, alias, arn.as_ref()).await);
    }
    out
}

async fn rotation(ctx: &Ctx<'_>, alias: &str, key_arn: Result<&Option<String>, &StepError>) -> Vec<Finding> {
    let la = &ctx.config.log_archive.account;
    let resource = format!("kms-key {alias}");
    let arn = match key_arn {
        Err(e) => return vec![Finding::error(Control::Kms4, la, resource, e)],
        Ok(None) => return vec![Finding::new(Control::Kms4, la, resource, Status::Fail, format!("alias {alias} names no key (DescribeKey: NotFoundException)"))],
        Ok(Some(arn)) => arn,
    };
    let resource = format!("kms-key {arn}");
    let kms = ctx.aws.kms(&home_session(ctx, la));
    let site = Site::new(la, kms.config().region(), resource.clone());
    match kms.get_key_rotation_status().key_id(arn).send().await.map_err(site.fail("KMS.GetKeyRotationStatus")) {
        Err(e) => vec![Finding::error(Control::Kms4, la, resource, &e.into())],
        Ok(out) => {
            let on = out.key_rotation_enabled();
            let period = out.rotation_period_in_days().map(|d| format!("; RotationPeriodInDays={d}")).unwrap_or_default();
            let status = if on { Status::Pass } else { Status::Fail };
            vec![Finding::new(Control::Kms4, la, resource, status, format!("KeyRotationEnabled={on}{period}"))]
        }
    }
}
