//! What a command ends with: an `Exit` (a recorded outcome, maybe not a success) or a `Failure`
//! (an error, with the exit class its typed error declared). The exit code is a `match` on them.
use std::fmt::Display;

pub use orgtrail::exit::{Classify, ExitClass};

/// A command that ran to its end. Exit codes: docs/operations.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok,
    /// Failures recorded in the state, failed access checks, verify findings, plan errors.
    Failures,
    /// Everything converged except what needs an operator (MFA Delete with the root user).
    ManualAction,
    /// Ctrl-C: the run stopped starting accounts and recorded itself interrupted.
    Interrupted,
    /// `plan --detailed-exitcode` found changes to make (Terraform's exit 2).
    ChangesPending,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failures => 1,
            Exit::ManualAction => 3,
            Exit::ChangesPending => 2,
            Exit::Interrupted => 130,
        }
    }
}

/// An error that stopped a command: its class (from the typed error it started as), the error
/// with the context the commands added, and a hint naming what to run or pass.
#[derive(Debug)]
pub struct Failure {
    pub class: ExitClass,
    pub error: anyhow::Error,
    pub hint: Option<String>,
}

impl<E: Classify + Remedy + std::error::Error + Send + Sync + 'static> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure { hint: e.remedy(), ..Failure::new(e.exit_class(), e) }
    }
}

/// What to run or pass about an error, for the errors whose remedy is a command or a flag: the
/// library's messages say what happened, the edge knows the command line.
pub trait Remedy {
    fn remedy(&self) -> Option<String> {
        None
    }
}

impl Remedy for orgtrail::config::ConfigError {}
impl Remedy for orgtrail::plan::PlanError {}
impl Remedy for orgtrail::aws::AwsError {}
impl Remedy for orgtrail::discovery::DiscoveryError {}
impl Remedy for orgtrail::steps::StepError {}
impl Remedy for orgtrail::policy::PolicyError {}
impl Remedy for std::io::Error {}

impl Remedy for orgtrail::selection::SelectionError {
    fn remedy(&self) -> Option<String> {
        Some("`orgtrail plan` lists the waves and the accounts each one targets".into())
    }
}
// The state crate's messages name their remedy themselves (its tests pin them).
impl Remedy for orgtrail_state::StateError {}

impl Remedy for orgtrail::remove::RemoveError {}

impl Remedy for orgtrail::saved_plan::CheckError {
    fn remedy(&self) -> Option<String> {
        match self {
            orgtrail::saved_plan::CheckError::Saved(e) => e.remedy(),
            orgtrail::saved_plan::CheckError::Rollout(e) => e.remedy(),
        }
    }
}

impl Remedy for orgtrail::saved_plan::SavedPlanError {
    fn remedy(&self) -> Option<String> {
        use orgtrail::saved_plan::SavedPlanError as E;
        match self {
            E::ConfigChanged { .. } | E::Moved { .. } => Some("make a new plan (`orgtrail plan --out FILE`), review it, and apply that one".into()),
            E::HasErrors { .. } => Some("fix what `orgtrail plan` shows in error, then make the plan again".into()),
            _ => None,
        }
    }
}

impl Remedy for orgtrail::executor::ExecError {
    fn remedy(&self) -> Option<String> {
        match self {
            orgtrail::executor::ExecError::State(e) => e.remedy(),
        }
    }
}

impl Remedy for orgtrail::rollout::RolloutError {
    fn remedy(&self) -> Option<String> {
        use orgtrail::rollout::RolloutError as E;
        match self {
            E::ConfigChanged { .. } => Some("finish it with the config it started with, or pass --new-run to start over, or --accept-config-change to continue it with the new config".into()),
            E::State(e) => e.remedy(),
            E::Exec(e) => e.remedy(),
            E::Selection(e) => e.remedy(),
            _ => None,
        }
    }
}

impl Remedy for orgtrail::remote_state::RemoteStateError {
    fn remedy(&self) -> Option<String> {
        use orgtrail::remote_state::RemoteStateError as E;
        match self {
            E::Locked { .. } => Some("if that process is gone, wait for its lease to end or run `orgtrail apply --force-unlock` (it names the holder it removes)".into()),
            E::LostRace { .. } => Some("see the newer state with `orgtrail status`, or `orgtrail state pull` to continue from it".into()),
            E::UnpushedLocalState { dir, url } => Some(format!("upload it with `orgtrail state push --state-dir {} --state {url}`, or use an empty --state-dir", dir.display())),
            E::NoRemoteState { url } => Some(format!("`orgtrail apply --state {url}` creates it")),
            E::State(e) => e.remedy(),
            _ => None,
        }
    }
}

impl Failure {
    pub fn new(class: ExitClass, error: impl Into<anyhow::Error>) -> Failure {
        Failure { class, error: error.into(), hint: None }
    }

    /// A flag, argument or file the operator gave is wrong.
    pub fn bad_input(message: impl Display + Send + Sync + 'static) -> Failure {
        Failure::new(ExitClass::BadInput, anyhow::Error::msg(message.to_string()))
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }

    pub fn code(&self) -> u8 {
        self.class.code()
    }

    /// `error: what: why: cause`, each cause once: SDK and thiserror messages often repeat their
    /// source's text, which anyhow's `{:#}` would print a second time.
    pub fn message(&self) -> String {
        let mut text = String::new();
        for cause in self.error.chain() {
            let part = cause.to_string();
            if part.is_empty() || text.contains(part.trim()) {
                continue;
            }
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
        text
    }
}

/// anyhow's `context` for every result that can become a `Failure`, keeping its class.
pub trait Context<T> {
    fn context<C: Display + Send + Sync + 'static>(self, context: C) -> Result<T, Failure>;
    fn with_context<C: Display + Send + Sync + 'static>(self, context: impl FnOnce() -> C) -> Result<T, Failure>;
}

impl<T, E: Into<Failure>> Context<T> for Result<T, E> {
    fn context<C: Display + Send + Sync + 'static>(self, context: C) -> Result<T, Failure> {
        self.map_err(|e| {
            let f = e.into();
            Failure { error: f.error.context(context), ..f }
        })
    }

    fn with_context<C: Display + Send + Sync + 'static>(self, context: impl FnOnce() -> C) -> Result<T, Failure> {
        self.map_err(|e| {
            let f = e.into();
            Failure { error: f.error.context(context()), ..f }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_is_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory (os error 2)");
        let config = orgtrail::config::ConfigError::Read { path: "orgtrail.toml".into(), source: io };
        let f = Failure::from(config);
        let text = f.message();
        assert_eq!(text.matches("No such file or directory").count(), 1, "{text}");
        assert_eq!(f.code(), 2);
    }

    #[test]
    fn context_keeps_the_class() {
        let r: Result<(), orgtrail_state::StateError> = Err(orgtrail_state::StateError::NoSuchRun("run-99".into()));
        let f = r.context("reading the state").unwrap_err();
        assert_eq!((f.class, f.message()), (ExitClass::BadInput, "reading the state: state has no run run-99".to_string()));
    }
}
