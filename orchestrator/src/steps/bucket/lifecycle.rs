//! The lifecycle rule orgtrail owns on a bucket (by ID; other rules are kept as they are):
//! compared by content, written only when it differs.
use aws_sdk_s3::types::{BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, NoncurrentVersionExpiration, Transition, TransitionStorageClass};

use super::{Bucket, Found, Write, LIFECYCLE_RULE_ID};
use crate::config::Lifecycle;
use crate::steps::{absent, StepError};

/// The comparable content of a lifecycle rule: (enabled, prefix, transitions, expiry days, noncurrent expiry days).
type RuleShape = (bool, String, Vec<(Option<i32>, String)>, Option<i32>, Option<i32>);

fn shape(r: &LifecycleRule) -> RuleShape {
    #[allow(deprecated)] // the top-level Prefix is how older rules (and some emulators) express the filter
    let prefix = r.filter().and_then(|f| f.prefix()).or(r.prefix()).unwrap_or_default().to_string();
    let mut transitions: Vec<_> = r.transitions().iter().map(|t| (t.days(), t.storage_class().map(|c| c.as_str().to_string()).unwrap_or_default())).collect();
    transitions.sort();
    (
        *r.status() == ExpirationStatus::Enabled,
        prefix,
        transitions,
        r.expiration().and_then(|e| e.days()),
        r.noncurrent_version_expiration().and_then(|n| n.noncurrent_days()),
    )
}

/// orgtrail's rule for `l`, or None when `l` asks for no action (S3 rejects a rule without one).
fn desired_rule(l: &Lifecycle) -> Option<LifecycleRule> {
    if l.archive_after_days.is_none() && l.expire_after_days.is_none() && l.noncurrent_expire_after_days.is_none() {
        return None;
    }
    let mut rule = LifecycleRule::builder().id(LIFECYCLE_RULE_ID).status(ExpirationStatus::Enabled).filter(LifecycleRuleFilter::builder().prefix("").build());
    if let Some(days) = l.archive_after_days {
        rule = rule.transitions(Transition::builder().days(days).storage_class(TransitionStorageClass::from(l.archive_storage_class.as_str())).build());
    }
    if let Some(days) = l.expire_after_days {
        rule = rule.expiration(LifecycleExpiration::builder().days(days).build());
    }
    if let Some(days) = l.noncurrent_expire_after_days {
        rule = rule.noncurrent_version_expiration(NoncurrentVersionExpiration::builder().noncurrent_days(days).build());
    }
    Some(rule.build().expect("status is set"))
}

pub(super) async fn lifecycle_rule(b: &Bucket<'_>, want: Option<&Lifecycle>) -> Result<Found, StepError> {
    let live = b.s3.get_bucket_lifecycle_configuration().bucket(b.name).send().await.map_err(b.site.fail("S3.GetBucketLifecycleConfiguration"));
    let live_rules = absent(live, &["NoSuchLifecycleConfiguration"])?.map(|o| o.rules().to_vec()).unwrap_or_default();
    let (ours, others): (Vec<_>, Vec<_>) = live_rules.into_iter().partition(|r| r.id() == Some(LIFECYCLE_RULE_ID));
    let desired = want.and_then(desired_rule);
    if ours.iter().map(shape).collect::<Vec<_>>() == desired.iter().map(shape).collect::<Vec<_>>() {
        return Ok(Found::same());
    }
    Ok(Found::differs(b, vec!["lifecycle".into()], || {
        let rules: Vec<LifecycleRule> = others.into_iter().chain(desired).collect();
        Write::Lifecycle((!rules.is_empty()).then(|| BucketLifecycleConfiguration::builder().set_rules(Some(rules)).build().expect("rules are set")))
    }))
}
