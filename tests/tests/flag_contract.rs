//! Every flag is checked before the first AWS write: a wrong value exits 2, names the flag and the
//! values it takes, and the emulator's request log (counted by the fidelity layer, outside orgtrail)
//! shows no write at all. Conflicting options are refused by the parser.
use std::collections::BTreeMap;
use std::process::Output;

use orgtrail_tests::harness::{requests_by_account, requests_since, stderr};
use orgtrail_tests::Sandbox;

type Requests = BTreeMap<String, BTreeMap<String, u64>>;

/// Whether an operation of the request log (`s3.PUT?policy`, `cloudtrail.CreateTrail`) changes
/// anything: STS sessions, S3 GET/HEAD and Get/List/Describe/Lookup calls do not.
fn is_write(op: &str) -> bool {
    let (service, action) = op.split_once('.').unwrap_or((op, ""));
    let reads = ["Get", "List", "Describe", "Lookup", "Search", "GET", "HEAD"];
    service != "sts" && !reads.iter().any(|r| action.starts_with(r))
}

fn writes(requests: &Requests) -> Requests {
    requests
        .iter()
        .map(|(account, ops)| (account.clone(), ops.iter().filter(|(op, _)| is_write(op)).map(|(op, n)| (op.clone(), *n)).collect::<BTreeMap<_, _>>()))
        .filter(|(_, ops)| !ops.is_empty())
        .collect()
}

/// `orgtrail ARGS` against the sandbox: exit 2, `error:` naming every needle, no panic, and no
/// write in the emulator's request log. Returns stderr.
fn refused(sb: &Sandbox, args: &[&str], needles: &[&str]) -> String {
    let before = requests_by_account(sb);
    let out: Output = sb.orgtrail(args);
    let seen = requests_since(&before, &requests_by_account(sb));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.starts_with("error: ") && !err.contains("panicked"), "{args:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: {n:?} missing from: {err}");
    }
    assert_eq!(writes(&seen), Requests::new(), "{args:?} wrote (all requests: {seen:?})");
    err
}

#[test]
fn the_write_filter_tells_writes_from_reads() {
    assert!(is_write("s3.PUT?policy") && is_write("cloudtrail.CreateTrail") && is_write("kms.CreateKey") && is_write("s3.DELETE"));
    assert!(!is_write("s3.GET?versioning") && !is_write("sts.AssumeRole") && !is_write("organizations.ListAccounts") && !is_write("cloudtrail.DescribeTrails"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_flag_value_exits_2_before_any_write() {
    let sb = Sandbox::new(3).await.unwrap();
    let canary = sb.org.members[0].id.clone();
    let other = sb.org.members[1].id.clone();
    let mgmt = sb.org.management_account.clone();

    // Unknown wave: did-you-mean and the waves there are.
    refused(&sb, &["apply", "--wave", "nosuchwave"], &["--wave nosuchwave", "no such wave", "canary, sandbox, rest"]);
    refused(&sb, &["apply", "--wave", "canry"], &["did you mean canary?"]);
    // Not an account id, and an empty list.
    refused(&sb, &["apply", "--accounts", "123"], &["--accounts \"123\"", "12-digit"]);
    refused(&sb, &["apply", "--accounts", ","], &["--accounts", "no account id given"]);
    // Not in the organization (discovery is read-only and runs before any write).
    let err = refused(&sb, &["apply", "--accounts", "999999999999"], &["--accounts 999999999999", &format!("not an account of organization {}", sb.org.org_id)]);
    assert!(err.contains("hint: `orgtrail plan` lists"), "{err}");
    // A near miss of a member: suggested.
    let typo = format!("{}{}", &canary[..11], if canary.ends_with('9') { '8' } else { '9' });
    if !sb.org.members.iter().any(|m| m.id == typo) && typo != mgmt && typo != sb.org.log_archive_account {
        refused(&sb, &["apply", "--accounts", &typo], &[&format!("did you mean {canary}?")]);
    }
    // In the organization, but outside the targeted wave; the management account is no member target.
    refused(&sb, &["apply", "--wave", "canary", "--accounts", &other], &[&format!("--accounts {other}"), "not in wave canary", &format!("the accounts of wave canary are: {canary}")]);
    refused(&sb, &["apply", "--accounts", &mgmt], &[&format!("--accounts {mgmt}"), "management account"]);
    // With shared state: checked before the state bucket and its lock are written.
    refused(&sb, &["--state", "s3://orgtrail-flag-contract/team", "apply", "--accounts", "999999999999"], &["not an account of organization"]);
    refused(&sb, &["--state", "s3://orgtrail-flag-contract/team", "apply", "--wave", "canary", "--accounts", &other], &["not in wave canary"]);

    // mfa-delete: a bucket orgtrail does not manage, a serial that is no MFA device's.
    let serial = format!("arn:aws:iam::{}:mfa/root-account-mfa-device", sb.org.log_archive_account);
    refused(&sb, &["mfa-delete", "enable", "--bucket", "no-such-bucket", "--mfa-serial", &serial, "--mfa-code", "123456"], &["--bucket no-such-bucket", "not a bucket orgtrail manages"]);
    refused(&sb, &["mfa-delete", "enable", "--mfa-serial", "root", "--mfa-code", "123456"], &["--mfa-serial \"root\"", &serial]);
    refused(&sb, &["mfa-delete", "enable", "--mfa-serial", "arn:aws:iam::999999999999:mfa/root-account-mfa-device", "--mfa-code", "123456"], &["--mfa-serial", "log-archive account"]);

    // A format's name given to --output: refused with --format suggested, no file written.
    refused(&sb, &["verify", "--output", "json"], &["--output json", "did you mean --format json?"]);
    assert!(!sb.dir.path().join("json").exists(), "no file named json");
    // Conflicting options: the parser refuses them (and a redundant --json --format json passes it).
    refused(&sb, &["--json", "render-bootstrap", "--format", "yaml"], &["'--json' cannot be used with '--format yaml'"]);
    refused(&sb, &["verify", "--json", "--format", "junit"], &["'--json' cannot be used with '--format junit'"]);
    refused(&sb, &["apply", "--new-run", "--accept-config-change"], &["--accept-config-change", "--new-run"]);
    let redundant = sb.orgtrail(&["--json", "render-bootstrap", "--format", "json"]);
    assert!(!stderr(&redundant).contains("cannot be used with"), "{}", stderr(&redundant));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_run_checks_its_flags_against_its_own_plan_before_any_write() {
    let sb = Sandbox::new(3).await.unwrap();
    sb.edit_config(|c| c.mfa_delete(false));
    let out = sb.orgtrail(&["apply", "--wave", "canary", "--no-progress"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The run is open: the next apply resumes it, with the plan it started with.
    let canary = sb.org.members[0].id.clone();
    let other = sb.org.members[1].id.clone();
    refused(&sb, &["apply", "--accounts", "999999999999"], &["not an account of organization"]);
    refused(&sb, &["apply", "--wave", "canary", "--accounts", &other], &["not in wave canary", &canary]);
    refused(&sb, &["apply", "--wave", "nosuch"], &["no such wave"]);
}
