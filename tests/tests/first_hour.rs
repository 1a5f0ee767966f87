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

    // plan says what data events on every bucket cost, with AWS's published price.
    let every_bucket = config.trail.s3_data_event_buckets.is_empty() && config.trail.s3_data_events != orgtrail::config::EventScope::None;
    let plan = sb.orgtrail(&["plan", "--json"]);
    let notes = orgtrail_tests::harness::json(&plan)["notes"].clone();
    assert_eq!(notes.as_array().map(|n| n.len()), Some(usize::from(every_bucket)), "{notes}");
    if every_bucket {
        assert!(notes[0].as_str().unwrap().contains("$0.10 per 100,000 data events"), "{notes}");
    }
}

/// Every environment variable the source reads (`env("X")`, `env = "X"`, `env::var("X")`,
/// `try_from_env("X")`), named in the man page's ENVIRONMENT.
fn variables_read_by_the_source() -> std::collections::BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../orchestrator/src");
    let mut found = std::collections::BTreeSet::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for opener in ["env(\"", "env = \"", "env::var(\"", "try_from_env(\""] {
                for piece in text.split(opener).skip(1) {
                    let name: String = piece.chars().take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_').collect();
                    if name.len() > 2 && piece[name.len()..].starts_with('"') {
                        found.insert(name);
                    }
                }
            }
        }
    }
    found
}

#[test]
fn the_man_page_has_exit_status_environment_and_files_and_names_no_source_file() {
    let dir = tempfile::tempdir().unwrap();
    let page = stdout(&orgtrail(dir.path(), &["man"]));
    for section in [".SH \"EXIT STATUS\"", ".SH ENVIRONMENT", ".SH FILES"] {
        assert!(page.contains(section), "{section} missing");
    }
    let exit = page.split(".SH \"EXIT STATUS\"").nth(1).unwrap().split(".SH ").next().unwrap();
    for code in ["\\fB0\\fR", "\\fB1\\fR", "\\fB2\\fR", "\\fB3\\fR", "\\fB130\\fR"] {
        assert!(exit.contains(code), "exit status {code}");
    }
    let environment = page.split(".SH ENVIRONMENT").nth(1).unwrap().split(".SH FILES").next().unwrap();
    let read = variables_read_by_the_source();
    assert!(read.contains("ORGTRAIL_LOG") && read.contains("ORGTRAIL_STATE_LEASE_SECONDS") && read.contains("AWS_PROFILE"), "the scan finds them: {read:?}");
    for name in &read {
        assert!(environment.contains(&format!("\\fB{name}\\fR")), "ENVIRONMENT lacks {name}");
    }
    // A `cargo install` user has the binary only: no page names a file of the source tree.
    let pages = tempfile::tempdir().unwrap();
    assert!(orgtrail(dir.path(), &["man", "--dir", pages.path().to_str().unwrap()]).status.success());
    for entry in std::fs::read_dir(pages.path()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for source in ["docs/", "README", ".md", "templates/", "scripts/"] {
            assert!(!text.contains(source), "{} names {source}", path.display());
        }
    }
    assert!(std::fs::read_to_string(pages.path().join("orgtrail.1")).unwrap().contains(".SH ENVIRONMENT"), "the page written to --dir too");
}

#[test]
fn global_flags_have_their_own_heading_and_stay_out_of_init_completions_and_man() {
    let dir = tempfile::tempdir().unwrap();
    let plan = stdout(&orgtrail(dir.path(), &["plan", "--help"]));
    let (own, global) = plan.split_once("Global options:").unwrap_or_else(|| panic!("no Global options heading: {plan}"));
    assert!(own.contains("--members") && !own.contains("--profile"), "{plan}");
    let global = global.split("Example").next().unwrap();
    assert!(global.contains("--profile") && global.contains("--state-dir") && !global.contains("--members"), "{plan}");
    for (command, kept) in [("init", &["--config"][..]), ("completions", &[]), ("man", &[])] {
        let help = stdout(&orgtrail(dir.path(), &[command, "--help"]));
        for flag in ["--profile", "--region", "--endpoint-url", "--json", "--state-dir", "--state ", "--verbose"] {
            assert!(!help.contains(flag), "{command} --help shows {flag}: {help}");
        }
        for flag in kept {
            assert!(help.contains(flag), "{command} --help lacks {flag}: {help}");
        }
    }
    // They are still accepted there (a global flag before or after any command).
    assert!(orgtrail(dir.path(), &["--json", "completions", "bash"]).status.success());
}

#[test]
fn a_command_orgtrail_does_not_have_gets_a_tip() {
    let dir = tempfile::tempdir().unwrap();
    let out = orgtrail(dir.path(), &["destroy"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unrecognized subcommand 'destroy'") && err.contains("tip: ") && err.contains("orgtrail remove --dry-run"), "{err}");
    assert!(!err.contains("docs/"), "names no source file: {err}");
}

/// The example config's cross-references exist: every `docs/FILE.md, "Title"` names a heading of
/// that file (a prefix of it), every `docs/FILE.md` a file.
#[test]
fn the_example_configs_cross_references_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let example = std::fs::read_to_string(root.join("templates/orgtrail.example.toml")).unwrap();
    // Comments continue on the next line: join them.
    let text: String = example.lines().map(|l| l.split_once('#').map_or("", |(_, c)| c).trim()).collect::<Vec<_>>().join(" ");
    let mut checked = 0;
    for piece in text.split("docs/").skip(1) {
        let Some((file, rest)) = piece.split_once(".md") else { continue };
        let doc = std::fs::read_to_string(root.join("docs").join(format!("{file}.md"))).unwrap_or_else(|e| panic!("docs/{file}.md: {e}"));
        checked += 1;
        if let Some(title) = rest.strip_prefix(", \"").and_then(|r| r.split('"').next()) {
            assert!(doc.lines().any(|l| l.starts_with('#') && l.trim_start_matches('#').trim().starts_with(title)), "docs/{file}.md has no heading {title:?}");
        }
    }
    assert!(checked >= 3, "the example cites the docs {checked} times");
}
