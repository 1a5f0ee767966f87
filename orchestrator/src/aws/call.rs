//! The one way an AWS call's failure is reported: the account whose credentials made it, the
//! region its client was pinned to, the resource it was about, and the operation and AWS error
//! code (`account 111111111111 (us-east-2): cloudtrail-trails: cloudtrail ListTrails: AccessDenied: …`).
//!
//! `client.op().send().await.map_err(site.fail("CloudTrail.ListTrails"))?` in a step; the error
//! converts into `StepError` with `?`.
use std::fmt;

use aws_config::Region;
use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;

use super::AwsError;

/// Where a call is made: who, where, on what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub account: String,
    /// The client's region; None for global services (IAM, Organizations).
    pub region: Option<String>,
    pub resource: String,
}

impl Site {
    /// A regional call, the region taken from the client's config (`ct.config().region()`,
    /// `conf.region()`), so the error says where it was made.
    pub fn new(account: &str, region: Option<&Region>, resource: impl Into<String>) -> Site {
        Site { account: account.to_string(), region: region.map(|r| r.to_string()), resource: resource.into() }
    }

    /// A call to a global service.
    pub fn global(account: &str, resource: impl Into<String>) -> Site {
        Site { account: account.to_string(), region: None, resource: resource.into() }
    }

    /// The same account and region, another resource.
    pub fn on(&self, resource: impl Into<String>) -> Site {
        Site { resource: resource.into(), ..self.clone() }
    }

    /// Wraps an SDK failure of `operation` made here.
    pub fn fail<'s, E, R>(&'s self, operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> CallError + 's
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug + 'static,
    {
        move |e| self.error(AwsError::from_sdk(operation, &e))
    }

    /// Wraps an AWS error already reduced (by a credentials provider, or read for its code first).
    pub fn error(&self, source: AwsError) -> CallError {
        CallError { site: self.clone(), source }
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "account {}", self.account)?;
        if let Some(region) = &self.region {
            write!(f, " ({region})")?;
        }
        if !self.resource.is_empty() {
            write!(f, ": {}", self.resource)?;
        }
        Ok(())
    }
}

/// An AWS call that failed, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{site}: {source}")]
pub struct CallError {
    pub site: Site,
    pub source: AwsError,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denied(operation: &str) -> AwsError {
        AwsError { operation: operation.into(), code: Some("AccessDenied".into()), message: "not allowed".into() }
    }

    #[test]
    fn names_account_region_resource_operation_and_code() {
        let site = Site::new("111111111111", Some(&Region::new("us-east-2")), "cloudtrail-trails");
        assert_eq!(site.error(denied("CloudTrail.ListTrails")).to_string(), "account 111111111111 (us-east-2): cloudtrail-trails: cloudtrail ListTrails: AccessDenied: not allowed");
        let global = Site::global("111111111111", "iam-role orgtrail");
        assert_eq!(global.error(denied("IAM.GetRole")).to_string(), "account 111111111111: iam-role orgtrail: iam GetRole: AccessDenied: not allowed");
        let no_code = AwsError { operation: "KMS.CreateKey".into(), code: None, message: "timed out".into() };
        assert_eq!(site.on("kms-key alias/x").error(no_code).to_string(), "account 111111111111 (us-east-2): kms-key alias/x: kms CreateKey: timed out");
    }
}
