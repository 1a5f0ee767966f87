//! `orgtrail verify --to-security-hub` and `--format asff` against the emulator, with the Security Hub
//! fidelity patches (tests/fidelity/securityhub.py): stable ids, a re-run that changes nothing, a fixed
//! drift turned RESOLVED by Security Hub itself, batches of at most 100, a hub that is not enabled,
//! and the findings of an account that left the organization archived on the next run.
use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_securityhub::types::{AwsSecurityFinding, Resource, Severity, SeverityLabel};
use orgtrail_tests::harness::{assumed_conf, requests_by_account, stderr, stdout, ConfigEdit, Operator};
use orgtrail_tests::Sandbox;

/// Enough members for more than 100 findings (two per member, plus the central ones): two batches.
const MEMBERS: usize = 50;

fn hub(sb: &Sandbox) -> aws_sdk_securityhub::Client {
    aws_sdk_securityhub::Client::new(&sb.conf)
}

async fn applied(members: usize) -> Sandbox {
    let sb = Sandbox::with_config(members, |c: ConfigEdit| c.mfa_delete(false)).await.unwrap();
    let out = sb.orgtrail(&["apply", "--json"]);
    assert_eq!(out.status.code(), Some(0), "apply: {}\n{}", stdout(&out), stderr(&out));
    sb
}

/// Every finding in the hub: id → (Compliance.Status, RecordState, Workflow.Status).
async fn hub_findings(sb: &Sandbox) -> BTreeMap<String, (String, String, String)> {
    let mut all = BTreeMap::new();
    let mut token = None;
    loop {
        let page = hub(sb).get_findings().set_next_token(token).max_results(100).send().await.unwrap();
        for f in page.findings.unwrap_or_default() {
            let state = (
                f.compliance.and_then(|c| c.status).map(|s| s.as_str().to_string()).unwrap_or_default(),
                f.record_state.map(|s| s.as_str().to_string()).unwrap_or_default(),
                f.workflow.and_then(|w| w.status).map(|s| s.as_str().to_string()).unwrap_or_default(),
            );
            assert!(all.insert(f.id.unwrap(), state).is_none(), "a finding id twice");
        }
        token = page.next_token.filter(|t| !t.is_empty());
        if token.is_none() {
            return all;
        }
    }
}

fn to_hub(sb: &Sandbox, expect: i32) -> String {
    let out = sb.orgtrail(&["verify", "--to-security-hub", "--format", "json"]);
    assert_eq!(out.status.code(), Some(expect), "stdout: {}\nstderr: {}", stdout(&out), stderr(&out));
    stderr(&out)
}

#[tokio::test(flavor = "multi_thread")]
async fn two_runs_leave_the_same_findings_and_a_fixed_drift_turns_resolved() {
    let sb = applied(MEMBERS).await;
    hub(&sb).enable_security_hub().send().await.unwrap();
    let op = Operator::new(&sb);
    op.cloudtrail().update_trail().name(&op.trail_arn).enable_log_file_validation(false).send().await.unwrap();

    let said = to_hub(&sb, 1);
    assert!(said.contains("in 2 batch(es)"), "more than 100 findings go in batches of at most 100: {said}");
    let first = hub_findings(&sb).await;
    assert!(first.len() > 100, "{} findings", first.len());
    let id = format!("orgtrail/CloudTrail.4/{}/us-east-1", sb.org.management_account);
    assert_eq!(first[&id], ("FAILED".into(), "ACTIVE".into(), "NEW".into()));
    let reach = format!("orgtrail/OrgTrail.Reach/{}/us-east-1", sb.org.members[0].id);
    assert_eq!(first[&reach], ("PASSED".into(), "ARCHIVED".into(), "NEW".into()), "a finding that was never failing stays NEW");

    to_hub(&sb, 1);
    assert_eq!(hub_findings(&sb).await, first, "an unchanged organization leaves exactly the same findings");

    op.cloudtrail().update_trail().name(&op.trail_arn).enable_log_file_validation(true).send().await.unwrap();
    to_hub(&sb, 0);
    let fixed = hub_findings(&sb).await;
    assert_eq!(fixed.keys().collect::<BTreeSet<_>>(), first.keys().collect::<BTreeSet<_>>(), "the same ids, no new findings");
    assert_eq!(fixed[&id], ("PASSED".into(), "ARCHIVED".into(), "RESOLVED".into()), "Security Hub resolves the fixed drift");
    let changed: Vec<&String> = fixed.iter().filter(|(k, v)| first[*k] != **v).map(|(k, _)| k).collect();
    assert_eq!(changed, vec![&id], "only the fixed finding changed");
}

/// A multi-region trail of `account`'s own, logging: a duplicate of the organization trail.
async fn duplicate_trail(sb: &Sandbox, account: &str) {
    let conf = assumed_conf(sb, account).await;
    aws_sdk_s3::Client::new(&conf).create_bucket().bucket(format!("legacy-{account}")).send().await.unwrap();
    let ct = aws_sdk_cloudtrail::Client::new(&conf);
    let dup = ct.create_trail().name("legacy").s3_bucket_name(format!("legacy-{account}")).is_multi_region_trail(true).send().await.unwrap().trail_arn.unwrap();
    ct.start_logging().name(&dup).send().await.unwrap();
}

/// A member with a duplicate trail fails OrgTrail.NoDuplicate (ACTIVE); once it leaves the
/// organization no run produces that finding again, so the next run archives it (Security Hub
/// resolves it), in the same batches. Another tool's finding in the same product stays ACTIVE.
#[tokio::test(flavor = "multi_thread")]
async fn a_finding_no_longer_produced_is_archived_and_other_findings_are_left_alone() {
    let sb = applied(3).await;
    hub(&sb).enable_security_hub().send().await.unwrap();
    // Not the canary (the first wave names it by id) nor the one member of Root/Sandbox (a wave).
    let leaver = sb.org.members[1].id.clone();
    Box::pin(duplicate_trail(&sb, &leaver)).await;
    let mgmt = sb.org.management_account.clone();
    let mut theirs = finding(&sb, "someone-else/1", &mgmt);
    theirs.generator_id = Some("someone-else".into());
    theirs.record_state = Some(aws_sdk_securityhub::types::RecordState::Active);
    hub(&sb).batch_import_findings().findings(theirs).send().await.unwrap();

    to_hub(&sb, 1);
    let first = hub_findings(&sb).await;
    let id = format!("orgtrail/OrgTrail.NoDuplicate/{leaver}/us-east-1");
    assert_eq!(first[&id], ("FAILED".into(), "ACTIVE".into(), "NEW".into()), "{first:?}");

    Box::pin(aws_sdk_organizations::Client::new(&sb.conf).remove_account_from_organization().account_id(&leaver).send()).await.unwrap();
    let said = to_hub(&sb, 0);
    assert!(said.contains(", 1 no longer produced archived"), "{said}");
    assert!(said.contains("in 1 batch(es)"), "the archive goes in the import's batch: {said}");
    let second = hub_findings(&sb).await;
    assert_eq!(second[&id], ("FAILED".into(), "ARCHIVED".into(), "RESOLVED".into()), "archived by orgtrail, resolved by Security Hub");
    assert_eq!(second["someone-else/1"].1, "ACTIVE", "another provider's finding is not orgtrail's to archive");
    let active = |f: &BTreeMap<String, (String, String, String)>| f.iter().filter(|(_, v)| v.1 == "ACTIVE").map(|(k, _)| k.clone()).collect::<BTreeSet<_>>();
    let mut still = active(&first);
    still.remove(&id);
    assert_eq!(active(&second), still, "only the leaver's finding was archived");

    to_hub(&sb, 0);
    assert_eq!(hub_findings(&sb).await, second, "a third run has nothing left to archive");
}

#[tokio::test(flavor = "multi_thread")]
async fn security_hub_not_enabled_is_exit_2_naming_account_and_region_and_bad_flags_send_nothing() {
    let sb = applied(3).await;
    let said = to_hub(&sb, 2);
    assert!(said.contains(&format!("Security Hub is not enabled in account {} (us-east-1)", sb.org.management_account)), "{said}");
    hub(&sb).enable_security_hub().send().await.unwrap();
    let out = sb.orgtrail(&["verify", "--to-security-hub", "--security-hub-region", "eu-west-1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("(eu-west-1)"), "{}", stderr(&out));

    let before = requests_by_account(&sb);
    for bad in [["--security-hub-account", "12345"], ["--security-hub-region", "not a region"]] {
        let out = sb.orgtrail(&["verify", "--to-security-hub", bad[0], bad[1]]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
    }
    let out = sb.orgtrail(&["verify", "--security-hub-region", "us-east-1"]);
    assert_eq!(out.status.code(), Some(2), "the hub flags need --to-security-hub: {}", stderr(&out));
    assert_eq!(requests_by_account(&sb), before, "a wrong flag sends nothing");
    assert!(hub_findings(&sb).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn asff_format_prints_the_findings_it_would_import() {
    let sb = applied(3).await;
    let out = sb.orgtrail(&["verify", "--format", "asff"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let asff: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let ids: BTreeSet<&str> = asff.iter().map(|f| f["Id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), asff.len(), "ids unique");
    let mgmt = &sb.org.management_account;
    for f in &asff {
        assert_eq!(f["AwsAccountId"], mgmt.as_str());
        assert_eq!(f["ProductArn"], format!("arn:aws:securityhub:us-east-1:{mgmt}:product/{mgmt}/default"));
        assert_eq!(f["SchemaVersion"], "2018-10-08");
    }
    let reach = asff.iter().find(|f| f["Id"] == format!("orgtrail/OrgTrail.Reach/{}/us-east-1", sb.org.members[1].id)).expect("a Reach finding per member");
    assert_eq!(reach["Resources"][0]["Id"], format!("AWS::::Account:{}", sb.org.members[1].id));
    assert_eq!(reach["Compliance"]["Status"], "PASSED");
    assert_eq!(reach["RecordState"], "ARCHIVED");
}

fn finding(sb: &Sandbox, id: &str, account: &str) -> AwsSecurityFinding {
    let mgmt = &sb.org.management_account;
    AwsSecurityFinding::builder()
        .schema_version("2018-10-08")
        .id(id)
        .product_arn(format!("arn:aws:securityhub:us-east-1:{mgmt}:product/{mgmt}/default"))
        .generator_id("test")
        .aws_account_id(account)
        .types("Software and Configuration Checks")
        .created_at("2026-12-06T00:00:00Z")
        .updated_at("2026-12-06T00:00:00Z")
        .severity(Severity::builder().label(SeverityLabel::Low).build())
        .title("t")
        .description("d")
        .resources(Resource::builder().r#type("Other").id("x").build())
        .build()
}

/// Each sh-* patch of tests/fidelity/securityhub.py; fails on plain moto
/// (`ORGTRAIL_MOTO_UNPATCHED=1`, or `ORGTRAIL_MOTO_FIDELITY_SKIP=sh-enabled` etc. for one).
#[tokio::test(flavor = "multi_thread")]
async fn fidelity_security_hub_is_as_strict_as_aws() {
    let sb = Sandbox::new(1).await.unwrap();
    let mgmt = sb.org.management_account.clone();
    let err = hub(&sb).batch_import_findings().findings(finding(&sb, "a", &mgmt)).send().await.expect_err("sh-enabled: no hub, no import");
    assert_eq!(aws_sdk_securityhub::error::ProvideErrorMetadata::code(&err), Some("InvalidAccessException"));

    hub(&sb).enable_security_hub().send().await.unwrap();
    let many: Vec<AwsSecurityFinding> = (0..101).map(|i| finding(&sb, &format!("f{i}"), &mgmt)).collect();
    let err = hub(&sb).batch_import_findings().set_findings(Some(many)).send().await.expect_err("sh-batch: at most 100");
    assert_eq!(aws_sdk_securityhub::error::ProvideErrorMetadata::code(&err), Some("InvalidInputException"));

    let other = sb.org.members[0].id.clone();
    let mut no_title = finding(&sb, "no-title", &mgmt);
    no_title.title = None;
    let out = hub(&sb).batch_import_findings().findings(finding(&sb, "ok", &mgmt)).findings(finding(&sb, "other", &other)).findings(no_title).send().await.unwrap();
    let refused: BTreeMap<String, String> = out.failed_findings.unwrap_or_default().into_iter().map(|f| (f.id.unwrap_or_default(), f.error_code.unwrap_or_default())).collect();
    assert_eq!(out.success_count, Some(1), "sh-asff");
    assert_eq!(refused, BTreeMap::from([("other".to_string(), "AccessDeniedException".to_string()), ("no-title".to_string(), "InvalidInput".to_string())]));

    let f = hub_findings(&sb).await;
    assert_eq!(f["ok"].2, "NEW", "sh-workflow: a new finding is NEW");
    let mut archived = finding(&sb, "ok", &mgmt);
    archived.record_state = Some(aws_sdk_securityhub::types::RecordState::Archived);
    hub(&sb).batch_import_findings().findings(archived).send().await.unwrap();
    assert_eq!(hub_findings(&sb).await["ok"].2, "RESOLVED", "sh-workflow: archived by its provider, resolved by Security Hub");
}
