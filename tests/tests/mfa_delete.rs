//! MFA Delete on every bucket `mfa-delete enable` covers, end to end with the real binaries: with
//! it on the log bucket only, `apply` and `plan` still name the access-log bucket (and only it) and
//! `verify` flags its CIS.2.1.2 finding while passing the log bucket's; once on both, `apply`
//! converges with no manual action and `verify` passes both. The emulator has no root user: an
//! IAM user of the log-archive account stands in (real S3 would refuse it; see iam_user_credentials).
use orgtrail_tests::harness::{changes, findings, iam_user_credentials, orgtrail_json, stderr, stdout, verify_json};
use orgtrail_tests::Sandbox;
use serde_json::{json, Value};

struct Buckets {
    log: String,
    access: String,
}

fn buckets(sb: &Sandbox) -> Buckets {
    let la = orgtrail::config::load(&sb.config_path()).unwrap().log_archive;
    assert!(la.mfa_delete && la.access_logging, "the sandbox config asks for MFA Delete and access logging");
    Buckets { log: la.bucket, access: la.access_log_bucket }
}

/// `orgtrail mfa-delete enable --bucket BUCKET` with the stand-in's credentials.
fn enable(sb: &Sandbox, (id, secret): &(String, String), bucket: &str, code: &str) {
    let serial = format!("arn:aws:iam::{}:mfa/root-account-mfa-device", sb.org.log_archive_account);
    let out = sb
        .command(&["mfa-delete", "enable", "--bucket", bucket, "--mfa-serial", &serial, "--mfa-code", code])
        .env("AWS_ACCESS_KEY_ID", id)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "stdout: {}\nstderr: {}", stdout(&out), stderr(&out));
    assert!(!stdout(&out).contains(code) && !stderr(&out).contains(code), "the MFA code is never printed");
}

/// The `mfa-delete` central result of an `apply --json`.
fn mfa_step(apply: &Value) -> &Value {
    let central = apply["report"]["central"].as_array().unwrap();
    central.iter().find(|c| c["step"] == "mfa-delete").unwrap_or_else(|| panic!("no mfa-delete step: {apply:#}"))
}

/// The CIS.2.1.2 finding on `bucket`.
fn mfa_finding<'v>(v: &'v Value, bucket: &str) -> &'v Value {
    let resource = format!("s3-bucket {bucket}");
    let all: Vec<&Value> = findings(v).iter().filter(|f| f["control"] == "CIS.2.1.2" && f["resource"] == resource.as_str()).collect();
    assert_eq!(all.len(), 1, "one CIS.2.1.2 finding on {bucket}: {v:#}");
    all[0]
}

/// The whitespace-separated words of `text`, without the punctuation around them.
fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().map(|w| w.trim_matches(|c: char| !(c.is_alphanumeric() || c == '-'))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converged_means_mfa_delete_on_the_access_log_bucket_too() {
    let sb = Sandbox::new(3).await.unwrap();
    let b = buckets(&sb);
    let (code, first) = orgtrail_json(&sb, &["apply"]);
    assert_eq!(code, 3, "only MFA Delete left: {first:#}");
    let text = mfa_step(&first)["status"]["instructions"].as_str().unwrap().to_string();
    assert!(words(&text).contains(&b.log.as_str()) && words(&text).contains(&b.access.as_str()), "both buckets lack it: {text}");

    // The log bucket only, as an operator following an older instruction would.
    let stand_in = iam_user_credentials(&sb.emulator.endpoint(), &sb.org.log_archive_account);
    enable(&sb, &stand_in, &b.log, "123456");

    let (code, second) = orgtrail_json(&sb, &["apply"]);
    assert_eq!(code, 3, "not converged while the access-log bucket lacks MFA Delete: {second:#}");
    assert_eq!(second["report"]["outcome"], json!({"outcome": "converged", "manual_actions": 1}));
    let step = mfa_step(&second);
    assert_eq!(step["status"]["status"], "needs-manual-action", "{step:#}");
    let text = step["status"]["instructions"].as_str().unwrap();
    assert!(words(text).contains(&b.access.as_str()), "names the access-log bucket: {text}");
    assert!(!words(text).contains(&b.log.as_str()), "not the log bucket, which has it: {text}");
    assert!(text.lines().any(|l| l.trim().ends_with(&format!("--mfa-code CODE --bucket {}", b.access))), "the exact command: {text}");
    let manual = format!("mfa-delete s3-bucket {} mfa-delete", b.access);
    assert_eq!(changes(&second["report"]["central"]), [(manual.clone(), "manual-action".to_string())].into(), "{second:#}");
    // plan takes the same read-only path.
    let (code, plan) = orgtrail_json(&sb, &["plan"]);
    assert_eq!(code, 0, "{plan:#}");
    assert_eq!(changes(&plan["steps"]), [(manual, "manual-action".to_string())].into(), "{plan:#}");

    let (code, v) = verify_json(&sb);
    assert_eq!(code, 0, "MANUAL does not fail the audit: {v:#}");
    assert_eq!(mfa_finding(&v, &b.log)["status"], "PASS", "{v:#}");
    let access = mfa_finding(&v, &b.access);
    assert_eq!(access["status"], "MANUAL", "{v:#}");
    let evidence = access["evidence"].as_str().unwrap();
    assert!(evidence.contains("MFADelete=Disabled") && evidence.ends_with(&format!("--bucket {}", b.access)), "{evidence}");
    assert_eq!(v["summary"]["manual"], 1, "{v:#}");

    // The next code, on the access-log bucket: converged, and verify passes both.
    enable(&sb, &stand_in, &b.access, "654321");
    let (code, third) = orgtrail_json(&sb, &["apply"]);
    assert_eq!(code, 0, "{third:#}");
    assert_eq!(third["report"]["outcome"], json!({"outcome": "converged", "manual_actions": 0}));
    assert_eq!(mfa_step(&third)["status"]["status"], "done", "{third:#}");
    let mfa_changes = mfa_step(&third)["changes"].as_array().unwrap();
    let observed: Vec<(&str, &str)> = mfa_changes.iter().map(|c| (c["resource"].as_str().unwrap(), c["action"].as_str().unwrap())).collect();
    let (log_res, access_res) = (format!("s3-bucket {} mfa-delete", b.log), format!("s3-bucket {} mfa-delete", b.access));
    assert_eq!(observed, vec![(log_res.as_str(), "no-change"), (access_res.as_str(), "no-change")], "both observed");
    let (code, v) = verify_json(&sb);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!((mfa_finding(&v, &b.log)["status"].clone(), mfa_finding(&v, &b.access)["status"].clone()), (json!("PASS"), json!("PASS")), "{v:#}");
    assert_eq!(v["summary"]["manual"], 0, "{v:#}");
}
