//! `orgtrail status [RUN]`: runs (open or finished, and why), per-wave counts, failed targets with
//! reason and AWS error code.
use anyhow::Result;
use orgtrail::remote_state::{Remote, RemoteState};
use orgtrail::report::{self, table::Table};
use orgtrail_state::{format_millis, Record, RunSummary, Store, WaveCounts};
use serde::Serialize;

use crate::Global;

#[derive(Serialize)]
struct StatusReport {
    state_dir: String,
    runs: Vec<RunSummary>,
    run: Option<RunSummary>,
    waves: Vec<WaveCounts>,
    failed: Vec<Record>,
    needs_manual_action: Vec<Record>,
}

pub async fn status(global: &Global, run: Option<&str>, failed_only: bool) -> Result<u8> {
    // The config only says where the state is; status reads state even when the config is broken.
    let config = if global.state.is_some() { None } else { crate::load_config(global, false).ok().flatten() };
    let Some(url) = crate::commands::state::remote_url(global, config.as_ref())? else {
        let dir = crate::state_dir(global, None);
        if !dir.join("state.db").exists() {
            return Err(crate::BadInput(format!("no rollout state in {} (run `orgtrail apply`, or pass --state-dir)", dir.display())).into());
        }
        return report_on(global, &Store::open(&dir)?, &dir.display().to_string(), run, failed_only);
    };
    // Read-only: a private copy, no lock, so it works while an apply runs elsewhere.
    let remote = Remote::new(&crate::connect(global, config.as_ref()).await, url.clone());
    let dir = std::env::temp_dir().join(format!("orgtrail-status-{}-{}", std::process::id(), orgtrail_state::now_millis()));
    let result = async {
        let (_, pulled) = RemoteState::pull(&remote, &dir, true).await?;
        if pulled.etag.is_none() {
            return Err(crate::BadInput(format!("no rollout state in {url} (run `orgtrail apply --state {url}`)")).into());
        }
        report_on(global, &Store::open(&dir)?, &url.to_string(), run, failed_only)
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn report_on(global: &Global, store: &Store, location: &str, run: Option<&str>, failed_only: bool) -> Result<u8> {
    let runs = store.runs()?;
    let selected = match run {
        Some(id) => Some(store.run(id)?),
        None => runs.first().cloned(),
    };
    let (waves, records) = match &selected {
        Some(r) => (in_plan_order(store.wave_counts(&r.id)?, &store.run(&r.id)?.plan_json), store.records(&r.id)?),
        None => (vec![], vec![]),
    };
    let failed: Vec<Record> = records.iter().filter(|r| r.status.kind() == "failed").cloned().collect();
    let manual: Vec<Record> = records.iter().filter(|r| r.status.kind() == "needs-manual-action").cloned().collect();
    let report = StatusReport { state_dir: location.to_string(), runs, run: selected, waves, failed, needs_manual_action: manual };
    if global.json {
        report::print_json(&report)?;
        return Ok(0);
    }
    if !failed_only {
        // Open: the next `apply` resumes the run. Finished: the next `apply` starts a new one.
        let mut t = Table::new(["RUN", "STARTED", "UPDATED", "STATE", "WHY"]).keep_whole(0..4);
        for r in &report.runs {
            t.row([r.id.clone(), format_millis(r.started_at), format_millis(r.updated_at), (if r.open { "open" } else { "finished" }).to_string(), r.why.clone()]);
        }
        print!("{}", t.render());
        if let Some(r) = &report.run {
            println!("\n{} (config {}):", r.id, r.config_path);
            let mut t = Table::new(["WAVE", "TARGETS", "DONE", "FAILED", "MANUAL", "RUNNING", "PENDING"]).keep_whole(0..7);
            for w in &report.waves {
                t.row([w.wave.clone(), w.targets.to_string(), w.done.to_string(), w.failed.to_string(), w.needs_manual_action.to_string(), w.running.to_string(), w.pending.to_string()]);
            }
            print!("{}", t.render());
        }
    }
    if !report.failed.is_empty() {
        println!("\nfailed:");
        let mut t = Table::new(["TARGET", "WAVE", "STEP", "CODE", "ATTEMPTS", "REASON"]).keep_whole(0..5);
        for r in &report.failed {
            if let orgtrail_state::StepStatus::Failed { reason, error_code } = &r.status {
                t.row([r.target.clone(), r.wave.clone(), r.step.clone(), error_code.clone().unwrap_or_default(), r.attempts.to_string(), reason.clone()]);
            }
        }
        print!("{}", t.render());
    }
    for r in &report.needs_manual_action {
        if let orgtrail_state::StepStatus::NeedsManualAction { instructions } = &r.status {
            println!("\nneeds manual action ({} {}):\n{}", r.target, r.step, report::table::wrap_prose(instructions.trim_end(), "").trim_end());
        }
    }
    Ok(0)
}

/// Central first, then the waves as the run's plan orders them.
fn in_plan_order(mut waves: Vec<WaveCounts>, plan_json: &str) -> Vec<WaveCounts> {
    let order: Vec<String> = serde_json::from_str::<orgtrail::plan::Plan>(plan_json).map(|p| p.waves.into_iter().map(|w| w.name).collect()).unwrap_or_default();
    let rank = |w: &str| if w == orgtrail::executor::CENTRAL_WAVE { 0 } else { order.iter().position(|o| o == w).map_or(usize::MAX, |i| i + 1) };
    waves.sort_by_key(|w| rank(&w.wave));
    waves
}
