//! `orgtrail render-bootstrap`, `completions` and `man`, through the real binary (no AWS call, no
//! emulator). The template is linted by cfn-lint (pinned, installed into .venv-lint by
//! scripts/bootstrap-lint.sh), read back by a YAML 1.1 parser (PyYAML, as cfn-lint reads it), and its
//! policies must equal the templates/iam/ documents with the config's values filled in.
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use orgtrail_tests::emulator::workspace_root;
use orgtrail_tests::harness::{orgtrail_bin, stderr, stdout, ConfigEdit};
use serde_json::{json, Value};

const SECRET: &str = "ext-id-never-printed-7f3a";

/// Every option off that adds an optional statement; no external id.
const MINIMAL: &str = r#"
[organization]
home_region = "eu-west-1"
management_account = "111111111111"
[access]
role_name = "OrgtrailExecution"
[log_archive]
account = "222222222222"
bucket = "org-logs-222222222222"
kms_alias = "alias/org-logs"
admin_roles = ["arn:aws:iam::222222222222:role/OrgtrailExecution"]
[trail]
name = "org-trail"
[[wave]]
name = "all"
remaining = true
"#;

/// Every option that adds a statement on, an external id, a delegated administrator, long sessions.
fn full() -> String {
    format!(
        r#"
[organization]
home_region = "us-east-2"
management_account = "111111111111"
delegated_admin_account = "999999999999"
[access]
role_name = "OrgtrailExecution"
external_id = "{SECRET}"
session_duration_seconds = 7200
[log_archive]
account = "222222222222"
bucket = "org-logs-222222222222"
access_log_bucket = "org-logs-222222222222-access"
access_log_encryption = "sse-kms"
admin_roles = ["arn:aws:iam::222222222222:role/OrgtrailExecution"]
[trail]
name = "org-trail"
mode = "account"
legacy_trails = "delete"
sns_topic = "org-trail-delivery"
[[wave]]
name = "all"
remaining = true
"#
    )
}

fn lint_venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let root = workspace_root();
        let out = Command::new(root.join("scripts/bootstrap-lint.sh")).output().expect("running scripts/bootstrap-lint.sh");
        assert!(out.status.success(), "bootstrap-lint.sh failed: {}", stderr(&out));
        root.join(".venv-lint")
    })
}

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("orgtrail.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn orgtrail(args: &[&str]) -> Output {
    let mut cmd = Command::new(orgtrail_bin());
    cmd.env_remove("ORGTRAIL_CONFIG").env_remove("COLUMNS").args(args);
    cmd.output().expect("running orgtrail")
}

fn render(config: &Path, extra: &[&str]) -> String {
    let mut args = vec!["--config", config.to_str().unwrap(), "render-bootstrap"];
    args.extend_from_slice(extra);
    let out = orgtrail(&args);
    assert_eq!(out.status.code(), Some(0), "render-bootstrap {extra:?}: {}", stderr(&out));
    assert!(!stdout(&out).contains(SECRET) && !stderr(&out).contains(SECRET), "the external id was printed");
    stdout(&out)
}

/// cfn-lint on the template given on stdin: no error and no warning.
fn cfn_lint(template: &str) {
    let mut child = Command::new(lint_venv().join("bin/cfn-lint")).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(template.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "cfn-lint:\n{}{}\n--- template:\n{template}", stdout(&out), stderr(&out));
}

/// The YAML as PyYAML (YAML 1.1) reads it, as JSON: dates, booleans and numbers as cfn-lint sees them.
fn yaml_1_1(yaml: &str) -> Value {
    let script = "import json, sys, yaml\njson.dump(yaml.safe_load(sys.stdin), sys.stdout)";
    let mut child = Command::new(lint_venv().join("bin/python")).args(["-c", script]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(yaml.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "PyYAML could not read the template as JSON data: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A templates/iam document with its placeholders replaced as text, the statements whose Sid is
/// not in `optional_kept` among those with a `_comment` dropped, and the `_comment` keys removed.
fn expected_policy(file: &str, values: &[(&str, &str)], optional_kept: &[&str]) -> Value {
    let mut text = std::fs::read_to_string(workspace_root().join("templates/iam").join(file)).unwrap();
    for (k, v) in values {
        text = text.replace(&format!("{{{k}}}"), v);
    }
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    let statements = doc["Statement"].as_array_mut().unwrap();
    statements.retain(|st| st.get("_comment").is_none() || optional_kept.contains(&st["Sid"].as_str().unwrap()));
    for st in statements.iter_mut() {
        st.as_object_mut().unwrap().remove("_comment");
    }
    doc
}

fn sids(doc: &Value) -> Vec<&str> {
    doc["Statement"].as_array().unwrap().iter().map(|s| s["Sid"].as_str().unwrap()).collect()
}

/// Both forms lint clean, the YAML reads back (YAML 1.1) as exactly the JSON form, and the result.
fn rendered(config: &Path) -> Value {
    let yaml = render(config, &[]);
    let json_text = render(config, &["--format", "json"]);
    cfn_lint(&yaml);
    cfn_lint(&json_text);
    let from_json: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(yaml_1_1(&yaml), from_json, "the YAML and JSON forms differ");
    from_json
}

#[test]
fn bootstrap_of_a_minimal_config_renders_the_read_only_member_role_and_the_log_archive_statements() {
    let dir = tempfile::tempdir().unwrap();
    let t = rendered(&write_config(dir.path(), MINIMAL));
    let values = [
        ("partition", "aws"),
        ("home_region", "eu-west-1"),
        ("management_account", "111111111111"),
        ("log_archive_account", "222222222222"),
        ("bucket", "org-logs-222222222222"),
        ("access_log_bucket", "org-logs-222222222222-access-logs"),
        ("kms_alias", "alias/org-logs"),
        ("trail_name", "org-trail"),
        ("role_name", "OrgtrailExecution"),
    ];
    let role = &t["Resources"]["MemberRole"];
    assert_eq!(role["Type"], "AWS::IAM::Role");
    let props = &role["Properties"];
    assert_eq!(props["RoleName"], "OrgtrailExecution");
    assert_eq!(props["MaxSessionDuration"], 3600);
    let member = &props["Policies"][0]["PolicyDocument"];
    assert_eq!(member, &expected_policy("member-account.json", &values, &[]));
    assert_eq!(sids(member), ["FindTrailsInEnabledRegions", "ReadTrails"], "legacy_trails = keep and mode = organization: read-only");
    let trust = &props["AssumeRolePolicyDocument"];
    let mut want_trust = expected_policy("member-role-trust-policy.json", &values, &[]);
    want_trust["Statement"][0].as_object_mut().unwrap().remove("Condition");
    assert_eq!(trust, &want_trust, "no external id: no condition");
    assert_eq!(trust["Statement"][0]["Principal"]["AWS"], "arn:aws:iam::111111111111:root");
    assert!(t.get("Parameters").is_none(), "no parameter without an external id: {t}");
    assert_eq!(t["Outputs"]["RoleArn"]["Value"], json!({ "Fn::GetAtt": ["MemberRole", "Arn"] }));

    let la = &t["Resources"]["LogArchivePolicy"];
    assert_eq!(la["Type"], "AWS::IAM::RolePolicy");
    assert_eq!(la["Condition"], "IsLogArchiveAccount");
    assert_eq!(la["Properties"]["RoleName"], json!({ "Ref": "MemberRole" }));
    assert_eq!(la["Properties"]["PolicyDocument"], expected_policy("log-archive-account.json", &values, &[]));
    assert_eq!(t["Conditions"]["IsLogArchiveAccount"], json!({ "Fn::Equals": [{ "Ref": "AWS::AccountId" }, "222222222222"] }));
}

#[test]
fn bootstrap_of_a_full_config_renders_every_statement_and_binds_the_external_id_to_a_noecho_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let t = rendered(&write_config(dir.path(), &full()));
    let values = [
        ("partition", "aws"),
        ("home_region", "us-east-2"),
        ("management_account", "999999999999"),
        ("log_archive_account", "222222222222"),
        ("bucket", "org-logs-222222222222"),
        ("access_log_bucket", "org-logs-222222222222-access"),
        ("kms_alias", "alias/orgtrail"),
        ("access_log_kms_alias", "alias/orgtrail-access-logs"),
        ("trail_name", "org-trail"),
        ("role_name", "OrgtrailExecution"),
        ("sns_topic", "org-trail-delivery"),
        ("external_id", "EXTERNAL-ID"),
    ];
    let props = &t["Resources"]["MemberRole"]["Properties"];
    assert_eq!(props["MaxSessionDuration"], 7200, "the role allows the sessions the config asks for");
    let every = ["StopOrDeleteLegacyTrails", "AccountModeTrail", "AccountModeDeliveryTopic"];
    let member = &props["Policies"][0]["PolicyDocument"];
    assert_eq!(member, &expected_policy("member-account.json", &values, &every));
    assert_eq!(sids(member).len(), 5, "the whole member-account.json: {member}");

    let mut want_trust = expected_policy("member-role-trust-policy.json", &values, &[]);
    want_trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"] = json!({ "Ref": "ExternalId" });
    assert_eq!(props["AssumeRolePolicyDocument"], want_trust, "the delegated administrator is trusted, with the external id");
    let p = &t["Parameters"]["ExternalId"];
    assert_eq!((p["Type"].as_str(), p["NoEcho"].as_bool()), (Some("String"), Some(true)), "{p}");
    assert_eq!(t["Resources"]["LogArchivePolicy"]["Properties"]["PolicyDocument"], expected_policy("log-archive-account.json", &values, &["KmsAccessLogAlias"]));
}

/// `[access] trusted_principals`: the trusted account stays the Principal, an `ArnLike` condition
/// on `aws:PrincipalArn` names the roles (beside the external id); a role of another account is
/// refused with exit 2 and nothing printed.
#[test]
fn bootstrap_with_trusted_principals_conditions_the_trust_on_the_principal_arn() {
    let dir = tempfile::tempdir().unwrap();
    let runner = "arn:aws:iam::999999999999:role/OrgtrailRunner";
    let sso = "arn:aws:iam::999999999999:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_PlatformAdmin_*";
    let config = full().replace("session_duration_seconds = 7200", &format!("session_duration_seconds = 7200\ntrusted_principals = [\"{runner}\", \"{sso}\"]"));
    let t = rendered(&write_config(dir.path(), &config));
    let trust = &t["Resources"]["MemberRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(trust["Principal"], json!({ "AWS": "arn:aws:iam::999999999999:root" }), "the account stays the principal");
    assert_eq!(trust["Condition"], json!({ "StringEquals": { "sts:ExternalId": { "Ref": "ExternalId" } }, "ArnLike": { "aws:PrincipalArn": [runner, sso] } }));

    let path = write_config(dir.path(), &config);
    let out = orgtrail(&["--config", path.to_str().unwrap(), "render-bootstrap", "--management-account", "111111111111"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stdout(&out).is_empty() && stderr(&out).contains("trusted_principals names arn:aws:iam::999999999999:role/OrgtrailRunner"), "{}", stderr(&out));
    let foreign = config.replace(runner, "arn:aws:iam::123456789012:role/Elsewhere");
    let out = orgtrail(&["--config", write_config(dir.path(), &foreign).to_str().unwrap(), "render-bootstrap"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stdout(&out).is_empty() && stderr(&out).contains("access.trusted_principals: `arn:aws:iam::123456789012:role/Elsewhere` is not a role of account 999999999999"), "{}", stderr(&out));
}

#[test]
fn bootstrap_stack_set_form_deploys_service_managed_with_automatic_deployment_and_the_same_member_template() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &full());
    let member = rendered(&config);
    let yaml = render(&config, &["--stack-set", "r-ab12,ou-ab12-34567890"]);
    cfn_lint(&yaml);
    let t = yaml_1_1(&yaml);
    let ss = &t["Resources"]["MemberRoleStackSet"];
    assert_eq!(ss["Type"], "AWS::CloudFormation::StackSet");
    let p = &ss["Properties"];
    assert_eq!(p["PermissionModel"], "SERVICE_MANAGED");
    assert_eq!(p["AutoDeployment"], json!({ "Enabled": true, "RetainStacksOnAccountRemoval": false }));
    assert_eq!(p["Capabilities"], json!(["CAPABILITY_NAMED_IAM"]));
    assert_eq!(p["StackInstancesGroup"], json!([{ "DeploymentTargets": { "OrganizationalUnitIds": ["r-ab12", "ou-ab12-34567890"] }, "Regions": ["us-east-2"] }]));
    assert_eq!(p["Parameters"], json!([{ "ParameterKey": "ExternalId", "ParameterValue": { "Ref": "ExternalId" } }]));
    assert_eq!(t["Parameters"]["ExternalId"]["NoEcho"], true);
    let body: Value = serde_json::from_str(p["TemplateBody"].as_str().unwrap()).unwrap();
    assert_eq!(body, member, "the StackSet deploys the member template");

    let out = orgtrail(&["--config", config.to_str().unwrap(), "render-bootstrap", "--stack-set", "ou-ab12;rm"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("expected an OU id"), "{}", stderr(&out));
}

#[test]
fn bootstrap_refuses_without_a_trusted_account_or_with_the_organizations_default_role() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &ConfigEdit::parse(MINIMAL).remove("organization.management_account").text());
    let out = orgtrail(&["--config", config.to_str().unwrap(), "render-bootstrap"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&config.display().to_string()) && err.contains("management_account") && err.contains("--management-account"), "{err}");
    assert!(stdout(&out).is_empty());
    // The flag supplies it.
    let t: Value = serde_json::from_str(&render(&config, &["--management-account", "333333333333", "--format", "json"])).unwrap();
    assert_eq!(t["Resources"]["MemberRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"], "arn:aws:iam::333333333333:root");

    let default_role = ConfigEdit::parse(MINIMAL).set("access.role_name", "OrganizationAccountAccessRole").admin_roles(["arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"]);
    let config = write_config(dir.path(), &default_role.text());
    let out = orgtrail(&["--config", config.to_str().unwrap(), "render-bootstrap"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("[access] role_name = \"OrgtrailExecution\"") && err.contains("OrganizationAccountAccessRole is the role Organizations already created"), "{err}");
}

#[test]
fn completions_for_every_shell_and_the_man_pages_come_from_the_clap_definition() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = orgtrail(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        assert!(script.contains("render-bootstrap") && script.contains("accept-config-change"), "{shell} completion lacks commands or flags");
    }
    let out = orgtrail(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2), "unknown shell is a usage error");

    let page = stdout(&orgtrail(&["man"]));
    assert!(page.contains(".TH orgtrail 1") && page.contains("render\\-bootstrap") && page.contains("completions"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    let out = orgtrail(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    for page in ["orgtrail.1", "orgtrail-plan.1", "orgtrail-render-bootstrap.1", "orgtrail-state-pull.1", "orgtrail-mfa-delete-enable.1"] {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.starts_with(".ie") && text.contains(".TH"), "{page} is not roff");
    }
}

/// `orgtrail COMMAND --help` for every command and subcommand the top-level help lists: a
/// one-line description and an example.
#[test]
fn every_command_help_has_a_description_and_an_example() {
    fn commands(help: &str) -> Vec<(String, String)> {
        let list = help.split("Commands:\n").nth(1).expect("a Commands: section").split("\n\n").next().unwrap();
        // Entries are indented by two spaces; a description wrapped onto more lines, by more.
        list.lines()
            .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
            .filter_map(|l| {
                let (name, about) = l.trim().split_once(char::is_whitespace)?;
                (name != "help").then(|| (name.to_string(), about.trim().to_string()))
            })
            .collect()
    }
    let top = stdout(&orgtrail(&["--help"]));
    let listed = commands(&top);
    assert!(listed.len() >= 12, "{listed:?}");
    let mut checked = 0;
    let mut queue: Vec<(Vec<String>, String)> = listed.into_iter().map(|(n, a)| (vec![n], a)).collect();
    while let Some((path, about)) = queue.pop() {
        assert!(!about.is_empty() && about.chars().next().unwrap().is_uppercase(), "{path:?}: no one-line description");
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = stdout(&orgtrail(&args));
        assert!(help.contains("Example:\n  orgtrail") || help.contains("Examples:\n  orgtrail") || help.contains("Example:\n  AWS_PROFILE="), "{path:?} --help has no example:\n{help}");
        if help.contains("Commands:\n") {
            queue.extend(commands(&help).into_iter().map(|(n, a)| ([path.clone(), vec![n]].concat(), a)));
        }
        checked += 1;
    }
    assert!(checked >= 16, "checked {checked} commands");
}

/// The sandbox's commands and flags say what they do, with an example.
#[test]
fn sandbox_help_describes_run_up_and_port() {
    let sandbox = orgtrail_bin().with_file_name("sandbox");
    let help = |args: &[&str]| stdout(&Command::new(&sandbox).args(args).output().expect("running sandbox"));
    let top = help(&["--help"]);
    assert!(top.lines().any(|l| l.trim_start().starts_with("run ") && l.contains("Start the emulator")), "{top}");
    assert!(top.lines().any(|l| l.trim_start().starts_with("up ") && l.contains("Start the emulator")), "{top}");
    for sub in ["run", "up"] {
        let text = help(&[sub, "--help"]);
        assert!(text.contains("Example:\n  sandbox "), "sandbox {sub} --help has no example:\n{text}");
    }
    let up = help(&["up", "--help"]);
    assert!(up.lines().any(|l| l.contains("--port <PORT>") && l.contains("Loopback port")), "{up}");
}
