//! Rows for the roles orgtrail itself runs as, with their documents as orgtrail renders them: the
//! member and log-archive role policies and the trust from `orgtrail render-bootstrap` (for the
//! matrix's inventory, with `[access] trusted_principals` and an external id), the management
//! account's and the delegated administrator's policies as docs/iam.md fills them in. Each
//! documented action on its documented resource is allowed; what could destroy the record (the
//! log key's deletion, disabling or a lock-out key policy; deleting logs) or reach beyond
//! orgtrail's resources is refused.
use std::sync::OnceLock;

use serde_json::{json, Value};

use super::iam_docs::{bootstrap_config, bootstrap_documents, filled, render_bootstrap, DELEGATED, ROLE};
use super::inventory::Decision::*;
use super::inventory::*;
use super::rows::{row, Row};

struct Rendered {
    /// The log-archive account's role: its member policy and its log-archive policy.
    log_archive_role: Value,
    member_role: Value,
    /// The member role's trust with `trusted_principals`, and without (the default).
    trust_narrowed: Value,
    trust_default: Value,
}

fn rendered() -> &'static Rendered {
    static DOCS: OnceLock<Rendered> = OnceLock::new();
    DOCS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let docs = |config: &str| bootstrap_documents(&serde_json::from_str(&render_bootstrap(dir.path(), config, "json")).unwrap());
        let narrowed = docs(&bootstrap_config(false));
        let default = docs(&bootstrap_config(false).lines().filter(|l| !l.starts_with("trusted_principals")).collect::<Vec<_>>().join("\n"));
        let doc = |docs: &[(String, Value)], name: &str| docs.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("render-bootstrap rendered no {name}")).1.clone();
        let member = doc(&narrowed, "member role orgtrail-member");
        let la = doc(&narrowed, "log-archive role orgtrail-log-archive");
        let statements: Vec<Value> = [&member, &la].iter().flat_map(|d| d["Statement"].as_array().unwrap().clone()).collect();
        Rendered {
            log_archive_role: json!({ "Version": "2012-10-17", "Statement": statements }),
            member_role: member,
            trust_narrowed: doc(&narrowed, "member role trust"),
            trust_default: doc(&default, "member role trust"),
        }
    })
}

/// The trust's `{"Ref": "ExternalId"}` as the deployed stack has it: the external id's value.
fn deployed(mut trust: Value) -> Value {
    for st in trust["Statement"].as_array_mut().unwrap() {
        st["Condition"]["StringEquals"]["sts:ExternalId"] = json!("ext-id-for-tests");
    }
    trust
}

fn on(resource_account: &'static str, resource_policy: Option<Policy>, label: &'static str) -> Policy {
    Policy::Identity { resource_account, resource_policy: resource_policy.map(Box::new), label }
}

pub fn rows() -> Vec<Row> {
    let r = rendered();
    let la_role = || role(ADMIN).identity(Some(r.log_archive_role.clone()));
    let la_key = || on(LA, Some(Policy::Key { mode: Mode::Org, readers: true }), "log-archive role policy over the log key");
    let la_bucket = || on(LA, Some(Policy::LogBucket { mode: Mode::Org, readers: true, enforce: false }), "log-archive role policy over the log bucket");
    let la_alone = || on(LA, None, "log-archive role policy");
    let runner = |name: &str| role(&format!("arn:aws:iam::{MGMT}:role/{name}")).identity(Some(filled("management-account.json"))).with("sts:ExternalId", "ext-id-for-tests");
    let trust = |doc: &Value, label| on(MEMBER, Some(Policy::Literal(deployed(doc.clone()), label)), "management-account policy over the member role's trust");
    let member_role_arn = format!("arn:aws:iam::{MEMBER}:role/{ROLE}");
    let alias = format!("arn:aws:kms:us-east-1:{LA}:alias/orgtrail");
    let log_obj = format!("arn:aws:s3:::{BUCKET}/org/AWSLogs/{ORG}/{MEMBER}/CloudTrail/us-east-1/2026/12/01/{MEMBER}_CloudTrail_us-east-1_x.json.gz");
    let delegated = role(&format!("arn:aws:iam::{DELEGATED}:role/OrgtrailRunner")).identity(Some(filled("delegated-admin-account.json")));
    vec![
        // The log-archive role does what the baseline needs ...
        row("log-archive role: creates the key (no key exists yet)", la_alone(), la_role(), "kms:CreateKey", "*", Allowed),
        row("log-archive role: lists the keys to adopt an orphan", la_alone(), la_role(), "kms:ListKeys", "*", Allowed),
        row("log-archive role: converges the log key's policy", la_key(), la_role(), "kms:PutKeyPolicy", KEY_ARN, Allowed),
        row("log-archive role: creates the alias (the alias side)", la_alone(), la_role(), "kms:CreateAlias", alias.clone(), Allowed),
        row("log-archive role: creates the alias (the key side)", la_key(), la_role(), "kms:CreateAlias", KEY_ARN, Allowed),
        row("log-archive role: converges the log bucket's policy", la_bucket(), la_role(), "s3:PutBucketPolicy", format!("arn:aws:s3:::{BUCKET}"), Allowed),
        // ... and nothing that destroys the record.
        row("log-archive role: cannot schedule the log key's deletion", la_key(), la_role(), "kms:ScheduleKeyDeletion", KEY_ARN, ImplicitlyDenied),
        row("log-archive role: cannot disable the log key", la_key(), la_role(), "kms:DisableKey", KEY_ARN, ImplicitlyDenied),
        row("log-archive role: cannot put a key policy that bypasses the lock-out check", la_key(), la_role().with("kms:BypassPolicyLockoutSafetyCheck", "true"), "kms:PutKeyPolicy", KEY_ARN, ExplicitlyDenied),
        row("log-archive role: cannot re-point the log key's alias", la_key(), la_role(), "kms:UpdateAlias", KEY_ARN, ImplicitlyDenied),
        row("log-archive role: cannot delete logs", la_bucket(), la_role(), "s3:DeleteObject", log_obj.clone(), ImplicitlyDenied),
        row("log-archive role: cannot overwrite logs", la_bucket(), la_role(), "s3:PutObject", log_obj, ImplicitlyDenied),
        row("log-archive role: cannot change a bucket that is not orgtrail's", la_alone(), la_role(), "s3:PutBucketPolicy", "arn:aws:s3:::app-data", ImplicitlyDenied),
        // A member account's role reads trails and touches no log.
        row("member role: reads the org trail's status", on(MEMBER, None, "member role policy"), role(&member_role_arn).identity(Some(r.member_role.clone())), "cloudtrail:GetTrailStatus", trail_arn(), Allowed),
        // Who may assume the member role.
        row("trusted_principals: the listed runner assumes the member role", trust(&r.trust_narrowed, "trust"), runner("OrgtrailRunner"), "sts:AssumeRole", member_role_arn.clone(), Allowed),
        row("trusted_principals: an SSO permission set's role (pattern) assumes it", trust(&r.trust_narrowed, "trust"), runner("aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_PlatformAdmin_0123abcd"), "sts:AssumeRole", member_role_arn.clone(), Allowed),
        row("trusted_principals: another management-account role cannot assume it", trust(&r.trust_narrowed, "trust"), runner("Billing"), "sts:AssumeRole", member_role_arn.clone(), ImplicitlyDenied),
        row("trusted_principals: the listed runner with a wrong external id is refused", trust(&r.trust_narrowed, "trust"), runner("OrgtrailRunner").with("sts:ExternalId", "wrong"), "sts:AssumeRole", member_role_arn.clone(), ImplicitlyDenied),
        row("default trust: any management-account role with the external id", trust(&r.trust_default, "trust"), runner("Billing"), "sts:AssumeRole", member_role_arn, Allowed),
        row("management runner cannot assume the CloudWatch Logs role", on(MGMT, None, "management-account policy"), runner("OrgtrailRunner"), "sts:AssumeRole", format!("arn:aws:iam::{MGMT}:role/orgtrail-cloudtrail-to-logs"), ImplicitlyDenied),
        // The delegated administrator makes its own trail's delivery topic.
        row("delegated administrator: creates its delivery topic", on(DELEGATED, None, "delegated-admin policy"), delegated, "sns:CreateTopic", format!("arn:aws:sns:us-east-1:{DELEGATED}:orgtrail-delivery"), Allowed),
    ]
}
