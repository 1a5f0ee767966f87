//! The organization trail's delivery topic (`[trail] sns_topic`) when a CloudTrail delegated
//! administrator manages the trail (docs/design.md, "The delivery topic of a delegated
//! administrator's trail"): the topic is the administrator's, in the home region, and its policy's
//! aws:SourceArn is the trail as AWS forms it, the management account's. End to end with the real
//! binary (apply, and verify's OrgTrail.DeliveryTopic), and the emulator's patch m (the topic by
//! ARN, the policy CreateTrail / UpdateTrail check), whose test fails on plain moto:
//! `ORGTRAIL_MOTO_UNPATCHED=1 cargo test -p orgtrail-tests --test delegated_sns fidelity`.
use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;

use aws_config::SdkConfig;
use aws_sdk_cloudtrail::error::{ProvideErrorMetadata, SdkError};
use orgtrail_tests::harness::{assumed_conf, assumed_env, failing, findings, json, json_ok, requests_by_account, requests_since, stderr};
use orgtrail_tests::seed::{enable_cloudtrail_trusted_access, register_cloudtrail_admin};
use orgtrail_tests::Sandbox;
use serde_json::{json, Value};

const TOPIC: &str = "orgtrail-delivery";

fn run(sb: &Sandbox, env: &[(&'static str, String)], args: &[&str]) -> Output {
    sb.command(args).envs(env.iter().map(|(k, v)| (*k, v.as_str()))).output().expect("running orgtrail")
}

/// The AWS error code of a failed call (panics when the call succeeded).
fn code<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(r: Result<T, SdkError<E, R>>) -> String {
    let e = r.expect_err("the call must fail");
    e.as_service_error().and_then(|s| s.code()).map(str::to_string).unwrap_or_else(|| format!("no service error: {e:?}"))
}

async fn topic_policy(conf: &SdkConfig, topic: &str) -> Value {
    let attrs = aws_sdk_sns::Client::new(conf).get_topic_attributes().topic_arn(topic).send().await.expect("the topic exists").attributes.unwrap_or_default();
    serde_json::from_str(&attrs["Policy"]).expect("a JSON policy")
}

async fn topics(conf: &SdkConfig) -> Vec<String> {
    let out = aws_sdk_sns::Client::new(conf).list_topics().send().await.unwrap();
    out.topics.unwrap_or_default().into_iter().filter_map(|t| t.topic_arn).collect()
}

/// The statements that let CloudTrail publish.
fn cloudtrail_statements(policy: &Value) -> Vec<&Value> {
    policy["Statement"].as_array().unwrap().iter().filter(|s| s["Principal"]["Service"] == "cloudtrail.amazonaws.com").collect()
}

/// verify's control for the delivery topic.
const CONTROL: &str = "OrgTrail.DeliveryTopic";

/// The one finding of that control.
fn topic_finding(v: &Value) -> &Value {
    let found: Vec<&Value> = findings(v).iter().filter(|f| f["control"] == CONTROL).collect();
    assert_eq!(found.len(), 1, "one {CONTROL} finding: {v:#}");
    found[0]
}

fn writes(report: &Value) -> &Value {
    &report["api_calls"]["writes"]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegated_admin_trail_notifies_a_topic_of_the_admin_scoped_to_the_management_trail() {
    let sb = Sandbox::new(3).await.unwrap();
    let (mgmt, admin) = (sb.org.management_account.clone(), sb.org.members[0].id.clone());
    sb.edit_config(|c| c.mfa_delete(false).delegated_admin(&admin).add("trail.sns_topic", TOPIC));
    json_ok(&run(&sb, &[], &["delegate", "--json"]));
    let env = assumed_env(&sb, &admin).await;
    let admin_conf = assumed_conf(&sb, &admin).await;

    let before = requests_by_account(&sb);
    let first = json_ok(&run(&sb, &env, &["apply", "--json"]));
    let seen: BTreeMap<String, BTreeMap<String, u64>> = requests_since(&before, &requests_by_account(&sb));
    assert_eq!(first["report"]["outcome"]["outcome"], "converged", "{first:#}");
    assert_eq!(seen.get(&mgmt), None, "no call with management-account credentials: {:?}", seen.get(&mgmt));
    assert_eq!((writes(&first)["SNS.CreateTopic"].as_u64(), writes(&first)["SNS.SetTopicAttributes"].as_u64()), (Some(1), Some(1)), "{}", writes(&first));

    // The topic is the delegated administrator's, in the home region; none in the management account.
    let topic = format!("arn:aws:sns:us-east-1:{admin}:{TOPIC}");
    let trail_arn = format!("arn:aws:cloudtrail:us-east-1:{mgmt}:trail/orgtrail");
    assert_eq!(topics(&admin_conf).await, vec![topic.clone()]);
    assert!(topics(&sb.conf).await.iter().all(|t| !t.ends_with(&format!(":{TOPIC}"))), "no topic of that name in the management account");

    // Its policy lets CloudTrail publish, for the organization trail only: SourceArn is the trail
    // as AWS forms it for a delegated administrator's trail, with the management account's id.
    let policy = topic_policy(&admin_conf, &topic).await;
    let ours = cloudtrail_statements(&policy);
    assert_eq!(ours.len(), 1, "{policy:#}");
    assert_eq!(
        ours[0],
        &json!({
            "Sid": "AWSCloudTrailSNSPolicy",
            "Effect": "Allow",
            "Principal": { "Service": "cloudtrail.amazonaws.com" },
            "Action": "SNS:Publish",
            "Resource": topic,
            "Condition": { "StringEquals": { "aws:SourceArn": trail_arn } }
        })
    );

    // The management account's trail notifies that topic, by its ARN.
    let ct_mgmt = aws_sdk_cloudtrail::Client::new(&sb.conf);
    let t = ct_mgmt.get_trail().name("orgtrail").send().await.unwrap().trail.unwrap();
    assert_eq!((t.trail_arn.as_deref(), t.sns_topic_arn.as_deref()), (Some(trail_arn.as_str()), Some(topic.as_str())));

    // Converged: a second apply writes nothing, and verify passes.
    let second = json_ok(&run(&sb, &env, &["apply", "--json"]));
    assert_eq!(writes(&second), &json!({}), "{second:#}");
    let v = json(&run(&sb, &env, &["verify", "--json"]));
    assert!(failing(&v).is_empty(), "verify findings: {v:#}");
    let f = topic_finding(&v);
    assert_eq!((&f["status"], &f["account"]), (&json!("PASS"), &json!(admin)), "judged in the administrator's account: {f:#}");
    let evidence = f["evidence"].as_str().unwrap();
    assert!(evidence.contains(&format!("SnsTopicARN={topic}")) && evidence.contains("AWSCloudTrailSNSPolicy as rendered") && evidence.contains(&trail_arn), "{f:#}");

    // Drift in the administrator's account: the CloudTrail statement is removed, and the trail is
    // pointed at a topic of the same name in the management account. One apply repairs both.
    let sns_admin = aws_sdk_sns::Client::new(&admin_conf);
    let mut stripped = policy.clone();
    stripped["Statement"].as_array_mut().unwrap().retain(|s| s["Principal"]["Service"] != "cloudtrail.amazonaws.com");
    sns_admin.set_topic_attributes().topic_arn(&topic).attribute_name("Policy").attribute_value(stripped.to_string()).send().await.unwrap();
    // verify fails exactly the topic control, naming the statement.
    let out = run(&sb, &env, &["verify", "--json"]);
    let v = json(&out);
    assert_eq!((out.status.code(), failing(&v)), (Some(1), BTreeSet::from([CONTROL.to_string()])), "{v:#}");
    let evidence = topic_finding(&v)["evidence"].as_str().unwrap().to_string();
    assert!(evidence.contains(&format!("SnsTopicARN={topic}")) && evidence.contains("statement AWSCloudTrailSNSPolicy missing"), "{evidence}");
    let wrong = aws_sdk_sns::Client::new(&sb.conf).create_topic().name(TOPIC).send().await.unwrap().topic_arn.unwrap();
    let open = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "SNS:Publish", "Resource": wrong}]});
    aws_sdk_sns::Client::new(&sb.conf).set_topic_attributes().topic_arn(&wrong).attribute_name("Policy").attribute_value(open.to_string()).send().await.unwrap();
    ct_mgmt.update_trail().name("orgtrail").sns_topic_name(TOPIC).send().await.unwrap();
    assert_eq!(ct_mgmt.get_trail().name("orgtrail").send().await.unwrap().trail.unwrap().sns_topic_arn.as_deref(), Some(wrong.as_str()));
    let out = run(&sb, &env, &["verify", "--json"]);
    let v = json(&out);
    assert_eq!((out.status.code(), failing(&v)), (Some(1), BTreeSet::from([CONTROL.to_string()])), "{v:#}");
    let evidence = topic_finding(&v)["evidence"].as_str().unwrap().to_string();
    assert!(evidence.contains(&format!("SnsTopicARN={wrong}, not {topic}")), "names the topic the trail notifies instead: {evidence}");

    let plan = json_ok(&run(&sb, &env, &["plan", "--json"]));
    let step = plan["steps"].as_array().unwrap().iter().find(|s| s["step"] == "org-trail").unwrap();
    let changed: Vec<&str> = step["changes"].as_array().unwrap().iter().filter(|c| c["action"] != "no-change").filter_map(|c| c["resource"].as_str()).collect();
    assert_eq!(changed, vec![format!("sns-topic {topic}").as_str(), format!("cloudtrail-trail {trail_arn}").as_str()], "{step:#}");
    let repair = json_ok(&run(&sb, &env, &["apply", "--new-run", "--json"]));
    assert_eq!(writes(&repair), &json!({"CloudTrail.UpdateTrail": 1, "SNS.SetTopicAttributes": 1}), "{repair:#}");
    assert_eq!(ct_mgmt.get_trail().name("orgtrail").send().await.unwrap().trail.unwrap().sns_topic_arn.as_deref(), Some(topic.as_str()));
    assert_eq!(cloudtrail_statements(&topic_policy(&admin_conf, &topic).await), ours, "the statement is back");
    let again = json_ok(&run(&sb, &env, &["apply", "--json"]));
    assert_eq!(writes(&again), &json!({}), "{again:#}");
    let out = run(&sb, &env, &["verify", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(topic_finding(&json(&out))["status"], "PASS");
}

/// Without a delegated administrator the topic is the management account's, and verify judges it
/// there: PASS after apply, FAIL of exactly this control once its statement is changed (another
/// trail's SourceArn), PASS again after the repair.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn management_account_trail_topic_is_verified_where_it_lives() {
    let sb = Sandbox::new(3).await.unwrap();
    let mgmt = sb.org.management_account.clone();
    sb.edit_config(|c| c.mfa_delete(false).add("trail.sns_topic", TOPIC));
    let first = json_ok(&run(&sb, &[], &["apply", "--json"]));
    assert_eq!(first["report"]["outcome"]["outcome"], "converged", "{first:#}");
    let topic = format!("arn:aws:sns:us-east-1:{mgmt}:{TOPIC}");
    let trail_arn = format!("arn:aws:cloudtrail:us-east-1:{mgmt}:trail/orgtrail");
    let v = json(&run(&sb, &[], &["verify", "--json"]));
    assert!(failing(&v).is_empty(), "verify findings: {v:#}");
    let f = topic_finding(&v);
    assert_eq!((&f["status"], &f["account"]), (&json!("PASS"), &json!(mgmt)), "{f:#}");
    assert!(f["evidence"].as_str().unwrap().contains(&format!("SnsTopicARN={topic}")), "{f:#}");

    // The statement now names another trail: CloudTrail could no longer publish for this one.
    let mut policy = topic_policy(&sb.conf, &topic).await;
    for s in policy["Statement"].as_array_mut().unwrap().iter_mut().filter(|s| s["Sid"] == "AWSCloudTrailSNSPolicy") {
        s["Condition"]["StringEquals"]["aws:SourceArn"] = json!(format!("arn:aws:cloudtrail:us-east-1:{mgmt}:trail/another"));
    }
    aws_sdk_sns::Client::new(&sb.conf).set_topic_attributes().topic_arn(&topic).attribute_name("Policy").attribute_value(policy.to_string()).send().await.unwrap();
    let out = run(&sb, &[], &["verify", "--json"]);
    let v = json(&out);
    assert_eq!((out.status.code(), failing(&v)), (Some(1), BTreeSet::from([CONTROL.to_string()])), "{v:#}");
    assert!(topic_finding(&v)["evidence"].as_str().unwrap().contains("AWSCloudTrailSNSPolicy"), "{v:#}");

    let repair = json_ok(&run(&sb, &[], &["apply", "--new-run", "--json"]));
    assert_eq!(writes(&repair), &json!({"SNS.SetTopicAttributes": 1}), "{repair:#}");
    let ours = cloudtrail_statements(&topic_policy(&sb.conf, &topic).await).into_iter().cloned().collect::<Vec<_>>();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0]["Condition"]["StringEquals"]["aws:SourceArn"], json!(trail_arn));
    let out = run(&sb, &[], &["verify", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(topic_finding(&json(&out))["status"], "PASS");
}

/// (m) The trail's topic by ARN, in another account than the trail's, and the policy check of
/// CreateTrail / UpdateTrail: the statement must let CloudTrail publish for this trail, whose
/// SourceArn is the management account's for a delegated administrator's organization trail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fidelity_trail_topic_by_arn_in_another_account_and_its_policy_checked() {
    let sb = Sandbox::new(2).await.unwrap();
    let (mgmt, admin) = (sb.org.management_account.clone(), sb.org.members[0].id.clone());
    enable_cloudtrail_trusted_access(&sb.conf).await.unwrap();
    register_cloudtrail_admin(&sb.conf, &admin).await.unwrap();
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sb.conf).force_path_style(true).build()).create_bucket().bucket("org-logs").send().await.unwrap();
    let admin_conf = assumed_conf(&sb, &admin).await;
    let sns = aws_sdk_sns::Client::new(&admin_conf);
    let trail_arn = format!("arn:aws:cloudtrail:us-east-1:{mgmt}:trail/orgtrail");
    let topic = |name: &'static str, source_arn: String| {
        let sns = sns.clone();
        async move {
            let arn = sns.create_topic().name(name).send().await.unwrap().topic_arn.unwrap();
            let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "SNS:Publish", "Resource": arn, "Condition": {"StringEquals": {"aws:SourceArn": source_arn}}}]});
            sns.set_topic_attributes().topic_arn(&arn).attribute_name("Policy").attribute_value(policy.to_string()).send().await.unwrap();
            arn
        }
    };
    let good = topic("for-the-org-trail", trail_arn.clone()).await;
    // The mistake this catches: SourceArn formed with the caller's (the administrator's) account.
    let misnamed = topic("for-a-trail-of-the-admin", format!("arn:aws:cloudtrail:us-east-1:{admin}:trail/orgtrail")).await;
    let bare = sns.create_topic().name("default-policy-only").send().await.unwrap().topic_arn.unwrap();
    // The grant, then an explicit Deny of publishing to everyone: the Deny wins.
    let denied = topic("allowed-then-denied", trail_arn.clone()).await;
    let mut policy: Value = topic_policy(&admin_conf, &denied).await;
    policy["Statement"].as_array_mut().unwrap().push(json!({"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "SNS:Publish", "Resource": denied}));
    sns.set_topic_attributes().topic_arn(&denied).attribute_name("Policy").attribute_value(policy.to_string()).send().await.unwrap();

    let ct = aws_sdk_cloudtrail::Client::new(&admin_conf);
    let create = |t: &str| ct.create_trail().name("orgtrail").s3_bucket_name("org-logs").is_organization_trail(true).is_multi_region_trail(true).sns_topic_name(t).send();
    assert_eq!(code(create(&misnamed).await), "InsufficientSnsTopicPolicyException", "SourceArn of another trail");
    assert_eq!(code(create(&bare).await), "InsufficientSnsTopicPolicyException", "no statement for CloudTrail");
    assert_eq!(code(create(&denied).await), "InsufficientSnsTopicPolicyException", "an explicit Deny");
    assert_eq!(code(create(&format!("arn:aws:sns:us-east-1:{admin}:no-such-topic")).await), "InsufficientSnsTopicPolicyException");
    let created = create(&good).await.expect("a topic of the administrator, by ARN, for the management account's trail");
    assert_eq!((created.trail_arn.as_deref(), created.sns_topic_arn.as_deref()), (Some(trail_arn.as_str()), Some(good.as_str())));
    let t = aws_sdk_cloudtrail::Client::new(&sb.conf).get_trail().name("orgtrail").send().await.unwrap().trail.unwrap();
    assert_eq!(t.sns_topic_arn.as_deref(), Some(good.as_str()), "reported by its own ARN, not rebuilt from the trail's account");

    // UpdateTrail checks the same, and a refused update leaves the topic as it was.
    assert_eq!(code(ct.update_trail().name(&trail_arn).sns_topic_name(&misnamed).send().await), "InsufficientSnsTopicPolicyException");
    let t = ct.get_trail().name(&trail_arn).send().await.unwrap().trail.unwrap();
    assert_eq!(t.sns_topic_arn.as_deref(), Some(good.as_str()));
}
