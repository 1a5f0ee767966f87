//! What every end-to-end test starts from: an emulator with a seeded organization, and the
//! `orgtrail` binary to run against it.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::Result;
use aws_config::SdkConfig;

use crate::{sdk_config, seed, Emulator, SeededOrg};

pub struct Sandbox {
    pub emulator: Emulator,
    pub conf: SdkConfig,
    pub org: SeededOrg,
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    /// A fresh emulator with an organization of `members` member accounts and a generated config.
    pub async fn new(members: usize) -> Result<Sandbox> {
        let emulator = Emulator::start()?;
        let conf = sdk_config(&emulator.endpoint()).await;
        let org = seed(&conf, members).await?;
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("orgtrail.toml"), crate::sandbox_config(&org))?;
        Ok(Sandbox { emulator, conf, org, dir })
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("orgtrail.toml")
    }

    /// `orgtrail ARGS` with the emulator's environment, in the sandbox's directory.
    pub fn orgtrail(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("running orgtrail")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(orgtrail_bin());
        cmd.args(args).current_dir(self.dir.path()).envs(self.emulator.env()).env_remove("AWS_PROFILE").env_remove("ORGTRAIL_CONFIG").env_remove("COLUMNS");
        cmd
    }
}

/// The `orgtrail` binary cargo built next to this test binary (target/debug/orgtrail).
pub fn orgtrail_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(Path::parent).expect("target/debug/deps/..");
    let bin = dir.join("orgtrail");
    assert!(bin.exists(), "{} not built: run `cargo build --workspace --bins` first (scripts/test.sh does)", bin.display());
    bin
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The role the sandbox's accounts trust (the seeder creates none: moto accepts any role name).
pub fn test_role() -> orgtrail::aws::RoleSpec {
    orgtrail::aws::RoleSpec {
        partition: "aws".into(),
        role_name: "OrganizationAccountAccessRole".into(),
        external_id: None,
        session_name: "orgtrail-test".into(),
        duration_seconds: 900,
    }
}

/// A fresh `Aws` (its own call metrics) against the sandbox, assuming the test role.
pub fn test_aws(sb: &Sandbox) -> orgtrail::aws::Aws {
    orgtrail::aws::Aws::from_config(sb.conf.clone(), 50).with_role(test_role(), 8)
}

/// What a step test needs to build a `Ctx`: the sandbox, a config, the organization, the caller,
/// and the member accounts as targets.
pub struct StepWorld {
    pub sb: Sandbox,
    pub config: orgtrail::config::Config,
    pub org: orgtrail::discovery::OrganizationInfo,
    pub caller: orgtrail::aws::CallerIdentity,
    pub targets: Vec<String>,
}

impl StepWorld {
    pub async fn new(sb: Sandbox, config: orgtrail::config::Config) -> StepWorld {
        let a = test_aws(&sb);
        let org = orgtrail::discovery::discover(&a, &orgtrail::discovery::DiscoverOptions { with_tags: false }).await.expect("discovery").organization;
        let caller = a.caller_identity().await.expect("caller identity");
        let targets = sb.org.members.iter().map(|m| m.id.clone()).collect();
        StepWorld { sb, config, org, caller, targets }
    }

    pub fn ctx<'a>(&'a self, aws: &'a orgtrail::aws::Aws, apply: bool) -> orgtrail::steps::Ctx<'a> {
        orgtrail::steps::Ctx { aws, config: &self.config, org: &self.org, caller: &self.caller, targets: &self.targets, apply }
    }

    /// The log-archive account's session in the home region, for reading back (and drifting) resources.
    pub fn log_archive_session(&self, aws: &orgtrail::aws::Aws) -> SdkConfig {
        aws.session(&self.sb.org.log_archive_account).to_builder().region(aws_config::Region::new(self.config.organization.home_region.clone())).build()
    }

    /// kms-key, access-log-bucket, log-bucket in the executor's order; every change they report.
    pub async fn converge_log_archive(&self, aws: &orgtrail::aws::Aws, apply: bool) -> Vec<orgtrail::steps::Change> {
        use orgtrail::steps::{kms_key, log_bucket};
        let ctx = self.ctx(aws, apply);
        let mut changes = Vec::new();
        for out in [kms_key::converge(&ctx).await, log_bucket::converge_access_log_bucket(&ctx).await, log_bucket::converge_log_bucket(&ctx).await] {
            changes.extend(out.unwrap().changes);
        }
        changes
    }
}

/// Declares a test file's `struct World(StepWorld)`, dereferencing to the `StepWorld`, so the
/// file can add helpers of its own (`impl World { ... }`).
#[macro_export]
macro_rules! step_world {
    () => {
        struct World($crate::harness::StepWorld);

        impl std::ops::Deref for World {
            type Target = $crate::harness::StepWorld;
            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }

        impl std::ops::DerefMut for World {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.0
            }
        }
    };
}

/// Base credentials acting in `account`, for running orgtrail as that account (a CloudTrail
/// delegated administrator): an AssumeRole from the management account, which the emulator honours
/// for any role name. Returned as the environment a process needs.
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

/// `orgtrail ARGS --json`: (exit code, the JSON document on stdout).
pub fn orgtrail_json(sb: &Sandbox, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = args.to_vec();
    all.push("--json");
    let out = sb.orgtrail(&all);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("orgtrail {args:?}: not JSON ({e}): {}\nstderr: {}", stdout(&out), stderr(&out)));
    (out.status.code().unwrap_or(-1), v)
}

/// An operator with console access to the sandbox, changing things behind orgtrail's back: the
/// log-archive account's S3 and KMS in the home region, and the management account's CloudTrail.
pub struct Operator {
    pub aws: orgtrail::aws::Aws,
    conf: SdkConfig,
    pub log_archive: String,
    pub bucket: String,
    pub trail_arn: String,
}

impl Operator {
    /// For the sandbox config's names: bucket `orgtrail-logs-{log archive}`, trail `orgtrail`.
    pub fn new(sb: &Sandbox) -> Operator {
        let la = sb.org.log_archive_account.clone();
        Operator {
            aws: test_aws(sb),
            conf: sb.conf.clone(),
            bucket: format!("orgtrail-logs-{la}"),
            trail_arn: format!("arn:aws:cloudtrail:us-east-1:{}:trail/orgtrail", sb.org.management_account),
            log_archive: la,
        }
    }

    fn in_log_archive(&self) -> SdkConfig {
        self.aws.session(&self.log_archive).to_builder().region(aws_config::Region::new("us-east-1")).build()
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        self.aws.s3(&self.in_log_archive())
    }

    pub fn kms(&self) -> aws_sdk_kms::Client {
        self.aws.kms(&self.in_log_archive())
    }

    /// The management account's CloudTrail (base credentials).
    pub fn cloudtrail(&self) -> aws_sdk_cloudtrail::Client {
        aws_sdk_cloudtrail::Client::new(&self.conf)
    }
}

/// "step resource" → action (with the fields of an update) of every change that is not "no change":
/// the same shape for `plan --json` steps and `apply --json` central results.
pub fn changes(steps: &serde_json::Value) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    for s in steps.as_array().unwrap() {
        for c in s["changes"].as_array().into_iter().flatten() {
            let action = c["action"].as_str().unwrap();
            if action == "no-change" {
                continue;
            }
            let what = match c["fields"].as_array() {
                Some(f) => format!("{action}: {}", f.iter().map(|x| x.as_str().unwrap()).collect::<Vec<_>>().join(", ")),
                None => action.to_string(),
            };
            out.insert(format!("{} {}", s["step"].as_str().unwrap(), c["resource"].as_str().unwrap()), what);
        }
    }
    out
}
