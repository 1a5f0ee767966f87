//! `orgtrail apply`: lock the state, resume (or start) the run, converge, print what happened.
//! With remote state (`--state s3://...`) the lock is the S3 lock, the local store is a working
//! copy pulled at start, and checkpoints go back to S3 during the run and at its end.
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use orgtrail::aws::Aws;
use orgtrail::config::Config;
use orgtrail::executor::{Cancel, NoSink, Sink};
use orgtrail::remote_state::{self, lock::Replaced, session::LastWords, CheckpointSink, Remote, RemoteSession, StateUrl};
use orgtrail::report::{self, progress::Progress};
use orgtrail::rollout::{self, ApplyOptions, ApplyReport, Rollout};
use orgtrail_state::{force_unlock, RunOutcome, StepStatus, Store};
use tokio::sync::Notify;

use crate::commands::state::{remote_url, working_dir};
use crate::{exit, open_state, ApplyArgs, Global};

/// How long in-flight accounts may take to finish after Ctrl-C before orgtrail exits anyway.
const CTRL_C_GRACE: Duration = Duration::from_secs(60);
/// How long a forced exit waits for its last push to S3.
const LAST_PUSH_GRACE: Duration = Duration::from_secs(15);

pub async fn apply(global: &Global, args: &ApplyArgs) -> Result<u8> {
    let config = crate::load_config(global, true)?.expect("required");
    match remote_url(global, Some(&config))? {
        Some(url) => apply_remote(global, args, &config, url).await,
        None => apply_local(global, args, &config).await,
    }
}

async fn apply_local(global: &Global, args: &ApplyArgs, config: &Config) -> Result<u8> {
    let (store, dir) = open_state(global, config)?;
    if args.force_unlock {
        match force_unlock(&dir)? {
            Some(h) => eprintln!("removed the lock of {h}"),
            None => eprintln!("{} had no lock holder", dir.display()),
        }
    }
    let _lock = store.lock(&rollout::lock_holder(&command_line()))?;
    if let Some(stale) = &_lock.stale_holder {
        eprintln!("note: took over the lock left by {stale}, which is no longer running");
    }
    let aws = connect(global, config).await;
    let cancel = Cancel::default();
    spawn_ctrl_c(cancel.clone(), global, None);
    let mut done = converge(global, args, config, &aws, &store, &cancel, None).await?;
    done.report.state_dir = dir.clone();
    done.print(global, &aws, &dir.display().to_string())?;
    Ok(done.code)
}

async fn apply_remote(global: &Global, args: &ApplyArgs, config: &Config, url: StateUrl) -> Result<u8> {
    let aws = connect(global, config).await;
    let (dir, dir_is_cache) = working_dir(global, &url);
    let cancel = Cancel::default();
    let holder = rollout::lock_holder(&command_line());
    let remote = Remote::new(&aws, url.clone());
    let mut session = RemoteSession::open(remote, &dir, dir_is_cache, holder.clone(), remote_state::lease_settings(), args.force_unlock, &cancel).await?;
    match &session.replaced {
        Some(Replaced::Forced(h)) => eprintln!("removed the lock of {h}"),
        Some(Replaced::Expired(h)) => eprintln!("note: took over the state lock of {h}: its lease had expired"),
        None if args.force_unlock => eprintln!("{url} had no lock holder"),
        None => {}
    }
    // The working copy is this process's alone while it runs (`state pull` respects it).
    let local_lock = async {
        let guard = session.store.lock(&holder)?;
        // Named in the lock, so whoever is refused knows which run is going on.
        let unfinished = if args.new_run { None } else { session.store.latest_open_run()? };
        let run = unfinished.map_or_else(|| format!("run-{}", session.store.runs().map_or(0, |r| r.len()) + 1), |r| r.id);
        session.lease.set_run(&run).await?;
        anyhow::Ok(guard)
    }
    .await;
    let (guard, converged) = match local_lock {
        Ok(guard) => {
            let wake = session.start_checkpoints(Duration::from_secs(config.state.checkpoint_interval_seconds.into()), &cancel);
            spawn_ctrl_c(cancel.clone(), global, Some((Arc::clone(&wake), session.last_words())));
            let store = Arc::clone(&session.store);
            (Some(guard), converge(global, args, config, &aws, &store, &cancel, Some(wake)).await)
        }
        Err(e) => (None, Err(e)),
    };
    // Always: the final push (when the run started) and the lock's release.
    let closed = session.close().await;
    drop(guard);
    let location = format!("{url} (working copy {})", dir.display());
    match (converged, closed) {
        (Err(e), closed) => {
            if let Err(c) = closed {
                eprintln!("error: {c}");
            }
            Err(e)
        }
        (Ok(_), Err(e)) => Err(e.into()),
        (Ok(mut done), Ok(_)) => {
            done.report.state_dir = dir.clone();
            done.print(global, &aws, &location)?;
            Ok(done.code)
        }
    }
}

async fn connect(global: &Global, config: &Config) -> Aws {
    let (spec, concurrency) = crate::role_spec(Some(config), "orgtrail-apply");
    crate::connect(global, Some(config)).await.with_role(spec, concurrency)
}

/// One apply's result, printed once the state is safe (pushed, for remote state).
struct Converged {
    report: ApplyReport,
    code: u8,
    started: Instant,
}

impl Converged {
    fn print(&self, global: &Global, aws: &Aws, location: &str) -> Result<()> {
        if global.json {
            report::print_json(&serde_json::json!({
                "report": self.report,
                "api_calls": { "total": aws.metrics.total(), "writes": aws.metrics.write_calls(), "by_operation": aws.metrics.snapshot() },
                "elapsed_seconds": self.started.elapsed().as_secs_f64(),
                "exit_code": self.code,
            }))?;
        } else {
            print_summary(&self.report, global, aws.metrics.total().calls, aws.metrics.write_calls().values().sum(), self.started.elapsed(), location);
        }
        Ok(())
    }
}

/// Resume (or start) the run and roll out; `checkpoint` is woken at every wave boundary.
async fn converge(global: &Global, args: &ApplyArgs, config: &Config, aws: &Aws, store: &Store, cancel: &Cancel, checkpoint: Option<Arc<Notify>>) -> Result<Converged> {
    let started = Instant::now();
    let caller = aws.caller_identity().await.context("reading the caller identity (STS.GetCallerIdentity)")?;
    let progress = Progress::new(!global.json && !args.no_progress && std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let shown: &dyn Sink = if global.json { &NoSink } else { &progress };
    let with_checkpoints = checkpoint.map(|wake| CheckpointSink { inner: shown, wake });
    let sink: &dyn Sink = with_checkpoints.as_ref().map_or(shown, |s| s as &dyn Sink);
    let run = Rollout { aws, config, config_path: &global.config, store, caller: &caller, cancel: cancel.clone(), sink };
    let opts = ApplyOptions {
        new_run: args.new_run,
        accept_config_change: args.accept_config_change,
        only_wave: args.wave.clone(),
        only_accounts: args.accounts.as_ref().map(|a| a.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()),
    };
    let inventory = if run.resumable(&opts)? {
        rollout::check_organization(aws, store).await?;
        None
    } else {
        Some(rollout::inventory(aws, config, &global.config).await?)
    };
    let report = run.apply(inventory, &opts).await?;
    let code = exit_code(&report.outcome);
    Ok(Converged { report, code, started })
}

fn exit_code(outcome: &RunOutcome) -> u8 {
    match outcome {
        RunOutcome::Converged { manual_actions: 0 } | RunOutcome::Paused { .. } | RunOutcome::Restricted { .. } => 0,
        RunOutcome::Converged { .. } | RunOutcome::NeedsManualAction => exit::MANUAL_ACTION,
        RunOutcome::Interrupted => exit::INTERRUPTED,
        RunOutcome::CentralFailed { .. } | RunOutcome::Failed { .. } | RunOutcome::Halted { .. } | RunOutcome::Superseded { .. } => exit::FAILURES,
    }
}

fn command_line() -> String {
    std::env::args().map(|a| if a.contains(' ') { format!("'{a}'") } else { a }).collect::<Vec<_>>().join(" ")
}

/// The command that continues this run: `apply` with the same config and state.
pub fn resume_command(global: &Global) -> String {
    let mut cmd = format!("orgtrail apply --config {}", global.config.display());
    if let Some(d) = &global.state_dir {
        cmd.push_str(&format!(" --state-dir {}", d.display()));
    }
    if let Some(url) = &global.state {
        cmd.push_str(&format!(" --state {url}"));
    }
    cmd
}

/// First Ctrl-C: stop starting accounts and let in-flight ones finish (the run then reports
/// itself interrupted). Second Ctrl-C, or the grace period over: exit 130 at once; steps still
/// marked running are re-checked on resume.
/// With remote state, the first Ctrl-C also pushes a checkpoint at once, and a forced exit pushes
/// one last time (bounded) and releases the lock.
fn spawn_ctrl_c(cancel: Cancel, global: &Global, remote: Option<(Arc<Notify>, LastWords)>) {
    let resume = resume_command(global);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        cancel.cancel();
        if let Some((wake, _)) = &remote {
            wake.notify_one();
        }
        eprintln!("\ninterrupted: no new accounts start; waiting up to {}s for in-flight ones (Ctrl-C again to stop now)", CTRL_C_GRACE.as_secs());
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = tokio::time::sleep(CTRL_C_GRACE) => {}
        }
        if let Some((_, last)) = &remote {
            match tokio::time::timeout(LAST_PUSH_GRACE, last.say()).await {
                Ok(Ok(())) => eprintln!("pushed the state and released the lock"),
                Ok(Err(e)) => eprintln!("error: {e}"),
                Err(_) => eprintln!("the last push did not finish within {}s; the lock's lease ends on its own", LAST_PUSH_GRACE.as_secs()),
            }
        }
        eprintln!("stopped; resume with: {resume}");
        std::process::exit(exit::INTERRUPTED.into());
    });
}

fn print_summary(r: &ApplyReport, global: &Global, calls: u64, writes: u64, elapsed: Duration, location: &str) {
    println!("{} {}", if r.resumed { "resumed" } else { "started" }, r.run);
    for c in &r.central {
        let line = match &c.status {
            StepStatus::NeedsManualAction { .. } => "NEEDS MANUAL ACTION (below)".to_string(),
            other => report::status_line(other),
        };
        println!("  {:<20} {}  {line}", c.step, c.target);
    }
    for w in &r.waves {
        println!(
            "  wave {:<12} {} done, {} failed, {} needs manual action, {} not started{}",
            w.wave,
            w.done,
            w.failed,
            w.needs_manual_action,
            w.not_started,
            if w.halted { " — HALTED: failures exceeded the tolerance" } else { "" }
        );
        for f in &w.failures {
            println!("    {} {}: {} ({})", f.account, f.step, f.reason, f.error_code.as_deref().unwrap_or("no code"));
        }
    }
    let manual: Vec<&str> = r.central.iter().filter_map(|c| match &c.status {
        StepStatus::NeedsManualAction { instructions } => Some(instructions.as_str()),
        _ => None,
    }).collect();
    for m in manual {
        println!("\nneeds manual action:\n{m}");
    }
    let resume = resume_command(global);
    let verdict = match &r.outcome {
        RunOutcome::Converged { manual_actions: 0 } => "converged; the run is finished: the next `apply` starts a new run".to_string(),
        RunOutcome::Converged { .. } | RunOutcome::NeedsManualAction => {
            format!("{} (above); the run is finished: the next `apply` starts a new run, repairs any drift and confirms the manual action once done", r.why)
        }
        RunOutcome::CentralFailed { step } => format!("central step {step} failed, no member wave started; fix it and resume with `{resume}`"),
        RunOutcome::Failed { .. } => format!("{}; fix them and resume with `{resume}`", r.why),
        RunOutcome::Halted { wave } => format!("halted in wave {wave}: later waves were not started; fix the failures and resume with `{resume}`"),
        RunOutcome::Paused { wave } => format!("paused after wave {wave} (pause_after); continue with `{resume}`"),
        RunOutcome::Restricted { .. } => format!("{}; the run stays open: `{resume}` continues it", r.why),
        RunOutcome::Interrupted => format!("interrupted; resume with `{resume}`"),
        RunOutcome::Superseded { by } => format!("superseded by {by}"),
    };
    println!("\n{}: {verdict}", r.run);
    println!("{calls} API calls ({writes} writes) in {:.1}s; state in {}", elapsed.as_secs_f64(), location);
}
