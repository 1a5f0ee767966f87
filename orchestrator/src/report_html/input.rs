//! What the report is built from, read back from JSON: verify's (`orgtrail verify --json`) and
//! validate-logs' (`orgtrail validate-logs --format json`), and the rollout runs of the state. Owned and
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

/// validate-logs' JSON (`orgtrail validate-logs --format json`): per account × region the counts, and every
/// verdict that is not `valid` with the object key it is about.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ValidateDoc {
    pub start_time: String,
    pub end_time: String,
    pub digests_only: bool,
    pub pairs: Vec<PairDoc>,
    pub findings: Vec<ValidateFindingDoc>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PairDoc {
    pub account: String,
    pub region: String,
    pub digests_valid: usize,
    pub digests_invalid: usize,
    pub digests_missing: usize,
    pub backfill_digests_valid: usize,
    pub logs_valid: usize,
    pub logs_invalid: usize,
    pub stops: usize,
    pub head: Option<HeadDoc>,
    /// validate-logs' own judgement: nothing failed.
    pub valid: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HeadDoc {
    pub digest_key: String,
    pub end_time: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ValidateFindingDoc {
    pub account: String,
    pub region: String,
    /// `invalid: signature`, `invalid: hash`, `not found`, `gap`, `missing`, `stopped`, ...
    pub verdict: String,
    pub key: String,
    pub detail: String,
}

/// One account × region as the report shows it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PairView {
    pub account: String,
    pub region: String,
    /// `delivered` (digests found in the window) or `missing` (none).
    pub delivery: String,
    pub newest_digest: Option<String>,
    pub digests: Counted,
    pub log_files: Counted,
    /// Chain findings: `gap`, `stopped` (empty when the chain is whole).
    pub chain: Vec<String>,
    pub verdicts: Vec<VerdictView>,
    pub clean: bool,
}

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Counted {
    pub checked: usize,
    pub valid: usize,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct VerdictView {
    pub verdict: String,
    pub key: String,
}

impl ValidateDoc {
    /// Every pair with its own findings (one pass over the findings, for 10,000-account runs).
    pub fn pair_views(&self) -> Vec<PairView> {
        let mut of: std::collections::HashMap<(&str, &str), Vec<&ValidateFindingDoc>> = std::collections::HashMap::new();
        for f in &self.findings {
            of.entry((f.account.as_str(), f.region.as_str())).or_default().push(f);
        }
        self.pairs
            .iter()
            .map(|p| {
                let findings = of.get(&(p.account.as_str(), p.region.as_str())).map(Vec::as_slice).unwrap_or_default();
                let valid = p.digests_valid + p.backfill_digests_valid;
                PairView {
                    account: p.account.clone(),
                    region: p.region.clone(),
                    delivery: if findings.iter().any(|f| f.verdict == "missing") { "missing".into() } else { "delivered".into() },
                    newest_digest: p.head.as_ref().map(|h| h.digest_key.clone()).filter(|k| !k.is_empty()),
                    digests: Counted { checked: valid + p.digests_invalid + p.digests_missing, valid },
                    log_files: Counted { checked: p.logs_valid + p.logs_invalid, valid: p.logs_valid },
                    chain: findings.iter().filter(|f| f.verdict == "gap" || f.verdict == "stopped").map(|f| f.verdict.clone()).collect(),
                    verdicts: findings.iter().map(|f| VerdictView { verdict: f.verdict.clone(), key: f.key.clone() }).collect(),
                    clean: p.valid,
                }
            })
            .collect()
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
