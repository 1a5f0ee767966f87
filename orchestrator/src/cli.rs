//! The command line: global flags, subcommands and their flags (clap derive). Nothing here is
//! interpreted: `settings.rs` resolves the flags, the environment and the config once.
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands;

/// The help heading of the flags every command takes, apart from its own.
pub const GLOBAL: &str = "Global options";

/// The commands that never read the config, the state or AWS: the global flags mean nothing there
/// and are left out of their help (they are still accepted, as clap propagates them).
const WITHOUT_GLOBALS: [&str; 3] = ["init", "completions", "man"];
/// Global flags that `init` does use: where it writes the config.
const INIT_USES: [&str; 1] = ["config"];

#[derive(Parser)]
#[command(
    name = "orgtrail",
    version,
    about = "Roll out AWS CloudTrail across an AWS Organization in safe, resumable waves",
    after_help = "Example:\n  orgtrail init && orgtrail accounts --check-access && orgtrail plan && orgtrail apply\n\nMore: `orgtrail COMMAND --help`, `orgtrail man` (exit status, environment, files); the guides are in the docs folder of orgtrail's source"
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
    #[arg(help_heading = GLOBAL, short, long, global = true, env = "ORGTRAIL_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// AWS shared-config profile for the base credentials.
    #[arg(help_heading = GLOBAL, long, global = true, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Region for API calls (default: the config's home_region, else the SDK's region chain).
    #[arg(help_heading = GLOBAL, long, global = true)]
    pub region: Option<String>,
    /// Send every AWS call to this endpoint (an emulator); S3 then uses path-style addressing.
    #[arg(help_heading = GLOBAL, long, global = true, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// Machine-readable JSON on stdout (no progress bars, no tables).
    #[arg(help_heading = GLOBAL, long, global = true)]
    pub json: bool,
    /// Where the rollout state lives (default: next to the config, `orgtrail.toml` → `orgtrail.state/`).
    #[arg(help_heading = GLOBAL, long, global = true, env = "ORGTRAIL_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Shared state in S3 (s3://BUCKET/PREFIX), locked with S3 conditional writes; overrides `[state] url`.
    /// The local state (--state-dir) is then its working copy.
    #[arg(help_heading = GLOBAL, long, global = true, env = "ORGTRAIL_STATE", value_name = "URL")]
    pub state: Option<String>,
    /// More log output on stderr (-v info, -vv debug). Credentials are never logged.
    #[arg(help_heading = GLOBAL, short, long, global = true, action = clap::ArgAction::Count)]
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
    #[command(after_help = "Examples:\n  orgtrail plan --members\n  orgtrail plan --out orgtrail.plan.json && orgtrail apply --plan orgtrail.plan.json\n  orgtrail plan --detailed-exitcode   # CI: 0 no changes, 2 changes pending, 1 error")]
    Plan {
        /// Also check every targeted member account (assumes the role in each).
        #[arg(long)]
        members: bool,
        /// Save the plan (every observed resource, its planned change, the config's fingerprint) as
        /// JSON to this file, for `apply --plan FILE`.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Terraform's exit codes: 0 no changes, 2 changes pending, 1 any error.
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// Converge: resume the open run (or start one) and roll out wave by wave.
    #[command(after_help = "Example:\n  orgtrail apply --wave canary")]
    Apply(ApplyArgs),
    /// Take orgtrail's footprint back in the safe order: the tamper-protection SCP first, then detection,
    /// Insights, the delegated registration; never a log, the log bucket or the key.
    #[command(after_help = "Examples:\n  orgtrail remove --dry-run\n  orgtrail remove\n  orgtrail remove --stop-trail   # only once another organization trail logs every account and region\n\nDocs: the removal guide (in orgtrail's source), \"Taking it back\"")]
    Remove {
        /// List what would be removed, in order, and what is kept; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also stop and delete the organization trail: refused unless another trail is confirmed to
        /// log every account and region (organization, multi-region, logging, management events read and write).
        #[arg(long)]
        stop_trail: bool,
    },
    /// Show the runs, per-wave counts, and failed accounts with reasons and AWS error codes.
    #[command(after_help = "Example:\n  orgtrail status --failed")]
    Status {
        /// A run id (default: the latest run).
        run: Option<String>,
        /// Only the failed targets.
        #[arg(long)]
        failed: bool,
    },
    /// Print the bucket, key, SCP and role policies apply would put (read-only; --offline: from the config alone).
    #[command(after_help = "Examples:\n  orgtrail render-policies > policies.txt\n  orgtrail render-policies --offline --organization-id o-a1b2c3d4e5 --management-account 111111111111")]
    RenderPolicies(PoliciesArgs),
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
    #[command(after_help = "Examples:\n  orgtrail validate-logs --start-time 2026-01-01T00:00:00Z --format junit --output validate.xml\n  orgtrail validate-logs --since-last\n  orgtrail validate-logs --shard 1/4 --format json --output shard-1.json\n  orgtrail validate-logs merge shard-*.json\n\nDocs: the validate-logs guide (in orgtrail's source), \"Validating the logs\"")]
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
    #[command(after_help = "Examples:\n  orgtrail render-bootstrap > orgtrail-bootstrap.yaml\n  orgtrail render-bootstrap --stack-set r-abcd > orgtrail-bootstrap-stackset.yaml\n\nDeploying it: the quick start guide (in orgtrail's source), \"Bootstrap the member role\"")]
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
pub struct PoliciesArgs {
    /// Render from the config alone, with no AWS call: for review before any access exists. What
    /// only AWS knows comes from the flags below or the config, else a named placeholder.
    #[arg(long)]
    pub offline: bool,
    /// With --offline: the organization id (default: [organization] id, else o-ORGANIZATION-ID).
    #[arg(long, value_name = "ID", requires = "offline")]
    pub organization_id: Option<String>,
    /// With --offline: the management account (default: [organization] management_account, else MANAGEMENT-ACCOUNT-ID).
    #[arg(long, value_name = "ACCOUNT_ID", requires = "offline")]
    pub management_account: Option<String>,
}

#[derive(Args)]
pub struct ApplyArgs {
    /// Start a new run instead of resuming the unfinished one.
    #[arg(long)]
    pub new_run: bool,
    /// Resume the open run although the config changed since it started.
    #[arg(long, conflicts_with = "new_run")]
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
    /// Write exactly this saved plan (`plan --out FILE`): refused, nothing written, when the config
    /// or the live state differs from what it observed. Starts a new run.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["new_run", "accept_config_change", "wave", "accounts"])]
    pub plan: Option<PathBuf>,
}

/// The command line as parsed, with the global flags hidden where they mean nothing: those
/// subcommands get hidden copies first, and clap propagates a global flag only to a subcommand
/// that does not have it yet.
pub fn command() -> clap::Command {
    let cmd = <Cli as clap::CommandFactory>::command();
    let globals: Vec<clap::Arg> = cmd.get_arguments().filter(|a| a.is_global_set()).cloned().collect();
    WITHOUT_GLOBALS.into_iter().fold(cmd, |cmd, name| {
        cmd.mut_subcommand(name, |sub| {
            let hidden = globals.iter().filter(|a| !(name == "init" && INIT_USES.contains(&a.get_id().as_str())));
            sub.args(hidden.map(|a| a.clone().hide(true)))
        })
    })
}

/// What clap cannot say by itself: `--json` asks for JSON, so a `--format` of anything else
/// contradicts it (rather than one silently winning).
pub fn conflicts(cmd: &mut clap::Command, matches: &clap::ArgMatches) -> Option<clap::Error> {
    let (name, sub) = matches.subcommand()?;
    let json = sub.get_flag("json");
    let format = sub.try_get_raw("format").ok().flatten().and_then(|mut v| v.next()).map(|v| v.to_string_lossy().into_owned());
    match format {
        Some(f) if json && !f.eq_ignore_ascii_case("json") => Some(cmd.error(
            clap::error::ErrorKind::ArgumentConflict,
            format!("the argument '--json' cannot be used with '--format {f}' (orgtrail {name}): --json is --format json; pass one of them"),
        )),
        _ => None,
    }
}

/// A command orgtrail does not have, but an operator reaches for: what to run instead.
pub fn tip_for_unknown(command: &str) -> Option<&'static str> {
    match command.to_ascii_lowercase().as_str() {
        "destroy" | "delete" | "uninstall" | "teardown" | "rollback" | "undo" | "down" => {
            Some("orgtrail takes its footprint back with `orgtrail remove --dry-run` (lists what it would remove and keep), then `orgtrail remove`; the removal guide (in orgtrail's source) has \"Taking it back\"")
        }
        "install" | "deploy" | "up" | "rollout" => Some("`orgtrail plan` shows what would change, `orgtrail apply` rolls it out"),
        "audit" | "check" | "validate" => Some("`orgtrail verify` audits the organization against the baseline"),
        _ => None,
    }
}
