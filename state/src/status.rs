use serde::{Deserialize, Serialize};

/// The status of one (target, step) record, as rollout.md lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum StepStatus {
    Pending,
    Running,
    Done { detail: Option<String> },
    Failed { reason: String, error_code: Option<String> },
    Skipped { reason: String },
    NeedsManualAction { instructions: String },
}

impl StepStatus {
    /// The column value: short, indexable, stable across versions.
    pub fn kind(&self) -> &'static str {
        match self {
            StepStatus::Pending => "pending",
            StepStatus::Running => "running",
            StepStatus::Done { .. } => "done",
            StepStatus::Failed { .. } => "failed",
            StepStatus::Skipped { .. } => "skipped",
            StepStatus::NeedsManualAction { .. } => "needs-manual-action",
        }
    }

    /// Done and skipped steps are never run again in the same run.
    pub fn is_finished(&self) -> bool {
        matches!(self, StepStatus::Done { .. } | StepStatus::Skipped { .. })
    }

    /// The free-text parts, checked for secrets before writing.
    pub(crate) fn texts(&self) -> Vec<(&'static str, &str)> {
        match self {
            StepStatus::Pending | StepStatus::Running => vec![],
            StepStatus::Done { detail } => detail.as_deref().map(|d| vec![("detail", d)]).unwrap_or_default(),
            StepStatus::Failed { reason, error_code } => {
                let mut v = vec![("reason", reason.as_str())];
                if let Some(c) = error_code {
                    v.push(("error_code", c.as_str()));
                }
                v
            }
            StepStatus::Skipped { reason } => vec![("reason", reason.as_str())],
            StepStatus::NeedsManualAction { instructions } => vec![("instructions", instructions.as_str())],
        }
    }
}

/// How an `apply` invocation left its run, and so whether the run is *open* (the next `apply`
/// resumes it) or *finished* (the next `apply` starts a new run that observes everything again).
/// A run is open only while it is unfinished; one whose every step ended done, skipped or
/// needs-manual-action is finished (`Converged`), whatever manual actions are left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum RunOutcome {
    /// Finished: every step done, skipped or needs-manual-action (MFA Delete with the root user).
    Converged {
        #[serde(default)]
        manual_actions: usize,
    },
    /// Open: a central step failed (or refused), so no member wave started.
    CentralFailed { step: String },
    /// Open: accounts failed within their waves' tolerance.
    Failed {
        #[serde(default)]
        accounts: usize,
    },
    /// Open: a wave's failures exceeded its tolerance; later waves were not started.
    Halted { wave: String },
    /// Open: `pause_after` reached; the operator continues with `apply`.
    Paused { wave: String },
    /// Open: `--wave`/`--accounts` ran part of the run; the other accounts are still pending.
    Restricted { pending_accounts: usize },
    /// Open: Ctrl-C (or SIGTERM).
    Interrupted,
    /// Finished without converging: `apply --new-run` started `by` while this run was open.
    Superseded { by: String },
    /// Written by orgtrail before runs were finished by their outcome: a run that ended with only
    /// manual actions left (their number was not recorded). Read as finished.
    NeedsManualAction,
}

impl RunOutcome {
    /// Whether the next `apply` resumes this run (else it starts a new one).
    pub fn is_open(&self) -> bool {
        !matches!(self, RunOutcome::Converged { .. } | RunOutcome::Superseded { .. } | RunOutcome::NeedsManualAction)
    }

    /// Why the run is open or finished, for people: "converged, 1 manual action left".
    pub fn describe(&self) -> String {
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        match self {
            RunOutcome::Converged { manual_actions: 0 } => "converged".into(),
            RunOutcome::Converged { manual_actions } => format!("converged, {} left", plural(*manual_actions, "manual action")),
            RunOutcome::CentralFailed { step } => format!("central step {step} failed; no member wave started"),
            RunOutcome::Failed { accounts } => format!("{} failed", plural(*accounts, "account")),
            RunOutcome::Halted { wave } => format!("halted in wave {wave}: failures exceeded its tolerance"),
            RunOutcome::Paused { wave } => format!("paused after wave {wave} (pause_after)"),
            RunOutcome::Restricted { pending_accounts } => format!("restricted by --wave/--accounts; {} still pending", plural(*pending_accounts, "account")),
            RunOutcome::Interrupted => "interrupted".into(),
            RunOutcome::Superseded { by } => format!("superseded by {by} (--new-run) before it finished"),
            RunOutcome::NeedsManualAction => "converged, manual actions left".into(),
        }
    }
}

/// A run's lifecycle as `status` shows it: open (resumed by the next `apply`) or finished, and why.
/// `None` outcome: the first `apply` of the run is still going, or was killed.
pub fn lifecycle(outcome: Option<&RunOutcome>) -> (bool, String) {
    match outcome {
        None => (true, "running, or killed before it recorded an outcome".into()),
        Some(o) => (o.is_open(), o.describe()),
    }
}
