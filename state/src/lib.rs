//! Durable, crash-safe, resumable records of orgtrail rollouts.
//!
//! One SQLite database (WAL mode) per state directory: runs, each open until it finishes (its
//! outcome, a `RunOutcome`, decides), one row per (run, target, step) upserted in O(1), a directory lock naming its holder,
//! and the organization the state belongs to. Nothing here knows about AWS: callers give it
//! strings, and strings that look like credentials are refused before they reach the disk.
mod error;
mod lock;
mod secrets;
mod status;
mod step_id;
mod store;

pub use error::StateError;
pub use lock::{force_unlock, format_millis, read_holder, LockGuard, LockHolder};
pub use secrets::find_secret;
pub use status::{lifecycle, RunOutcome, StepStatus};
pub use step_id::{StepId, UnknownStep};
pub use store::{ChainHead, NewRun, Record, RunSummary, Store, TargetCounts, WaveCounts};

/// Milliseconds since the Unix epoch: the one time format of the state.
pub fn now_millis() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}
