//! Policy unit tests, by topic; the fixtures (contexts, statement lookups) are shared here.
use serde_json::{json, Value};

use super::*;

const MGMT: &str = "111111111111";
const ADMIN: &str = "arn:aws:iam::111111111111:role/OrgtrailAdmin";
const READER: &str = "arn:aws:iam::333333333333:role/LogReader";

fn ctx() -> PolicyContext {
    PolicyContext {
        partition: "aws".into(),
        org_id: "o-abc123def4".into(),
        management_account: MGMT.into(),
        log_archive_account: "222222222222".into(),
        home_region: "us-east-1".into(),
        trail_name: "orgtrail".into(),
        bucket: "orgtrail-logs".into(),
        prefix: Some("org".into()),
        access_log_bucket: "orgtrail-logs-access".into(),
        key_arn: "arn:aws:kms:us-east-1:222222222222:key/0000-1111".into(),
        reader_role_arns: vec![READER.into()],
        admin_role_arns: vec![ADMIN.into(), "arn:aws:iam::*:role/BreakGlass*".into()],
        mode: TrailMode::Organization,
        enforce_encryption: false,
        key_users: Default::default(),
    }
}

fn account_ctx() -> PolicyContext {
    PolicyContext {
        mode: TrailMode::Account { account_ids: vec!["444444444444".into(), "555555555555".into()] },
        ..ctx()
    }
}

fn sids(doc: &Value) -> Vec<&str> {
    doc["Statement"].as_array().unwrap().iter().map(|s| s["Sid"].as_str().unwrap()).collect()
}

fn stmt<'a>(doc: &'a Value, sid: &str) -> &'a Value {
    doc["Statement"].as_array().unwrap().iter().find(|s| s["Sid"] == sid).unwrap_or_else(|| panic!("no {sid}"))
}

/// With reader roles (both test contexts have one); without, `AllowLogReaders` is left out.
const BASE_SIDS: [&str; 9] = [
    "AWSCloudTrailAclCheck",
    "AWSCloudTrailWrite",
    "DenyInsecureTransport",
    "DenyExternalPrincipals",
    "RestrictLogReads",
    "AllowLogReaders",
    "DenyLogDeletion",
    "DenyVersioningChanges",
    "DenyPolicyTampering",
];

/// What S3 does to a policy it returns: one-element arrays collapsed, `{"AWS": "*"}` as `"*"`.
fn as_aws_returns_it(v: &Value) -> Value {
    match v {
        Value::Array(a) if a.len() == 1 => as_aws_returns_it(&a[0]),
        Value::Array(a) => Value::Array(a.iter().rev().map(as_aws_returns_it).collect()),
        Value::Object(o) if o.len() == 1 && o.get("AWS") == Some(&json!("*")) => json!("*"),
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), as_aws_returns_it(x))).collect()),
        other => other.clone(),
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
        other => vec![other.as_str().unwrap().to_string()],
    }
}

mod compare;
mod lockout;
mod render;
