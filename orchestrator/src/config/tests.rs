use std::path::Path;

use super::*;

const GOOD: &str = r#"
[organization]
home_region = "eu-west-1"

[log_archive]
account = "222222222222"
bucket = "org-logs-222222222222"
admin_roles = ["arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"]
mfa_delete = true

[trail]
name = "org-trail"

[[wave]]
name = "canary"
accounts = ["333333333333"]

[[wave]]
name = "rest"
remaining = true
"#;

fn load_str(s: &str) -> Result<Config, ConfigError> {
    parse(Path::new("orgtrail.toml"), s)
}

/// Replace `from` with `to` in the good config, expect an error at (line, column) whose message contains `needle`.
fn bad(from: &str, to: &str, line: usize, column: usize, needle: &str) {
    assert!(GOOD.contains(from), "test setup: {from:?} not in GOOD");
    let text = GOOD.replacen(from, to, 1);
    let err = load_str(&text).expect_err("config should be rejected");
    let shown = err.to_string();
    assert!(shown.starts_with(&format!("orgtrail.toml:{line}:{column}: ")), "wrong place: {shown}");
    assert!(shown.contains(needle), "message lacks {needle:?}: {shown}");
    assert_eq!((err.line(), err.column()), (Some(line), Some(column)));
}

#[test]
fn good_config_resolves_defaults() {
    let c = load_str(GOOD).unwrap();
    assert_eq!(c.organization.partition, "aws");
    assert_eq!(c.access.role_name, "OrganizationAccountAccessRole");
    assert_eq!(c.access.session_duration_seconds, 3600);
    assert_eq!(c.log_archive.access_log_bucket, "org-logs-222222222222-access-logs");
    assert_eq!(c.trail.mode, TrailMode::Organization);
    assert_eq!(c.waves.len(), 2);
    assert_eq!(c.waves[0].line, 14);
    assert!(c.waves[1].remaining);
}

#[test]
fn example_config_is_valid() {
    let c = load_str(EXAMPLE).expect("templates/orgtrail.example.toml must parse");
    assert_eq!(c.waves.len(), 3);
    assert_eq!(c.waves[2].max_concurrency, Amount::Percent(25));
}

#[test]
fn unknown_key() {
    bad("mfa_delete = true", "mfa_delete = true\nmfa_dlete = false", 10, 1, "unknown field `mfa_dlete`");
}

#[test]
fn wrong_type() {
    bad("mfa_delete = true", "mfa_delete = \"yes\"", 9, 14, "invalid type");
}

#[test]
fn account_id_too_short() {
    bad("account = \"222222222222\"", "account = \"22222222222\"", 6, 11, "expected exactly 12 digits");
}

#[test]
fn account_id_as_number() {
    bad("accounts = [\"333333333333\"]", "accounts = [333333333333]", 16, 13, "invalid type");
}

#[test]
fn region_not_in_partition() {
    bad("home_region = \"eu-west-1\"", "home_region = \"eu-west-9\"", 3, 15, "not a region of partition `aws`");
}

#[test]
fn region_of_other_partition() {
    bad("home_region = \"eu-west-1\"", "home_region = \"eu-west-1\"\npartition = \"aws-cn\"", 3, 15, "is in partition `aws`, not `aws-cn`");
}

#[test]
fn bucket_name_uppercase() {
    bad("bucket = \"org-logs-222222222222\"", "bucket = \"Org-Logs\"", 7, 10, "only lowercase letters");
}

#[test]
fn role_name_invalid() {
    bad("[trail]", "[access]\nrole_name = \"has space\"\n\n[trail]", 12, 13, "not a valid IAM role name");
}

#[test]
fn missing_required_table() {
    let text = GOOD.replace("[trail]\nname = \"org-trail\"\n", "");
    let err = load_str(&text).unwrap_err();
    assert!(err.to_string().contains("missing required key `trail`"), "{err}");
}

#[test]
fn duplicate_wave_name() {
    bad("name = \"rest\"", "name = \"canary\"", 19, 8, "used twice");
}

#[test]
fn two_remaining_waves() {
    let text = format!("{GOOD}\n[[wave]]\nname = \"more\"\nremaining = true\n");
    let err = load_str(&text).unwrap_err();
    assert!(err.to_string().contains("already takes the remaining accounts"), "{err}");
    assert_eq!(err.line(), Some(23));
}

#[test]
fn empty_wave() {
    bad("accounts = [\"333333333333\"]", "", 15, 8, "selects nothing");
}

#[test]
fn bad_percentage() {
    bad("remaining = true", "remaining = true\nmax_concurrency = \"150%\"", 21, 19, "percentage");
}

#[test]
fn lifecycle_with_mfa_delete_explains_the_ways_out() {
    let err = load_str(&GOOD.replace("mfa_delete = true", "mfa_delete = true\n[log_archive.lifecycle]\nexpire_after_days = 365")).unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("S3 does not support lifecycle configuration on a bucket with MFA Delete"), "{shown}");
    assert!(shown.contains("object_lock") && shown.contains("remove [log_archive.lifecycle]"), "{shown}");
    // Lifecycle without MFA Delete is fine.
    let ok = load_str(&GOOD.replace("mfa_delete = true", "mfa_delete = false\n[log_archive.lifecycle]\nexpire_after_days = 365")).unwrap();
    assert_eq!(ok.log_archive.lifecycle.unwrap().expire_after_days, Some(365));
}

#[test]
fn syntax_error() {
    bad("name = \"org-trail\"", "name = \"org-trail", 12, 18, "");
}

#[test]
fn snippet_shows_the_line_with_a_caret() {
    let err = load_str(&GOOD.replace("\"222222222222\"\nbucket", "\"2222\"\nbucket")).unwrap_err().to_string();
    assert!(err.contains("6 | account = \"2222\""), "{err}");
    assert!(err.contains("  |           ^^^^^^"), "{err}");
}

#[test]
fn non_utf8_and_huge_files_are_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.toml");
    std::fs::write(&p, b"[organization]\nhome_region = \"\xff\"\n").unwrap();
    let e = load(&p).unwrap_err().to_string();
    assert!(e.contains("bad.toml:2:16: config file is not valid UTF-8 (byte offset 30)"), "{e}");
    std::fs::write(&p, vec![b'#'; (MAX_CONFIG_BYTES + 1) as usize]).unwrap();
    assert!(load(&p).unwrap_err().to_string().contains("the limit is"));
}

#[test]
fn fingerprint_changes_with_config_but_not_external_id() {
    let a = load_str(GOOD).unwrap();
    let b = load_str(&GOOD.replace("org-trail", "other-trail")).unwrap();
    assert_ne!(fingerprint(&a), fingerprint(&b));
    assert_eq!(fingerprint(&a), fingerprint(&load_str(GOOD).unwrap()));
}

#[test]
fn admin_roles_are_required() {
    bad("admin_roles = [\"arn:aws:iam::222222222222:role/OrganizationAccountAccessRole\"]\n", "", 6, 11, "admin_roles must list at least one role");
}

#[test]
fn empty_file() {
    let err = load_str(" \n\n").unwrap_err().to_string();
    assert!(err.starts_with("orgtrail.toml:1:1: the config file is empty"), "{err}");
}

#[test]
fn count_or_percent_of_the_wrong_type_says_what_is_expected() {
    bad("remaining = true", "remaining = true\nmax_concurrency = 2.5", 21, 19, "invalid type: float `2.5`, expected a count (an integer such as 20) or a percentage");
    bad("remaining = true", "remaining = true\nfailure_tolerance = true", 21, 21, "expected a count");
}

#[test]
fn serde_wording_is_translated_for_toml_writers() {
    bad("mfa_delete = true", "mfa_delete = true\nmfa_delete = false", 10, 1, "duplicate key `mfa_delete`: it is already defined above");
    bad("[trail]\nname = \"org-trail\"", "[trail]\nname = \"org-trail\"\n[trail]", 13, 2, "table [trail] is defined twice");
    let one_wave = GOOD.split("[[wave]]\nname = \"rest\"").next().unwrap().replace("[[wave]]", "[wave]");
    let err = load_str(&one_wave).unwrap_err().to_string();
    assert!(err.contains("invalid type: table, expected an array") && err.contains("[[name]]"), "{err}");
    bad("[organization]", "[organization]\nmanagement_account = 99999999999999999999", 3, 22, "is too large: expected an integer between");
    bad("bucket = \"org-logs-222222222222\"", "bucket = \"org-logs-222222222222\"\naccess_logging = \"1\"", 8, 18, "expected a boolean");
    let err = load_str(&GOOD.replace("[access]", "").replace("[trail]", "[access]\nmax_concurrency = \"8\"\n\n[trail]")).unwrap_err().to_string();
    assert!(err.contains("invalid type: string \"8\", expected an integer"), "{err}");
    assert!(!err.contains("i64"), "{err}");
}

#[test]
fn a_top_level_key_under_a_table_gets_a_hint() {
    bad("remaining = true", "remaining = true\nexclude_ous = [\"Root/Sandbox\"]", 21, 1, "move it above the first [table]");
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!("{GOOD}\nx = {}{}", "[".repeat(100_000), "]".repeat(100_000));
    let err = load_str(&deep).unwrap_err().to_string();
    assert!(err.contains("nested too deeply"), "{}", &err[..err.len().min(300)]);
    // The snippet shows a window of the 200,000-character line, not all of it.
    assert!(err.len() < 1000, "{} characters", err.len());
    assert!(err.contains("..."), "{err}");
}

#[test]
fn snippet_of_a_long_line_keeps_the_caret_under_the_fault() {
    let pairs: String = (0..40).map(|i| format!("b{i} = \"x\", ")).collect();
    let text = GOOD.replace("mfa_delete = true", &format!("mfa_delete = true\ntags = {{ {pairs}a = 1 }}"));
    let err = load_str(&text).unwrap_err().to_string();
    let lines: Vec<&str> = err.lines().collect();
    let (src, carets) = (lines[2], lines[3]);
    let caret_at = carets.find('^').unwrap();
    assert_eq!(&src[caret_at..caret_at + 1], "1", "{err}");
    assert!(src.len() < 130, "{err}");
}

#[test]
fn wave_lines_are_right_in_a_large_file() {
    let mut text = GOOD.to_string();
    for i in 0..2000 {
        text.push_str(&format!("\n[[wave]]\nname = \"w{i}\"\nous = [\"Root\"]\n"));
    }
    let c = load_str(&text).unwrap();
    assert_eq!(c.waves.len(), 2002);
    for (i, w) in c.waves.iter().enumerate().skip(2) {
        assert_eq!(text.lines().nth(w.line - 1), Some("[[wave]]"), "wave {i}");
        assert_eq!(text.lines().nth(w.line), Some(format!("name = \"w{}\"", i - 2).as_str()));
    }
}

#[test]
fn access_log_encryption_defaults_to_sse_s3_and_sse_kms_names_its_own_key() {
    assert_eq!(load_str(GOOD).unwrap().log_archive.access_log_kms_alias, None);
    let with = |extra: &str| GOOD.replacen("mfa_delete = true", &format!("mfa_delete = true\n{extra}"), 1);
    let kms = load_str(&with("access_log_encryption = \"sse-kms\"")).unwrap();
    assert_eq!(kms.log_archive.access_log_kms_alias.as_deref(), Some("alias/orgtrail-access-logs"));
    let named = load_str(&with("access_log_encryption = \"sse-kms\"\naccess_log_kms_alias = \"alias/s3-access-logs\"")).unwrap();
    assert_eq!(named.log_archive.access_log_kms_alias.as_deref(), Some("alias/s3-access-logs"));
    assert_eq!(load_str(&with("access_log_encryption = \"sse-s3\"")).unwrap().log_archive.access_log_kms_alias, None);
    // Configs without the option serialize as before (the rollout state keys runs by the config).
    assert!(!serde_json::to_string(&load_str(GOOD).unwrap()).unwrap().contains("access_log_kms_alias"));
    bad("mfa_delete = true", "mfa_delete = true\naccess_log_encryption = \"aws:kms\"", 10, 25, "expected one of \"sse-s3\", \"sse-kms\"");
    bad("mfa_delete = true", "mfa_delete = true\naccess_log_kms_alias = \"alias/x\"", 10, 24, "only used with access_log_encryption = \"sse-kms\"");
    bad(
        "mfa_delete = true",
        "mfa_delete = true\naccess_log_encryption = \"sse-kms\"\naccess_log_kms_alias = \"alias/orgtrail\"",
        11,
        24,
        "must differ from log_archive.kms_alias",
    );
    bad("mfa_delete = true", "mfa_delete = true\naccess_log_encryption = \"sse-kms\"\naccess_log_kms_alias = \"alias/aws/s3\"", 11, 24, "not a valid KMS alias");
}

#[test]
fn trusted_principals_are_role_arns_of_the_account_orgtrail_runs_from() {
    let with = |list: &str| GOOD.replacen("home_region = \"eu-west-1\"", &format!("home_region = \"eu-west-1\"\nmanagement_account = \"111111111111\"\n\n[access]\ntrusted_principals = {list}"), 1);
    let sso = "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_PlatformAdmin_*";
    let c = load_str(&with(&format!("[\"arn:aws:iam::111111111111:role/OrgtrailRunner\", \"{sso}\"]"))).unwrap();
    assert_eq!(c.access.trusted_principals, vec!["arn:aws:iam::111111111111:role/OrgtrailRunner".to_string(), sso.to_string()]);
    assert!(load_str(GOOD).unwrap().access.trusted_principals.is_empty(), "default: the whole account");
    let err = load_str(&with("[\"arn:aws:iam::999999999999:role/Elsewhere\"]")).unwrap_err().to_string();
    assert!(err.starts_with("orgtrail.toml:7:") && err.contains("is not a role of account 111111111111"), "{err}");
    let err = load_str(&with("[\"arn:aws:iam::111111111111:user/alice\"]")).unwrap_err().to_string();
    assert!(err.contains("is not an IAM role ARN"), "{err}");
}
