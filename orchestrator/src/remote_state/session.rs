//! One `apply` against remote state: take the lock, pull into the working copy, keep the lease
//! renewed, push checkpoints, and at the end push, release, and report a lost lock or race.
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use orgtrail_state::{LockHolder, Store};
use tokio::sync::Notify;

use super::lock::Replaced;
use super::sync::{Checkpoints, Pulled};
use super::{Lease, LeaseSettings, Notes, Remote, RemoteState, RemoteStateError};
use crate::executor::Cancel;

pub struct RemoteSession {
    pub remote: Remote,
    pub state: Arc<RemoteState>,
    pub lease: Arc<Lease>,
    pub store: Arc<Store>,
    pub pulled: Pulled,
    /// The holder this session replaced (expired lease or `--force-unlock`), if any.
    pub replaced: Option<Replaced>,
    renewals: tokio::task::JoinHandle<()>,
    checkpoints: Option<Checkpoints>,
}

impl RemoteSession {
    /// Lock, then pull into `dir` (orgtrail's cache for this URL when `dir_is_cache`). A lost lock
    /// cancels `cancel`: the executor then starts no new account.
    /// What the operator should know at once (a created bucket, a lost lock) goes to `notes`.
    #[allow(clippy::too_many_arguments)]
    pub async fn open(remote: Remote, dir: &Path, dir_is_cache: bool, holder: LockHolder, settings: LeaseSettings, force: bool, cancel: &Cancel, notes: Notes) -> Result<RemoteSession, RemoteStateError> {
        let (lease, replaced) = Lease::acquire(&remote, holder, settings, force, &notes).await?;
        let opened = async {
            let (state, pulled) = RemoteState::pull(&remote, dir, dir_is_cache).await?;
            Ok::<_, RemoteStateError>((state, pulled, Store::open(dir)?))
        }
        .await;
        let (state, pulled, store) = match opened {
            Ok(x) => x,
            Err(e) => {
                let _ = lease.release().await;
                return Err(e);
            }
        };
        let renewals = lease.spawn_renewals(cancel.clone(), notes);
        Ok(RemoteSession { remote, state: Arc::new(state), lease, store: Arc::new(store), pulled, replaced, renewals, checkpoints: None })
    }

    /// Pushes every `every` and whenever the returned notifier is woken (wave boundaries, Ctrl-C).
    pub fn start_checkpoints(&mut self, every: Duration, cancel: &Cancel) -> Arc<Notify> {
        let c = Checkpoints::spawn(Arc::clone(&self.state), Arc::clone(&self.store), Arc::clone(&self.lease), every, cancel.clone());
        let wake = c.waker();
        self.checkpoints = Some(c);
        wake
    }

    /// What a forced exit (second Ctrl-C) runs before it exits: a last push and the release.
    pub fn last_words(&self) -> LastWords {
        LastWords { state: Arc::clone(&self.state), store: Arc::clone(&self.store), lease: Arc::clone(&self.lease) }
    }

    /// Ends the session: stops the checkpoints, pushes the final state (when checkpoints ran, i.e.
    /// the rollout started, and unless the lock was lost) and releases the lock. The first
    /// lost-lock or lost-race error is returned after cleanup; `None` when nothing was pushed.
    pub async fn close(mut self) -> Result<Option<String>, RemoteStateError> {
        let (ran, checkpoint) = match self.checkpoints.take() {
            Some(c) => (true, c.stop().await),
            None => (false, Ok(())),
        };
        let result = match (checkpoint, self.lease.lost()) {
            (_, Some(lost)) => Err(lost),
            (Err(e), None) => Err(e),
            (Ok(()), None) if ran => self.state.push(&self.store, Some(&self.lease)).await.map(Some),
            (Ok(()), None) => Ok(None),
        };
        let released = if self.lease.lost().is_some() { Ok(()) } else { self.lease.release().await };
        self.renewals.abort();
        let etag = result?;
        released?;
        Ok(etag)
    }
}

#[derive(Clone)]
pub struct LastWords {
    state: Arc<RemoteState>,
    store: Arc<Store>,
    lease: Arc<Lease>,
}

impl LastWords {
    pub async fn say(&self) -> Result<(), RemoteStateError> {
        self.state.push(&self.store, Some(&self.lease)).await?;
        self.lease.release().await
    }
}
