//! Exit classes: every error type says what kind of failure it is, and the binary turns that into
//! an exit code with a `match` (docs/operations.md, "Exit codes"). A recorded outcome (failures
//! in the state, verify findings, manual actions, Ctrl-C) is not an error: the command returns it.
//!
//! Impls for the error types of this crate's modules live next to them; here are those of the
//! modules that only define errors (AWS calls, steps, policies, the plan), of the state crate and
//! of `io`.
use orgtrail_state::StateError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitClass {
    /// What the operator gave: flags, the config, a state that is corrupt or not this
    /// organization's, a run id that does not exist. Exit 2.
    BadInput,
    /// What orgtrail runs in: credentials, the network, AWS refusing or failing a call, a state
    /// directory that cannot be written. Exit 2.
    Environment,
    /// Another orgtrail holds or changed the state (a held lock, a lost lease, a lost race):
    /// nothing was overwritten; try again once it is done. Exit 1, as a refusal.
    Conflict,
    /// A step failed or refused outside a run (`delegate`, `mfa-delete`, `render-policies`): exit
    /// 1, as the same step failing in `apply` is a recorded failure.
    StepFailed,
}

impl ExitClass {
    pub fn code(self) -> u8 {
        match self {
            ExitClass::BadInput | ExitClass::Environment => 2,
            ExitClass::Conflict | ExitClass::StepFailed => 1,
        }
    }
}

/// Implemented by every error type that can reach the binary.
pub trait Classify {
    fn exit_class(&self) -> ExitClass;
}

// Not next to ConfigError: the config module compiles alone in the fuzz target (fuzz/), which
// has no `exit` module.
impl Classify for crate::config::ConfigError {
    fn exit_class(&self) -> ExitClass {
        ExitClass::BadInput
    }
}

impl Classify for StateError {
    fn exit_class(&self) -> ExitClass {
        match self {
            StateError::Locked { .. } | StateError::LockedUnknown { .. } => ExitClass::Conflict,
            StateError::Corrupt { .. } | StateError::OtherOrganization { .. } | StateError::NoSuchRun(_) | StateError::Decode { .. } | StateError::SecretRejected { .. } => ExitClass::BadInput,
            StateError::Io { .. } | StateError::Sqlite { .. } => ExitClass::Environment,
        }
    }
}

/// Waves that name what the organization does not have, central accounts outside it.
impl Classify for crate::plan::PlanError {
    fn exit_class(&self) -> ExitClass {
        ExitClass::BadInput
    }
}

impl Classify for crate::aws::AwsError {
    fn exit_class(&self) -> ExitClass {
        ExitClass::Environment
    }
}

impl Classify for crate::discovery::DiscoveryError {
    fn exit_class(&self) -> ExitClass {
        ExitClass::Environment
    }
}

/// A step that could not reach AWS at all (no connection, a timeout) failed in what orgtrail runs
/// in, not in what it did: exit 2, as every unreachable endpoint.
impl Classify for crate::steps::StepError {
    fn exit_class(&self) -> ExitClass {
        match self {
            crate::steps::StepError::Aws(e) if matches!(e.source.code.as_deref(), Some("ConnectionError" | "Timeout" | "DispatchFailure")) => ExitClass::Environment,
            _ => ExitClass::StepFailed,
        }
    }
}

impl Classify for crate::policy::PolicyError {
    fn exit_class(&self) -> ExitClass {
        ExitClass::BadInput
    }
}

impl Classify for std::io::Error {
    fn exit_class(&self) -> ExitClass {
        ExitClass::Environment
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_corrupt_state_is_bad_input_however_it_is_wrapped() {
        let corrupt = || StateError::Corrupt { path: "state.db".into(), detail: "integrity check".into() };
        assert_eq!(corrupt().exit_class().code(), 2);
        assert_eq!(crate::remote_state::RemoteStateError::State(corrupt()).exit_class().code(), 2, "#[error(transparent)] no longer hides it");
        assert_eq!(crate::rollout::RolloutError::State(corrupt()).exit_class().code(), 2);
        assert_eq!(crate::rollout::RolloutError::Exec(crate::executor::ExecError::State(corrupt())).exit_class().code(), 2);
        let locked = StateError::LockedUnknown { path: "d".into() };
        assert_eq!(crate::rollout::RolloutError::State(locked).exit_class(), ExitClass::Conflict);
    }
}
