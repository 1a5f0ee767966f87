//! Renderers for people (aligned tables) and machines (JSON). Commands build data; this prints it.
pub mod redact;
pub mod table;

use serde::Serialize;

/// Pretty JSON on stdout: the one machine-readable format of every command.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    use std::io::Write;
    writeln!(out)?;
    Ok(())
}
pub mod progress;

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
