//! `orgtrail plan`: what `apply` would change, read-only. Central resources per step (create /
//! update with fields / no change), the waves with their accounts, the untargeted accounts, and
//! whether `apply` would resume a run (and whether the config changed since it started).
use futures::stream::{self, StreamExt};
use orgtrail::aws::Aws;
use orgtrail::config;
use orgtrail::executor::{CentralStep, MemberStep};
use orgtrail::report::{self, table::Table};
use orgtrail::steps::{Action, Change, Outcome, StepError};
use orgtrail_state::StepId;
use serde::Serialize;

use super::output::{self, out, outln};
use crate::failure::{Exit, Failure};
use crate::settings::Settings;

#[derive(Serialize)]
struct StepPlan {
    step: StepId,
    target: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    changes: Vec<Change>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// orgtrail's own refusal (not an AWS error): `apply` finds it too, before its first write.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    refused: bool,
}

impl StepPlan {
    fn of(step: StepId, target: &str, r: Result<Outcome, StepError>) -> Self {
        match r {
            Ok(o) => StepPlan { step, target: target.into(), changes: o.changes, error: None, refused: false },
            Err(e) => StepPlan { step, target: target.into(), changes: vec![], refused: matches!(e, StepError::Refused { .. }), error: Some(e.to_string()) },
        }
    }
}

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

pub async fn plan(settings: &Settings, members: bool) -> Result<Exit, Failure> {
    let live = super::Live::load(settings, "orgtrail-plan").await?;
    let (config, aws, inventory, plan, targets, concurrency) = (&live.config, &live.aws, &live.inventory, &live.plan, &live.targets, live.concurrency);
    let ctx = live.ctx();
    let mut steps = Vec::new();
    for s in CentralStep::all(&ctx) {
        let target = s.target(&ctx);
        steps.push(StepPlan::of(s.id(), &target, s.run(&ctx).await));
    }
    if let Some(r) = orgtrail::steps::trusted_access::delegation_plan(&ctx).await {
        steps.push(StepPlan::of(StepId::DelegatedAdmin, ctx.management_account(), r));
    }
    // Member checks look for the trail from each account: before it exists they can only fail.
    let trail_missing = steps.iter().any(|s| s.step == StepId::OrgTrail && s.changes.iter().any(|c| c.action == Action::Create));
    let members = members && !trail_missing;
    if members {
        let member_steps = MemberStep::all(&ctx);
        let ctx = &ctx;
        let per_account: Vec<Vec<StepPlan>> = stream::iter(targets.iter())
            .map(|a| {
                let member_steps = member_steps.clone();
                async move {
                    let mut out = Vec::new();
                    for s in member_steps {
                        let r = s.run(ctx, a).await;
                        let failed = r.is_err();
                        out.push(StepPlan::of(s.id(), a, r));
                        if failed {
                            break;
                        }
                    }
                    out
                }
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        let mut all: Vec<StepPlan> = per_account.into_iter().flatten().collect();
        all.sort_by(|a, b| (&a.target, a.step.as_str()).cmp(&(&b.target, b.step.as_str())));
        steps.extend(all);
    }
    let resume = resume_info(settings, aws, config).await?;
    let central: Vec<StepId> = CentralStep::all(&ctx).iter().map(|s| s.id()).collect();
    let failed = steps.iter().any(|s| s.error.is_some());
    if settings.output.json {
        output::json(&serde_json::json!({
            "organization": inventory.organization,
            "steps": steps,
            "waves": plan.waves,
            "untargeted": plan.untargeted,
            "resume": resume,
            "notes": super::cost_note::data_events(config).into_iter().collect::<Vec<_>>(),
            "api_calls": { "total": aws.metrics.total(), "writes": aws.metrics.write_calls(), "by_operation": aws.metrics.snapshot() },
        }))?;
    } else {
        let mut t = Table::new(["STEP", "ACCOUNT", "RESOURCE", "ACTION"]).keep_whole([0, 1]);
        let mut manual = Vec::new();
        for s in &steps {
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
    }
    Ok(if failed { Exit::Failures } else { Exit::Ok })
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
