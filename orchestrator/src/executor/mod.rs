//! Runs a plan: the central steps (log-archive account, then management account), then the
//! member waves in order. Every step result is recorded in the state store before the target's
//! next step starts. The central steps are observed (and converged) on every `apply`, resumed or
//! not: they are a few dozen calls, and skipping them would hide drift behind "done earlier" (a
//! resume observes them all at once, `reobserve`, and converges in order only what differs). On
//! resume only member accounts already done in the run are skipped; everything else is re-run (each
//! step is idempotent: it reads, compares and converges). Before the first central write, the
//! preflight looks for what would make a step refuse, so a refused run writes nothing. The
//! executor never prints: it reports to a `Sink`.
pub mod preflight;
mod reobserve;
pub mod step;
pub mod waves;

use futures::future::join_all;
use orgtrail_state::{StepId, StepStatus, Store};
use serde::Serialize;

use crate::plan::{Plan, PlannedWave};
use crate::steps::{Change, Ctx, StepError, StepResult};
pub use step::{CentralStep, MemberStep};
pub use waves::{run_wave, AccountOutcome, Cancel, WaveResult};

/// Where the central steps are recorded: a pseudo-wave before the member waves.
pub const CENTRAL_WAVE: &str = "central";

fn failed(e: &StepError) -> StepStatus {
    StepStatus::Failed { reason: e.to_string(), error_code: e.code() }
}

/// Progress and event reporting. No method has a default: a sink that wraps another (the
/// remote-state checkpoint sink) must forward every event, or counts built from pairs of events
/// (accounts in flight) go wrong.
pub trait Sink: Send + Sync {
    fn wave_started(&self, wave: &PlannedWave, already_done: usize);
    fn account_started(&self, wave: &str, account: &str);
    fn account_finished(&self, wave: &str, account: &str, outcome: &AccountOutcome);
    fn wave_finished(&self, wave: &str, result: &WaveResult);
    fn step_finished(&self, target: &str, step: &str, status: &StepStatus);
}

pub struct NoSink;
impl Sink for NoSink {
    fn wave_started(&self, _: &PlannedWave, _: usize) {}
    fn account_started(&self, _: &str, _: &str) {}
    fn account_finished(&self, _: &str, _: &str, _: &AccountOutcome) {}
    fn wave_finished(&self, _: &str, _: &WaveResult) {}
    fn step_finished(&self, _: &str, _: &str, _: &StepStatus) {}
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    State(#[from] orgtrail_state::StateError),
}

impl crate::exit::Classify for ExecError {
    fn exit_class(&self) -> crate::exit::ExitClass {
        match self {
            ExecError::State(e) => crate::exit::Classify::exit_class(e),
        }
    }
}

/// How a central step ended, and what it changed (the same `Change`s `plan` reports).
#[derive(Debug, Clone, Serialize)]
pub struct CentralResult {
    pub target: String,
    pub step: StepId,
    pub status: StepStatus,
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stop {
    /// Every wave ran.
    Completed,
    /// A central step failed: member waves did not start.
    CentralFailed,
    /// A wave's failures exceeded its tolerance.
    Halted,
    /// A wave with `pause_after` finished; the next apply continues.
    Paused,
    Cancelled,
}

pub struct Executor<'a> {
    pub ctx: Ctx<'a>,
    pub store: &'a Store,
    pub run: String,
    pub cancel: Cancel,
    pub sink: &'a dyn Sink,
}

impl Executor<'_> {
    /// A new run's records: every (target, step) pending, in one transaction, so `status` shows
    /// the whole rollout from the start.
    pub fn record_pending(&self, plan: &Plan) -> Result<(), ExecError> {
        let pending = StepStatus::Pending;
        let central: Vec<(String, &str)> = CentralStep::all(&self.ctx).into_iter().map(|s| (s.target(&self.ctx), s.name())).collect();
        let members = MemberStep::all(&self.ctx);
        let mut items: Vec<(&str, &str, &str, &StepStatus)> = central.iter().map(|(t, s)| (t.as_str(), CENTRAL_WAVE, *s, &pending)).collect();
        for w in &plan.waves {
            for a in &w.accounts {
                items.extend(members.iter().map(|s| (a.as_str(), w.name.as_str(), s.name(), &pending)));
            }
        }
        Ok(self.store.record_many(&self.run, items)?)
    }

    /// Run one step and record running, then its result, durably. A member step already done in
    /// this run (`skip_done`) is not run again; central steps always run.
    async fn step(&self, target: &str, wave: &str, step: &str, skip_done: bool, work: impl std::future::Future<Output = StepResult>) -> Result<(StepStatus, Vec<Change>), ExecError> {
        if skip_done {
            if let Some(status) = self.store.step_status(&self.run, target, step)?.filter(StepStatus::is_finished) {
                return Ok((status, Vec::new()));
            }
        }
        self.store.record(&self.run, target, wave, step, &StepStatus::Running)?;
        let (status, changes) = match work.await {
            Ok(outcome) => {
                let status = match outcome.manual_instructions() {
                    Some(instructions) => StepStatus::NeedsManualAction { instructions },
                    None => StepStatus::Done { detail: Some(outcome.summary()) },
                };
                (status, outcome.changes)
            }
            Err(e) => (failed(&e), Vec::new()),
        };
        self.store.record(&self.run, target, wave, step, &status)?;
        self.sink.step_finished(target, step, &status);
        Ok((status, changes))
    }

    /// The central steps in order, independent neighbours at once (`CentralStep::groups`); stops
    /// after the group of the first failure (later steps build on earlier ones).
    /// A refusal the preflight finds is recorded on its step before anything is written.
    pub async fn run_central(&self) -> Result<Vec<CentralResult>, ExecError> {
        let all = CentralStep::all(&self.ctx);
        if let Err((s, e)) = preflight::check(&self.ctx, &all).await {
            let (target, status) = (s.target(&self.ctx), failed(&e));
            self.store.record(&self.run, &target, CENTRAL_WAVE, s.name(), &status)?;
            self.sink.step_finished(&target, s.name(), &status);
            return Ok(vec![CentralResult { target, step: s.id(), status, changes: Vec::new() }]);
        }
        let mut results = Vec::new();
        for group in CentralStep::groups(&self.ctx, &all) {
            if self.cancel.is_cancelled() {
                break;
            }
            // A group's steps build on nothing of each other's: they run at once, and all finish
            // before the next group starts.
            let ran = join_all(group.iter().map(|s| async move {
                let target = s.target(&self.ctx);
                self.step(&target, CENTRAL_WAVE, s.name(), false, s.run(&self.ctx)).await.map(|(status, changes)| CentralResult { target, step: s.id(), status, changes })
            }))
            .await;
            let mut failed = false;
            for r in ran {
                let r = r?;
                failed |= matches!(r.status, StepStatus::Failed { .. });
                results.push(r);
            }
            if failed {
                break;
            }
        }
        Ok(results)
    }

    /// One account's member steps, stopping at its first failure.
    async fn run_account(&self, wave: &str, account: &str) -> Result<AccountOutcome, ExecError> {
        let outcome = self.run_account_steps(wave, account).await;
        self.ctx.aws.forget_session(account);
        outcome
    }

    async fn run_account_steps(&self, wave: &str, account: &str) -> Result<AccountOutcome, ExecError> {
        let mut manual = false;
        for s in MemberStep::all(&self.ctx) {
            let (status, _) = self.step(account, wave, s.name(), true, s.run(&self.ctx, account)).await?;
            match status {
                StepStatus::Failed { reason, error_code } => return Ok(AccountOutcome::Failed { step: s.name().into(), reason, code: error_code }),
                StepStatus::NeedsManualAction { .. } => manual = true,
                _ => {}
            }
        }
        Ok(if manual { AccountOutcome::NeedsManualAction } else { AccountOutcome::Done })
    }

    /// The member waves in order, from the first with unfinished accounts. `only` restricts the
    /// accounts (and `only_wave` the wave) this invocation works on; the rest stay pending.
    pub async fn run_waves(&self, plan: &Plan, only_wave: Option<&str>, only: Option<&[String]>) -> Result<(Stop, Vec<(String, WaveResult)>), ExecError> {
        let mut results = Vec::new();
        let steps: Vec<&str> = MemberStep::all(&self.ctx).iter().map(|s| s.name()).collect();
        for wave in &plan.waves {
            if only_wave.is_some_and(|w| w != wave.name) {
                continue;
            }
            let scan = std::time::Instant::now();
            let mut todo = Vec::new();
            for a in &wave.accounts {
                if only.is_some_and(|o| !o.contains(a)) {
                    continue;
                }
                if !self.account_done(a, &steps)? {
                    todo.push(a.clone());
                }
            }
            if todo.is_empty() {
                continue;
            }
            // bench/ times resume with this line (the wave's first account starts right after it).
            tracing::info!(
                "wave {}: {} accounts to do, {} done earlier (state scanned in {} ms); starting",
                wave.name,
                todo.len(),
                wave.accounts.len() - todo.len(),
                scan.elapsed().as_millis()
            );
            self.sink.wave_started(wave, wave.accounts.len() - todo.len());
            let state_error = std::sync::Mutex::new(None);
            let result = run_wave(&todo, wave.max_concurrency, wave.failure_tolerance, &self.cancel, |account| {
                let state_error = &state_error;
                async move {
                    self.sink.account_started(&wave.name, &account);
                    let outcome = match self.run_account(&wave.name, &account).await {
                        Ok(o) => o,
                        Err(e) => {
                            // The state store failing is fatal: stop scheduling, surface it after.
                            self.cancel.cancel();
                            let reason = e.to_string();
                            *state_error.lock().expect("lock") = Some(e);
                            AccountOutcome::Failed { step: "record".into(), reason, code: None }
                        }
                    };
                    self.sink.account_finished(&wave.name, &account, &outcome);
                    outcome
                }
            })
            .await;
            if let Some(e) = state_error.into_inner().expect("lock") {
                return Err(e);
            }
            self.sink.wave_finished(&wave.name, &result);
            let (halted, cancelled) = (result.halted, result.cancelled);
            results.push((wave.name.clone(), result));
            if cancelled {
                return Ok((Stop::Cancelled, results));
            }
            if halted {
                return Ok((Stop::Halted, results));
            }
            if wave.pause_after && only_wave.is_none() {
                return Ok((Stop::Paused, results));
            }
        }
        Ok((Stop::Completed, results))
    }

    fn account_done(&self, account: &str, steps: &[&str]) -> Result<bool, ExecError> {
        for s in steps {
            if !matches!(self.store.step_status(&self.run, account, s)?, Some(StepStatus::Done { .. } | StepStatus::Skipped { .. })) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
