//! Errors of the policy module.

/// Rendering a policy template failed. Every variant names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("template {template} is not valid JSON: {source}")]
    TemplateJson { template: &'static str, source: serde_json::Error },
    #[error("template {template}: unknown placeholder {{{placeholder}}} (no value is defined for it)")]
    UnknownPlaceholder { template: &'static str, placeholder: String },
    #[error(
        "template {template}: list placeholder {{{placeholder}}} must be a whole JSON string on its own \
         (it expands to an array), not part of a longer string"
    )]
    ListInString { template: &'static str, placeholder: String },
    #[error("template {template}: {message}")]
    Template { template: &'static str, message: String },
    #[error("cannot render {template}: {message}")]
    InvalidContext { template: &'static str, message: String },
}

/// Applying a bucket policy would deny the caller the actions it needs to manage the bucket later.
#[derive(Debug, thiserror::Error)]
pub enum LockoutError {
    #[error(
        "refusing to apply this bucket policy: statement {sid} would deny {action} to {principal_arn} \
         (orgtrail is running as {caller_arn}), because its condition {condition} on aws:PrincipalArn does not \
         match that role. Applying it would lock orgtrail out of the bucket's policy, versioning \
         and lifecycle; only the log-archive account's root user could undo it. Fix: add {principal_arn} \
         (or a pattern matching it, e.g. with *) to log_archive.admin_roles in the orgtrail config, or run \
         orgtrail as one of the listed roles. If the role has an IAM path, list its full role ARN with the \
         path or use a pattern such as arn:aws:iam::<account>:role/*<RoleName>"
    )]
    WouldLockOut {
        sid: String,
        action: String,
        caller_arn: String,
        principal_arn: String,
        /// The condition that excludes the caller, e.g. `ArnNotLike ["arn:aws:iam::1:role/Admin"]`.
        condition: String,
    },
    #[error(
        "refusing to apply this bucket policy: statement {sid} would deny s3:PutBucketVersioning to the log-archive \
         account's root user {root_arn} (condition {condition}). S3 accepts MFA Delete only from that root user, \
         through PutBucketVersioning, and an explicit Deny in a bucket policy binds the root user too: MFA Delete \
         could never be enabled. Fix: exempt {root_arn} from that statement (orgtrail's DenyVersioningChanges does)"
    )]
    BlocksMfaDelete { sid: String, root_arn: String, condition: String },
    #[error("cannot check the bucket policy for lock-out: {0}")]
    InvalidPolicy(String),
}
