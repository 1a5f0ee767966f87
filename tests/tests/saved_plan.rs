//! Saved plans end to end, with the real binary against the emulator: `plan --out` then
//! `apply --plan` writes exactly the planned changes (counted in the emulator's own request log),
//! and the same plan after a drift, or after a config change, is refused with nothing written.
use std::collections::BTreeMap;

use orgtrail_tests::harness::{json, json_ok, requests_by_account, requests_since, stderr, Operator};
use orgtrail_tests::Sandbox;
use serde_json::Value;

type Requests = BTreeMap<String, BTreeMap<String, u64>>;

/// The writes among the requests the emulator saw (`s3.PUT?versioning`, `kms.EnableKeyRotation`).
fn writes(requests: &Requests) -> Requests {
    let write = |op: &str| {
        let (service, name) = op.split_once('.').unwrap_or(("", op));
        if service == "s3" {
            return !(name.starts_with("GET") || name.starts_with("HEAD"));
        }
        !["Get", "List", "Describe", "Lookup", "Head"].iter().any(|p| name.starts_with(p)) && name != "AssumeRole"
    };
    requests
        .iter()
        .map(|(a, ops)| (a.clone(), ops.iter().filter(|(op, _)| write(op)).map(|(op, n)| (op.clone(), *n)).collect::<BTreeMap<_, _>>()))
        .filter(|(_, ops)| !ops.is_empty())
        .collect()
}

/// Run orgtrail and return its output with the writes the emulator received meanwhile.
fn run(sb: &Sandbox, args: &[&str]) -> (std::process::Output, Requests) {
    let before = requests_by_account(sb);
    let out = sb.orgtrail(args);
    (out, writes(&requests_since(&before, &requests_by_account(sb))))
}

/// The changes of a plan or an apply report (not "no change"), as `step target resource action`.
fn changed(steps: &Value) -> Vec<String> {
    let mut out: Vec<String> = steps
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["changes"].as_array().cloned().unwrap_or_default().into_iter().map(move |c| (s["step"].clone(), s["target"].clone(), c)))
        .filter(|(_, _, c)| c["action"] != "no-change")
        .map(|(step, target, c)| format!("{} {} {} {}", step.as_str().unwrap(), target.as_str().unwrap(), c["resource"].as_str().unwrap(), c["action"].as_str().unwrap()))
        .collect();
    out.sort();
    out
}

/// `r (X: created by kms-key step) create` → `r create`.
fn without_created_by(change: &str) -> String {
    match (change.find(" ("), change.find("created by")) {
        (Some(open), Some(by)) if open < by => {
            let close = open + change[open..].find(')').unwrap();
            format!("{}{}", &change[..open], &change[close + 1..])
        }
        _ => change.to_string(),
    }
}

async fn converged() -> Sandbox {
    let sb = Sandbox::with_config(3, |c| c.mfa_delete(false)).await.unwrap();
    let first = json_ok(&sb.orgtrail(&["apply", "--json"]));
    assert_eq!(first["report"]["outcome"]["outcome"], "converged", "{first:#}");
    sb
}

async fn disable_rotation(sb: &Sandbox) {
    let op = Operator::new(sb);
    op.kms().disable_key_rotation().key_id(op.key_id().await).send().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_applied_as_is_writes_exactly_its_changes() {
    let sb = converged().await;
    let la = sb.org.log_archive_account.clone();
    let path = sb.config_path().with_file_name("orgtrail.plan.json");
    let path_s = path.display().to_string();
    let (out, w) = run(&sb, &["plan", "--detailed-exitcode"]);
    assert_eq!((out.status.code(), w), (Some(0), Requests::new()), "converged: no changes, exit 0, nothing written; {}", stderr(&out));

    disable_rotation(&sb).await;
    let (out, w) = run(&sb, &["plan", "--out", &path_s, "--detailed-exitcode", "--json"]);
    assert_eq!((out.status.code(), &w), (Some(2), &Requests::new()), "changes pending: exit 2, and plan writes nothing; {}", stderr(&out));
    let planned = json(&out);
    assert_eq!(planned["saved_plan"], path_s.as_str());
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!((&saved["format"], &saved["version"]), (&Value::from("orgtrail-plan"), &Value::from(1)));
    assert_eq!(saved["config"]["fingerprint"].as_str().map(str::len), Some(16), "the config's fingerprint: {saved:#}");
    assert_eq!(changed(&saved["steps"]), vec![format!("kms-key {la} kms-key alias/orgtrail update")], "{saved:#}");
    assert!(saved["steps"].as_array().unwrap().len() > 5, "every observed step is in the plan, unchanged ones too");

    let (out, w) = run(&sb, &["apply", "--plan", &path_s, "--json"]);
    let report = json(&out);
    assert_eq!(out.status.code(), Some(0), "{report:#}\n{}", stderr(&out));
    println!("apply --plan: emulator writes {w:?}; orgtrail's count {}", report["api_calls"]["writes"]);
    assert_eq!(w, Requests::from([(la.clone(), BTreeMap::from([("kms.EnableKeyRotation".to_string(), 1)]))]), "exactly the planned change, nothing else");
    assert_eq!(changed(&report["report"]["central"]), changed(&saved["steps"]), "what apply changed is what was planned");
    assert!(Operator::new(&sb).kms().get_key_rotation_status().key_id(Operator::new(&sb).key_id().await).send().await.unwrap().key_rotation_enabled());

    let (out, w) = run(&sb, &["plan", "--detailed-exitcode"]);
    assert_eq!((out.status.code(), w), (Some(0), Requests::new()), "nothing left to change");

    // Errors are 1 with --detailed-exitcode (2 is "changes pending"), 2 without, as everywhere else.
    let bad = sb.config_path().with_file_name("broken.toml");
    std::fs::write(&bad, "[organization\n").unwrap();
    let bad = bad.display().to_string();
    assert_eq!(sb.orgtrail(&["--config", &bad, "plan", "--detailed-exitcode"]).status.code(), Some(1));
    assert_eq!(sb.orgtrail(&["--config", &bad, "plan"]).status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_is_refused_after_a_drift_or_a_config_change_with_nothing_written() {
    let sb = converged().await;
    let path = sb.config_path().with_file_name("orgtrail.plan.json");
    let path_s = path.display().to_string();
    disable_rotation(&sb).await;
    json_ok(&sb.orgtrail(&["plan", "--out", &path_s, "--json"]));

    // One setting changed on the emulator after the plan: the log bucket's versioning suspended.
    let op = Operator::new(&sb);
    let suspended = aws_sdk_s3::types::VersioningConfiguration::builder().status(aws_sdk_s3::types::BucketVersioningStatus::Suspended).build();
    op.s3().put_bucket_versioning().bucket(&op.bucket).versioning_configuration(suspended).send().await.unwrap();
    let (out, w) = run(&sb, &["apply", "--plan", &path_s]);
    let err = stderr(&out);
    println!("{err}");
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(w, Requests::new(), "nothing written");
    assert!(err.contains("the live state moved") && err.contains(&format!("s3-bucket {}", op.bucket)) && err.contains("planned no change, now update"), "names what moved: {err}");
    assert!(err.contains("hint: make a new plan"), "{err}");

    // A new plan covers both; a config change after it is refused the same way.
    json_ok(&sb.orgtrail(&["plan", "--out", &path_s, "--json"]));
    sb.edit_config(|c| c.set("access.max_concurrency", 16));
    let (out, w) = run(&sb, &["apply", "--plan", &path_s]);
    let err = stderr(&out);
    assert_eq!((out.status.code(), &w), (Some(1), &Requests::new()), "{err}");
    assert!(err.contains("the config changed since the plan") && err.contains("nothing written"), "{err}");

    // Not a plan: bad input, exit 2, nothing written.
    std::fs::write(&path, "{\"format\": \"terraform\"}").unwrap();
    let (out, w) = run(&sb, &["apply", "--plan", &path_s]);
    assert_eq!((out.status.code(), &w), (Some(2), &Requests::new()), "{}", stderr(&out));
    assert!(stderr(&out).contains("not an orgtrail saved plan"), "{}", stderr(&out));
    // Conflicting options are the parser's.
    assert_eq!(sb.orgtrail(&["apply", "--plan", &path_s, "--new-run"]).status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_of_a_new_organization_creates_the_central_resources_and_leaves_the_waves_pending() {
    let sb = Sandbox::with_config(3, |c| c.mfa_delete(false)).await.unwrap();
    let path = sb.config_path().with_file_name("orgtrail.plan.json");
    let path_s = path.display().to_string();
    let planned = json(&sb.orgtrail(&["plan", "--out", &path_s, "--json"]));
    assert_eq!(planned["changes_pending"], true);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(saved["members_observed"], false, "the trail does not exist yet: member steps cannot be observed");
    let (out, w) = run(&sb, &["apply", "--plan", &path_s, "--json"]);
    let report = json(&out);
    assert_eq!(out.status.code(), Some(0), "{report:#}\n{}", stderr(&out));
    assert_eq!(report["report"]["outcome"]["outcome"], "restricted", "the waves wait for the next apply: {report:#}");
    // A plan names what an earlier step creates first (`(KMS key alias/orgtrail: created by kms-key step)`).
    let planned_names: Vec<String> = changed(&saved["steps"]).iter().map(|c| without_created_by(c)).collect();
    assert_eq!(changed(&report["report"]["central"]), planned_names, "what apply changed is what was planned");
    let emulator_writes: u64 = w.values().flat_map(|ops| ops.values()).sum();
    println!("apply --plan on a new organization: {} planned changes, {emulator_writes} writes in the emulator's log", changed(&saved["steps"]).len());
    // The next plain apply resumes the run for the member waves and converges.
    let next = json_ok(&sb.orgtrail(&["apply", "--json"]));
    assert_eq!(next["report"]["outcome"]["outcome"], "converged", "{next:#}");
}
