use std::path::PathBuf;

use crate::lock::LockHolder;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(
        "state {path} is locked by {holder} — another orgtrail is running on it. If that process is gone, \
         run `orgtrail apply --force-unlock` (it names the holder it removes)"
    )]
    Locked { path: PathBuf, holder: LockHolder },
    #[error("state {path} is locked by a process whose holder file is unreadable; if no orgtrail is running, run `orgtrail apply --force-unlock`")]
    LockedUnknown { path: PathBuf },
    #[error(
        "state {path} is corrupt ({detail}); it was left untouched. Restore it from a backup (or `orgtrail state pull`), \
         or move it aside to start a new state"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error("state {path} belongs to organization {state_org}, but the credentials reach organization {live_org}; use another --state-dir")]
    OtherOrganization { path: PathBuf, state_org: String, live_org: String },
    #[error("refusing to store {field}: it contains what looks like a credential ({kind}); nothing was written")]
    SecretRejected { field: String, kind: &'static str },
    #[error("state has no run {0}")]
    NoSuchRun(String),
    #[error("state {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("state {path}: {source}")]
    Sqlite { path: PathBuf, source: rusqlite::Error },
    #[error("state {path}: unreadable record {what}: {detail}")]
    Decode { path: PathBuf, what: String, detail: String },
}
