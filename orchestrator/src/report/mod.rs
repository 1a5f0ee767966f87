//! Renderers for people: aligned tables, status lines, the progress bars. Commands build the data
//! and write it out (stdout belongs to the binary's `commands/output.rs`).
pub mod progress;
pub mod redact;
pub mod table;

use orgtrail_state::StepStatus;

/// One line for a step status, as `status` and `apply` print it.
pub fn status_line(status: &StepStatus) -> String {
    match status {
        StepStatus::Pending => "pending".into(),
        StepStatus::Running => "running".into(),
        StepStatus::Done { detail } => format!("done{}", detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default()),
        StepStatus::Failed { reason, error_code } => format!("FAILED{}: {reason}", error_code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default()),
        StepStatus::Skipped { reason } => format!("skipped: {reason}"),
        StepStatus::NeedsManualAction { instructions } => format!("NEEDS MANUAL ACTION:\n{instructions}"),
    }
}
