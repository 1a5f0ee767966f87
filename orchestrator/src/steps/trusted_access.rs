//! CloudTrail trusted access in Organizations: required before an organization trail can exist.
//! Checked with ListAWSServiceAccessForOrganization, enabled with EnableAWSServiceAccess when
//! missing. Never disabled: removing it silently turns every organization trail (Control Tower's
//! included) into a single-account trail.
use super::{Action, Change, Ctx, Outcome, StepError, StepResult};
use crate::aws::aws_err;

pub const CLOUDTRAIL_PRINCIPAL: &str = "cloudtrail.amazonaws.com";

fn resource() -> String {
    format!("organizations-trusted-access {CLOUDTRAIL_PRINCIPAL}")
}

/// Whether trusted access for CloudTrail is enabled (paginated, under the Organizations rate limit).
pub async fn is_enabled(ctx: &Ctx<'_>) -> Result<bool, StepError> {
    let orgs = ctx.aws.organizations();
    let mut token: Option<String> = None;
    loop {
        ctx.aws.organizations_permit().await;
        let page = orgs
            .list_aws_service_access_for_organization()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(aws_err("Organizations.ListAWSServiceAccessForOrganization"))
            .map_err(StepError::aws(&ctx.caller.account, resource()))?;
        if page.enabled_service_principals().iter().any(|p| p.service_principal() == Some(CLOUDTRAIL_PRINCIPAL)) {
            return Ok(true);
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(false),
        }
    }
}

/// The `trusted-access` step: NoChange when enabled; Create when it is (or, in a plan, would be) enabled.
pub async fn converge(ctx: &Ctx<'_>) -> StepResult {
    let mut outcome = Outcome::default();
    if is_enabled(ctx).await? {
        outcome.push(Change::no_change(resource()));
        return Ok(outcome);
    }
    // Refused in a plan too: plan and apply agree on what apply will do.
    only_management_can_enable(ctx)?;
    if ctx.apply {
        ctx.aws.organizations_permit().await;
        ctx.aws
            .organizations()
            .enable_aws_service_access()
            .service_principal(CLOUDTRAIL_PRINCIPAL)
            .send()
            .await
            .map_err(aws_err("Organizations.EnableAWSServiceAccess"))
            .map_err(StepError::aws(&ctx.caller.account, resource()))?;
    }
    outcome.push(Change::new(resource(), Action::Create));
    Ok(outcome)
}

/// The step's refusal, found before orgtrail's first write: trusted access is off and the caller
/// (a delegated administrator) cannot turn it on.
pub async fn preflight(ctx: &Ctx<'_>) -> Result<(), StepError> {
    if ctx.caller.account != ctx.management_account() && !is_enabled(ctx).await? {
        only_management_can_enable(ctx)?;
    }
    Ok(())
}

/// Only the management account may enable trusted access; a delegated administrator cannot.
fn only_management_can_enable(ctx: &Ctx<'_>) -> Result<(), StepError> {
    if ctx.caller.account == ctx.management_account() {
        return Ok(());
    }
    Err(StepError::refused(
        &ctx.caller.account,
        resource(),
        format!(
            "trusted access for {CLOUDTRAIL_PRINCIPAL} is not enabled and only the management account {} can enable it: run `aws organizations enable-aws-service-access --service-principal {CLOUDTRAIL_PRINCIPAL}` there, then apply again",
            ctx.management_account()
        ),
    ))
}
