//! The base credentials, resolved once before the first call: without any, the SDK would fail
//! that call with its whole provider chain (six lines, one per provider) after a note about the
//! endpoint that is not the cause. One `error:` line and a `hint:` instead; the chain at `-vv`.
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_types::error::display::DisplayErrorContext;
use orgtrail::aws::Aws;

use crate::failure::{ExitClass, Failure};

const HINT: &str = "name a profile with --profile NAME or AWS_PROFILE (`aws configure list-profiles` lists them); \
for IAM Identity Center (SSO) run `aws sso login --profile NAME` first; or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
(and AWS_SESSION_TOKEN for temporary credentials)";

pub async fn check(aws: &Aws, profile: Option<&str>) -> Result<(), Failure> {
    let Some(provider) = aws.base().credentials_provider() else {
        return Err(none_found(profile));
    };
    match provider.provide_credentials().await {
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::debug!("credential chain: {}", DisplayErrorContext(&e));
            Err(match e {
                CredentialsError::CredentialsNotLoaded(_) => none_found(profile),
                other => Failure::new(ExitClass::Environment, anyhow::anyhow!("cannot load the AWS credentials{}: {}", of(profile), first_line(&other))).with_hint(HINT),
            })
        }
    }
}

fn none_found(profile: Option<&str>) -> Failure {
    Failure::new(
        ExitClass::Environment,
        anyhow::anyhow!("no AWS credentials found{} (looked in the environment, the shared config and credentials files, SSO, web identity, the container and instance metadata)", of(profile)),
    )
    .with_hint(HINT)
}

fn of(profile: Option<&str>) -> String {
    profile.map(|p| format!(" for profile `{p}`")).unwrap_or_default()
}

/// The error and its causes on one line, without the provider-by-provider listing.
fn first_line(e: &CredentialsError) -> String {
    let text = DisplayErrorContext(e).to_string();
    text.lines().next().unwrap_or_default().trim_end_matches(['.', ':', ' ']).to_string()
}
