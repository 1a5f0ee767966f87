//! Step tests' world: the test role, a fresh `Aws`, and the `Ctx` a step converges with.
use aws_config::SdkConfig;

use super::{ConfigEdit, Sandbox};

/// The role the sandbox's accounts trust (the seeder creates none: moto accepts any role name),
/// its sessions named `session`.
pub fn role(session: &str) -> orgtrail::aws::RoleSpec {
    orgtrail::aws::RoleSpec {
        partition: "aws".into(),
        role_name: "OrganizationAccountAccessRole".into(),
        external_id: None,
        session_name: session.into(),
        duration_seconds: 900,
    }
}

/// The test role, sessions named `orgtrail-test`.
pub fn test_role() -> orgtrail::aws::RoleSpec {
    role("orgtrail-test")
}

/// A fresh `Aws` (its own call metrics) against the sandbox, assuming the test role.
pub fn test_aws(sb: &Sandbox) -> orgtrail::aws::Aws {
    orgtrail::aws::Aws::from_config(sb.conf.clone(), 50).with_role(test_role(), 8)
}

/// What a step test needs to build a `Ctx`: the sandbox, a config, the organization, the caller,
/// and the member accounts as targets.
pub struct StepWorld {
    pub sb: Sandbox,
    pub config: orgtrail::config::Config,
    pub org: orgtrail::discovery::OrganizationInfo,
    pub caller: orgtrail::aws::CallerIdentity,
    pub targets: Vec<String>,
}

impl StepWorld {
    pub async fn new(sb: Sandbox, config: orgtrail::config::Config) -> StepWorld {
        let a = test_aws(&sb);
        let org = orgtrail::discovery::discover(&a, &orgtrail::discovery::DiscoverOptions { with_tags: false }).await.expect("discovery").organization;
        let caller = a.caller_identity().await.expect("caller identity");
        let targets = sb.org.members.iter().map(|m| m.id.clone()).collect();
        StepWorld { sb, config, org, caller, targets }
    }

    /// A sandbox of `members` members, its generated config edited by `edit`.
    pub async fn sandbox(members: usize, edit: impl FnOnce(ConfigEdit) -> ConfigEdit) -> StepWorld {
        let sb = Sandbox::new(members).await.expect("sandbox");
        let config = edit(ConfigEdit::sandbox(&sb.org)).config();
        StepWorld::new(sb, config).await
    }

    /// Swaps in the generated config edited by `edit`.
    pub fn reconfigure(&mut self, edit: impl FnOnce(ConfigEdit) -> ConfigEdit) {
        self.config = edit(ConfigEdit::sandbox(&self.sb.org)).config();
    }

    /// The log-archive account.
    pub fn la(&self) -> &str {
        &self.sb.org.log_archive_account
    }

    /// The log-archive account's S3 in the home region (a fresh `Aws`).
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let a = test_aws(&self.sb);
        a.s3(&self.log_archive_session(&a))
    }

    /// The log-archive account's KMS in the home region (a fresh `Aws`).
    pub fn kms(&self) -> aws_sdk_kms::Client {
        let a = test_aws(&self.sb);
        a.kms(&self.log_archive_session(&a))
    }

    /// The management account's CloudTrail (base credentials).
    pub fn mgmt_ct(&self) -> aws_sdk_cloudtrail::Client {
        aws_sdk_cloudtrail::Client::new(&self.sb.conf)
    }

    /// What the kms-key and log-bucket steps leave, made directly: a key with the configured alias
    /// and the log bucket, in the log-archive account. Returns the key ARN.
    pub async fn key_and_bucket(&self) -> String {
        let a = test_aws(&self.sb);
        let s = a.session(self.la());
        let kms = a.kms(&s);
        let key = kms.create_key().send().await.unwrap().key_metadata.unwrap().arn.unwrap();
        kms.create_alias().alias_name(&self.config.log_archive.kms_alias).target_key_id(&key).send().await.unwrap();
        a.s3(&s).create_bucket().bucket(&self.config.log_archive.bucket).send().await.unwrap();
        key
    }

    pub fn ctx<'a>(&'a self, aws: &'a orgtrail::aws::Aws, apply: bool) -> orgtrail::steps::Ctx<'a> {
        orgtrail::steps::Ctx { aws, config: &self.config, org: &self.org, caller: &self.caller, targets: &self.targets, apply }
    }

    /// The log-archive account's session in the home region, for reading back (and drifting) resources.
    pub fn log_archive_session(&self, aws: &orgtrail::aws::Aws) -> SdkConfig {
        aws.session(&self.sb.org.log_archive_account).to_builder().region(aws_config::Region::new(self.config.organization.home_region.clone())).build()
    }

    /// kms-key, access-log-bucket, log-bucket in the executor's order; every change they report.
    pub async fn converge_log_archive(&self, aws: &orgtrail::aws::Aws, apply: bool) -> Vec<orgtrail::steps::Change> {
        use orgtrail::steps::{kms_key, log_bucket};
        let ctx = self.ctx(aws, apply);
        let mut changes = Vec::new();
        for out in [kms_key::converge(&ctx).await, log_bucket::converge_access_log_bucket(&ctx).await, log_bucket::converge_log_bucket(&ctx).await] {
            changes.extend(out.unwrap().changes);
        }
        changes
    }
}

/// Declares a test file's `struct World(StepWorld)`, dereferencing to the `StepWorld`, so the
/// file can add helpers of its own (`impl World { ... }`).
#[macro_export]
macro_rules! step_world {
    () => {
        struct World($crate::harness::StepWorld);

        impl std::ops::Deref for World {
            type Target = $crate::harness::StepWorld;
            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }

        impl std::ops::DerefMut for World {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.0
            }
        }
    };
}

