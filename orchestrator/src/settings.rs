//! Everything a command needs to know before it starts, resolved once from the flags, the
//! environment and the config: the config and its path, the AWS options and the member role,
//! where the state lives, how to print, and who holds the lock. The only module that reads the
//! environment or the command line; the library below gets all of it passed in.
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::parser::ValueSource;
use orgtrail::aws::{Aws, AwsOptions, RoleSpec};
use orgtrail::config::{self, Config};
use orgtrail::remote_state::{LeaseSettings, Notes, StateUrl};
use orgtrail_state::LockHolder;

use crate::cli::{Cli, Command};
use crate::failure::{Context, Failure};

pub const DEFAULT_CONFIG: &str = "orgtrail.toml";

pub struct Settings {
    pub config_path: PathBuf,
    /// `None` for the commands that run without one (`accounts`, `delegate`, `state`, `status`)
    /// when there is none, and for those that never read it (`init`, `completions`, `man`).
    pub config: Option<Config>,
    pub aws: AwsOptions,
    /// Where API calls go unless `--region` says otherwise: the config's home region.
    pub home_region: String,
    pub organizations_calls_per_second: u32,
    /// The member role (its session name is set per command) and how many accounts run at once.
    pub role: RoleSpec,
    pub concurrency: usize,
    pub state: StateLocation,
    pub output: Output,
    holder: Identity,
    /// Every global flag given (from the command line or its environment variable), to repeat
    /// in the resume command.
    given: Given,
}

/// Where the rollout state lives. Decided here, and only here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateLocation {
    /// `--state-dir`, else next to the config (`orgtrail.toml` → `orgtrail.state/`).
    Local { dir: PathBuf },
    /// `--state s3://…` (else `[state] url`), with its local working copy: `--state-dir`, else
    /// orgtrail's cache for the URL.
    Remote { url: StateUrl, working_copy: PathBuf, working_copy_is_cache: bool, lease: LeaseSettings },
}

#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// `--json`: machine-readable stdout, no tables, no progress bars.
    pub json: bool,
    /// The table width: `COLUMNS`, else the terminal's on stdout, else no limit (piped).
    pub width: Option<u16>,
    /// Progress bars are possible: stderr is a terminal and not `--json` (apply adds `--no-progress`).
    pub progress: bool,
}

#[derive(Debug, Clone)]
struct Identity {
    user: String,
    host: String,
    command_line: String,
}

#[derive(Debug, Clone, Default)]
struct Given {
    profile: Option<String>,
    region: Option<String>,
    endpoint_url: Option<String>,
    state_dir: Option<PathBuf>,
    state: Option<String>,
}

/// How much a command needs the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Never read (`init` writes it, `completions` and `man` are about the binary).
    Nothing,
    /// Read when it exists or was named (`--config`/`ORGTRAIL_CONFIG`); a broken one is an error.
    IfPresent,
    /// As `IfPresent`, but a broken config is ignored: `status` only learns where the state is from it.
    Lenient,
    Required,
}

fn need(command: &Command) -> Need {
    match command {
        Command::Init { .. } | Command::Completions { .. } | Command::Man { .. } => Need::Nothing,
        Command::Accounts { .. } | Command::Delegate { .. } | Command::State { .. } => Need::IfPresent,
        Command::Status { .. } => Need::Lenient,
        // From a verify JSON the config only says where the state is; without one, report runs verify.
        Command::Report(args) if args.verify.is_some() => Need::IfPresent,
        Command::Report(_) => Need::Required,
        Command::ValidateLogs(args) if args.action.is_some() => Need::IfPresent,
        Command::ValidateLogs(_) => Need::Required,
        Command::Plan { .. } | Command::Apply(_) | Command::Remove { .. } | Command::RenderPolicies(_) | Command::Verify { .. } | Command::MfaDelete { .. } | Command::RenderBootstrap(_) => Need::Required,
    }
}

impl Settings {
    /// `explicit_config`: whether `--config` or `ORGTRAIL_CONFIG` named the config (clap's value
    /// source), so a named config that is missing is an error also where one is optional.
    pub fn resolve(cli: &Cli, explicit_config: bool) -> Result<Settings, Failure> {
        let g = &cli.global;
        let config_path = g.config.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG));
        let config = match need(&cli.command) {
            Need::Nothing => None,
            Need::Lenient if g.state.is_some() => None,
            Need::Lenient => load_config(&config_path, explicit_config, false).ok().flatten(),
            Need::IfPresent => load_config(&config_path, explicit_config, false)?,
            Need::Required => load_config(&config_path, explicit_config, true)?,
        };
        let state = state_location(g.state.as_deref(), g.state_dir.as_deref(), &config_path, config.as_ref())?;
        let access = config.as_ref().map(|c| &c.access);
        let role = RoleSpec {
            partition: config.as_ref().map_or("aws".into(), |c| c.organization.partition.clone()),
            role_name: access.map_or(config::DEFAULT_ROLE_NAME.into(), |a| a.role_name.clone()),
            external_id: access.and_then(|a| a.external_id.clone()),
            session_name: "orgtrail".into(),
            duration_seconds: access.map_or(3600, |a| a.session_duration_seconds),
        };
        let json = g.json;
        Ok(Settings {
            home_region: config.as_ref().map_or_else(|| env("AWS_REGION").unwrap_or_else(|| "us-east-1".into()), |c| c.organization.home_region.clone()),
            organizations_calls_per_second: access.map_or(10, |a| a.organizations_calls_per_second),
            concurrency: access.map_or(32, |a| a.max_concurrency),
            role,
            aws: AwsOptions { profile: g.profile.clone(), region: g.region.clone(), endpoint_url: g.endpoint_url.clone(), attempt_timeout: None },
            state,
            output: Output { json, width: output_width(), progress: !json && std::io::stderr().is_terminal() },
            holder: Identity {
                user: env("USER").unwrap_or_else(|| "unknown".into()),
                host: hostname(),
                command_line: std::env::args().map(|a| quote(&a)).collect::<Vec<_>>().join(" "),
            },
            given: Given { profile: g.profile.clone(), region: g.region.clone(), endpoint_url: g.endpoint_url.clone(), state_dir: g.state_dir.clone(), state: g.state.clone() },
            config_path,
            config,
        })
    }

    /// The config of a command that requires one (`resolve` loaded it or failed).
    pub fn config(&self) -> &Config {
        self.config.as_ref().expect("resolve loads the config of every command that requires one")
    }

    /// Clients with the base credentials (no member role), after checking that a named profile exists.
    pub async fn connect_base(&self) -> Result<Aws, Failure> {
        check_profile(self.aws.profile.as_deref()).await?;
        let aws = Aws::load(&self.aws, &self.home_region, self.organizations_calls_per_second).await;
        crate::credentials::check(&aws, self.aws.profile.as_deref()).await?;
        if let Some(url) = &self.aws.endpoint_url {
            spawn_reachability_note(url.clone());
        }
        Ok(aws)
    }

    /// Clients that also act in member accounts through the role, as `session` (the STS session name).
    pub async fn connect(&self, session: &str) -> Result<Aws, Failure> {
        let role = RoleSpec { session_name: session.into(), ..self.role.clone() };
        Ok(self.connect_base().await?.with_role(role, self.concurrency))
    }

    /// Who holds a lock taken now for `command`: this process, user and host.
    pub fn lock_holder(&self, command: &str) -> LockHolder {
        LockHolder { host: self.holder.host.clone(), pid: std::process::id(), user: self.holder.user.clone(), started_at: orgtrail_state::now_millis(), command: command.into() }
    }

    /// The lock holder of this invocation, named by its command line.
    pub fn this_invocation(&self) -> LockHolder {
        self.lock_holder(&self.holder.command_line)
    }

    /// The command that continues this run: `apply` with every global flag that was given (a
    /// dropped `--profile` would resume with other credentials), each value shell-quoted.
    pub fn resume_command(&self) -> String {
        let g = &self.given;
        let mut words: Vec<String> = vec!["orgtrail".into(), "apply".into()];
        let mut flag = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                words.push(name.into());
                words.push(quote(&v));
            }
        };
        flag("--profile", g.profile.clone());
        flag("--region", g.region.clone());
        flag("--endpoint-url", g.endpoint_url.clone());
        flag("--config", Some(self.config_path.display().to_string()));
        flag("--state-dir", g.state_dir.as_ref().map(|d| d.display().to_string()));
        flag("--state", g.state.clone());
        words.join(" ")
    }

    /// Remote-state notes (a created bucket, a lost lock) go to stderr as they happen.
    pub fn notes(&self) -> Notes {
        std::sync::Arc::new(|note: &str| eprintln!("{note}"))
    }
}

/// Whether clap took `--config` from the command line or `ORGTRAIL_CONFIG` (not the default).
pub fn config_was_given(matches: &clap::ArgMatches) -> bool {
    matches.value_source("config").is_some_and(|s| matches!(s, ValueSource::CommandLine | ValueSource::EnvVariable))
}

fn load_config(path: &Path, explicit: bool, required: bool) -> Result<Option<Config>, Failure> {
    if !required && !explicit && !path.exists() {
        return Ok(None);
    }
    match config::load(path) {
        Ok(c) => Ok(Some(c)),
        Err(e @ config::ConfigError::Read { .. }) if !path.exists() => {
            let hint = if explicit { "check the path given with --config (or ORGTRAIL_CONFIG)".to_string() } else { format!("run `orgtrail init` to write a commented example {}, or pass --config PATH", path.display()) };
            Err(Failure::from(e).with_hint(hint))
        }
        Err(e) => Err(e.into()),
    }
}

fn state_location(state: Option<&str>, state_dir: Option<&Path>, config_path: &Path, config: Option<&Config>) -> Result<StateLocation, Failure> {
    let url = state.map(str::to_string).or_else(|| config.and_then(|c| c.state.url.clone()));
    let Some(url) = url else {
        return Ok(StateLocation::Local { dir: state_dir.map_or_else(|| orgtrail::rollout::default_state_dir(config_path), Path::to_path_buf) });
    };
    let url = StateUrl::parse(&url).context("--state")?;
    let lease = env("ORGTRAIL_STATE_LEASE_SECONDS").and_then(|s| s.parse::<u64>().ok()).filter(|s| *s >= 1).map_or_else(LeaseSettings::default, |s| LeaseSettings::new(Duration::from_secs(s)));
    let (working_copy, working_copy_is_cache) = match state_dir {
        Some(d) => (d.to_path_buf(), false),
        None => (url.cache_dir(&cache_home()), true),
    };
    Ok(StateLocation::Remote { url, working_copy, working_copy_is_cache, lease })
}

/// A named profile must exist in the shared config or credentials file: the SDK would otherwise
/// fail every call with a credential-chain error that does not say so.
async fn check_profile(profile: Option<&str>) -> Result<(), Failure> {
    let Some(name) = profile else { return Ok(()) };
    use aws_types::os_shim_internal::{Env, Fs};
    let files = aws_runtime::env_config::file::EnvConfigFiles::default();
    let set = aws_config::profile::load(&Fs::real(), &Env::real(), &files, None).await.map_err(|e| Failure::new(crate::failure::ExitClass::BadInput, e)).context("reading the AWS shared config files")?;
    if set.get_profile(name).is_some() {
        return Ok(());
    }
    let mut known: Vec<&str> = set.profiles().collect();
    known.sort_unstable();
    let also = match orgtrail::suggest::closest(name, known.iter().copied()) {
        Some(c) => format!("; did you mean {c}?"),
        None if known.is_empty() => "; there are no profiles".into(),
        None => format!("; the profiles are {}", known.join(", ")),
    };
    Err(Failure::bad_input(format!("AWS profile `{name}` does not exist in ~/.aws/config or ~/.aws/credentials (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE){also}"))
        .with_hint("pass an existing --profile (or AWS_PROFILE); `aws configure list-profiles` lists them"))
}

/// An endpoint that refuses connections makes the SDK retry for many seconds without a word:
/// one quick probe (once per process) says at once what is happening, while the calls retry on
/// their own. Only for `--endpoint-url`: AWS's own endpoints may be reached through a proxy that a
/// direct probe would not use.
fn spawn_reachability_note(url: String) {
    static PROBED: std::sync::Once = std::sync::Once::new();
    let mut first = false;
    PROBED.call_once(|| first = true);
    if !first {
        return;
    }
    tokio::spawn(async move {
        let Some(addr) = host_port(&url) else { return };
        let probe = tokio::time::timeout(Duration::from_secs(3), tokio::net::TcpStream::connect(addr.clone())).await;
        let why = match probe {
            Ok(Ok(_)) => return,
            Ok(Err(e)) => e.to_string(),
            Err(_) => "no answer within 3 s".into(),
        };
        eprintln!("note: cannot connect to {url} ({why}); retrying (the AWS calls give up after their retries)");
    });
}

fn host_port(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?.rsplit('@').next()?;
    if authority.rsplit_once(':').is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty()) && !authority.ends_with(']') {
        return Some(authority.to_string());
    }
    Some(format!("{authority}:{}", if scheme == "http" { 80 } else { 443 }))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The user's cache directory: `$XDG_CACHE_HOME`, else `~/.cache`, else the temp dir.
fn cache_home() -> PathBuf {
    env("XDG_CACHE_HOME").map(PathBuf::from).or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".cache"))).unwrap_or_else(std::env::temp_dir)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).ok().filter(|h| !h.is_empty()).or_else(|| env("HOSTNAME")).unwrap_or_else(|| "unknown".into())
}

/// `COLUMNS` (a positive number), else the width of the terminal on stdout, else no limit.
fn output_width() -> Option<u16> {
    if let Some(cols) = env("COLUMNS").and_then(|c| c.trim().parse::<u16>().ok()).filter(|&c| c > 0) {
        return Some(cols);
    }
    terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| w.0)
}

fn quote(word: &str) -> String {
    shlex::try_quote(word).map_or_else(|_| word.to_string(), |q| q.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_name_their_port() {
        assert_eq!(host_port("http://127.0.0.1:9").as_deref(), Some("127.0.0.1:9"));
        assert_eq!(host_port("https://sts.amazonaws.com/x").as_deref(), Some("sts.amazonaws.com:443"));
        assert_eq!(host_port("http://localhost").as_deref(), Some("localhost:80"));
    }

    #[test]
    fn the_resume_command_repeats_every_global_flag_quoted() {
        use clap::Parser;
        let args = ["orgtrail", "--profile", "ops prod", "--region", "eu-west-1", "--endpoint-url", "http://127.0.0.1:5000", "--config", "conf/my org.toml", "--state-dir", "/tmp/s", "--state", "s3://team-state/x", "status"];
        let s = Settings::resolve(&Cli::try_parse_from(args).unwrap(), true).unwrap();
        assert_eq!(
            s.resume_command(),
            "orgtrail apply --profile 'ops prod' --region eu-west-1 --endpoint-url http://127.0.0.1:5000 --config 'conf/my org.toml' --state-dir /tmp/s --state s3://team-state/x"
        );
    }

    #[test]
    fn plan_and_apply_find_the_state_in_the_same_place() {
        let url = state_location(Some("s3://team-state/prod"), None, Path::new("orgtrail.toml"), None).unwrap();
        assert!(matches!(&url, StateLocation::Remote { working_copy_is_cache: true, .. }), "{url:?}");
        let local = state_location(None, None, Path::new("conf/prod.toml"), None).unwrap();
        assert_eq!(local, StateLocation::Local { dir: PathBuf::from("conf/prod.state") });
        assert!(state_location(Some("team-state"), None, Path::new("orgtrail.toml"), None).is_err());
    }
}
