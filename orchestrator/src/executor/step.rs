//! The steps the executor runs: the central steps in their order and the member steps of every
//! account, each with the id its records carry, the account it acts in and the work it does.
use orgtrail_state::StepId;

use crate::config::{LegacyTrails, TrailMode};
use crate::steps::{self, Ctx, StepError, StepResult};

/// Central steps, in order. Each names the account it acts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CentralStep {
    KmsKey,
    AccessLogBucket,
    LogBucket,
    TrustedAccess,
    OrgTrail,
    EnforceEncryption,
    MfaDelete,
    // Detection and tamper protection (issue 15), after EnforceEncryption.
    CloudWatchLogs,
    TrailInsights,
    CisAlarms,
    TamperProtectionScp,
}

impl CentralStep {
    /// The id its records carry.
    pub fn id(self) -> StepId {
        match self {
            CentralStep::KmsKey => StepId::KmsKey,
            CentralStep::AccessLogBucket => StepId::AccessLogBucket,
            CentralStep::LogBucket => StepId::LogBucket,
            CentralStep::TrustedAccess => StepId::TrustedAccess,
            CentralStep::OrgTrail => StepId::OrgTrail,
            CentralStep::EnforceEncryption => StepId::EnforceEncryption,
            CentralStep::MfaDelete => StepId::MfaDelete,
            CentralStep::CloudWatchLogs => StepId::CloudwatchLogs,
            CentralStep::TrailInsights => StepId::TrailInsights,
            CentralStep::CisAlarms => StepId::CisAlarms,
            CentralStep::TamperProtectionScp => StepId::TamperProtectionScp,
        }
    }

    pub fn name(self) -> &'static str {
        self.id().as_str()
    }

    /// The steps this config needs, in order: key and buckets first (the trail writes to them),
    /// the trail, then the encryption-enforcing policy (only once the trail writes), then MFA Delete.
    pub fn all(ctx: &Ctx<'_>) -> Vec<CentralStep> {
        let mut v = vec![CentralStep::KmsKey];
        if ctx.config.log_archive.access_logging {
            v.push(CentralStep::AccessLogBucket);
        }
        v.push(CentralStep::LogBucket);
        if ctx.config.trail.mode == TrailMode::Organization {
            v.extend([CentralStep::TrustedAccess, CentralStep::OrgTrail]);
        }
        v.push(CentralStep::EnforceEncryption);
        if ctx.config.trail.mode == TrailMode::Organization {
            let d = &ctx.config.detection;
            let on = [(d.log_group.is_some(), CentralStep::CloudWatchLogs), (d.insights.is_some(), CentralStep::TrailInsights), (d.alarms.is_some(), CentralStep::CisAlarms), (d.protection.is_some(), CentralStep::TamperProtectionScp)];
            v.extend(on.into_iter().filter(|(yes, _)| *yes).map(|(_, s)| s));
        }
        if ctx.config.log_archive.mfa_delete {
            v.push(CentralStep::MfaDelete);
        }
        v
    }

    /// `all` cut into groups run one after another, the steps of a group at once. Only the first
    /// group has more than one: the key, trusted access (Organizations, in the management account)
    /// and, when it is SSE-S3, the access-log bucket need nothing another step makes. With
    /// `access_log_kms_alias` the access-log bucket needs the kms-key step's key first; the log
    /// bucket needs the key and the access-log bucket (its logging target); the trail needs them all.
    pub fn groups(ctx: &Ctx<'_>, all: &[CentralStep]) -> Vec<Vec<CentralStep>> {
        let independent = |s: &CentralStep| match s {
            CentralStep::KmsKey | CentralStep::TrustedAccess => true,
            CentralStep::AccessLogBucket => ctx.config.log_archive.access_log_kms_alias.is_none(),
            _ => false,
        };
        let (first, rest): (Vec<CentralStep>, Vec<CentralStep>) = all.iter().partition(|s| independent(s));
        std::iter::once(first).filter(|g| !g.is_empty()).chain(rest.into_iter().map(|s| vec![s])).collect()
    }

    pub fn target(self, ctx: &Ctx<'_>) -> String {
        match self {
            CentralStep::TrustedAccess | CentralStep::OrgTrail => ctx.management_account().to_string(),
            CentralStep::CloudWatchLogs | CentralStep::TrailInsights | CentralStep::CisAlarms | CentralStep::TamperProtectionScp => ctx.management_account().to_string(),
            _ => ctx.config.log_archive.account.clone(),
        }
    }

    pub async fn run(self, ctx: &Ctx<'_>) -> StepResult {
        match self {
            CentralStep::KmsKey => steps::kms_key::converge(ctx).await,
            CentralStep::AccessLogBucket => steps::log_bucket::converge_access_log_bucket(ctx).await,
            CentralStep::LogBucket => steps::log_bucket::converge_log_bucket(ctx).await,
            CentralStep::TrustedAccess => steps::trusted_access::converge(ctx).await,
            CentralStep::OrgTrail => steps::org_trail::converge(ctx).await,
            CentralStep::EnforceEncryption => steps::log_bucket::enforce_encryption(ctx).await,
            CentralStep::MfaDelete => steps::mfa_delete::verify(ctx).await,
            CentralStep::CloudWatchLogs => steps::detection::log_group::converge(ctx).await,
            CentralStep::TrailInsights => steps::detection::insights::converge(ctx).await,
            CentralStep::CisAlarms => steps::detection::alarms::converge(ctx).await,
            CentralStep::TamperProtectionScp => steps::detection::scp::converge(ctx).await,
        }
    }
}

/// Member steps, in order, per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberStep {
    AssumeRole,
    MemberChecks,
    AccountTrail,
    LegacyTrails,
    DeliveryCheck,
}

impl MemberStep {
    /// The id its records carry.
    pub fn id(self) -> StepId {
        match self {
            MemberStep::AssumeRole => StepId::AssumeRole,
            MemberStep::MemberChecks => StepId::MemberChecks,
            MemberStep::AccountTrail => StepId::AccountTrail,
            MemberStep::LegacyTrails => StepId::LegacyTrails,
            MemberStep::DeliveryCheck => StepId::DeliveryCheck,
        }
    }

    pub fn name(self) -> &'static str {
        self.id().as_str()
    }

    pub fn all(ctx: &Ctx<'_>) -> Vec<MemberStep> {
        let mut v = vec![MemberStep::AssumeRole];
        match ctx.config.trail.mode {
            TrailMode::Organization => v.push(MemberStep::MemberChecks),
            TrailMode::Account => v.push(MemberStep::AccountTrail),
        }
        if ctx.config.trail.legacy_trails != LegacyTrails::Keep {
            v.push(MemberStep::LegacyTrails);
        }
        if ctx.config.trail.delivery_check {
            v.push(MemberStep::DeliveryCheck);
        }
        v
    }

    pub async fn run(self, ctx: &Ctx<'_>, account: &str) -> StepResult {
        match self {
            MemberStep::AssumeRole => assume_role(ctx, account).await,
            MemberStep::MemberChecks => steps::member_checks::check_member(ctx, account).await,
            MemberStep::AccountTrail => steps::account_trail::converge(ctx, account).await,
            MemberStep::LegacyTrails => steps::member_checks::legacy_trails(ctx, account).await,
            MemberStep::DeliveryCheck => steps::delivery_check::delivery_check(ctx, account).await,
        }
    }
}

/// The credentials check that opens every account's pipeline: a refused role stops the account
/// here, with the AWS error code, before any other call. It asks the account's session provider
/// (the one every later call of the account signs with), so the credentials it gets are cached
/// for them: one AssumeRole per account, not two (docs/performance.md).
async fn assume_role(ctx: &Ctx<'_>, account: &str) -> StepResult {
    use aws_credential_types::provider::ProvideCredentials;
    let resource = format!("role {}", ctx.config.access.role_name);
    let conf = ctx.session(account);
    let Some(provider) = conf.credentials_provider() else {
        return Err(StepError::unexpected(&crate::aws::Site::global(account, resource), "STS.AssumeRole", "no credentials provider"));
    };
    provider.provide_credentials().await.map_err(|e| crate::aws::Site::global(account, resource).error(credentials_error(&e)))?;
    Ok(steps::Outcome::default())
}

/// The `AwsError` (with its AWS error code) behind a credentials provider's error.
fn credentials_error(e: &(dyn std::error::Error + 'static)) -> crate::aws::AwsError {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(aws) = err.downcast_ref::<crate::aws::AwsError>() {
            return aws.clone();
        }
        cur = err.source();
    }
    crate::aws::AwsError { operation: "STS.AssumeRole".into(), code: None, message: e.to_string() }
}
