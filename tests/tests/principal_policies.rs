//! Every request orgtrail makes is allowed by the policy docs/iam.md documents for the principal
//! that made it. An end-to-end apply, verify and `verify --to-security-hub` (organization trail,
//! detection on, a delivery topic) runs against the emulator, whose principal log (tests/fidelity/iam.py) records each
//! request by principal ARN, operation and resource; each (principal, action, resource) is then
//! evaluated by the pinned evaluator against that principal's policy alone: the management
//! account's root (the default credentials) against management-account.json, the member role in
//! the log-archive account against log-archive-account.json and member-account.json, in every other
//! account against member-account.json. A request whose resource the log cannot name is checked at
//! the action level (some statement of that policy grants the action). A missing grant, or a
//! principal or action nobody documented, fails. Checking the union of all templates, as
//! iam_templates.rs does, would not see a grant in the wrong document.
#[path = "iam_docs/mod.rs"]
mod iam_docs;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Command, Stdio};

use iam_docs::{action_of, filled_with};
use orgtrail_tests::emulator::workspace_root;
use orgtrail_tests::harness::{assumed_conf, stderr, ConfigEdit, Operator};
use orgtrail_tests::Sandbox;
use serde_json::{json, Value};

/// The role the delegated administrator runs orgtrail as: not the member role of its account, so
/// each request is held to the one document that must grant it.
const RUNNER: &str = "OrgtrailRunner";

type Log = BTreeMap<String, BTreeMap<String, BTreeMap<String, u64>>>;

fn principal_log(sb: &Sandbox) -> Log {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", sb.emulator.port())).unwrap();
    write!(s, "GET /moto-api/fidelity/principals HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    serde_json::from_str(resp.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default()).unwrap_or_else(|e| panic!("the principal log ({e}): {resp}"))
}

/// (principal, operation, resource) requested between `before` and `after`.
fn since(before: &Log, after: &Log) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for (p, ops) in after {
        for (op, resources) in ops {
            for (r, n) in resources {
                let was = before.get(p).and_then(|o| o.get(op)).and_then(|x| x.get(r)).copied().unwrap_or(0);
                if *n > was {
                    out.insert((p.clone(), op.clone(), r.clone()));
                }
            }
        }
    }
    out
}

/// The pinned evaluator's answers, one per row (tests/policy-eval/serve.mjs: a line per request).
fn evaluate(rows: &[Value]) -> Vec<Value> {
    let root = workspace_root();
    assert!(Command::new(root.join("scripts/bootstrap-policy-eval.sh")).status().unwrap().success());
    let mut child = Command::new("node").arg("serve.mjs").current_dir(root.join("tests/policy-eval")).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    for row in rows {
        writeln!(input, "{row}").unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "tests/policy-eval/serve.mjs failed");
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Whether some Allow statement of `policy` names `action` (IAM's `*` wildcard, case-insensitive).
fn grants_action(policy: &Value, action: &str) -> bool {
    let action = action.to_ascii_lowercase();
    let matches = |pattern: &str| glob(pattern.to_ascii_lowercase().as_bytes(), action.as_bytes());
    policy["Statement"].as_array().unwrap().iter().filter(|s| s["Effect"] == "Allow").any(|s| match &s["Action"] {
        Value::String(a) => matches(a),
        Value::Array(list) => list.iter().any(|a| matches(a.as_str().unwrap())),
        _ => false,
    })
}

fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| glob(rest, &text[i..])),
        Some((c, rest)) => text.split_first().is_some_and(|(t, more)| t == c && glob(rest, more)),
    }
}

/// The documented policies for the sandbox's config, and which principal each applies to.
struct Policies {
    management: Value,
    delegated: Value,
    log_archive: Value,
    member: Value,
    mgmt: String,
    la: String,
    admin: Option<String>,
    role: String,
}

impl Policies {
    fn for_sandbox(sb: &Sandbox, admin: Option<&str>) -> Policies {
        let config = ConfigEdit::read(&sb.config_path()).config();
        let (mgmt, la) = (sb.org.management_account.clone(), sb.org.log_archive_account.clone());
        let la_cfg = &config.log_archive;
        let values: Vec<(&str, String)> = vec![
            ("partition", "aws".into()),
            ("management_account", mgmt.clone()),
            ("delegated_admin_account", admin.unwrap_or("777777777777").into()),
            ("log_archive_account", la.clone()),
            ("home_region", config.organization.home_region.clone()),
            ("trail_name", config.trail.name.clone()),
            ("role_name", config.access.role_name.clone()),
            ("bucket", la_cfg.bucket.clone()),
            ("access_log_bucket", la_cfg.access_log_bucket.clone()),
            ("kms_alias", la_cfg.kms_alias.clone()),
            ("access_log_kms_alias", la_cfg.access_log_kms_alias.clone().unwrap_or_else(|| format!("{}-access-logs", la_cfg.kms_alias))),
            ("sns_topic", config.trail.sns_topic.clone().unwrap_or_else(|| "orgtrail-delivery".into())),
            ("cloudwatch_logs_role_arn", format!("arn:aws:iam::{mgmt}:role/orgtrail-cloudtrail-to-logs")),
            ("external_id", "unused".into()),
            ("state_bucket", "orgtrail-state".into()),
            ("state_prefix", "orgtrail".into()),
            ("log_group", config.detection.log_group.as_ref().and_then(|g| g.name.clone()).unwrap_or_else(|| format!("/aws/cloudtrail/{}", config.trail.name))),
        ];
        let member = filled_with("member-account.json", &values);
        let mut log_archive = filled_with("log-archive-account.json", &values);
        log_archive["Statement"].as_array_mut().unwrap().extend(member["Statement"].as_array().unwrap().clone());
        let delegated = filled_with("delegated-admin-account.json", &values);
        Policies { management: filled_with("management-account.json", &values), delegated, log_archive, member, mgmt, la, admin: admin.map(String::from), role: config.access.role_name }
    }

    fn of(&self, principal: &str) -> Option<&Value> {
        let role = format!(":role/{}", self.role);
        if principal == format!("arn:aws:iam::{}:root", self.mgmt) {
            Some(&self.management)
        } else if self.admin.as_ref().is_some_and(|a| principal == format!("arn:aws:iam::{a}:role/{RUNNER}")) {
            Some(&self.delegated)
        } else if principal == format!("arn:aws:iam::{}{role}", self.la) {
            Some(&self.log_archive)
        } else if principal.ends_with(&role) {
            Some(&self.member)
        } else {
            None
        }
    }
}

/// Runs orgtrail `runs` (with the environment `env`) and checks every request they made against
/// the policy of its principal (at least `at_least` distinct requests); returns the failures.
fn check(sb: &Sandbox, policies: &Policies, env: &[(&'static str, String)], runs: &[&[&str]], at_least: usize) -> Vec<String> {
    let before = principal_log(sb);
    for args in runs {
        let out = sb.command(args).envs(env.iter().map(|(k, v)| (*k, v.as_str()))).output().unwrap();
        assert!(out.status.code().is_some_and(|c| c <= 1), "orgtrail {args:?}: {}", stderr(&out));
    }
    let requests = since(&before, &principal_log(sb));
    let mut failures = Vec::new();
    let mut rows = Vec::new();
    let mut asked = Vec::new();
    let mut action_level = 0;
    for (principal, op, resource) in &requests {
        let Some(policy) = policies.of(principal) else {
            failures.push(format!("{principal} made {op} on {resource}: a principal docs/iam.md documents no policy for"));
            continue;
        };
        let Some(action) = action_of(op, resource) else { continue };
        if resource == "*" {
            action_level += 1;
            if !grants_action(policy, &action) {
                failures.push(format!("{principal}: {op} needs {action}, which its policy does not grant"));
            }
            continue;
        }
        let account = principal.split(':').nth(4).unwrap().to_string();
        // The question is what the identity policy allows: the request is evaluated as in the
        // principal's own account (no cross-account resource policy needed), and a KMS key, which
        // grants nothing without a key policy, gets the part of orgtrail's that defers to IAM.
        let resource_policy = resource.contains(":kms:").then(|| json!({ "Version": "2012-10-17", "Statement": [
            { "Sid": "EnableRootAccess", "Effect": "Allow", "Principal": { "AWS": format!("arn:aws:iam::{account}:root") }, "Action": "kms:*", "Resource": "*" }] }));
        let session = if principal.ends_with(":root") { principal.clone() } else { format!("arn:aws:sts::{account}:assumed-role/{}/session", principal.rsplit('/').next().unwrap()) };
        rows.push(json!({ "id": rows.len(), "principal": session, "action": action, "resource": resource, "resource_account": account,
            "context": { "aws:PrincipalArn": principal, "aws:PrincipalAccount": account, "aws:SecureTransport": "true" }, "identity_policies": [policy], "resource_policy": resource_policy }));
        asked.push((principal.clone(), op.clone(), action, resource.clone()));
    }
    for ((principal, op, action, resource), result) in asked.iter().zip(&evaluate(&rows)) {
        if result["decision"] != "Allowed" {
            failures.push(format!("{principal}: {op} ({action}) on {resource}: {} by its documented policy", result["decision"].as_str().unwrap_or_default()));
        }
    }
    let principals: BTreeSet<&String> = requests.iter().map(|(p, _, _)| p).collect();
    println!(
        "{} distinct (principal, operation, resource) requests by {} principals: {} evaluated on their resource, {} at the action level; {} not allowed by the principal's documented policy",
        requests.len(),
        principals.len(),
        rows.len(),
        action_level,
        failures.len()
    );
    assert!(requests.len() >= at_least, "the run made requests: {requests:?}");
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_of_a_management_rollout_is_allowed_by_its_principals_documented_policy() {
    let sb = Sandbox::new(3).await.unwrap();
    sb.edit_config(|c| c.mfa_delete(false).detection().add("trail.sns_topic", "orgtrail-delivery"));
    aws_sdk_securityhub::Client::new(&sb.conf).enable_security_hub().send().await.unwrap();
    let failures = check(&sb, &Policies::for_sandbox(&sb, None), &[], &[&["apply", "--json"], &["verify", "--json"], &TO_SECURITY_HUB], 40);
    assert_security_hub_checked(&sb, &format!("arn:aws:iam::{}:root", sb.org.management_account));
    assert!(failures.is_empty(), "{} requests their principal's policy does not allow:\n{}", failures.len(), failures.join("\n"));
}

/// Base credentials of RUNNER in `admin` (created there, trusting the management account), as the
/// environment orgtrail runs with.
async fn runner_env(sb: &Sandbox, admin: &str) -> Vec<(&'static str, String)> {
    let in_admin = assumed_conf(sb, admin).await;
    let trust = json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": { "AWS": format!("arn:aws:iam::{}:root", sb.org.management_account) }, "Action": "sts:AssumeRole" }] });
    aws_sdk_iam::Client::new(&in_admin).create_role().role_name(RUNNER).assume_role_policy_document(trust.to_string()).send().await.unwrap();
    let out = aws_sdk_sts::Client::new(&sb.conf).assume_role().role_arn(format!("arn:aws:iam::{admin}:role/{RUNNER}")).role_session_name("runner").send().await.unwrap();
    let c = out.credentials.unwrap();
    vec![("AWS_ACCESS_KEY_ID", c.access_key_id), ("AWS_SECRET_ACCESS_KEY", c.secret_access_key), ("AWS_SESSION_TOKEN", c.session_token)]
}

/// A sandbox with a delivery topic and a delegated administrator (the first member) that `delegate`
/// registered, and detection when `detection`; returns the administrator's account.
fn delegated_sandbox(sb: &Sandbox, detection: bool) -> String {
    let admin = sb.org.members[0].id.clone();
    sb.edit_config(|c| {
        let c = c.mfa_delete(false).delegated_admin(&admin).add("trail.sns_topic", "orgtrail-delivery");
        if detection {
            c.detection()
        } else {
            c
        }
    });
    let delegated = sb.orgtrail(&["delegate", "--json"]);
    assert_eq!(delegated.status.code(), Some(0), "{}", stderr(&delegated));
    admin
}

/// `verify --to-security-hub`: into the hub of the account orgtrail runs from.
const TO_SECURITY_HUB: [&str; 4] = ["verify", "--to-security-hub", "--format", "json"];

/// The run reached Security Hub as `principal`: the hub described, orgtrail's earlier findings
/// read back and the findings imported (so their grants were evaluated above).
fn assert_security_hub_checked(sb: &Sandbox, principal: &str) {
    let made: BTreeSet<String> = principal_log(sb).get(principal).map(|ops| ops.keys().cloned().collect()).unwrap_or_default();
    for op in ["securityhub.DescribeHub", "securityhub.GetFindings", "securityhub.BatchImportFindings"] {
        assert!(made.contains(op), "{principal} made no {op}: {made:?}");
    }
}

/// From a delegated administrator with a delivery topic, which it creates in its own account, and
/// its findings imported into its own hub.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_of_a_delegated_rollout_is_allowed_by_its_principals_documented_policy() {
    let sb = Sandbox::new(3).await.unwrap();
    let admin = delegated_sandbox(&sb, false);
    let env = runner_env(&sb, &admin).await;
    aws_sdk_securityhub::Client::new(&assumed_conf(&sb, &admin).await).enable_security_hub().send().await.unwrap();
    let failures = check(&sb, &Policies::for_sandbox(&sb, Some(&admin)), &env, &[&["apply", "--json"], &["verify", "--json"], &TO_SECURITY_HUB], 40);
    assert_security_hub_checked(&sb, &format!("arn:aws:iam::{admin}:role/{RUNNER}"));
    assert!(failures.is_empty(), "{} requests their principal's policy does not allow:\n{}", failures.len(), failures.join("\n"));
}

/// `orgtrail remove --stop-trail` after a fully featured apply (detection, a delivery topic, a
/// delegated administrator registered by `delegate`) and with another organization trail covering
/// the organization: every delete it makes is in the management account's documented policy (the
/// Remove* statements), on orgtrail's own resources, the trail and its delivery topic included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_of_a_removal_is_allowed_by_its_principals_documented_policy() {
    let sb = Sandbox::new(3).await.unwrap();
    let admin = delegated_sandbox(&sb, true);
    let applied = sb.orgtrail(&["apply", "--json"]);
    assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
    Operator::new(&sb).replacement_org_trail("replacement", true).await;
    let policies = Policies::for_sandbox(&sb, Some(&admin));
    let before = principal_log(&sb);
    let failures = check(&sb, &policies, &[], &[&["remove", "--stop-trail", "--json"]], 25);
    let root = format!("arn:aws:iam::{}:root", sb.org.management_account);
    let requests: BTreeSet<(String, String)> = since(&before, &principal_log(&sb)).into_iter().filter(|(p, _, _)| *p == root).map(|(_, op, r)| (op, r)).collect();
    let made: BTreeSet<&str> = requests.iter().map(|(op, _)| op.as_str()).collect();
    for op in ["organizations.DetachPolicy", "organizations.DeletePolicy", "monitoring.DeleteAlarms", "logs.DeleteMetricFilter", "logs.DeleteLogGroup", "iam.DeleteRole", "cloudtrail.DeleteTrail", "sns.ListTagsForResource", "cloudtrail.DeregisterOrganizationDelegatedAdmin"] {
        assert!(made.contains(op), "remove made no {op}: {made:?}");
    }
    for topic in ["orgtrail-alarms", "orgtrail-delivery"] {
        let arn = format!("arn:aws:sns:us-east-1:{}:{topic}", sb.org.management_account);
        assert!(requests.contains(&("sns.DeleteTopic".to_string(), arn.clone())), "remove deleted no {arn}: {requests:?}");
    }
    assert!(failures.is_empty(), "{} requests their principal's policy does not allow:\n{}", failures.len(), failures.join("\n"));
}

/// `orgtrail remove` from the delegated administrator, after its own rollout: its reads and what it
/// leaves to the management account are in delegated-admin-account.json.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_of_a_delegated_removal_is_allowed_by_its_principals_documented_policy() {
    let sb = Sandbox::new(3).await.unwrap();
    let admin = delegated_sandbox(&sb, false);
    let env = runner_env(&sb, &admin).await;
    let failures = check(&sb, &Policies::for_sandbox(&sb, Some(&admin)), &env, &[&["apply", "--json"], &["remove", "--json"]], 40);
    assert!(failures.is_empty(), "{} requests their principal's policy does not allow:\n{}", failures.len(), failures.join("\n"));
}
