//! `orgtrail validate-logs`: the integrity of the organization's CloudTrail record, from the
//! trail's signed digests, per account x region; `validate-logs merge` joins shard results. Exit 0
//! when all is valid, 1 when anything is invalid or missing, 2 on bad input (nothing read then).
use std::path::PathBuf;

use clap::{Args, Subcommand};
use orgtrail::remote_state::{Remote, RemoteSession, RemoteState};
use orgtrail::validate::{self, render, times::Window, ChainHead, Report, Request, Shard};
use orgtrail::verify::render::Format;
use orgtrail_state::Store;

use super::output::out;
use crate::failure::{Context, Exit, ExitClass, Failure};
use crate::settings::{Settings, StateLocation};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ValidateLogsArgs {
    #[command(subcommand)]
    pub action: Option<ValidateLogsAction>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Subcommand)]
pub enum ValidateLogsAction {
    /// Join the JSON results of `--shard K/N` runs into one result, and record its chain heads.
    #[command(after_help = "Example:\n  orgtrail validate-logs merge shard-1.json shard-2.json --format junit --output validate.xml")]
    Merge {
        /// The shards' JSON results (`--format json --output F` of each shard).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        output: OutputArgs,
    },
}

#[derive(Args)]
pub struct OutputArgs {
    /// Output format (default: table, or json with --json).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the result to this file instead of stdout (the summary line goes to stderr).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Args)]
pub struct RunArgs {
    /// Validate digests delivered from this UTC time, like the AWS CLI's (e.g. 2026-01-08T05:00:00Z) [default: 24 hours before the end].
    #[arg(long, value_name = "TIME")]
    pub start_time: Option<String>,
    /// ... up to this UTC time [default: now].
    #[arg(long, value_name = "TIME")]
    pub end_time: Option<String>,
    /// Only these accounts (comma-separated ids) [default: the management account and every targeted member].
    #[arg(long, value_name = "IDS", conflicts_with = "wave")]
    pub accounts: Option<String>,
    /// Only the accounts of this wave.
    #[arg(long, value_name = "WAVE")]
    pub wave: Option<String>,
    /// Only these regions (comma-separated) [default: every region the accounts have digests in].
    #[arg(long, value_name = "R,...")]
    pub regions: Option<String>,
    /// Check the digests and their chain only; do not read the log files.
    #[arg(long)]
    pub digests_only: bool,
    /// Validate only what arrived since the chain heads the last run recorded in the state.
    #[arg(long)]
    pub since_last: bool,
    /// Take a fixed share K of N of the account x region pairs (the result records no heads; merge does).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn validate_logs(settings: &Settings, args: &ValidateLogsArgs) -> Result<Exit, Failure> {
    match &args.action {
        Some(ValidateLogsAction::Merge { files, output }) => merge(settings, files, output).await,
        None => run(settings, &args.run).await,
    }
}

fn bad(message: impl Into<String>) -> Failure {
    Failure::new(ExitClass::BadInput, anyhow::anyhow!(message.into()))
}

fn list(value: &str) -> Vec<String> {
    value.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

fn is_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3 && parts[0].len() == 2 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())) && parts.last().is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

async fn run(settings: &Settings, args: &RunArgs) -> Result<Exit, Failure> {
    // Every flag is checked before the first AWS call.
    let now = time::OffsetDateTime::now_utc();
    let window = Window::from_flags(args.start_time.as_deref(), args.end_time.as_deref(), now).map_err(|e| bad(e.to_string()))?;
    let shard: Option<Shard> = args.shard.as_deref().map(str::parse).transpose().map_err(|e: validate::shard::BadShard| bad(e.to_string()))?;
    let regions = args.regions.as_deref().map(list);
    if let Some(r) = regions.iter().flatten().find(|r| !is_region(r)) {
        return Err(bad(format!("--regions: `{r}` is not a region name (e.g. us-east-1)")));
    }
    if regions.as_ref().is_some_and(Vec::is_empty) {
        return Err(bad("--regions: no region given"));
    }
    let live = super::Live::load(settings, "orgtrail-validate-logs").await?;
    let accounts = accounts(&live, args)?;
    let ctx = live.ctx();
    let trail = validate::trail_id(&ctx);
    let since_last = if args.since_last { Some(read_heads(settings, &live.aws, &trail).await?) } else { None };
    let req = Request { window, accounts, regions, digests_only: args.digests_only, since_last, shard, concurrency: live.concurrency, now };
    let report = validate::validate(&ctx, &req).await;
    emit(&report, &args.output, settings)?;
    if shard.is_none() {
        record_heads(settings, &live.aws, &report.heads()).await?;
    }
    Ok(if report.passed() { Exit::Ok } else { Exit::Failures })
}

/// --accounts (each must be in the organization), --wave (a planned wave), else the management
/// account (the organization trail logs it too) and every targeted member.
fn accounts(live: &super::Live<'_>, args: &RunArgs) -> Result<Vec<String>, Failure> {
    let management = live.inventory.organization.management_account.clone();
    let org_trail = live.config.trail.mode == orgtrail::config::TrailMode::Organization;
    if let Some(ids) = &args.accounts {
        let ids = list(ids);
        if ids.is_empty() {
            return Err(bad("--accounts: no account id given"));
        }
        if let Some(unknown) = ids.iter().find(|a| **a != management && live.inventory.account(a).is_none()) {
            return Err(bad(format!("--accounts: {unknown} is not an account of organization {}", live.inventory.organization.id)));
        }
        return Ok(ids);
    }
    if let Some(wave) = &args.wave {
        let w = live.plan.waves.iter().find(|w| w.name == *wave).ok_or_else(|| {
            bad(format!("--wave: no wave `{wave}` in the config (waves: {})", live.plan.waves.iter().map(|w| w.name.as_str()).collect::<Vec<_>>().join(", ")))
        })?;
        return Ok(w.accounts.clone());
    }
    let mut all: Vec<String> = if org_trail { vec![management] } else { vec![] };
    all.extend(live.targets.iter().filter(|a| !all.contains(a)).cloned().collect::<Vec<_>>());
    Ok(all)
}

fn emit(report: &Report, output: &OutputArgs, settings: &Settings) -> Result<(), Failure> {
    let format = output.format.unwrap_or(if settings.output.json { Format::Json } else { Format::Table });
    let text = render::render(report, format);
    match &output.output {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("{} (written to {})", render::summary_line(report), path.display());
            Ok(())
        }
        None => out!("{text}"),
    }
}

/// The heads the last recording run left: from the local state, or the S3 state pulled into its
/// working copy first.
async fn read_heads(settings: &Settings, aws: &orgtrail::aws::Aws, trail: &str) -> Result<Vec<ChainHead>, Failure> {
    let dir = match &settings.state {
        StateLocation::Local { dir } => dir,
        StateLocation::Remote { url, working_copy, working_copy_is_cache, .. } => {
            RemoteState::pull(&Remote::new(aws, url.clone()), working_copy, *working_copy_is_cache).await?;
            working_copy
        }
    };
    if !dir.join("state.db").exists() {
        return Ok(Vec::new());
    }
    Ok(Store::open_read_only(dir)?.chain_heads(trail)?)
}

/// Records the heads of the pairs that passed: into the local state under its lock, or the S3
/// state under its lock (pulled first, pushed after).
async fn record_heads(settings: &Settings, aws: &orgtrail::aws::Aws, heads: &[ChainHead]) -> Result<(), Failure> {
    if heads.is_empty() {
        return Ok(());
    }
    match &settings.state {
        StateLocation::Local { dir } => {
            let store = Store::open(dir)?;
            let _lock = store.lock(&settings.this_invocation())?;
            store.record_chain_heads(heads)?;
        }
        StateLocation::Remote { url, working_copy, working_copy_is_cache, lease } => {
            let remote = Remote::new(aws, url.clone());
            let cancel = orgtrail::executor::Cancel::default();
            let session = RemoteSession::open(remote, working_copy, *working_copy_is_cache, settings.this_invocation(), *lease, false, &cancel, settings.notes()).await?;
            let recorded = session.store.record_chain_heads(heads).map_err(Failure::from);
            let pushed = match recorded {
                Ok(()) => session.state.push(&session.store, Some(&session.lease)).await.map(drop).map_err(Failure::from),
                Err(e) => Err(e),
            };
            let closed = session.close().await;
            pushed?;
            closed?;
        }
    }
    Ok(())
}

async fn merge(settings: &Settings, files: &[PathBuf], output: &OutputArgs) -> Result<Exit, Failure> {
    let mut shards = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| bad(format!("{}: {e}", f.display())))?;
        shards.push((f.display().to_string(), text));
    }
    let report = validate::results::merge(&shards).map_err(|e| bad(e.to_string()))?;
    emit(&report, output, settings)?;
    let heads = report.heads();
    if !heads.is_empty() {
        let aws = settings.connect_base().await?;
        record_heads(settings, &aws, &heads).await?;
    }
    Ok(if report.passed() { Exit::Ok } else { Exit::Failures })
}

