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
