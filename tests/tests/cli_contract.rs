//! The CLI contract (issue 13, part 5), tried as a new user would, through the real binary: exit
//! codes per class (0 ok, 1 recorded failures, 2 bad input or environment, 3 manual action, 130
//! interrupted), errors that print each cause once and say what to do, the resume command with
//! every global flag given, a note within seconds for an endpoint that refuses connections, a quiet
//! end on a closed stdout, `status` on a read-only state, "did you mean" for OU paths and account ids,
//! and `plan` reading the (remote) state `apply` would resume.
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use orgtrail_tests::fault_proxy::{FaultPlan, FaultProxy};
use orgtrail_tests::harness::{json, orgtrail_bin, stderr, stdout};
use orgtrail_tests::Sandbox;
use serde_json::Value;

/// A port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `orgtrail ARGS` in `dir` with no AWS settings of the machine it runs on: no credentials, no
/// profile, shared files that do not exist, an endpoint that refuses connections, one attempt.
fn bare(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(orgtrail_bin());
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("AWS_") || k.starts_with("ORGTRAIL_") || k == "COLUMNS" {
            cmd.env_remove(k);
        }
    }
    cmd.args(args)
        .current_dir(dir)
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{}", closed_port()))
        .env("AWS_CONFIG_FILE", dir.join("no-such-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-such-aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_REGION", "us-east-1");
    cmd
}

fn run(mut cmd: Command) -> Output {
    cmd.output().expect("running orgtrail")
}

/// Exit 2, `error: ` first, no panic, and every needle in stderr.
fn assert_bad(out: &Output, what: &str, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{what}: {err}");
    assert!(err.starts_with("error: ") || err.contains("\nerror: "), "{what}: {err}");
    assert!(!err.contains("panicked"), "{what}: {err}");
    for n in needles {
        assert!(err.contains(n), "{what}: {n:?} missing from: {err}");
    }
}

/// A directory nothing may create files in, even root (the tests run as root in CI containers,
/// where `chmod -w` does not stop a write): `chattr +i` as root, `chmod a-w` otherwise. Undone on drop.
struct ReadOnlyDir(PathBuf);

impl ReadOnlyDir {
    fn new(dir: &Path) -> ReadOnlyDir {
        let ok = if unsafe { libc::geteuid() } == 0 {
            Command::new("chattr").arg("+i").arg(dir).status().is_ok_and(|s| s.success())
        } else {
            Command::new("chmod").arg("a-w").arg(dir).status().is_ok_and(|s| s.success())
        };
        assert!(ok, "cannot make {} read-only", dir.display());
        assert!(std::fs::write(dir.join("probe"), b"x").is_err(), "{} is still writable", dir.display());
        ReadOnlyDir(dir.to_path_buf())
    }
}

impl Drop for ReadOnlyDir {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
        let _ = Command::new("chmod").arg("u+w").arg(&self.0).status();
    }
}

#[test]
fn bad_input_and_environment_errors_exit_2_and_say_what_to_do_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // No config: the cause once, and where to start.
    let out = run(bare(d, &["plan"]));
    assert_bad(&out, "missing config", &["orgtrail.toml", "orgtrail init"]);
    assert_eq!(stderr(&out).matches("No such file or directory").count(), 1, "the cause is printed once: {}", stderr(&out));
    // A config path that cannot be read (a directory).
    std::fs::create_dir(d.join("conf.toml")).unwrap();
    assert_bad(&run(bare(d, &["--config", "conf.toml", "plan"])), "unreadable config", &["conf.toml"]);

    // A valid config for the rest (from the init template, which plan can load).
    assert!(run(bare(d, &["init"])).status.success());
    let init_again = run(bare(d, &["init"]));
    assert_bad(&init_again, "init over an existing file", &["already exists", "--force"]);

    // A state path that is a file, and one that cannot be created.
    std::fs::write(d.join("state-file"), b"not a directory").unwrap();
    assert_bad(&run(bare(d, &["--state-dir", "state-file", "apply"])), "state path is a file", &["state-file"]);
    let locked = d.join("locked");
    std::fs::create_dir(&locked).unwrap();
    let _ro = ReadOnlyDir::new(&locked);
    assert_bad(&run(bare(d, &["--state-dir", "locked/state", "apply"])), "unwritable state path", &["locked/state"]);

    // No credentials anywhere: one error line and a hint (profiles, SSO, environment), before any
    // call: no note about the endpoint (it is not the cause), no provider-by-provider dump.
    for command in [&["accounts"][..], &["plan"], &["--state-dir", "no-credentials.state", "apply"], &["mfa-delete", "enable", "--mfa-serial", "GAHT12345678", "--mfa-code", "123456"]] {
        let out = run(bare(d, command));
        assert_bad(&out, "no credentials", &["error: no AWS credentials found", "hint: ", "--profile", "aws sso login", "AWS_ACCESS_KEY_ID"]);
        let err = stderr(&out);
        assert_eq!(err.lines().filter(|l| !l.contains(" WARN ")).count(), 2, "{command:?}: one error line, one hint: {err}");
        assert!(!err.contains("cannot connect") && !err.contains("Attempted") && !err.contains("provider was not enabled"), "{command:?}: {err}");
    }
    let mut verbose = bare(d, &["-vv", "accounts"]);
    verbose.env_remove("ORGTRAIL_LOG");
    assert!(stderr(&run(verbose)).contains("credential chain:"), "the chain is still there at -vv");

    // A profile the shared files do not define, said before any call; with a near miss named.
    std::fs::write(d.join("aws-config"), "[profile ops-prod]\nregion = us-east-1\n").unwrap();
    let mut cmd = bare(d, &["--profile", "ops-prd", "accounts"]);
    cmd.env("AWS_CONFIG_FILE", d.join("aws-config"));
    let out = run(cmd);
    assert_bad(&out, "unknown profile", &["profile `ops-prd` does not exist", "did you mean ops-prod?"]);
    assert!(!stderr(&out).contains("cannot connect"), "refused before any call: {}", stderr(&out));

    // A malformed MFA code, before any call to S3.
    let out = run(bare(d, &["mfa-delete", "enable", "--mfa-serial", "arn:aws:iam::222222222222:mfa/root-account-mfa-device", "--mfa-code", "12ab"]));
    assert_bad(&out, "malformed --mfa-code", &["--mfa-code", "6-digit"]);

    // No state to report on.
    assert_bad(&run(bare(d, &["status"])), "status without state", &["no rollout state in orgtrail.state", "orgtrail apply"]);
}

#[test]
fn an_unreachable_endpoint_is_named_and_reported_as_retrying() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}", closed_port());
    let mut cmd = bare(dir.path(), &["--endpoint-url", &url, "accounts"]);
    cmd.env("AWS_ACCESS_KEY_ID", "AKIDCLICONTRACT").env("AWS_SECRET_ACCESS_KEY", "cli-contract").env("AWS_MAX_ATTEMPTS", "3");
    let out = run(cmd);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let note = err.lines().find(|l| l.starts_with("note: cannot connect to")).unwrap_or_else(|| panic!("no reachability note: {err}"));
    assert!(note.contains(&url) && note.contains("retrying"), "{note}");
    let error = err.lines().find(|l| l.starts_with("error: ")).unwrap();
    assert!(error.contains(&url), "the error names the endpoint: {error}");

    // A step that cannot reach AWS outside a run (mfa-delete) exits 2 too, not 1 as a refused step.
    assert!(run(bare(dir.path(), &["init"])).status.success());
    for command in [&["mfa-delete", "enable", "--mfa-serial", "arn:aws:iam::222222222222:mfa/root-account-mfa-device", "--mfa-code", "123456"][..]] {
        let mut cmd = bare(dir.path(), command);
        cmd.env("AWS_ACCESS_KEY_ID", "AKIDCLICONTRACT").env("AWS_SECRET_ACCESS_KEY", "cli-contract");
        let out = run(cmd);
        assert_eq!(out.status.code(), Some(2), "{command:?}: {}", stderr(&out));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_exit_class_through_the_binary_and_status_on_a_read_only_closed_pipe() {
    let sb = Sandbox::new(3).await.unwrap();
    let dir = sb.dir.path();
    let canary = sb.org.members[0].id.clone();

    // 3: the sandbox config asks for MFA Delete, which needs the root user: converged but for that.
    let out = sb.orgtrail(&["apply", "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(json(&out)["report"]["outcome"]["outcome"], "converged");

    // 0, on a state directory nothing may write to, with stdout closed before it writes: quiet.
    let state = dir.join("orgtrail.state");
    let ro = ReadOnlyDir::new(&state);
    let out = sb.orgtrail(&["status", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["runs"][0]["id"], "run-1");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = sb.command(&["status", "--json"]).stdout(writer).stderr(Stdio::piped()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "a closed stdout ends status quietly: {}", stderr(&out));
    assert_eq!(stderr(&out), "", "no error line, no panic");
    // 2: a run id the state does not have, with the ones it has.
    let out = sb.orgtrail(&["status", "run-99"]);
    assert_bad(&out, "unknown run", &["no run run-99", "run-1"]);
    drop(ro);

    // 2: a malformed MFA code with a config that has buckets to act on.
    let out = sb.orgtrail(&["mfa-delete", "enable", "--mfa-serial", &format!("arn:aws:iam::{}:mfa/root-account-mfa-device", sb.org.log_archive_account), "--mfa-code", "1234567"]);
    assert_bad(&out, "malformed --mfa-code", &["6-digit"]);

    // 2 with a suggestion: an OU path and an account id one typo away, at their wave's line.
    let text = std::fs::read_to_string(sb.config_path()).unwrap();
    let typo = format!("{}{}", &canary[..11], if canary.ends_with('9') { '8' } else { '9' });
    std::fs::write(dir.join("typo-ou.toml"), text.replace("ous = [\"Root/Sandbox\"]", "ous = [\"Root/Sandbx\"]")).unwrap();
    std::fs::write(dir.join("typo-account.toml"), text.replace(&format!("accounts = [\"{canary}\"]"), &format!("accounts = [\"{typo}\"]"))).unwrap();
    // A wave's errors point at its `[[wave]]` header (1-based line).
    let line_of = |needle: &str| {
        let selector = text.lines().position(|l| l.contains(needle)).unwrap();
        text.lines().take(selector).collect::<Vec<_>>().iter().rposition(|l| *l == "[[wave]]").unwrap() + 1
    };
    // And the value itself: `--> file:line:column` (1-based; the column of its first character).
    let at = |needle: &str, value: &str| {
        let line = text.lines().position(|l| l.contains(needle)).unwrap();
        format!("{}:{}", line + 1, text.lines().nth(line).unwrap().find(value).unwrap() + 1)
    };
    let out = sb.orgtrail(&["--config", "typo-ou.toml", "--state-dir", "typo.state", "plan"]);
    let ou_at = format!("--> typo-ou.toml:{}", at("ous = [\"Root/Sandbox\"]", "Root/Sandbox"));
    assert_bad(&out, "unknown OU", &[&format!("typo-ou.toml:{}:", line_of("ous = [\"Root/Sandbox\"]")), "OU Root/Sandbx does not exist", "did you mean Root/Sandbox?", &ou_at]);
    let out = sb.orgtrail(&["--config", "typo-account.toml", "--state-dir", "typo.state", "plan"]);
    let account_at = format!("--> typo-account.toml:{}", at(&format!("accounts = [\"{canary}\"]"), &canary));
    assert_bad(&out, "unknown account", &[&format!("typo-account.toml:{}:", line_of(&format!("accounts = [\"{canary}\"]"))), &format!("did you mean {canary}?"), &account_at]);

    // 1: a recorded failure (a bucket policy that would lock orgtrail out: refused, recorded).
    let start = text.find("admin_roles = [").unwrap();
    let end = start + text[start..].find('\n').unwrap();
    let locked_out = format!("{}admin_roles = [\"arn:aws:iam::{}:role/BreakGlass\"]{}", &text[..start], sb.org.log_archive_account, &text[end..]);
    std::fs::write(dir.join("locked-out.toml"), locked_out).unwrap();
    let out = sb.orgtrail(&["--config", "locked-out.toml", "apply", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(json(&out)["report"]["outcome"]["outcome"], "central-failed");
    // A closed stdout does not hide the outcome: still 1, and no error line for the pipe.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = sb.command(&["--config", "locked-out.toml", "apply"]).stdout(writer).stderr(Stdio::piped()).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!stderr(&out).contains("error:") && !stderr(&out).contains("panicked"), "{}", stderr(&out));

    // 130: Ctrl-C during an apply slowed down by a proxy; the run records itself interrupted.
    let proxy = FaultProxy::start(&sb.emulator.endpoint(), FaultPlan::seeded(3).latency(Duration::from_millis(150))).unwrap();
    let child = sb.command(&["--state-dir", "interrupted.state", "--endpoint-url", &proxy.url(), "apply", "--new-run"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let lock = dir.join("interrupted.state/lock.json");
    let t = Instant::now();
    while !lock.exists() {
        assert!(t.elapsed() < Duration::from_secs(60), "the apply never took the lock");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    let text_out = stdout(&out);
    assert_eq!(out.status.code(), Some(130), "{}\n{}", text_out, stderr(&out));
    assert!(text_out.contains("interrupted; resume with `orgtrail apply"), "{text_out}");
    assert!(text_out.contains("--state-dir interrupted.state"), "the resume command keeps the state flag: {text_out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_remote_state_plan_sees_the_run_apply_resumes_and_the_resume_command_keeps_every_flag() {
    let sb = Sandbox::new(3).await.unwrap();
    let dir = sb.dir.path();
    sb.edit_config(|c| c.mfa_delete(false));
    // A named profile (the emulator takes any key), so `--profile` can be given and must be repeated.
    std::fs::write(dir.join("aws-config"), "[profile ops]\nregion = us-east-1\n").unwrap();
    std::fs::write(dir.join("aws-credentials"), "[ops]\naws_access_key_id = testing\naws_secret_access_key = testing\n").unwrap();
    let cache = tempfile::tempdir().unwrap();
    let url = "s3://orgtrail-cli-contract/team";
    let cmd = |args: &[&str]| {
        let mut c = sb.command(args);
        c.env("AWS_CONFIG_FILE", dir.join("aws-config")).env("AWS_SHARED_CREDENTIALS_FILE", dir.join("aws-credentials")).env("XDG_CACHE_HOME", cache.path()).env("ORGTRAIL_STATE_LEASE_SECONDS", "10");
        c
    };

    // Only the canary wave: the run stays open, and says how to continue it.
    let out = cmd(&["--profile", "ops", "--region", "us-east-1", "--state", url, "apply", "--wave", "canary", "--no-progress"]).output().unwrap();
    let report = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{report}\n{}", stderr(&out));
    let endpoint = sb.emulator.endpoint();
    let resume = format!("orgtrail apply --profile ops --region us-east-1 --endpoint-url {endpoint} --config orgtrail.toml --state {url}");
    assert!(report.contains(&format!("`{resume}` continues it")), "the resume command repeats every global flag: {report}");

    // `plan` reads the remote state, as apply would: it resumes run-1 (it once looked in the local directory only).
    assert!(!dir.join("orgtrail.state").exists(), "nothing local");
    let out = cmd(&["--state", url, "plan", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan = json(&out);
    assert_eq!((plan["resume"]["run"].clone(), plan["resume"]["open"].clone(), plan["resume"]["config_changed"].clone()), (Value::from("run-1"), Value::Bool(true), Value::Bool(false)), "{:#}", plan["resume"]);
    // And apply does resume it.
    let out = cmd(&["--state", url, "apply", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!((json(&out)["report"]["run"].clone(), json(&out)["report"]["resumed"].clone()), (Value::from("run-1"), Value::Bool(true)));
}
