use serde_json::{json, Value};

use super::lockout::{arn_like, wildcard_match};
use super::render::{render_template, Vars};
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

// ---- rendering ----

#[test]
fn bucket_policy_has_every_spec_sid_in_both_modes_and_phases() {
    for base in [ctx(), account_ctx()] {
        for prefix in [Some("org".to_string()), None] {
            let phase1 = render_bucket_policy(&PolicyContext { prefix: prefix.clone(), ..base.clone() }).unwrap();
            assert_eq!(sids(&phase1), BASE_SIDS, "{:?}", base.mode);
            let phase2 =
                render_bucket_policy(&PolicyContext { prefix, enforce_encryption: true, ..base.clone() }).unwrap();
            let mut want = BASE_SIDS.to_vec();
            want.extend(["DenyUnencryptedObjectUploads", "DenyWrongKMSKey"]);
            assert_eq!(sids(&phase2), want);
            assert_eq!(
                stmt(&phase2, "DenyWrongKMSKey")["Condition"]["StringNotEquals"]
                    ["s3:x-amz-server-side-encryption-aws-kms-key-id"],
                base.key_arn
            );
        }
    }
}

#[test]
fn organization_mode_scopes_writes_by_trail_arn() {
    let doc = render_bucket_policy(&ctx()).unwrap();
    let trail_arn = "arn:aws:cloudtrail:us-east-1:111111111111:trail/orgtrail";
    assert_eq!(ctx().trail_arn(), trail_arn);
    let write = stmt(&doc, "AWSCloudTrailWrite");
    assert_eq!(
        write["Resource"],
        json!([
            "arn:aws:s3:::orgtrail-logs/org/AWSLogs/111111111111/*",
            "arn:aws:s3:::orgtrail-logs/org/AWSLogs/o-abc123def4/*"
        ])
    );
    assert_eq!(write["Condition"]["StringEquals"]["aws:SourceArn"], trail_arn);
    assert_eq!(write["Condition"]["StringEquals"]["s3:x-amz-acl"], "bucket-owner-full-control");
    assert_eq!(stmt(&doc, "AWSCloudTrailAclCheck")["Condition"]["StringEquals"]["aws:SourceArn"], trail_arn);
}

#[test]
fn empty_prefix_leaves_no_slash() {
    for prefix in [None, Some(String::new())] {
        let doc = render_bucket_policy(&PolicyContext { prefix, ..ctx() }).unwrap();
        assert_eq!(
            stmt(&doc, "AWSCloudTrailWrite")["Resource"][0],
            "arn:aws:s3:::orgtrail-logs/AWSLogs/111111111111/*"
        );
    }
}

#[test]
fn account_mode_scopes_writes_by_org_and_account_paths() {
    let doc = render_bucket_policy(&account_ctx()).unwrap();
    let write = stmt(&doc, "AWSCloudTrailWrite");
    assert_eq!(
        write["Resource"],
        json!([
            "arn:aws:s3:::orgtrail-logs/org/AWSLogs/444444444444/*",
            "arn:aws:s3:::orgtrail-logs/org/AWSLogs/555555555555/*"
        ])
    );
    for sid in ["AWSCloudTrailWrite", "AWSCloudTrailAclCheck"] {
        let cond = &stmt(&doc, sid)["Condition"]["StringEquals"];
        assert_eq!(cond["aws:SourceOrgID"], "o-abc123def4");
        assert!(cond.get("aws:SourceArn").is_none(), "{sid}");
    }
}

#[test]
fn list_placeholders_expand_splice_and_dedupe() {
    let doc = render_bucket_policy(&ctx()).unwrap();
    assert_eq!(
        stmt(&doc, "RestrictLogReads")["Condition"]["ArnNotLike"]["aws:PrincipalArn"],
        json!([READER, ADMIN, "arn:aws:iam::*:role/BreakGlass*"])
    );
    assert_eq!(
        stmt(&doc, "DenyPolicyTampering")["Condition"]["ArnNotLike"]["aws:PrincipalArn"],
        json!([ADMIN, "arn:aws:iam::*:role/BreakGlass*"])
    );
    // A role that is both reader and admin is listed once.
    let both = PolicyContext { reader_role_arns: vec![ADMIN.into()], ..ctx() };
    let doc = render_bucket_policy(&both).unwrap();
    assert_eq!(
        stmt(&doc, "RestrictLogReads")["Condition"]["ArnNotLike"]["aws:PrincipalArn"],
        json!([ADMIN, "arn:aws:iam::*:role/BreakGlass*"])
    );
}

#[test]
fn service_principals_are_not_caught_by_the_denies() {
    let doc = render_bucket_policy(&PolicyContext { enforce_encryption: false, ..ctx() }).unwrap();
    for sid in ["DenyExternalPrincipals", "RestrictLogReads"] {
        assert_eq!(stmt(&doc, sid)["Condition"]["BoolIfExists"]["aws:PrincipalIsAWSService"], "false", "{sid}");
    }
    // CloudTrail only writes (s3:PutObject) and checks the ACL: no ARN-based deny names those actions.
    for sid in ["RestrictLogReads", "DenyLogDeletion", "DenyPolicyTampering"] {
        let actions = strings(&stmt(&doc, sid)["Action"]);
        for a in actions {
            assert!(!wildcard_match(&a, "s3:PutObject") && !wildcard_match(&a, "s3:GetBucketAcl"), "{sid}: {a}");
        }
    }
}

#[test]
fn no_bare_star_principal_anywhere() {
    for c in [ctx(), account_ctx(), PolicyContext { enforce_encryption: true, ..account_ctx() }] {
        for doc in [render_bucket_policy(&c), render_key_policy(&c), render_access_log_bucket_policy(&c)] {
            for st in doc.unwrap()["Statement"].as_array().unwrap() {
                assert!(st["Principal"].is_object(), "{st}");
                assert!(st.get("_when").is_none());
            }
        }
    }
}

#[test]
fn rendered_policies_are_json_that_round_trips() {
    for c in [ctx(), account_ctx(), PolicyContext { enforce_encryption: true, prefix: None, ..ctx() }] {
        for doc in [render_bucket_policy(&c), render_key_policy(&c), render_access_log_bucket_policy(&c)] {
            let doc = doc.unwrap();
            let text = serde_json::to_string(&doc).unwrap();
            let back: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back, doc);
            assert_eq!(back["Version"], "2012-10-17");
            assert!(!text.contains("{partition}") && !text.contains("_when"));
            assert!(diff_policies(&Value::String(text), &doc).is_empty());
        }
    }
}

#[test]
fn key_policy_statements() {
    let doc = render_key_policy(&ctx()).unwrap();
    assert_eq!(
        sids(&doc),
        [
            "EnableRootAccess",
            "AllowCloudTrailEncrypt",
            "AllowCloudTrailDescribeKey",
            "AllowCloudTrailDecryptForBucketKey",
            "AllowLogReadersDecrypt"
        ]
    );
    assert_eq!(stmt(&doc, "EnableRootAccess")["Principal"]["AWS"], "arn:aws:iam::222222222222:root");
    let enc = stmt(&doc, "AllowCloudTrailEncrypt");
    assert_eq!(enc["Action"], "kms:GenerateDataKey*");
    assert_eq!(enc["Condition"]["StringEquals"]["aws:SourceArn"], ctx().trail_arn());
    assert_eq!(
        enc["Condition"]["StringLike"]["kms:EncryptionContext:aws:cloudtrail:arn"],
        json!(["arn:aws:cloudtrail:*:111111111111:trail/*"])
    );
    for sid in ["AllowCloudTrailDescribeKey", "AllowCloudTrailDecryptForBucketKey"] {
        assert_eq!(stmt(&doc, sid)["Condition"]["StringEquals"]["aws:SourceArn"], ctx().trail_arn());
    }
    let readers = stmt(&doc, "AllowLogReadersDecrypt");
    assert_eq!(readers["Principal"]["AWS"], json!([READER]));
    assert_eq!(readers["Condition"]["StringEquals"]["kms:CallerAccount"], json!(["333333333333"]));

    // No readers: the statement is dropped rather than rendered with an empty (invalid) Principal.
    let doc = render_key_policy(&PolicyContext { reader_role_arns: vec![], ..ctx() }).unwrap();
    assert!(!sids(&doc).contains(&"AllowLogReadersDecrypt"));
}

#[test]
fn key_policy_account_mode_uses_arn_pattern_and_per_account_context() {
    let doc = render_key_policy(&account_ctx()).unwrap();
    let enc = stmt(&doc, "AllowCloudTrailEncrypt");
    assert_eq!(enc["Condition"]["ArnLike"]["aws:SourceArn"], "arn:aws:cloudtrail:us-east-1:*:trail/orgtrail");
    assert_eq!(
        enc["Condition"]["StringLike"]["kms:EncryptionContext:aws:cloudtrail:arn"],
        json!(["arn:aws:cloudtrail:*:444444444444:trail/*", "arn:aws:cloudtrail:*:555555555555:trail/*"])
    );
    assert!(enc["Condition"].get("StringEquals").is_none());
}

#[test]
fn access_log_bucket_policy() {
    let doc = render_access_log_bucket_policy(&ctx()).unwrap();
    assert_eq!(sids(&doc), ["DenyInsecureTransport", "S3ServerAccessLogsPolicy"]);
    let put = stmt(&doc, "S3ServerAccessLogsPolicy");
    assert_eq!(put["Principal"], json!({"Service": "logging.s3.amazonaws.com"}));
    assert_eq!(put["Resource"], "arn:aws:s3:::orgtrail-logs-access/*");
    assert_eq!(put["Condition"]["ArnLike"]["aws:SourceArn"], "arn:aws:s3:::orgtrail-logs");
    assert_eq!(put["Condition"]["StringEquals"]["aws:SourceAccount"], "222222222222");
}

fn vars() -> Vars {
    Vars {
        scalars: [("bucket".to_string(), "b".to_string())].into(),
        lists: [("roles".to_string(), vec!["r1".to_string()])].into(),
        flags: ["organization"].into(),
    }
}

#[test]
fn unknown_placeholder_is_an_error_naming_it() {
    let err = render_template("t.json", r#"{"Resource": "arn:aws:s3:::{bucket}/{nope}"}"#, &vars()).unwrap_err();
    assert!(matches!(&err, PolicyError::UnknownPlaceholder { placeholder, .. } if placeholder == "nope"), "{err}");
    assert!(err.to_string().contains("{nope}"));
    // Also in a key, and a list placeholder embedded in a longer string.
    assert!(matches!(render_template("t", r#"{"{x}": 1}"#, &vars()), Err(PolicyError::UnknownPlaceholder { .. })));
    assert!(matches!(render_template("t", r#"{"a": "x{roles}"}"#, &vars()), Err(PolicyError::ListInString { .. })));
    assert!(matches!(
        render_template("t", r#"{"a": [{"_when": "phase9"}]}"#, &vars()),
        Err(PolicyError::Template { .. })
    ));
    // IAM policy variables and non-identifier braces are not placeholders.
    let ok = render_template("t", r#"{"a": "${aws:username}/{bucket}/{ x }"}"#, &vars()).unwrap();
    assert_eq!(ok["a"], "${aws:username}/b/{ x }");
}

#[test]
fn values_cannot_inject_structure_or_placeholders() {
    let evil = PolicyContext { bucket: r#"x", "Effect": "Allow{trail}"#.into(), ..ctx() };
    let doc = render_bucket_policy(&evil).unwrap();
    let acl = stmt(&doc, "AWSCloudTrailAclCheck");
    assert_eq!(acl["Resource"], r#"arn:aws:s3:::x", "Effect": "Allow{trail}"#);
    assert_eq!(acl["Effect"], "Allow");
    assert_eq!(sids(&doc).len(), BASE_SIDS.len());
}

#[test]
fn invalid_contexts_are_refused() {
    let cases = [
        PolicyContext { admin_role_arns: vec![], ..ctx() },
        PolicyContext { mode: TrailMode::Account { account_ids: vec![] }, ..ctx() },
        PolicyContext { mode: TrailMode::Account { account_ids: vec!["12".into()] }, ..ctx() },
        PolicyContext { prefix: Some("/org".into()), ..ctx() },
        PolicyContext { org_id: "abc".into(), ..ctx() },
        PolicyContext { enforce_encryption: true, key_arn: "alias/orgtrail".into(), ..ctx() },
    ];
    for c in cases {
        assert!(matches!(render_bucket_policy(&c), Err(PolicyError::InvalidContext { .. })), "{c:?}");
    }
    let wildcard_reader = PolicyContext { reader_role_arns: vec!["arn:aws:iam::333333333333:role/*".into()], ..ctx() };
    assert!(matches!(render_key_policy(&wildcard_reader), Err(PolicyError::InvalidContext { .. })));
}

// ---- comparison ----

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

#[test]
fn read_back_policy_compares_equal() {
    for c in [ctx(), account_ctx(), PolicyContext { enforce_encryption: true, ..ctx() }] {
        for desired in [render_bucket_policy(&c).unwrap(), render_key_policy(&c).unwrap()] {
            let live = as_aws_returns_it(&desired);
            assert_ne!(live, desired);
            let d = diff_policies(&live, &desired);
            assert!(d.is_empty(), "{d}");
        }
    }
}

#[test]
fn equal_under_reordering_and_equivalent_forms() {
    let desired = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:role/R"]},
         "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
         "Condition": {"Bool": {"aws:SecureTransport": false}}},
        {"Sid": "B", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": "*"},
        {"Sid": "C", "Effect": "Allow", "Principal": {"Service": ["cloudtrail.amazonaws.com"]}, "Action": "s3:PutObject", "Resource": "*"}
    ]});
    let live = json!({"Version": "2012-10-17", "Statement": {
        "Sid": "placeholder"}});
    assert!(!diff_policies(&live, &desired).is_empty());
    let live = json!({"Statement": [
        {"Sid": "C", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "*"},
        {"Sid": "B", "Effect": "Deny", "Principal": "*", "Action": ["S3:*"], "Resource": ["*"]},
        {"Sid": "A", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::123456789012:role/R", "123456789012"]},
         "Action": ["s3:ListBucket", "s3:GetObject"], "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::b"],
         "Condition": {"Bool": {"aws:securetransport": "false"}}}
    ], "Version": "2012-10-17"});
    let d = diff_policies(&live, &desired);
    assert!(d.is_empty(), "{d}");
    assert_eq!(d.to_string(), "policy up to date");
}

#[test]
fn diff_reports_missing_changed_unexpected_and_version() {
    let desired = render_bucket_policy(&ctx()).unwrap();
    let mut live = desired.clone();
    let stmts = live["Statement"].as_array_mut().unwrap();
    stmts.retain(|s| s["Sid"] != "DenyInsecureTransport");
    let ext = stmts.iter_mut().find(|s| s["Sid"] == "DenyExternalPrincipals").unwrap();
    ext["Condition"]["StringNotEquals"]["aws:PrincipalOrgID"] = json!("o-otherorg00");
    stmts.push(json!({"Sid": "LegacyAllowAll", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": "*"}));
    live["Version"] = json!("2008-10-17");

    let d = diff_policies(&live, &desired);
    assert_eq!(d.missing, ["DenyInsecureTransport"]);
    assert_eq!(d.changed, ["DenyExternalPrincipals"]);
    assert_eq!(d.changed_fields["DenyExternalPrincipals"], ["Condition"]);
    assert_eq!(d.unexpected, ["LegacyAllowAll"]);
    assert_eq!(d.version, Some((Some("2008-10-17".into()), Some("2012-10-17".into()))));
    let text = d.to_string();
    for line in [
        "statement DenyInsecureTransport missing",
        "statement DenyExternalPrincipals changed (Condition)",
        "statement LegacyAllowAll unexpected",
        "Version changed: 2008-10-17 -> 2012-10-17",
    ] {
        assert!(text.contains(line), "{text}");
    }
}

#[test]
fn unnamed_statements_are_keyed_by_content() {
    let a = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["*"]}]});
    let b = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": {"AWS": ["*"]}, "Action": ["s3:*"], "Resource": "*"}]});
    assert!(diff_policies(&a, &b).is_empty());
    let c = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:Get*", "Resource": "*"}]});
    let d = diff_policies(&a, &c);
    assert_eq!((d.missing.len(), d.unexpected.len(), d.changed.len()), (1, 1, 0));
    assert!(d.missing[0].starts_with("(unnamed "));
}

// ---- lock-out ----

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

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
        other => vec![other.as_str().unwrap().to_string()],
    }
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
