//! Issue 4: trusted access, the organization trail, account-mode trails and the emulator's fidelity
//! patches, end to end against the (patched) moto server. Everything is read back through the SDK.
use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudtrail::types::{AdvancedEventSelector, Trail};
use futures::stream::{self, StreamExt};
use orgtrail::steps::{account_trail, kms_key, log_bucket, org_trail, trusted_access, Action, StepError};
use orgtrail_tests::harness::{assert_no_writes, event_selector, fields_of, only_of_kind as only, test_aws as aws, StepWorld as World};

const CT_TRAIL: &str = "aws-controltower-BaselineCloudTrail";

async fn read_trail(ct: &aws_sdk_cloudtrail::Client, arn: &str) -> (Trail, Vec<AdvancedEventSelector>, bool) {
    let t = ct.get_trail().name(arn).send().await.unwrap().trail.unwrap();
    let s = ct.get_event_selectors().trail_name(arn).send().await.unwrap();
    let logging = ct.get_trail_status().name(arn).send().await.unwrap().is_logging.unwrap();
    (t, s.advanced_event_selectors.unwrap_or_default(), logging)
}

/// `field Op` → values, for readable assertions on one selector.
fn fields(s: &AdvancedEventSelector) -> BTreeMap<String, Vec<String>> {
    let mut m = BTreeMap::new();
    for f in s.field_selectors() {
        for (op, v) in [("Equals", f.equals()), ("StartsWith", f.starts_with()), ("NotStartsWith", f.not_starts_with()), ("NotEquals", f.not_equals()), ("EndsWith", f.ends_with()), ("NotEndsWith", f.not_ends_with())] {
            if !v.is_empty() {
                let mut v = v.to_vec();
                v.sort();
                m.insert(format!("{} {op}", f.field()), v);
            }
        }
    }
    m
}

fn by_category<'a>(sels: &'a [AdvancedEventSelector], cat: &str) -> Option<&'a AdvancedEventSelector> {
    sels.iter().find(|s| fields(s).get("eventCategory Equals") == Some(&vec![cat.to_string()]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusted_access_planned_then_enabled_once() {
    let w = World::sandbox(1, |c| c).await;
    let orgs = aws_sdk_organizations::Client::new(&w.sb.conf);
    let enabled = || async { orgs.list_aws_service_access_for_organization().send().await.unwrap().enabled_service_principals.unwrap_or_default().iter().any(|p| p.service_principal() == Some("cloudtrail.amazonaws.com")) };
    assert!(!enabled().await);

    let a = aws(&w.sb);
    let plan = trusted_access::converge(&w.ctx(&a, false)).await.unwrap();
    assert_eq!(plan.changes[0].action, Action::Create);
    assert_no_writes(&a);
    assert!(!enabled().await);

    let applied = trusted_access::converge(&w.ctx(&a, true)).await.unwrap();
    assert_eq!(applied.changes[0].action, Action::Create);
    assert!(enabled().await);

    let again = aws(&w.sb);
    let out = trusted_access::converge(&w.ctx(&again, true)).await.unwrap();
    assert!(!out.changes[0].is_change());
    assert_no_writes(&again);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_trail_created_with_every_property_and_second_apply_writes_nothing() {
    let extra = r#"[trail]
sns_topic = "orgtrail-delivery"
cloudwatch_logs = { log_group_arn = "arn:aws:logs:us-east-1:123456789012:log-group:orgtrail:*", role_arn = "arn:aws:iam::123456789012:role/CloudTrailToLogs" }"#;
    let w = World::sandbox(1, |c| c.merge(extra)).await;
    // CloudTrail checks the group and role exist and that it may assume the role (cwl-targets).
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    aws_sdk_iam::Client::new(&w.sb.conf).create_role().role_name("CloudTrailToLogs").assume_role_policy_document(trust.to_string()).send().await.unwrap();
    aws_sdk_cloudwatchlogs::Client::new(&w.sb.conf).create_log_group().log_group_name("orgtrail").send().await.unwrap();
    let key = w.key_and_bucket().await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await; // past the emulator's IAM propagation delay
    let a = aws(&w.sb);
    let out = org_trail::converge(&w.ctx(&a, true)).await.unwrap();
    let arn = w.ctx(&a, true).trail_arn();
    assert_eq!(arn, format!("arn:aws:cloudtrail:us-east-1:{}:trail/orgtrail", w.sb.org.management_account));
    assert_eq!(only(&out.changes, "cloudtrail-trail").action, Action::Create);
    assert_eq!(only(&out.changes, "sns-topic").action, Action::Create);
    // Created by name, every later call by ARN.
    let ops = a.metrics.write_calls();
    assert_eq!(ops.get("CloudTrail.CreateTrail"), Some(&1), "{ops:?}");
    assert_eq!(ops.get("CloudTrail.StartLogging"), Some(&1), "{ops:?}");
    assert_eq!(ops.get("CloudTrail.PutEventSelectors"), Some(&1), "{ops:?}");

    let (t, sels, logging) = read_trail(&w.mgmt_ct(), &arn).await;
    assert_eq!(t.is_organization_trail, Some(true));
    assert_eq!(t.is_multi_region_trail, Some(true));
    assert_eq!(t.include_global_service_events, Some(true));
    assert_eq!(t.log_file_validation_enabled, Some(true));
    assert_eq!(t.kms_key_id.as_deref(), Some(key.as_str()), "full key ARN of the log-archive key");
    assert!(key.contains(&format!(":{}:key/", w.la())), "{key}");
    assert_eq!(t.s3_bucket_name.as_deref(), Some(w.config.log_archive.bucket.as_str()));
    assert_eq!(t.s3_key_prefix.as_deref(), Some("org"));
    assert_eq!(t.sns_topic_arn.as_deref(), Some(format!("arn:aws:sns:us-east-1:{}:orgtrail-delivery", w.sb.org.management_account).as_str()));
    assert_eq!(t.cloud_watch_logs_log_group_arn.as_deref(), Some("arn:aws:logs:us-east-1:123456789012:log-group:orgtrail:*"));
    assert_eq!(t.cloud_watch_logs_role_arn.as_deref(), Some("arn:aws:iam::123456789012:role/CloudTrailToLogs"));
    assert!(logging);
    // The topic exists with a statement that lets CloudTrail publish, for this trail only.
    let topic = t.sns_topic_arn.clone().unwrap();
    let attrs = aws_sdk_sns::Client::new(&w.sb.conf).get_topic_attributes().topic_arn(&topic).send().await.unwrap().attributes.unwrap();
    let policy: serde_json::Value = serde_json::from_str(&attrs["Policy"]).unwrap();
    let publish = policy["Statement"].as_array().unwrap().iter().find(|s| s["Principal"]["Service"] == "cloudtrail.amazonaws.com").expect("a CloudTrail statement");
    assert_eq!((publish["Effect"].as_str(), publish["Action"].as_str(), publish["Resource"].as_str()), (Some("Allow"), Some("SNS:Publish"), Some(topic.as_str())));
    assert_eq!(publish["Condition"]["StringEquals"]["aws:SourceArn"], arn.as_str());
    assert_eq!(sels.len(), 2, "{sels:?}");
    let mgmt = fields(by_category(&sels, "Management").unwrap());
    assert!(!mgmt.contains_key("readOnly Equals"), "all management events: no readOnly field: {mgmt:?}");
    let data = fields(by_category(&sels, "Data").unwrap());
    assert_eq!(data["resources.type Equals"], vec!["AWS::S3::Object"]);
    assert_eq!(data["resources.ARN NotStartsWith"], vec![format!("arn:aws:s3:::{}/", w.config.log_archive.bucket)]);
    assert!(!data.contains_key("resources.ARN StartsWith") && !data.contains_key("readOnly Equals"), "{data:?}");

    // Converged: a fresh run reads, finds nothing to do, and writes nothing.
    let again = aws(&w.sb);
    let out = org_trail::converge(&w.ctx(&again, true)).await.unwrap();
    assert!(out.changes.iter().all(|c| !c.is_change()), "{out:?}");
    assert_no_writes(&again);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selector_scopes_and_listed_buckets() {
    let mut w = World::sandbox(1, |c| c.add("trail.management_events", "write").merge("[trail]\ndata_events = { s3 = \"read\", buckets = [\"app-data\", \"app-media\"] }")).await;
    w.key_and_bucket().await;
    let a = aws(&w.sb);
    org_trail::converge(&w.ctx(&a, true)).await.unwrap();
    let (_, sels, _) = read_trail(&w.mgmt_ct(), &w.ctx(&a, true).trail_arn()).await;
    assert_eq!(fields(by_category(&sels, "Management").unwrap())["readOnly Equals"], vec!["false"]);
    let data = fields(by_category(&sels, "Data").unwrap());
    assert_eq!(data["readOnly Equals"], vec!["true"]);
    assert_eq!(data["resources.ARN StartsWith"], vec!["arn:aws:s3:::app-data/", "arn:aws:s3:::app-media/"]);
    assert_eq!(data["resources.ARN NotStartsWith"], vec![format!("arn:aws:s3:::{}/", w.config.log_archive.bucket)]);

    // management_events = "none": no management selector at all.
    w.reconfigure(|c| c.add("trail.management_events", "none"));
    let b = aws(&w.sb);
    let out = org_trail::converge(&w.ctx(&b, true)).await.unwrap();
    assert_eq!(fields_of(&only(&out.changes, "cloudtrail-trail")), vec!["AdvancedEventSelectors"]);
    let (_, sels, _) = read_trail(&w.mgmt_ct(), &w.ctx(&b, true).trail_arn()).await;
    assert!(by_category(&sels, "Management").is_none() && sels.len() == 1, "{sels:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_key_is_planned_as_created_by_kms_step_and_refused_on_apply() {
    let w = World::sandbox(1, |c| c).await;
    let a = aws(&w.sb);
    w.s3().create_bucket().bucket(&w.config.log_archive.bucket).send().await.unwrap();
    let plan = org_trail::converge(&w.ctx(&a, false)).await.unwrap();
    let c = only(&plan.changes, "cloudtrail-trail");
    assert_eq!(c.action, Action::Create);
    assert!(c.resource.contains("alias/orgtrail") && c.resource.contains("created by kms-key step"), "{}", c.resource);
    assert_no_writes(&a);

    let err = org_trail::converge(&w.ctx(&a, true)).await.unwrap_err();
    assert!(matches!(&err, StepError::Refused { reason, .. } if reason.contains("kms-key step must run first")), "{err}");
    assert_no_writes(&a);
    assert!(w.mgmt_ct().describe_trails().send().await.unwrap().trail_list.unwrap_or_default().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_is_planned_without_writes_and_repaired_by_apply() {
    let w = World::sandbox(1, |c| c).await;
    let key = w.key_and_bucket().await;
    let a = aws(&w.sb);
    org_trail::converge(&w.ctx(&a, true)).await.unwrap();
    let arn = w.ctx(&a, true).trail_arn();
    let ct = w.mgmt_ct();
    // Drift every kind of property, as someone with console access might.
    ct.update_trail().name(&arn).enable_log_file_validation(false).is_multi_region_trail(false).s3_key_prefix("elsewhere").send().await.unwrap();
    let sel = event_selector("reads only", &[("eventCategory", "Management"), ("readOnly", "true")]);
    ct.put_event_selectors().trail_name(&arn).advanced_event_selectors(sel).send().await.unwrap();
    ct.stop_logging().name(&arn).send().await.unwrap();

    let plan_aws = aws(&w.sb);
    let plan = org_trail::converge(&w.ctx(&plan_aws, false)).await.unwrap();
    let mut f = fields_of(&only(&plan.changes, "cloudtrail-trail"));
    f.sort();
    assert_eq!(f, vec!["AdvancedEventSelectors", "EnableLogFileValidation", "IsLogging", "IsMultiRegionTrail", "S3KeyPrefix"]);
    assert!(plan_aws.metrics.write_calls().is_empty(), "plan wrote: {:?}", plan_aws.metrics.write_calls());
    let (t, _, logging) = read_trail(&ct, &arn).await;
    assert_eq!((t.log_file_validation_enabled, logging), (Some(false), false), "plan changed nothing");

    let apply_aws = aws(&w.sb);
    let applied = org_trail::converge(&w.ctx(&apply_aws, true)).await.unwrap();
    assert_eq!(fields_of(&only(&applied.changes, "cloudtrail-trail")).len(), 5);
    let writes = apply_aws.metrics.write_calls();
    assert!(!writes.contains_key("CloudTrail.CreateTrail") && !writes.contains_key("CloudTrail.DeleteTrail"), "converged in place: {writes:?}");
    assert_eq!(writes.get("CloudTrail.UpdateTrail"), Some(&1), "{writes:?}");
    assert_eq!(writes.get("CloudTrail.PutEventSelectors"), Some(&1), "{writes:?}");
    assert_eq!(writes.get("CloudTrail.StartLogging"), Some(&1), "{writes:?}");
    let (t, sels, logging) = read_trail(&ct, &arn).await;
    assert_eq!(t.log_file_validation_enabled, Some(true));
    assert_eq!(t.is_multi_region_trail, Some(true));
    assert_eq!(t.s3_key_prefix.as_deref(), Some("org"));
    assert_eq!(t.kms_key_id.as_deref(), Some(key.as_str()));
    assert!(logging);
    assert!(!fields(by_category(&sels, "Management").unwrap()).contains_key("readOnly Equals"));
    assert!(by_category(&sels, "Data").is_some());

    let again = aws(&w.sb);
    org_trail::converge(&w.ctx(&again, true)).await.unwrap();
    assert_no_writes(&again);
}

/// Control Tower's organization trail, as landing zone 3.x leaves it (no log file validation here).
async fn control_tower_trail(w: &World) -> String {
    let ct = w.mgmt_ct();
    let bucket = format!("aws-controltower-logs-{}-us-east-1", w.la());
    w.s3().create_bucket().bucket(&bucket).send().await.unwrap();
    let t = ct.create_trail().name(CT_TRAIL).s3_bucket_name(&bucket).is_organization_trail(true).is_multi_region_trail(true).include_global_service_events(true).send().await.unwrap();
    let arn = t.trail_arn.unwrap();
    ct.start_logging().name(&arn).send().await.unwrap();
    arn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_org_trail_refuse_adopt_and_data_events_only() {
    let mut w = World::sandbox(1, |c| c).await;
    w.key_and_bucket().await;
    let ct_arn = control_tower_trail(&w).await;
    let ours = w.sb.org_trail_arn();

    // refuse (the default): explains the double bill and both ways out; writes nothing.
    let a = aws(&w.sb);
    let err = org_trail::converge(&w.ctx(&a, true)).await.unwrap_err();
    let StepError::Refused { reason, .. } = &err else { panic!("{err}") };
    assert!(reason.contains(CT_TRAIL) && reason.contains("doubles the CloudTrail bill"), "{reason}");
    assert!(reason.contains("existing_org_trail = \"adopt\"") && reason.contains("existing_org_trail = \"data-events-only\""), "{reason}");
    assert!(a.metrics.write_calls().is_empty());

    // adopt: verified, drift reported for a person, the other tool's trail untouched.
    w.reconfigure(|c| c.add("trail.existing_org_trail", "adopt"));
    let b = aws(&w.sb);
    let out = org_trail::converge(&w.ctx(&b, true)).await.unwrap();
    let c = only(&out.changes, "cloudtrail-trail");
    assert!(c.resource.contains(CT_TRAIL), "{c:?}");
    let Action::ManualAction { instructions } = &c.action else { panic!("{c:?}") };
    for f in ["EnableLogFileValidation", "KmsKeyId", "AdvancedEventSelectors"] {
        assert!(instructions.contains(f), "{f} in {instructions}");
    }
    assert!(!instructions.contains("IsLogging") && !instructions.contains("IsMultiRegionTrail"), "{instructions}");
    assert_no_writes(&b);
    let (t, _, _) = read_trail(&w.mgmt_ct(), &ct_arn).await;
    assert_eq!(t.log_file_validation_enabled, Some(false));
    assert!(w.mgmt_ct().get_trail().name(&ours).send().await.is_err(), "adopt creates no trail");

    // data-events-only: orgtrail's own trail, S3 data events only.
    w.reconfigure(|c| c.add("trail.existing_org_trail", "data-events-only"));
    let c = aws(&w.sb);
    org_trail::converge(&w.ctx(&c, true)).await.unwrap();
    let (t, sels, logging) = read_trail(&w.mgmt_ct(), &ours).await;
    assert_eq!((t.is_organization_trail, logging), (Some(true), true));
    assert_eq!(sels.len(), 1, "{sels:?}");
    assert!(by_category(&sels, "Data").is_some() && by_category(&sels, "Management").is_none());
    assert_eq!(read_trail(&w.mgmt_ct(), &ct_arn).await.0.log_file_validation_enabled, Some(false), "Control Tower's trail untouched");
    let d = aws(&w.sb);
    org_trail::converge(&w.ctx(&d, true)).await.unwrap();
    assert_no_writes(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_mode_converges_50_trails_and_widens_the_policies_to_exactly_them() {
    let w = World::sandbox(50, |c| c.trail_mode("account")).await;
    // The kms-key and log-bucket steps themselves, with the run's 50 targets: the policies widen to them.
    let a = aws(&w.sb);
    let ctx = w.ctx(&a, true);
    kms_key::converge(&ctx).await.unwrap();
    log_bucket::converge_access_log_bucket(&ctx).await.unwrap();
    log_bucket::converge_log_bucket(&ctx).await.unwrap();
    let key = kms_key::key_arn(&ctx).await.unwrap().expect("the kms-key step made the key");
    assert_account_mode_policies(&w, &key).await;

    let results: Vec<_> = stream::iter(w.targets.clone()).map(|acct| { let ctx = &ctx; async move { (acct.clone(), account_trail::converge(ctx, &acct).await) } }).buffer_unordered(8).collect().await;
    assert_eq!(results.len(), 50);
    for (acct, r) in &results {
        let out = r.as_ref().unwrap_or_else(|e| panic!("{acct}: {e}"));
        assert_eq!(only(&out.changes, "cloudtrail-trail").action, Action::Create, "{acct}");
    }
    assert_eq!(a.metrics.write_calls().get("CloudTrail.CreateTrail"), Some(&50));

    // Read every trail back through the member's own role.
    let reader = aws(&w.sb);
    let checked = stream::iter(w.targets.clone())
        .map(|acct| {
            let (reader, key, bucket) = (&reader, &key, &w.config.log_archive.bucket);
            async move {
                let ct = reader.cloudtrail(&reader.session(&acct));
                let arn = format!("arn:aws:cloudtrail:us-east-1:{acct}:trail/orgtrail");
                let (t, sels, logging) = read_trail(&ct, &arn).await;
                assert_eq!(t.is_organization_trail, Some(false), "{acct}");
                assert_eq!((t.is_multi_region_trail, t.include_global_service_events, t.log_file_validation_enabled), (Some(true), Some(true), Some(true)), "{acct}");
                assert_eq!(t.kms_key_id.as_deref(), Some(key.as_str()), "{acct}");
                assert_eq!((t.s3_bucket_name.as_deref(), t.s3_key_prefix.as_deref()), (Some(bucket.as_str()), Some("org")), "{acct}");
                assert!(logging && sels.len() == 2, "{acct}");
            }
        })
        .buffer_unordered(8)
        .count()
        .await;
    assert_eq!(checked, 50);

    let again = aws(&w.sb);
    let ctx = w.ctx(&again, true);
    let unchanged = stream::iter(w.targets.clone()).map(|acct| { let ctx = &ctx; async move { account_trail::converge(ctx, &acct).await.unwrap() } }).buffer_unordered(8).filter(|o| futures::future::ready(o.changes.iter().all(|c| !c.is_change()))).count().await;
    assert_eq!(unchanged, 50);
    assert_no_writes(&again);
}

/// The bucket policy lets CloudTrail write under exactly the targeted accounts' prefixes, scoped by
/// aws:SourceOrgID; the key policy's encryption context names exactly those accounts' trails.
async fn assert_account_mode_policies(w: &World, key: &str) {
    let statement = |doc: &serde_json::Value, sid: &str| -> serde_json::Value {
        doc["Statement"].as_array().unwrap().iter().find(|st| st["Sid"] == sid).unwrap_or_else(|| panic!("no {sid} in {doc}")).clone()
    };
    let strings = |v: &serde_json::Value| -> BTreeSet<String> {
        match v {
            serde_json::Value::Array(items) => items.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
            other => BTreeSet::from([other.as_str().unwrap().to_string()]),
        }
    };
    let bucket = &w.config.log_archive.bucket;
    let policy = w.s3().get_bucket_policy().bucket(bucket).send().await.unwrap().policy.unwrap();
    let doc: serde_json::Value = serde_json::from_str(&policy).unwrap();
    let write = statement(&doc, "AWSCloudTrailWrite");
    let want: BTreeSet<String> = w.targets.iter().map(|id| format!("arn:aws:s3:::{bucket}/org/AWSLogs/{id}/*")).collect();
    assert_eq!(want.len(), 50);
    assert_eq!(strings(&write["Resource"]), want, "exactly the targeted accounts' prefixes");
    assert_eq!(write["Condition"]["StringEquals"]["aws:SourceOrgID"], w.sb.org.org_id.as_str());
    assert_eq!(statement(&doc, "AWSCloudTrailAclCheck")["Condition"]["StringEquals"]["aws:SourceOrgID"], w.sb.org.org_id.as_str());

    let key_policy = w.kms().get_key_policy().key_id(key).policy_name("default").send().await.unwrap().policy.unwrap();
    let doc: serde_json::Value = serde_json::from_str(&key_policy).unwrap();
    let encrypt = statement(&doc, "AllowCloudTrailEncrypt");
    let contexts: BTreeSet<String> = w.targets.iter().map(|id| format!("arn:aws:cloudtrail:*:{id}:trail/*")).collect();
    assert_eq!(strings(&encrypt["Condition"]["StringLike"]["kms:EncryptionContext:aws:cloudtrail:arn"]), contexts);
    assert_eq!(encrypt["Condition"]["ArnLike"]["aws:SourceArn"], "arn:aws:cloudtrail:us-east-1:*:trail/orgtrail");
}

// ---- Fidelity patches (docs/emulator.md): each test fails on an unpatched moto 5.2.5 ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fidelity_create_trail_is_not_an_upsert() {
    let w = World::sandbox(1, |c| c).await;
    let ct = w.mgmt_ct();
    w.sb.s3().create_bucket().bucket("fidelity-logs").send().await.unwrap();
    ct.create_trail().name("trail-one").s3_bucket_name("fidelity-logs").s3_key_prefix("first").send().await.unwrap();
    let err = ct.create_trail().name("trail-one").s3_bucket_name("fidelity-logs").send().await.unwrap_err();
    assert_eq!(err.as_service_error().and_then(|e| aws_sdk_cloudtrail::error::ProvideErrorMetadata::code(e)), Some("TrailAlreadyExistsException"));
    assert_eq!(ct.get_trail().name("trail-one").send().await.unwrap().trail.unwrap().s3_key_prefix.as_deref(), Some("first"), "not replaced");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fidelity_trail_reads_answer_outside_the_home_region_and_delete_takes_arns() {
    let w = World::sandbox(1, |c| c).await;
    let s3 = w.sb.s3();
    s3.create_bucket().bucket("fidelity-logs").send().await.unwrap();
    let ct = w.mgmt_ct();
    let arn = ct.create_trail().name("multi").s3_bucket_name("fidelity-logs").is_multi_region_trail(true).send().await.unwrap().trail_arn.unwrap();
    let west = aws_sdk_cloudtrail::Client::new(&w.sb.conf.to_builder().region(aws_config::Region::new("eu-west-1")).build());
    assert_eq!(west.get_trail().name(&arn).send().await.unwrap().trail.unwrap().home_region.as_deref(), Some("us-east-1"));
    assert_eq!(west.get_event_selectors().trail_name(&arn).send().await.unwrap().trail_arn.as_deref(), Some(arn.as_str()));
    // DeleteTrail: unknown names fail (moto: silent success); ARNs work (moto: silently ignored).
    let err = ct.delete_trail().name("no-such-trail").send().await.unwrap_err();
    assert_eq!(err.as_service_error().and_then(|e| aws_sdk_cloudtrail::error::ProvideErrorMetadata::code(e)), Some("TrailNotFoundException"));
    ct.delete_trail().name(&arn).send().await.unwrap();
    assert!(ct.describe_trails().send().await.unwrap().trail_list.unwrap_or_default().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fidelity_mfa_delete_is_stored_and_excludes_lifecycle() {
    use aws_sdk_s3::types::{BucketLifecycleConfiguration, BucketVersioningStatus, ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, MfaDelete, MfaDeleteStatus, VersioningConfiguration};
    let w = World::sandbox(1, |c| c).await;
    let s3 = w.sb.s3();
    let code = |e: &dyn aws_sdk_s3::error::ProvideErrorMetadata| e.code().map(str::to_string);
    let versioning = |mfa: MfaDelete| VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).mfa_delete(mfa).build();
    let lifecycle = BucketLifecycleConfiguration::builder()
        .rules(LifecycleRule::builder().id("expire").status(ExpirationStatus::Enabled).filter(LifecycleRuleFilter::builder().prefix("").build()).expiration(LifecycleExpiration::builder().days(30).build()).build().unwrap())
        .build()
        .unwrap();

    // (c) stored, and only with the x-amz-mfa header.
    s3.create_bucket().bucket("mfa-bucket").send().await.unwrap();
    let err = s3.put_bucket_versioning().bucket("mfa-bucket").versioning_configuration(versioning(MfaDelete::Enabled)).send().await.unwrap_err();
    assert_eq!(err.as_service_error().and_then(|e| code(e)), Some("AccessDenied".into()));
    s3.put_bucket_versioning().bucket("mfa-bucket").mfa("arn:aws:iam::123456789012:mfa/root-account-mfa-device 123456").versioning_configuration(versioning(MfaDelete::Enabled)).send().await.unwrap();
    let v = s3.get_bucket_versioning().bucket("mfa-bucket").send().await.unwrap();
    assert_eq!(v.mfa_delete, Some(MfaDeleteStatus::Enabled));
    assert_eq!(v.status, Some(BucketVersioningStatus::Enabled));

    // (d) no lifecycle on an MFA Delete bucket ...
    let err = s3.put_bucket_lifecycle_configuration().bucket("mfa-bucket").lifecycle_configuration(lifecycle.clone()).send().await.unwrap_err();
    assert_eq!(err.as_service_error().and_then(|e| code(e)), Some("InvalidBucketState".into()));
    // ... and no MFA Delete on a bucket with lifecycle rules.
    s3.create_bucket().bucket("lifecycle-bucket").send().await.unwrap();
    s3.put_bucket_versioning().bucket("lifecycle-bucket").versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build()).send().await.unwrap();
    s3.put_bucket_lifecycle_configuration().bucket("lifecycle-bucket").lifecycle_configuration(lifecycle).send().await.unwrap();
    let err = s3.put_bucket_versioning().bucket("lifecycle-bucket").mfa("serial 123456").versioning_configuration(versioning(MfaDelete::Enabled)).send().await.unwrap_err();
    assert_eq!(err.as_service_error().and_then(|e| code(e)), Some("InvalidBucketState".into()));
    assert_eq!(s3.get_bucket_versioning().bucket("lifecycle-bucket").send().await.unwrap().mfa_delete, None);
}
