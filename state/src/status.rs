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

/// How an `apply` invocation left its run. Only `Converged` closes a run: every other outcome
/// leaves it to be resumed by the next `apply`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum RunOutcome {
    Converged,
    /// Failures recorded (central step failed, or accounts failed within tolerance).
    Failed,
    /// A wave's failures exceeded its tolerance; later waves were not started.
    Halted { wave: String },
    /// `pause_after` reached: the operator resumes with `apply`.
    Paused { wave: String },
    /// Ctrl-C (or SIGTERM).
    Interrupted,
    /// All that is left needs an operator (MFA Delete with the root user).
    NeedsManualAction,
}

impl RunOutcome {
    pub fn closes_run(&self) -> bool {
        matches!(self, RunOutcome::Converged)
    }
}
