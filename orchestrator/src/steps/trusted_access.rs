//! CloudTrail in Organizations: trusted access (required before an organization trail can exist)
//! and the CloudTrail delegated administrators (accounts that may run the rollout instead of the
//! management account). Trusted access is checked with ListAWSServiceAccessForOrganization and
//! enabled with EnableAWSServiceAccess when missing; never disabled: removing it silently turns
//! every organization trail (Control Tower's included) into a single-account trail.
//!
//! Only the management account enables trusted access or registers a delegated administrator
//! (`orgtrail delegate`, [`converge_delegation`]); a delegated administrator running the rollout
//! gets a refusal naming the command to run there.

use std::ops::ControlFlow;

use aws_sdk_organizations::operation::list_aws_service_access_for_organization::ListAwsServiceAccessForOrganizationOutput;
use aws_sdk_organizations::operation::list_delegated_administrators::ListDelegatedAdministratorsOutput;

use super::support::in_region;
use super::{Action, Change, Ctx, Outcome, StepError, StepResult};
use crate::aws::{aws_err, Aws, AwsError, Site};

pub const CLOUDTRAIL_PRINCIPAL: &str = "cloudtrail.amazonaws.com";
/// AWS allows at most three CloudTrail delegated administrators per organization.
pub const MAX_DELEGATED_ADMINS: usize = 3;

fn resource() -> String {
    format!("organizations-trusted-access {CLOUDTRAIL_PRINCIPAL}")
}

fn admin_resource(account: &str) -> String {
    format!("cloudtrail-delegated-admin {account}")
}

/// The command that fixes a missing trusted access or registration, run with management credentials.
pub fn delegate_command(account: &str) -> String {
    format!("orgtrail delegate --account {account}")
}

/// Whether trusted access for CloudTrail is enabled (paginated, under the Organizations rate limit).
pub async fn is_enabled(ctx: &Ctx<'_>) -> Result<bool, StepError> {
    trusted_access_enabled(ctx.aws, &ctx.caller.account).await
}

/// [`is_enabled`] without a step context; errors name `caller` (whose credentials ask).
pub async fn trusted_access_enabled(aws: &Aws, caller: &str) -> Result<bool, StepError> {
    let mut enabled = false;
    aws.organizations_pages(
        |token| aws.organizations().list_aws_service_access_for_organization().set_next_token(token).send(),
        ListAwsServiceAccessForOrganizationOutput::next_token,
        |page| {
            enabled = page.enabled_service_principals().iter().any(|p| p.service_principal() == Some(CLOUDTRAIL_PRINCIPAL));
            if enabled { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        },
    )
    .await
    .map_err(Site::global(caller, resource()).fail("Organizations.ListAWSServiceAccessForOrganization"))?;
    Ok(enabled)
}

/// The registered CloudTrail delegated administrators (ListDelegatedAdministrators, paginated):
/// readable by the management account and by any delegated administrator.
pub async fn delegated_admins(aws: &Aws) -> Result<Vec<String>, AwsError> {
    let mut ids = Vec::new();
    aws.organizations_pages(
        |token| aws.organizations().list_delegated_administrators().service_principal(CLOUDTRAIL_PRINCIPAL).set_next_token(token).send(),
        ListDelegatedAdministratorsOutput::next_token,
        |page| {
            ids.extend(page.delegated_administrators().iter().filter_map(|a| a.id().map(str::to_string)));
            ControlFlow::Continue(())
        },
    )
    .await
    .map_err(aws_err("Organizations.ListDelegatedAdministrators"))?;
    ids.sort();
    Ok(ids)
}

/// The `trusted-access` step: NoChange when enabled; Create when it is (or, in a plan, would be)
/// enabled. Run by a delegated administrator, it also confirms the registration (CloudTrail refuses
/// an unregistered member's organization trail) and refuses instead of enabling.
pub async fn converge(ctx: &Ctx<'_>) -> StepResult {
    let mut outcome = Outcome::default();
    let caller = ctx.caller.account.as_str();
    let mgmt = ctx.management_account();
    if caller != mgmt {
        return delegated_preflight(ctx).await;
    }
    if is_enabled(ctx).await? {
        outcome.push(Change::no_change(resource()));
        return Ok(outcome);
    }
    if ctx.apply {
        enable(ctx.aws, caller).await?;
    }
    outcome.push(Change::new(resource(), Action::Create));
    Ok(outcome)
}

/// From a delegated administrator: trusted access must be on and the caller registered; only the
/// management account can change either, so a gap is a refusal (a manual action in a plan) that
/// prints the command to run there.
async fn delegated_preflight(ctx: &Ctx<'_>) -> StepResult {
    let caller = ctx.caller.account.as_str();
    let mgmt = ctx.management_account();
    if let Some(configured) = ctx.config.organization.delegated_admin_account.as_deref().filter(|c| *c != caller) {
        return Err(StepError::refused(
            caller,
            admin_resource(caller),
            format!("the base credentials belong to account {caller}, but the config names {configured} as delegated_admin_account (and {mgmt} is the management account): run orgtrail with the credentials of {configured} or {mgmt}"),
        ));
    }
    let gap = |resource: String, what: String| -> StepResult {
        let instructions = format!("{what}; only the management account {mgmt} can fix it: run `{}` there with its credentials, then apply again", delegate_command(caller));
        if ctx.apply {
            Err(StepError::refused(caller, resource, instructions))
        } else {
            Ok(Outcome { changes: vec![Change::new(resource, Action::ManualAction { instructions })] })
        }
    };
    if !is_enabled(ctx).await? {
        return gap(resource(), format!("trusted access for {CLOUDTRAIL_PRINCIPAL} is not enabled in the organization"));
    }
    let admins = match delegated_admins(ctx.aws).await {
        Ok(a) => a,
        // Organizations refuses the list to a member that administers nothing.
        Err(e) if e.is_access_denied() => Vec::new(),
        Err(e) => return Err(Site::global(caller, admin_resource(caller)).error(e).into()),
    };
    if !admins.iter().any(|a| a == caller) {
        return gap(admin_resource(caller), format!("account {caller} runs orgtrail but is neither the management account nor a registered CloudTrail delegated administrator"));
    }
    Ok(Outcome { changes: vec![Change::no_change(resource()), Change::no_change(admin_resource(caller))] })
}

async fn enable(aws: &Aws, caller: &str) -> Result<(), StepError> {
    aws.organizations_permit().await;
    aws.organizations()
        .enable_aws_service_access()
        .service_principal(CLOUDTRAIL_PRINCIPAL)
        .send()
        .await
        .map_err(Site::global(caller, resource()).fail("Organizations.EnableAWSServiceAccess"))?;
    Ok(())
}

/// `orgtrail delegate`: with the management account's credentials, make `account` a CloudTrail
/// delegated administrator: trusted access enabled if needed, then RegisterOrganizationDelegatedAdmin
/// (CloudTrail records the Organizations delegated administrator itself, and creates the
/// AWSServiceRoleForCloudTrail service-linked role if missing: the caller needs
/// iam:CreateServiceLinkedRole). Observe → diff → converge: a second run writes nothing.
pub async fn converge_delegation(aws: &Aws, caller: &str, management: &str, account: &str, home_region: &str, apply: bool) -> StepResult {
    if caller != management {
        return Err(StepError::refused(
            caller,
            admin_resource(account),
            format!("only the management account {management} registers CloudTrail delegated administrators; the base credentials belong to {caller}: run `{}` with the management account's credentials", delegate_command(account)),
        ));
    }
    if account == management {
        return Err(StepError::refused(caller, admin_resource(account), "the management account cannot be its own CloudTrail delegated administrator: name a member account (e.g. the security or audit account)"));
    }
    // An account outside the organization is an error now, not at registration.
    aws.organizations_permit().await;
    aws.organizations().describe_account().account_id(account).send().await.map_err(Site::global(caller, admin_resource(account)).fail("Organizations.DescribeAccount"))?;

    let mut outcome = Outcome::default();
    let enabled = trusted_access_enabled(aws, caller).await?;
    if !enabled && apply {
        enable(aws, caller).await?;
    }
    outcome.push(if enabled { Change::no_change(resource()) } else { Change::new(resource(), Action::Create) });

    let admins = delegated_admins(aws).await.map_err(|e| Site::global(caller, admin_resource(account)).error(e))?;
    if admins.iter().any(|a| a == account) {
        outcome.push(Change::no_change(admin_resource(account)));
        return Ok(outcome);
    }
    if admins.len() >= MAX_DELEGATED_ADMINS {
        return Err(StepError::refused(
            caller,
            admin_resource(account),
            format!(
                "the organization already has the maximum of {MAX_DELEGATED_ADMINS} CloudTrail delegated administrators ({}): deregister one first with `aws cloudtrail deregister-organization-delegated-admin --delegated-admin-account-id ID`",
                admins.join(", ")
            ),
        ));
    }
    if apply {
        let conf = in_region(aws.base(), home_region);
        let site = Site::new(caller, conf.region(), admin_resource(account));
        aws.cloudtrail(&conf).register_organization_delegated_admin().member_account_id(account).send().await.map_err(site.fail("CloudTrail.RegisterOrganizationDelegatedAdmin"))?;
    }
    outcome.push(Change::new(admin_resource(account), Action::Create));
    Ok(outcome)
}

/// For `plan` run with the management account's credentials and a configured
/// `delegated_admin_account`: whether that account is registered (None when not configured, or
/// when the caller is not the management account: the trusted-access step reports it then).
pub async fn delegation_plan(ctx: &Ctx<'_>) -> Option<StepResult> {
    let account = ctx.config.organization.delegated_admin_account.as_deref()?;
    if ctx.caller.account != ctx.management_account() {
        return None;
    }
    Some(
        converge_delegation(ctx.aws, &ctx.caller.account, ctx.management_account(), account, ctx.home_region(), false).await.map(|mut o| {
            for c in o.changes.iter_mut().filter(|c| c.is_change()) {
                c.action = Action::ManualAction { instructions: format!("run `{}` (management account credentials) before running orgtrail from {account}", delegate_command(account)) };
            }
            o
        }),
    )
}

/// The step's refusal, found before orgtrail's first write (executor preflight): from a delegated
/// administrator, trusted access off or the caller unregistered, which only the management
/// account can fix. The same check a plan shows as a manual action.
pub async fn preflight(ctx: &Ctx<'_>) -> Result<(), StepError> {
    if ctx.caller.account == ctx.management_account() {
        return Ok(());
    }
    let outcome = delegated_preflight(ctx).await?;
    match outcome.changes.into_iter().find(|c| matches!(c.action, Action::ManualAction { .. })) {
        Some(Change { resource, action: Action::ManualAction { instructions } }) => Err(StepError::refused(&ctx.caller.account, resource, instructions)),
        _ => Ok(()),
    }
}
