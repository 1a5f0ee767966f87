//! The set-up the member-side step tests share (member_checks, member_checks_delivery, strict): an
//! organization with the log-archive key and bucket, its first member, the organization trail
//! converged by the org-trail step, and CloudTrail acting in that member.
use orgtrail::aws::Aws;

use super::config::ConfigEdit;
use super::world::{test_aws, StepWorld};

impl StepWorld {
    /// An organization with `members` members and the log-archive key and bucket (the organization
    /// trail is converged by `converge_org_trail`, unless `mode = "account"`).
    pub async fn member_side(members: usize, edit: impl FnOnce(ConfigEdit) -> ConfigEdit) -> StepWorld {
        let w = StepWorld::sandbox(members, edit).await;
        w.key_and_bucket().await;
        w
    }

    /// The member the checks run on: the first target.
    pub fn member(&self) -> String {
        self.targets[0].clone()
    }

    pub fn org_trail_arn(&self) -> String {
        self.sb.org_trail_arn()
    }

    pub async fn converge_org_trail(&self) {
        orgtrail::steps::org_trail::converge(&self.ctx(&test_aws(&self.sb), true)).await.unwrap();
    }

    /// A CloudTrail client acting in the member account (assumed role), in `region`.
    pub fn member_ct(&self, a: &Aws, region: &str) -> aws_sdk_cloudtrail::Client {
        a.cloudtrail(&a.session(&self.member()).to_builder().region(aws_config::Region::new(region.to_string())).build())
    }
}
