//! The remote lock: `PREFIX/lock.json`, taken with `PutObject If-None-Match: *` and renewed with
//! `If-Match: <the ETag we wrote>`. Its body names the holder and a lease expiry: a holder that
//! dies stops renewing, and once the lease has passed the next `apply` replaces it (also with
//! `If-Match`, so two replacers cannot both win). A renewal that finds another ETag means another
//! orgtrail replaced us: the lock is lost, and nothing more is written.
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use orgtrail_state::{format_millis, now_millis, LockHolder};
use serde::{Deserialize, Serialize};

use super::{s3_failure, Notes, Remote, RemoteStateError, S3Failure};
use crate::executor::Cancel;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseSettings {
    pub lease: Duration,
    pub renew_every: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteHolder {
    #[serde(flatten)]
    pub holder: LockHolder,
    /// The run being applied, once the state is pulled.
    pub run: Option<String>,
    /// Milliseconds since the Unix epoch; after it, another orgtrail may replace this holder.
    pub lease_expires_at: u64,
    /// This acquisition's identity: a retried write recognises its own body by it.
    pub token: String,
}

impl fmt::Display for RemoteHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, run {}, lease until {}", self.holder, self.run.as_deref().unwrap_or("not yet chosen"), format_millis(self.lease_expires_at))?;
        if self.lease_expires_at <= now_millis() {
            write!(f, " (expired)")?;
        }
        Ok(())
    }
}

/// What `acquire` found in place of a free lock.
#[derive(Debug, Clone)]
pub enum Replaced {
    /// Its lease had expired: its process is gone (or cut off for longer than the lease).
    Expired(RemoteHolder),
    /// `--force-unlock` broke it before its lease ended.
    Forced(RemoteHolder),
}

struct Held {
    holder: RemoteHolder,
    etag: String,
}

pub struct Lease {
    remote: Remote,
    settings: LeaseSettings,
    held: Mutex<Held>,
    /// Why the lock was lost, once it was: from then on every write is refused.
    lost: Mutex<Option<String>>,
    released: Mutex<bool>,
    /// One lock write at a time (renewal, run update, release).
    writes: tokio::sync::Mutex<()>,
}

impl Lease {
    /// Takes the lock, replacing an expired holder (or any holder with `force`). A state bucket it
    /// has to create first is reported to `notes`.
    pub async fn acquire(remote: &Remote, holder: LockHolder, settings: LeaseSettings, force: bool, notes: &Notes) -> Result<(Arc<Lease>, Option<Replaced>), RemoteStateError> {
        let key = remote.url.lock_key();
        let token = format!("{}-{}-{}", holder.host, holder.pid, now_millis());
        let mut mine = RemoteHolder { holder, run: None, lease_expires_at: 0, token };
        let mut created_bucket = false;
        for _ in 0..8 {
            mine.lease_expires_at = now_millis() + settings.lease.as_millis() as u64;
            let body = serde_json::to_vec_pretty(&mine).expect("holder serializes");
            let put = remote.s3.put_object().bucket(&remote.url.bucket).key(&key).if_none_match("*").content_type("application/json").body(ByteStream::from(body.clone()));
            let current = match put.send().await {
                Ok(out) => return Ok((Self::held(remote, settings, mine, out.e_tag.unwrap_or_default()), None)),
                Err(e) => match s3_failure("S3.PutObject", e) {
                    S3Failure::PreconditionFailed | S3Failure::Conflict => read_holder(remote).await?,
                    S3Failure::NoSuchBucket if !created_bucket => {
                        created_bucket = true;
                        if let Some(note) = super::bucket::create_hardened(remote).await? {
                            notes(&format!("note: {note}"));
                        }
                        notes(&format!("created the state bucket s3://{} (versioning, SSE-KMS, Block Public Access)", remote.url.bucket));
                        continue;
                    }
                    S3Failure::Other(e) => return Err(remote.aws_error(&key, e)),
                    other => return Err(remote.aws_error(&key, unexpected("S3.PutObject", other))),
                },
            };
            // Released between our write and our read: try again.
            let Some((theirs, etag)) = current else { continue };
            if theirs.token == mine.token {
                // A retried write of ours: the first attempt went through.
                return Ok((Self::held(remote, settings, mine, etag), None));
            }
            let replaced = if force {
                Replaced::Forced(theirs.clone())
            } else if theirs.lease_expires_at <= now_millis() {
                Replaced::Expired(theirs.clone())
            } else {
                return Err(RemoteStateError::Locked { bucket: remote.url.bucket.clone(), key, holder: Box::new(theirs) });
            };
            mine.lease_expires_at = now_millis() + settings.lease.as_millis() as u64;
            let body = serde_json::to_vec_pretty(&mine).expect("holder serializes");
            let take = remote.s3.put_object().bucket(&remote.url.bucket).key(&key).if_match(&etag).content_type("application/json").body(ByteStream::from(body));
            match take.send().await {
                Ok(out) => return Ok((Self::held(remote, settings, mine, out.e_tag.unwrap_or_default()), Some(replaced))),
                // Renewed, released or replaced by someone else meanwhile: look again.
                Err(e) => match s3_failure("S3.PutObject", e) {
                    S3Failure::PreconditionFailed | S3Failure::Conflict | S3Failure::NoSuchKey => continue,
                    S3Failure::Other(e) => return Err(remote.aws_error(&key, e)),
                    other => return Err(remote.aws_error(&key, unexpected("S3.PutObject", other))),
                },
            }
        }
        Err(RemoteStateError::LockLost { bucket: remote.url.bucket.clone(), key, detail: "the lock changed hands on every attempt to take it".into() })
    }

    fn held(remote: &Remote, settings: LeaseSettings, holder: RemoteHolder, etag: String) -> Arc<Lease> {
        Arc::new(Lease {
            remote: remote.clone(),
            settings,
            held: Mutex::new(Held { holder, etag }),
            lost: Mutex::new(None),
            released: Mutex::new(false),
            writes: tokio::sync::Mutex::new(()),
        })
    }

    pub fn holder(&self) -> RemoteHolder {
        self.held.lock().expect("lease").holder.clone()
    }

    /// The error every write gets once the lock is lost.
    pub fn lost(&self) -> Option<RemoteStateError> {
        self.lost.lock().expect("lease").clone().map(|detail| self.lost_error(detail))
    }

    fn lost_error(&self, detail: String) -> RemoteStateError {
        RemoteStateError::LockLost { bucket: self.remote.url.bucket.clone(), key: self.remote.url.lock_key(), detail }
    }

    fn mark_lost(&self, detail: String) -> RemoteStateError {
        let mut lost = self.lost.lock().expect("lease");
        let detail = lost.get_or_insert(detail).clone();
        self.lost_error(detail)
    }

    /// Names the run in the lock (for the next holder's message) and renews the lease.
    pub async fn set_run(&self, run: &str) -> Result<(), RemoteStateError> {
        self.held.lock().expect("lease").holder.run = Some(run.to_string());
        self.renew().await
    }

    /// Extends the lease with `If-Match` on the ETag we wrote last.
    pub async fn renew(&self) -> Result<(), RemoteStateError> {
        let _one = self.writes.lock().await;
        if let Some(e) = self.lost() {
            return Err(e);
        }
        if *self.released.lock().expect("lease") {
            return Ok(());
        }
        let key = self.remote.url.lock_key();
        let (mut next, etag) = {
            let held = self.held.lock().expect("lease");
            (held.holder.clone(), held.etag.clone())
        };
        next.lease_expires_at = now_millis() + self.settings.lease.as_millis() as u64;
        let body = serde_json::to_vec_pretty(&next).expect("holder serializes");
        let put = self.remote.s3.put_object().bucket(&self.remote.url.bucket).key(&key).if_match(&etag).content_type("application/json").body(ByteStream::from(body));
        let new_etag = match put.send().await {
            Ok(out) => out.e_tag.unwrap_or_default(),
            Err(e) => match s3_failure("S3.PutObject", e) {
                S3Failure::PreconditionFailed | S3Failure::NoSuchKey | S3Failure::Conflict => match read_holder(&self.remote).await? {
                    // A retried renewal of ours: the first attempt went through.
                    Some((current, etag)) if current.token == next.token => etag,
                    Some((current, _)) => return Err(self.mark_lost(format!("it is now held by {current}"))),
                    None => return Err(self.mark_lost("the lock object was removed (`--force-unlock` or a new holder that finished)".into())),
                },
                S3Failure::Other(e) => return Err(self.remote.aws_error(&key, e)),
                other => return Err(self.remote.aws_error(&key, unexpected("S3.PutObject", other))),
            },
        };
        *self.held.lock().expect("lease") = Held { holder: next, etag: new_etag };
        Ok(())
    }

    /// Before a state write: refuses once the lock is lost, and when our lease ran out (a pause
    /// longer than the lease, say) renews first, which finds out whether someone replaced us.
    pub async fn ensure_held(&self) -> Result<(), RemoteStateError> {
        if let Some(e) = self.lost() {
            return Err(e);
        }
        let margin = self.settings.renew_every.as_millis() as u64;
        if self.held.lock().expect("lease").holder.lease_expires_at <= now_millis() + margin {
            self.renew().await?;
        }
        Ok(())
    }

    /// Renews every `renew_every` until released. A lost lock cancels the run (no new accounts
    /// start); a renewal that keeps failing until the lease is over counts as lost too, since
    /// another orgtrail may take over from then on. The loss is reported to `notes` at once (the
    /// run's end reports it again as its error).
    pub fn spawn_renewals(self: &Arc<Self>, cancel: Cancel, notes: Notes) -> tokio::task::JoinHandle<()> {
        let lease = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(lease.settings.renew_every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                if *lease.released.lock().expect("lease") {
                    return;
                }
                match lease.renew().await {
                    Ok(()) => {}
                    Err(e @ RemoteStateError::LockLost { .. }) => {
                        cancel.cancel();
                        notes(&format!("error: {e}"));
                        return;
                    }
                    Err(e) => {
                        if lease.held.lock().expect("lease").holder.lease_expires_at <= now_millis() {
                            let e = lease.mark_lost(format!("the lease expired before it could be renewed ({e})"));
                            cancel.cancel();
                            notes(&format!("error: {e}"));
                            return;
                        }
                        tracing::warn!("renewing the state lock failed, retrying: {e}");
                    }
                }
            }
        })
    }

    /// Deletes the lock (`If-Match` on our ETag, so a replacer's lock is never removed).
    pub async fn release(&self) -> Result<(), RemoteStateError> {
        let _one = self.writes.lock().await;
        *self.released.lock().expect("lease") = true;
        if let Some(e) = self.lost() {
            return Err(e);
        }
        let key = self.remote.url.lock_key();
        let etag = self.held.lock().expect("lease").etag.clone();
        match self.remote.s3.delete_object().bucket(&self.remote.url.bucket).key(&key).if_match(etag).send().await {
            Ok(_) => Ok(()),
            Err(e) => match s3_failure("S3.DeleteObject", e) {
                S3Failure::NoSuchKey => Ok(()),
                S3Failure::PreconditionFailed => Err(self.mark_lost("another orgtrail holds it now".into())),
                S3Failure::Other(e) => Err(self.remote.aws_error(&key, e)),
                other => Err(self.remote.aws_error(&key, unexpected("S3.DeleteObject", other))),
            },
        }
    }
}

/// The current holder and the lock object's ETag; `None` when there is no lock.
pub async fn read_holder(remote: &Remote) -> Result<Option<(RemoteHolder, String)>, RemoteStateError> {
    let key = remote.url.lock_key();
    let out = match remote.s3.get_object().bucket(&remote.url.bucket).key(&key).send().await {
        Ok(out) => out,
        Err(e) => {
            return match s3_failure("S3.GetObject", e) {
                S3Failure::NoSuchKey | S3Failure::NoSuchBucket => Ok(None),
                S3Failure::Other(e) => Err(remote.aws_error(&key, e)),
                other => Err(remote.aws_error(&key, unexpected("S3.GetObject", other))),
            }
        }
    };
    let etag = out.e_tag.clone().unwrap_or_default();
    let body = out.body.collect().await.map_err(|e| remote.aws_error(&key, crate::aws::AwsError { operation: "S3.GetObject".into(), code: None, message: e.to_string() }))?;
    let holder = serde_json::from_slice(&body.into_bytes()).map_err(|e| {
        remote.aws_error(&key, crate::aws::AwsError { operation: "S3.GetObject".into(), code: Some("UnreadableLock".into()), message: format!("not an orgtrail lock: {e}") })
    })?;
    Ok(Some((holder, etag)))
}

pub(crate) fn unexpected(operation: &str, f: S3Failure) -> crate::aws::AwsError {
    crate::aws::AwsError { operation: operation.into(), code: None, message: format!("unexpected answer: {f:?}") }
}
