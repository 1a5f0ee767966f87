//! Acting as another account of the sandbox, and the emulator's own log of who called what.
use aws_config::SdkConfig;

use super::Sandbox;

/// Base credentials acting in `account`, for running orgtrail as that account (a CloudTrail
/// delegated administrator): an AssumeRole from the management account (once the other accounts'
/// member roles trust it: `seed::trust_delegated_admin`). Returned as the environment a process needs.
pub async fn assumed_env(sb: &Sandbox, account: &str) -> Vec<(&'static str, String)> {
    let c = assume(sb, account).await;
    vec![
        ("AWS_ACCESS_KEY_ID", c.access_key_id().to_string()),
        ("AWS_SECRET_ACCESS_KEY", c.secret_access_key().to_string()),
        ("AWS_SESSION_TOKEN", c.session_token().unwrap_or_default().to_string()),
    ]
}

/// An SDK config acting in `account` (AssumeRole from the management account).
pub async fn assumed_conf(sb: &Sandbox, account: &str) -> SdkConfig {
    let c = assume(sb, account).await;
    sb.conf.to_builder().credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(c)).build()
}

async fn assume(sb: &Sandbox, account: &str) -> aws_credential_types::Credentials {
    // Acting as a member account means running orgtrail from it: the other accounts must trust it.
    crate::seed::trust_delegated_admin(&sb.conf, &sb.org, account).await.expect("deploying the member roles' trust for the delegated administrator");
    let out = aws_sdk_sts::Client::new(&sb.conf)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/OrganizationAccountAccessRole"))
        .role_session_name("orgtrail-test-base")
        .send()
        .await
        .expect("AssumeRole into the account");
    let c = out.credentials.expect("credentials");
    aws_credential_types::Credentials::new(c.access_key_id, c.secret_access_key, Some(c.session_token), None, "test-assumed")
}

/// Credentials of a new IAM user in `account`, made with boto3 in the emulator's venv. The
/// emulator cannot issue root credentials: an IAM user of the log-archive account is the closest
/// stand-in (real S3 would refuse it, which `mfa-delete enable` explains).
pub fn iam_user_credentials(endpoint: &str, account: &str) -> (String, String) {
    let script = r#"
import sys, boto3
endpoint, account = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=endpoint, region_name="us-east-1")
sts = boto3.client("sts", aws_access_key_id="testing", aws_secret_access_key="testing", **kw)
c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="test")["Credentials"]
iam = boto3.client("iam", aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"], **kw)
iam.create_user(UserName="root-stand-in")
k = iam.create_access_key(UserName="root-stand-in")["AccessKey"]
print(k["AccessKeyId"], k["SecretAccessKey"])
"#;
    let out = std::process::Command::new(crate::emulator::moto_server_path().with_file_name("python")).args(["-c", script, endpoint, account]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let (id, secret) = text.trim().split_once(' ').unwrap();
    (id.to_string(), secret.to_string())
}

/// Requests the emulator received, per account whose credentials signed them, per operation
/// (`cloudtrail.StartLogging`, `s3.PUT?policy`): counted by the fidelity layer, outside orgtrail.
pub fn requests_by_account(sb: &Sandbox) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", sb.emulator.port())).expect("emulator reachable");
    write!(s, "GET /moto-api/fidelity/requests HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").expect("request sent");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("response read");
    let body = resp.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("the fidelity layer's request log ({e}): {resp}"))
}

/// `after - before` per account and operation, leaving out zeros.
pub fn requests_since(
    before: &std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
    after: &std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>> {
    let mut out = std::collections::BTreeMap::new();
    for (account, ops) in after {
        for (op, n) in ops {
            let was = before.get(account).and_then(|o| o.get(op)).copied().unwrap_or(0);
            if *n > was {
                out.entry(account.clone()).or_insert_with(std::collections::BTreeMap::new).insert(op.clone(), n - was);
            }
        }
    }
    out
}

