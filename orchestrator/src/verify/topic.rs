//! OrgTrail.DeliveryTopic: with `[trail] sns_topic`, the trail's delivery topic as the org-trail /
//! account-trail step makes it (steps/trail/topic.rs). The trail's SnsTopicARN is the topic of the
//! acting account in the home region, compared whole as the step does; the topic exists; and its
//! policy holds orgtrail's statement as rendered (`topic::merged` has nothing to add, the step's
//! own test). The trail is the one verify's trail controls listed (DescribeTrails once); the topic
//! is read with the credentials the step writes it with. NOT-APPLICABLE without `sns_topic`, or
//! when an adopted trail stands in for orgtrail's (the step then makes no topic).
use aws_config::SdkConfig;
use aws_sdk_cloudtrail::types::Trail as LiveTrail;
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

use super::trails::Scope;
use super::{Control, Finding, Status};
use crate::aws::Site;
use crate::config::{ExistingOrgTrail, TrailMode};
use crate::policy::diff_policies;
use crate::steps::support::{in_region, trail_resource};
use crate::steps::trail::topic;
use crate::steps::{absent, Ctx, StepError};

const CONTROL: Control = Control::OrgTrailTopic;

/// `scopes`: the trails verify's trail controls listed (`trails::scopes`), so DescribeTrails runs once.
pub(super) async fn check(ctx: &Ctx<'_>, scopes: &[Scope]) -> Vec<Finding> {
    let organization = ctx.config.trail.mode == TrailMode::Organization;
    // The account that acts on the trail and owns its topic: for the organization trail, the caller
    // (the management account or the delegated administrator), not the trail's owner.
    let acting = |s: &Scope| if organization { ctx.caller.account.clone() } else { s.account.clone() };
    let Some(name) = ctx.config.trail.sns_topic.as_deref() else {
        return scopes.iter().map(|s| Finding::new(CONTROL, &acting(s), trail_resource(&s.expected), Status::NotApplicable, "[trail] sns_topic not configured")).collect();
    };
    stream::iter(scopes).map(|s| judge(ctx, s, acting(s), organization, name)).buffer_unordered(ctx.config.access.max_concurrency.max(1)).collect().await
}

async fn judge(ctx: &Ctx<'_>, scope: &Scope, account: String, organization: bool, name: &str) -> Finding {
    let account = account.as_str();
    let trail_arn = scope.expected.as_str();
    let topic_arn = topic::arn(ctx, account, name);
    let resource = format!("{} -> sns-topic {topic_arn}", trail_resource(trail_arn));
    let listed = match scope.listed() {
        Ok(t) => t,
        Err(e) => return Finding::error(CONTROL, account, resource, e),
    };
    let ours = listed.iter().copied().find(|t| t.trail_arn() == Some(trail_arn));
    // The organization scope lists the management account's organization trails only.
    let others: Vec<&str> = listed.iter().filter_map(|t| t.trail_arn()).filter(|a| *a != trail_arn).collect();
    if ctx.config.trail.existing_org_trail == ExistingOrgTrail::Adopt && !others.is_empty() {
        return Finding::new(
            CONTROL,
            account,
            resource,
            Status::NotApplicable,
            format!("existing_org_trail = \"adopt\": {} stands in for orgtrail's trail, and its topic is its owner's", others.join(", ")),
        );
    }
    // The credentials the step acts with: the base ones for the organization trail, the member role's in account mode.
    let conf = if organization { in_region(ctx.aws.base(), ctx.home_region()) } else { in_region(&ctx.session(account), ctx.home_region()) };
    let policy = match topic_policy(ctx, &conf, account, &topic_arn).await {
        Ok(p) => p,
        Err(e) => return Finding::error(CONTROL, account, resource, &e),
    };
    let want = match topic::statement(&topic_arn, trail_arn) {
        Ok(w) => w,
        Err(e) => return Finding::new(CONTROL, account, resource, Status::Error, e.to_string()),
    };
    let (trail_ok, trail_evidence) = sns_topic_arn(ours, &topic_arn);
    let (topic_ok, topic_evidence) = match &policy {
        None => (false, format!("topic {topic_arn} does not exist (GetTopicAttributes: NotFound)")),
        Some(p) => match topic::merged(Some(p), &want) {
            None => (true, format!("Policy: statement {} as rendered (SNS:Publish for cloudtrail.amazonaws.com, aws:SourceArn={trail_arn})", topic::SID)),
            Some(_) => (false, format!("Policy: {}", statement_difference(p, &want, trail_arn))),
        },
    };
    let status = if trail_ok && topic_ok { Status::Pass } else { Status::Fail };
    Finding::new(CONTROL, account, resource, status, format!("{trail_evidence}; {topic_evidence}"))
}

/// The topic's Policy attribute, None when the topic does not exist.
async fn topic_policy(ctx: &Ctx<'_>, conf: &SdkConfig, account: &str, topic_arn: &str) -> Result<Option<String>, StepError> {
    let site = Site::new(account, conf.region(), format!("sns-topic {topic_arn}"));
    let out = ctx.aws.sns(conf).get_topic_attributes().topic_arn(topic_arn).send().await.map_err(site.fail("SNS.GetTopicAttributes"));
    let live = absent(out, &["NotFound"])?;
    Ok(live.map(|out| out.attributes().and_then(|a| a.get("Policy")).cloned().unwrap_or_default()))
}

/// Whether the trail names the topic (compared whole, as `trail::diff_properties` does), and the evidence.
fn sns_topic_arn(trail: Option<&LiveTrail>, want: &str) -> (bool, String) {
    let Some(t) = trail else {
        return (false, "the trail does not exist (DescribeTrails)".into());
    };
    match t.sns_topic_arn().filter(|a| !a.is_empty()) {
        Some(live) if live == want => (true, format!("SnsTopicARN={live}")),
        live => (false, format!("SnsTopicARN={}, not {want}", live.unwrap_or("(none)"))),
    }
}

/// What keeps the live policy from holding orgtrail's statement: missing, or which elements of it differ.
fn statement_difference(policy: &str, want: &Value, trail_arn: &str) -> String {
    let sid = topic::SID;
    let doc: Value = serde_json::from_str(policy).unwrap_or(Value::Null);
    let statements = match &doc["Statement"] {
        Value::Array(a) => a.clone(),
        one => vec![one.clone()],
    };
    let what = format!("SNS:Publish for cloudtrail.amazonaws.com, aws:SourceArn={trail_arn}");
    let Some(live) = statements.into_iter().find(|s| s["Sid"] == sid) else {
        return format!("statement {sid} missing ({what})");
    };
    let diff = diff_policies(&json!({"Statement": [live]}), &json!({"Statement": [want]}));
    match diff.changed_fields.get(sid).filter(|f| !f.is_empty()) {
        Some(fields) => format!("statement {sid} differs from the rendered one ({what}) in {}", fields.join(", ")),
        None => format!("statement {sid} differs from the rendered one ({what})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPIC: &str = "arn:aws:sns:us-east-1:1:t";
    const TRAIL: &str = "arn:aws:cloudtrail:us-east-1:2:trail/orgtrail";

    #[test]
    fn the_difference_names_the_statement_and_the_element() {
        let want = topic::statement(TOPIC, TRAIL).unwrap();
        let other = json!({"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "SNS:GetTopicAttributes", "Resource": TOPIC});
        let without = json!({"Version": "2012-10-17", "Statement": [other]}).to_string();
        assert!(statement_difference(&without, &want, TRAIL).starts_with("statement AWSCloudTrailSNSPolicy missing"));
        let mut foreign = want.clone();
        foreign["Condition"]["StringEquals"]["aws:SourceArn"] = json!("arn:aws:cloudtrail:us-east-1:1:trail/orgtrail");
        let changed = json!({"Version": "2012-10-17", "Statement": [other, foreign]}).to_string();
        assert!(topic::merged(Some(&changed), &want).is_some(), "the step would rewrite it");
        assert!(statement_difference(&changed, &want, TRAIL).ends_with("in Condition"), "{}", statement_difference(&changed, &want, TRAIL));
    }

    #[test]
    fn the_trail_must_name_the_topic_whole() {
        let t = |arn: Option<&str>| LiveTrail::builder().trail_arn(TRAIL).set_sns_topic_arn(arn.map(str::to_string)).build();
        assert_eq!(sns_topic_arn(Some(&t(Some(TOPIC))), TOPIC), (true, format!("SnsTopicARN={TOPIC}")));
        let other = "arn:aws:sns:us-east-1:2:t";
        assert_eq!(sns_topic_arn(Some(&t(Some(other))), TOPIC), (false, format!("SnsTopicARN={other}, not {TOPIC}")));
        assert_eq!(sns_topic_arn(Some(&t(None)), TOPIC).1, format!("SnsTopicARN=(none), not {TOPIC}"));
        assert!(!sns_topic_arn(None, TOPIC).0);
    }
}
