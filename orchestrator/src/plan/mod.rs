//! Inventory + Config → Plan: which member account goes in which wave (pure, no AWS).
//!
//! Each account belongs to the first wave that selects it. A wave selects the accounts it lists
//! and the accounts under the OUs it lists (nested OUs included); `tags` then narrows that set
//! (or, alone, selects every account carrying all the tags). `remaining` takes every targeted
//! account no earlier wave took. The management account is not a member target: the central
//! steps (trusted access, organization trail) run there.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::{Amount, Config, Wave};
use crate::discovery::{Account, Inventory};

pub mod observe;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PlannedWave {
    pub name: String,
    pub accounts: Vec<String>,
    pub max_concurrency: usize,
    pub failure_tolerance: usize,
    pub pause_after: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Untargeted {
    pub account: String,
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Plan {
    pub waves: Vec<PlannedWave>,
    /// Active accounts no wave selects, excluded ones, and suspended ones, each with why.
    pub untargeted: Vec<Untargeted>,
}

impl Plan {
    pub fn targets(&self) -> Vec<String> {
        self.waves.iter().flat_map(|w| w.accounts.iter().cloned()).collect()
    }

    pub fn wave_of(&self, account: &str) -> Option<&PlannedWave> {
        self.waves.iter().find(|w| w.accounts.iter().any(|a| a == account))
    }
}

/// A config that does not fit the live organization, pointing at the config line at fault.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    #[error("{path}:{line}: wave `{wave}`: {message}")]
    Wave { path: String, line: usize, wave: String, message: String },
    #[error(transparent)]
    Account(Box<AccountError>),
}

/// `log_archive.account`, `organization.management_account` or `delegated_admin_account` names
/// an account that is not an active member (or not the management account).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{path}:{line}:{column}: {key} = \"{account}\": {message}{}", if snippet.is_empty() { String::new() } else { format!("\n{snippet}") })]
pub struct AccountError {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub key: &'static str,
    pub account: String,
    pub message: String,
    /// The config line with a caret under the value.
    pub snippet: String,
}

impl PlanError {
    /// The 1-based line of the config the error points at.
    pub fn line(&self) -> usize {
        match self {
            PlanError::Wave { line, .. } => *line,
            PlanError::Account(a) => a.line,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            PlanError::Wave { message, .. } => message,
            PlanError::Account(a) => &a.message,
        }
    }
}

/// The implicit single wave when the config has none: every targeted account, 20 at a time.
fn default_waves() -> Vec<Wave> {
    vec![Wave {
        name: "all".into(),
        accounts: vec![],
        ous: vec![],
        tags: BTreeMap::new(),
        remaining: true,
        max_concurrency: Amount::Count(20),
        failure_tolerance: Amount::Count(0),
        pause_after: false,
        strict: false,
        line: 0,
    }]
}

pub fn plan(config: &Config, inventory: &Inventory, config_path: &Path) -> Result<Plan, PlanError> {
    let mgmt = inventory.organization.management_account.as_str();
    check_accounts(config, inventory, config_path)?;
    let err = |w: &Wave, message: String| PlanError::Wave { path: config_path.display().to_string(), line: w.line, wave: w.name.clone(), message };
    let mut untargeted = Vec::new();
    let mut pool: BTreeMap<&str, &Account> = BTreeMap::new();
    for a in &inventory.accounts {
        let reason = if a.id == mgmt {
            Some("management account: runs the central steps, not a member wave".to_string())
        } else if config.exclude_accounts.contains(&a.id) {
            Some("listed in exclude_accounts".to_string())
        } else {
            config.exclude_ous.iter().find(|ou| in_ou(a, ou)).map(|ou| format!("under excluded OU {ou}"))
        };
        match reason {
            Some(reason) => untargeted.push(Untargeted { account: a.id.clone(), name: a.name.clone(), reason }),
            None => {
                pool.insert(a.id.as_str(), a);
            }
        }
    }
    let skipped: BTreeSet<&str> = inventory.skipped.iter().map(|s| s.account.id.as_str()).collect();
    let waves_cfg = if config.waves.is_empty() { default_waves() } else { config.waves.clone() };
    if waves_cfg.iter().any(|w| !w.tags.is_empty()) && !inventory.tags_fetched {
        let w = waves_cfg.iter().find(|w| !w.tags.is_empty()).expect("checked");
        return Err(err(w, "selects by tags but the inventory was discovered without tags".into()));
    }

    let mut taken: BTreeSet<&str> = BTreeSet::new();
    let mut waves = Vec::new();
    for w in &waves_cfg {
        // Selectors must name things that exist: a typo must not silently select nothing.
        for id in &w.accounts {
            if skipped.contains(id.as_str()) {
                return Err(err(w, format!("account {id} is suspended or closing")));
            }
            if inventory.account(id).is_none() {
                let hint = crate::suggest::did_you_mean(id, inventory.accounts.iter().map(|a| a.id.as_str())) + &crate::config::point_at_value(config_path, w.line, id);
                return Err(err(w, format!("account {id} is not an active account of organization {}{hint}", inventory.organization.id)));
            }
        }
        for ou in &w.ous {
            if !inventory.ous.iter().any(|o| &o.path == ou || &o.id == ou) {
                let hint = crate::suggest::did_you_mean(ou, inventory.ous.iter().map(|o| if ou.starts_with("ou-") || ou.starts_with("r-") { o.id.as_str() } else { o.path.as_str() })) + &crate::config::point_at_value(config_path, w.line, ou);
                return Err(err(w, format!("OU {ou} does not exist in organization {}{hint}", inventory.organization.id)));
            }
        }
        let selected: Vec<String> = pool
            .values()
            .filter(|a| !taken.contains(a.id.as_str()))
            .filter(|a| selects(w, a))
            .map(|a| a.id.clone())
            .collect();
        if selected.is_empty() && !w.remaining {
            return Err(err(w, "selects no account (its accounts are excluded, the management account, or taken by earlier waves)".into()));
        }
        taken.extend(selected.iter().filter_map(|id| pool.get_key_value(id.as_str()).map(|(k, _)| *k)));
        let n = selected.len();
        let tolerance = w.failure_tolerance.of(n);
        let mut concurrency = w.max_concurrency.of(n).clamp(1, n.max(1));
        if w.strict {
            // StackSets' STRICT mode: never more in flight than could fail within the tolerance.
            concurrency = concurrency.min(tolerance + 1);
        }
        waves.push(PlannedWave { name: w.name.clone(), accounts: selected, max_concurrency: concurrency, failure_tolerance: tolerance, pause_after: w.pause_after });
    }
    for a in pool.values().filter(|a| !taken.contains(a.id.as_str())) {
        untargeted.push(Untargeted { account: a.id.clone(), name: a.name.clone(), reason: "no wave selects it".into() });
    }
    for s in &inventory.skipped {
        untargeted.push(Untargeted { account: s.account.id.clone(), name: s.account.name.clone(), reason: s.reason.clone() });
    }
    untargeted.sort_by(|a, b| a.account.cmp(&b.account));
    Ok(Plan { waves, untargeted })
}

/// The accounts the central steps act in, checked against the live organization like wave
/// accounts: a log archive (or delegated administrator) outside the organization, suspended or
/// closing, must not get a bucket and a key; a `management_account` must be the organization's.
pub fn check_accounts(config: &Config, inventory: &Inventory, config_path: &Path) -> Result<(), PlanError> {
    let org = &inventory.organization;
    let status = |id: &str| -> Option<String> {
        if inventory.account(id).is_some() {
            None
        } else if let Some(s) = inventory.skipped.iter().find(|s| s.account.id == id) {
            Some(format!("is not an active account of organization {}: {}", org.id, s.reason))
        } else {
            Some(format!("is not an account of organization {}", org.id))
        }
    };
    let mut problems: Vec<(&'static str, &str, String)> = Vec::new();
    if let Some(m) = status(&config.log_archive.account) {
        problems.push(("log_archive.account", &config.log_archive.account, format!("{m}; the log-archive account must be an active member")));
    }
    if let Some(id) = &config.organization.management_account {
        if id != &org.management_account {
            problems.push(("management_account", id, format!("is not the management account of organization {} (that is {})", org.id, org.management_account)));
        }
    }
    if let Some(id) = &config.organization.delegated_admin_account {
        if let Some(m) = status(id) {
            problems.push(("delegated_admin_account", id, format!("{m}; a CloudTrail delegated administrator must be an active member")));
        } else if id == &org.management_account {
            problems.push(("delegated_admin_account", id, "is the management account; a delegated administrator is a member account".into()));
        }
    }
    let Some((key, account, message)) = problems.into_iter().next() else { return Ok(()) };
    Err(locate(config_path, key, account, message))
}

/// The error at the config line of `key`. Only on this error path is the file read again: the
/// resolved `Config` keeps no spans, the raw TOML does.
fn locate(config_path: &Path, key: &'static str, account: &str, message: String) -> PlanError {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Spans {
        organization: Org,
        log_archive: LogArchive,
    }
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Org {
        management_account: Option<toml::Spanned<toml::Value>>,
        delegated_admin_account: Option<toml::Spanned<toml::Value>>,
    }
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct LogArchive {
        account: Option<toml::Spanned<toml::Value>>,
    }
    let source = std::fs::read_to_string(config_path).unwrap_or_default();
    let spans: Spans = toml::from_str(&source).unwrap_or_default();
    let span = match key {
        "log_archive.account" => spans.log_archive.account,
        "management_account" => spans.organization.management_account,
        _ => spans.organization.delegated_admin_account,
    }
    .map(|v| v.span());
    let (line, column, snippet) = match crate::config::ConfigError::at(config_path, &source, span, "") {
        crate::config::ConfigError::At(l) if !source.is_empty() => (l.line, l.column, l.snippet),
        _ => (0, 0, String::new()),
    };
    PlanError::Account(Box::new(AccountError { path: config_path.display().to_string(), line, column, key, account: account.to_string(), message, snippet }))
}

fn in_ou(a: &Account, ou: &str) -> bool {
    if ou.starts_with("ou-") || ou.starts_with("r-") {
        a.ou_ids.iter().any(|id| id == ou)
    } else {
        a.ou_path == ou || a.ou_path.starts_with(&format!("{ou}/"))
    }
}

fn selects(w: &Wave, a: &Account) -> bool {
    if w.remaining {
        return true;
    }
    let listed = w.accounts.contains(&a.id) || w.ous.iter().any(|ou| in_ou(a, ou));
    let by_list = w.accounts.is_empty() && w.ous.is_empty() || listed;
    let by_tags = w.tags.iter().all(|(k, v)| a.tags.get(k) == Some(v));
    by_list && by_tags
}

#[cfg(test)]
mod tests;
