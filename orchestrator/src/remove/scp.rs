//! The tamper-protection SCP, first: every attachment, then the policy. The SERVICE_CONTROL_POLICY
//! type on the root is kept (other SCPs, or Control Tower's, may rely on it). From a delegated
//! administrator it is kept: only the management account manages SCPs.
use super::{Item, Work};
use crate::aws::Site;
use crate::steps::detection::{scp, SCP_NAME};
use crate::steps::{Ctx, StepError};

pub async fn observe(ctx: &Ctx<'_>) -> Result<Vec<Item>, StepError> {
    let acting = ctx.caller.account.as_str();
    let resource = format!("scp {SCP_NAME}");
    // Organizations answers SCP reads and writes to the management account only (a CloudTrail
    // delegated administrator gets AccessDenied): from elsewhere the SCP is left, with who can act.
    if acting != ctx.management_account() {
        return Ok(vec![Item::keep(ctx.management_account(), resource, "only the management account manages SCPs: run `orgtrail remove` with its credentials to detach and delete it")]);
    }
    let site = Site::global(acting, resource.clone());
    let Some(policy_id) = scp::find_policy(ctx).await.map_err(|e| site.error(e))? else { return Ok(Vec::new()) };
    let targets = scp::targets_of(ctx, &policy_id).await.map_err(|e| site.error(e))?;
    let mut items: Vec<Item> = targets
        .into_iter()
        .map(|target| Item::remove(acting, format!("scp-attachment {SCP_NAME} -> {target}"), Work::DetachScp { policy_id: policy_id.clone(), target }))
        .collect();
    items.push(Item::remove(acting, format!("{resource} ({policy_id})"), Work::DeleteScp { policy_id }));
    Ok(items)
}
