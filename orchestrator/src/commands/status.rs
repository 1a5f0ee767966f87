//! `orgtrail status [RUN]`: runs (open or finished, and why), per-wave counts, failed targets with
//! reason and AWS error code.
use orgtrail::report::{self, table::Table};
use orgtrail_state::{format_millis, Record, RunSummary, StepStatus, Store, WaveCounts};
use serde::Serialize;

use super::output::{self, out, outln};
use crate::failure::{Exit, Failure};
use crate::settings::{Settings, StateLocation};

#[derive(Serialize)]
struct StatusReport {
    state_dir: String,
    runs: Vec<RunSummary>,
    run: Option<RunSummary>,
    waves: Vec<WaveCounts>,
    failed: Vec<Record>,
    needs_manual_action: Vec<Record>,
}

pub async fn status(settings: &Settings, run: Option<&str>, failed_only: bool) -> Result<Exit, Failure> {
    let Some(view) = super::state::view(settings, None).await? else {
        let hint = match &settings.state {
            StateLocation::Local { .. } => "run `orgtrail apply`, or pass --state-dir DIR (or --state s3://...) where the state is".to_string(),
            StateLocation::Remote { url, .. } => format!("run `orgtrail apply --state {url}`"),
        };
        let location = match &settings.state {
            StateLocation::Local { dir } => dir.display().to_string(),
            StateLocation::Remote { url, .. } => url.to_string(),
        };
        return Err(Failure::bad_input(format!("no rollout state in {location}")).with_hint(hint));
    };
    report_on(settings, &view.store, &view.location, run, failed_only)
}

fn report_on(settings: &Settings, store: &Store, location: &str, run: Option<&str>, failed_only: bool) -> Result<Exit, Failure> {
    let runs = store.runs()?;
    let selected = match run {
        Some(id) => Some(store.run(id).map_err(|e| {
            let known: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
            Failure::from(e).with_hint(if known.is_empty() { format!("{location} has no runs yet") } else { format!("the runs in {location}: {}", known.join(", ")) })
        })?),
        None => runs.first().cloned(),
    };
    let (waves, records) = match &selected {
        Some(r) => (in_plan_order(store.wave_counts(&r.id)?, &store.run(&r.id)?.plan_json), store.records(&r.id)?),
        None => (vec![], vec![]),
    };
    let failed: Vec<Record> = records.iter().filter(|r| matches!(r.status, StepStatus::Failed { .. })).cloned().collect();
    let manual: Vec<Record> = records.iter().filter(|r| matches!(r.status, StepStatus::NeedsManualAction { .. })).cloned().collect();
    let report = StatusReport { state_dir: location.to_string(), runs, run: selected, waves, failed, needs_manual_action: manual };
    if settings.output.json {
        output::json(&report)?;
        return Ok(Exit::Ok);
    }
    if !failed_only {
        // Open: the next `apply` resumes the run. Finished: the next `apply` starts a new one.
        let mut t = Table::new(["RUN", "STARTED", "UPDATED", "STATE", "WHY"]).keep_whole(0..4);
        for r in &report.runs {
            t.row([r.id.clone(), format_millis(r.started_at), format_millis(r.updated_at), (if r.open { "open" } else { "finished" }).to_string(), r.why.clone()]);
        }
        out!("{}", t.render())?;
        if let Some(r) = &report.run {
            outln!("\n{} (config {}):", r.id, r.config_path)?;
            let mut t = Table::new(["WAVE", "TARGETS", "DONE", "FAILED", "MANUAL", "RUNNING", "PENDING"]).keep_whole(0..7);
            for w in &report.waves {
                t.row([w.wave.clone(), w.targets.to_string(), w.done.to_string(), w.failed.to_string(), w.needs_manual_action.to_string(), w.running.to_string(), w.pending.to_string()]);
            }
            out!("{}", t.render())?;
        }
    }
    if !report.failed.is_empty() {
        outln!("\nfailed:")?;
        let mut t = Table::new(["TARGET", "WAVE", "STEP", "CODE", "ATTEMPTS", "REASON"]).keep_whole(0..5);
        for r in &report.failed {
            if let StepStatus::Failed { reason, error_code } = &r.status {
                t.row([r.target.clone(), r.wave.clone(), r.step.clone(), error_code.clone().unwrap_or_default(), r.attempts.to_string(), reason.clone()]);
            }
        }
        out!("{}", t.render())?;
    }
    for r in &report.needs_manual_action {
        if let StepStatus::NeedsManualAction { instructions } = &r.status {
            outln!("\nneeds manual action ({} {}):\n{}", r.target, r.step, report::table::wrap_prose(instructions.trim_end(), "").trim_end())?;
        }
    }
    Ok(Exit::Ok)
}

/// Central first, then the waves as the run's plan orders them.
fn in_plan_order(mut waves: Vec<WaveCounts>, plan_json: &str) -> Vec<WaveCounts> {
    let order: Vec<String> = serde_json::from_str::<orgtrail::plan::Plan>(plan_json).map(|p| p.waves.into_iter().map(|w| w.name).collect()).unwrap_or_default();
    let rank = |w: &str| if w == orgtrail::executor::CENTRAL_WAVE { 0 } else { order.iter().position(|o| o == w).map_or(usize::MAX, |i| i + 1) };
    waves.sort_by_key(|w| rank(&w.wave));
    waves
}
