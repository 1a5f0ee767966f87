use super::*;

const VERIFY: &str = r#"{
  "organization": "o-abc", "management_account": "123456789012", "accounts_checked": 2,
  "generated_at": "2026-12-06T20:00:00Z", "orgtrail_version": "0.1.0", "config_path": "orgtrail.toml", "config_fingerprint": "00ff",
  "findings": [
    {"control": "CloudTrail.1", "title": "A multi-region trail", "account": "123456789012", "resource": "trail arn:aws:cloudtrail:us-east-1:123456789012:trail/orgtrail", "status": "PASS", "evidence": "IsMultiRegionTrail=true"},
    {"control": "OrgTrail.Reach", "title": "reaches", "account": "111111111111", "resource": "trail orgtrail", "status": "PASS", "evidence": "IsLogging=true"},
    {"control": "OrgTrail.Reach", "title": "reaches", "account": "222222222222", "resource": "trail orgtrail", "status": "FAIL", "evidence": "IsLogging=false <b>"}
  ],
  "accounts": [
    {"id": "123456789012", "name": "management", "ou_path": "Root", "status": "ACTIVE", "targeted": false},
    {"id": "111111111111", "name": "<script>alert(1)</script>", "ou_path": "Root/\"Prod\"", "status": "ACTIVE", "targeted": true},
    {"id": "222222222222", "name": "dev", "ou_path": "Root/Dev", "status": "ACTIVE", "targeted": true}
  ]
}"#;

fn page(validate: Option<&ValidateDoc>) -> String {
    let verify: VerifyDoc = serde_json::from_str(VERIFY).unwrap();
    render(&view(&verify, validate, vec![], "no rollout state".into(), "2026-12-06T20:01:00Z")).unwrap()
}

#[test]
fn escapes_every_value_and_has_no_script_or_external_reference() {
    let html = page(None);
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"), "{html}");
    assert!(!html.contains("<script"), "no script element at all");
    assert!(html.contains("&quot;Prod&quot;"));
    assert!(html.contains("IsLogging=false &lt;b&gt;"));
    for external in ["http://", "https://", "src=", "@import", "url("] {
        assert!(!html.contains(external), "{external} in the report");
    }
}

#[test]
fn headline_counts_covered_accounts_and_passing_controls() {
    let html = page(None);
    assert!(html.contains(r#"data-figure="Accounts covered">1 of 2"#), "{html}");
    assert!(html.contains(r#"data-figure="Controls passing">1 of 2"#));
    assert!(html.contains("not validated"));
}

#[test]
fn integrity_lists_the_pairs_that_are_not_clean() {
    let validate: ValidateDoc = serde_json::from_str(
        r#"{"window": {"start": "2026-12-06T00:00:00Z", "end": "2026-12-06T20:00:00Z"}, "pairs": [
        {"account": "111111111111", "region": "us-east-1", "delivery": "delivered", "digests": {"checked": 20, "valid": 20}, "log_files": {"checked": 5, "valid": 5}},
        {"account": "222222222222", "region": "us-east-1", "delivery": "delivered", "digests": {"checked": 20, "valid": 19}, "log_files": {"checked": 5, "valid": 5},
         "verdicts": [{"verdict": "invalid: hash", "key": "AWSLogs/o-abc/222222222222/CloudTrail-Digest/us-east-1/x.json.gz"}]}]}"#,
    )
    .unwrap();
    let html = page(Some(&validate));
    assert!(html.contains(r#"data-figure="Record integrity">1 of 2"#), "{html}");
    assert!(html.contains("invalid: hash"));
    assert!(html.contains("INVALID in 1 region(s)"));
}
