//! The trail's delivery-notification topic, owned by this step: created in the home region of the
//! account that acts on the trail, with a statement letting CloudTrail publish for this trail only
//! (aws:SourceArn). From a CloudTrail delegated administrator that is the administrator's account,
//! while the trail and so the SourceArn are the management account's (docs/design.md, "The
//! delivery topic of a delegated administrator's trail"); the trail names the topic by ARN.
use aws_config::SdkConfig;
use serde_json::{json, Value};

use crate::aws::Site;
use crate::steps::{absent, Action, Change, Ctx, StepError};

pub const SID: &str = "AWSCloudTrailSNSPolicy";
/// The tag a topic apply creates carries, with the trail's ARN: what makes it orgtrail's to delete
/// (`orgtrail remove`, once the trail is gone); a topic that existed before is never tagged.
pub const TRAIL_TAG: &str = "orgtrail:trail";

/// The topic `name` of `account` in the home region.
pub fn arn(ctx: &Ctx<'_>, account: &str, name: &str) -> String {
    crate::aws::Arn::new(ctx.partition(), "sns", ctx.home_region(), account, name).to_string()
}

/// orgtrail's statement (templates/trail-topic-policy.json).
pub fn statement(topic_arn: &str, trail_arn: &str) -> Result<Value, crate::policy::PolicyError> {
    let mut doc = crate::policy::render_trail_topic_policy(topic_arn, trail_arn)?;
    Ok(doc["Statement"][0].take())
}

/// Scalars and one-element lists alike, lists sorted, action names case-insensitive.
fn normalize(v: &Value, key: &str) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), normalize(v, k))).collect()),
        Value::Array(a) if a.len() == 1 => normalize(&a[0], key),
        Value::Array(a) => {
            let mut items: Vec<Value> = a.iter().map(|x| normalize(x, key)).collect();
            items.sort_by_key(|x| x.to_string());
            Value::Array(items)
        }
        Value::String(s) if key == "Action" => Value::String(s.to_ascii_lowercase()),
        other => other.clone(),
    }
}

/// The policy with orgtrail's statement in place (other statements kept), or None when it already is.
pub fn merged(policy: Option<&str>, want: &Value) -> Option<Value> {
    let mut doc: Value = policy.and_then(|p| serde_json::from_str(p).ok()).unwrap_or_else(|| json!({"Version": "2012-10-17", "Statement": []}));
    if !doc["Statement"].is_array() {
        doc["Statement"] = json!([doc["Statement"].take()].into_iter().filter(|s| !s.is_null()).collect::<Vec<_>>());
    }
    let statements = doc["Statement"].as_array_mut()?;
    if statements.iter().any(|s| normalize(s, "") == normalize(want, "")) {
        return None;
    }
    statements.retain(|s| s["Sid"] != SID);
    statements.push(want.clone());
    Some(doc)
}

pub async fn converge(ctx: &Ctx<'_>, conf: &SdkConfig, account: &str, name: &str, trail_arn: &str) -> Result<Change, StepError> {
    let topic_arn = arn(ctx, account, name);
    let site = Site::new(account, conf.region(), format!("sns-topic {topic_arn}"));
    let sns = ctx.aws.sns(conf);
    let live = absent(sns.get_topic_attributes().topic_arn(&topic_arn).send().await.map_err(site.fail("SNS.GetTopicAttributes")), &["NotFound"])?;
    let policy = live.map(|out| out.attributes().and_then(|a| a.get("Policy")).cloned().unwrap_or_default());
    let want = statement(&topic_arn, trail_arn).map_err(|e| StepError::refused(account, site.resource.clone(), e.to_string()))?;
    let (action, new_policy) = match &policy {
        None => (Action::Create, merged(None, &want)),
        Some(p) => {
            let m = merged(Some(p), &want);
            (if m.is_some() { Action::Update { fields: vec!["Policy".into()] } } else { Action::NoChange }, m)
        }
    };
    if ctx.apply {
        if policy.is_none() {
            let tag = aws_sdk_sns::types::Tag::builder().key(TRAIL_TAG).value(trail_arn).build().map_err(|e| StepError::refused(account, site.resource.clone(), e.to_string()))?;
            sns.create_topic().name(name).tags(tag).send().await.map_err(site.fail("SNS.CreateTopic"))?;
        }
        if let Some(doc) = new_policy {
            sns.set_topic_attributes()
                .topic_arn(&topic_arn)
                .attribute_name("Policy")
                .attribute_value(doc.to_string())
                .send()
                .await
                .map_err(site.fail("SNS.SetTopicAttributes"))?;
        }
    }
    Ok(Change::new(site.resource, action))
}

#[cfg(test)]
mod tests {
    #[test]
    fn merge_keeps_other_statements_and_is_idempotent() {
        let want = super::statement("arn:aws:sns:us-east-1:1:t", "arn:aws:cloudtrail:us-east-1:1:trail/x").expect("renders");
        assert_eq!((want["Sid"].as_str(), want["Condition"]["StringEquals"]["aws:SourceArn"].as_str()), (Some(super::SID), Some("arn:aws:cloudtrail:us-east-1:1:trail/x")));
        let other = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Owner","Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes"],"Resource":"x"}]}"#;
        let m = super::merged(Some(other), &want).expect("statement added");
        assert_eq!(m["Statement"].as_array().map(Vec::len), Some(2));
        assert!(super::merged(Some(&m.to_string()), &want).is_none());
    }
}
