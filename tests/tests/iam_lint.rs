//! Every IAM document orgtrail renders or documents, linted from outside by parliament (PyPI,
//! pinned, with its community auditors; installed into .venv-parliament by
//! scripts/bootstrap-parliament.sh): the member role's trust and policies from `render-bootstrap`
//! in both formats (organization and account mode), the management-account and
//! delegated-administrator policies of templates/iam as docs/iam.md has an operator fill them in,
//! the CloudWatch Logs role's trust and policy, and the tamper-protection SCP. Every finding must be
//! listed in docs/iam.md ("What parliament reports, and why it stays") with its reason; a new
//! finding, or a listed one parliament no longer reports, fails the test.
#[path = "iam_docs/mod.rs"]
mod iam_docs;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use iam_docs::*;
use orgtrail::policy::{render_logs_role_policy, render_logs_role_trust, render_scp, ScpContext};
use orgtrail_tests::emulator::workspace_root;
use orgtrail_tests::harness::stderr;
use serde_json::Value;

const PIN: &str = "parliament==1.6.4";
const LIST_HEADING: &str = "### What parliament reports, and why it stays";

fn venv() -> PathBuf {
    let root = workspace_root();
    let out = Command::new(root.join("scripts/bootstrap-parliament.sh")).output().expect("running scripts/bootstrap-parliament.sh");
    assert!(out.status.success(), "bootstrap-parliament.sh failed: {}", stderr(&out));
    root.join(".venv-parliament")
}

fn scp_context() -> ScpContext {
    ScpContext {
        partition: "aws".into(),
        org_id: "o-abc123def4".into(),
        management_account: MGMT.into(),
        log_archive_account: LA.into(),
        home_region: "us-east-1".into(),
        trail_arn: format!("arn:aws:cloudtrail:us-east-1:{MGMT}:trail/orgtrail"),
        key_arn: format!("arn:aws:kms:us-east-1:{LA}:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        bucket: BUCKET.into(),
        access_log_bucket: ACCESS_BUCKET.into(),
        admin_role_arns: vec![format!("arn:aws:iam::{LA}:role/{ROLE}"), format!("arn:aws:iam::{LA}:role/BreakGlass*")],
        log_group_arn: format!("arn:aws:logs:us-east-1:{MGMT}:log-group:/aws/cloudtrail/orgtrail"),
        topic_arn: format!("arn:aws:sns:us-east-1:{MGMT}:orgtrail-alarms"),
    }
}

/// (name, document) for every document in scope; both bootstrap formats must carry the same documents.
fn documents(python: &std::path::Path) -> Vec<(String, Value)> {
    let dir = tempfile::tempdir().unwrap();
    let mut docs = Vec::new();
    for account_mode in [false, true] {
        let config = bootstrap_config(account_mode);
        let json_form: Value = serde_json::from_str(&render_bootstrap(dir.path(), &config, "json")).unwrap();
        let yaml_form = yaml_to_json(python, &render_bootstrap(dir.path(), &config, "yaml"));
        let (from_json, from_yaml) = (bootstrap_documents(&json_form), bootstrap_documents(&yaml_form));
        assert_eq!(from_json, from_yaml, "render-bootstrap's YAML and JSON forms carry the same documents");
        for (name, mut doc) in from_json.into_iter().chain(from_yaml) {
            resolve_refs(&mut doc);
            docs.push((name, doc));
        }
    }
    docs.push(("management-account.json".into(), filled("management-account.json")));
    docs.push(("delegated-admin-account.json".into(), filled("delegated-admin-account.json")));
    let ctx = scp_context();
    docs.push(("CloudWatch Logs role trust".into(), render_logs_role_trust(&ctx).unwrap()));
    docs.push(("CloudWatch Logs role policy".into(), render_logs_role_policy(&ctx).unwrap()));
    docs.push(("tamper-protection SCP".into(), render_scp(&ctx).unwrap()));
    for (name, doc) in &docs {
        assert!(!doc.to_string().contains("_comment"), "{name}: a template comment reached the document");
    }
    docs
}

/// parliament's findings on one document, each as `ISSUE: what` (the actions or detail it names).
fn lint(venv: &std::path::Path, doc: &Value) -> Vec<String> {
    let mut child = Command::new(venv.join("bin/parliament"))
        .args(["--include-community-auditors", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("parliament");
    child.stdin.take().unwrap().write_all(doc.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.code().is_some_and(|c| c <= 1), "parliament failed: {}{}", text, stderr(&out));
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| finding_key(&serde_json::from_str(l).unwrap_or_else(|e| panic!("parliament printed {l:?}: {e}")))).collect()
}

fn finding_key(f: &Value) -> String {
    // "Possible resource policy privilege escalation on ARN due to ...": one finding per resource.
    if let Some(on) = f["detail"].as_str().and_then(|d| d.split(" on ").nth(1)).and_then(|d| d.split(" due to ").next()) {
        return format!("{}: {on}", f["issue"].as_str().unwrap());
    }
    let mut what: Vec<String> = match (&f["location"]["actions"], &f["detail"]) {
        (Value::Array(actions), _) => actions.iter().map(|a| a.as_str().unwrap().to_string()).collect(),
        (_, Value::Array(items)) => items.iter().map(|i| i.as_str().map(str::to_string).unwrap_or_else(|| i["action"].as_str().unwrap_or_default().to_string())).collect(),
        (_, Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => vec![f["location"]["string"].as_str().unwrap_or_default().to_string()],
    };
    what.sort();
    format!("{}: {}", f["issue"].as_str().unwrap(), what.join(", "))
}

/// docs/iam.md's list: `| document | finding | why |` rows under LIST_HEADING.
fn listed() -> BTreeSet<(String, String)> {
    let doc = std::fs::read_to_string(workspace_root().join("docs/iam.md")).unwrap();
    let section = doc.split(LIST_HEADING).nth(1).unwrap_or_default();
    section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(|c| c.trim().trim_matches('`')).collect();
            (cells[0].to_string(), cells[1].to_string())
        })
        .collect()
}

#[test]
fn parliament_reports_only_the_findings_docs_iam_md_explains() {
    let venv = venv();
    let docs = documents(&venv.join("bin/python"));
    let mut found = BTreeSet::new();
    for (name, doc) in &docs {
        for key in lint(&venv, doc) {
            found.insert((name.clone(), key));
        }
    }
    let listed = listed();
    let unexplained: Vec<String> = found.difference(&listed).map(|(d, k)| format!("| {d} | `{k}` | (why it stays) |")).collect();
    let stale: Vec<String> = listed.difference(&found).map(|(d, k)| format!("{d}: {k}")).collect();
    let names: BTreeSet<&String> = docs.iter().map(|(n, _)| n).collect();
    println!(
        "{PIN} (community auditors): {} documents linted ({} distinct), {} findings, {} listed in docs/iam.md with why they stay, {} unexplained, {} stale",
        docs.len(),
        names.len(),
        found.len(),
        found.intersection(&listed).count(),
        unexplained.len(),
        stale.len()
    );
    assert!(unexplained.is_empty(), "parliament findings docs/iam.md does not explain (fix them, or add the row under {LIST_HEADING:?}):\n{}", unexplained.join("\n"));
    assert!(stale.is_empty(), "docs/iam.md lists findings parliament no longer reports (remove them):\n{}", stale.join("\n"));
}

/// The linter is not silent: a policy of the test's own with a known defect is reported.
#[test]
fn parliament_reports_a_known_defect() {
    let venv = venv();
    let bad = serde_json::json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket" }] });
    assert_eq!(lint(&venv, &bad), vec!["RESOURCE_MISMATCH: s3:GetObject".to_string()]);
}
