//! Steps: one module per resource, each `observe → diff → converge` and idempotent. With
//! `ctx.apply == false` a step only reads and reports what it would change (the `plan` path).
//! A step owns its resource: nothing else calls that resource's write APIs.
use aws_config::SdkConfig;
use serde::Serialize;

use crate::aws::{Aws, CallerIdentity};
use crate::config::Config;
use crate::discovery::OrganizationInfo;

/// Everything a step may use. Steps read live state themselves (e.g. the key ARN through its
/// alias) rather than receiving it from an earlier step, so each one can run alone on resume.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub aws: &'a Aws,
    pub config: &'a Config,
    pub org: &'a OrganizationInfo,
    /// Who the base credentials are (the management account or a delegated administrator).
    pub caller: &'a CallerIdentity,
    /// Targeted member accounts of the run (account-trail mode scopes the bucket policy to them).
    pub targets: &'a [String],
    /// false: read and diff only, never write.
    pub apply: bool,
}

impl Ctx<'_> {
    /// SDK config acting in `account`: the base credentials when they already belong to it, else the role.
    pub fn session(&self, account: &str) -> SdkConfig {
        if account == self.caller.account {
            self.aws.base().clone()
        } else {
            self.aws.session(account)
        }
    }

    pub fn partition(&self) -> &str {
        &self.config.organization.partition
    }

    pub fn home_region(&self) -> &str {
        &self.config.organization.home_region
    }

    /// The account that owns the organization trail.
    pub fn management_account(&self) -> &str {
        &self.org.management_account
    }

    pub fn trail_arn(&self) -> String {
        crate::aws::Arn::new(self.partition(), "cloudtrail", self.home_region(), self.management_account(), &format!("trail/{}", self.config.trail.name)).to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    Create,
    /// The fields (or policy statements) that differ from the desired state.
    Update { fields: Vec<String> },
    NoChange,
    /// The resource is (or, in a plan, would be) deleted: a member's legacy trail with `legacy_trails = "delete"`.
    Delete,
    /// Cannot be done by orgtrail's credentials; the exact command an operator must run.
    ManualAction { instructions: String },
}

/// One resource's difference between live and desired state (and, when applied, what was done).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// e.g. `kms-key alias/orgtrail`, `s3-bucket orgtrail-logs-222222222222`
    pub resource: String,
    #[serde(flatten)]
    pub action: Action,
}

impl Change {
    pub fn new(resource: impl Into<String>, action: Action) -> Self {
        Change { resource: resource.into(), action }
    }

    pub fn no_change(resource: impl Into<String>) -> Self {
        Self::new(resource, Action::NoChange)
    }

    /// `Update` with these fields, or `NoChange` when none differ.
    pub fn update(resource: impl Into<String>, fields: Vec<String>) -> Self {
        Self::new(resource, if fields.is_empty() { Action::NoChange } else { Action::Update { fields } })
    }

    pub fn is_change(&self) -> bool {
        !matches!(self.action, Action::NoChange)
    }
}

/// What a step reports: its changes (planned, or made when applying).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub changes: Vec<Change>,
}

impl Outcome {
    pub fn push(&mut self, change: Change) {
        self.changes.push(change);
    }

    /// The instructions when a change needs an operator (MFA Delete with the root user).
    pub fn manual_instructions(&self) -> Option<String> {
        let all: Vec<&str> = self.changes.iter().filter_map(|c| match &c.action {
            Action::ManualAction { instructions } => Some(instructions.as_str()),
            _ => None,
        }).collect();
        (!all.is_empty()).then(|| all.join("\n"))
    }

    pub fn summary(&self) -> String {
        let changed: Vec<String> = self.changes.iter().filter(|c| c.is_change()).map(|c| match &c.action {
            Action::Create => format!("created {}", c.resource),
            Action::Update { fields } => format!("updated {} ({})", c.resource, fields.join(", ")),
            Action::Delete => format!("deleted {}", c.resource),
            Action::ManualAction { .. } => format!("{} needs manual action", c.resource),
            Action::NoChange => unreachable!(),
        }).collect();
        if changed.is_empty() { "no change".into() } else { changed.join("; ") }
    }
}

pub type StepResult = Result<Outcome, StepError>;

mod error;

pub use error::{absent, StepError};

pub mod account_trail;
pub mod bucket;
pub mod delivery_check;
pub mod detection;
pub mod kms_key;
pub mod log_bucket;
pub mod member_checks;
pub mod mfa_delete;
pub mod org_trail;
pub mod support;
pub mod trail;
pub mod trusted_access;
