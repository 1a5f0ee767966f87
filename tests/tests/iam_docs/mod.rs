//! The IAM documents orgtrail renders or documents, as AWS (and an outside linter) would get them:
//! the member role's template from `orgtrail render-bootstrap` (YAML and JSON), and the
//! management-account and delegated-administrator policies of templates/iam filled in for the
//! test inventory the way docs/iam.md tells an operator to (every optional statement kept, which
//! is the most any configuration grants; `_comment` keys removed, since IAM refuses them).
#![allow(dead_code)]
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use orgtrail_tests::emulator::workspace_root;
use orgtrail_tests::harness::{orgtrail_bin, stderr, stdout};
use serde_json::Value;

pub const MGMT: &str = "111111111111";
pub const LA: &str = "222222222222";
pub const DELEGATED: &str = "777777777777";
pub const ROLE: &str = "OrgtrailExecution";
pub const BUCKET: &str = "orgtrail-logs";
pub const ACCESS_BUCKET: &str = "orgtrail-logs-access";

/// The placeholder values docs/iam.md lists, for the test inventory.
pub fn values() -> Vec<(&'static str, String)> {
    [
        ("partition", "aws"),
        ("management_account", MGMT),
        ("delegated_admin_account", DELEGATED),
        ("log_archive_account", LA),
        ("home_region", "us-east-1"),
        ("trail_name", "orgtrail"),
        ("role_name", ROLE),
        ("bucket", BUCKET),
        ("access_log_bucket", ACCESS_BUCKET),
        ("kms_alias", "alias/orgtrail"),
        ("access_log_kms_alias", "alias/orgtrail-access-logs"),
        ("sns_topic", "orgtrail-delivery"),
        ("cloudwatch_logs_role_arn", "arn:aws:iam::111111111111:role/orgtrail-cloudtrail-to-logs"),
        ("external_id", "ext-id-for-tests"),
        ("state_bucket", "orgtrail-state"),
        ("state_prefix", "orgtrail"),
        ("log_group", "/aws/cloudtrail/orgtrail"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

/// templates/iam/`file` with every placeholder filled in and the `_comment` keys removed.
pub fn filled(file: &str) -> Value {
    let mut text = std::fs::read_to_string(workspace_root().join("templates/iam").join(file)).unwrap();
    for (k, v) in values() {
        text = text.replace(&format!("{{{k}}}"), &v);
    }
    assert!(!text.contains("\": \"{") && !text.contains("{partition}"), "{file}: a placeholder without a value in tests/tests/iam_docs");
    let mut doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    for st in doc["Statement"].as_array_mut().unwrap() {
        st.as_object_mut().unwrap().remove("_comment");
    }
    doc
}

/// A config for render-bootstrap with every option that adds a statement on, an external id and
/// `[access] trusted_principals` (org mode, or account mode with a delivery topic).
pub fn bootstrap_config(account_mode: bool) -> String {
    let trail = if account_mode { "mode = \"account\"\nsns_topic = \"orgtrail-delivery\"" } else { "" };
    format!(
        r#"
[organization]
home_region = "us-east-1"
management_account = "{MGMT}"
[access]
role_name = "{ROLE}"
external_id = "ext-id-for-tests"
trusted_principals = ["arn:aws:iam::{MGMT}:role/OrgtrailRunner", "arn:aws:iam::{MGMT}:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_PlatformAdmin_*"]
[log_archive]
account = "{LA}"
bucket = "{BUCKET}"
access_log_bucket = "{ACCESS_BUCKET}"
access_log_encryption = "sse-kms"
admin_roles = ["arn:aws:iam::{LA}:role/{ROLE}"]
[trail]
name = "orgtrail"
legacy_trails = "delete"
{trail}
[[wave]]
name = "all"
remaining = true
"#
    )
}

/// `orgtrail render-bootstrap --format FORMAT` for `config`, as text.
pub fn render_bootstrap(dir: &Path, config: &str, format: &str) -> String {
    let path: PathBuf = dir.join("orgtrail.toml");
    std::fs::write(&path, config).unwrap();
    let out = Command::new(orgtrail_bin()).env_remove("ORGTRAIL_CONFIG").args(["--config", path.to_str().unwrap(), "render-bootstrap", "--format", format]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "render-bootstrap: {}", stderr(&out));
    stdout(&out)
}

/// The YAML form read as data by PyYAML (parliament's own dependency, in its virtualenv).
pub fn yaml_to_json(python: &Path, yaml: &str) -> Value {
    let script = "import json, sys, yaml\njson.dump(yaml.safe_load(sys.stdin), sys.stdout)";
    let mut child = Command::new(python).args(["-c", script]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(yaml.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "PyYAML: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The IAM documents of a render-bootstrap template: (name, document).
pub fn bootstrap_documents(template: &Value) -> Vec<(String, Value)> {
    let res = &template["Resources"];
    let role = &res["MemberRole"]["Properties"];
    let mut docs = vec![("member role trust".to_string(), role["AssumeRolePolicyDocument"].clone())];
    for p in role["Policies"].as_array().unwrap() {
        docs.push((format!("member role {}", p["PolicyName"].as_str().unwrap()), p["PolicyDocument"].clone()));
    }
    docs.push(("log-archive role orgtrail-log-archive".to_string(), res["LogArchivePolicy"]["Properties"]["PolicyDocument"].clone()));
    docs
}

/// Replaces the trust's `{"Ref": "ExternalId"}` by a value, as CloudFormation would.
pub fn resolve_refs(doc: &mut Value) {
    match doc {
        Value::Object(m) if m.len() == 1 && m.contains_key("Ref") => *doc = Value::String("ext-id-for-tests".into()),
        Value::Object(m) => m.values_mut().for_each(resolve_refs),
        Value::Array(a) => a.iter_mut().for_each(resolve_refs),
        _ => {}
    }
}

/// templates/iam/`file` filled in with `values` (every optional statement kept, `_comment` removed).
pub fn filled_with(file: &str, values: &[(&str, String)]) -> Value {
    let mut text = std::fs::read_to_string(workspace_root().join("templates/iam").join(file)).unwrap();
    for (k, v) in values {
        text = text.replace(&format!("{{{k}}}"), v);
    }
    let mut doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    for st in doc["Statement"].as_array_mut().unwrap() {
        st.as_object_mut().unwrap().remove("_comment");
    }
    let left = doc.to_string().split('{').skip(1).find(|rest| rest.split_once('}').is_some_and(|(name, _)| !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))).map(str::to_string);
    assert!(left.is_none(), "{file}: a placeholder without a value: {{{}", left.unwrap_or_default());
    doc
}

/// The IAM action a request logged as `service.Operation` by the emulator needs (`None`: none);
/// `resource` tells an S3 bucket request from an object request. S3 REST requests are logged as
/// `METHOD?firstQueryParameter`.
pub fn action_of(op: &str, resource: &str) -> Option<String> {
    let (service, name) = op.split_once('.').unwrap();
    if service == "s3" {
        let object = resource.trim_start_matches("arn:aws:s3:::").contains('/');
        let (method, query) = name.split_once('?').unwrap_or((name, ""));
        let s3 = match (method, query, object) {
            ("GET" | "HEAD", "", true) => "GetObject",
            ("PUT", "", true) => "PutObject",
            ("DELETE", "", true) => "DeleteObject",
            ("HEAD" | "GET", "" | "list-type" | "prefix" | "max-keys" | "continuation-token" | "delimiter", false) => "ListBucket",
            ("PUT", "", false) => "CreateBucket",
            ("GET", "policy", _) => "GetBucketPolicy",
            ("PUT", "policy", _) => "PutBucketPolicy",
            ("GET", "versioning", _) => "GetBucketVersioning",
            ("PUT", "versioning", _) => "PutBucketVersioning",
            ("GET", "encryption", _) => "GetEncryptionConfiguration",
            ("PUT", "encryption", _) => "PutEncryptionConfiguration",
            ("GET", "lifecycle", _) => "GetLifecycleConfiguration",
            ("PUT" | "DELETE", "lifecycle", _) => "PutLifecycleConfiguration",
            ("GET", "logging", _) => "GetBucketLogging",
            ("PUT", "logging", _) => "PutBucketLogging",
            ("GET", "ownershipControls", _) => "GetBucketOwnershipControls",
            ("PUT", "ownershipControls", _) => "PutBucketOwnershipControls",
            ("GET", "publicAccessBlock", _) => "GetBucketPublicAccessBlock",
            ("PUT", "publicAccessBlock", _) => "PutBucketPublicAccessBlock",
            ("GET", "tagging", _) => "GetBucketTagging",
            ("PUT", "tagging", _) => "PutBucketTagging",
            ("GET", "object-lock", _) => "GetBucketObjectLockConfiguration",
            ("PUT", "object-lock", _) => "PutBucketObjectLockConfiguration",
            ("GET", "acl", _) => "GetBucketAcl",
            _ => return Some(format!("s3:UNMAPPED {name}")),
        };
        return Some(format!("s3:{s3}"));
    }
    if op == "sts.GetCallerIdentity" {
        return None;
    }
    let prefix = match service {
        "monitoring" => "cloudwatch",
        other => other,
    };
    Some(format!("{prefix}:{name}"))
}
