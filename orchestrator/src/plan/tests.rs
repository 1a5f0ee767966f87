//! Wave assignment and the plan-time errors, against a small fixed inventory.
use super::*;
use crate::config::parse;
use crate::discovery::{OrganizationInfo, OrganizationalUnit, SkippedAccount};

fn account(id: &str, ou: &str, tags: &[(&str, &str)]) -> Account {
    Account {
        id: id.into(),
        name: format!("acct-{id}"),
        email: String::new(),
        status: "ACTIVE".into(),
        ou_path: ou.into(),
        ou_id: format!("ou-{}", ou.len()),
        ou_ids: vec!["r-root".into(), format!("ou-{}", ou.len())],
        tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    }
}

fn inventory() -> Inventory {
    let mut accounts = vec![
        account("100000000000", "Root", &[]),
        account("200000000000", "Root/Security", &[]),
        account("300000000001", "Root/Sandbox", &[("env", "dev")]),
        account("300000000002", "Root/Sandbox", &[("env", "dev")]),
        account("400000000001", "Root/Workloads/Prod", &[("env", "prod")]),
        account("400000000002", "Root/Workloads/Prod", &[("env", "prod")]),
        account("500000000001", "Root/Workloads/Dev", &[("env", "dev")]),
    ];
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    let ous = ["Root", "Root/Security", "Root/Sandbox", "Root/Workloads", "Root/Workloads/Prod", "Root/Workloads/Dev"]
        .iter()
        .map(|p| OrganizationalUnit { id: format!("ou-{}", p.len()), path: p.to_string() })
        .collect();
    Inventory {
        organization: OrganizationInfo { id: "o-abcdefghij".into(), management_account: "100000000000".into(), root_id: "r-root".into() },
        skipped: vec![SkippedAccount { account: account("900000000000", "Root/Sandbox", &[]), reason: "account status is SUSPENDED".into() }],
        accounts,
        ous,
        tags_fetched: true,
    }
}

fn config_text(waves: &str) -> String {
    format!(
        "exclude_accounts = []\n[organization]\nhome_region = \"us-east-1\"\n[log_archive]\naccount = \"200000000000\"\nbucket = \"logs-bucket-x\"\nadmin_roles = [\"arn:aws:iam::200000000000:role/Admin\"]\n[trail]\nname = \"org\"\n{waves}"
    )
}

fn config(waves: &str) -> Config {
    parse(Path::new("orgtrail.toml"), &config_text(waves)).unwrap()
}

/// Plans the config text written to a file (errors locate their line in it): the error's text.
fn plan_file(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orgtrail.toml");
    std::fs::write(&path, text).unwrap();
    let e = plan(&parse(&path, text).unwrap(), &inventory(), &path).unwrap_err();
    assert!(matches!(e, PlanError::Account(_)), "{e:?}");
    e.to_string().replace(&path.display().to_string(), "orgtrail.toml")
}

#[test]
fn central_accounts_must_be_active_members_and_errors_name_the_config_line() {
    let outside = config_text("").replace("account = \"200000000000\"", "account = \"222222222222\"");
    let e = plan_file(&outside);
    assert!(e.starts_with("orgtrail.toml:5:11: log_archive.account = \"222222222222\": is not an account of organization o-abcdefghij"), "{e}");
    assert!(e.contains("\n") && e.contains("^"), "the line with a caret: {e}");
    let suspended = config_text("").replace("account = \"200000000000\"", "account = \"900000000000\"");
    assert!(plan_file(&suspended).contains("is not an active account of organization o-abcdefghij: account status is SUSPENDED"));
    let mgmt = config_text("").replace("home_region = \"us-east-1\"\n", "home_region = \"us-east-1\"\nmanagement_account = \"200000000000\"\n");
    let e = plan_file(&mgmt);
    assert!(e.starts_with("orgtrail.toml:4:22: management_account = \"200000000000\": is not the management account of organization o-abcdefghij (that is 100000000000)"), "{e}");
    let admin = config_text("").replace("home_region = \"us-east-1\"\n", "home_region = \"us-east-1\"\ndelegated_admin_account = \"333333333333\"\n");
    assert!(plan_file(&admin).starts_with("orgtrail.toml:4:27: delegated_admin_account = \"333333333333\": is not an account"), "{}", plan_file(&admin));
    let admin_is_mgmt = admin.replace("333333333333", "100000000000");
    assert!(plan_file(&admin_is_mgmt).contains("is the management account"));
    let fine = config_text("").replace("home_region = \"us-east-1\"\n", "home_region = \"us-east-1\"\nmanagement_account = \"100000000000\"\ndelegated_admin_account = \"300000000001\"\n");
    assert!(plan(&parse(Path::new("x.toml"), &fine).unwrap(), &inventory(), Path::new("x.toml")).is_ok());
}

fn run(waves: &str) -> Result<Plan, PlanError> {
    plan(&config(waves), &inventory(), Path::new("orgtrail.toml"))
}

#[test]
fn first_match_wins_and_remaining_takes_the_rest() {
    let p = run("[[wave]]\nname = \"canary\"\naccounts = [\"400000000001\"]\n[[wave]]\nname = \"workloads\"\nous = [\"Root/Workloads\"]\n[[wave]]\nname = \"rest\"\nremaining = true\n").unwrap();
    assert_eq!(p.waves[0].accounts, vec!["400000000001"]);
    // Nested OUs included; the canary account is not repeated.
    assert_eq!(p.waves[1].accounts, vec!["400000000002", "500000000001"]);
    assert_eq!(p.waves[2].accounts, vec!["200000000000", "300000000001", "300000000002"]);
    let mgmt = p.untargeted.iter().find(|u| u.account == "100000000000").unwrap();
    assert!(mgmt.reason.contains("management account"));
    assert!(p.untargeted.iter().any(|u| u.account == "900000000000" && u.reason.contains("SUSPENDED")));
}

#[test]
fn tags_narrow_ous_and_untargeted_are_listed() {
    let p = run("[[wave]]\nname = \"dev\"\nous = [\"Root/Sandbox\", \"Root/Workloads\"]\ntags = { env = \"dev\" }\n").unwrap();
    assert_eq!(p.waves[0].accounts, vec!["300000000001", "300000000002", "500000000001"]);
    let not_in_wave: Vec<&str> = p.untargeted.iter().filter(|u| u.reason == "no wave selects it").map(|u| u.account.as_str()).collect();
    assert_eq!(not_in_wave, vec!["200000000000", "400000000001", "400000000002"]);
}

#[test]
fn exclusions_apply_before_waves() {
    let mut c = config("[[wave]]\nname = \"all\"\nremaining = true\n");
    c.exclude_ous = vec!["Root/Workloads".into()];
    c.exclude_accounts = vec!["300000000001".into()];
    let p = plan(&c, &inventory(), Path::new("x.toml")).unwrap();
    assert_eq!(p.waves[0].accounts, vec!["200000000000", "300000000002"]);
    assert!(p.untargeted.iter().any(|u| u.account == "400000000002" && u.reason.contains("excluded OU Root/Workloads")));
}

#[test]
fn percentages_resolve_against_the_wave_and_strict_caps_concurrency() {
    let p = run("[[wave]]\nname = \"all\"\nremaining = true\nmax_concurrency = \"50%\"\nfailure_tolerance = \"40%\"\n").unwrap();
    assert_eq!((p.waves[0].accounts.len(), p.waves[0].max_concurrency, p.waves[0].failure_tolerance), (6, 3, 2));
    let s = run("[[wave]]\nname = \"all\"\nremaining = true\nmax_concurrency = 10\nfailure_tolerance = 0\nstrict = true\n").unwrap();
    assert_eq!(s.waves[0].max_concurrency, 1);
    let soft = run("[[wave]]\nname = \"all\"\nremaining = true\nmax_concurrency = 10\nfailure_tolerance = 0\n").unwrap();
    assert_eq!(soft.waves[0].max_concurrency, 6, "SOFT mode: concurrency not tied to tolerance, capped at the wave size");
}

#[test]
fn plan_time_errors_name_the_wave_and_line() {
    let e = run("[[wave]]\nname = \"canary\"\naccounts = [\"123123123123\"]\n").unwrap_err();
    assert!(matches!(&e, PlanError::Wave { wave, line: 10, .. } if wave == "canary"), "{e:?}");
    assert!(e.to_string().starts_with("orgtrail.toml:10: wave `canary`: account 123123123123 is not an active account"), "{e}");
    let e = run("[[wave]]\nname = \"prod\"\nous = [\"Root/Prod\"]\n").unwrap_err();
    assert!(e.message().contains("OU Root/Prod does not exist"), "{e}");
    let e = run("[[wave]]\nname = \"gone\"\naccounts = [\"900000000000\"]\n").unwrap_err();
    assert!(e.message().contains("suspended"), "{e}");
    let e = run("[[wave]]\nname = \"a\"\nous = [\"Root/Sandbox\"]\n[[wave]]\nname = \"b\"\nous = [\"Root/Sandbox\"]\n").unwrap_err();
    assert!(matches!(&e, PlanError::Wave { wave, .. } if wave == "b"), "{e:?}");
    assert!(e.message().contains("selects no account"), "{e}");
}

#[test]
fn no_waves_means_one_wave_of_everything() {
    let p = run("").unwrap();
    assert_eq!(p.waves.len(), 1);
    assert_eq!(p.waves[0].accounts.len(), 6);
}
