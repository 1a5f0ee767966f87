//! Shared rollout state in S3 (`--state s3://BUCKET/PREFIX`), for teams and CI runners.
//!
//! The local SQLite store stays the working copy: the executor records into it exactly as with
//! local state. This module adds what makes a remote copy safe to share:
//! - `lock`: one writer at a time, through S3 conditional writes on `PREFIX/lock.json`
//!   (`If-None-Match: *` to take it, `If-Match` to renew the lease), no extra service.
//! - `sync`: `PREFIX/state.db` holds a snapshot, pulled at start and pushed with `If-Match` on the
//!   ETag it was read at, so a holder that lost the lock can never overwrite newer state.
//! - `bucket`: the state bucket, created hardened on first use.
//! - `session`: the three together for one `apply`: lock, pull, checkpoints, final push, release.
pub mod bucket;
pub mod lock;
pub mod session;
pub mod sync;
pub mod url;

use std::path::PathBuf;
use std::time::Duration;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use crate::aws::{Aws, AwsError};
pub use lock::{Lease, LeaseSettings, RemoteHolder};
pub use session::RemoteSession;
pub use sync::{CheckpointSink, RemoteState};
pub use url::StateUrl;

#[derive(Debug, thiserror::Error)]
pub enum RemoteStateError {
    #[error("`{url}` is not a state URL: {reason}")]
    BadUrl { url: String, reason: String },
    // The command layer adds what to run about it (here: `--force-unlock`, `state pull`, `state push`).
    #[error("state s3://{bucket}/{key} is locked by {holder} — another orgtrail is running on it")]
    Locked { bucket: String, key: String, holder: Box<RemoteHolder> },
    #[error(
        "lost the state lock s3://{bucket}/{key}: {detail}. This orgtrail stopped starting accounts and wrote nothing more \
         to the remote state; the next `apply` redoes what it did since its last checkpoint (every step is idempotent)"
    )]
    LockLost { bucket: String, key: String, detail: String },
    #[error(
        "lost race on s3://{bucket}/{key}: it changed since this orgtrail read it (ETag {expected}, now {found}), so another \
         orgtrail wrote newer state; nothing was overwritten or merged"
    )]
    LostRace { bucket: String, key: String, expected: String, found: String },
    #[error("s3://{bucket}/{key}: {source}")]
    Aws { bucket: String, key: String, source: AwsError },
    #[error("{} holds a local state but {url} has none yet", dir.display())]
    UnpushedLocalState { dir: PathBuf, url: String },
    #[error("{url} has no state yet")]
    NoRemoteState { url: String },
    #[error(transparent)]
    State(#[from] orgtrail_state::StateError),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

impl crate::exit::Classify for RemoteStateError {
    fn exit_class(&self) -> crate::exit::ExitClass {
        use crate::exit::ExitClass;
        match self {
            RemoteStateError::BadUrl { .. } | RemoteStateError::UnpushedLocalState { .. } | RemoteStateError::NoRemoteState { .. } => ExitClass::BadInput,
            RemoteStateError::Locked { .. } | RemoteStateError::LockLost { .. } | RemoteStateError::LostRace { .. } => ExitClass::Conflict,
            RemoteStateError::Aws { .. } | RemoteStateError::Io { .. } => ExitClass::Environment,
            RemoteStateError::State(e) => crate::exit::Classify::exit_class(e),
        }
    }
}

/// The S3 client and URL of one remote state. State traffic uses the base credentials (the
/// management account, or whoever runs orgtrail) and is kept out of the rollout's call metrics,
/// which count the changes orgtrail makes to the organization.
#[derive(Clone)]
pub struct Remote {
    pub s3: aws_sdk_s3::Client,
    pub url: StateUrl,
    /// Where a bucket orgtrail creates goes.
    pub region: String,
    /// A plain-HTTP endpoint (an emulator): a TLS-only bucket policy would refuse orgtrail itself.
    pub plain_http: bool,
}

impl Remote {
    pub fn new(aws: &Aws, url: StateUrl) -> Remote {
        let base = aws.base();
        Remote {
            s3: aws.state_s3(),
            url,
            region: aws.region(),
            plain_http: base.endpoint_url().is_some_and(|e| e.starts_with("http://")),
        }
    }

    pub(crate) fn aws_error(&self, key: &str, source: AwsError) -> RemoteStateError {
        RemoteStateError::Aws { bucket: self.url.bucket.clone(), key: key.to_string(), source }
    }
}

/// How an S3 call failed, in the terms the lock and sync logic decide on.
#[derive(Debug)]
pub(crate) enum S3Failure {
    /// 412: an `If-Match` / `If-None-Match` condition did not hold.
    PreconditionFailed,
    /// 409 ConditionalRequestConflict: a concurrent conditional write; retry.
    Conflict,
    NoSuchKey,
    NoSuchBucket,
    Other(AwsError),
}

pub(crate) fn s3_failure<E>(operation: &str, err: SdkError<E, HttpResponse>) -> S3Failure
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let e = AwsError::from_sdk(operation, &err);
    match (status, e.code.as_deref()) {
        (_, Some("NoSuchBucket")) => S3Failure::NoSuchBucket,
        (_, Some("NoSuchKey")) => S3Failure::NoSuchKey,
        (Some(412), _) | (_, Some("PreconditionFailed")) => S3Failure::PreconditionFailed,
        (Some(409), Some("ConditionalRequestConflict")) => S3Failure::Conflict,
        // HeadObject has no body, so no code: a bare 404 is a missing key.
        (Some(404), None) => S3Failure::NoSuchKey,
        _ => S3Failure::Other(e),
    }
}

/// Where the remote-state code reports what an operator should know at once (a state bucket it
/// created, a lock it lost): the command decides how to show it.
pub type Notes = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

impl LeaseSettings {
    /// A lock valid for `lease` without renewal, renewed every third of it.
    pub fn new(lease: Duration) -> LeaseSettings {
        LeaseSettings { lease, renew_every: lease / 3 }
    }
}

impl Default for LeaseSettings {
    /// 60 s: long enough to ride out a slow S3 call, short enough that a dead holder's lock ends soon.
    fn default() -> Self {
        LeaseSettings::new(Duration::from_secs(60))
    }
}
