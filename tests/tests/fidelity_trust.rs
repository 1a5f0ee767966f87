//! Fidelity patch t (tests/fidelity/iam.py, docs/emulator.md): STS AssumeRole honours the target
//! role's trust policy (`OrganizationAccountAccessRole`, which CreateAccount makes, trusts the
//! management account only) (evaluated by the pinned evaluator): a missing role or a caller the
//! trust does not let in is refused with AccessDenied, as AWS does. Plain moto assumes any ARN, so
//! this fails there: `ORGTRAIL_MOTO_UNPATCHED=1 cargo test -p orgtrail-tests --test fidelity_trust`.
use aws_config::SdkConfig;
use aws_sdk_sts::error::ProvideErrorMetadata;
use orgtrail_tests::Sandbox;
use serde_json::{json, Value};

async fn assume(conf: &SdkConfig, role_arn: &str, external_id: Option<&str>) -> Result<SdkConfig, String> {
    let out = aws_sdk_sts::Client::new(conf).assume_role().role_arn(role_arn).role_session_name("fidelity").set_external_id(external_id.map(String::from)).send().await;
    match out {
        Ok(o) => {
            let c = o.credentials.unwrap();
            let creds = aws_credential_types::Credentials::new(c.access_key_id, c.secret_access_key, Some(c.session_token), None, "fidelity");
            Ok(conf.to_builder().credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds)).build())
        }
        Err(e) => Err(e.as_service_error().and_then(|s| s.code()).unwrap_or("no service error").to_string()),
    }
}

fn principals(sb: &Sandbox) -> Value {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", sb.emulator.port())).unwrap();
    write!(s, "GET /moto-api/fidelity/principals HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    serde_json::from_str(resp.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default()).unwrap_or_else(|e| panic!("the principal log ({e}): {resp}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fidelity_assume_role_honours_trust_policies() {
    let sb = Sandbox::new(3).await.unwrap();
    let mgmt = sb.org.management_account.clone();
    let (a, b) = (sb.org.members[0].id.clone(), sb.org.members[1].id.clone());
    let role_in = |account: &str, name: &str| format!("arn:aws:iam::{account}:role/{name}");

    // The role Organizations creates, trusting the management account only.
    let in_a = assume(&sb.conf, &role_in(&a, "OrganizationAccountAccessRole"), None).await.expect("the management account assumes the role CreateAccount made");
    let role = aws_sdk_iam::Client::new(&in_a).get_role().role_name("OrganizationAccountAccessRole").send().await.unwrap().role.unwrap();
    let trust: Value = serde_json::from_str(&percent_encoding::percent_decode_str(role.assume_role_policy_document().unwrap()).decode_utf8().unwrap()).unwrap();
    assert_eq!(trust["Statement"][0]["Principal"], json!({ "AWS": format!("arn:aws:iam::{mgmt}:root") }));
    assert_eq!(assume(&sb.conf, &role_in(&a, "NoSuchRole"), None).await.err().as_deref(), Some("AccessDenied"), "a role that does not exist");
    assert_eq!(
        assume(&in_a, &role_in(&b, "OrganizationAccountAccessRole"), None).await.err().as_deref(),
        Some("AccessDenied"),
        "a member account (a delegated administrator) is not trusted by OrganizationAccountAccessRole"
    );

    // A trust narrowed to one role of the management account, with an external id.
    let iam_mgmt = aws_sdk_iam::Client::new(&sb.conf);
    let mgmt_trust = json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": { "AWS": format!("arn:aws:iam::{mgmt}:root") }, "Action": "sts:AssumeRole" }] });
    for name in ["OrgtrailRunner", "Billing"] {
        // The emulator's IAM may outlive a reset: an existing role gets the trust instead.
        if iam_mgmt.create_role().role_name(name).assume_role_policy_document(mgmt_trust.to_string()).send().await.is_err() {
            iam_mgmt.update_assume_role_policy().role_name(name).policy_document(mgmt_trust.to_string()).send().await.unwrap();
        }
    }
    let narrowed = json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": { "AWS": format!("arn:aws:iam::{mgmt}:root") }, "Action": "sts:AssumeRole",
        "Condition": { "StringEquals": { "sts:ExternalId": "ext-1234" }, "ArnLike": { "aws:PrincipalArn": [format!("arn:aws:iam::{mgmt}:role/OrgtrailRunner")] } } }] });
    aws_sdk_iam::Client::new(&in_a).create_role().role_name("OrgtrailExecution").assume_role_policy_document(narrowed.to_string()).send().await.unwrap();
    let runner = assume(&sb.conf, &role_in(&mgmt, "OrgtrailRunner"), None).await.unwrap();
    let billing = assume(&sb.conf, &role_in(&mgmt, "Billing"), None).await.unwrap();
    let target = role_in(&a, "OrgtrailExecution");
    assert!(assume(&runner, &target, Some("ext-1234")).await.is_ok(), "the listed role with the external id");
    assert_eq!(assume(&runner, &target, Some("wrong")).await.err().as_deref(), Some("AccessDenied"), "a wrong external id");
    assert_eq!(assume(&runner, &target, None).await.err().as_deref(), Some("AccessDenied"), "no external id");
    assert_eq!(assume(&billing, &target, Some("ext-1234")).await.err().as_deref(), Some("AccessDenied"), "another role of the management account");

    // The principal log names each caller by its role.
    let log = principals(&sb);
    assert!(log[format!("arn:aws:iam::{mgmt}:role/OrgtrailRunner")]["sts.AssumeRole"][&target].as_u64() >= Some(3), "{log:#}");
    assert!(log[format!("arn:aws:iam::{mgmt}:root")]["sts.AssumeRole"].is_object(), "the default credentials are the management account's root: {log:#}");
}
