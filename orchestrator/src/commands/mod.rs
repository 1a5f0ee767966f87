//! One module per subcommand. Each takes the resolved `Settings` and returns what it ended with:
//! an `Exit` (maybe a recorded failure) or a `Failure` (an error with its exit class).
pub mod accounts;
pub mod apply;
pub mod bootstrap;
pub mod cost_note;
pub mod delegate;
pub mod docs;
pub mod init;
pub mod man_sections;
pub mod mfa_delete;
pub mod output;
pub mod plan;
pub mod policies;
pub mod remove;
pub mod policies_offline;
pub mod report;
pub mod state;
pub mod status;
pub mod validate_logs;
pub mod verify;

use orgtrail::aws::{Aws, CallerIdentity};
use orgtrail::config::Config;
use orgtrail::discovery::Inventory;
use orgtrail::plan::Plan;
use orgtrail::steps::Ctx;

use crate::cli::{Command, MfaDeleteAction};
use crate::failure::{Context, Exit, Failure};
use crate::settings::Settings;

pub async fn run(command: &Command, settings: &Settings) -> Result<Exit, Failure> {
    let json = settings.output.json;
    match command {
        Command::Init { force } => init::init(&settings.config_path, *force),
        // Tags cost one call per account: the plain table shows them; --check-access and --json
        // consumers get them only with --tags.
        Command::Accounts { check_access, tags, no_tags } => accounts::accounts(settings, *check_access, *tags || !(*no_tags || *check_access || json)).await,
        Command::Plan { members, out, detailed_exitcode } => plan::plan(settings, *members, out.as_deref(), *detailed_exitcode).await,
        Command::Apply(args) => apply::apply(settings, args).await,
        Command::Remove { dry_run, stop_trail } => remove::remove(settings, *dry_run, *stop_trail).await,
        Command::Status { run, failed } => status::status(settings, run.as_deref(), *failed).await,
        Command::State { action } => state::state(settings, action).await,
        Command::RenderPolicies(args) => policies::render(settings, args).await,
        Command::Verify { format, output, security_hub } => verify::verify(settings, *format, output.as_deref(), security_hub).await,
        Command::Report(args) => report::report(settings, args).await,
        Command::ValidateLogs(args) => validate_logs::validate_logs(settings, args).await,
        Command::Delegate { account, dry_run } => delegate::delegate(settings, account.as_deref(), *dry_run).await,
        Command::MfaDelete { action: MfaDeleteAction::Enable { mfa_serial, mfa_code, bucket } } => mfa_delete::enable(settings, mfa_serial, mfa_code, bucket.as_deref()).await,
        Command::RenderBootstrap(args) => bootstrap::render_bootstrap(settings, args),
        Command::Completions { shell } => docs::completions(*shell, &mut crate::cli::command()),
        Command::Man { dir } => docs::man(crate::cli::command(), dir.as_deref()),
    }
}

/// What the read-only commands (plan, verify, render-policies) start from: the config, clients
/// with the member role, the caller, the live inventory and the waves planned over it.
pub struct Live<'a> {
    pub config: &'a Config,
    pub aws: Aws,
    pub caller: CallerIdentity,
    pub inventory: Inventory,
    pub plan: Plan,
    pub targets: Vec<String>,
    pub concurrency: usize,
}

impl<'a> Live<'a> {
    pub async fn load(settings: &'a Settings, session_name: &str) -> Result<Live<'a>, Failure> {
        let config = settings.config();
        let aws = settings.connect(session_name).await?;
        let caller = caller_identity(&aws).await?;
        let inventory = orgtrail::rollout::inventory(&aws, config, &settings.config_path).await?;
        let plan = orgtrail::plan::plan(config, &inventory, &settings.config_path)?;
        let targets = plan.targets();
        Ok(Live { config, aws, caller, inventory, plan, targets, concurrency: settings.concurrency })
    }

    /// A read-only step context (`apply == false`).
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx { aws: &self.aws, config: self.config, org: &self.inventory.organization, caller: &self.caller, targets: &self.targets, apply: false }
    }
}

/// The first call of every command that talks to AWS: who the base credentials are. Where they
/// fail (none found, an endpoint that does not answer), it says which endpoint it tried.
pub async fn caller_identity(aws: &Aws) -> Result<CallerIdentity, Failure> {
    aws.caller_identity().await.with_context(|| format!("reading the caller identity (STS.GetCallerIdentity{})", at_endpoint(aws)))
}

/// ` at http://127.0.0.1:5000` with `--endpoint-url`, else ` in us-east-1`: where the calls went.
pub fn at_endpoint(aws: &Aws) -> String {
    match aws.endpoint_url() {
        Some(url) => format!(" at {url}"),
        None => format!(" in {}", aws.region()),
    }
}
