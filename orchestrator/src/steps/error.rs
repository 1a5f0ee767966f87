//! How a step fails: an AWS call failed (where, which operation, the AWS error code), orgtrail
//! refused to act, or AWS answered something orgtrail cannot use.
use crate::aws::{CallError, Site};

#[derive(Debug, Clone, thiserror::Error)]
pub enum StepError {
    /// An AWS call failed; the error names the account, region, resource, operation and code.
    #[error(transparent)]
    Aws(#[from] CallError),
    /// orgtrail refuses to act (it would lock itself out, an existing org trail conflicts, ...).
    #[error("account {account}: {resource}: {reason}")]
    Refused { account: String, resource: String, reason: String },
    /// Not an AWS error: a call succeeded but its answer is unusable (a response without the ARN
    /// it must carry, a trail still not logging after StartLogging, a request that cannot be built).
    #[error("{site}: {}: {message}", crate::aws::errors::display_operation(operation))]
    Unexpected { site: Site, operation: String, message: String },
}

impl StepError {
    pub fn refused(account: &str, resource: impl Into<String>, reason: impl Into<String>) -> Self {
        StepError::Refused { account: account.to_string(), resource: resource.into(), reason: reason.into() }
    }

    /// An answer of `operation` made at `site` that orgtrail cannot use.
    pub fn unexpected(site: &Site, operation: &str, message: impl Into<String>) -> Self {
        StepError::Unexpected { site: site.clone(), operation: operation.to_string(), message: message.into() }
    }

    /// The AWS error code, or `Refused` for orgtrail's own refusals (recorded in state, shown by
    /// status). None for an unusable answer, as for an AWS error without a code.
    pub fn code(&self) -> Option<String> {
        match self {
            StepError::Aws(e) => e.source.code.clone(),
            StepError::Refused { .. } => Some("Refused".into()),
            StepError::Unexpected { .. } => None,
        }
    }

    /// Whether this is an AWS error with this code.
    pub fn is_code(&self, code: &str) -> bool {
        matches!(self, StepError::Aws(e) if e.source.is_code(code))
    }
}

/// A read whose "does not exist" answer (one of `codes`) means None rather than an error.
pub fn absent<T>(result: Result<T, CallError>, codes: &[&str]) -> Result<Option<T>, CallError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if codes.iter().any(|c| e.source.is_code(c)) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use aws_config::Region;

    use super::*;
    use crate::aws::AwsError;

    #[test]
    fn display_and_code() {
        let site = Site::new("111111111111", Some(&Region::new("eu-west-1")), "cloudtrail-trails");
        let aws: StepError = site.error(AwsError { operation: "CloudTrail.DescribeTrails".into(), code: Some("ThrottlingException".into()), message: "slow down".into() }).into();
        assert_eq!(aws.to_string(), "account 111111111111 (eu-west-1): cloudtrail-trails: cloudtrail DescribeTrails: ThrottlingException: slow down");
        assert_eq!(aws.code().as_deref(), Some("ThrottlingException"));
        assert!(aws.is_code("ThrottlingException"));
        let odd = StepError::unexpected(&site.on("kms-key alias/orgtrail"), "KMS.CreateKey", "the response carried no key id");
        assert_eq!(odd.to_string(), "account 111111111111 (eu-west-1): kms-key alias/orgtrail: kms CreateKey: the response carried no key id");
        assert_eq!(odd.code(), None);
        let no = StepError::refused("111111111111", "s3-bucket b", "it would lock orgtrail out");
        assert_eq!((no.to_string().as_str(), no.code().as_deref()), ("account 111111111111: s3-bucket b: it would lock orgtrail out", Some("Refused")));
    }
}
