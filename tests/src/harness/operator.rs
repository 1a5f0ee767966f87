//! Changes made behind orgtrail's back, as an operator with console access would.
use aws_config::SdkConfig;

use super::{test_aws, Sandbox};

/// An operator with console access to the sandbox, changing things behind orgtrail's back: the
/// log-archive account's S3 and KMS in the home region, and the management account's CloudTrail.
pub struct Operator {
    pub aws: orgtrail::aws::Aws,
    conf: SdkConfig,
    pub log_archive: String,
    pub bucket: String,
    pub trail_arn: String,
}

impl Operator {
    /// For the sandbox config's names: bucket `orgtrail-logs-{log archive}`, trail `orgtrail`.
    pub fn new(sb: &Sandbox) -> Operator {
        let la = sb.org.log_archive_account.clone();
        Operator {
            aws: test_aws(sb),
            conf: sb.conf.clone(),
            bucket: format!("orgtrail-logs-{la}"),
            trail_arn: format!("arn:aws:cloudtrail:us-east-1:{}:trail/orgtrail", sb.org.management_account),
            log_archive: la,
        }
    }

    fn in_log_archive(&self) -> SdkConfig {
        self.aws.session(&self.log_archive).to_builder().region(aws_config::Region::new("us-east-1")).build()
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        self.aws.s3(&self.in_log_archive())
    }

    pub fn kms(&self) -> aws_sdk_kms::Client {
        self.aws.kms(&self.in_log_archive())
    }

    /// The log-archive key (alias `alias/orgtrail`).
    pub async fn key_metadata(&self) -> aws_sdk_kms::types::KeyMetadata {
        self.kms().describe_key().key_id("alias/orgtrail").send().await.expect("the log-archive key").key_metadata.expect("key metadata")
    }

    pub async fn key_id(&self) -> String {
        self.key_metadata().await.key_id
    }

    pub async fn key_arn(&self) -> String {
        self.key_metadata().await.arn.expect("key ARN")
    }

    /// The management account's CloudTrail (base credentials).
    pub fn cloudtrail(&self) -> aws_sdk_cloudtrail::Client {
        aws_sdk_cloudtrail::Client::new(&self.conf)
    }

    /// Another organization trail `name` of the management account, logging to a bucket of its own
    /// (`{name}-trail-logs`, with the policy CloudTrail needs): what must cover the organization
    /// before `remove --stop-trail` takes orgtrail's trail.
    pub async fn replacement_org_trail(&self, name: &str, multi_region: bool) {
        let bucket = format!("{name}-trail-logs");
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&self.conf).force_path_style(true).build());
        s3.create_bucket().bucket(&bucket).send().await.expect("CreateBucket");
        let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Acl", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl", "Resource": format!("arn:aws:s3:::{bucket}")},
            {"Sid": "Write", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]});
        s3.put_bucket_policy().bucket(&bucket).policy(policy.to_string()).send().await.expect("PutBucketPolicy");
        let ct = self.cloudtrail();
        ct.create_trail().name(name).s3_bucket_name(&bucket).is_organization_trail(true).is_multi_region_trail(multi_region).send().await.expect("CreateTrail");
        ct.start_logging().name(name).send().await.expect("StartLogging");
    }
}


/// An advanced event selector whose fields each equal one value, as an operator would put on a
/// trail: `event_selector("reads only", &[("eventCategory", "Management"), ("readOnly", "true")])`.
pub fn event_selector(name: &str, fields: &[(&str, &str)]) -> aws_sdk_cloudtrail::types::AdvancedEventSelector {
    use aws_sdk_cloudtrail::types::{AdvancedEventSelector, AdvancedFieldSelector};
    let fields = fields.iter().map(|(field, value)| AdvancedFieldSelector::builder().field(*field).equals(*value).build().expect("field set")).collect();
    AdvancedEventSelector::builder().name(name).set_field_selectors(Some(fields)).build().expect("field selectors set")
}
