//! Semantic comparison: equivalent forms, reordering, and the diff fields.
use serde_json::json;

use super::*;

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
