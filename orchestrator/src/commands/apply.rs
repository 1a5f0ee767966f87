//! `orgtrail apply`: lock the state, resume (or start) the run, converge, print what happened.
//! With remote state (`--state s3://...`) the lock is the S3 lock, the local store is a working
//! copy pulled at start, and checkpoints go back to S3 during the run and at its end.
use std::sync::Arc;
use std::time::{Duration, Instant};

use orgtrail::aws::Aws;
use orgtrail::config::Config;
use orgtrail::executor::{Cancel, NoSink, Sink};
use orgtrail::remote_state::{lock::Replaced, session::LastWords, CheckpointSink, LeaseSettings, Remote, RemoteSession, StateUrl};
use orgtrail::report::{self, progress::Progress};
use orgtrail::rollout::{self, ApplyOptions, ApplyReport, Rollout};
use orgtrail::saved_plan::{recheck, Checked, SavedPlan};
use orgtrail_state::{force_unlock, RunOutcome, StepStatus, Store};
use tokio::sync::Notify;

use super::output::{self, outln};
use crate::cli::ApplyArgs;
use crate::failure::{Exit, Failure};
use crate::settings::{Settings, StateLocation};

/// How long in-flight accounts may take to finish after Ctrl-C before orgtrail exits anyway.
const CTRL_C_GRACE: Duration = Duration::from_secs(60);
/// How long a forced exit waits for its last push to S3.
const LAST_PUSH_GRACE: Duration = Duration::from_secs(15);

pub async fn apply(settings: &Settings, args: &ApplyArgs) -> Result<Exit, Failure> {
    crate::flags::apply(settings, args).await?;
    // A saved plan is read, and the live state observed again and compared, before the state is
    // locked: a refused plan writes nothing, not even a lock.
    let planned = match &args.plan {
        Some(path) => Some(recheck_plan(settings, path).await?),
        None => None,
    };
    match &settings.state {
        StateLocation::Remote { url, working_copy, working_copy_is_cache, lease } => apply_remote(settings, args, planned, url, working_copy, *working_copy_is_cache, *lease).await,
        StateLocation::Local { dir } => apply_local(settings, args, planned, dir).await,
    }
}

/// `apply --plan FILE`: the clients it observed with (their call counts continue into the
/// apply's) and what the check found the same as planned.
struct Planned {
    aws: Aws,
    checked: Checked,
}

async fn recheck_plan(settings: &Settings, path: &std::path::Path) -> Result<Planned, Failure> {
    let saved = SavedPlan::read(path)?;
    let aws = settings.connect("orgtrail-apply").await?;
    let caller = super::caller_identity(&aws).await?;
    let checked = recheck(&aws, settings.config(), &settings.config_path, &caller, path, &saved, settings.concurrency).await?;
    Ok(Planned { aws, checked })
}

async fn apply_local(settings: &Settings, args: &ApplyArgs, planned: Option<Planned>, dir: &std::path::Path) -> Result<Exit, Failure> {
    let store = Store::open(dir)?;
    if args.force_unlock {
        match force_unlock(dir)? {
            Some(h) => eprintln!("removed the lock of {h}"),
            None => eprintln!("{} had no lock holder", dir.display()),
        }
    }
    let _lock = store.lock(&settings.this_invocation())?;
    if let Some(stale) = &_lock.stale_holder {
        eprintln!("note: took over the lock left by {stale}, which is no longer running");
    }
    let (aws, checked) = connect(settings, planned).await?;
    let cancel = Cancel::default();
    spawn_ctrl_c(cancel.clone(), settings, None);
    let mut done = converge(settings, args, checked, settings.config(), &aws, &store, &cancel, None).await?;
    done.report.state_dir = dir.to_path_buf();
    done.print(settings, &aws, &dir.display().to_string())?;
    Ok(done.exit)
}

#[allow(clippy::too_many_arguments)]
async fn apply_remote(settings: &Settings, args: &ApplyArgs, planned: Option<Planned>, url: &StateUrl, dir: &std::path::Path, dir_is_cache: bool, lease: LeaseSettings) -> Result<Exit, Failure> {
    let config = settings.config();
    let (aws, checked) = connect(settings, planned).await?;
    let cancel = Cancel::default();
    let holder = settings.this_invocation();
    let remote = Remote::new(&aws, url.clone());
    let mut session = RemoteSession::open(remote, dir, dir_is_cache, holder.clone(), lease, args.force_unlock, &cancel, settings.notes()).await?;
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
        let unfinished = if args.new_run || args.plan.is_some() { None } else { session.store.latest_open_run()? };
        let run = unfinished.map_or_else(|| format!("run-{}", session.store.runs().map_or(0, |r| r.len()) + 1), |r| r.id);
        session.lease.set_run(&run).await?;
        Ok::<_, Failure>(guard)
    }
    .await;
    let (guard, converged) = match local_lock {
        Ok(guard) => {
            let wake = session.start_checkpoints(Duration::from_secs(config.state.checkpoint_interval_seconds.into()), &cancel);
            spawn_ctrl_c(cancel.clone(), settings, Some((Arc::clone(&wake), session.last_words())));
            let store = Arc::clone(&session.store);
            (Some(guard), converge(settings, args, checked, config, &aws, &store, &cancel, Some(wake)).await)
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
            done.report.state_dir = dir.to_path_buf();
            done.print(settings, &aws, &location)?;
            Ok(done.exit)
        }
    }
}

/// One apply's result, printed once the state is safe (pushed, for remote state).
struct Converged {
    report: ApplyReport,
    exit: Exit,
    started: Instant,
}

impl Converged {
    fn print(&self, settings: &Settings, aws: &Aws, location: &str) -> Result<(), Failure> {
        if settings.output.json {
            output::json(&serde_json::json!({
                "report": self.report,
                "api_calls": { "total": aws.metrics.total(), "writes": aws.metrics.write_calls(), "by_operation": aws.metrics.snapshot() },
                "elapsed_seconds": self.started.elapsed().as_secs_f64(),
                "exit_code": self.exit.code(),
            }))
        } else {
            print_summary(&self.report, settings, aws.metrics.total().calls, aws.metrics.write_calls().values().sum(), self.started.elapsed(), location)
        }
    }
}

/// The clients: those `apply --plan` observed with, else new ones.
async fn connect(settings: &Settings, planned: Option<Planned>) -> Result<(Aws, Option<Checked>), Failure> {
    Ok(match planned {
        Some(p) => (p.aws, Some(p.checked)),
        None => (settings.connect("orgtrail-apply").await?, None),
    })
}

/// Resume (or start) the run and roll out; `checkpoint` is woken at every wave boundary. With a
/// checked saved plan: a new run on the inventory the check discovered, and without observed
/// member steps no member account (the waves stay pending, for the next `apply`).
#[allow(clippy::too_many_arguments)]
async fn converge(settings: &Settings, args: &ApplyArgs, checked: Option<Checked>, config: &Config, aws: &Aws, store: &Store, cancel: &Cancel, checkpoint: Option<Arc<Notify>>) -> Result<Converged, Failure> {
    let started = Instant::now();
    let caller = super::caller_identity(aws).await?;
    let progress = Progress::new(settings.output.progress && !args.no_progress);
    let shown: &dyn Sink = if settings.output.json { &NoSink } else { &progress };
    let with_checkpoints = checkpoint.map(|wake| CheckpointSink { inner: shown, wake });
    let sink: &dyn Sink = with_checkpoints.as_ref().map_or(shown, |s| s as &dyn Sink);
    let run = Rollout { aws, config, config_path: &settings.config_path, store, caller: &caller, cancel: cancel.clone(), sink };
    let mut opts = ApplyOptions {
        new_run: args.new_run,
        accept_config_change: args.accept_config_change,
        only_wave: args.wave.clone(),
        only_accounts: args.accounts.as_ref().map(|a| a.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()),
    };
    if let Some(c) = &checked {
        opts.new_run = true;
        opts.only_accounts = (!c.members).then(Vec::new);
    }
    let inventory = if let Some(c) = checked {
        Some(c.inventory)
    } else if run.resumable(&opts)? {
        rollout::check_organization(aws, store).await?;
        None
    } else {
        Some(rollout::inventory(aws, config, &settings.config_path).await?)
    };
    let report = run.apply(inventory, &opts).await?;
    let exit = exit_of(&report.outcome);
    Ok(Converged { report, exit, started })
}

fn exit_of(outcome: &RunOutcome) -> Exit {
    match outcome {
        RunOutcome::Converged { manual_actions: 0 } | RunOutcome::Paused { .. } | RunOutcome::Restricted { .. } => Exit::Ok,
        RunOutcome::Converged { .. } | RunOutcome::NeedsManualAction => Exit::ManualAction,
        RunOutcome::Interrupted => Exit::Interrupted,
        RunOutcome::CentralFailed { .. } | RunOutcome::Failed { .. } | RunOutcome::Halted { .. } | RunOutcome::Superseded { .. } => Exit::Failures,
    }
}

/// First Ctrl-C: stop starting accounts and let in-flight ones finish (the run then reports
/// itself interrupted). Second Ctrl-C, or the grace period over: exit 130 at once; steps still
/// marked running are re-checked on resume.
/// With remote state, the first Ctrl-C also pushes a checkpoint at once, and a forced exit pushes
/// one last time (bounded) and releases the lock.
fn spawn_ctrl_c(cancel: Cancel, settings: &Settings, remote: Option<(Arc<Notify>, LastWords)>) {
    let resume = settings.resume_command();
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
        std::process::exit(Exit::Interrupted.code().into());
    });
}

fn print_summary(r: &ApplyReport, settings: &Settings, calls: u64, writes: u64, elapsed: Duration, location: &str) -> Result<(), Failure> {
    outln!("{} {}", if r.resumed { "resumed" } else { "started" }, r.run)?;
    for c in &r.central {
        let line = match &c.status {
            StepStatus::NeedsManualAction { .. } => "NEEDS MANUAL ACTION (below)".to_string(),
            other => report::status_line(other),
        };
        outln!("  {:<20} {}  {line}", c.step, c.target)?;
    }
    for w in &r.waves {
        outln!(
            "  wave {:<12} {} done, {} failed, {} needs manual action, {} not started{}",
            w.wave,
            w.done,
            w.failed,
            w.needs_manual_action,
            w.not_started,
            if w.halted { " — HALTED: failures exceeded the tolerance" } else { "" }
        )?;
        for f in &w.failures {
            outln!("    {} {}: {} ({})", f.account, f.step, f.reason, f.error_code.as_deref().unwrap_or("no code"))?;
        }
    }
    let manual: Vec<&str> = r.central.iter().filter_map(|c| match &c.status {
        StepStatus::NeedsManualAction { instructions } => Some(instructions.as_str()),
        _ => None,
    }).collect();
    for m in manual {
        outln!("\nneeds manual action:\n{m}")?;
    }
    let resume = settings.resume_command();
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
    outln!("\n{}: {verdict}", r.run)?;
    outln!("{calls} API calls ({writes} writes) in {:.1}s; state in {}", elapsed.as_secs_f64(), location)
}
