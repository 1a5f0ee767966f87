//! `verify --to-security-hub` and `verify --format asff`: verify's findings as ASFF, imported into
//! one Security Hub with stable ids (control + account + region), so a re-run updates the same
//! findings, a finding that passes now is archived (Security Hub then resolves its workflow), and
//! so is one of orgtrail's earlier findings that the run no longer produces.
mod import;
mod stale;

pub use crate::verify::render::asff::{self, finding_id, findings, HubTarget};
pub use import::{hub_config, import, FailedFinding, HubError, ImportOutcome, MAX_BATCH};
