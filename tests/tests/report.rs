//! `orgtrail report` in a real browser: the sandbox organization, with an OU and an account whose
//! names hold `<script>`, one control broken, rendered by orgtrail and loaded by headless Chromium
//! (scripts/bootstrap-chromium.sh installs it). The DOM Chromium built (`--dump-dom`) shows the
//! headline numbers, the failing control and the names as text; no script ran; and every request
//! Chromium made would reach a counting proxy: none for the report, one for a control page that does
//! fetch (so the check can fail).
use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use orgtrail_tests::harness::{deliver, requests_by_account, stderr, stdout, ConfigEdit, Operator};
use orgtrail_tests::Sandbox;

const CHROMIUM: &str = "/usr/bin/chromium";
const EVIL_OU: &str = r#"<script>document.title='pwned'</script>"Ops""#;
const EVIL_ACCOUNT: &str = r#"<script>document.body.innerHTML='PWNED'</script>'x'"#;

/// A proxy that counts the connections made to it (and answers none of them).
fn counting_proxy() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let n = (&conn).read(&mut buf).unwrap_or(0);
            log.lock().unwrap().push(String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or("").to_string());
        }
    });
    (port, seen)
}

/// Chromium's own services, which it calls whatever the page (component updater, network time, sign-in)
/// even with --disable-background-networking and --disable-component-update; a page's request to any
/// other host counts.
const BROWSER_OWN: [&str; 4] = ["update.googleapis.com", "clients2.google.com", "accounts.google.com", "redirector.gvt1.com"];

fn page_requests(requests: &[String]) -> Vec<&String> {
    requests.iter().filter(|r| !BROWSER_OWN.iter().any(|h| r.contains(&format!("{h}:443")) || r.contains(&format!("//{h}/")))).collect()
}

/// Chromium's DOM of `page` after loading it, and the first line of every request it made (all go to the proxy).
fn load(page: &Path) -> (String, Vec<String>) {
    assert!(Path::new(CHROMIUM).exists(), "{CHROMIUM} is missing: run scripts/bootstrap-chromium.sh (scripts/test.sh does)");
    let (port, count) = counting_proxy();
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(CHROMIUM)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        // Every host resolves to the counting proxy, and every proxied request goes to it too.
        .arg(format!("--proxy-server=http://127.0.0.1:{port}"))
        .arg(format!("--host-resolver-rules=MAP * 127.0.0.1:{port}"))
        .arg("--proxy-bypass-list=<-loopback>")
        .arg("--virtual-time-budget=3000")
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "chromium: {}", String::from_utf8_lossy(&out.stderr));
    std::thread::sleep(std::time::Duration::from_millis(200));
    let requests = count.lock().unwrap().clone();
    (String::from_utf8_lossy(&out.stdout).into_owned(), requests)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_in_headless_chromium_shows_the_headline_a_failing_control_and_names_as_text_with_no_request() {
    let sb = Sandbox::with_config(4, |c: ConfigEdit| c.mfa_delete(false)).await.unwrap();
    let org = aws_sdk_organizations::Client::new(&sb.conf);
    let ou = org.create_organizational_unit().parent_id(&sb.org.ous["Root"]).name(EVIL_OU).send().await.unwrap().organizational_unit.unwrap().id.unwrap();
    let created = org.create_account().account_name(EVIL_ACCOUNT).email("evil@sandbox.example").send().await.unwrap();
    let evil = created.create_account_status.unwrap().account_id.unwrap();
    org.move_account().account_id(&evil).source_parent_id(&sb.org.ous["Root"]).destination_parent_id(&ou).send().await.unwrap();
    let out = sb.orgtrail(&["apply", "--json"]);
    assert_eq!(out.status.code(), Some(0), "apply: {}\n{}", stdout(&out), stderr(&out));
    // Three hours of logs and digests through the emulator's delivery, judged by validate-logs.
    deliver(&sb, 3, None, None);
    let out = sb.orgtrail(&["validate-logs", "--digests-only", "--regions", "us-east-1", "--format", "json", "--output", "validate.json"]);
    assert_eq!(out.status.code(), Some(0), "validate-logs: {}", stderr(&out));
    let op = Operator::new(&sb);
    op.cloudtrail().update_trail().name(&op.trail_arn).enable_log_file_validation(false).send().await.unwrap();

    let out = sb.orgtrail(&["report", "--validate", "validate.json", "--output", "report.html"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "report.html", "report prints the path it wrote");
    let page = sb.dir.path().join("report.html");
    let (dom, requests) = load(&page);

    let targeted = sb.org.members.len() + 2; // the members, the new account and the log-archive account
    assert!(dom.contains(&format!(r#"data-figure="Accounts covered">{targeted} of {targeted}<"#)), "headline coverage in {dom}");
    let pairs = targeted + 1; // every covered account (the management account too) in us-east-1
    assert!(dom.contains(&format!(r#"data-figure="Record integrity">{pairs} of {pairs}<"#)), "integrity from validate-logs");
    let row = dom.split(r#"<tr data-control="CloudTrail.4">"#).nth(1).expect("a CloudTrail.4 row").split("</tr>").next().unwrap().to_string();
    assert!(row.contains(">FAIL<") && row.contains("LogFileValidationEnabled=false") && row.contains("CIS v3.0.0 3.2"), "{row}");
    assert!(dom.contains(r#">PASS<"#));
    // The names are text: the DOM serializer escapes them again, and no element came of them.
    assert!(dom.contains("&lt;script&gt;document.body.innerHTML='PWNED'&lt;/script&gt;'x'"), "the account name as text");
    assert!(dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;\"Ops\""), "the OU name as text");
    assert!(!dom.contains("<script"), "no script element in the DOM");
    assert!(dom.contains("<title>orgtrail report: "), "the title was not rewritten by a script");
    assert!(page_requests(&requests).is_empty(), "the report made network requests: {requests:?}");

    // The same check on a page that does fetch: it counts.
    let control = sb.dir.path().join("fetches.html");
    std::fs::write(&control, r#"<!DOCTYPE html><html><body><img src="http://orgtrail-canary.example/x.png"></body></html>"#).unwrap();
    let fetched = load(&control).1;
    assert!(page_requests(&fetched).iter().any(|r| r.contains("orgtrail-canary.example")), "the counting proxy sees a page's fetch: {fetched:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn report_from_files_and_wrong_inputs_exit_2_writing_nothing() {
    let sb = Sandbox::with_config(3, |c: ConfigEdit| c.mfa_delete(false)).await.unwrap();
    let out = sb.orgtrail(&["apply", "--json"]);
    assert_eq!(out.status.code(), Some(0), "apply: {}", stderr(&out));
    let out = sb.orgtrail(&["verify", "--json", "--output", "verify.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let validate = r#"{"start_time": "2026-12-06T00:00:00Z", "end_time": "2026-12-06T06:00:00Z", "digests_only": true,
      "pairs": [{"account": "ACCT", "region": "us-east-1", "digests_valid": 5, "digests_invalid": 1, "valid": false}],
      "findings": [{"account": "ACCT", "region": "us-east-1", "subject": "digest", "verdict": "invalid: signature", "key": "AWSLogs/o-x/ACCT/CloudTrail-Digest/us-east-1/2026/12/06/d.json.gz", "detail": ""}]}"#
        .replace("ACCT", &sb.org.members[1].id);
    std::fs::write(sb.dir.path().join("validate.json"), validate).unwrap();
    std::fs::write(sb.dir.path().join("not-json.json"), "{").unwrap();

    let before = requests_by_account(&sb);
    let out = sb.orgtrail(&["report", "--verify", "verify.json", "--validate", "validate.json", "--output", "files.html"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(requests_by_account(&sb), before, "a report from files makes no AWS call");
    let html = std::fs::read_to_string(sb.dir.path().join("files.html")).unwrap();
    assert!(html.contains(r#"data-figure="Record integrity">0 of 1<"#), "{html}");
    assert!(html.contains("invalid: signature"));

    for (args, says) in [
        (vec!["--verify", "missing.json"], "cannot read verify JSON missing.json"),
        (vec!["--verify", "not-json.json"], "not-json.json is not JSON"),
        (vec!["--verify", "validate.json"], "validate.json is not verify JSON (it has no `accounts_checked`)"),
        (vec!["--verify", "verify.json", "--validate", "verify.json"], "verify.json is not validate-logs JSON (it has no `pairs`)"),
        (vec!["--verify", "verify.json", "--output", "no-such-dir/r.html"], "the directory no-such-dir does not exist"),
    ] {
        let mut all = vec!["report"];
        all.extend(&args);
        all.extend(["--output", "bad.html"].iter().filter(|_| !args.contains(&"--output")));
        let out = sb.orgtrail(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
        assert!(!sb.dir.path().join("bad.html").exists() && !sb.dir.path().join("no-such-dir").exists(), "{args:?} wrote nothing");
    }
}
