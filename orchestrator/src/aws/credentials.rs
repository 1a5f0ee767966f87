//! Per-account credentials: STS AssumeRole of the configured role, cached per account and refreshed
//! before expiry, with a bound on concurrent AssumeRole calls.
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{error::CredentialsError, future, ProvideCredentials};
use aws_credential_types::Credentials;
use tokio::sync::Semaphore;

use super::errors::{aws_err, AwsError};

/// Refresh credentials this long before they expire, so no call is signed with a dying session
/// (or at half their lifetime, for sessions shorter than twice this).
pub const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// When credentials issued at `issued` and expiring at `expiry` should be replaced. The SDK's lazy
/// identity cache refreshes a fixed (jittered) buffer before expiry, which for a session shorter
/// than that buffer means an AssumeRole on every request; this keeps short sessions cached too.
pub fn refresh_point(issued: SystemTime, expiry: SystemTime) -> SystemTime {
    let life = expiry.duration_since(issued).unwrap_or_default();
    expiry - REFRESH_BEFORE_EXPIRY.min(life / 2)
}

#[derive(Clone)]
pub struct RoleSpec {
    pub partition: String,
    pub role_name: String,
    pub external_id: Option<String>,
    pub session_name: String,
    pub duration_seconds: i32,
}

impl std::fmt::Debug for RoleSpec {
    // The external id is a shared secret: never in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleSpec")
            .field("role_name", &self.role_name)
            .field("external_id", &self.external_id.as_ref().map(|_| "<redacted>"))
            .field("session_name", &self.session_name)
            .field("duration_seconds", &self.duration_seconds)
            .finish()
    }
}

impl RoleSpec {
    pub fn role_arn(&self, account: &str) -> String {
        format!("arn:{}:iam::{account}:role/{}", self.partition, self.role_name)
    }
}

/// A credentials provider that assumes the role in one account. As a `ProvideCredentials` it caches
/// the result (clones share the cache) until its [`refresh_point`]; concurrent users of an expired
/// entry wait for one AssumeRole.
#[derive(Clone)]
pub struct AssumeRoleProvider {
    sts: aws_sdk_sts::Client,
    spec: RoleSpec,
    account: String,
    permits: Arc<Semaphore>,
    cache: Arc<tokio::sync::Mutex<Option<Cached>>>,
}

struct Cached {
    credentials: Credentials,
    refresh_at: Option<SystemTime>,
}

impl std::fmt::Debug for AssumeRoleProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumeRoleProvider").field("account", &self.account).field("spec", &self.spec).finish()
    }
}

impl AssumeRoleProvider {
    pub fn new(sts: aws_sdk_sts::Client, spec: RoleSpec, account: String, permits: Arc<Semaphore>) -> Self {
        Self { sts, spec, account, permits, cache: Arc::default() }
    }

    /// The cached credentials, or new ones once the cached ones reach their refresh point.
    pub async fn cached(&self) -> Result<Credentials, AwsError> {
        let mut slot = self.cache.lock().await;
        if let Some(c) = slot.as_ref().filter(|c| c.refresh_at.is_none_or(|at| SystemTime::now() < at)) {
            return Ok(c.credentials.clone());
        }
        let issued = SystemTime::now();
        let credentials = self.assume().await?;
        let refresh_at = credentials.expiry().map(|expiry| refresh_point(issued, expiry));
        *slot = Some(Cached { credentials: credentials.clone(), refresh_at });
        Ok(credentials)
    }

    /// One AssumeRole call; the error keeps the AWS error code (AccessDenied, ...).
    pub async fn assume(&self) -> Result<Credentials, AwsError> {
        let _permit = self.permits.acquire().await.expect("semaphore never closed");
        let out = self
            .sts
            .assume_role()
            .role_arn(self.spec.role_arn(&self.account))
            .role_session_name(&self.spec.session_name)
            .set_external_id(self.spec.external_id.clone())
            .duration_seconds(self.spec.duration_seconds)
            .send()
            .await
            .map_err(aws_err("STS.AssumeRole"))?;
        let c = out.credentials.ok_or_else(|| AwsError {
            operation: "STS.AssumeRole".into(),
            code: None,
            message: "the response carried no credentials".into(),
        })?;
        let expiry = SystemTime::try_from(c.expiration).ok();
        Ok(Credentials::new(c.access_key_id, c.secret_access_key, Some(c.session_token), expiry, "orgtrail-assume-role"))
    }
}

impl ProvideCredentials for AssumeRoleProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move { self.cached().await.map_err(CredentialsError::provider_error) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_point_is_the_buffer_before_expiry_or_half_a_short_life() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let hour = Duration::from_secs(3600);
        assert_eq!(refresh_point(t0, t0 + hour), t0 + hour - REFRESH_BEFORE_EXPIRY);
        assert_eq!(refresh_point(t0, t0 + Duration::from_secs(20)), t0 + Duration::from_secs(10));
        assert_eq!(refresh_point(t0, t0), t0);
    }
}
