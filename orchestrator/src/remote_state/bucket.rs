//! The state bucket, when orgtrail creates it (on first use: the first lock attempt finds no
//! bucket), hardened by the same routine as the log-archive buckets (`steps::bucket`): versioning
//! (every pushed snapshot stays recoverable), SSE-KMS with the AWS-managed key and a Bucket Key,
//! Block Public Access, bucket-owner-enforced ownership and a TLS-only bucket policy. An existing
//! bucket is left as its owner configured it.
use std::collections::BTreeMap;

use super::{Remote, RemoteStateError};
use crate::aws::partition_of;
use crate::aws::AwsError;
use crate::steps::bucket::{self, Bucket, BucketSpec, Encryption};
use crate::steps::StepError;

/// Denies every request to the bucket that does not use TLS (templates/remote-state-bucket-policy.json).
pub fn tls_only_policy(partition: &str, bucket: &str) -> serde_json::Value {
    // The bucket name passed the state URL's bucket-name rule and the template is static: rendering cannot fail.
    crate::policy::render_remote_state_bucket_policy(partition, bucket).expect("the remote-state policy template renders")
}

/// Creates the bucket hardened. Returns a note for the operator when a setting was left out.
pub async fn create_hardened(remote: &Remote) -> Result<Option<String>, RemoteStateError> {
    let name = remote.url.bucket.as_str();
    // The account is not known here (and not needed): errors name the bucket.
    let b = Bucket::new(remote.s3.clone(), "", name, true);
    let fail = |e: StepError| remote.aws_error("", aws_error(e));
    // Created by a concurrent orgtrail since our first attempt: it hardens it.
    if !bucket::create(&b, &remote.region, false).await.map_err(fail)? {
        return Ok(None);
    }
    let no_tags = BTreeMap::new();
    let spec = BucketSpec { encryption: Encryption::AwsManagedKms, logging: None, tags: &no_tags, lifecycle: None, object_lock: None };
    bucket::converge(&b, &spec).await.map_err(fail)?;
    if remote.plain_http {
        // Only an emulator answers plain HTTP; the policy would refuse orgtrail's own requests there.
        return Ok(Some(format!("the endpoint is plain HTTP, so the TLS-only policy was not put on s3://{name}")));
    }
    bucket::converge_policy(&b, None, &tls_only_policy(partition_of(&remote.region), name)).await.map_err(fail)?;
    Ok(None)
}

/// The AWS error behind a hardening failure; a refusal (which a new bucket cannot meet) keeps its words.
fn aws_error(e: StepError) -> AwsError {
    match e {
        StepError::Aws(call) => call.source,
        other => AwsError { operation: "S3.CreateBucket".into(), code: None, message: other.to_string() },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_policy_denies_plain_http_on_bucket_and_objects() {
        let p = super::tls_only_policy("aws", "team-state");
        let s = &p["Statement"][0];
        assert_eq!(s["Effect"], "Deny");
        assert_eq!(s["Condition"]["Bool"]["aws:SecureTransport"], "false");
        assert_eq!(s["Resource"], serde_json::json!(["arn:aws:s3:::team-state", "arn:aws:s3:::team-state/*"]));
    }
}
