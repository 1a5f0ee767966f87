//! templates/iam/*.json (docs/iam.md) must grant every AWS operation orgtrail calls: each
//! `"Service.Operation"` name the code records for its call metrics maps to an IAM action that one
//! of the policy documents allows. A new SDK call without its permission fails here.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `"S3.PutBucketPolicy"`-style operation names in orgtrail's sources.
fn operations() -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_files(&root().join("orchestrator/src"), &mut files);
    let services = ["Organizations", "STS", "CloudTrail", "S3", "KMS", "SNS", "Account", "IAM", "CloudWatchLogs", "CloudWatch"];
    let mut ops = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for quoted in text.split('"').skip(1).step_by(2) {
            if let Some((svc, op)) = quoted.split_once('.') {
                if services.contains(&svc) && !op.is_empty() && op.chars().all(|c| c.is_ascii_alphanumeric()) && op.starts_with(|c: char| c.is_ascii_uppercase()) {
                    ops.insert(quoted.to_string());
                }
            }
        }
    }
    ops
}

/// The IAM action an operation needs; None when it needs none.
fn action(op: &str) -> Option<String> {
    let (svc, name) = op.split_once('.').unwrap();
    let renamed = match op {
        "STS.GetCallerIdentity" => return None,
        "S3.HeadBucket" | "S3.ListObjectsV2" => "ListBucket",
        "S3.HeadObject" => "GetObject",
        "S3.GetBucketEncryption" => "GetEncryptionConfiguration",
        "S3.PutBucketEncryption" => "PutEncryptionConfiguration",
        "S3.GetBucketLifecycleConfiguration" => "GetLifecycleConfiguration",
        "S3.PutBucketLifecycleConfiguration" | "S3.DeleteBucketLifecycle" => "PutLifecycleConfiguration",
        "S3.GetObjectLockConfiguration" => "GetBucketObjectLockConfiguration",
        "S3.PutObjectLockConfiguration" => "PutBucketObjectLockConfiguration",
        "S3.GetPublicAccessBlock" => "GetBucketPublicAccessBlock",
        "S3.PutPublicAccessBlock" => "PutBucketPublicAccessBlock",
        _ => name,
    };
    // CloudWatch Logs' IAM prefix is `logs`.
    let prefix = if svc == "CloudWatchLogs" { "logs".to_string() } else { svc.to_ascii_lowercase() };
    Some(format!("{prefix}:{renamed}"))
}

fn granted() -> BTreeSet<String> {
    let mut actions = BTreeSet::new();
    for e in std::fs::read_dir(root().join("templates/iam")).unwrap() {
        let p = e.unwrap().path();
        let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        for st in doc["Statement"].as_array().unwrap_or_else(|| panic!("{}: no Statement", p.display())) {
            assert!(st["Sid"].is_string(), "{}: a statement without Sid", p.display());
            match &st["Action"] {
                serde_json::Value::String(a) => {
                    actions.insert(a.to_ascii_lowercase());
                }
                serde_json::Value::Array(list) => actions.extend(list.iter().map(|a| a.as_str().unwrap().to_ascii_lowercase())),
                other => panic!("{}: Action {other}", p.display()),
            }
        }
    }
    actions
}

#[test]
fn every_operation_orgtrail_calls_is_granted_by_a_template() {
    let ops = operations();
    assert!(ops.len() >= 40 && ops.contains("S3.PutBucketPolicy") && ops.contains("STS.AssumeRole"), "found only {ops:?}");
    let granted = granted();
    let missing: Vec<String> = ops.iter().filter_map(|op| action(op).filter(|a| !granted.contains(&a.to_ascii_lowercase())).map(|a| format!("{op} needs {a}"))).collect();
    assert!(missing.is_empty(), "templates/iam lacks:\n{}", missing.join("\n"));
}
