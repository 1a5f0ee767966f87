//! Saved plans (`plan --out FILE`, `apply --plan FILE`), as Terraform users know them: a versioned
//! JSON document of what `plan` observed — every step's target and resources, each with the change
//! `apply` would make (or "no change"), the waves and their accounts, the organization, and the
//! config's fingerprint. `apply --plan` observes again first and compares: the same config and the
//! same observation mean its writes are exactly the planned changes (every step converges its
//! resource to the config, and it was seen to differ exactly as planned); anything that moved is
//! named and nothing is written.
mod check;
mod compare;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::discovery::OrganizationInfo;
use crate::plan::observe::StepPlan;
use crate::plan::PlannedWave;

pub use check::{recheck, CheckError, Checked};
pub use compare::{compare, Moved};

/// The document's `format` field: a saved plan, not some other JSON.
pub const FORMAT: &str = "orgtrail-plan";
/// Its `version`: bumped when a field changes meaning; an `apply` reads only its own version.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedPlan {
    pub format: String,
    pub version: u32,
    /// The orgtrail that wrote it (informational: `version` decides what is readable).
    pub orgtrail_version: String,
    pub created_unix_ms: u64,
    pub config: ConfigRef,
    pub organization: OrganizationInfo,
    /// The account whose credentials observed (the management account or a delegated administrator).
    pub caller_account: String,
    /// The member waves with their accounts, as `plan` assigned them.
    pub waves: Vec<PlannedWave>,
    /// Whether the member steps of every target were observed (`plan --members`, once the trail
    /// exists). Without them `apply --plan` converges the central steps only.
    pub members_observed: bool,
    /// Every observed step, in `apply`'s order, each resource with its planned change.
    pub steps: Vec<StepPlan>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigRef {
    pub path: String,
    /// `config::fingerprint` of the resolved config.
    pub fingerprint: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    #[error("reading the saved plan {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("writing the saved plan {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{}: not an orgtrail saved plan ({message})", path.display())]
    NotAPlan { path: PathBuf, message: String },
    #[error("{}: saved plan version {found}; this orgtrail reads version {VERSION} (make the plan again with this orgtrail)", path.display())]
    Version { path: PathBuf, found: u32 },
    #[error("{}: the plan has {errors} step(s) in error; apply cannot write it as planned", path.display())]
    HasErrors { path: PathBuf, errors: usize },
    /// The config is not the one the plan was made with: nothing is written.
    #[error("the config changed since the plan {} was made ({config}: fingerprint {now}, planned with {planned}); nothing written", path.display())]
    ConfigChanged { path: PathBuf, config: String, planned: String, now: String },
    /// What the live organization shows now is not what the plan observed: nothing is written.
    #[error("the live state moved since the plan {} was made; nothing written. What moved:\n{}", path.display(), moved.iter().map(|m| format!("  {m}")).collect::<Vec<_>>().join("\n"))]
    Moved { path: PathBuf, moved: Vec<Moved> },
}

impl crate::exit::Classify for SavedPlanError {
    fn exit_class(&self) -> crate::exit::ExitClass {
        use crate::exit::ExitClass;
        match self {
            SavedPlanError::Write { .. } => ExitClass::Environment,
            SavedPlanError::Read { .. } | SavedPlanError::NotAPlan { .. } | SavedPlanError::Version { .. } | SavedPlanError::HasErrors { .. } => ExitClass::BadInput,
            // A refusal, as a step refusing: exit 1.
            SavedPlanError::ConfigChanged { .. } | SavedPlanError::Moved { .. } => ExitClass::StepFailed,
        }
    }
}

impl SavedPlan {
    pub fn new(config: ConfigRef, organization: OrganizationInfo, caller_account: String, waves: Vec<PlannedWave>, members_observed: bool, steps: Vec<StepPlan>) -> SavedPlan {
        SavedPlan {
            format: FORMAT.into(),
            version: VERSION,
            orgtrail_version: env!("CARGO_PKG_VERSION").into(),
            created_unix_ms: orgtrail_state::now_millis(),
            config,
            organization,
            caller_account,
            waves,
            members_observed,
            steps,
        }
    }

    /// Whether `apply` would write anything: `plan --detailed-exitcode` exits 2 then. The
    /// delegated-administrator registration is `orgtrail delegate`'s, not `apply`'s.
    pub fn has_changes(&self) -> bool {
        self.steps.iter().filter(|s| s.step != orgtrail_state::StepId::DelegatedAdmin).any(StepPlan::has_changes)
    }

    pub fn errors(&self) -> usize {
        self.steps.iter().filter(|s| s.error.is_some()).count()
    }

    /// The targeted member accounts, in wave order.
    pub fn targets(&self) -> Vec<String> {
        self.waves.iter().flat_map(|w| w.accounts.iter().cloned()).collect()
    }

    /// Written whole to a temporary file next to `path`, then renamed: never half a plan.
    pub fn write(&self, path: &Path) -> Result<(), SavedPlanError> {
        let json = serde_json::to_string_pretty(self).expect("a saved plan serializes") + "\n";
        let tmp = path.with_extension("tmp-orgtrail-plan");
        let err = |source| SavedPlanError::Write { path: path.to_path_buf(), source };
        std::fs::write(&tmp, json).map_err(err)?;
        std::fs::rename(&tmp, path).map_err(err)
    }

    pub fn read(path: &Path) -> Result<SavedPlan, SavedPlanError> {
        let text = std::fs::read_to_string(path).map_err(|source| SavedPlanError::Read { path: path.to_path_buf(), source })?;
        let not_a_plan = |message: String| SavedPlanError::NotAPlan { path: path.to_path_buf(), message };
        // The header first: a plan of another version gets a version message, not a field error.
        #[derive(Deserialize)]
        struct Header {
            format: Option<String>,
            version: Option<u32>,
        }
        let header: Header = serde_json::from_str(&text).map_err(|e| not_a_plan(format!("line {}: {e}", e.line())))?;
        if header.format.as_deref() != Some(FORMAT) {
            return Err(not_a_plan(format!("its `format` is {:?}, not \"{FORMAT}\"", header.format.unwrap_or_default())));
        }
        match header.version {
            Some(VERSION) => {}
            found => return Err(SavedPlanError::Version { path: path.to_path_buf(), found: found.unwrap_or(0) }),
        }
        let plan: SavedPlan = serde_json::from_str(&text).map_err(|e| not_a_plan(format!("line {}: {e}", e.line())))?;
        if plan.errors() > 0 {
            return Err(SavedPlanError::HasErrors { path: path.to_path_buf(), errors: plan.errors() });
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests;
