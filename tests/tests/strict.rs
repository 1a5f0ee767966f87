//! The emulator's stricter readings (tests/fidelity/strict.py; docs/emulator.md, "Stricter
//! readings"), each shown active, and what orgtrail does under them. Each `fidelity_` test fails
//! with its patch left out (ORGTRAIL_MOTO_FIDELITY_SKIP=member-reads, cwl-targets, logs-kms-check).
use aws_sdk_cloudtrail::error::ProvideErrorMetadata;
use orgtrail::steps::member_checks;
use orgtrail_tests::harness::{test_aws as aws, ConfigEdit, StepWorld};

orgtrail_tests::step_world!();

impl World {
    async fn new(members: usize, edit: impl FnOnce(ConfigEdit) -> ConfigEdit) -> World {
        World(StepWorld::member_side(members, edit).await)
    }

    fn mgmt(&self) -> String {
        self.sb.org.management_account.clone()
    }
}

fn code<E: ProvideErrorMetadata>(e: &aws_sdk_cloudtrail::error::SdkError<E, aws_sdk_cloudtrail::config::http::HttpResponse>) -> String {
    e.as_service_error().and_then(|e| e.code()).unwrap_or("(no code)").to_string()
}

/// (member-reads) From a member, GetTrailStatus is the one read by the organization trail's ARN AWS
/// documents: GetEventSelectors, GetInsightSelectors and GetTrail by that ARN are refused with
/// CloudTrailARNInvalidException (the stricter reading of mixed public evidence); the management
/// account reads all of them. Fails with ORGTRAIL_MOTO_FIDELITY_SKIP=member-reads (patch b answers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fidelity_member_reads_the_org_trail_by_arn_only_with_get_trail_status() {
    let w = World::new(1, |c| c).await;
    w.converge_org_trail().await;
    let arn = w.org_trail_arn();
    let a = aws(&w.sb);
    let ct = w.member_ct(&a, "us-east-1");
    assert!(ct.get_trail_status().name(&arn).send().await.unwrap().is_logging.unwrap());
    let code = |e: Option<&str>| e.map(str::to_string);
    let selectors = ct.get_event_selectors().trail_name(&arn).send().await.unwrap_err();
    assert_eq!(code(selectors.as_service_error().and_then(|e| e.code())).as_deref(), Some("CloudTrailARNInvalidException"), "{selectors:?}");
    let insights = ct.get_insight_selectors().trail_name(&arn).send().await.unwrap_err();
    assert_eq!(code(insights.as_service_error().and_then(|e| e.code())).as_deref(), Some("CloudTrailARNInvalidException"), "{insights:?}");
    let trail = ct.get_trail().name(&arn).send().await.unwrap_err();
    assert_eq!(code(trail.as_service_error().and_then(|e| e.code())).as_deref(), Some("CloudTrailARNInvalidException"), "{trail:?}");
    // The owner reads them, in any region (patch e).
    assert_eq!(w.mgmt_ct().get_event_selectors().trail_name(&arn).send().await.unwrap().trail_arn.as_deref(), Some(arn.as_str()));
    assert!(w.mgmt_ct().get_trail().name(&arn).send().await.unwrap().trail.is_some());
}

/// With own trails to judge in two members, the organization trail's selectors are read once, from
/// the management account (the emulator's request log, outside orgtrail); each member reads only
/// its own trails' selectors. Before, every member read the organization trail's by ARN.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_trail_selectors_are_judged_once_from_the_owner() {
    let w = World::new(2, |c| c).await;
    w.converge_org_trail().await;
    let a = aws(&w.sb);
    for m in &w.targets {
        a.s3(&a.session(m)).create_bucket().bucket(format!("own-{m}")).send().await.unwrap();
        let ct = a.cloudtrail(&a.session(m));
        let own = ct.create_trail().name("own").s3_bucket_name(format!("own-{m}")).is_multi_region_trail(true).send().await.unwrap().trail_arn.unwrap();
        ct.start_logging().name(&own).send().await.unwrap();
    }
    let before = orgtrail_tests::harness::requests_by_account(&w.sb);
    let a = aws(&w.sb);
    for m in &w.targets {
        let f = member_checks::inspect_member(&w.ctx(&a, false), m).await.unwrap();
        assert_eq!(f.duplicates.len(), 1, "{f:?}");
    }
    let seen = orgtrail_tests::harness::requests_since(&before, &orgtrail_tests::harness::requests_by_account(&w.sb));
    let selectors = |account: &str| seen.get(account).and_then(|ops| ops.get("cloudtrail.GetEventSelectors")).copied().unwrap_or(0);
    assert_eq!(selectors(&w.sb.org.management_account), 1, "{seen:?}");
    for m in &w.targets {
        assert_eq!(selectors(m), 1, "its own trail only: {seen:?}");
    }
}

/// A trust policy letting CloudTrail assume the role for `trail_arn` only (orgtrail's template's shape).
fn cloudtrail_trust(service: &str, trail_arn: &str) -> String {
    serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}}]}).to_string()
}

async fn create_role(iam: &aws_sdk_iam::Client, name: &str, trust: &str) -> String {
    iam.create_role().role_name(name).assume_role_policy_document(trust).send().await.unwrap().role.unwrap().arn
}

/// (cwl-targets) CreateTrail and UpdateTrail check the CloudWatch Logs targets as the API reference
/// documents: the log group and role exist in the calling account, and CloudTrail can assume the
/// role (its trust lets cloudtrail.amazonaws.com in, for this trail; a role IAM has not propagated
/// yet cannot be assumed). moto accepts any ARN.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fidelity_cloudtrail_validates_cloudwatch_logs_targets() {
    let w = World::new(1, |c| c).await;
    let (mgmt, m) = (w.mgmt(), w.member());
    let conf = &w.sb.conf;
    let (ct, logs, iam) = (aws_sdk_cloudtrail::Client::new(conf), aws_sdk_cloudwatchlogs::Client::new(conf), aws_sdk_iam::Client::new(conf));
    let a = aws(&w.sb);
    w.sb.s3().create_bucket().bucket("strict-trail").send().await.unwrap();
    let trail_arn = format!("arn:aws:cloudtrail:us-east-1:{mgmt}:trail/strict-t");
    let group = format!("arn:aws:logs:us-east-1:{mgmt}:log-group:g:*");
    let create = |group: String, role: String| ct.create_trail().name("strict-t").s3_bucket_name("strict-trail").cloud_watch_logs_log_group_arn(group).cloud_watch_logs_role_arn(role).send();

    let good_role = create_role(&iam, "to-logs", &cloudtrail_trust("cloudtrail.amazonaws.com", &trail_arn)).await;
    let wrong_service = create_role(&iam, "ec2-role", &cloudtrail_trust("ec2.amazonaws.com", &trail_arn)).await;
    let other_trail = create_role(&iam, "other-trail", &cloudtrail_trust("cloudtrail.amazonaws.com", &format!("arn:aws:cloudtrail:us-east-1:{mgmt}:trail/other"))).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await; // past the emulator's IAM propagation delay
    // The log group does not exist yet.
    assert_eq!(code(&create(group.clone(), good_role.clone()).await.unwrap_err()), "InvalidCloudWatchLogsLogGroupArnException");
    logs.create_log_group().log_group_name("g").send().await.unwrap();
    // A log group of another account, even one that exists.
    let member_logs = a.logs(&a.session(&m));
    member_logs.create_log_group().log_group_name("g").send().await.unwrap();
    assert_eq!(code(&create(format!("arn:aws:logs:us-east-1:{m}:log-group:g:*"), good_role.clone()).await.unwrap_err()), "InvalidCloudWatchLogsLogGroupArnException");
    // Roles: missing, trusting another service, trusting CloudTrail for another trail, of another account.
    for role in [format!("arn:aws:iam::{mgmt}:role/missing"), wrong_service, other_trail, format!("arn:aws:iam::{m}:role/to-logs")] {
        assert_eq!(code(&create(group.clone(), role.clone()).await.unwrap_err()), "InvalidCloudWatchLogsRoleArnException", "{role}");
    }
    // A role made a moment ago: refused until IAM has propagated it, as on AWS.
    let fresh = create_role(&iam, "fresh", &cloudtrail_trust("cloudtrail.amazonaws.com", &trail_arn)).await;
    assert_eq!(code(&create(group.clone(), fresh.clone()).await.unwrap_err()), "InvalidCloudWatchLogsRoleArnException");
    let made = create(group.clone(), good_role.clone()).await.unwrap();
    assert_eq!(made.cloud_watch_logs_role_arn.as_deref(), Some(good_role.as_str()));
    // UpdateTrail checks the same (by ARN, as orgtrail calls it).
    let update = ct.update_trail().name(&trail_arn).cloud_watch_logs_log_group_arn(format!("arn:aws:logs:us-east-1:{mgmt}:log-group:none:*")).cloud_watch_logs_role_arn(&good_role).send().await;
    assert_eq!(code(&update.unwrap_err()), "InvalidCloudWatchLogsLogGroupArnException");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    ct.update_trail().name(&trail_arn).cloud_watch_logs_log_group_arn(&group).cloud_watch_logs_role_arn(&fresh).send().await.expect("propagated now");
}

/// (logs-kms-check) CreateLogGroup and AssociateKmsKey with a KMS key that does not exist or is
/// disabled fail with InvalidParameterException (CloudWatch Logs API reference); an enabled key of
/// another account (the log-archive key's case) is accepted. moto accepts any key id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fidelity_log_group_kms_key_must_exist_and_be_enabled() {
    let w = World::new(1, |c| c).await;
    let a = aws(&w.sb);
    let kms = a.kms(&a.session(w.la()));
    let enabled = kms.create_key().send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    let disabled = kms.create_key().send().await.unwrap().key_metadata.unwrap();
    // By key id: moto 5.2.5's DisableKey fails (HTTP 500) on a key ARN.
    kms.disable_key().key_id(disabled.key_id()).send().await.unwrap();
    let disabled = disabled.arn.unwrap();
    let missing = format!("arn:aws:kms:us-east-1:{}:key/00000000-0000-0000-0000-000000000000", w.la());
    let logs = aws_sdk_cloudwatchlogs::Client::new(&w.sb.conf);
    let logs_code = |e: &dyn ProvideErrorMetadata| e.code().unwrap_or("(no code)").to_string();
    for key in [&missing, &disabled] {
        let e = logs.create_log_group().log_group_name("k").kms_key_id(key).send().await.unwrap_err();
        assert_eq!(logs_code(e.as_service_error().unwrap()), "InvalidParameterException", "{key}");
    }
    logs.create_log_group().log_group_name("k").send().await.unwrap();
    for key in [&missing, &disabled] {
        let e = logs.associate_kms_key().log_group_name("k").kms_key_id(key).send().await.unwrap_err();
        assert_eq!(logs_code(e.as_service_error().unwrap()), "InvalidParameterException", "{key}");
    }
    logs.associate_kms_key().log_group_name("k").kms_key_id(&enabled).send().await.unwrap();
    logs.create_log_group().log_group_name("k2").kms_key_id(&enabled).send().await.unwrap();
    let g = logs.describe_log_groups().log_group_name_prefix("k").send().await.unwrap();
    assert!(g.log_groups().iter().all(|g| g.kms_key_id() == Some(enabled.as_str())), "{g:?}");
}

/// (a) A new multi-region trail takes its name in every region (its shadows), so it collides with a
/// same-name single-region trail homed in another region: TrailAlreadyExistsException, and the
/// single-region trail is untouched. moto creates both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fidelity_multi_region_trail_collides_with_a_single_region_trail_elsewhere() {
    let w = World::new(1, |c| c).await;
    w.sb.s3().create_bucket().bucket("strict-collide").send().await.unwrap();
    let west = aws_sdk_cloudtrail::Client::new(&w.sb.conf.to_builder().region(aws_config::Region::new("eu-west-1")).build());
    west.create_trail().name("same-name").s3_bucket_name("strict-collide").send().await.unwrap();
    let east = aws_sdk_cloudtrail::Client::new(&w.sb.conf);
    let err = east.create_trail().name("same-name").s3_bucket_name("strict-collide").is_multi_region_trail(true).send().await.unwrap_err();
    assert_eq!(code(&err), "TrailAlreadyExistsException");
    let listed = east.list_trails().send().await.unwrap().trails.unwrap_or_default();
    let same: Vec<_> = listed.iter().filter(|t| t.name.as_deref() == Some("same-name")).map(|t| t.home_region.clone().unwrap_or_default()).collect();
    assert_eq!(same, vec!["eu-west-1".to_string()]);
    // A single-region trail of that name in a third region is its own (no shadow collides).
    aws_sdk_cloudtrail::Client::new(&w.sb.conf.to_builder().region(aws_config::Region::new("us-west-2")).build()).create_trail().name("same-name").s3_bucket_name("strict-collide").send().await.unwrap();
}
