//! The state bucket, when orgtrail creates it (on first use: the first lock attempt finds no
//! bucket): versioning (every pushed snapshot stays recoverable), SSE-KMS with the AWS-managed key,
//! Block Public Access, bucket-owner-enforced ownership and a TLS-only bucket policy. An existing
//! bucket is left as its owner configured it.
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, ObjectOwnership, OwnershipControls, OwnershipControlsRule,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    VersioningConfiguration,
};

use super::{Remote, RemoteStateError};
use crate::aws::{aws_err, AwsError};

/// Denies every request to the bucket that does not use TLS (templates/remote-state-bucket-policy.json).
pub fn tls_only_policy(partition: &str, bucket: &str) -> serde_json::Value {
    // The bucket name passed the state URL's bucket-name rule and the template is static: rendering cannot fail.
    crate::policy::render_remote_state_bucket_policy(partition, bucket).expect("the remote-state policy template renders")
}

/// Creates the bucket hardened. Returns a note for the operator when a setting was left out.
pub async fn create_hardened(remote: &Remote) -> Result<Option<String>, RemoteStateError> {
    let s3 = &remote.s3;
    let bucket = remote.url.bucket.as_str();
    let fail = |e: AwsError| remote.aws_error("", e);
    let mut req = s3.create_bucket().bucket(bucket);
    // us-east-1 is the one region that rejects its own name as LocationConstraint.
    if remote.region != "us-east-1" {
        req = req.create_bucket_configuration(CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(remote.region.as_str())).build());
    }
    if let Err(e) = req.send().await {
        let e = AwsError::from_sdk("S3.CreateBucket", &e);
        // Created by a concurrent orgtrail since our first attempt: it hardens it.
        if e.is_code("BucketAlreadyOwnedByYou") {
            return Ok(None);
        }
        return Err(fail(e));
    }
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build())
        .send()
        .await
        .map_err(aws_err("S3.PutBucketVersioning"))
        .map_err(fail)?;
    let sse = ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::AwsKms).build().expect("algorithm set");
    let rule = ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(sse).bucket_key_enabled(true).build();
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(ServerSideEncryptionConfiguration::builder().rules(rule).build().expect("rules set"))
        .send()
        .await
        .map_err(aws_err("S3.PutBucketEncryption"))
        .map_err(fail)?;
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder().block_public_acls(true).ignore_public_acls(true).block_public_policy(true).restrict_public_buckets(true).build(),
        )
        .send()
        .await
        .map_err(aws_err("S3.PutPublicAccessBlock"))
        .map_err(fail)?;
    let ownership = OwnershipControlsRule::builder().object_ownership(ObjectOwnership::BucketOwnerEnforced).build().expect("ownership set");
    s3.put_bucket_ownership_controls()
        .bucket(bucket)
        .ownership_controls(OwnershipControls::builder().rules(ownership).build().expect("rules set"))
        .send()
        .await
        .map_err(aws_err("S3.PutBucketOwnershipControls"))
        .map_err(fail)?;
    if remote.plain_http {
        // Only an emulator answers plain HTTP; the policy would refuse orgtrail's own requests there.
        return Ok(Some(format!("the endpoint is plain HTTP, so the TLS-only policy was not put on s3://{bucket}")));
    }
    let partition = partition_of(&remote.region);
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(tls_only_policy(partition, bucket).to_string())
        .send()
        .await
        .map_err(aws_err("S3.PutBucketPolicy"))
        .map_err(fail)?;
    Ok(None)
}

fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
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
