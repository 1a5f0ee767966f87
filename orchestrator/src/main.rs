//! The `orgtrail` binary: clap flags, one small function per subcommand, exit codes.
//! Everything that does work lives in the library.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory, Parser, Subcommand};
use orgtrail::access::{check_access, AccessOutcome};
use orgtrail::aws::{Aws, AwsOptions, RoleSpec};
use orgtrail::config::{self, Config, ConfigError};
use orgtrail::discovery::{discover, DiscoverOptions};
use orgtrail::report::{self, table::Table};

/// Exit codes (docs/operations.md): 0 converged, 1 failures recorded, 2 bad input, 3 needs manual action.
mod exit {
    pub const FAILURES: u8 = 1;
    pub const BAD_INPUT: u8 = 2;
    pub const MANUAL_ACTION: u8 = 3;
    pub const INTERRUPTED: u8 = 130;
}

mod commands;

#[derive(Parser)]
#[command(
    name = "orgtrail",
    version,
    about = "Roll out AWS CloudTrail across an AWS Organization in safe, resumable waves",
    after_help = "Example:\n  orgtrail init && orgtrail accounts --check-access && orgtrail plan && orgtrail apply\n\nDocs: README.md, docs/quickstart.md, docs/operations.md"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
pub struct Global {
    /// The rollout config.
    #[arg(short, long, global = true, env = "ORGTRAIL_CONFIG", default_value = "orgtrail.toml")]
    pub config: PathBuf,
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
enum Command {
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
        format: Option<orgtrail::verify::render::Format>,
        /// Write the report to this file instead of stdout (a summary line goes to stderr).
        #[arg(long)]
        output: Option<PathBuf>,
    },
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
enum MfaDeleteAction {
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
    new_run: bool,
    /// Resume the open run although the config changed since it started.
    #[arg(long)]
    accept_config_change: bool,
    /// Only this wave.
    #[arg(long)]
    wave: Option<String>,
    /// Only these member accounts (comma-separated ids).
    #[arg(long)]
    accounts: Option<String>,
    /// No progress bars (they are off anyway when stderr is not a terminal or with --json).
    #[arg(long)]
    no_progress: bool,
    /// Break the state lock first (names the holder it removes). Only when that holder is gone.
    #[arg(long)]
    force_unlock: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.verbose);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(exit_code_of(&err))
        }
    }
}

fn exit_code_of(err: &anyhow::Error) -> u8 {
    use orgtrail::rollout::RolloutError;
    use orgtrail_state::StateError;
    let bad_input = |e: &(dyn std::error::Error + 'static)| {
        e.is::<ConfigError>()
            || e.is::<BadInput>()
            || e.is::<orgtrail::plan::PlanError>()
            || matches!(e.downcast_ref::<StateError>(), Some(StateError::Corrupt { .. } | StateError::OtherOrganization { .. }))
            || matches!(e.downcast_ref::<RolloutError>(), Some(RolloutError::ConfigChanged { .. } | RolloutError::WrongOrganization { .. } | RolloutError::Plan(_)))
            || matches!(e.downcast_ref::<RolloutError>(), Some(RolloutError::State(StateError::Corrupt { .. } | StateError::OtherOrganization { .. })))
    };
    if err.chain().any(bad_input) {
        exit::BAD_INPUT
    } else {
        exit::FAILURES
    }
}

/// An error in what the operator gave us (flags, files), as opposed to a failure in AWS.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// The state directory: `--state-dir`, else `[state] dir`-less default next to the config.
pub fn state_dir(global: &Global, _config: Option<&Config>) -> PathBuf {
    global.state_dir.clone().unwrap_or_else(|| orgtrail::rollout::default_state_dir(&global.config))
}

pub fn open_state(global: &Global, config: &Config) -> Result<(orgtrail_state::Store, PathBuf)> {
    let dir = state_dir(global, Some(config));
    Ok((orgtrail_state::Store::open(&dir)?, dir))
}

async fn mfa_delete_enable(global: &Global, serial: &str, code: &str, bucket: Option<&str>) -> Result<u8> {
    let config = load_config(global, true)?.expect("required");
    let buckets = orgtrail::steps::mfa_delete::target_buckets(&config, bucket).map_err(BadInput)?;
    let aws = connect(global, Some(&config)).await;
    let outcome = orgtrail::steps::mfa_delete::enable(&aws, &config, &buckets, serial, code).await?;
    if global.json {
        report::print_json(&outcome)?;
    } else {
        println!("{}", outcome.summary());
    }
    Ok(0)
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,orgtrail=info",
        _ => "info,orgtrail=debug,aws_config=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ORGTRAIL_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(|| report::redact::RedactingStderr).with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).with_target(false).init();
}

async fn run(cli: Cli) -> Result<u8> {
    match &cli.command {
        Command::Init { force } => init(&cli.global.config, *force),
        // Tags cost one call per account: the plain table shows them; --check-access and --json
        // consumers get them only with --tags.
        Command::Accounts { check_access, tags, no_tags } => accounts(&cli.global, *check_access, *tags || !(*no_tags || *check_access || cli.global.json)).await,
        Command::Plan { members } => commands::plan::plan(&cli.global, *members).await,
        Command::Apply(args) => commands::apply::apply(&cli.global, args).await,
        Command::Status { run, failed } => commands::status::status(&cli.global, run.as_deref(), *failed).await,
        Command::State { action } => commands::state::state(&cli.global, action).await,
        Command::RenderPolicies => commands::policies::render(&cli.global).await,
        Command::Verify { format, output } => commands::verify::verify(&cli.global, *format, output.as_deref()).await,
        Command::Delegate { account, dry_run } => commands::delegate::delegate(&cli.global, account.as_deref(), *dry_run).await,
        Command::MfaDelete { action: MfaDeleteAction::Enable { mfa_serial, mfa_code, bucket } } => mfa_delete_enable(&cli.global, mfa_serial, mfa_code, bucket.as_deref()).await,
        Command::RenderBootstrap(args) => commands::bootstrap::render_bootstrap(&cli.global, args),
        Command::Completions { shell } => commands::docs::completions(*shell, &mut Cli::command()),
        Command::Man { dir } => commands::docs::man(Cli::command(), dir.as_deref()),
    }
}

fn init(path: &Path, force: bool) -> Result<u8> {
    if path.exists() && !force {
        return Err(BadInput(format!("{} already exists; pass --force to overwrite it", path.display())).into());
    }
    std::fs::write(path, config::EXAMPLE).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("wrote {}: edit the accounts, bucket and waves, then run `orgtrail plan`", path.display());
    Ok(0)
}

/// The config, if the file exists. Commands that can run without one (accounts) pass `required = false`.
pub fn load_config(global: &Global, required: bool) -> Result<Option<Config>> {
    let explicit = std::env::args_os().any(|a| a == "-c" || a == "--config" || a.to_string_lossy().starts_with("--config="))
        || std::env::var_os("ORGTRAIL_CONFIG").is_some();
    if !global.config.exists() && !required && !explicit {
        return Ok(None);
    }
    Ok(Some(config::load(&global.config)?))
}

pub async fn connect(global: &Global, config: Option<&Config>) -> Aws {
    let opts = AwsOptions { profile: global.profile.clone(), region: global.region.clone(), endpoint_url: global.endpoint_url.clone(), attempt_timeout: None };
    let home = config.map_or_else(|| std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into()), |c| c.organization.home_region.clone());
    let rate = config.map_or(10, |c| c.access.organizations_calls_per_second);
    Aws::load(&opts, &home, rate).await
}

pub fn role_spec(config: Option<&Config>, session: &str) -> (RoleSpec, usize) {
    let access = config.map(|c| c.access.clone());
    let spec = RoleSpec {
        partition: config.map_or("aws".into(), |c| c.organization.partition.clone()),
        role_name: access.as_ref().map_or(config::DEFAULT_ROLE_NAME.into(), |a| a.role_name.clone()),
        external_id: access.as_ref().and_then(|a| a.external_id.clone()),
        session_name: session.into(),
        duration_seconds: access.as_ref().map_or(3600, |a| a.session_duration_seconds),
    };
    (spec, access.map_or(32, |a| a.max_concurrency))
}

async fn accounts(global: &Global, check: bool, with_tags: bool) -> Result<u8> {
    let config = load_config(global, false)?;
    let (spec, concurrency) = role_spec(config.as_ref(), "orgtrail-accounts");
    let aws = connect(global, config.as_ref()).await.with_role(spec, concurrency);
    let started = std::time::Instant::now();
    let inventory = discover(&aws, &DiscoverOptions { with_tags }).await.context("discovering the organization")?;
    let discovery_calls = aws.metrics.total();
    let access = if check {
        let caller = aws.caller_identity().await.context("reading the caller identity (STS.GetCallerIdentity)")?;
        Some(check_access(&aws, &inventory.accounts, &caller.account, concurrency).await)
    } else {
        None
    };
    let failures = access.as_ref().map_or(0, |a| a.iter().filter(|r| r.outcome != AccessOutcome::Ok).count());
    if global.json {
        report::print_json(&serde_json::json!({
            "organization": inventory.organization,
            "accounts": inventory.accounts,
            "skipped": inventory.skipped,
            "ous": inventory.ous,
            "tags_fetched": inventory.tags_fetched,
            "access": access,
            "api_calls": { "discovery": discovery_calls, "by_operation": aws.metrics.snapshot() },
            "elapsed_seconds": started.elapsed().as_secs_f64(),
        }))?;
    } else {
        let mut t = Table::new(["ACCOUNT", "NAME", "OU PATH", "STATUS", "TAGS", "ACCESS"]).keep_whole([0, 3]);
        let access_of = |id: &str| access.as_ref().and_then(|a| a.iter().find(|r| r.account == id));
        for a in &inventory.accounts {
            let tags = a.tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
            let acc = access_of(&a.id).map_or(String::new(), |r| match r.outcome {
                AccessOutcome::Ok => "ok".into(),
                AccessOutcome::AccessDenied => format!("access denied ({})", r.error_code.as_deref().unwrap_or("?")),
                AccessOutcome::Other => format!("error ({}): {}", r.error_code.as_deref().unwrap_or("?"), r.message.as_deref().unwrap_or("")),
            });
            t.row([a.id.clone(), a.name.clone(), a.ou_path.clone(), a.status.clone(), tags, acc]);
        }
        print!("{}", t.render());
        for s in &inventory.skipped {
            println!("skipped {} ({}): {}", s.account.id, s.account.name, s.reason);
        }
        eprintln!(
            "{} active accounts, {} skipped, {} OUs in {} ({} Organizations calls) in {:.1}s",
            inventory.accounts.len(),
            inventory.skipped.len(),
            inventory.ous.len(),
            inventory.organization.id,
            discovery_calls.calls,
            started.elapsed().as_secs_f64()
        );
        if let Some(a) = &access {
            eprintln!("access: {} ok, {} failed", a.len() - failures, failures);
        }
    }
    if failures > 0 {
        return Ok(exit::FAILURES);
    }
    Ok(0)
}

