//! `orgtrail apply`: lock the state, resume (or start) the run, converge, print what happened.
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use orgtrail::executor::{Cancel, NoSink, Sink};
use orgtrail::report::{self, progress::Progress};
use orgtrail::rollout::{self, ApplyOptions, ApplyReport, Rollout};
use orgtrail_state::{force_unlock, RunOutcome, StepStatus};

use crate::{exit, open_state, ApplyArgs, Global};

/// How long in-flight accounts may take to finish after Ctrl-C before orgtrail exits anyway.
const CTRL_C_GRACE: Duration = Duration::from_secs(60);

pub async fn apply(global: &Global, args: &ApplyArgs) -> Result<u8> {
    let config = crate::load_config(global, true)?.expect("required");
    let (store, dir) = open_state(global, &config)?;
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
    let (spec, concurrency) = crate::role_spec(Some(&config), "orgtrail-apply");
    let aws = crate::connect(global, Some(&config)).await.with_role(spec, concurrency);
    let started = Instant::now();
    let caller = aws.caller_identity().await.context("reading the caller identity (STS.GetCallerIdentity)")?;
    let cancel = Cancel::default();
    spawn_ctrl_c(cancel.clone(), global);
    let progress = Progress::new(!global.json && !args.no_progress && std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let sink: &dyn Sink = if global.json { &NoSink } else { &progress };
    let run = Rollout { aws: &aws, config: &config, config_path: &global.config, store: &store, caller: &caller, cancel: cancel.clone(), sink };
    let opts = ApplyOptions {
        new_run: args.new_run,
        accept_config_change: args.accept_config_change,
        only_wave: args.wave.clone(),
        only_accounts: args.accounts.as_ref().map(|a| a.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()),
    };
    let inventory = if run.resumable(&opts)? {
        rollout::check_organization(&aws, &store).await?;
        None
    } else {
        Some(rollout::inventory(&aws, &config, &global.config).await?)
    };
    let mut report = run.apply(inventory.as_ref(), &opts).await?;
    report.state_dir = dir.clone();
    let code = exit_code(&report.outcome);
    if global.json {
        report::print_json(&serde_json::json!({
            "report": report,
            "api_calls": { "total": aws.metrics.total(), "writes": aws.metrics.write_calls(), "by_operation": aws.metrics.snapshot() },
            "elapsed_seconds": started.elapsed().as_secs_f64(),
            "exit_code": code,
        }))?;
    } else {
        print_summary(&report, global, aws.metrics.total().calls, aws.metrics.write_calls().values().sum(), started.elapsed());
    }
    Ok(code)
}

fn exit_code(outcome: &RunOutcome) -> u8 {
    match outcome {
        RunOutcome::Converged | RunOutcome::Paused { .. } => 0,
        RunOutcome::NeedsManualAction => exit::MANUAL_ACTION,
        RunOutcome::Interrupted => exit::INTERRUPTED,
        RunOutcome::Failed | RunOutcome::Halted { .. } => exit::FAILURES,
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
    cmd
}

/// First Ctrl-C: stop starting accounts and let in-flight ones finish (the run then reports
/// itself interrupted). Second Ctrl-C, or the grace period over: exit 130 at once; steps still
/// marked running are re-checked on resume.
fn spawn_ctrl_c(cancel: Cancel, global: &Global) {
    let resume = resume_command(global);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        cancel.cancel();
        eprintln!("\ninterrupted: no new accounts start; waiting up to {}s for in-flight ones (Ctrl-C again to stop now)", CTRL_C_GRACE.as_secs());
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = tokio::time::sleep(CTRL_C_GRACE) => {}
        }
        eprintln!("stopped; resume with: {resume}");
        std::process::exit(exit::INTERRUPTED.into());
    });
}

fn print_summary(r: &ApplyReport, global: &Global, calls: u64, writes: u64, elapsed: Duration) {
    println!("{} {}", if r.resumed { "resumed" } else { "started" }, r.run);
    for c in &r.central {
        let note = if c.skipped_as_done { " (done earlier)" } else { "" };
        println!("  {:<20} {}  {}{note}", c.step, c.target, report::status_line(&c.status));
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
        RunOutcome::Converged => "converged".to_string(),
        RunOutcome::Failed => format!("failures recorded; fix them and resume with `{resume}`"),
        RunOutcome::Halted { wave } => format!("halted in wave {wave}: later waves were not started; fix the failures and resume with `{resume}`"),
        RunOutcome::Paused { wave } => format!("paused after wave {wave} (pause_after); continue with `{resume}`"),
        RunOutcome::Interrupted => format!("interrupted; resume with `{resume}`"),
        RunOutcome::NeedsManualAction => "everything else converged; the manual action above is left (apply again after it to confirm)".into(),
    };
    println!("\n{}: {verdict}", r.run);
    println!("{calls} API calls ({writes} writes) in {:.1}s; state in {}", elapsed.as_secs_f64(), r.state_dir.display());
}
