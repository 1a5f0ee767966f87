//! The lock-out check, ARN matching, and what keeps MFA Delete possible.
use serde_json::{json, Value};

use super::super::lockout::{arn_like, wildcard_match};
use super::*;

#[test]
fn principal_arn_for_assumed_roles() {
    assert_eq!(principal_arn_for("arn:aws:sts::111111111111:assumed-role/OrgtrailAdmin/ci-run-7"), ADMIN);
    assert_eq!(
        principal_arn_for("arn:aws-us-gov:sts::111111111111:assumed-role/R/s@x.com"),
        "arn:aws-us-gov:iam::111111111111:role/R"
    );
    for same in [ADMIN, "arn:aws:iam::111111111111:user/alice", "arn:aws:iam::111111111111:root"] {
        assert_eq!(principal_arn_for(same), same);
    }
}

#[test]
fn lockout_refuses_caller_outside_admin_roles() {
    let policy = render_bucket_policy(&ctx()).unwrap();
    let caller = "arn:aws:sts::111111111111:assumed-role/SomeOtherRole/session";
    let err = check_not_locked_out(&policy, caller).unwrap_err();
    let LockoutError::WouldLockOut { sid, action, principal_arn, .. } = &err else { panic!("{err}") };
    assert_eq!(sid, "DenyLogDeletion");
    assert_eq!(action, "s3:PutLifecycleConfiguration");
    assert_eq!(principal_arn, "arn:aws:iam::111111111111:role/SomeOtherRole");
    let msg = err.to_string();
    assert!(msg.contains("admin_roles") && msg.contains(caller), "{msg}");
    // Readers may read, not manage the bucket.
    assert!(check_not_locked_out(&policy, "arn:aws:sts::333333333333:assumed-role/LogReader/s").is_err());
    // The policy-only deny is caught too when the other statement is gone.
    let mut only_tampering = policy.clone();
    only_tampering["Statement"].as_array_mut().unwrap().retain(|s| s["Sid"] != "DenyLogDeletion" && s["Sid"] != "DenyVersioningChanges");
    let err = check_not_locked_out(&only_tampering, caller).unwrap_err();
    assert!(
        matches!(err, LockoutError::WouldLockOut { ref sid, ref action, .. } if sid == "DenyPolicyTampering" && action == "s3:PutBucketPolicy")
    );
}

#[test]
fn lockout_accepts_admin_roles_in_every_form() {
    let policy = render_bucket_policy(&PolicyContext { enforce_encryption: true, ..ctx() }).unwrap();
    for caller in [
        "arn:aws:sts::111111111111:assumed-role/OrgtrailAdmin/ci",
        ADMIN,
        "arn:aws:sts::999999999999:assumed-role/BreakGlassOps/jane", // matches role/BreakGlass* in any account
    ] {
        check_not_locked_out(&policy, caller).unwrap_or_else(|e| panic!("{caller}: {e}"));
    }
    // The policy as AWS returns it (a string, collapsed arrays) is checked the same way.
    let text = Value::String(serde_json::to_string(&as_aws_returns_it(&policy)).unwrap());
    assert!(check_not_locked_out(&text, "arn:aws:sts::111111111111:assumed-role/OrgtrailAdmin/ci").is_ok());
    assert!(check_not_locked_out(&text, "arn:aws:sts::111111111111:assumed-role/Nope/ci").is_err());
}

fn deny(cond: Value, resource: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "X", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:Put*", "Resource": resource, "Condition": cond}
    ]})
}

#[test]
fn lockout_operators_and_scope() {
    let caller = "arn:aws:sts::111111111111:assumed-role/Ops-1/s";
    let bucket = "arn:aws:s3:::b";
    let cases = [
        (json!({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/Ops-?"}}), true),
        (json!({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/Ops-??"}}), false),
        (json!({"ArnNotEquals": {"aws:PrincipalArn": ["arn:aws:iam::*:role/Ops-1"]}}), true),
        (json!({"StringNotLike": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/O*"}}), true),
        (json!({"StringNotLike": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/X*"}}), false),
        // The session ARN is not what aws:PrincipalArn holds for an assumed role.
        (json!({"ArnNotLike": {"aws:PrincipalArn": caller}}), false),
        // Only applies without TLS: orgtrail always uses TLS.
        (
            json!({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::1:role/X"}, "Bool": {"aws:SecureTransport": "false"}}),
            true,
        ),
    ];
    for (cond, ok) in cases {
        assert_eq!(check_not_locked_out(&deny(cond.clone(), bucket), caller).is_ok(), ok, "{cond}");
    }
    // An object-only deny cannot hit bucket-level actions.
    let objects_only = deny(json!({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::1:role/X"}}), "arn:aws:s3:::b/*");
    assert!(check_not_locked_out(&objects_only, caller).is_ok());
}

#[test]
fn wildcard_and_arn_matching() {
    assert!(wildcard_match("s3:Put*", "s3:PutBucketPolicy"));
    assert!(wildcard_match("*", ""));
    assert!(wildcard_match("a*b*c", "aXXbYYc"));
    assert!(!wildcard_match("a*b*c", "aXXbYY"));
    assert!(wildcard_match("r?le", "role"));
    assert!(!wildcard_match("r?le", "rle"));
    assert!(!wildcard_match("Role", "role"));
    assert!(arn_like("arn:aws:iam::*:role/Admin", "arn:aws:iam::123456789012:role/Admin"));
    assert!(arn_like("arn:*:iam::123456789012:role/*", "arn:aws-cn:iam::123456789012:role/path/Admin"));
    // A wildcard stays within its ARN component.
    assert!(!arn_like("arn:aws:iam::*role/Admin", "arn:aws:iam::123456789012:role/Admin"));
    assert!(!arn_like("arn:aws:iam::123456789012:role/Admin", "arn:aws:iam::123456789012:role/Admin2"));
}

// ---- MFA Delete stays possible ----

#[test]
fn versioning_changes_are_denied_to_all_but_admins_and_the_log_archive_root_user() {
    let doc = render_bucket_policy(&ctx()).unwrap();
    let versioning = stmt(&doc, "DenyVersioningChanges");
    assert_eq!(versioning["Action"], "s3:PutBucketVersioning");
    assert_eq!(versioning["Resource"], "arn:aws:s3:::orgtrail-logs");
    assert_eq!(
        versioning["Condition"]["ArnNotLike"]["aws:PrincipalArn"],
        json!([ADMIN, "arn:aws:iam::*:role/BreakGlass*", "arn:aws:iam::222222222222:root"])
    );
    // Deletions, lifecycle and policy changes get no root exemption.
    let deletion = stmt(&doc, "DenyLogDeletion");
    assert_eq!(deletion["Action"], json!(["s3:DeleteObject*", "s3:PutLifecycleConfiguration"]));
    for sid in ["DenyLogDeletion", "DenyPolicyTampering"] {
        assert_eq!(stmt(&doc, sid)["Condition"]["ArnNotLike"]["aws:PrincipalArn"], json!([ADMIN, "arn:aws:iam::*:role/BreakGlass*"]), "{sid}");
    }
}

#[test]
fn lockout_guard_refuses_a_policy_that_blocks_root_mfa_delete() {
    let check = |doc: &Value| check_root_can_enable_mfa_delete(doc, "aws", "o-abc123def4", "222222222222");
    for enforce in [false, true] {
        for base in [ctx(), account_ctx()] {
            let doc = render_bucket_policy(&PolicyContext { enforce_encryption: enforce, ..base }).unwrap();
            check(&doc).unwrap_or_else(|e| panic!("orgtrail's own policy: {e}"));
        }
    }
    // Yesterday's policy: versioning changes in DenyLogDeletion, admins only.
    let mut old = render_bucket_policy(&ctx()).unwrap();
    old["Statement"].as_array_mut().unwrap().retain(|s| s["Sid"] != "DenyVersioningChanges");
    for s in old["Statement"].as_array_mut().unwrap() {
        if s["Sid"] == "DenyLogDeletion" {
            s["Action"].as_array_mut().unwrap().push(json!("s3:PutBucketVersioning"));
        }
    }
    let err = check(&old).unwrap_err();
    assert!(matches!(&err, LockoutError::BlocksMfaDelete { sid, .. } if sid == "DenyLogDeletion"), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("arn:aws:iam::222222222222:root") && msg.contains("MFA Delete"), "{msg}");
    // A blanket deny binds the root user too; a TLS-only or another account's root exemption does not help.
    let deny = |cond: Value| json!({ "Statement": [{ "Sid": "D", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::orgtrail-logs", "Condition": cond }] });
    assert!(check(&deny(json!({}))).is_err());
    assert!(check(&deny(json!({ "Bool": { "aws:SecureTransport": "false" } }))).is_ok());
    assert!(check(&deny(json!({ "StringNotEquals": { "aws:PrincipalOrgID": "o-abc123def4" } }))).is_ok());
    assert!(check(&deny(json!({ "StringNotEquals": { "aws:PrincipalOrgID": "o-other" } }))).is_err());
    assert!(check(&deny(json!({ "ArnNotLike": { "aws:PrincipalArn": "arn:aws:iam::999999999999:root" } }))).is_err());
    assert!(check(&deny(json!({ "ArnNotLike": { "aws:PrincipalArn": "arn:aws:iam::222222222222:root" } }))).is_ok());
    assert!(check(&Value::String(old.to_string())).is_err(), "a policy given as its JSON text is parsed");
}

#[test]
fn readers_are_allowed_to_read_because_another_account_needs_an_allow() {
    let doc = render_bucket_policy(&ctx()).unwrap();
    let allow = stmt(&doc, "AllowLogReaders");
    assert_eq!(allow["Principal"]["AWS"], json!([READER]));
    assert_eq!(allow["Resource"], json!(["arn:aws:s3:::orgtrail-logs", "arn:aws:s3:::orgtrail-logs/org/AWSLogs/*"]));
    let none = render_bucket_policy(&PolicyContext { reader_role_arns: vec![], ..ctx() }).unwrap();
    assert!(!sids(&none).contains(&"AllowLogReaders"));
}

/// The outside evaluator of the access matrix drops `kms:EncryptionContext:<key>` (it matches variable
/// keys only after a `/`), so the encryption-context conditions of the key policy are checked here:
/// with StringLike (the operator the rendered policy uses), the pattern matches the context CloudTrail
/// sets for the trails orgtrail owns and nothing of another account.
#[test]
fn encryption_context_conditions_pin_the_trail_owner() {
    let key = "kms:EncryptionContext:aws:cloudtrail:arn";
    for (c, owners) in [(ctx(), vec![MGMT]), (account_ctx(), vec!["444444444444", "555555555555"])] {
        let doc = render_key_policy(&c).unwrap();
        for sid in ["AllowCloudTrailEncrypt", "AllowLogReadersDecrypt"] {
            let patterns: Vec<String> = match &stmt(&doc, sid)["Condition"]["StringLike"][key] {
                Value::Array(a) => a.iter().map(|v| v.as_str().unwrap().to_string()).collect(),
                v => vec![v.as_str().unwrap().to_string()],
            };
            let matches = |arn: &str| patterns.iter().any(|p| wildcard_match(p, arn));
            for owner in &owners {
                for region in ["us-east-1", "eu-west-1"] {
                    assert!(matches(&format!("arn:aws:cloudtrail:{region}:{owner}:trail/orgtrail")), "{sid} {owner}");
                }
            }
            assert!(!matches("arn:aws:cloudtrail:us-east-1:999999999999:trail/orgtrail"), "{sid}: a foreign trail");
            assert!(!matches("arn:aws:cloudtrail:us-east-1:222222222222:trail/orgtrail"), "{sid}: a trail of the log-archive account");
        }
    }
}
