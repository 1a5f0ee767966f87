//! The command line: global flags, subcommands and their flags (clap derive). Nothing here is
//! interpreted: `settings.rs` resolves the flags, the environment and the config once.
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands;

#[derive(Parser)]
#[command(
    name = "orgtrail",
    version,
    about = "Roll out AWS CloudTrail across an AWS Organization in safe, resumable waves",
    after_help = "Example:\n  orgtrail init && orgtrail accounts --check-access && orgtrail plan && orgtrail apply\n\nDocs: README.md, docs/quickstart.md, docs/operations.md"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args)]
pub struct Global {
    /// The rollout config [default: orgtrail.toml].
    #[arg(short, long, global = true, env = "ORGTRAIL_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// AWS shared-config profile for the base credentials.
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Region for API calls (default: the config's home_region, else the SDK's region chain).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Send every AWS call to this endpoint (an emulator); S3 then uses path-style addressing.
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// Machine-readable JSON on stdout (no progress bars, no tables).
    #[arg(long, global = true)]
    pub json: bool,
    /// Where the rollout state lives (default: next to the config, `orgtrail.toml` → `orgtrail.state/`).
    #[arg(long, global = true, env = "ORGTRAIL_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Shared state in S3 (s3://BUCKET/PREFIX), locked with S3 conditional writes; overrides `[state] url`.
    /// The local state (--state-dir) is then its working copy.
    #[arg(long, global = true, env = "ORGTRAIL_STATE", value_name = "URL")]
    pub state: Option<String>,
    /// More log output on stderr (-v info, -vv debug). Credentials are never logged.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Subcommand)]
pub enum Command {
    /// Write a commented example config.
    #[command(after_help = "Example:\n  orgtrail init --config orgtrail.toml")]
    Init {
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// List the organization's accounts with OU path, status and tags.
    #[command(after_help = "Example:\n  orgtrail accounts --check-access")]
    Accounts {
        /// Assume the role in every account and report ok / access denied / other.
        #[arg(long)]
        check_access: bool,
        /// Fetch and show tags (one Organizations call per account) also with --check-access or --json.
        #[arg(long, conflicts_with = "no_tags")]
        tags: bool,
        /// Never fetch tags (the table's TAGS column stays empty).
        #[arg(long)]
        no_tags: bool,
    },
    /// Show what apply would change (read-only): central resources, waves, untargeted accounts.
    #[command(after_help = "Example:\n  orgtrail plan --members")]
    Plan {
        /// Also check every targeted member account (assumes the role in each).
        #[arg(long)]
        members: bool,
    },
    /// Converge: resume the open run (or start one) and roll out wave by wave.
    #[command(after_help = "Example:\n  orgtrail apply --wave canary")]
    Apply(ApplyArgs),
    /// Show the runs, per-wave counts, and failed accounts with reasons and AWS error codes.
    #[command(after_help = "Example:\n  orgtrail status --failed")]
    Status {
        /// A run id (default: the latest run).
        run: Option<String>,
        /// Only the failed targets.
        #[arg(long)]
        failed: bool,
    },
    /// Print the bucket and key policies apply would put (read-only).
    #[command(after_help = "Example:\n  orgtrail render-policies > policies.txt")]
    RenderPolicies,
    /// Pull, push or show the shared rollout state in S3 (--state s3://...).
    #[command(after_help = "Example:\n  orgtrail --state s3://my-state-bucket/orgtrail state show")]
    State {
        #[command(subcommand)]
        action: commands::state::StateAction,
    },
    /// Audit the live organization against the baseline (read-only): PASS / FAIL / NOT-APPLICABLE / MANUAL per control.
    #[command(after_help = "Example:\n  orgtrail verify --format sarif --output verify.sarif")]
    Verify {
        /// Output format (default: table, or json with --json).
        #[arg(long, value_enum)]
        format: Option<commands::verify::VerifyFormat>,
        /// Write the report to this file instead of stdout (a summary line goes to stderr).
        #[arg(long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        security_hub: commands::verify::SecurityHubArgs,
    },
    /// Write one self-contained HTML report for auditors: headline, OU tree, controls with evidence, integrity, runs.
    #[command(after_help = "Examples:\n  orgtrail report --output report.html\n  orgtrail verify --json --output verify.json; orgtrail validate-logs --digests-only --format json --output validate.json\n  orgtrail report --verify verify.json --validate validate.json --output report.html")]
    Report(commands::report::ReportArgs),
    /// Prove the CloudTrail record complete and untampered from the trail's signed digests, per account x region (read-only but for the chain heads it records).
    #[command(after_help = "Examples:\n  orgtrail validate-logs --start-time 2026-01-01T00:00:00Z --format junit --output validate.xml\n  orgtrail validate-logs --since-last\n  orgtrail validate-logs --shard 1/4 --format json --output shard-1.json\n  orgtrail validate-logs merge shard-*.json\n\nDocs: docs/operations.md (\"Validating the logs\")")]
    ValidateLogs(commands::validate_logs::ValidateLogsArgs),
    /// Make an account a CloudTrail delegated administrator (run with the management account's
    /// credentials): enables trusted access if needed and registers it. Idempotent.
    #[command(after_help = "Example:\n  orgtrail delegate --account 333333333333 --dry-run")]
    Delegate {
        /// The member account (default: the config's delegated_admin_account).
        #[arg(long)]
        account: Option<String>,
        /// Show what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Turn on MFA Delete on the log bucket and the access-log bucket (needs the log-archive account's root user).
    #[command(after_help = "Example:\n  orgtrail mfa-delete enable --mfa-serial arn:aws:iam::222222222222:mfa/root-account-mfa-device --mfa-code 123456")]
    MfaDelete {
        #[command(subcommand)]
        action: MfaDeleteAction,
    },
    /// Print the CloudFormation template that creates orgtrail's member role in every account (a service-managed StackSet).
    #[command(after_help = "Examples:\n  orgtrail render-bootstrap > orgtrail-bootstrap.yaml\n  orgtrail render-bootstrap --stack-set r-abcd > orgtrail-bootstrap-stackset.yaml\n\nDeploying it: docs/quickstart.md")]
    RenderBootstrap(commands::bootstrap::BootstrapArgs),
    /// Print the shell completion script for orgtrail.
    #[command(after_help = "Examples:\n  orgtrail completions bash > ~/.local/share/bash-completion/completions/orgtrail\n  orgtrail completions zsh > ~/.zfunc/_orgtrail\n  orgtrail completions fish > ~/.config/fish/completions/orgtrail.fish")]
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per command into a directory.
    #[command(after_help = "Examples:\n  orgtrail man | man -l -\n  orgtrail man --dir ~/.local/share/man/man1")]
    Man {
        /// Write orgtrail.1 and orgtrail-COMMAND.1 for every subcommand into this directory.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum MfaDeleteAction {
    /// Enable MFA Delete, with the root user's credentials of the log-archive account.
    #[command(after_help = "Example:\n  AWS_PROFILE=log-archive-root orgtrail mfa-delete enable --mfa-serial arn:aws:iam::222222222222:mfa/root-account-mfa-device --mfa-code 123456")]
    Enable {
        /// The root user's MFA device (arn:aws:iam::ACCOUNT:mfa/root-account-mfa-device or its serial).
        #[arg(long)]
        mfa_serial: String,
        /// The device's current 6-digit code.
        #[arg(long)]
        mfa_code: String,
        /// Only this bucket (the log bucket or the access-log bucket); default: both.
        #[arg(long)]
        bucket: Option<String>,
    },
}

#[derive(Args)]
pub struct ApplyArgs {
    /// Start a new run instead of resuming the unfinished one.
    #[arg(long)]
    pub new_run: bool,
    /// Resume the open run although the config changed since it started.
    #[arg(long)]
    pub accept_config_change: bool,
    /// Only this wave.
    #[arg(long)]
    pub wave: Option<String>,
    /// Only these member accounts (comma-separated ids).
    #[arg(long)]
    pub accounts: Option<String>,
    /// No progress bars (they are off anyway when stderr is not a terminal or with --json).
    #[arg(long)]
    pub no_progress: bool,
    /// Break the state lock first (names the holder it removes). Only when that holder is gone.
    #[arg(long)]
    pub force_unlock: bool,
}
