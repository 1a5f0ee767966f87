//! No credential ever reaches orgtrail's output, logs or state (issue 6): a full rollout with
//! debug logging, with recognisable base credentials, and the temporary credentials moto issues
//! for every assumed role (`ASIA…` key ids, `FQoGZXIvYXdzEBYaD…` session tokens).
use orgtrail_tests::harness::stderr;
use orgtrail_tests::Sandbox;

const BASE_KEY_ID: &str = "AKIAORGTRAILSECRET01";
const BASE_SECRET: &str = "orgtrail/base/secret/never+logged/0123456789";
const BASE_TOKEN: &str = "orgtrailBaseSessionTokenThatMustNeverAppear0123456789";
/// moto's session-token prefix (moto/sts/utils.py).
const MOTO_TOKEN_PREFIX: &str = "FQoGZXIvYXdzEBYaD";

fn leaks(what: &str, text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for needle in [BASE_KEY_ID, BASE_SECRET, BASE_TOKEN, MOTO_TOKEN_PREFIX] {
        if text.contains(needle) {
            found.push(format!("{what} contains {needle:?}"));
        }
    }
    if let Some(kind) = orgtrail_state::find_secret(text) {
        found.push(format!("{what} contains a {kind}"));
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_debug_logged_rollout_leaks_no_credentials() {
    let sb = Sandbox::new(6).await.unwrap();
    let run = |args: &[&str]| {
        sb.command(args)
            .env("AWS_ACCESS_KEY_ID", BASE_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", BASE_SECRET)
            .env("AWS_SESSION_TOKEN", BASE_TOKEN)
            .env("ORGTRAIL_LOG", "debug")
            .output()
            .unwrap()
    };
    let mut problems = Vec::new();
    let mut outputs = Vec::new();
    for args in [
        &["accounts", "--check-access", "-vv"][..],
        &["plan", "--members", "-vv"],
        &["apply", "-vv", "--json"],
        &["apply", "-vv"],
        &["plan", "--members", "-vv", "--json"],
        &["status", "--json"],
    ] {
        let out = run(args);
        let err = stderr(&out);
        assert!(out.status.code().is_some_and(|c| c == 0 || c == 3), "{args:?}: exit {:?}: {}", out.status.code(), &err[err.len().saturating_sub(3000)..]);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        problems.extend(leaks(&format!("output of {args:?}"), &text));
        outputs.push(text);
    }
    // The debug log is really on and really mentions credentials being fetched, so the test looks
    // where a leak would be.
    let all = outputs.join("\n");
    assert!(all.contains("DEBUG"), "debug logging is on");
    assert!(all.to_lowercase().contains("credentials") || all.contains("AssumeRole"), "the log covers credential handling");

    let state = sb.dir.path().join("orgtrail.state");
    for entry in std::fs::read_dir(&state).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        problems.extend(leaks(&path.display().to_string(), &String::from_utf8_lossy(&bytes)));
    }
    assert!(problems.is_empty(), "credentials leaked:\n{}", problems.join("\n"));
}
