//! Reading what a step returned: the one change to a resource, an update's fields, a refusal's
//! reason, and that an `Aws` wrote nothing.
use orgtrail::steps::{Action, Change, StepError};

/// The one change to exactly `resource` (`kms-key alias/orgtrail`).
#[track_caller]
pub fn only(changes: &[Change], resource: &str) -> Change {
    let found: Vec<&Change> = changes.iter().filter(|c| c.resource == resource).collect();
    assert_eq!(found.len(), 1, "{resource} in {changes:?}");
    found[0].clone()
}

/// The one change whose resource starts with `prefix` (`cloudtrail-trail`).
#[track_caller]
pub fn only_of_kind(changes: &[Change], prefix: &str) -> Change {
    let found: Vec<&Change> = changes.iter().filter(|c| c.resource.starts_with(prefix)).collect();
    assert_eq!(found.len(), 1, "{prefix} in {changes:?}");
    found[0].clone()
}

/// The fields of an update.
#[track_caller]
pub fn fields_of(c: &Change) -> Vec<String> {
    match &c.action {
        Action::Update { fields } => fields.clone(),
        other => panic!("expected an update of {}, got {other:?}", c.resource),
    }
}

/// The reason of a refusal.
#[track_caller]
pub fn refusal(err: &StepError) -> &str {
    match err {
        StepError::Refused { reason, .. } => reason,
        other => panic!("expected a refusal, got {other}"),
    }
}

/// No write call went through `aws` (its own call metrics).
#[track_caller]
pub fn assert_no_writes(aws: &orgtrail::aws::Aws) {
    let writes = aws.metrics.write_calls();
    assert!(writes.is_empty(), "wrote: {writes:?}");
}
