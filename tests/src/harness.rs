//! What every end-to-end test starts from: an emulator with a seeded organization, and the
//! `orgtrail` binary to run against it.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::Result;
use aws_config::SdkConfig;

use crate::{sdk_config, seed, Emulator, SeededOrg};

mod accounts;
mod config;
mod delivery;
mod member_side;
mod operator;
mod outcome;
mod report;
mod world;

pub use accounts::{assumed_conf, assumed_env, iam_user_credentials, requests_by_account, requests_since};
pub use config::{toml_array, ConfigEdit};
pub use delivery::{aws, aws_cli, deliver, post};
pub use operator::{event_selector, Operator};
pub use outcome::{assert_no_writes, fields_of, only, only_of_kind, refusal};
pub use report::{changes, failing, findings, json, json_ok, orgtrail_json, verify_json};
pub use world::{role, test_aws, test_role, StepWorld};

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

    /// A fresh sandbox whose config is the generated one with `edit` applied.
    pub async fn with_config(members: usize, edit: impl FnOnce(ConfigEdit) -> ConfigEdit) -> Result<Sandbox> {
        let sb = Sandbox::new(members).await?;
        sb.edit_config(edit);
        Ok(sb)
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("orgtrail.toml")
    }

    /// Rewrites the sandbox's orgtrail.toml with `edit` (structural: see [`ConfigEdit`]).
    pub fn edit_config(&self, edit: impl FnOnce(ConfigEdit) -> ConfigEdit) {
        edit(ConfigEdit::read(&self.config_path())).write(&self.config_path());
    }

    /// The organization trail the sandbox config names, in the management account.
    pub fn org_trail_arn(&self) -> String {
        format!("arn:aws:cloudtrail:us-east-1:{}:trail/orgtrail", self.org.management_account)
    }

    /// An S3 client of the management account, path-style (bucket names need no DNS).
    pub fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&self.conf).force_path_style(true).build())
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
