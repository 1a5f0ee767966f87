//! `orgtrail remove` end to end, with the real binary against the emulator: on a fully featured
//! sandbox the documented footprint (docs/removal.md, parsed) is what apply creates; `remove
//! --dry-run` writes nothing; `remove` takes the SCP first (the emulator's own request order), keeps
//! the logs, the buckets and the keys, and verify then fails exactly the controls of what went;
//! `--stop-trail` is refused until a second organization trail covers the organization.
use std::collections::BTreeSet;
use std::io::{Read, Write};

use orgtrail_tests::harness::{assumed_conf, failing, json, json_ok, requests_by_account, requests_since, stderr, stdout, verify_json, ConfigEdit, Operator};
use orgtrail_tests::Sandbox;
use serde_json::Value;

const STATE_BUCKET: &str = "orgtrail-state-remove-test";

/// GET one of the emulator's own endpoints; the body of its answer.
fn emulator(sb: &Sandbox, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", sb.emulator.port())).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()
}

fn is_write(op: &str) -> bool {
    let (service, name) = op.split_once('.').unwrap_or(("", op));
    if service == "s3" {
        return !(name.starts_with("GET") || name.starts_with("HEAD"));
    }
    !["Get", "List", "Describe", "Lookup", "Head"].iter().any(|p| name.starts_with(p)) && name != "AssumeRole"
}

/// The writes the emulator received, in order, after sequence number `after`.
fn writes_in_order(sb: &Sandbox, after: u64) -> Vec<String> {
    let order: Vec<Value> = serde_json::from_str(&emulator(sb, "/moto-api/fidelity/request-order")).unwrap();
    order.iter().filter(|r| r["seq"].as_u64().unwrap() > after).map(|r| r["operation"].as_str().unwrap().to_string()).filter(|op| is_write(op)).collect()
}

fn last_seq(sb: &Sandbox) -> u64 {
    let order: Vec<Value> = serde_json::from_str(&emulator(sb, "/moto-api/fidelity/request-order")).unwrap();
    order.last().map_or(0, |r| r["seq"].as_u64().unwrap())
}

/// Writes of one orgtrail invocation, from the request log.
fn run_counting_writes(sb: &Sandbox, args: &[&str]) -> (std::process::Output, usize) {
    let before = requests_by_account(sb);
    let out = sb.orgtrail(args);
    let seen = requests_since(&before, &requests_by_account(sb));
    (out, seen.values().flat_map(|ops| ops.iter()).filter(|(op, _)| is_write(op)).map(|(_, n)| *n as usize).sum())
}

/// Every feature apply has: detection, the SSE-KMS access-log key, a delivery topic, a delegated
/// administrator registered by `delegate`, shared state in S3 (its working copy the local state).
async fn fully_featured() -> Sandbox {
    let sb = Sandbox::with_config(3, |c| c.mfa_delete(false).detection().add("log_archive.access_log_encryption", "sse-kms").add("trail.sns_topic", "orgtrail-delivery")).await.unwrap();
    let admin = sb.org.members[0].id.clone();
    sb.edit_config(|c| c.delegated_admin(&admin));
    json_ok(&sb.orgtrail(&["delegate", "--json"]));
    let state_dir = sb.config_path().with_file_name("orgtrail.state");
    let applied = json_ok(&sb.orgtrail(&["apply", "--json", "--state", &format!("s3://{STATE_BUCKET}/orgtrail"), "--state-dir", &state_dir.display().to_string()]));
    assert_eq!(applied["report"]["outcome"]["outcome"], "converged", "{applied:#}");
    sb
}

/// The kinds of docs/removal.md's footprint table whose "made by" is `apply` or `delegate`.
fn documented_kinds() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/removal.md")).unwrap();
    let table = doc.split("<!-- footprint: begin -->").nth(1).unwrap().split("<!-- footprint: end -->").next().unwrap();
    let rows: Vec<Vec<String>> = table.lines().filter(|l| l.starts_with("| `")).map(|l| l.split('|').map(|c| c.trim().to_string()).collect()).collect();
    assert!(rows.len() > 15, "the table parsed: {rows:?}");
    rows.iter().filter(|r| r[4] == "`apply`" || r[4] == "`delegate`").map(|r| r[1].trim_matches('`').to_string()).collect()
}

/// What exists on the emulator, by the table's kinds.
async fn found_kinds(sb: &Sandbox) -> BTreeSet<String> {
    let config = ConfigEdit::read(&sb.config_path()).config();
    let (la, mgmt) = (&sb.org.log_archive_account, &sb.conf);
    let la_conf = assumed_conf(sb, la).await;
    let mut found = BTreeSet::new();
    let mut add = |kind: &str, yes: bool| {
        if yes {
            found.insert(kind.to_string());
        }
    };
    let aliases = aws_sdk_kms::Client::new(&la_conf).list_aliases().send().await.unwrap();
    let alias = |a: &str| aliases.aliases().iter().any(|x| x.alias_name() == Some(a));
    add("kms-key", alias(&config.log_archive.kms_alias));
    add("access-log-key", alias(config.log_archive.access_log_kms_alias.as_deref().unwrap()));
    let buckets = |conf| async move { aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build()).list_buckets().send().await.unwrap().buckets().iter().filter_map(|b| b.name().map(str::to_string)).collect::<BTreeSet<_>>() };
    let la_buckets = buckets(la_conf.clone()).await;
    add("log-bucket", la_buckets.contains(&config.log_archive.bucket));
    add("access-log-bucket", la_buckets.contains(&config.log_archive.access_log_bucket));
    add("state-bucket", buckets(mgmt.clone()).await.contains(STATE_BUCKET));
    let ct = aws_sdk_cloudtrail::Client::new(mgmt);
    add("trail", ct.describe_trails().send().await.unwrap().trail_list().iter().any(|t| t.name() == Some("orgtrail")));
    add("insights", ct.get_insight_selectors().trail_name(sb.org_trail_arn()).send().await.is_ok_and(|o| !o.insight_selectors().is_empty()));
    let topics = aws_sdk_sns::Client::new(mgmt).list_topics().send().await.unwrap();
    let topic = |n: &str| topics.topics().iter().any(|t| t.topic_arn().is_some_and(|a| a.ends_with(&format!(":{n}"))));
    add("trail-topic", topic("orgtrail-delivery"));
    add("alarm-topic", topic("orgtrail-alarms"));
    let orgs = aws_sdk_organizations::Client::new(mgmt);
    let access = orgs.list_aws_service_access_for_organization().send().await.unwrap();
    add("trusted-access", access.enabled_service_principals().iter().any(|p| p.service_principal() == Some("cloudtrail.amazonaws.com")));
    let admins = orgs.list_delegated_administrators().service_principal("cloudtrail.amazonaws.com").send().await.unwrap();
    add("delegated-admin", admins.delegated_administrators().iter().any(|a| a.id() == Some(sb.org.members[0].id.as_str())));
    let policies = orgs.list_policies().filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy).send().await.unwrap();
    add("scp", policies.policies().iter().any(|p| p.name() == Some("orgtrail-tamper-protection")));
    let roots = orgs.list_roots().send().await.unwrap();
    add("scp-policy-type", roots.roots()[0].policy_types().iter().any(|t| t.r#type().map(|t| t.as_str()) == Some("SERVICE_CONTROL_POLICY") && t.status().map(|s| s.as_str()) == Some("ENABLED")));
    let logs = aws_sdk_cloudwatchlogs::Client::new(mgmt);
    let group = "/aws/cloudtrail/orgtrail";
    add("log-group", logs.describe_log_groups().log_group_name_prefix(group).send().await.unwrap().log_groups().iter().any(|g| g.log_group_name() == Some(group)));
    add("metric-filters", logs.describe_metric_filters().log_group_name(group).send().await.is_ok_and(|f| f.metric_filters().len() == 15));
    add("log-group-role", aws_sdk_iam::Client::new(mgmt).get_role().role_name("orgtrail-cloudtrail-to-logs").send().await.is_ok());
    let alarms = aws_sdk_cloudwatch::Client::new(mgmt).describe_alarms().alarm_name_prefix("orgtrail-cis-").send().await.unwrap();
    add("alarms", alarms.metric_alarms().len() == 15);
    add("local-state", sb.config_path().with_file_name("orgtrail.state").join("state.db").exists());
    found
}

fn items<'a>(v: &'a Value, action: &str) -> Vec<&'a str> {
    v["items"].as_array().unwrap().iter().filter(|i| i["action"] == action).map(|i| i["resource"].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_takes_the_scp_first_keeps_logs_buckets_and_keys_and_verify_shows_what_went() {
    let sb = fully_featured().await;
    // The documented footprint is what a fully featured apply made.
    let (documented, found) = (documented_kinds(), found_kinds(&sb).await);
    println!("documented (apply, delegate): {documented:?}");
    assert_eq!(found, documented, "docs/removal.md's footprint table and the emulator differ");

    let la_s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&assumed_conf(&sb, &sb.org.log_archive_account).await).force_path_style(true).build());
    let bucket = format!("orgtrail-logs-{}", sb.org.log_archive_account);
    let objects = |s3: aws_sdk_s3::Client, b: String| async move { s3.list_objects_v2().bucket(b).send().await.unwrap().key_count().unwrap_or(0) };
    // A log object, as CloudTrail writes them (this emulator delivers none itself). The bucket
    // policy denies plain HTTP, which is all the emulator speaks: lifted for the write, then restored.
    let policy = la_s3.get_bucket_policy().bucket(&bucket).send().await.unwrap().policy.unwrap();
    la_s3.delete_bucket_policy().bucket(&bucket).send().await.unwrap();
    let key_arn = aws_sdk_kms::Client::new(&assumed_conf(&sb, &sb.org.log_archive_account).await).describe_key().key_id("alias/orgtrail").send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    let log_key = format!("org/AWSLogs/{}/{}/CloudTrail/us-east-1/2026/12/01/log.json.gz", sb.org.org_id, sb.org.management_account);
    la_s3.put_object().bucket(&bucket).key(&log_key).body(b"{}".to_vec().into()).server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::AwsKms).ssekms_key_id(&key_arn).send().await.unwrap();
    la_s3.put_bucket_policy().bucket(&bucket).policy(policy).send().await.unwrap();
    let logs_before = objects(la_s3.clone(), bucket.clone()).await;
    assert!(logs_before > 0, "a log object in the bucket");
    let (code, before) = verify_json(&sb);
    assert_eq!((code, failing(&before)), (0, BTreeSet::new()), "converged before remove");

    let (out, writes) = run_counting_writes(&sb, &["remove", "--dry-run", "--json"]);
    let dry = json(&out);
    assert_eq!((out.status.code(), writes), (Some(0), 0), "dry run: exit 0, nothing written; {}", stderr(&out));
    let planned = items(&dry, "remove");
    println!("remove --dry-run: {} to remove, kept: {:?}", planned.len(), items(&dry, "keep"));
    assert!(planned[0].starts_with("scp-attachment orgtrail-tamper-protection -> r-") && planned[1].starts_with("scp orgtrail-tamper-protection"), "the SCP first: {planned:?}");
    for gone in ["cloudwatch-log-group /aws/cloudtrail/orgtrail", "iam-role orgtrail-cloudtrail-to-logs", "cloudwatch-alarm orgtrail-cis-4.1-unauthorized-api-calls", "(Insights)", "(CloudWatch Logs)", "sns-topic arn:aws:sns:us-east-1:", "cloudtrail-delegated-admin"] {
        assert!(planned.iter().any(|p| p.contains(gone)), "{gone} in {planned:?}");
    }
    let kept = items(&dry, "keep").join("\n");
    for keep in ["kms-key alias/orgtrail", "kms-key alias/orgtrail-access-logs", &format!("s3-bucket {bucket}"), "cloudtrail-trail", "trusted access", "(the trail's delivery topic)"] {
        assert!(kept.contains(keep), "{keep} kept: {kept}");
    }
    let table = sb.orgtrail(&["remove", "--dry-run"]);
    assert!(stdout(&table).contains("would remove") && stdout(&table).contains("dry run: nothing written"), "{}", stdout(&table));

    // With the shared state the apply used: its records go to S3 with the lock.
    let state = format!("s3://{STATE_BUCKET}/orgtrail");
    let seq = last_seq(&sb);
    let out = sb.orgtrail(&["remove", "--json", "--state", &state]);
    let done = json(&out);
    assert_eq!(out.status.code(), Some(0), "{done:#}\n{}", stderr(&out));
    // S3 writes are the state's (lock, pushes): remove writes nothing else to S3.
    let order: Vec<String> = writes_in_order(&sb, seq).into_iter().filter(|op| !op.starts_with("s3.")).collect();
    println!("remove: the emulator's writes in order (the state's S3 writes left out): {order:?}");
    assert_eq!(&order[..2], ["organizations.DetachPolicy", "organizations.DeletePolicy"], "the SCP goes first");
    assert_eq!(order.len(), planned.len() + 1, "one write per item, and one more for the role's inline policy: {order:?}");
    assert_eq!(done["report"]["finished"], true);
    assert!(done["report"]["done"].as_array().unwrap().iter().all(|d| d["status"] == "done"), "{done:#}");

    // Kept: the logs, the buckets, the keys, the trail.
    assert_eq!(objects(la_s3.clone(), bucket.clone()).await, logs_before, "every log object kept");
    let la_kms = aws_sdk_kms::Client::new(&assumed_conf(&sb, &sb.org.log_archive_account).await);
    let key = la_kms.describe_key().key_id("alias/orgtrail").send().await.unwrap().key_metadata.unwrap();
    assert_eq!(key.key_state().map(|s| s.as_str()), Some("Enabled"));
    assert!(aws_sdk_cloudtrail::Client::new(&sb.conf).get_trail_status().name(sb.org_trail_arn()).send().await.unwrap().is_logging().unwrap());

    // verify: exactly the controls of what was taken away fail.
    let (code, after) = verify_json(&sb);
    let mut expected: BTreeSet<String> = (1..=15).map(|n| format!("CIS.4.{n}")).collect();
    expected.extend(["CloudTrail.5".to_string(), "OrgTrail.TamperProtectionSCP".to_string()]);
    println!("verify after remove fails: {:?}", failing(&after));
    assert_eq!((code, failing(&after)), (1, expected));

    // Recorded in the shared state, item by item; a second remove has nothing left and writes nothing.
    let pulled = sb.config_path().with_file_name("pulled.state");
    let out = sb.orgtrail(&["--state", &state, "--state-dir", &pulled.display().to_string(), "state", "pull"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let store = orgtrail_state::Store::open(&pulled).unwrap();
    let removals = store.removals().unwrap();
    assert_eq!((removals.len(), removals[0].id.as_str(), removals[0].finished_at.is_some()), (1, "remove-1", true));
    let records = store.removal_records("remove-1").unwrap();
    assert_eq!(records.iter().filter(|r| r.status == "done").count(), planned.len());
    assert_eq!(records.iter().filter(|r| r.status == "kept").count(), items(&dry, "keep").len());
    let (out, writes) = run_counting_writes(&sb, &["remove", "--json", "--state", &state]);
    assert_eq!((out.status.code(), writes), (Some(0), 0), "{}", stderr(&out));
    assert!(items(&json(&out), "remove").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_trail_is_refused_until_another_organization_trail_covers_every_account_and_region() {
    let sb = Sandbox::with_config(3, |c| c.mfa_delete(false).add("trail.sns_topic", "orgtrail-delivery")).await.unwrap();
    json_ok(&sb.orgtrail(&["apply", "--json"]));
    let (out, writes) = run_counting_writes(&sb, &["remove", "--stop-trail"]);
    println!("{}", stdout(&out));
    assert_eq!((out.status.code(), writes), (Some(1), 0), "refused, nothing written: {}", stderr(&out));
    assert!(stdout(&out).contains("REFUSED") && stdout(&out).contains("no other trail exists"), "{}", stdout(&out));

    // A second organization trail, single-region first: still refused, naming what it lacks.
    Operator::new(&sb).replacement_org_trail("replacement", false).await;
    let ct = aws_sdk_cloudtrail::Client::new(&sb.conf);
    let (out, writes) = run_counting_writes(&sb, &["remove", "--stop-trail", "--json"]);
    assert_eq!((out.status.code(), writes), (Some(1), 0), "{}", stderr(&out));
    let refused = json(&out);
    assert!(refused["items"][0]["why"].as_str().unwrap().contains("replacement: single-region"), "{refused:#}");

    // Multi-region: accepted; the trail is stopped, then deleted.
    ct.update_trail().name("replacement").is_multi_region_trail(true).send().await.unwrap();
    let seq = last_seq(&sb);
    let out = sb.orgtrail(&["remove", "--stop-trail", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", stdout(&out), stderr(&out));
    // The delivery topic apply created (tagged with the trail) goes after the trail that published to it.
    assert_eq!(writes_in_order(&sb, seq), ["cloudtrail.StopLogging", "cloudtrail.DeleteTrail", "sns.DeleteTopic"]);
    assert!(delivery_topics(&sb).await.is_empty(), "the delivery topic is gone");
    let trails: Vec<String> = ct.describe_trails().send().await.unwrap().trail_list().iter().filter_map(|t| t.name().map(str::to_string)).collect();
    assert_eq!(trails, ["replacement"]);
    let (code, after) = verify_json(&sb);
    println!("verify after remove --stop-trail fails: {:?}", failing(&after));
    // Exactly the controls that judge orgtrail's trail (its selectors, validation, reach, data
    // events, its delivery, the digests it delivers and its delivery topic): the replacement trail
    // keeps CloudTrail.1 (a multi-region trail logging management events).
    let expected: BTreeSet<String> = ["CloudTrail.2", "CloudTrail.4", "OrgTrail.Coverage", "OrgTrail.Delivery", "OrgTrail.DeliveryTopic", "OrgTrail.Reach", "S3.22", "S3.23"].map(String::from).into();
    assert_eq!((code, failing(&after)), (1, expected));
}

/// The topics named `orgtrail-delivery` in the management account.
async fn delivery_topics(sb: &Sandbox) -> Vec<String> {
    let topics = aws_sdk_sns::Client::new(&sb.conf).list_topics().send().await.unwrap();
    topics.topics().iter().filter_map(|t| t.topic_arn()).filter(|a| a.ends_with(":orgtrail-delivery")).map(str::to_string).collect()
}

/// A delivery topic that existed before apply (apply only adds its statement, no tag) is the
/// operator's: kept even once the trail is gone, with why; the trail's own is kept while it stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_topic_orgtrail_did_not_create_is_kept() {
    let sb = Sandbox::with_config(3, |c| c.mfa_delete(false).add("trail.sns_topic", "orgtrail-delivery")).await.unwrap();
    let sns = aws_sdk_sns::Client::new(&sb.conf);
    sns.create_topic().name("orgtrail-delivery").send().await.unwrap();
    json_ok(&sb.orgtrail(&["apply", "--json"]));
    let why = |v: &Value| v["items"].as_array().unwrap().iter().find(|i| i["resource"].as_str().unwrap().contains("(the trail's delivery topic)")).map(|i| (i["action"].as_str().unwrap().to_string(), i["why"].as_str().unwrap_or_default().to_string()));
    let (action, reason) = why(&json_ok(&sb.orgtrail(&["remove", "--dry-run", "--json"]))).expect("the topic listed");
    assert_eq!(action, "keep");
    assert!(reason.contains("still publishes to it"), "{reason}");

    aws_sdk_cloudtrail::Client::new(&sb.conf).delete_trail().name(sb.org_trail_arn()).send().await.unwrap();
    let (out, writes) = run_counting_writes(&sb, &["remove", "--json"]);
    assert_eq!((out.status.code(), writes), (Some(0), 0), "nothing to remove: {}", stderr(&out));
    let (action, reason) = why(&json(&out)).expect("the topic listed");
    assert_eq!(action, "keep");
    assert!(reason.contains("not tagged orgtrail:trail"), "{reason}");
    assert_eq!(delivery_topics(&sb).await.len(), 1, "the operator's topic stays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removal_that_stops_at_a_failure_is_continued_by_the_next_remove() {
    let sb = Sandbox::with_config(3, |c| c.mfa_delete(false).detection()).await.unwrap();
    json_ok(&sb.orgtrail(&["apply", "--json"]));
    // Someone attached a managed policy to the logs role: IAM refuses to delete it (DeleteConflict),
    // and orgtrail does not detach what it did not attach.
    let iam = aws_sdk_iam::Client::new(&sb.conf);
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:DescribeLogGroups","Resource":"*"}]}"#;
    let policy = iam.create_policy().policy_name("someone-elses").policy_document(doc).send().await.unwrap().policy.unwrap().arn.unwrap();
    iam.attach_role_policy().role_name("orgtrail-cloudtrail-to-logs").policy_arn(&policy).send().await.unwrap();

    let started = std::time::Instant::now();
    let out = sb.orgtrail(&["remove", "--json"]);
    println!("remove stopped at the failure in {:.1}s", started.elapsed().as_secs_f64());
    let first = json(&out);
    assert_eq!(out.status.code(), Some(1), "{first:#}");
    let failed: Vec<&Value> = first["report"]["done"].as_array().unwrap().iter().filter(|d| d["status"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{first:#}");
    assert_eq!(failed[0]["resource"], "iam-role orgtrail-cloudtrail-to-logs");
    assert!(failed[0]["error"].as_str().unwrap().contains("DeleteRole: DeleteConflict"), "names the call and the code: {}", failed[0]);
    assert_eq!((&first["report"]["removal"], &first["report"]["finished"]), (&Value::from("remove-1"), &Value::from(false)));
    let table = sb.orgtrail(&["remove", "--dry-run"]);
    assert!(stdout(&table).contains("iam-role orgtrail-cloudtrail-to-logs"), "only what is left: {}", stdout(&table));

    iam.detach_role_policy().role_name("orgtrail-cloudtrail-to-logs").policy_arn(&policy).send().await.unwrap();
    let out = sb.orgtrail(&["remove", "--json"]);
    let second = json(&out);
    assert_eq!(out.status.code(), Some(0), "{second:#}");
    assert_eq!((&second["report"]["removal"], &second["report"]["resumed"], &second["report"]["finished"]), (&Value::from("remove-1"), &Value::from(true), &Value::from(true)));
    let done: Vec<&str> = second["report"]["done"].as_array().unwrap().iter().map(|d| d["resource"].as_str().unwrap()).collect();
    assert_eq!(done, ["iam-role orgtrail-cloudtrail-to-logs"], "the rest was removed the first time");
    let out = sb.orgtrail(&["remove", "--json"]);
    assert_eq!(json(&out)["report"], Value::Null, "nothing left: nothing recorded");
}
