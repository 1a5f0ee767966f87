//! `PREFIX/state.db`: a consistent snapshot of the working copy (`Store::snapshot_to`). Pulled
//! with its ETag; pushed with `If-Match` on that ETag (or `If-None-Match: *` when there was no
//! state), so a push never overwrites a state it did not read: a 412 is a lost race, reported,
//! never merged. The ETag read is kept next to the working copy (`remote.json`), for
//! `orgtrail state push` after a `state pull`.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use orgtrail_state::{StepStatus, Store};
use serde::{Deserialize, Serialize};
use tokio::sync::{watch, Notify};

use super::lock::{unexpected, Lease};
use super::{s3_failure, Remote, RemoteStateError, S3Failure};
use crate::aws::AwsError;
use crate::executor::{AccountOutcome, Cancel, Sink, WaveResult};
use crate::plan::PlannedWave;

/// Metadata naming the write that produced an object: a retried PUT recognises its own.
const WRITER_META: &str = "orgtrail-writer";
const REMOTE_FILE: &str = "remote.json";

/// Which remote object the working copy came from (kept in the working directory).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Origin {
    url: String,
    etag: Option<String>,
}

/// What a pull found.
#[derive(Debug, Clone, Serialize)]
pub struct Pulled {
    pub etag: Option<String>,
    pub bytes: u64,
}

/// The remote object's metadata, for `state show`.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectInfo {
    pub etag: String,
    pub size: i64,
    pub last_modified: Option<String>,
    pub version_id: Option<String>,
}

pub struct RemoteState {
    remote: Remote,
    dir: PathBuf,
    /// The ETag of the remote snapshot this working copy was read at (or last pushed).
    etag: tokio::sync::Mutex<Option<String>>,
    writer: String,
    pushes: AtomicU64,
}

impl RemoteState {
    /// Replaces the working copy in `dir` by the remote snapshot. With no remote snapshot, a
    /// working copy is emptied when `dir` is orgtrail's own cache, and refused otherwise (it may
    /// be local state the operator means to upload with `state push`). No store of `dir` may be open.
    pub async fn pull(remote: &Remote, dir: &Path, dir_is_cache: bool) -> Result<(RemoteState, Pulled), RemoteStateError> {
        let key = remote.url.state_key();
        std::fs::create_dir_all(dir).map_err(|source| RemoteStateError::Io { path: dir.to_path_buf(), source })?;
        let pulled = match remote.s3.get_object().bucket(&remote.url.bucket).key(&key).send().await {
            Ok(out) => {
                let etag = out.e_tag.clone();
                let body = out.body.collect().await.map_err(|e| remote.aws_error(&key, AwsError { operation: "S3.GetObject".into(), code: None, message: e.to_string() }))?;
                let bytes = body.into_bytes();
                let staged = dir.join("pulled.db");
                std::fs::write(&staged, &bytes).map_err(|source| RemoteStateError::Io { path: staged.clone(), source })?;
                let restored = Store::restore_from(&staged, dir);
                let _ = std::fs::remove_file(&staged);
                restored?;
                Pulled { etag, bytes: bytes.len() as u64 }
            }
            Err(e) => match s3_failure("S3.GetObject", e) {
                S3Failure::NoSuchKey | S3Failure::NoSuchBucket => {
                    if dir.join("state.db").exists() {
                        if !dir_is_cache {
                            return Err(RemoteStateError::UnpushedLocalState { dir: dir.to_path_buf(), url: remote.url.to_string() });
                        }
                        for f in ["state.db", "state.db-wal", "state.db-shm"] {
                            let _ = std::fs::remove_file(dir.join(f));
                        }
                    }
                    Pulled { etag: None, bytes: 0 }
                }
                S3Failure::Other(e) => return Err(remote.aws_error(&key, e)),
                other => return Err(remote.aws_error(&key, unexpected("S3.GetObject", other))),
            },
        };
        let state = RemoteState::at(remote, dir, pulled.etag.clone());
        state.remember(pulled.etag.clone())?;
        Ok((state, pulled))
    }

    /// The working copy in `dir` as last pulled or pushed (`state push`): `None` for the ETag when
    /// it never came from this remote, so the push creates the remote state or loses the race.
    pub fn from_working_copy(remote: &Remote, dir: &Path) -> RemoteState {
        let origin: Option<Origin> = std::fs::read(dir.join(REMOTE_FILE)).ok().and_then(|b| serde_json::from_slice(&b).ok());
        let etag = origin.filter(|o| o.url == remote.url.to_string()).and_then(|o| o.etag);
        RemoteState::at(remote, dir, etag)
    }

    fn at(remote: &Remote, dir: &Path, etag: Option<String>) -> RemoteState {
        let writer = format!("{}-{}", std::process::id(), orgtrail_state::now_millis());
        RemoteState { remote: remote.clone(), dir: dir.to_path_buf(), etag: tokio::sync::Mutex::new(etag), writer, pushes: AtomicU64::new(0) }
    }

    fn remember(&self, etag: Option<String>) -> Result<(), RemoteStateError> {
        let path = self.dir.join(REMOTE_FILE);
        let json = serde_json::to_vec_pretty(&Origin { url: self.remote.url.to_string(), etag }).expect("origin serializes");
        std::fs::write(&path, json).map_err(|source| RemoteStateError::Io { path, source })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Uploads a snapshot of `store`. With a lease, only while it is held.
    pub async fn push(&self, store: &Store, lease: Option<&Lease>) -> Result<String, RemoteStateError> {
        let mut etag = self.etag.lock().await;
        if let Some(lease) = lease {
            lease.ensure_held().await?;
        }
        let key = self.remote.url.state_key();
        let snapshot = self.dir.join("push.db");
        tokio::task::block_in_place(|| store.snapshot_to(&snapshot))?;
        let body = std::fs::read(&snapshot).map_err(|source| RemoteStateError::Io { path: snapshot.clone(), source })?;
        let _ = std::fs::remove_file(&snapshot);
        let writer = format!("{}-{}", self.writer, self.pushes.fetch_add(1, Ordering::SeqCst));
        let mut put = self.remote.s3.put_object().bucket(&self.remote.url.bucket).key(&key).metadata(WRITER_META, &writer).content_type("application/vnd.sqlite3");
        put = match etag.as_deref() {
            Some(e) => put.if_match(e),
            None => put.if_none_match("*"),
        };
        let new_etag = match put.body(ByteStream::from(body)).send().await {
            Ok(out) => out.e_tag.unwrap_or_default(),
            Err(e) => match s3_failure("S3.PutObject", e) {
                S3Failure::PreconditionFailed | S3Failure::NoSuchKey | S3Failure::Conflict => {
                    let now = self.head().await?;
                    match now {
                        // A retried PUT of ours: the first attempt went through.
                        Some((info, Some(w))) if w == writer => info.etag,
                        other => {
                            return Err(RemoteStateError::LostRace {
                                bucket: self.remote.url.bucket.clone(),
                                key,
                                expected: etag.clone().unwrap_or_else(|| "none: no state".into()),
                                found: other.map_or_else(|| "deleted".into(), |(i, _)| i.etag),
                            })
                        }
                    }
                }
                S3Failure::Other(e) => return Err(self.remote.aws_error(&key, e)),
                other => return Err(self.remote.aws_error(&key, unexpected("S3.PutObject", other))),
            },
        };
        *etag = Some(new_etag.clone());
        self.remember(Some(new_etag.clone()))?;
        Ok(new_etag)
    }

    async fn head(&self) -> Result<Option<(ObjectInfo, Option<String>)>, RemoteStateError> {
        head(&self.remote).await
    }
}

/// The remote snapshot's metadata and writer, `None` when there is none.
pub async fn head(remote: &Remote) -> Result<Option<(ObjectInfo, Option<String>)>, RemoteStateError> {
    let key = remote.url.state_key();
    match remote.s3.head_object().bucket(&remote.url.bucket).key(&key).send().await {
        Ok(out) => {
            let writer = out.metadata().and_then(|m| m.get(WRITER_META)).cloned();
            let info = ObjectInfo {
                etag: out.e_tag.clone().unwrap_or_default(),
                size: out.content_length.unwrap_or_default(),
                last_modified: out.last_modified.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()),
                version_id: out.version_id.clone(),
            };
            Ok(Some((info, writer)))
        }
        Err(e) => match s3_failure("S3.HeadObject", e) {
            S3Failure::NoSuchKey | S3Failure::NoSuchBucket => Ok(None),
            S3Failure::Other(e) => Err(remote.aws_error(&key, e)),
            other => Err(remote.aws_error(&key, unexpected("S3.HeadObject", other))),
        },
    }
}

/// Pushes during a run: every `every`, and at once when woken (a wave boundary, Ctrl-C). A lost
/// lock or lost race cancels the run and ends the pushes; other failures are retried next time.
pub struct Checkpoints {
    wake: Arc<Notify>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), RemoteStateError>>,
}

impl Checkpoints {
    pub fn spawn(state: Arc<RemoteState>, store: Arc<Store>, lease: Arc<Lease>, every: Duration, cancel: Cancel) -> Checkpoints {
        let wake = Arc::new(Notify::new());
        let (stop, mut stopped) = watch::channel(false);
        let woken = Arc::clone(&wake);
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = woken.notified() => {}
                    _ = stopped.changed() => return Ok(()),
                }
                match state.push(&store, Some(&lease)).await {
                    Ok(etag) => tracing::debug!("checkpoint pushed (ETag {etag})"),
                    Err(e @ (RemoteStateError::LockLost { .. } | RemoteStateError::LostRace { .. })) => {
                        cancel.cancel();
                        return Err(e);
                    }
                    Err(e) => tracing::warn!("checkpoint failed, retrying at the next one: {e}"),
                }
            }
        });
        Checkpoints { wake, stop, task }
    }

    pub fn waker(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// Stops the pushes after the one in flight, if any; its lost-lock or lost-race error, if it had one.
    pub async fn stop(self) -> Result<(), RemoteStateError> {
        let _ = self.stop.send(true);
        self.task.await.unwrap_or(Ok(()))
    }
}

/// Passes progress on, and asks for a checkpoint at every wave boundary.
pub struct CheckpointSink<'a> {
    pub inner: &'a dyn Sink,
    pub wake: Arc<Notify>,
}

impl Sink for CheckpointSink<'_> {
    fn wave_started(&self, wave: &PlannedWave, already_done: usize) {
        self.inner.wave_started(wave, already_done);
    }
    fn account_started(&self, wave: &str, account: &str) {
        self.inner.account_started(wave, account);
    }
    fn account_finished(&self, wave: &str, account: &str, outcome: &AccountOutcome) {
        self.inner.account_finished(wave, account, outcome);
    }
    fn wave_finished(&self, wave: &str, result: &WaveResult) {
        self.inner.wave_finished(wave, result);
        self.wake.notify_one();
    }
    fn step_finished(&self, target: &str, step: &str, status: &StepStatus) {
        self.inner.step_finished(target, step, status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::progress::Progress;

    /// The progress bar counts accounts in flight from start/finish pairs: a checkpoint sink that
    /// dropped `account_started` made the count wrap below zero (18446744073709551615 in flight).
    #[test]
    fn checkpoint_sink_forwards_account_starts_to_the_progress_count() {
        let progress = Progress::new(false);
        let sink = CheckpointSink { inner: &progress, wake: Arc::new(Notify::new()) };
        let wave = PlannedWave { name: "canary".into(), accounts: vec!["111111111111".into(), "222222222222".into()], max_concurrency: 2, failure_tolerance: 0, pause_after: false };
        sink.wave_started(&wave, 0);
        sink.account_started("canary", "111111111111");
        sink.account_started("canary", "222222222222");
        assert_eq!(progress.in_flight(), 2);
        sink.account_finished("canary", "111111111111", &AccountOutcome::Done);
        sink.account_finished("canary", "222222222222", &AccountOutcome::Failed { step: "assume-role".into(), reason: "denied".into(), code: None });
        assert_eq!(progress.in_flight(), 0);
    }
}
