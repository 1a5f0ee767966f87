//! Policy documents orgtrail applies (log-archive bucket, KMS keys, access-log bucket, state bucket), their semantic
//! comparison for drift detection, and the lock-out check run before a bucket policy is applied.
//!
//! The documents live as JSON templates in `templates/` so they can be reviewed as policies, not code.
mod compare;
mod detection;
mod error;
mod lockout;
mod render;
mod standalone;

#[cfg(test)]
mod tests;

pub use compare::{diff_policies, normalize_policy, NormalizedPolicy, PolicyDiff};
pub use error::{LockoutError, PolicyError};
pub use detection::{render_alarm_topic_policy, render_logs_role_policy, render_logs_role_trust, render_scp, scp_denies, KeyUsers, ScpContext};
pub use lockout::{check_not_locked_out, check_root_can_enable_mfa_delete, principal_arn_for, PROTECTED_ACTIONS};
pub use render::{
    render_access_log_bucket_policy, render_access_log_key_policy, render_bucket_policy, render_key_policy, PolicyContext, TrailMode,
};
pub use standalone::{render_remote_state_bucket_policy, render_trail_topic_policy};
