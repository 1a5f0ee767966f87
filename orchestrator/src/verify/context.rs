//! What an audit's JSON says about itself beyond the findings: when it ran, by which orgtrail, from
//! which config (its fingerprint, the one the rollout state records per run), in which home region,
//! and the accounts of the organization with their OU paths. The HTML report and the Security Hub
//! findings are built from this JSON alone, never from a second set of AWS calls.
use serde::{Deserialize, Serialize};

use crate::config::{self, Config};
use crate::discovery::Inventory;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditContext {
    /// RFC 3339 UTC, to the second.
    pub generated_at: String,
    pub orgtrail_version: String,
    pub config_path: String,
    /// `config::fingerprint` of the resolved config.
    pub config_fingerprint: String,
    pub home_region: String,
    pub partition: String,
    /// The account the base credentials belong to: whose Security Hub receives the findings by default.
    pub caller_account: String,
}

/// One account of the organization as discovery saw it; `targeted` when the config targets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditedAccount {
    pub id: String,
    pub name: String,
    pub ou_path: String,
    /// The OU names from below the root down to the account's OU: unambiguous where a name holds `/`.
    #[serde(default)]
    pub ous: Vec<String>,
    pub status: String,
    pub targeted: bool,
}

impl AuditContext {
    pub fn of(config: &Config, config_path: &str, caller_account: &str, generated_at_millis: u64) -> AuditContext {
        AuditContext {
            generated_at: orgtrail_state::format_millis(generated_at_millis),
            orgtrail_version: env!("CARGO_PKG_VERSION").to_string(),
            config_path: config_path.to_string(),
            config_fingerprint: config::fingerprint(config),
            home_region: config.organization.home_region.clone(),
            partition: config.organization.partition.clone(),
            caller_account: caller_account.to_string(),
        }
    }
}

/// Every discovered account (targeted or not), in discovery order.
pub fn audited_accounts(inventory: &Inventory, targets: &[String]) -> Vec<AuditedAccount> {
    let targeted: std::collections::HashSet<&str> = targets.iter().map(String::as_str).collect();
    let paths: std::collections::HashMap<&str, &str> = inventory.ous.iter().map(|o| (o.id.as_str(), o.path.as_str())).collect();
    inventory
        .accounts
        .iter()
        .chain(inventory.skipped.iter().map(|s| &s.account))
        .map(|a| AuditedAccount {
            id: a.id.clone(),
            name: a.name.clone(),
            ou_path: a.ou_path.clone(),
            ous: ou_names(&a.ou_ids, &paths),
            status: a.status.clone(),
            targeted: targeted.contains(a.id.as_str()),
        })
        .collect()
}

/// Each OU's own name: its path less its parent's (paths join names with `/`, which a name may hold).
fn ou_names(ou_ids: &[String], paths: &std::collections::HashMap<&str, &str>) -> Vec<String> {
    let mut parent = "Root";
    let mut names = Vec::new();
    for id in ou_ids {
        let Some(path) = paths.get(id.as_str()).copied() else { continue };
        if path == "Root" {
            continue;
        }
        names.push(path.strip_prefix(parent).and_then(|r| r.strip_prefix('/')).unwrap_or(path).to_string());
        parent = path;
    }
    names
}
