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
        r#"{"start_time": "2026-12-06T00:00:00Z", "end_time": "2026-12-06T20:00:00Z", "pairs": [
        {"account": "111111111111", "region": "us-east-1", "digests_valid": 20, "logs_valid": 5, "valid": true},
        {"account": "222222222222", "region": "us-east-1", "digests_valid": 19, "digests_invalid": 1, "logs_valid": 5, "valid": false}],
        "findings": [{"account": "222222222222", "region": "us-east-1", "subject": "digest", "verdict": "invalid: hash", "key": "AWSLogs/o-abc/222222222222/CloudTrail-Digest/us-east-1/x.json.gz", "detail": ""}]}"#,
    )
    .unwrap();
    let html = page(Some(&validate));
    assert!(html.contains(r#"data-figure="Record integrity">1 of 2"#), "{html}");
    assert!(html.contains("invalid: hash"));
    assert!(html.contains("INVALID in 1 region(s)"));
}

/// validate-logs' own report type, serialized as `validate-logs --format json` writes it, reads back here.
#[test]
fn reads_what_validate_logs_writes() {
    use crate::validate::results::{Finding, PairResult, Report, Subject, Verdict};
    let base = Report {
        organization: "o-abc".into(),
        trail: "arn:aws:cloudtrail:us-east-1:123456789012:trail/orgtrail".into(),
        bucket: "b".into(),
        start_time: "2026-12-06T00:00:00Z".into(),
        end_time: "2026-12-06T03:00:00Z".into(),
        since_last: false,
        digests_only: true,
        shard: None,
        summary: Default::default(),
        pairs: vec![],
        findings: vec![],
    };
    let pairs = vec![
        PairResult { account: "111111111111".into(), region: "us-east-1".into(), digests_valid: 3, valid: true, ..Default::default() },
        PairResult { account: "222222222222".into(), region: "us-east-1".into(), digests_valid: 1, digests_missing: 2, valid: false, ..Default::default() },
    ];
    let findings = vec![Finding::new("222222222222", "us-east-1", Subject::Chain, Verdict::Gap, "AWSLogs/o-abc/222222222222/CloudTrail-Digest/us-east-1/k.json.gz", "2 digests missing")];
    let json = serde_json::to_string(&Report::new(base, pairs, findings)).unwrap();
    let doc: ValidateDoc = serde_json::from_str(&json).unwrap();
    let views = doc.pair_views();
    assert_eq!(views.len(), 2);
    assert!(views[0].clean && !views[1].clean);
    assert_eq!((views[1].digests.valid, views[1].digests.checked), (1, 3));
    assert_eq!(views[1].chain, vec!["gap".to_string()]);
    assert_eq!(views[1].verdicts[0].key, "AWSLogs/o-abc/222222222222/CloudTrail-Digest/us-east-1/k.json.gz");
    let html = page(Some(&doc));
    assert!(html.contains(r#"data-figure="Record integrity">1 of 2"#), "{html}");
    assert!(html.contains("(digests only)"));
}
