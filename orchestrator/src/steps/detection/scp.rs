//! The `tamper-protection-scp` step: the service control policy rendered from `templates/scp.json`,
//! the SCP policy type enabled on the root, and the policy attached to the root or the configured
//! OUs (and to nothing else). Refused when the SCP would deny a role orgtrail runs as.
//!
//! SCPs never apply to the management account: the trail is protected in every member account, and
//! the management account must be protected by other means (the plan says so).
use std::collections::BTreeSet;
use std::ops::ControlFlow;

use aws_sdk_organizations::operation::list_organizational_units_for_parent::ListOrganizationalUnitsForParentOutput;
use aws_sdk_organizations::operation::list_policies::ListPoliciesOutput;
use aws_sdk_organizations::operation::list_targets_for_policy::ListTargetsForPolicyOutput;
use aws_sdk_organizations::types::{PolicyType, PolicyTypeStatus};
use serde_json::Value;

use super::{scp_context, SCP_NAME};
use crate::aws::{aws_err, AwsError, Site};
use crate::policy::{check_not_locked_out, diff_policies, principal_arn_for, render_scp, scp_denies};
use crate::steps::kms_key::{lookup_key, KeyRef};
use crate::steps::support::policy_fields;
use crate::steps::{Action, Change, Ctx, Outcome, StepError, StepResult};

pub const STEP: &str = "tamper-protection-scp";

fn resource(ctx: &Ctx<'_>) -> String {
    format!("scp {SCP_NAME} (SCPs never apply to the management account {})", ctx.management_account())
}

/// The principals orgtrail acts as in member accounts, as `aws:PrincipalArn` names them: the access
/// role in the log-archive account, and the caller itself when it is a delegated administrator.
pub fn orgtrail_principals(ctx: &Ctx<'_>) -> Vec<String> {
    let mut out = vec![format!("arn:{}:iam::{}:role/{}", ctx.partition(), ctx.config.log_archive.account, ctx.config.access.role_name)];
    if ctx.caller.account != ctx.management_account() {
        out.push(principal_arn_for(&ctx.caller.arn));
    }
    out
}

/// The lock-out guard: the SCP must leave every principal orgtrail runs as able to manage the
/// buckets (the bucket-policy check), the key and the trail.
pub fn check_lockout(ctx: &Ctx<'_>, scp: &Value, key_arn: &str) -> Result<(), String> {
    let la = &ctx.config.log_archive;
    let p = ctx.partition();
    for principal in orgtrail_principals(ctx) {
        check_not_locked_out(scp, &principal).map_err(|e| format!("the SCP would lock orgtrail out: {e}"))?;
        let probes = [
            ("kms:PutKeyPolicy", key_arn.to_string()),
            ("s3:PutBucketPolicy", format!("arn:{p}:s3:::{}", la.bucket)),
            ("s3:PutBucketVersioning", format!("arn:{p}:s3:::{}", la.bucket)),
            ("cloudtrail:UpdateTrail", ctx.trail_arn()),
            ("cloudtrail:PutEventSelectors", ctx.trail_arn()),
        ];
        for (action, res) in probes {
            if let Some(sid) = scp_denies(scp, &principal, action, &res) {
                return Err(format!(
                    "refusing to attach the SCP: statement {sid} would deny {action} on {res} to {principal}, a role orgtrail runs as, \
                     and orgtrail could no longer converge it. Add {principal} (or a pattern matching it) to log_archive.admin_roles"
                ));
            }
        }
    }
    Ok(())
}

/// The key ARN a plan (or a preflight before the key exists) renders the SCP with.
fn placeholder_key_arn(ctx: &Ctx<'_>) -> String {
    format!("arn:{}:kms:{}:{}:key/KEY-ID-CREATED-BY-APPLY", ctx.partition(), ctx.home_region(), ctx.config.log_archive.account)
}

/// The SCP for `key_arn`, refused when it does not render or would lock orgtrail out.
fn checked_scp(ctx: &Ctx<'_>, key_arn: &str) -> Result<Value, StepError> {
    let refused = |reason: String| StepError::refused(&ctx.caller.account, resource(ctx), reason);
    let scp = render_scp(&scp_context(ctx, key_arn)).map_err(|e| refused(e.to_string()))?;
    check_lockout(ctx, &scp, key_arn).map_err(refused)?;
    Ok(scp)
}

/// The step's refusals, found before orgtrail's first write (executor preflight): an SCP that
/// would lock orgtrail out is refused before the key and buckets are made. The key ARN only
/// names a resource in the SCP, so a placeholder stands in for a key not made yet.
pub async fn preflight(ctx: &Ctx<'_>) -> Result<(), StepError> {
    if ctx.config.detection.protection.is_none() {
        return Ok(());
    }
    let key_arn = match lookup_key(ctx).await? {
        KeyRef::Arn(a) => a,
        KeyRef::Missing { .. } => placeholder_key_arn(ctx),
    };
    checked_scp(ctx, &key_arn).map(drop)
}

pub async fn converge(ctx: &Ctx<'_>) -> StepResult {
    let Some(protection) = &ctx.config.detection.protection else { return Ok(Outcome::default()) };
    let acting = ctx.caller.account.as_str();
    let resource = resource(ctx);
    let key_arn = match lookup_key(ctx).await? {
        KeyRef::Arn(a) => a,
        KeyRef::Missing { alias } if ctx.apply => return Err(StepError::refused(acting, resource, format!("KMS key {alias} does not exist: the kms-key step must run first"))),
        KeyRef::Missing { .. } => placeholder_key_arn(ctx),
    };
    let scp = checked_scp(ctx, &key_arn)?;
    let orgs = ctx.aws.organizations();
    let site = Site::global(acting, resource.clone());
    let mut outcome = Outcome::default();

    // The policy type on the root.
    ctx.aws.organizations_permit().await;
    let roots = orgs.list_roots().send().await.map_err(site.fail("Organizations.ListRoots"))?;
    let root = roots.roots().iter().find(|r| r.id() == Some(ctx.org.root_id.as_str())).or(roots.roots().first()).cloned();
    let root_id = root.as_ref().and_then(|r| r.id()).unwrap_or(&ctx.org.root_id).to_string();
    let enabled = root.as_ref().is_some_and(|r| r.policy_types().iter().any(|t| t.r#type() == Some(&PolicyType::ServiceControlPolicy) && t.status() == Some(&PolicyTypeStatus::Enabled)));
    let type_resource = format!("organizations-root {root_id} policy type SERVICE_CONTROL_POLICY");
    if !enabled {
        if ctx.apply {
            ctx.aws.organizations_permit().await;
            orgs.enable_policy_type().root_id(&root_id).policy_type(PolicyType::ServiceControlPolicy).send().await.map_err(site.fail("Organizations.EnablePolicyType"))?;
        }
        outcome.push(Change::new(type_resource, Action::Update { fields: vec!["PolicyTypes SERVICE_CONTROL_POLICY (DISABLED -> ENABLED)".into()] }));
    } else {
        outcome.push(Change::no_change(type_resource));
    }

    // The policy itself.
    // Looked up even with the type off: a policy made before the type was disabled is reused, not duplicated.
    let existing = find_policy(ctx).await.map_err(|e| site.error(e))?;
    let content = scp.to_string();
    let policy_id = match existing {
        None => {
            let id = if ctx.apply {
                ctx.aws.organizations_permit().await;
                let out = orgs
                    .create_policy()
                    .name(SCP_NAME)
                    .description("orgtrail: denies stopping or changing the organization trail and changes to the log-archive key and buckets")
                    .r#type(PolicyType::ServiceControlPolicy)
                    .content(&content)
                    .send()
                    .await
                    .map_err(site.fail("Organizations.CreatePolicy"))?;
                out.policy().and_then(|p| p.policy_summary()).and_then(|s| s.id()).map(str::to_string)
            } else {
                None
            };
            outcome.push(Change::new(resource.clone(), Action::Create));
            id
        }
        Some(id) => {
            ctx.aws.organizations_permit().await;
            let out = orgs.describe_policy().policy_id(&id).send().await.map_err(site.fail("Organizations.DescribePolicy"))?;
            let live: Value = out.policy().and_then(|p| p.content()).and_then(|c| serde_json::from_str(c).ok()).unwrap_or(Value::Null);
            let diff = diff_policies(&live, &scp);
            if !diff.is_empty() && ctx.apply {
                ctx.aws.organizations_permit().await;
                orgs.update_policy().policy_id(&id).content(&content).send().await.map_err(site.fail("Organizations.UpdatePolicy"))?;
            }
            outcome.push(Change::update(resource.clone(), policy_fields(&diff).into_iter().map(|f| format!("Content {f}")).collect()));
            Some(id)
        }
    };

    // Attachments: exactly the configured targets.
    let want: BTreeSet<String> = if protection.targets.is_empty() {
        BTreeSet::from([root_id.clone()])
    } else {
        let mut ids = BTreeSet::new();
        for t in &protection.targets {
            ids.insert(resolve_target(ctx, &root_id, t).await.map_err(|e| match e {
                Resolve::Aws(e) => site.error(e).into(),
                Resolve::Unknown => StepError::refused(acting, resource.clone(), format!("[protection] targets: no OU `{t}` in the organization")),
            })?);
        }
        ids
    };
    let attached: BTreeSet<String> = match &policy_id {
        Some(id) => targets_of(ctx, id).await.map_err(|e| site.error(e))?,
        None => BTreeSet::new(),
    };
    for t in want.difference(&attached) {
        if let (true, Some(id)) = (ctx.apply, &policy_id) {
            ctx.aws.organizations_permit().await;
            orgs.attach_policy().policy_id(id).target_id(t).send().await.map_err(site.fail("Organizations.AttachPolicy"))?;
        }
        outcome.push(Change::new(format!("scp-attachment {SCP_NAME} -> {t}"), Action::Create));
    }
    for t in attached.difference(&want) {
        if let (true, Some(id)) = (ctx.apply, &policy_id) {
            ctx.aws.organizations_permit().await;
            orgs.detach_policy().policy_id(id).target_id(t).send().await.map_err(site.fail("Organizations.DetachPolicy"))?;
        }
        outcome.push(Change::new(format!("scp-attachment {SCP_NAME} -> {t}"), Action::Delete));
    }
    for t in want.intersection(&attached) {
        outcome.push(Change::no_change(format!("scp-attachment {SCP_NAME} -> {t}")));
    }
    Ok(outcome)
}

/// The id of orgtrail's SCP, by name.
pub async fn find_policy(ctx: &Ctx<'_>) -> Result<Option<String>, AwsError> {
    let mut found = None;
    ctx.aws
        .organizations_pages(
            |token| ctx.aws.organizations().list_policies().filter(PolicyType::ServiceControlPolicy).set_next_token(token).send(),
            ListPoliciesOutput::next_token,
            |page| match page.policies().iter().find(|p| p.name() == Some(SCP_NAME)) {
                Some(p) => {
                    found = p.id().map(str::to_string);
                    ControlFlow::Break(())
                }
                None => ControlFlow::Continue(()),
            },
        )
        .await
        .map_err(aws_err("Organizations.ListPolicies"))?;
    Ok(found)
}

pub async fn targets_of(ctx: &Ctx<'_>, policy_id: &str) -> Result<BTreeSet<String>, AwsError> {
    let mut out = BTreeSet::new();
    ctx.aws
        .organizations_pages(
            |token| ctx.aws.organizations().list_targets_for_policy().policy_id(policy_id).set_next_token(token).send(),
            ListTargetsForPolicyOutput::next_token,
            |page| {
                out.extend(page.targets().iter().filter_map(|t| t.target_id().map(str::to_string)));
                ControlFlow::Continue(())
            },
        )
        .await
        .map_err(aws_err("Organizations.ListTargetsForPolicy"))?;
    Ok(out)
}

pub enum Resolve {
    Aws(AwsError),
    Unknown,
}

/// An OU selector to its id: `ou-…` as is, `Root` the root, `Root/A/B` walked one level at a time.
pub async fn resolve_target(ctx: &Ctx<'_>, root_id: &str, selector: &str) -> Result<String, Resolve> {
    if selector.starts_with("ou-") {
        return Ok(selector.to_string());
    }
    let mut parent = root_id.to_string();
    for name in selector.split('/').skip(1) {
        let mut found = None;
        ctx.aws
            .organizations_pages(
                |token| ctx.aws.organizations().list_organizational_units_for_parent().parent_id(&parent).set_next_token(token).send(),
                ListOrganizationalUnitsForParentOutput::next_token,
                |page| match page.organizational_units().iter().find(|o| o.name() == Some(name)) {
                    Some(ou) => {
                        found = ou.id().map(str::to_string);
                        ControlFlow::Break(())
                    }
                    None => ControlFlow::Continue(()),
                },
            )
            .await
            .map_err(|e| Resolve::Aws(AwsError::from_sdk("Organizations.ListOrganizationalUnitsForParent", &e)))?;
        parent = found.ok_or(Resolve::Unknown)?;
    }
    Ok(parent)
}
