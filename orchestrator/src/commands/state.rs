//! Where the rollout state lives (`--state s3://BUCKET/PREFIX`, else `[state] url`, else local)
//! and `orgtrail state pull|push|show`, for operators moving a rollout between machines.
use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use orgtrail::config::Config;
use orgtrail::remote_state::{self, lock::read_holder, sync::head, Lease, Remote, RemoteState, RemoteStateError, StateUrl};
use orgtrail::report;
use orgtrail_state::Store;

use crate::{BadInput, Global};

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

/// The remote state URL: `--state`, else the config's `[state] url`; `None` means local state.
pub fn remote_url(global: &Global, config: Option<&Config>) -> Result<Option<StateUrl>> {
    let url = global.state.clone().or_else(|| config.and_then(|c| c.state.url.clone()));
    url.map(|u| StateUrl::parse(&u).map_err(|e| BadInput(e.to_string()).into())).transpose()
}

/// The local working copy of a remote state: `--state-dir` if given, else the per-URL cache.
pub fn working_dir(global: &Global, url: &StateUrl) -> (PathBuf, bool) {
    match &global.state_dir {
        Some(d) => (d.clone(), false),
        None => (url.cache_dir(), true),
    }
}

pub async fn state(global: &Global, action: &StateAction) -> Result<u8> {
    let config = crate::load_config(global, false)?;
    let url = remote_url(global, config.as_ref())?.ok_or_else(|| BadInput("`orgtrail state` needs --state s3://BUCKET/PREFIX (or [state] url in the config)".into()))?;
    let aws = crate::connect(global, config.as_ref()).await;
    let remote = Remote::new(&aws, url.clone());
    match action {
        StateAction::Pull => pull(&remote, global).await,
        StateAction::Push => push(&remote, global).await,
        StateAction::Show => show(&remote, global).await,
    }
}

async fn pull(remote: &Remote, global: &Global) -> Result<u8> {
    let (dir, is_cache) = working_dir(global, &remote.url);
    // An apply working in this directory keeps its lock: never swap the state under it.
    let _local = if dir.join("state.db").exists() {
        let store = Store::open(&dir)?;
        Some(store.lock(&orgtrail::rollout::lock_holder("orgtrail state pull"))?)
    } else {
        None
    };
    let (_, pulled) = RemoteState::pull(remote, &dir, is_cache).await?;
    let Some(etag) = pulled.etag else {
        return Err(RemoteStateError::NoRemoteState { url: remote.url.to_string() }.into());
    };
    if global.json {
        report::print_json(&serde_json::json!({ "url": remote.url.to_string(), "dir": dir, "etag": etag, "bytes": pulled.bytes }))?;
    } else {
        println!("pulled {} ({} bytes, ETag {etag}) into {}", remote.url, pulled.bytes, dir.display());
    }
    Ok(0)
}

async fn push(remote: &Remote, global: &Global) -> Result<u8> {
    let (dir, _) = working_dir(global, &remote.url);
    if !dir.join("state.db").exists() {
        return Err(BadInput(format!("no rollout state in {} to push (pass --state-dir)", dir.display())).into());
    }
    let store = Store::open(&dir)?;
    let _local = store.lock(&orgtrail::rollout::lock_holder("orgtrail state push"))?;
    let (lease, _) = Lease::acquire(remote, orgtrail::rollout::lock_holder("orgtrail state push"), remote_state::lease_settings(), false).await?;
    let pushed = RemoteState::from_working_copy(remote, &dir).push(&store, Some(&lease)).await;
    let released = lease.release().await;
    let etag = pushed?;
    released?;
    if global.json {
        report::print_json(&serde_json::json!({ "url": remote.url.to_string(), "dir": dir, "etag": etag }))?;
    } else {
        println!("pushed {} to {} (ETag {etag})", dir.display(), remote.url);
    }
    Ok(0)
}

async fn show(remote: &Remote, global: &Global) -> Result<u8> {
    let object = head(remote).await?.map(|(info, _)| info);
    let holder = read_holder(remote).await?.map(|(h, _)| h);
    if global.json {
        report::print_json(&serde_json::json!({ "url": remote.url.to_string(), "state": object, "lock": holder }))?;
        return Ok(0);
    }
    println!("{}", remote.url);
    match &object {
        Some(o) => println!(
            "  state.db  ETag {}, {} bytes, last modified {}{}",
            o.etag,
            o.size,
            o.last_modified.as_deref().unwrap_or("?"),
            o.version_id.as_deref().map(|v| format!(", version {v}")).unwrap_or_default()
        ),
        None => println!("  state.db  none yet"),
    }
    match &holder {
        Some(h) => println!("  lock      held by {h}"),
        None => println!("  lock      free"),
    }
    Ok(0)
}
