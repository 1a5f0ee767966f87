//! Templates with scalar placeholders only, rendered through the same substitution as the others.
use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::error::PolicyError;
use super::render::{render_template, Vars};

/// The shared-state bucket (remote_state::bucket): TLS only. Who may use it is decided by IAM in its
/// account (templates/iam/management-account.json, RemoteState*): teams and CI runners use different
/// roles, so the policy does not pin one.
const REMOTE_STATE_TEMPLATE: &str = include_str!("../../../templates/remote-state-bucket-policy.json");
/// The trail's delivery-notification topic: CloudTrail may publish for this trail only (aws:SourceArn).
const TRAIL_TOPIC_TEMPLATE: &str = include_str!("../../../templates/trail-topic-policy.json");

fn render(name: &'static str, template: &str, scalars: &[(&str, &str)]) -> Result<Value, PolicyError> {
    let vars = Vars { scalars: scalars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), lists: BTreeMap::new(), flags: BTreeSet::new() };
    render_template(name, template, &vars)
}

/// The policy of the bucket holding orgtrail's shared state.
pub fn render_remote_state_bucket_policy(partition: &str, state_bucket: &str) -> Result<Value, PolicyError> {
    render("remote-state-bucket-policy.json", REMOTE_STATE_TEMPLATE, &[("partition", partition), ("state_bucket", state_bucket)])
}

/// The statements orgtrail puts in the trail topic's policy (other statements there are kept).
pub fn render_trail_topic_policy(topic_arn: &str, trail_arn: &str) -> Result<Value, PolicyError> {
    render("trail-topic-policy.json", TRAIL_TOPIC_TEMPLATE, &[("topic_arn", topic_arn), ("trail_arn", trail_arn)])
}
