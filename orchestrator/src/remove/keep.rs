//! The delegated-administrator registration (last), and what `remove` never takes: the record
//! itself (logs, buckets, keys), what others share (trusted access, the SCP policy type), and what
//! orgtrail needs to run (the member role, the state).
use super::{Item, Work};
use crate::aws::Site;
use crate::config::TrailMode;
use crate::steps::trusted_access::{delegated_admins, CLOUDTRAIL_PRINCIPAL};
use crate::steps::{Ctx, StepError};

/// The configured delegated administrator, deregistered with the management account's
/// credentials; from the delegated administrator itself (it cannot deregister itself, and orgtrail
/// runs from it) it is kept, with the command for the management account.
pub async fn delegation(ctx: &Ctx<'_>) -> Result<Vec<Item>, StepError> {
    let Some(admin) = ctx.config.organization.delegated_admin_account.as_deref() else { return Ok(Vec::new()) };
    let mgmt = ctx.management_account();
    let resource = format!("cloudtrail-delegated-admin {admin}");
    if ctx.caller.account != mgmt {
        let why = format!("orgtrail runs from it: once it no longer does, run `aws cloudtrail deregister-organization-delegated-admin --delegated-admin-account-id {admin}` with the management account's credentials");
        return Ok(vec![Item::keep(mgmt, resource, why)]);
    }
    let admins = delegated_admins(ctx.aws).await.map_err(|e| Site::global(mgmt, resource.clone()).error(e))?;
    Ok(if admins.iter().any(|a| a == admin) { vec![Item::remove(mgmt, resource, Work::Deregister { account: admin.to_string() })] } else { Vec::new() })
}

pub fn kept(ctx: &Ctx<'_>) -> Vec<Item> {
    let la = &ctx.config.log_archive;
    let mgmt = ctx.management_account();
    let mut items = vec![
        Item::keep(&la.account, format!("kms-key {}", la.kms_alias), "it encrypts every log object: without it the logs are unreadable, for good"),
        Item::keep(&la.account, format!("s3-bucket {} and every log object in it", la.bucket), "the evidence: kept for the whole retention period (`[log_archive] lifecycle` expires objects when set)"),
    ];
    if la.access_logging {
        items.push(Item::keep(&la.account, format!("s3-bucket {}", la.access_log_bucket), "the log bucket's access logs: evidence too"));
    }
    if let Some(alias) = &la.access_log_kms_alias {
        items.push(Item::keep(&la.account, format!("kms-key {alias}"), "it encrypts the access logs"));
    }
    if ctx.config.trail.mode == TrailMode::Organization {
        items.push(Item::keep(mgmt, format!("trusted access {CLOUDTRAIL_PRINCIPAL}"), "every organization trail (Control Tower's too) relies on it"));
    } else {
        items.push(Item::keep("every member account", format!("trail {}", ctx.config.trail.name), "mode = \"account\": the member trails are removed per account (docs/removal.md, Taking it back)"));
    }
    if ctx.config.detection.protection.is_some() {
        items.push(Item::keep(mgmt, "organizations-root policy type SERVICE_CONTROL_POLICY", "other SCPs may rely on it"));
    }
    items.push(Item::keep("every member account", format!("iam-role {}", ctx.config.access.role_name), "orgtrail runs with it: delete the bootstrap StackSet once orgtrail no longer runs"));
    let state = ctx.config.state.url.as_deref().map_or_else(|| "the local state directory".to_string(), |u| format!("the state {u}"));
    items.push(Item::keep(&ctx.caller.account, state, "the record of what was done, when and by whom: remove it last, by hand"));
    items
}
