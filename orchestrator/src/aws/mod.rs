//! AWS client construction: one base config (default chain, `--profile`, `--region`,
//! `--endpoint-url`), standard retries with jittered backoff, timeouts, call metrics on every
//! client, a client-side rate limit for Organizations, and per-account sessions through AssumeRole.
pub mod arn;
pub mod call;
pub mod credentials;
pub mod errors;
pub mod memo;
pub mod metrics;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_sdk_organizations::config::retry::{RetryPartition, TokenBucket};
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

pub use arn::{partition_of, Arn};
pub use call::{CallError, Site};
pub use credentials::{AssumeRoleProvider, RoleSpec};
pub use errors::{aws_err, AwsError};
pub use metrics::{CallMetrics, OperationCounts};
use metrics::MetricsInterceptor;

/// Where the base credentials and endpoint come from (CLI flags; the environment fills the rest).
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// Per-attempt timeout; slow answers beyond it are retried.
    pub attempt_timeout: Option<Duration>,
}

/// Who the base credentials are.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
}

/// The shared AWS context of a run: cheap to clone.
#[derive(Clone)]
pub struct Aws {
    base: SdkConfig,
    path_style: bool,
    pub metrics: CallMetrics,
    org_limiter: Arc<DefaultDirectRateLimiter>,
    org_rate: u32,
    sts: aws_sdk_sts::Client,
    orgs: aws_sdk_organizations::Client,
    role: Option<RoleSpec>,
    assume_permits: Arc<Semaphore>,
    sessions: Arc<Mutex<HashMap<String, SdkConfig>>>,
    partitions: Arc<Partitions>,
    /// Facts read once per run (`memo`).
    pub memo: memo::RunMemo,
}

/// One retry partition (and so one retry quota) per service for the whole run, shared by every
/// client of that service (clients are built per call site).
struct Partitions {
    s3: RetryPartition,
    kms: RetryPartition,
    cloudtrail: RetryPartition,
    sts: RetryPartition,
    iam: RetryPartition,
    logs: RetryPartition,
    cloudwatch: RetryPartition,
    sns: RetryPartition,
    account: RetryPartition,
    securityhub: RetryPartition,
}

/// A retry partition whose quota is not spent on throttles: the SDK's default charges 5 of 500
/// tokens per retried throttle, process-wide per service, so a throttled 1,000-account rollout
/// (AWS throttles these APIs per account) would empty it and fail calls with "retry quota
/// exceeded". Throttles are bounded instead by the attempts and backoff below (and, for
/// Organizations, the client-side rate limit); other retried errors still spend the quota, which
/// stops retry storms against a failing service.
fn partition(name: &'static str) -> RetryPartition {
    RetryPartition::custom(name).token_bucket(TokenBucket::builder().throttling_retry_cost(0).build()).build()
}

pub const MAX_ATTEMPTS: u32 = 8;

/// Retries of the per-account services (STS, S3, KMS, CloudTrail, IAM, CloudWatch Logs,
/// CloudWatch, SNS, Account): standard mode, jittered
/// exponential backoff, the attempts and initial backoff of the base config. Not adaptive mode:
/// its client-side rate limiter is one per service for the whole process, so a throttle in one
/// account would slow every account's calls, while AWS throttles these APIs per account
/// (measured: 4 accounts under 30% throttling took 137 s adaptive).
fn per_account_retry(conf: &SdkConfig) -> RetryConfig {
    let (attempts, initial) = conf.retry_config().map_or((MAX_ATTEMPTS, Duration::from_millis(200)), |r| (r.max_attempts(), r.initial_backoff()));
    RetryConfig::standard().with_max_attempts(attempts).with_initial_backoff(initial).with_max_backoff(Duration::from_secs(20))
}

/// Organizations: standard mode, full-jitter exponential backoff from 100 ms capped at 2 s, 10
/// attempts. The client-side rate limit (`organizations_permit`) already keeps the request rate
/// under AWS's quota, so a throttle there is a momentary burst (or another client sharing the
/// organization's quota), not a signal to slow down for long: the SDK's adaptive mode, which
/// also halves its own send rate on each throttle and ramps it back slowly, collapsed discovery
/// under a steady 30% throttle (199 s for 28 calls). Pages of one OU are fetched one after the
/// other, so every long backoff stalls discovery's critical path; 2 s is past a one-second
/// throttling window, and 10 attempts leave 0.3^10 = 6e-6 as the chance of a call failing at a
/// steady 30% throttle (docs/performance.md).
fn organizations_retry() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(10).with_initial_backoff(Duration::from_millis(100)).with_max_backoff(Duration::from_secs(2))
}

impl Aws {
    /// Base config from the SDK default chain. `home_region` applies unless `--region` says otherwise.
    pub async fn load(opts: &AwsOptions, home_region: &str, organizations_calls_per_second: u32) -> Aws {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(opts.region.clone().unwrap_or_else(|| home_region.to_string())))
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS).with_initial_backoff(Duration::from_millis(200)))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(opts.attempt_timeout.unwrap_or(Duration::from_secs(30)))
                    .build(),
            );
        if let Some(p) = &opts.profile {
            loader = loader.profile_name(p);
        }
        if let Some(url) = &opts.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let base = loader.load().await;
        Self::from_config(base, organizations_calls_per_second)
    }

    pub fn from_config(base: SdkConfig, organizations_calls_per_second: u32) -> Aws {
        let metrics = CallMetrics::default();
        let path_style = base.endpoint_url().is_some();
        let rate = NonZeroU32::new(organizations_calls_per_second.max(1)).expect("non-zero");
        let partitions = Partitions {
            s3: partition("orgtrail-s3"),
            kms: partition("orgtrail-kms"),
            cloudtrail: partition("orgtrail-cloudtrail"),
            sts: partition("orgtrail-sts"),
            iam: partition("orgtrail-iam"),
            logs: partition("orgtrail-logs"),
            cloudwatch: partition("orgtrail-cloudwatch"),
            sns: partition("orgtrail-sns"),
            account: partition("orgtrail-account"),
            securityhub: partition("orgtrail-securityhub"),
        };
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&base)
                .retry_config(per_account_retry(&base))
                .retry_partition(partitions.sts.clone())
                .interceptor(MetricsInterceptor(metrics.clone()))
                .build(),
        );
        let orgs = aws_sdk_organizations::Client::from_conf(
            aws_sdk_organizations::config::Builder::from(&base)
                .retry_config(organizations_retry())
                .retry_partition(partition("orgtrail-organizations"))
                .interceptor(MetricsInterceptor(metrics.clone()))
                .build(),
        );
        Aws {
            orgs,
            base,
            path_style,
            metrics,
            org_limiter: Arc::new(RateLimiter::direct(Quota::per_second(rate))),
            sts,
            role: None,
            assume_permits: Arc::new(Semaphore::new(32)),
            sessions: Arc::default(),
            partitions: Arc::new(partitions),
            org_rate: rate.get(),
            memo: memo::RunMemo::default(),
        }
    }

    /// Configure the role assumed in member accounts, and how many AssumeRole calls may run at once.
    pub fn with_role(mut self, role: RoleSpec, max_concurrent_assume: usize) -> Self {
        self.role = Some(role);
        self.assume_permits = Arc::new(Semaphore::new(max_concurrent_assume.max(1)));
        self
    }

    pub fn region(&self) -> String {
        self.base.region().map(|r| r.to_string()).unwrap_or_default()
    }

    pub fn endpoint_url(&self) -> Option<&str> {
        self.base.endpoint_url()
    }

    /// The client-side Organizations rate limit, calls per second.
    pub fn organizations_rate(&self) -> u32 {
        self.org_rate
    }

    /// Wait for the client-side Organizations rate limit; call before every Organizations request.
    pub async fn organizations_permit(&self) {
        self.org_limiter.until_ready().await;
    }

    /// Every page of one Organizations listing, until `each` breaks or the pages end, with a
    /// rate-limit permit before each request. Not the SDK paginator: its end is one more `next()`
    /// that sends nothing, and a permit taken for it is a call's share of the limit spent on no
    /// call (14 of 42 permits at 300 accounts; one per account for tags).
    pub async fn organizations_pages<P, E, Fut>(&self, mut send: impl FnMut(Option<String>) -> Fut, next_token: fn(&P) -> Option<&str>, mut each: impl FnMut(P) -> ControlFlow<()>) -> Result<(), E>
    where
        Fut: std::future::Future<Output = Result<P, E>>,
    {
        let mut token = None;
        loop {
            self.organizations_permit().await;
            let page = send(token.take()).await?;
            token = next_token(&page).filter(|t| !t.is_empty()).map(str::to_string);
            if each(page).is_break() || token.is_none() {
                return Ok(());
            }
        }
    }

    pub fn organizations(&self) -> &aws_sdk_organizations::Client {
        &self.orgs
    }

    pub fn sts(&self) -> &aws_sdk_sts::Client {
        &self.sts
    }

    pub async fn caller_identity(&self) -> Result<CallerIdentity, AwsError> {
        let out = self.sts.get_caller_identity().send().await.map_err(aws_err("STS.GetCallerIdentity"))?;
        Ok(CallerIdentity { account: out.account.unwrap_or_default(), arn: out.arn.unwrap_or_default() })
    }

    /// The assume-role provider for one account (for access checks, which want the error itself).
    pub fn role_provider(&self, account: &str) -> AssumeRoleProvider {
        let role = self.role.clone().expect("Aws::with_role must be called before per-account access");
        AssumeRoleProvider::new(self.sts.clone(), role, account.to_string(), self.assume_permits.clone())
    }

    /// An SDK config acting in `account` through the role, cached per account. Credentials are
    /// fetched lazily on first use and refreshed before they expire by the provider's own cache (see
    /// `credentials::refresh_point`), so the SDK's identity cache is off.
    pub fn session(&self, account: &str) -> SdkConfig {
        let mut sessions = self.sessions.lock().expect("sessions lock");
        sessions
            .entry(account.to_string())
            .or_insert_with(|| {
                self.base
                    .to_builder()
                    .credentials_provider(SharedCredentialsProvider::new(self.role_provider(account)))
                    .identity_cache(IdentityCache::no_cache())
                    .build()
            })
            .clone()
    }

    /// Drop an account's cached session (and its credentials) once its work is over, so memory
    /// stays flat over a 10,000-account run; a later `session` call builds a fresh one.
    pub fn forget_session(&self, account: &str) {
        self.sessions.lock().expect("sessions lock").remove(account);
    }

    /// The base config itself, for the account the base credentials belong to.
    pub fn base(&self) -> &SdkConfig {
        &self.base
    }

    pub fn s3(&self, conf: &SdkConfig) -> aws_sdk_s3::Client {
        let b = aws_sdk_s3::config::Builder::from(conf)
            .retry_config(per_account_retry(conf))
            .retry_partition(self.partitions.s3.clone())
            .force_path_style(self.path_style)
            .interceptor(self.interceptor());
        aws_sdk_s3::Client::from_conf(b.build())
    }

    pub fn kms(&self, conf: &SdkConfig) -> aws_sdk_kms::Client {
        let b = aws_sdk_kms::config::Builder::from(conf).retry_config(per_account_retry(conf)).retry_partition(self.partitions.kms.clone());
        aws_sdk_kms::Client::from_conf(b.interceptor(self.interceptor()).build())
    }

    pub fn cloudtrail(&self, conf: &SdkConfig) -> aws_sdk_cloudtrail::Client {
        let b = aws_sdk_cloudtrail::config::Builder::from(conf).retry_config(per_account_retry(conf)).retry_partition(self.partitions.cloudtrail.clone());
        aws_sdk_cloudtrail::Client::from_conf(b.interceptor(self.interceptor()).build())
    }

    pub fn sts_in(&self, conf: &SdkConfig) -> aws_sdk_sts::Client {
        let b = aws_sdk_sts::config::Builder::from(conf).retry_config(per_account_retry(conf)).retry_partition(self.partitions.sts.clone());
        aws_sdk_sts::Client::from_conf(b.interceptor(self.interceptor()).build())
    }

    // Detection (issue 15): the CloudTrail-to-CloudWatch-Logs role, the log group and its metric
    // filters, the CIS alarms and topics. Per-account services: standard retries.
    pub fn iam(&self, conf: &SdkConfig) -> aws_sdk_iam::Client {
        let b = aws_sdk_iam::config::Builder::from(conf).retry_config(per_account_retry(conf)).retry_partition(self.partitions.iam.clone());
        aws_sdk_iam::Client::from_conf(b.interceptor(self.interceptor()).build())
    }

    pub fn logs(&self, conf: &SdkConfig) -> aws_sdk_cloudwatchlogs::Client {
        let b = aws_sdk_cloudwatchlogs::config::Builder::from(conf).retry_config(per_account_retry(conf)).retry_partition(self.partitions.logs.clone());
        aws_sdk_cloudwatchlogs::Client::from_conf(b.interceptor(self.interceptor()).build())
    }

    pub fn cloudwatch(&self, conf: &SdkConfig) -> aws_sdk_cloudwatch::Client {
        let b = aws_sdk_cloudwatch::config::Builder::from(conf).retry_config(per_account_retry(conf)).retry_partition(self.partitions.cloudwatch.clone());
        aws_sdk_cloudwatch::Client::from_conf(b.interceptor(self.interceptor()).build())
    }

    /// The trail's delivery topic and the alarms' topic.
    pub fn sns(&self, conf: &SdkConfig) -> aws_sdk_sns::Client {
        let b = aws_sdk_sns::config::Builder::from(conf).retry_config(per_account_retry(conf)).retry_partition(self.partitions.sns.clone());
        aws_sdk_sns::Client::from_conf(b.interceptor(self.interceptor()).build())
    }

    /// The Account API (ListRegions of a member account, with its own role).
    pub fn account(&self, conf: &SdkConfig) -> aws_sdk_account::Client {
        let b = aws_sdk_account::config::Builder::from(conf).retry_config(per_account_retry(conf)).retry_partition(self.partitions.account.clone());
        aws_sdk_account::Client::from_conf(b.interceptor(self.interceptor()).build())
    }

    /// Security Hub: `verify --to-security-hub` imports findings (BatchImportFindings) into one hub.
    pub fn securityhub(&self, conf: &SdkConfig) -> aws_sdk_securityhub::Client {
        let b = aws_sdk_securityhub::config::Builder::from(conf).retry_config(per_account_retry(conf)).retry_partition(self.partitions.securityhub.clone());
        aws_sdk_securityhub::Client::from_conf(b.interceptor(self.interceptor()).build())
    }

    /// S3 for the remote state (remote_state::Remote): the base credentials, path-style against an
    /// emulator, standard retries, and no call metrics (they count the rollout's calls, not the state's).
    pub fn state_s3(&self) -> aws_sdk_s3::Client {
        let b = aws_sdk_s3::config::Builder::from(&self.base).retry_config(per_account_retry(&self.base)).retry_partition(self.partitions.s3.clone()).force_path_style(self.path_style);
        aws_sdk_s3::Client::from_conf(b.build())
    }

    fn interceptor(&self) -> MetricsInterceptor {
        MetricsInterceptor(self.metrics.clone())
    }
}
