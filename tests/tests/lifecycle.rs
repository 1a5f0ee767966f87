//! Issue 11: the run lifecycle, end to end with the real binaries against the emulator. A run whose
//! steps all ended done or needs-manual-action is finished, so the next plain `apply` starts a new
//! run and repairs drift; refusals are found before the first write; central accounts outside
//! the organization are bad input naming the config line.
use std::collections::{BTreeMap, BTreeSet};

use orgtrail_tests::harness::{changes, failing, findings, orgtrail_json, stderr, Operator};
use orgtrail_tests::Sandbox;
use serde_json::{json, Value};

/// Control ids with FAIL or ERROR findings, and the status of the MFA Delete control.
fn verify(sb: &Sandbox) -> (BTreeSet<String>, String) {
    let (_, v) = orgtrail_json(sb, &["verify"]);
    let mfa = findings(&v).iter().find(|f| f["control"] == "CIS.2.1.2").map(|f| f["status"].as_str().unwrap().to_string()).unwrap_or_default();
    (failing(&v), mfa)
}

fn writes(report: &Value) -> Value {
    report["api_calls"]["writes"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_left_with_mfa_delete_is_finished_and_the_next_apply_repairs_drift() {
    // The default config: mfa_delete = true, which only the root user can turn on.
    let sb = Sandbox::new(3).await.unwrap();
    // From nothing, too: what the first plan shows is what the first apply does.
    let (_, plan) = orgtrail_json(&sb, &["plan"]);
    let (code, first) = orgtrail_json(&sb, &["apply"]);
    assert_eq!(code, 3, "only MFA Delete left: {first:#}");
    let planned: BTreeMap<String, String> = changes(&plan["steps"]).into_iter().map(|(k, v)| (k.replace(" (KMS key alias/orgtrail: created by kms-key step)", ""), v)).collect();
    assert_eq!(changes(&first["report"]["central"]), planned, "the first apply did what the first plan said");
    assert_eq!(first["report"]["outcome"], json!({"outcome": "converged", "manual_actions": 1}));
    assert_eq!((first["report"]["open"].clone(), first["report"]["why"].clone()), (json!(false), json!("converged, 1 manual action left")));

    // Behind orgtrail's back: the trail stopped, key rotation off.
    let op = Operator::new(&sb);
    op.cloudtrail().stop_logging().name(&op.trail_arn).send().await.unwrap();
    op.kms().disable_key_rotation().key_id(op.key_id().await).send().await.unwrap();

    let (code, plan) = orgtrail_json(&sb, &["plan"]);
    assert_eq!(code, 0, "{plan:#}");
    let planned = changes(&plan["steps"]);
    let trail = format!("org-trail cloudtrail-trail {}", op.trail_arn);
    let mfa = format!("mfa-delete s3-bucket {} mfa-delete", op.bucket);
    assert_eq!(planned.keys().cloned().collect::<BTreeSet<_>>(), BTreeSet::from([trail.clone(), "kms-key kms-key alias/orgtrail".into(), mfa.clone()]), "{planned:#?}");
    assert_eq!(planned[&trail], "update: IsLogging");
    assert_eq!(planned["kms-key kms-key alias/orgtrail"], "update: rotation");
    assert_eq!(plan["resume"]["open"], false, "the finished run is not resumed: {:#}", plan["resume"]);
    assert_eq!(plan["api_calls"]["writes"], json!({}));

    // A plain apply: a new run, which observes everything and writes exactly what plan showed.
    let (code, second) = orgtrail_json(&sb, &["apply"]);
    assert_eq!(code, 3, "again only MFA Delete left: {second:#}");
    assert_eq!((second["report"]["run"].clone(), second["report"]["resumed"].clone()), (json!("run-2"), json!(false)));
    assert_eq!(changes(&second["report"]["central"]), planned, "apply did what plan said");
    assert_eq!(writes(&second), json!({"CloudTrail.StartLogging": 1, "KMS.EnableKeyRotation": 1}));
    assert_eq!(second["report"]["outcome"], json!({"outcome": "converged", "manual_actions": 1}));
    let manual: Vec<&Value> = second["report"]["central"].as_array().unwrap().iter().filter(|c| c["status"]["status"] == "needs-manual-action").collect();
    assert_eq!(manual.len(), 1);
    assert_eq!(manual[0]["step"], "mfa-delete");

    let (failing, mfa_status) = verify(&sb);
    assert_eq!(failing, BTreeSet::new(), "verify clean");
    assert_eq!(mfa_status, "MANUAL");
    let (_, plan) = orgtrail_json(&sb, &["plan"]);
    assert_eq!(changes(&plan["steps"]).into_keys().collect::<Vec<_>>(), vec![mfa], "no change left but MFA Delete");

    // status: both runs finished, and why.
    let (_, st) = orgtrail_json(&sb, &["status"]);
    for r in st["runs"].as_array().unwrap() {
        assert_eq!((r["open"].clone(), r["why"].clone()), (json!(false), json!("converged, 1 manual action left")), "{r}");
    }
    let table = sb.orgtrail(&["status"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("STATE") && text.contains("finished") && text.contains("converged, 1 manual action left"), "{text}");

    // A finished run never blocks a config change: the next apply is a new run with the new config.
    sb.edit_config(|c| c.add("log_archive.tags.cost-center", "audit"));
    let (code, third) = orgtrail_json(&sb, &["apply"]);
    assert_eq!(code, 3, "{third:#}");
    assert_eq!(third["report"]["run"], "run-3");
    assert_eq!(writes(&third), json!({"KMS.TagResource": 1, "S3.PutBucketTagging": 2}), "the new tag on the key and both buckets");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restricted_run_stays_open_and_a_config_change_needs_accepting_to_resume_it() {
    let sb = Sandbox::new(3).await.unwrap();
    sb.edit_config(|c| c.mfa_delete(false));
    let canary = sb.org.members[0].id.clone();
    let (code, first) = orgtrail_json(&sb, &["apply", "--accounts", &canary]);
    assert_eq!(code, 0, "{first:#}");
    assert_eq!(first["report"]["outcome"]["outcome"], "restricted", "{first:#}");
    assert_eq!(first["report"]["open"], true);
    let pending = first["report"]["outcome"]["pending_accounts"].as_u64().unwrap();
    assert_eq!(pending, 3, "two members and the log-archive account are still pending");

    // A changed config: resuming the open run needs --accept-config-change.
    sb.edit_config(|c| c.set("log_archive.tags.owner", "security"));
    let (_, plan) = orgtrail_json(&sb, &["plan"]);
    assert_eq!((plan["resume"]["open"].clone(), plan["resume"]["config_changed"].clone()), (json!(true), json!(true)), "{:#}", plan["resume"]);
    let refused = sb.orgtrail(&["apply"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("--accept-config-change"), "{}", stderr(&refused));
    let (code, second) = orgtrail_json(&sb, &["apply", "--accept-config-change"]);
    assert_eq!(code, 0, "{second:#}");
    assert_eq!((second["report"]["run"].clone(), second["report"]["resumed"].clone()), (json!("run-1"), json!(true)));
    assert_eq!(second["report"]["outcome"], json!({"outcome": "converged", "manual_actions": 0}));
    // The canary was done in this run: not redone; the central steps were observed and retagged.
    let done_waves: Vec<(String, u64)> = second["report"]["waves"].as_array().unwrap().iter().map(|w| (w["wave"].as_str().unwrap().to_string(), w["done"].as_u64().unwrap())).collect();
    assert!(!done_waves.iter().any(|(w, _)| w == "canary"), "the canary wave had nothing left: {done_waves:?}");
    assert_eq!(done_waves.iter().map(|(_, n)| n).sum::<u64>(), 3);
    assert_eq!(writes(&second)["S3.PutBucketTagging"], 2, "{:#}", writes(&second));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organization_trail_is_refused_before_any_write() {
    let sb = Sandbox::new(3).await.unwrap();
    let op = Operator::new(&sb);
    // Control Tower's organization trail (landing zone 3.x), with its own bucket.
    let ct_bucket = format!("aws-controltower-logs-{}-us-east-1", op.log_archive);
    op.s3().create_bucket().bucket(&ct_bucket).send().await.unwrap();
    let ct = op.cloudtrail();
    let t = ct.create_trail().name("aws-controltower-BaselineCloudTrail").s3_bucket_name(&ct_bucket).is_organization_trail(true).is_multi_region_trail(true).send().await.unwrap();
    ct.start_logging().name(t.trail_arn().unwrap()).send().await.unwrap();

    let (code, plan) = orgtrail_json(&sb, &["plan"]);
    assert_eq!(code, 1, "{plan:#}");
    let trail_step = plan["steps"].as_array().unwrap().iter().find(|s| s["step"] == "org-trail").unwrap();
    assert_eq!(trail_step["refused"], true, "{trail_step}");
    assert!(trail_step["error"].as_str().unwrap().contains("aws-controltower-BaselineCloudTrail"), "{trail_step}");
    let text = String::from_utf8_lossy(&sb.orgtrail(&["plan"]).stdout).into_owned();
    assert!(text.contains("`apply` would refuse at org-trail before its first write"), "{text}");

    let (code, apply) = orgtrail_json(&sb, &["apply"]);
    assert_eq!(code, 1, "{apply:#}");
    assert_eq!(writes(&apply), json!({}), "refused before the first write");
    assert_eq!(apply["report"]["outcome"], json!({"outcome": "central-failed", "step": "org-trail"}));
    let central = apply["report"]["central"].as_array().unwrap();
    assert_eq!(central.len(), 1, "{central:#?}");
    assert_eq!(central[0]["status"]["error_code"], "Refused");
    // Nothing was made: no key, no log bucket.
    assert!(op.kms().describe_key().key_id("alias/orgtrail").send().await.is_err(), "no key");
    assert!(op.s3().head_bucket().bucket(&op.bucket).send().await.is_err(), "no log bucket");
    let (_, st) = orgtrail_json(&sb, &["status"]);
    assert_eq!((st["runs"][0]["open"].clone(), st["failed"][0]["step"].clone()), (json!(true), json!("org-trail")), "{st:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_archive_account_outside_the_organization_is_bad_input_naming_the_line() {
    let sb = Sandbox::new(1).await.unwrap();
    sb.edit_config(|c| c.set("log_archive.account", "222222222222"));
    let text = std::fs::read_to_string(sb.config_path()).unwrap();
    let line = text.lines().position(|l| l == "account = \"222222222222\"").unwrap() + 1;
    for cmd in ["plan", "apply"] {
        let out = sb.orgtrail(&[cmd]);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(&format!("orgtrail.toml:{line}:11: log_archive.account = \"222222222222\": is not an account of organization {}", sb.org.org_id)), "{cmd}: {err}");
    }
    let op = Operator::new(&sb);
    assert!(op.kms().describe_key().key_id("alias/orgtrail").send().await.is_err(), "nothing applied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_policy_that_would_lock_orgtrail_out_is_refused_before_any_write() {
    let sb = Sandbox::new(3).await.unwrap();
    let la = sb.org.log_archive_account.clone();
    // admin_roles without the role orgtrail runs as in the log-archive account.
    sb.edit_config(|c| c.admin_roles([format!("arn:aws:iam::{la}:role/BreakGlass")]));

    let (code, plan) = orgtrail_json(&sb, &["plan"]);
    assert_eq!(code, 1, "{plan:#}");
    let step = plan["steps"].as_array().unwrap().iter().find(|s| s["step"] == "log-bucket").unwrap();
    assert_eq!(step["refused"], true, "{step}");
    let (code, apply) = orgtrail_json(&sb, &["apply"]);
    assert_eq!(code, 1, "{apply:#}");
    assert_eq!(writes(&apply), json!({}), "refused before the first write: not even the key");
    assert_eq!(apply["report"]["outcome"], json!({"outcome": "central-failed", "step": "log-bucket"}));
    let reason = apply["report"]["central"][0]["status"]["reason"].as_str().unwrap();
    assert!(reason.contains(&format!("arn:aws:iam::{la}:role/OrganizationAccountAccessRole")), "names the principal locked out: {reason}");
    assert!(Operator::new(&sb).kms().describe_key().key_id("alias/orgtrail").send().await.is_err(), "no key");
}
