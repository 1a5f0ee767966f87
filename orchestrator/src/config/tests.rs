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
    assert!(err.to_string().contains("missing field `trail`"), "{err}");
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
