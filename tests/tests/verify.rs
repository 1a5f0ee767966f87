//! `orgtrail verify` (issue 6, item 1) against the emulator: after a real `apply`, every control
//! passes but MFA Delete (MANUAL until the root user enables it); breaking one setting with the
//! SDK fails exactly the control that judges it; the JUnit and SARIF outputs parse back.
#[path = "verify_support/mod.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudtrail::types::{AdvancedEventSelector, AdvancedFieldSelector};
use aws_sdk_s3::types::{BucketLoggingStatus, BucketVersioningStatus, MfaDelete, PublicAccessBlockConfiguration, VersioningConfiguration};
use orgtrail::discovery::{discover, DiscoverOptions};
use orgtrail::steps::Ctx;
use orgtrail::verify::{Control, Status};
use orgtrail_tests::harness::{failing, findings, stderr, stdout, test_aws, verify_json as verify, ConfigEdit};
use orgtrail_tests::Sandbox;
use serde_json::Value;
use support::{applied, apply, failing_accounts, in_home, Breaker};

fn mfa_delete_off(c: ConfigEdit) -> ConfigEdit {
    c.mfa_delete(false)
}

fn statuses_of(v: &Value, control: &str) -> Vec<String> {
    findings(v).iter().filter(|f| f["control"] == control).map(|f| f["status"].as_str().unwrap().to_string()).collect()
}

fn finding<'v>(v: &'v Value, control: &str) -> &'v Value {
    findings(v).iter().find(|f| f["control"] == control).unwrap_or_else(|| panic!("no {control} finding in {v:#}"))
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

impl Breaker {
    /// Adds `readOnly = value` to the trail's selector of `category` (Management or Data).
    async fn narrow_selector(&self, category: &str, value: &str) {
        let ct = self.cloudtrail();
        let live = ct.get_event_selectors().trail_name(&self.trail_arn).send().await.unwrap();
        let mut changed = 0;
        let selectors: Vec<AdvancedEventSelector> = live
            .advanced_event_selectors()
            .iter()
            .map(|s| {
                let matches = s.field_selectors().iter().any(|f| f.field() == "eventCategory" && f.equals().iter().any(|v| v == category));
                if !matches {
                    return s.clone();
                }
                changed += 1;
                let mut b = AdvancedEventSelector::builder().name(s.name().unwrap_or_default());
                for f in s.field_selectors().iter().filter(|f| f.field() != "readOnly") {
                    b = b.field_selectors(f.clone());
                }
                b.field_selectors(AdvancedFieldSelector::builder().field("readOnly").equals(value).build().unwrap()).build().unwrap()
            })
            .collect();
        assert_eq!(changed, 1, "one {category} selector in {live:?}");
        ct.put_event_selectors().trail_name(&self.trail_arn).set_advanced_event_selectors(Some(selectors)).send().await.unwrap();
    }
}

/// Every control of the catalog, and per member the two account checks.
fn assert_complete(v: &Value, sb: &Sandbox) {
    let ids: BTreeSet<String> = findings(v).iter().map(|f| f["control"].as_str().unwrap().to_string()).collect();
    let all: BTreeSet<String> = Control::ALL.iter().map(|c| c.id().to_string()).collect();
    assert_eq!(ids, all, "every control reported");
    for f in findings(v) {
        assert!(f["account"].as_str().is_some_and(|a| a.len() == 12), "finding names its account: {f}");
        assert!(f["resource"].as_str().is_some_and(|r| !r.is_empty()), "finding names its resource: {f}");
        assert!(f["evidence"].as_str().is_some_and(|e| !e.is_empty()), "finding carries evidence: {f}");
    }
    for control in ["OrgTrail.Reach", "OrgTrail.NoDuplicate"] {
        let accounts: BTreeSet<&str> = findings(v).iter().filter(|f| f["control"] == control).map(|f| f["account"].as_str().unwrap()).collect();
        for m in &sb.org.members {
            assert!(accounts.contains(m.id.as_str()), "{control} for member {}", m.id);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_apply_all_controls_pass_but_mfa_delete_is_manual_and_verify_never_writes() {
    let sb = applied(|c| c).await;
    let (code, v) = verify(&sb);
    assert_eq!(failing(&v), BTreeSet::new(), "{v:#}");
    assert_eq!(code, 0, "no findings: exit 0");
    assert_complete(&v, &sb);
    let mfa = finding(&v, "CIS.2.1.2");
    assert_eq!(mfa["status"], "MANUAL");
    assert_eq!(statuses_of(&v, "CIS.2.1.2"), vec!["MANUAL", "MANUAL"], "log bucket and access-log bucket");
    assert!(mfa["evidence"].as_str().unwrap().contains("MFADelete=Disabled") && mfa["evidence"].as_str().unwrap().contains("orgtrail mfa-delete enable"), "{mfa}");
    assert_eq!(statuses_of(&v, "CloudTrail.5"), vec!["NOT-APPLICABLE"], "no CloudWatch Logs configured");
    let topic = finding(&v, "OrgTrail.DeliveryTopic");
    assert_eq!((statuses_of(&v, "OrgTrail.DeliveryTopic"), &topic["evidence"]), (vec!["NOT-APPLICABLE".to_string()], &Value::from("[trail] sns_topic not configured")), "{topic}");
    // Issue 15's controls without [monitoring] / [protection]: reported, not applicable.
    let detection = |f: &Value| f["control"].as_str().is_some_and(|c| c.starts_with("CIS.4.") || c == "OrgTrail.TamperProtectionSCP");
    assert!(findings(&v).iter().filter(|f| detection(f)).all(|f| f["status"] == "NOT-APPLICABLE"), "{v:#}");
    for f in findings(&v).iter().filter(|f| !["CIS.2.1.2", "CloudTrail.5", "OrgTrail.DeliveryTopic"].contains(&f["control"].as_str().unwrap()) && !detection(f)) {
        assert_eq!(f["status"], "PASS", "{f}");
    }
    assert_eq!(finding(&v, "KMS.4")["evidence"], "KeyRotationEnabled=true");
    assert!(finding(&v, "CloudTrail.1")["evidence"].as_str().unwrap().contains("management events: read+write; IsLogging=true"));
    assert_eq!(statuses_of(&v, "S3.5").len(), 2, "log bucket and access-log bucket");

    // The library call the command makes, on its own metrics: reads only.
    let a = test_aws(&sb);
    let config = orgtrail::config::load(&sb.config_path()).unwrap();
    let org = discover(&a, &DiscoverOptions { with_tags: false }).await.unwrap().organization;
    let caller = a.caller_identity().await.unwrap();
    let targets: Vec<String> = sb.org.members.iter().map(|m| m.id.clone()).collect();
    let ctx = Ctx { aws: &a, config: &config, org: &org, caller: &caller, targets: &targets, apply: false };
    let report = orgtrail::verify::verify(&ctx).await;
    assert!(report.passed(), "{:?}", report.failing_controls());
    assert_eq!(report.findings.iter().filter(|f| f.status == Status::Manual).count(), 2, "MFA Delete on both buckets");
    assert_eq!(a.metrics.write_calls(), BTreeMap::new(), "verify writes nothing");
    assert!(a.metrics.total().calls > 20, "it did read: {:?}", a.metrics.snapshot());

    // The table for people: one row per finding, and the summary.
    let table = sb.orgtrail(&["verify"]);
    assert_eq!(table.status.code(), Some(0), "{}", stderr(&table));
    let text = stdout(&table);
    assert!(text.starts_with("CONTROL"), "{text}");
    assert!(text.contains("CIS.2.1.2") && text.contains("MANUAL") && text.contains("no findings:"), "{text}");
    println!("{text}");
}

/// Breaks settings one at a time on an applied sandbox: each verify's failing set must be exactly
/// the broken control (which also proves the repair before it), then `apply --new-run` repairs it.
struct Breaks {
    sb: Sandbox,
    checked: usize,
}

impl Breaks {
    async fn new() -> Breaks {
        let sb = applied(mfa_delete_off).await;
        let (code, v) = verify(&sb);
        assert_eq!((code, failing(&v)), (0, BTreeSet::new()), "clean before breaking: {v:#}");
        Breaks { sb, checked: 0 }
    }

    /// Verify: exactly `controls` fail, exit 1.
    fn expect(&mut self, controls: &[&str], what: &str) -> Value {
        let (code, v) = verify(&self.sb);
        assert_eq!(failing(&v), set(controls), "after {what}: {v:#}");
        assert_eq!(code, 1, "findings: exit 1");
        self.checked += 1;
        v
    }

    fn repair(&self) {
        apply(&self.sb, &["apply", "--new-run", "--json"]);
    }

    /// After the last repair: clean again.
    fn assert_clean(&self) -> Value {
        let (code, v) = verify(&self.sb);
        assert_eq!((code, failing(&v)), (0, BTreeSet::new()), "repaired: {v:#}");
        v
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaking_one_trail_setting_fails_exactly_its_control() {
    let mut t = Breaks::new().await;
    let b = Breaker::new(&t.sb);

    b.cloudtrail().update_trail().name(&b.trail_arn).enable_log_file_validation(false).send().await.unwrap();
    let v = t.expect(&["CloudTrail.4"], "UpdateTrail EnableLogFileValidation=false");
    assert_eq!(finding(&v, "CloudTrail.4")["evidence"], "LogFileValidationEnabled=false");
    t.repair();

    b.cloudtrail().update_trail().name(&b.trail_arn).kms_key_id("").send().await.unwrap();
    let v = t.expect(&["CloudTrail.2"], "UpdateTrail KmsKeyId=\"\"");
    assert!(finding(&v, "CloudTrail.2")["evidence"].as_str().unwrap().contains("KmsKeyId not set"));
    t.repair();

    b.narrow_selector("Data", "true").await;
    let v = t.expect(&["S3.22"], "data-event selector read-only");
    assert!(finding(&v, "S3.22")["evidence"].as_str().unwrap().contains("S3 object-level events: none"));
    t.repair();

    b.narrow_selector("Data", "false").await;
    t.expect(&["S3.23"], "data-event selector write-only");
    t.repair();

    b.narrow_selector("Management", "false").await;
    let v = t.expect(&["CloudTrail.1"], "management selector write-only");
    assert!(finding(&v, "CloudTrail.1")["evidence"].as_str().unwrap().contains("management events: write only"));
    t.repair();

    // One setting read by two controls: CloudTrail.1 judges the trail from the management account,
    // OrgTrail.Reach from every member; a stopped trail reaches no one.
    b.cloudtrail().stop_logging().name(&b.trail_arn).send().await.unwrap();
    let v = t.expect(&["CloudTrail.1", "OrgTrail.Reach"], "StopLogging");
    assert!(statuses_of(&v, "OrgTrail.Reach").iter().all(|s| s == "FAIL"), "a stopped trail reaches no account");
    let reach: BTreeSet<String> = failing_accounts(&v).into_iter().filter(|(c, _)| c == "OrgTrail.Reach").map(|(_, a)| a).collect();
    assert!(t.sb.org.members.iter().all(|m| reach.contains(&m.id)), "every member: {reach:?}");
    t.repair();

    // A member's own multi-region trail logging management events: only that account fails.
    let member = t.sb.org.members[2].id.clone();
    let ct = b.member_trail(&member);
    b.aws.s3(&in_home(b.aws.session(&member))).create_bucket().bucket(format!("legacy-{member}")).send().await.unwrap();
    let dup = ct.create_trail().name("legacy").s3_bucket_name(format!("legacy-{member}")).is_multi_region_trail(true).send().await.unwrap().trail_arn.unwrap();
    ct.start_logging().name(&dup).send().await.unwrap();
    let v = t.expect(&["OrgTrail.NoDuplicate"], "a duplicate trail in one member");
    assert_eq!(failing_accounts(&v), BTreeSet::from([("OrgTrail.NoDuplicate".to_string(), member.clone())]));
    assert!(findings(&v).iter().any(|f| f["status"] == "FAIL" && f["resource"].as_str().unwrap().contains(&dup)), "names the duplicate {dup}");
    // legacy_trails = "keep" (the default): apply leaves it, the operator removes it.
    ct.delete_trail().name(&dup).send().await.unwrap();
    t.assert_clean();
    assert_eq!(t.checked, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaking_one_bucket_or_key_setting_fails_exactly_its_control() {
    let mut t = Breaks::new().await;
    let b = Breaker::new(&t.sb);

    b.kms().disable_key_rotation().key_id(b.key_id().await).send().await.unwrap();
    let v = t.expect(&["KMS.4"], "DisableKeyRotation");
    assert_eq!(finding(&v, "KMS.4")["evidence"], "KeyRotationEnabled=false");
    assert_eq!(finding(&v, "KMS.4")["account"], b.log_archive.as_str());
    t.repair();

    let off = PublicAccessBlockConfiguration::builder().block_public_acls(false).ignore_public_acls(false).block_public_policy(false).restrict_public_buckets(false).build();
    b.s3().put_public_access_block().bucket(&b.bucket).public_access_block_configuration(off).send().await.unwrap();
    let v = t.expect(&["CloudTrail.6"], "PutPublicAccessBlock all false");
    assert!(finding(&v, "CloudTrail.6")["evidence"].as_str().unwrap().contains("off: BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets"));
    t.repair();

    let policy: Value = serde_json::from_str(&b.s3().get_bucket_policy().bucket(&b.bucket).send().await.unwrap().policy.unwrap()).unwrap();
    let mut without_tls = policy.clone();
    without_tls["Statement"].as_array_mut().unwrap().retain(|s| s["Sid"] != "DenyInsecureTransport");
    assert_eq!(without_tls["Statement"].as_array().unwrap().len() + 1, policy["Statement"].as_array().unwrap().len());
    b.s3().put_bucket_policy().bucket(&b.bucket).policy(without_tls.to_string()).send().await.unwrap();
    let v = t.expect(&["S3.5"], "DenyInsecureTransport removed");
    let failed: Vec<&str> = findings(&v).iter().filter(|f| f["control"] == "S3.5" && f["status"] == "FAIL").map(|f| f["resource"].as_str().unwrap()).collect();
    assert_eq!(failed, vec![format!("s3-bucket {}", b.bucket)], "only the log bucket, not the access-log bucket");
    t.repair();

    b.s3().put_bucket_logging().bucket(&b.bucket).bucket_logging_status(BucketLoggingStatus::builder().build()).send().await.unwrap();
    t.expect(&["CloudTrail.7"], "PutBucketLogging without LoggingEnabled");
    t.repair();

    let suspended = VersioningConfiguration::builder().status(BucketVersioningStatus::Suspended).build();
    b.s3().put_bucket_versioning().bucket(&b.bucket).versioning_configuration(suspended).send().await.unwrap();
    let v = t.expect(&["CIS.2.1.2"], "PutBucketVersioning Suspended");
    assert!(finding(&v, "CIS.2.1.2")["evidence"].as_str().unwrap().contains("Versioning Status=Suspended"));
    t.repair();

    // MFA Delete on (the fidelity layer stores it given an MFA header): MANUAL becomes PASS.
    let v = t.assert_clean();
    assert_eq!(finding(&v, "CIS.2.1.2")["status"], "MANUAL");
    let on = VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).mfa_delete(MfaDelete::Enabled).build();
    let mfa = format!("arn:aws:iam::{}:mfa/root-account-mfa-device 123456", b.log_archive);
    b.s3().put_bucket_versioning().bucket(&b.bucket).versioning_configuration(on).mfa(mfa).send().await.unwrap();
    let v = t.assert_clean();
    assert_eq!(finding(&v, "CIS.2.1.2")["status"], "PASS", "{v:#}");
    assert_eq!(finding(&v, "CIS.2.1.2")["evidence"], "Versioning Status=Enabled; MFADelete=Enabled");
    assert_eq!(statuses_of(&v, "CIS.2.1.2"), vec!["PASS", "MANUAL"], "the access-log bucket, still without it, stays MANUAL");
    assert_eq!(t.checked, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junit_and_sarif_outputs_carry_the_findings() {
    let sb = applied(mfa_delete_off).await;
    let b = Breaker::new(&sb);
    b.cloudtrail().update_trail().name(&b.trail_arn).enable_log_file_validation(false).send().await.unwrap();
    let (_, v) = verify(&sb);
    let total = findings(&v).len();

    let sarif_path = sb.dir.path().join("verify.sarif");
    let out = sb.orgtrail(&["verify", "--format", "sarif", "--output", sarif_path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "the report went to the file");
    assert!(stderr(&out).contains("FINDINGS") && stderr(&out).contains("CloudTrail.4"), "{}", stderr(&out));
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(&sarif_path).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "orgtrail");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), total, "one result per finding");
    for r in results {
        let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], r["ruleId"], "ruleIndex points at its rule");
        // SARIF: any kind but "fail" must have level "none".
        assert!(r["kind"] == "fail" || r["level"] == "none", "{r}");
        assert!(r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].as_str().unwrap().contains('/'));
    }
    let failed: Vec<&Value> = results.iter().filter(|r| r["kind"] == "fail").collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!((&failed[0]["ruleId"], &failed[0]["level"]), (&Value::from("CloudTrail.4"), &Value::from("error")));
    assert!(failed[0]["message"]["text"].as_str().unwrap().contains(&b.trail_arn));
    assert_eq!(results.iter().filter(|r| r["kind"] == "review").count(), 2, "MFA Delete (both buckets) is for review");

    let out = sb.orgtrail(&["verify", "--format", "junit"]);
    assert_eq!(out.status.code(), Some(1));
    let xml = stdout(&out);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), total);
    assert_eq!(xml.matches("</testcase>").count(), total);
    assert_eq!(xml.matches("<failure ").count(), 1);
    // MFA Delete on both buckets (MANUAL); CloudTrail.5, the delivery topic, CIS 4.1-4.15 and the SCP (NOT-APPLICABLE: not configured).
    assert_eq!(xml.matches("<skipped ").count(), 3 + 17, "MANUAL and NOT-APPLICABLE are skipped");
    assert!(xml.contains("<testsuite name=\"CloudTrail.4\" tests=\"1\" failures=\"1\""), "{xml}");
    let failure = xml.split("<testcase ").find(|c| c.contains("<failure ")).unwrap();
    assert!(failure.contains("classname=\"CloudTrail.4\"") && failure.contains("LogFileValidationEnabled=false"), "{failure}");
    assert_balanced(&xml);
}

/// A minimal well-formedness check: every element opened is closed in order.
fn assert_balanced(xml: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = xml.trim_start_matches(|c| c != '>').trim_start_matches('>');
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').expect("tag closes") + start;
        let tag = &rest[start + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "closing {name}");
        } else if !tag.ends_with('/') {
            stack.push(tag.split_whitespace().next().unwrap().to_string());
        }
        rest = &rest[end + 1..];
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
}
