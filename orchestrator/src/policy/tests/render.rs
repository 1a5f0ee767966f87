//! Rendering the templates: every statement in both modes and phases, placeholders, injection.
use serde_json::{json, Value};

use super::super::lockout::wildcard_match;
use super::super::render::{render_template, Vars};
use super::*;

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
