//! `apply --plan`'s first half, before any write: the config must be the plan's, and a fresh
//! discovery and read-only observation must see exactly what the plan saw.
use std::path::Path;

use super::{compare, ConfigRef, SavedPlan, SavedPlanError};
use crate::aws::{Aws, CallerIdentity};
use crate::config::{self, Config};
use crate::discovery::Inventory;
use crate::plan::observe::observe;
use crate::rollout::RolloutError;
use crate::steps::Ctx;

/// What the check found the same as planned: the inventory to start the run with.
pub struct Checked {
    pub inventory: Inventory,
    /// Whether the plan covered the member steps (else `apply --plan` runs the central steps only).
    pub members: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Saved(#[from] SavedPlanError),
    #[error(transparent)]
    Rollout(#[from] RolloutError),
}

impl crate::exit::Classify for CheckError {
    fn exit_class(&self) -> crate::exit::ExitClass {
        match self {
            CheckError::Saved(e) => e.exit_class(),
            CheckError::Rollout(e) => e.exit_class(),
        }
    }
}

/// Observe again what `saved` observed and compare; `Ok` only when nothing moved.
pub async fn recheck(aws: &Aws, config: &Config, config_path: &Path, caller: &CallerIdentity, plan_path: &Path, saved: &SavedPlan, concurrency: usize) -> Result<Checked, CheckError> {
    let fingerprint = config::fingerprint(config);
    if saved.config.fingerprint != fingerprint {
        return Err(SavedPlanError::ConfigChanged { path: plan_path.to_path_buf(), config: config_path.display().to_string(), planned: saved.config.fingerprint.clone(), now: fingerprint }.into());
    }
    let inventory = crate::rollout::inventory(aws, config, config_path).await?;
    let waves = crate::plan::plan(config, &inventory, config_path).map_err(RolloutError::from)?;
    let targets = waves.targets();
    let ctx = Ctx { aws, config, org: &inventory.organization, caller, targets: &targets, apply: false };
    let observed = observe(&ctx, saved.members_observed, concurrency).await;
    let now = SavedPlan::new(ConfigRef { path: saved.config.path.clone(), fingerprint }, inventory.organization.clone(), caller.account.clone(), waves.waves, observed.members, observed.steps);
    let moved = compare(saved, &now);
    if !moved.is_empty() {
        return Err(SavedPlanError::Moved { path: plan_path.to_path_buf(), moved }.into());
    }
    Ok(Checked { inventory, members: saved.members_observed })
}
