//! `apply`: discover → plan → open the state (resume the open run or start one) → central steps →
//! waves → record the run's outcome. A run is open only while it is unfinished; a finished run
//! (converged, whatever manual actions are left) is never resumed: the next `apply` starts a new
//! run that observes everything again. The CLI only parses flags and prints the `ApplyReport`.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use orgtrail_state::{NewRun, RunOutcome, StepStatus, Store};
use serde::Serialize;

use crate::aws::{Aws, CallerIdentity};
use crate::config::{self, Config};
use crate::discovery::{discover, DiscoverOptions, Inventory};
use crate::executor::{Cancel, CentralResult, CentralStep, Executor, MemberStep, Sink, Stop, WaveResult};
use crate::plan::{plan, Plan};
use crate::steps::Ctx;

/// The state directory next to the config: `orgtrail.toml` → `orgtrail.state/`.
pub fn default_state_dir(config_path: &Path) -> PathBuf {
    let stem = config_path.file_stem().map_or("orgtrail".into(), |s| s.to_string_lossy().into_owned());
    config_path.parent().unwrap_or(Path::new(".")).join(format!("{stem}.state"))
}

#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    pub new_run: bool,
    /// Continue the open run although the config changed since it started.
    pub accept_config_change: bool,
    pub only_wave: Option<String>,
    pub only_accounts: Option<Vec<String>>,
}

impl ApplyOptions {
    /// `--wave`/`--accounts`: this invocation works on part of the run.
    pub fn restricted(&self) -> bool {
        self.only_wave.is_some() || self.only_accounts.is_some()
    }
}

#[derive(Debug, Serialize)]
pub struct ApplyReport {
    pub run: String,
    pub resumed: bool,
    pub central: Vec<CentralResult>,
    pub stop: Stop,
    pub waves: Vec<WaveSummary>,
    pub outcome: RunOutcome,
    /// Whether the next `apply` resumes this run (else it starts a new one), and why, in words.
    pub open: bool,
    pub why: String,
    pub state_dir: PathBuf,
}

#[derive(Debug, Serialize)]
pub struct WaveSummary {
    pub wave: String,
    pub done: usize,
    pub failed: usize,
    pub needs_manual_action: usize,
    pub not_started: usize,
    pub halted: bool,
    pub failures: Vec<AccountFailure>,
}

#[derive(Debug, Serialize)]
pub struct AccountFailure {
    pub account: String,
    pub step: String,
    pub reason: String,
    pub error_code: Option<String>,
}

impl WaveSummary {
    fn of(wave: String, r: &WaveResult) -> Self {
        use crate::executor::AccountOutcome as O;
        let failures = r
            .outcomes
            .iter()
            .filter_map(|(a, o)| match o {
                O::Failed { step, reason, code } => Some(AccountFailure { account: a.clone(), step: step.clone(), reason: reason.clone(), error_code: code.clone() }),
                _ => None,
            })
            .collect();
        WaveSummary {
            wave,
            done: r.count(|o| *o == O::Done),
            failed: r.failed(),
            needs_manual_action: r.count(|o| *o == O::NeedsManualAction),
            not_started: r.count(|o| *o == O::NotStarted),
            halted: r.halted,
            failures,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    #[error(transparent)]
    State(#[from] orgtrail_state::StateError),
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
    #[error("discovering the organization: {0}")]
    Discovery(#[from] crate::discovery::DiscoveryError),
    #[error(transparent)]
    Exec(#[from] crate::executor::ExecError),
    /// The command layer says how to go on (`--new-run`, `--accept-config-change`).
    #[error("the config changed since run {run} started ({path}); the open run is resumed only with the config it started with")]
    ConfigChanged { run: String, path: String },
    #[error("organization {actual} is not the one the config names ({expected}, organization.id in {path})")]
    WrongOrganization { expected: String, actual: String, path: String },
    #[error(transparent)]
    Aws(#[from] crate::aws::AwsError),
    #[error(transparent)]
    Selection(#[from] crate::selection::SelectionError),
    #[error("{0}")]
    Other(String),
}

impl crate::exit::Classify for RolloutError {
    fn exit_class(&self) -> crate::exit::ExitClass {
        use crate::exit::ExitClass;
        match self {
            RolloutError::State(e) => e.exit_class(),
            RolloutError::Exec(e) => e.exit_class(),
            RolloutError::Discovery(e) => e.exit_class(),
            RolloutError::Aws(e) => e.exit_class(),
            RolloutError::Plan(_) | RolloutError::Selection(_) | RolloutError::ConfigChanged { .. } | RolloutError::WrongOrganization { .. } | RolloutError::Other(_) => ExitClass::BadInput,
        }
    }
}

/// On resume there is no rediscovery: one call checks the credentials still reach the
/// organization the state belongs to.
pub async fn check_organization(aws: &Aws, store: &Store) -> Result<(), RolloutError> {
    aws.organizations_permit().await;
    let out = aws.organizations().describe_organization().send().await.map_err(crate::aws::aws_err("Organizations.DescribeOrganization"))?;
    let id = out.organization.and_then(|o| o.id).unwrap_or_default();
    store.bind_organization(&id)?;
    Ok(())
}

/// Discovery with tags only when a wave selects by tag (tags cost one call per account).
pub async fn inventory(aws: &Aws, config: &Config, config_path: &Path) -> Result<Inventory, RolloutError> {
    let with_tags = config.waves.iter().any(|w| !w.tags.is_empty());
    let inv = discover(aws, &DiscoverOptions { with_tags }).await?;
    if let Some(expected) = &config.organization.id {
        if expected != &inv.organization.id {
            return Err(RolloutError::WrongOrganization { expected: expected.clone(), actual: inv.organization.id.clone(), path: config_path.display().to_string() });
        }
    }
    Ok(inv)
}

/// Decide the run: resume the open one (same config, or `--accept-config-change`), or start a new
/// one with pending records. A finished run never blocks a config change: it is not resumed.
fn open_run(store: &Store, config: &Config, config_path: &Path, inv: Option<Inventory>, opts: &ApplyOptions) -> Result<(String, Inventory, Plan, bool), RolloutError> {
    let fingerprint = config::fingerprint(config);
    if !opts.new_run {
        if let Some(run) = store.latest_open_run()? {
            if run.config_fingerprint != fingerprint && !opts.accept_config_change {
                return Err(RolloutError::ConfigChanged { run: run.id.clone(), path: config_path.display().to_string() });
            }
            // Resume with the inventory and plan the run started with: no rediscovery, so a
            // resume of 10,000 accounts starts at once and never mixes two plans in one run.
            let inventory: Inventory = serde_json::from_str(&run.inventory_json).map_err(|e| RolloutError::Other(format!("run {}: stored inventory unreadable: {e}", run.id)))?;
            let plan: Plan = serde_json::from_str(&run.plan_json).map_err(|e| RolloutError::Other(format!("run {}: stored plan unreadable: {e}", run.id)))?;
            if run.config_fingerprint != fingerprint {
                // The accepted new config's central accounts must still be members of the organization.
                crate::plan::check_accounts(config, &inventory, config_path)?;
            }
            crate::selection::check_plan(&plan, &inventory, opts.only_wave.as_deref(), opts.only_accounts.as_deref())?;
            return Ok((run.id, inventory, plan, true));
        }
    }
    let inventory = inv.ok_or_else(|| RolloutError::Other("no inventory for a new run".into()))?;
    let plan = plan(config, &inventory, config_path)?;
    crate::selection::check_plan(&plan, &inventory, opts.only_wave.as_deref(), opts.only_accounts.as_deref())?;
    let run = store.create_run(NewRun {
        config_fingerprint: fingerprint,
        config_path: config_path.display().to_string(),
        org_id: inventory.organization.id.clone(),
        inventory_json: serde_json::to_string(&inventory).expect("inventory serializes"),
        plan_json: serde_json::to_string(&plan).expect("plan serializes"),
    })?;
    Ok((run, inventory, plan, false))
}

fn central_failed(central: &[CentralResult]) -> bool {
    central.iter().any(|c| matches!(c.status, StepStatus::Failed { .. }))
}

/// Whether every central step of the run ended (done, or waiting for a person) in an earlier
/// invocation: then a resume observes them again all at once (`Executor::reobserve_central`).
fn central_converged(exec: &Executor<'_>) -> Result<bool, RolloutError> {
    for s in CentralStep::all(&exec.ctx) {
        match exec.store.step_status(&exec.run, &s.target(&exec.ctx), s.name())? {
            Some(st) if st.is_finished() || matches!(st, StepStatus::NeedsManualAction { .. }) => {}
            _ => return Ok(false),
        }
    }
    Ok(true)
}

pub struct Rollout<'a> {
    pub aws: &'a Aws,
    pub config: &'a Config,
    pub config_path: &'a Path,
    pub store: &'a Store,
    pub caller: &'a CallerIdentity,
    pub cancel: Cancel,
    pub sink: &'a dyn Sink,
}

impl Rollout<'_> {
    /// Whether `apply` would resume (so discovery can be skipped). Reads the run's header only:
    /// its stored inventory and plan (4 MB at 10,000 accounts) are read once, by `apply`.
    pub fn resumable(&self, opts: &ApplyOptions) -> Result<bool, RolloutError> {
        Ok(!opts.new_run && self.store.has_open_run()?)
    }

    /// `inv`: the discovered inventory for a new run (moved in: at 10,000 accounts a copy is ~7 MB), or None to resume.
    pub async fn apply(&self, inv: Option<Inventory>, opts: &ApplyOptions) -> Result<ApplyReport, RolloutError> {
        let opened = std::time::Instant::now();
        let (run, inventory, plan, resumed) = open_run(self.store, self.config, self.config_path, inv, opts)?;
        tracing::info!("run {run}: state and plan loaded in {} ms (resumed: {resumed}, {} accounts)", opened.elapsed().as_millis(), inventory.accounts.len());
        let targets = plan.targets();
        let ctx = Ctx { aws: self.aws, config: self.config, org: &inventory.organization, caller: self.caller, targets: &targets, apply: true };
        let exec = Executor { ctx, store: self.store, run: run.clone(), cancel: self.cancel.clone(), sink: self.sink };
        if !resumed {
            exec.record_pending(&plan)?;
        }
        let central = if resumed && central_converged(&exec)? { exec.reobserve_central().await? } else { exec.run_central().await? };
        let (stop, waves) = if central_failed(&central) {
            (Stop::CentralFailed, Vec::new())
        } else if self.cancel.is_cancelled() {
            (Stop::Cancelled, Vec::new())
        } else {
            exec.run_waves(&plan, opts.only_wave.as_deref(), opts.only_accounts.as_deref()).await?
        };
        let outcome = self.outcome(&run, &plan, &exec, stop, &central, &waves, opts)?;
        self.store.finish_run(&run, outcome.clone())?;
        Ok(ApplyReport {
            run,
            resumed,
            central,
            stop,
            waves: waves.iter().map(|(w, r)| WaveSummary::of(w.clone(), r)).collect(),
            open: outcome.is_open(),
            why: outcome.describe(),
            outcome,
            state_dir: PathBuf::new(),
        })
    }

    /// The run's outcome from the records (not just this invocation's work).
    #[allow(clippy::too_many_arguments)]
    fn outcome(&self, run: &str, plan: &Plan, exec: &Executor<'_>, stop: Stop, central: &[CentralResult], waves: &[(String, WaveResult)], opts: &ApplyOptions) -> Result<RunOutcome, RolloutError> {
        let last_wave = || waves.last().map(|(w, _)| w.clone()).unwrap_or_default();
        Ok(match stop {
            Stop::Cancelled => RunOutcome::Interrupted,
            Stop::CentralFailed => {
                let step = central.iter().find(|c| matches!(c.status, StepStatus::Failed { .. })).map_or("", |c| c.step.as_str());
                RunOutcome::CentralFailed { step: step.into() }
            }
            Stop::Halted => RunOutcome::Halted { wave: last_wave() },
            Stop::Paused => RunOutcome::Paused { wave: last_wave() },
            Stop::Completed => {
                // Every (target, step) of the run has a record from the start (pending), so one read
                // of the records decides; a step the current config has but no record has is unfinished.
                let (central, member) = (CentralStep::all(&exec.ctx), MemberStep::all(&exec.ctx));
                let steps: Vec<&str> = central.iter().map(|s| s.name()).chain(member.iter().map(|s| s.name())).collect();
                let counts = self.store.target_counts(run, &steps)?;
                let manual_actions = counts.iter().map(|t| t.needs_manual_action).sum();
                let failed: BTreeSet<&str> = counts.iter().filter(|t| t.failed > 0).map(|t| t.target.as_str()).collect();
                let mut unfinished: BTreeSet<&str> = counts.iter().filter(|t| t.unfinished > 0).map(|t| t.target.as_str()).collect();
                let recorded: BTreeMap<&str, usize> = counts.iter().map(|t| (t.target.as_str(), t.records)).collect();
                // An account missing a record of a step the current config has (an accepted config change) is unfinished too.
                let targets = plan.targets();
                unfinished.extend(targets.iter().map(String::as_str).filter(|t| recorded.get(t).copied().unwrap_or(0) < member.len()));
                if !failed.is_empty() {
                    RunOutcome::Failed { accounts: failed.len() }
                } else if !unfinished.is_empty() {
                    if opts.restricted() {
                        RunOutcome::Restricted { pending_accounts: unfinished.len() }
                    } else {
                        // Every wave ran to its end, yet accounts are unfinished: count them as failed,
                        // so the run stays open and the next apply retries them.
                        RunOutcome::Failed { accounts: unfinished.len() }
                    }
                } else {
                    RunOutcome::Converged { manual_actions }
                }
            }
        })
    }
}
