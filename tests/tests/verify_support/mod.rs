//! What the verify tests share: a sandbox applied with the real binary, the failing findings by
//! account, and the Breaker that changes one setting behind orgtrail's back.
#![allow(dead_code)]
use std::collections::BTreeSet;

use aws_config::{Region, SdkConfig};
use orgtrail_tests::harness::{findings, stderr, stdout, ConfigEdit, Operator};
use orgtrail_tests::Sandbox;
use serde_json::Value;

pub const MEMBERS: usize = 5;

/// A sandbox of five members with a config edit, fully applied with the real binary, and delivered.
pub async fn applied(edit: impl FnOnce(ConfigEdit) -> ConfigEdit) -> Sandbox {
    let sb = Sandbox::with_config(MEMBERS, edit).await.unwrap();
    apply(&sb, &["apply", "--json"]);
    // An hour of CloudTrail's delivery, so OrgTrail.Delivery and OrgTrail.Coverage judge a record.
    orgtrail_tests::harness::deliver(&sb, 1, None, None);
    sb
}

/// `apply` converged: exit 0, or 3 when only MFA Delete waits for the root user.
pub fn apply(sb: &Sandbox, args: &[&str]) {
    let out = sb.orgtrail(args);
    let mfa_pending = orgtrail::config::load(&sb.config_path()).unwrap().log_archive.mfa_delete;
    let ok = if mfa_pending { [Some(0), Some(3)].contains(&out.status.code()) } else { out.status.code() == Some(0) };
    assert!(ok, "apply exit {:?}\nstdout: {}\nstderr: {}", out.status.code(), stdout(&out), stderr(&out));
}

/// (control, account) of the FAIL/ERROR findings.
pub fn failing_accounts(v: &Value) -> BTreeSet<(String, String)> {
    findings(v)
        .iter()
        .filter(|f| f["status"] == "FAIL" || f["status"] == "ERROR")
        .map(|f| (f["control"].as_str().unwrap().to_string(), f["account"].as_str().unwrap().to_string()))
        .collect()
}

pub fn in_home(conf: SdkConfig) -> SdkConfig {
    conf.to_builder().region(Region::new("us-east-1")).build()
}

/// Breaks one setting at a time behind orgtrail's back: the harness's operator, plus the breaks.
pub struct Breaker(Operator);

impl std::ops::Deref for Breaker {
    type Target = Operator;
    fn deref(&self) -> &Operator {
        &self.0
    }
}

impl Breaker {
    pub fn new(sb: &Sandbox) -> Breaker {
        Breaker(Operator::new(sb))
    }

    pub fn member_trail(&self, account: &str) -> aws_sdk_cloudtrail::Client {
        self.aws.cloudtrail(&in_home(self.aws.session(account)))
    }

}
