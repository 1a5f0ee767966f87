//! Issue 17: the whole rollout from a CloudTrail delegated administrator, end to end, with the real
//! binary against the patched emulator (fidelity patches h, i, j). `orgtrail delegate` registers
//! the administrator with the management account's credentials; everything after runs with the
//! administrator's own base credentials (an AssumeRole into it, as a security account's SSO role
//! would be), and the emulator's request log proves no call used management-account credentials.
use std::collections::BTreeMap;
use std::process::Output;

use orgtrail_tests::harness::{assumed_env, failing, json, json_ok, requests_by_account, requests_since, stderr, stdout};
use orgtrail_tests::Sandbox;
use serde_json::Value;

type Requests = BTreeMap<String, BTreeMap<String, u64>>;

/// A sandbox whose config names `members[0]` (the "security" account) as delegated administrator;
/// MFA Delete off so a run converges without a root user.
async fn sandbox(members: usize) -> (Sandbox, String) {
    let sb = Sandbox::new(members).await.unwrap();
    let admin = sb.org.members[0].id.clone();
    sb.edit_config(|c| c.mfa_delete(false).delegated_admin(&admin));
    (sb, admin)
}

/// `orgtrail ARGS` with the credentials in `env` (none: the management account's).
fn run(sb: &Sandbox, env: &[(&'static str, String)], args: &[&str]) -> Output {
    sb.command(args).envs(env.iter().map(|(k, v)| (*k, v.as_str()))).output().expect("running orgtrail")
}

fn actions(changes: &Value) -> Vec<(String, String)> {
    changes.as_array().unwrap().iter().map(|c| (c["resource"].as_str().unwrap().to_string(), c["action"].as_str().unwrap().to_string())).collect()
}

async fn cloudtrail_admins(sb: &Sandbox) -> Vec<String> {
    let out = aws_sdk_organizations::Client::new(&sb.conf).list_delegated_administrators().service_principal("cloudtrail.amazonaws.com").send().await.unwrap();
    out.delegated_administrators.unwrap_or_default().into_iter().filter_map(|a| a.id).collect()
}

async fn trusted_access(sb: &Sandbox) -> bool {
    let out = aws_sdk_organizations::Client::new(&sb.conf).list_aws_service_access_for_organization().send().await.unwrap();
    out.enabled_service_principals().iter().any(|p| p.service_principal() == Some("cloudtrail.amazonaws.com"))
}

/// Requests per account during `f`, from the emulator's log (outside orgtrail).
fn counted<T>(sb: &Sandbox, f: impl FnOnce() -> T) -> (T, Requests) {
    let before = requests_by_account(sb);
    let out = f();
    (out, requests_since(&before, &requests_by_account(sb)))
}

fn total(r: &Requests, account: &str) -> u64 {
    r.get(account).map_or(0, |ops| ops.values().sum())
}

/// Verify from the delegated administrator: exit 0, nothing FAIL or ERROR.
fn assert_verify_clean(sb: &Sandbox, env: &[(&'static str, String)]) -> Value {
    let out = run(sb, env, &["verify", "--json"]);
    let v = json(&out);
    assert!(failing(&v).is_empty(), "verify findings: {v:#}\nstderr: {}", stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegate_is_planned_then_registers_once_and_only_from_the_management_account() {
    let (sb, admin) = sandbox(3).await;
    let mgmt = sb.org.management_account.clone();

    // plan (management credentials) shows the registration beforehand, writing nothing.
    let plan = json_ok(&run(&sb, &[], &["plan", "--json"]));
    let step = plan["steps"].as_array().unwrap().iter().find(|s| s["step"] == "delegated-admin").unwrap_or_else(|| panic!("no delegated-admin step: {plan:#}"));
    assert_eq!(step["target"], mgmt.as_str());
    let manual = step["changes"].as_array().unwrap().iter().find(|c| c["resource"] == format!("cloudtrail-delegated-admin {admin}")).expect("the registration is listed");
    assert_eq!(manual["action"], "manual-action");
    assert!(manual["instructions"].as_str().unwrap().contains(&format!("orgtrail delegate --account {admin}")), "{manual}");
    assert_eq!(plan["api_calls"]["writes"], serde_json::json!({}));

    // --dry-run: the same two changes, nothing written.
    let dry = json_ok(&run(&sb, &[], &["delegate", "--dry-run", "--json"]));
    let expected = vec![("organizations-trusted-access cloudtrail.amazonaws.com".to_string(), "create".to_string()), (format!("cloudtrail-delegated-admin {admin}"), "create".to_string())];
    assert_eq!(actions(&dry["changes"]), expected);
    assert_eq!(dry["api_calls"]["writes"], serde_json::json!({}), "dry run writes nothing");
    assert!(!trusted_access(&sb).await && cloudtrail_admins(&sb).await.is_empty());

    // The account comes from the config's delegated_admin_account.
    let done = json_ok(&run(&sb, &[], &["delegate", "--json"]));
    assert_eq!(actions(&done["changes"]), expected);
    assert_eq!(done["api_calls"]["writes"], serde_json::json!({"CloudTrail.RegisterOrganizationDelegatedAdmin": 1, "Organizations.EnableAWSServiceAccess": 1}));
    assert!(trusted_access(&sb).await);
    assert_eq!(cloudtrail_admins(&sb).await, vec![admin.clone()]);

    // Idempotent: the second run observes, finds nothing to do, writes nothing (counted outside too).
    let (again, seen) = counted(&sb, || run(&sb, &[], &["delegate", "--account", &admin, "--json"]));
    let again = json_ok(&again);
    assert!(actions(&again["changes"]).iter().all(|(_, a)| a == "no-change"), "{again:#}");
    assert_eq!(again["api_calls"]["writes"], serde_json::json!({}));
    let ops: Vec<&String> = seen[&mgmt].keys().collect();
    assert!(ops.iter().all(|op| op.contains(".Describe") || op.contains(".List") || op.contains(".GetCallerIdentity")), "reads only: {ops:?}");
    let plan = json_ok(&run(&sb, &[], &["plan", "--json"]));
    let step = plan["steps"].as_array().unwrap().iter().find(|s| s["step"] == "delegated-admin").unwrap();
    assert!(actions(&step["changes"]).iter().all(|(_, a)| a == "no-change"), "{step:#}");

    // Only the management account registers; never the management account itself.
    let from_admin = run(&sb, &assumed_env(&sb, &admin).await, &["delegate", "--account", &sb.org.members[1].id]);
    assert_eq!(from_admin.status.code(), Some(1), "{}", stderr(&from_admin));
    assert!(stderr(&from_admin).contains(&format!("only the management account {mgmt} registers")), "{}", stderr(&from_admin));
    let itself = run(&sb, &[], &["delegate", "--account", &mgmt]);
    assert_eq!(itself.status.code(), Some(1));
    assert!(stderr(&itself).contains("cannot be its own"), "{}", stderr(&itself));
    let outsider = run(&sb, &[], &["delegate", "--account", "999999999999", "--dry-run"]);
    assert_eq!(outsider.status.code(), Some(1));
    assert!(stderr(&outsider).contains("AccountNotFoundException"), "{}", stderr(&outsider));
    assert_eq!(cloudtrail_admins(&sb).await, vec![admin]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_rollout_from_the_delegated_administrator_uses_no_management_credentials() {
    let (sb, admin) = sandbox(8).await;
    let mgmt = sb.org.management_account.clone();
    json_ok(&run(&sb, &[], &["delegate", "--json"]));
    let env = assumed_env(&sb, &admin).await;

    let (first, seen) = counted(&sb, || run(&sb, &env, &["apply", "--json"]));
    let report = json_ok(&first);
    assert_eq!(report["report"]["outcome"]["outcome"], "converged", "{report:#}");
    println!("requests per account during the delegated rollout: {:?}", seen.iter().map(|(a, ops)| (a.as_str(), ops.values().sum::<u64>())).collect::<Vec<_>>());
    println!("management account {mgmt}: {} requests with its credentials", total(&seen, &mgmt));
    assert_eq!(seen.get(&mgmt), None, "no call with management-account credentials");
    assert!(seen[&admin].contains_key("cloudtrail.CreateTrail") && seen[&admin].contains_key("organizations.ListAccountsForParent"), "{:?}", seen[&admin]);
    assert!(total(&seen, &sb.org.log_archive_account) > 10, "the log archive converged through its role: {seen:?}");
    for m in &sb.org.members[1..] {
        assert!(total(&seen, &m.id) > 0, "member {} checked through its role", m.id);
    }

    // The organization trail belongs to the management account and logs; the administrator owns none.
    let arn = format!("arn:aws:cloudtrail:us-east-1:{mgmt}:trail/orgtrail");
    let ct_mgmt = aws_sdk_cloudtrail::Client::new(&sb.conf);
    let t = ct_mgmt.get_trail().name("orgtrail").send().await.unwrap().trail.unwrap();
    assert_eq!((t.trail_arn.as_deref(), t.is_organization_trail, t.log_file_validation_enabled), (Some(arn.as_str()), Some(true), Some(true)));
    assert_eq!(ct_mgmt.get_trail_status().name("orgtrail").send().await.unwrap().is_logging, Some(true));
    let ct_admin = aws_sdk_cloudtrail::Client::new(&orgtrail_tests::harness::assumed_conf(&sb, &admin).await);
    assert!(ct_admin.describe_trails().include_shadow_trails(false).send().await.unwrap().trail_list.unwrap_or_default().is_empty(), "no trail of its own");

    let v = assert_verify_clean(&sb, &env);
    let org_trail_findings = v["findings"].as_array().unwrap().iter().filter(|f| f["control"] == "CloudTrail.1" && f["status"] == "PASS").count();
    assert!(org_trail_findings >= 1, "{v:#}");

    // A second apply writes nothing, and still uses no management credentials.
    let (second, seen) = counted(&sb, || run(&sb, &env, &["apply", "--json"]));
    let second = json_ok(&second);
    assert_eq!(second["api_calls"]["writes"], serde_json::json!({}), "{second:#}");
    assert_eq!(seen.get(&mgmt), None);

    // Drift, made by someone in the management account: stopped, validation off, selectors changed.
    ct_mgmt.stop_logging().name("orgtrail").send().await.unwrap();
    ct_mgmt.update_trail().name("orgtrail").enable_log_file_validation(false).send().await.unwrap();
    let out = run(&sb, &env, &["verify", "--json"]);
    assert_eq!(out.status.code(), Some(1), "verify sees the drift: {}", stdout(&out));

    let (repair, seen) = counted(&sb, || run(&sb, &env, &["apply", "--new-run", "--json"]));
    let repair = json_ok(&repair);
    let writes = &repair["api_calls"]["writes"];
    assert_eq!((writes["CloudTrail.UpdateTrail"].as_u64(), writes["CloudTrail.StartLogging"].as_u64()), (Some(1), Some(1)), "{writes}");
    assert_eq!(seen.get(&mgmt), None, "repaired from the delegated administrator, by ARN");
    assert!(seen[&admin].contains_key("cloudtrail.UpdateTrail"));
    let t = ct_mgmt.get_trail().name("orgtrail").send().await.unwrap().trail.unwrap();
    assert_eq!(t.log_file_validation_enabled, Some(true));
    assert_eq!(ct_mgmt.get_trail_status().name("orgtrail").send().await.unwrap().is_logging, Some(true));
    assert_verify_clean(&sb, &env);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delegated_run_without_registration_or_trusted_access_refuses_with_the_command() {
    let (sb, admin) = sandbox(3).await;
    let mgmt = sb.org.management_account.clone();
    let env = assumed_env(&sb, &admin).await;
    let command = format!("orgtrail delegate --account {admin}");
    let no_trail = || async { aws_sdk_cloudtrail::Client::new(&sb.conf).describe_trails().send().await.unwrap().trail_list.unwrap_or_default().is_empty() };

    // Not registered: Organizations refuses it the organization, orgtrail names the fix.
    let out = run(&sb, &env, &["apply"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains(&command) && stderr(&out).contains(&format!("management account {mgmt}")), "{}", stderr(&out));
    assert!(no_trail().await);

    // Registered, then trusted access turned off in the management account: the trusted-access
    // step refuses (a plan shows a manual action) and the trail is not created.
    json_ok(&run(&sb, &[], &["delegate", "--json"]));
    aws_sdk_organizations::Client::new(&sb.conf).disable_aws_service_access().service_principal("cloudtrail.amazonaws.com").send().await.unwrap();
    let plan = json(&run(&sb, &env, &["plan", "--json"]));
    let step = plan["steps"].as_array().unwrap().iter().find(|s| s["step"] == "trusted-access").unwrap();
    assert_eq!(step["changes"][0]["action"], "manual-action", "{step:#}");
    assert!(step["changes"][0]["instructions"].as_str().unwrap().contains(&command));

    let out = run(&sb, &env, &["apply", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(text.contains("trusted access for cloudtrail.amazonaws.com is not enabled") && text.contains(&command), "{text}");
    assert!(no_trail().await, "no trail without trusted access");

    // The management account fixes it with the printed command; the delegated run converges.
    let fixed = json_ok(&run(&sb, &[], &["delegate", "--json"]));
    assert_eq!(actions(&fixed["changes"]), vec![("organizations-trusted-access cloudtrail.amazonaws.com".to_string(), "create".to_string()), (format!("cloudtrail-delegated-admin {admin}"), "no-change".to_string())]);
    let report = json_ok(&run(&sb, &env, &["apply", "--json"]));
    assert_eq!(report["report"]["outcome"]["outcome"], "converged");
    assert!(!no_trail().await);
}

/// docs/delegated-admin.md, "moving an existing rollout": a trail orgtrail created from the management
/// account is taken over by the delegated administrator as it is (same ARN, never recreated or
/// stopped): the first delegated apply writes nothing at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_management_rollout_moves_to_the_delegated_admin_without_a_write() {
    let (sb, admin) = sandbox(4).await;
    let mgmt = sb.org.management_account.clone();
    let report = json_ok(&run(&sb, &[], &["apply", "--json"]));
    assert_eq!(report["report"]["outcome"]["outcome"], "converged");
    let ct_mgmt = aws_sdk_cloudtrail::Client::new(&sb.conf);
    let started = ct_mgmt.get_trail_status().name("orgtrail").send().await.unwrap().start_logging_time;
    assert!(started.is_some());

    json_ok(&run(&sb, &[], &["delegate", "--json"]));
    let env = assumed_env(&sb, &admin).await;
    let plan = json_ok(&run(&sb, &env, &["plan", "--json"]));
    let org_trail = plan["steps"].as_array().unwrap().iter().find(|s| s["step"] == "org-trail").unwrap();
    assert_eq!(actions(&org_trail["changes"]), vec![(format!("cloudtrail-trail arn:aws:cloudtrail:us-east-1:{mgmt}:trail/orgtrail"), "no-change".to_string())]);

    let (moved, seen) = counted(&sb, || run(&sb, &env, &["apply", "--json"]));
    let moved = json_ok(&moved);
    assert_eq!(moved["report"]["outcome"]["outcome"], "converged");
    assert_eq!(moved["api_calls"]["writes"], serde_json::json!({}), "taken over as it is: {moved:#}");
    assert_eq!(seen.get(&mgmt), None);
    let status = ct_mgmt.get_trail_status().name("orgtrail").send().await.unwrap();
    assert_eq!((status.is_logging, status.start_logging_time), (Some(true), started), "never stopped or restarted");
    assert_verify_clean(&sb, &env);
}

/// Detection without the SCP (an organization policy, the management account's to attach).
const DETECTION: &str = r#"
[trail.cloudwatch_logs]
retention_days = 365

[trail.insights]
api_call_rate = true

[monitoring]
alarms = "cis"
sns_topic = "orgtrail-alarms"
"#;

/// "Both the CloudWatch Logs log group and log role must exist in the calling account": from a
/// delegated administrator the log group, its role, the alarms and their topic are built in the
/// administrator's own account, the management account's trail points at them, nothing is made or
/// called with management-account credentials (the emulator's request log), verify is clean, and
/// the administrator never sends IsOrganizationTrail (the emulator refuses it: delegated-org-flag).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detection_from_the_delegated_administrator_lives_in_its_own_account() {
    let (sb, admin) = sandbox(3).await;
    let mgmt = sb.org.management_account.clone();
    sb.edit_config(|c| c.merge(DETECTION));
    json_ok(&run(&sb, &[], &["delegate", "--json"]));
    let env = assumed_env(&sb, &admin).await;

    let (first, seen) = counted(&sb, || run(&sb, &env, &["apply", "--json"]));
    let report = json_ok(&first);
    assert_eq!(report["report"]["outcome"]["outcome"], "converged", "{report:#}");
    assert_eq!(seen.get(&mgmt), None, "no call with management-account credentials");
    assert!(seen[&admin].contains_key("logs.CreateLogGroup") && seen[&admin].contains_key("iam.CreateRole"), "{:?}", seen[&admin]);

    let group = "/aws/cloudtrail/orgtrail";
    let arn = format!("arn:aws:cloudtrail:us-east-1:{mgmt}:trail/orgtrail");
    let t = aws_sdk_cloudtrail::Client::new(&sb.conf).get_trail().name(&arn).send().await.unwrap().trail.unwrap();
    assert_eq!(t.cloud_watch_logs_log_group_arn.as_deref(), Some(format!("arn:aws:logs:us-east-1:{admin}:log-group:{group}:*").as_str()));
    assert_eq!(t.cloud_watch_logs_role_arn.as_deref(), Some(format!("arn:aws:iam::{admin}:role/orgtrail-cloudtrail-to-logs").as_str()));
    let admin_conf = orgtrail_tests::harness::assumed_conf(&sb, &admin).await;
    let groups = |conf: aws_config::SdkConfig| async move {
        let out = aws_sdk_cloudwatchlogs::Client::new(&conf).describe_log_groups().log_group_name_prefix(group).send().await.unwrap();
        out.log_groups().iter().filter_map(|g| g.log_group_name().map(str::to_string)).collect::<Vec<_>>()
    };
    assert_eq!(groups(admin_conf.clone()).await, vec![group.to_string()]);
    assert!(groups(sb.conf.clone()).await.is_empty(), "nothing in the management account");
    let alarms = aws_sdk_cloudwatch::Client::new(&admin_conf).describe_alarms().alarm_name_prefix("orgtrail-cis-").send().await.unwrap();
    assert_eq!(alarms.metric_alarms().len(), 15);
    assert!(alarms.metric_alarms().iter().all(|a| a.alarm_actions() == [format!("arn:aws:sns:us-east-1:{admin}:orgtrail-alarms")]));

    // The administrator may not change IsOrganizationTrail, even to its current value.
    let flag = aws_sdk_cloudtrail::Client::new(&admin_conf).update_trail().name(&arn).is_organization_trail(true).send().await.unwrap_err();
    assert_eq!(aws_sdk_cloudtrail::error::ProvideErrorMetadata::code(&flag), Some("NotOrganizationMasterAccountException"));

    let (_, seen) = counted(&sb, || assert_verify_clean(&sb, &env));
    assert_eq!(seen.get(&mgmt), None, "verify reads nothing with management-account credentials");
    let (second, seen) = counted(&sb, || run(&sb, &env, &["apply", "--new-run", "--json"]));
    assert_eq!(json_ok(&second)["api_calls"]["writes"], serde_json::json!({}));
    assert_eq!(seen.get(&mgmt), None);
}
