//! `orgtrail plan`: what `apply` would change, read-only. Central resources per step (create /
//! update with fields / no change), the waves with their accounts, the untargeted accounts, and
//! whether `apply` would resume a run (and whether the config changed since it started).
use std::path::Path;

use orgtrail::aws::Aws;
use orgtrail::config;
use orgtrail::executor::CentralStep;
use orgtrail::plan::observe::{observe, StepPlan};
use orgtrail::report::{self, table::Table};
use orgtrail::saved_plan::{ConfigRef, SavedPlan};
use orgtrail::steps::Action;
use orgtrail_state::StepId;
use serde::Serialize;

use super::output::{self, out, outln};
use crate::failure::{Exit, Failure};
use crate::settings::Settings;

/// Which run the next `apply` works in: the open one (resumed), or a new one after a finished run.
#[derive(Serialize)]
struct Resume {
    run: String,
    /// true: `apply` resumes `run`; false: `run` is finished and `apply` starts a new run.
    open: bool,
    /// Why `run` is open or finished ("halted in wave canary: ...", "converged, 1 manual action left").
    why: String,
    /// Only for an open run: a changed config makes `apply` refuse to resume it.
    config_changed: bool,
}

/// `out`: save the plan there (`apply --plan`). `detailed`: exit 2 when changes are pending.
pub async fn plan(settings: &Settings, members: bool, out: Option<&Path>, detailed: bool) -> Result<Exit, Failure> {
    let live = super::Live::load(settings, "orgtrail-plan").await?;
    let (config, aws, inventory, plan) = (&live.config, &live.aws, &live.inventory, &live.plan);
    let ctx = live.ctx();
    let observed = observe(&ctx, members, live.concurrency).await;
    let (steps, trail_missing) = (&observed.steps, observed.trail_missing);
    let saved = saved_plan(&live, settings, observed.members, steps.clone());
    if let Some(path) = out {
        // A plan with a step in error cannot be applied as planned: no file rather than a wrong one.
        if saved.errors() == 0 {
            saved.write(path)?;
        }
    }
    let resume = resume_info(settings, aws, config).await?;
    let central: Vec<StepId> = CentralStep::all(&ctx).iter().map(|s| s.id()).collect();
    let failed = steps.iter().any(|s| s.error.is_some());
    let saved_to = out.filter(|_| !failed).map(|p| p.display().to_string());
    if settings.output.json {
        output::json(&serde_json::json!({
            "organization": inventory.organization,
            "steps": steps,
            "waves": plan.waves,
            "untargeted": plan.untargeted,
            "resume": resume,
            "changes_pending": saved.has_changes(),
            "saved_plan": saved_to,
            "notes": super::cost_note::data_events(config).into_iter().collect::<Vec<_>>(),
            "api_calls": { "total": aws.metrics.total(), "writes": aws.metrics.write_calls(), "by_operation": aws.metrics.snapshot() },
        }))?;
    } else {
        let mut t = Table::new(["STEP", "ACCOUNT", "RESOURCE", "ACTION"]).keep_whole([0, 1]);
        let mut manual = Vec::new();
        for s in steps {
            if let Some(e) = &s.error {
                t.row([s.step.to_string(), s.target.clone(), "-".into(), format!("ERROR: {e}")]);
            }
            for c in &s.changes {
                t.row([s.step.to_string(), s.target.clone(), c.resource.clone(), action_text(&c.action)]);
                if let Action::ManualAction { instructions } = &c.action {
                    manual.push((s, c, instructions));
                }
            }
        }
        out!("{}", t.render())?;
        // Whole, below the table: prose wraps at the width, the commands in it stay on one line to copy.
        for (s, c, instructions) in manual {
            outln!("\nmanual action: {} in {}, {}:\n{}", s.step, s.target, c.resource, report::table::wrap_prose(instructions.trim_end(), "  ").trim_end())?;
        }
        outln!()?;
        let mut t = Table::new(["WAVE", "ACCOUNTS", "CONCURRENCY", "TOLERANCE", "PAUSE AFTER", "FIRST ACCOUNTS"]).keep_whole(0..5);
        for w in &plan.waves {
            let first = w.accounts.iter().take(3).cloned().collect::<Vec<_>>().join(",") + if w.accounts.len() > 3 { ",…" } else { "" };
            t.row([w.name.clone(), w.accounts.len().to_string(), w.max_concurrency.to_string(), w.failure_tolerance.to_string(), w.pause_after.to_string(), first]);
        }
        out!("{}", t.render())?;
        if !plan.untargeted.is_empty() {
            outln!("\nnot targeted ({}):", plan.untargeted.len())?;
            for u in &plan.untargeted {
                outln!("  {} {}: {}", u.account, u.name, u.reason)?;
            }
        }
        if let Some(note) = super::cost_note::data_events(config) {
            out!("\n{}", report::table::wrap_prose(&note, ""))?;
        }
        if trail_missing {
            out!("\n{}", report::table::wrap_prose("member accounts are checked once the organization trail exists: `apply` creates it, then checks each account in its wave", ""))?;
        }
        match &resume {
            Some(r) if r.open => {
                let text = format!(
                    "`apply` would resume {} ({}){}",
                    r.run,
                    r.why,
                    if r.config_changed { ": the config CHANGED since it started — apply refuses unless --new-run or --accept-config-change" } else { ", same config" }
                );
                out!("\n{}", report::table::wrap_prose(&text, ""))?;
            }
            Some(r) => out!("\n{}", report::table::wrap_prose(&format!("`apply` would start a new run: {} is finished ({})", r.run, r.why), ""))?,
            None => {}
        }
        if let Some(s) = steps.iter().find(|s| s.refused && central.contains(&s.step)) {
            outln!("\n`apply` would refuse at {} before its first write (see the ERROR above)", s.step)?;
        }
        match (out, &saved_to) {
            (Some(_), Some(p)) => out!("\n{}", report::table::wrap_prose(&saved_note(&saved, p), ""))?,
            (Some(p), None) => outln!("\nno plan saved to {}: steps are in error (above)", p.display())?,
            (None, _) => {}
        }
    }
    Ok(match (failed, detailed) {
        (true, _) => Exit::Failures,
        (false, true) if saved.has_changes() => Exit::ChangesPending,
        (false, _) => Exit::Ok,
    })
}

/// The plan as `plan --out` saves it.
fn saved_plan(live: &super::Live<'_>, settings: &Settings, members: bool, steps: Vec<StepPlan>) -> SavedPlan {
    let config = ConfigRef { path: settings.config_path.display().to_string(), fingerprint: config::fingerprint(live.config) };
    SavedPlan::new(config, live.inventory.organization.clone(), live.caller.account.clone(), live.plan.waves.clone(), members, steps)
}

fn saved_note(saved: &SavedPlan, path: &str) -> String {
    let scope = if saved.members_observed { "the central steps and every targeted account's member steps" } else { "the central steps only (member steps were not observed: `plan --members` once the trail exists); the waves wait for the next plain `apply`" };
    format!("saved the plan to {path}: `orgtrail apply --plan {path}` writes exactly these changes, to {scope}, and refuses if the config or the live state moved")
}

fn action_text(a: &Action) -> String {
    match a {
        Action::Create => "create".into(),
        Action::Update { fields } => format!("update: {}", fields.join(", ")),
        Action::NoChange => "no change".into(),
        Action::Delete => "delete".into(),
        Action::ManualAction { .. } => "manual action (below)".into(),
    }
}

/// The run the next `apply` works in, read from the state where `apply` would find it (the
/// same `Settings::state`, remote or local).
async fn resume_info(settings: &Settings, aws: &Aws, config: &config::Config) -> Result<Option<Resume>, Failure> {
    let Some(view) = super::state::view(settings, Some(aws)).await? else { return Ok(None) };
    let Some(latest) = view.store.runs()?.into_iter().next() else { return Ok(None) };
    let config_changed = latest.open && latest.config_fingerprint != config::fingerprint(config);
    Ok(Some(Resume { run: latest.id, open: latest.open, why: latest.why, config_changed }))
}
