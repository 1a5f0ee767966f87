//! `orgtrail state pull|push|show`, for operators moving a rollout between machines, and the
//! read-only view of the state (wherever `Settings` says it lives) that `status` and `plan` read.
use std::path::{Path, PathBuf};

use clap::Subcommand;
use orgtrail::aws::Aws;
use orgtrail::remote_state::{lock::read_holder, sync::head, Lease, LeaseSettings, Remote, RemoteState, RemoteStateError};
use orgtrail_state::Store;

use super::output::{self, outln};
use crate::failure::{Exit, Failure};
use crate::settings::{Settings, StateLocation};

#[derive(Subcommand)]
pub enum StateAction {
    /// Download the remote state into the working copy (--state-dir, else orgtrail's cache for the URL).
    #[command(after_help = "Example:\n  orgtrail --state s3://my-state-bucket/orgtrail state pull")]
    Pull,
    /// Upload the working copy; refused if the remote state changed since it was pulled (or, for
    /// a state that never came from there, if the remote has any state).
    #[command(after_help = "Example:\n  orgtrail --state s3://my-state-bucket/orgtrail state push")]
    Push,
    /// Show the remote state object (ETag, size, last modified) and the lock holder.
    #[command(after_help = "Example:\n  orgtrail --state s3://my-state-bucket/orgtrail state show")]
    Show,
}

/// The state opened for reading only: the local store itself, or a private copy of the remote
/// one (no lock, so it works while an apply runs elsewhere), removed when dropped.
pub struct StateView {
    pub store: Store,
    /// The state directory or URL, as reports name it.
    pub location: String,
    _copy: Option<PrivateCopy>,
}

/// A directory of this process's own, removed when dropped.
struct PrivateCopy(PathBuf);

impl Drop for PrivateCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The state as `apply` would find it; `None` when there is none yet. `aws` connects to the
/// remote state, if the command has clients already.
pub async fn view(settings: &Settings, aws: Option<&Aws>) -> Result<Option<StateView>, Failure> {
    match &settings.state {
        StateLocation::Local { dir } => {
            if !dir.join("state.db").exists() {
                return Ok(None);
            }
            Ok(Some(StateView { store: Store::open_read_only(dir)?, location: dir.display().to_string(), _copy: None }))
        }
        StateLocation::Remote { url, .. } => {
            let connected;
            let aws = match aws {
                Some(a) => a,
                None => {
                    connected = settings.connect_base().await?;
                    &connected
                }
            };
            let remote = Remote::new(aws, url.clone());
            let copy = PrivateCopy(std::env::temp_dir().join(format!("orgtrail-view-{}-{}", std::process::id(), orgtrail_state::now_millis())));
            let (_, pulled) = RemoteState::pull(&remote, &copy.0, true).await?;
            if pulled.etag.is_none() {
                return Ok(None);
            }
            Ok(Some(StateView { store: Store::open_read_only(&copy.0)?, location: url.to_string(), _copy: Some(copy) }))
        }
    }
}

/// The remote state of `orgtrail state ...`, its working copy and lease.
fn remote_of(settings: &Settings) -> Result<(&orgtrail::remote_state::StateUrl, &Path, bool, LeaseSettings), Failure> {
    match &settings.state {
        StateLocation::Remote { url, working_copy, working_copy_is_cache, lease } => Ok((url, working_copy, *working_copy_is_cache, *lease)),
        StateLocation::Local { .. } => Err(Failure::bad_input("`orgtrail state` works on a remote state, and none is set").with_hint("pass --state s3://BUCKET/PREFIX (or set [state] url in the config)")),
    }
}

pub async fn state(settings: &Settings, action: &StateAction) -> Result<Exit, Failure> {
    let (url, _, _, _) = remote_of(settings)?;
    let aws = settings.connect_base().await?;
    let remote = Remote::new(&aws, url.clone());
    match action {
        StateAction::Pull => pull(&remote, settings).await,
        StateAction::Push => push(&remote, settings).await,
        StateAction::Show => show(&remote, settings).await,
    }
}

async fn pull(remote: &Remote, settings: &Settings) -> Result<Exit, Failure> {
    let (_, dir, is_cache, _) = remote_of(settings)?;
    // An apply working in this directory keeps its lock: never swap the state under it.
    let _local = if dir.join("state.db").exists() {
        let store = Store::open(dir)?;
        Some(store.lock(&settings.lock_holder("orgtrail state pull"))?)
    } else {
        None
    };
    let (_, pulled) = RemoteState::pull(remote, dir, is_cache).await?;
    let Some(etag) = pulled.etag else {
        return Err(RemoteStateError::NoRemoteState { url: remote.url.to_string() }.into());
    };
    if settings.output.json {
        output::json(&serde_json::json!({ "url": remote.url.to_string(), "dir": dir, "etag": etag, "bytes": pulled.bytes }))?;
    } else {
        outln!("pulled {} ({} bytes, ETag {etag}) into {}", remote.url, pulled.bytes, dir.display())?;
    }
    Ok(Exit::Ok)
}

async fn push(remote: &Remote, settings: &Settings) -> Result<Exit, Failure> {
    let (_, dir, _, lease_settings) = remote_of(settings)?;
    if !dir.join("state.db").exists() {
        return Err(Failure::bad_input(format!("no rollout state in {} to push", dir.display())).with_hint("pass the directory that holds it with --state-dir"));
    }
    let store = Store::open(dir)?;
    let _local = store.lock(&settings.lock_holder("orgtrail state push"))?;
    let (lease, _) = Lease::acquire(remote, settings.lock_holder("orgtrail state push"), lease_settings, false, &settings.notes()).await?;
    let pushed = RemoteState::from_working_copy(remote, dir).push(&store, Some(&lease)).await;
    let released = lease.release().await;
    let etag = pushed?;
    released?;
    if settings.output.json {
        output::json(&serde_json::json!({ "url": remote.url.to_string(), "dir": dir, "etag": etag }))?;
    } else {
        outln!("pushed {} to {} (ETag {etag})", dir.display(), remote.url)?;
    }
    Ok(Exit::Ok)
}

async fn show(remote: &Remote, settings: &Settings) -> Result<Exit, Failure> {
    let object = head(remote).await?.map(|(info, _)| info);
    let holder = read_holder(remote).await?.map(|(h, _)| h);
    if settings.output.json {
        output::json(&serde_json::json!({ "url": remote.url.to_string(), "state": object, "lock": holder }))?;
        return Ok(Exit::Ok);
    }
    outln!("{}", remote.url)?;
    match &object {
        Some(o) => outln!(
            "  state.db  ETag {}, {} bytes, last modified {}{}",
            o.etag,
            o.size,
            o.last_modified.as_deref().unwrap_or("?"),
            o.version_id.as_deref().map(|v| format!(", version {v}")).unwrap_or_default()
        )?,
        None => outln!("  state.db  none yet")?,
    }
    match &holder {
        Some(h) => outln!("  lock      held by {h}")?,
        None => outln!("  lock      free")?,
    }
    Ok(Exit::Ok)
}
