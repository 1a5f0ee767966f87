//! One module per rollout subcommand; the small ones stay in main.rs.
pub mod apply;
pub mod delegate;
pub mod bootstrap;
pub mod docs;
pub mod plan;
pub mod policies;
pub mod state;
pub mod status;
pub mod verify;

use anyhow::{Context, Result};
use orgtrail::aws::{Aws, CallerIdentity};
use orgtrail::config::Config;
use orgtrail::discovery::Inventory;
use orgtrail::plan::Plan;
use orgtrail::steps::Ctx;

use crate::Global;

/// What the read-only commands (plan, verify, render-policies) start from: the config, clients
/// with the member role, the caller, the live inventory and the waves planned over it.
pub struct Live {
    pub config: Config,
    pub aws: Aws,
    pub caller: CallerIdentity,
    pub inventory: Inventory,
    pub plan: Plan,
    pub targets: Vec<String>,
    pub concurrency: usize,
}

impl Live {
    pub async fn load(global: &Global, session_name: &str) -> Result<Live> {
        let config = crate::load_config(global, true)?.expect("required");
        let (spec, concurrency) = crate::role_spec(Some(&config), session_name);
        let aws = crate::connect(global, Some(&config)).await.with_role(spec, concurrency);
        let caller = aws.caller_identity().await.context("reading the caller identity (STS.GetCallerIdentity)")?;
        let inventory = orgtrail::rollout::inventory(&aws, &config, &global.config).await?;
        let plan = orgtrail::plan::plan(&config, &inventory, &global.config)?;
        let targets = plan.targets();
        Ok(Live { config, aws, caller, inventory, plan, targets, concurrency })
    }

    /// A read-only step context (`apply == false`).
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx { aws: &self.aws, config: &self.config, org: &self.inventory.organization, caller: &self.caller, targets: &self.targets, apply: false }
    }
}
