//! The first hour, as the README walks it, through the real binary on a fresh folder with no AWS
//! settings: `orgtrail init` says exactly which keys to set, and once they are set as it says,
//! `orgtrail render-bootstrap` renders; the help, the man page and the tips a new user meets.
use std::path::Path;
use std::process::{Command, Output};

use orgtrail_tests::harness::{orgtrail_bin, stderr, stdout};

/// `orgtrail ARGS` in `dir`, with none of the machine's AWS or orgtrail settings.
fn orgtrail(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(orgtrail_bin());
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("AWS_") || k.starts_with("ORGTRAIL_") {
            cmd.env_remove(k);
        }
    }
    cmd.args(args).current_dir(dir).env("AWS_CONFIG_FILE", dir.join("none")).env("AWS_SHARED_CREDENTIALS_FILE", dir.join("none")).output().expect("running orgtrail")
}

/// The `line N: [table] key = "VALUE"` lines init prints, as (line, key, value).
fn keys_named(text: &str) -> Vec<(usize, String, String)> {
    text.lines()
        .filter_map(|l| {
            let rest = l.trim().strip_prefix("line ")?;
            let (n, rest) = rest.split_once(": [")?;
            let (_, assignment) = rest.split_once("] ")?;
            let (key, value) = assignment.split_once(" = \"")?;
            Some((n.parse().ok()?, key.to_string(), value.split('"').next()?.to_string()))
        })
        .collect()
}

#[test]
fn init_then_render_bootstrap_as_the_readme_says_on_a_fresh_folder() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let init = orgtrail(d, &["init"]);
    assert_eq!(init.status.code(), Some(0), "{}", stderr(&init));
    let said = stderr(&init);
    let keys = keys_named(&said);
    assert_eq!(keys.iter().map(|(_, k, _)| k.as_str()).collect::<Vec<_>>(), ["management_account", "role_name"], "init names the keys to set: {said}");

    // Unedited, render-bootstrap names the same keys at the same lines, and writes nothing to stdout.
    let refused = orgtrail(d, &["render-bootstrap"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert_eq!(keys_named(&stderr(&refused)), keys, "{}", stderr(&refused));
    assert!(stdout(&refused).is_empty());

    // Set them where init said (ACCOUNT_ID is the operator's: the management account here).
    let text = std::fs::read_to_string(d.join("orgtrail.toml")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for (n, key, value) in &keys {
        let value = if value == "ACCOUNT_ID" { "111111111111" } else { value };
        let line = &mut lines[n - 1];
        assert!(line.contains(key.as_str()), "line {n} of the example is {line:?}, not {key}");
        *line = format!("{key} = \"{value}\"");
    }
    std::fs::write(d.join("orgtrail.toml"), lines.join("\n") + "\n").unwrap();
    let out = orgtrail(d, &["render-bootstrap"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let template = stdout(&out);
    assert!(template.contains("AWSTemplateFormatVersion") && template.contains("OrgtrailExecution") && template.contains("arn:aws:iam::111111111111:root"), "{template}");
}

/// `render-policies --offline` renders every policy from the config alone: the same documents the
/// live command renders against the organization, with not one request to the emulator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn render_policies_offline_is_the_live_rendering_without_a_call() {
    use orgtrail_tests::harness::{json_ok, requests_by_account, requests_since};
    let sb = orgtrail_tests::Sandbox::with_config(3, |c| c.detection().mfa_delete(false)).await.unwrap();
    let live = json_ok(&sb.orgtrail(&["render-policies", "--json"]));
    let before = requests_by_account(&sb);
    let out = sb.orgtrail(&["render-policies", "--offline", "--organization-id", &sb.org.org_id, "--management-account", &sb.org.management_account, "--json"]);
    assert_eq!(requests_since(&before, &requests_by_account(&sb)), Default::default(), "offline made calls");
    let offline = json_ok(&out);
    for key in ["bucket_policy", "key_policy", "access_log_bucket_policy", "scp", "cloudwatch_logs_role_policy", "alarm_topic_policy"] {
        assert!(offline[key].is_object(), "{key} rendered offline: {offline:#}");
    }
    assert_eq!(offline, live, "offline and live differ");
    assert!(stderr(&out).contains("KEY-ID-CREATED-BY-APPLY") && !stderr(&out).contains("o-ORGANIZATION-ID"), "{}", stderr(&out));

    // Without the flags: named placeholders, never an account id that looks real.
    let out = sb.orgtrail(&["render-policies", "--offline"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let config = orgtrail_tests::harness::ConfigEdit::read(&sb.config_path()).config();
    let placeholders = [("o-ORGANIZATION-ID", "--organization-id", config.organization.id.is_none()), ("MANAGEMENT-ACCOUNT-ID", "--management-account", config.organization.management_account.is_none())];
    assert!(placeholders.iter().any(|(_, _, used)| *used), "the sandbox config names both: nothing left to show");
    for (placeholder, flag, used) in placeholders {
        assert_eq!(text.contains(placeholder), used, "{placeholder}: {text}");
        assert_eq!(stderr(&out).contains(flag), used, "{flag}: {}", stderr(&out));
    }
    assert!(!text.contains("000000000000"), "no placeholder looks like an account id: {text}");
}
