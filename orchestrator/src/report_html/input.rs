//! What the report is built from, read back from JSON: verify's (`orgtrail verify --json`) and
//! validate-logs' (`orgtrail validate-logs --json`), and the rollout runs of the state. Owned and
//! lenient (unknown fields ignored, missing ones defaulted), so a report can be rendered from files
//! written by another orgtrail version, and a control this version does not know still shows.
use serde::Deserialize;

use crate::verify::{AuditContext, AuditedAccount};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct VerifyDoc {
    pub organization: String,
    pub management_account: String,
    pub accounts_checked: usize,
    pub findings: Vec<FindingDoc>,
    #[serde(flatten)]
    pub context: AuditContext,
    pub accounts: Vec<AuditedAccount>,
}

#[derive(Debug, Clone, Default, serde::Serialize, Deserialize)]
#[serde(default)]
pub struct FindingDoc {
    pub control: String,
    pub title: String,
    pub account: String,
    pub resource: String,
    /// PASS, FAIL, ERROR, MANUAL, NOT-APPLICABLE.
    pub status: String,
    pub evidence: String,
}

impl FindingDoc {
    pub fn is_failing(&self) -> bool {
        self.status == "FAIL" || self.status == "ERROR"
    }
}

/// validate-logs' verdicts per account × region (docs/operations.md, "The report's inputs").
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ValidateDoc {
    pub window: Window,
    pub pairs: Vec<PairDoc>,
}

#[derive(Debug, Clone, Default, serde::Serialize, Deserialize)]
#[serde(default)]
pub struct Window {
    pub start: String,
    pub end: String,
}

#[derive(Debug, Clone, Default, serde::Serialize, Deserialize)]
#[serde(default)]
pub struct PairDoc {
    pub account: String,
    pub region: String,
    /// `delivered`, `stale` or `missing`.
    pub delivery: String,
    pub newest_digest: Option<String>,
    pub digests: Counted,
    pub log_files: Counted,
    /// Chain findings: `gap`, `stopped` (empty when the chain is whole).
    pub chain: Vec<String>,
    /// Every verdict that is not `valid`, with the object key it is about.
    pub verdicts: Vec<VerdictDoc>,
}

#[derive(Debug, Clone, Copy, Default, serde::Serialize, Deserialize)]
#[serde(default)]
pub struct Counted {
    pub checked: usize,
    pub valid: usize,
}

#[derive(Debug, Clone, Default, serde::Serialize, Deserialize)]
#[serde(default)]
pub struct VerdictDoc {
    pub verdict: String,
    pub key: String,
}

impl PairDoc {
    /// Delivered, every digest and log file valid, and no gap: `stopped` is logging that was off
    /// (the trail's own evidence), shown but not a failure of integrity.
    pub fn is_clean(&self) -> bool {
        self.delivery == "delivered" && self.verdicts.is_empty() && self.digests.valid == self.digests.checked && self.log_files.valid == self.log_files.checked && !self.chain.iter().any(|c| c == "gap")
    }
}

/// One rollout run of the state, as `orgtrail status --json` lists it.
#[derive(Debug, Clone, Default, serde::Serialize, Deserialize)]
#[serde(default)]
pub struct RunDoc {
    pub id: String,
    pub started_at: String,
    pub updated_at: String,
    pub open: bool,
    pub why: String,
    pub targets: usize,
    pub done: usize,
    pub failed: usize,
    pub needs_manual_action: usize,
}
