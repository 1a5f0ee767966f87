//! Step tests' world: the test role, a fresh `Aws`, and the `Ctx` a step converges with.
use aws_config::SdkConfig;

use super::Sandbox;

/// The role the sandbox's accounts trust (the seeder creates none: moto accepts any role name).
pub fn test_role() -> orgtrail::aws::RoleSpec {
    orgtrail::aws::RoleSpec {
        partition: "aws".into(),
        role_name: "OrganizationAccountAccessRole".into(),
        external_id: None,
        session_name: "orgtrail-test".into(),
        duration_seconds: 900,
    }
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

