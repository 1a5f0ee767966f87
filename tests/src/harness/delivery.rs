//! CloudTrail delivery in the emulator: `POST /moto-api/fidelity/deliver` (the fidelity layer's
//! fixed interface, docs/emulator.md "Delivery"), and the AWS CLI that judges what it wrote.
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::{json, Value};

use super::Sandbox;
use crate::emulator::workspace_root;

/// Delivers `hours` hours before `end` (default now), for `accounts` (default all): the emulator's
/// answer: the hours delivered (`start`, `end`) and per-trail counts (`{"trails": {ARN: {"log_files",
/// "digest_files", "failures", "error", "refused"}}}`).
pub fn deliver(sb: &Sandbox, hours: u32, end: Option<&str>, accounts: Option<&[&str]>) -> Value {
    let mut body = json!({ "hours": hours });
    if let Some(end) = end {
        body["end"] = json!(end);
    }
    if let Some(accounts) = accounts {
        body["accounts"] = json!(accounts);
    }
    let (status, answer) = post(sb, "/moto-api/fidelity/deliver", &body.to_string());
    assert_eq!(status, 200, "deliver {body}: {answer}");
    serde_json::from_str(&answer).unwrap_or_else(|e| panic!("deliver answered no JSON ({e}): {answer}"))
}

/// (HTTP status, body) of a POST to the emulator.
pub fn post(sb: &Sandbox, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", sb.emulator.port())).expect("emulator reachable");
    write!(s, "POST {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).expect("request sent");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("response read");
    let code = resp.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, resp.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

/// The pinned AWS CLI (scripts/bootstrap-awscli.sh installs it into .venv-awscli).
pub fn aws_cli() -> PathBuf {
    let bin = workspace_root().join(".venv-awscli/bin/aws");
    assert!(bin.exists(), "{} missing: run scripts/bootstrap-awscli.sh (scripts/test.sh does)", bin.display());
    bin
}

/// `aws ARGS` against the emulator with `credentials` (from `assumed_env`: the log bucket lets only
/// its reader and admin roles read logs): every client (CloudTrail, Organizations, S3) at the
/// emulator through AWS_ENDPOINT_URL, S3 path-style through a config file of the sandbox.
pub fn aws(sb: &Sandbox, credentials: &[(&'static str, String)], args: &[&str]) -> Output {
    let config = sb.dir.path().join("aws-cli.config");
    std::fs::write(&config, "[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n").expect("aws config written");
    Command::new(aws_cli())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", sb.dir.path().join("no-credentials"))
        .env("AWS_ENDPOINT_URL", sb.emulator.endpoint())
        .envs(credentials.iter().cloned())
        .output()
        .expect("running aws")
}
