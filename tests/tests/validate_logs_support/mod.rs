//! What the validate-logs tests share: a sandbox applied with the real binary, deliveries through
//! the emulator's fixed interface (`POST /moto-api/fidelity/deliver`), the log-archive bucket to
//! tamper with, and the AWS CLI's `validate-logs` (the reference) run on the same data.
#![allow(dead_code)]
use std::io::{Read, Write};
use std::process::Output;

use orgtrail_tests::harness::{assumed_env, aws, post, stderr, stdout, ConfigEdit, Operator};
use orgtrail_tests::Sandbox;
use serde_json::Value;

pub const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

/// A sandbox of `members` members, applied (MFA Delete off: the emulator has no root user).
pub async fn applied(members: usize) -> Sandbox {
    let sb = Sandbox::with_config(members, |c: ConfigEdit| c.mfa_delete(false)).await.unwrap();
    let out = sb.orgtrail(&["apply", "--json"]);
    assert_eq!(out.status.code(), Some(0), "apply\nstdout: {}\nstderr: {}", stdout(&out), stderr(&out));
    sb
}

/// The top of the current hour minus `hours_ago` hours, as the delivery's `end`.
pub fn hour(hours_ago: i64) -> time::OffsetDateTime {
    let now = time::OffsetDateTime::now_utc();
    now.replace_minute(0).unwrap().replace_second(0).unwrap().replace_nanosecond(0).unwrap() - time::Duration::hours(hours_ago)
}

pub fn iso(t: time::OffsetDateTime) -> String {
    orgtrail::validate::times::display(t)
}

/// `POST /moto-api/fidelity/deliver` for `hours` hours before `end`, for `accounts`.
pub fn deliver(sb: &Sandbox, hours: u32, end: time::OffsetDateTime, accounts: &[String]) -> Value {
    let body = serde_json::json!({ "hours": hours, "end": iso(end), "accounts": accounts }).to_string();
    let (status, answer) = post(sb, "/moto-api/fidelity/deliver", &body);
    assert_eq!(status, 200, "delivery: {answer}");
    let v: Value = serde_json::from_str(&answer).unwrap();
    let trail = &v["trails"][sb.org_trail_arn()];
    assert!(trail["digest_files"].as_u64().unwrap_or(0) > 0 && trail["failures"] == 0, "delivery: {v:#}");
    v
}

/// Every account the organization trail covers: the management account, the log-archive account
/// and the members.
pub fn accounts(sb: &Sandbox) -> Vec<String> {
    let mut a = vec![sb.org.management_account.clone(), sb.org.log_archive_account.clone()];
    a.extend(sb.org.members.iter().map(|m| m.id.clone()));
    a
}

/// `orgtrail validate-logs ARGS --format json` → (exit code, the result).
pub fn validate(sb: &Sandbox, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["validate-logs", "--format", "json"];
    all.extend_from_slice(args);
    let out = sb.orgtrail(&all);
    let code = out.status.code().unwrap_or(-1);
    let v = serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("validate-logs {args:?} exit {code}: {e}\nstdout: {}\nstderr: {}", stdout(&out), stderr(&out)));
    (code, v)
}

pub fn findings(v: &Value) -> Vec<(String, String, String, String)> {
    v["findings"].as_array().unwrap().iter().map(|f| (f["account"].as_str().unwrap().into(), f["region"].as_str().unwrap().into(), f["verdict"].as_str().unwrap().into(), f["key"].as_str().unwrap().into())).collect()
}

/// The log-archive bucket, as its owner.
pub struct Bucket {
    pub s3: aws_sdk_s3::Client,
    pub name: String,
}

impl Bucket {
    pub fn of(sb: &Sandbox) -> Bucket {
        let op = Operator::new(sb);
        Bucket { s3: op.s3(), name: op.bucket }
    }

    /// Takes the bucket policy off (as an attacker with the owner's admin rights would) so objects
    /// can be changed: the emulator refuses writes under a policy with conditions. Returns it.
    pub async fn unguard(&self) -> String {
        let policy = self.s3.get_bucket_policy().bucket(&self.name).send().await.unwrap().policy.unwrap();
        self.s3.delete_bucket_policy().bucket(&self.name).send().await.unwrap();
        policy
    }

    /// Puts the bucket policy back.
    pub async fn guard(&self, policy: String) {
        self.s3.put_bucket_policy().bucket(&self.name).policy(policy).send().await.unwrap();
    }

    /// Keys under `prefix`, sorted.
    pub async fn keys(&self, prefix: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut pages = self.s3.list_objects_v2().bucket(&self.name).prefix(prefix).into_paginator().send();
        while let Some(page) = pages.next().await {
            keys.extend(page.unwrap().contents().iter().filter_map(|o| o.key().map(str::to_string)));
        }
        keys.sort();
        keys
    }

    pub async fn get(&self, key: &str) -> (Vec<u8>, std::collections::HashMap<String, String>) {
        let out = self.s3.get_object().bucket(&self.name).key(key).send().await.unwrap();
        let meta = out.metadata().cloned().unwrap_or_default();
        (out.body.collect().await.unwrap().into_bytes().to_vec(), meta)
    }

    pub async fn put(&self, key: &str, body: Vec<u8>, meta: std::collections::HashMap<String, String>) {
        self.s3.put_object().bucket(&self.name).key(key).body(body.into()).set_metadata(Some(meta)).send().await.unwrap();
    }

    pub async fn delete(&self, key: &str) {
        self.s3.delete_object().bucket(&self.name).key(key).send().await.unwrap();
    }
}

/// `[prefix/]AWSLogs/O-ID/ACCOUNT/`, the prefix from the sandbox's config.
pub fn account_folder(sb: &Sandbox, account: &str) -> String {
    let prefix = orgtrail::config::load(&sb.config_path()).unwrap().log_archive.prefix.filter(|p| !p.is_empty()).map(|p| format!("{p}/")).unwrap_or_default();
    format!("{prefix}AWSLogs/{}/{account}/", sb.org.org_id)
}

pub fn digest_folder(sb: &Sandbox, account: &str, region: &str) -> String {
    format!("{}CloudTrail-Digest/{region}/", account_folder(sb, account))
}

pub fn log_folder(sb: &Sandbox, account: &str, region: &str) -> String {
    format!("{}CloudTrail/{region}/", account_folder(sb, account))
}

pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// What `aws cloudtrail validate-logs` said about one account x region.
#[derive(Debug)]
pub struct CliVerdict {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl CliVerdict {
    /// The object keys it called INVALID.
    pub fn invalid_keys(&self) -> Vec<String> {
        self.stderr.lines().filter(|l| l.contains("INVALID")).filter_map(|l| l.split('\t').nth(1)).map(|u| u.splitn(4, '/').nth(3).unwrap_or(u).to_string()).collect()
    }
}

/// `aws cloudtrail validate-logs` (the pinned AWS CLI) for one account of the organization trail
/// in one region, as the log-archive account's admin role (the bucket lets only readers and admins read).
pub async fn aws_validate(sb: &Sandbox, account: &str, region: &str, start: &str, end: &str) -> CliVerdict {
    let reader = assumed_env(sb, &sb.org.log_archive_account).await;
    let out: Output = aws(sb, &reader, &["cloudtrail", "validate-logs", "--trail-arn", &sb.org_trail_arn(), "--account-id", account, "--start-time", start, "--end-time", end, "--region", region, "--verbose"]);
    CliVerdict { code: out.status.code().unwrap_or(-1), stdout: stdout(&out), stderr: stderr(&out) }
}
