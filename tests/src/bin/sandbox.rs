//! `sandbox`: a local AWS organization on the pinned emulator.
//!   sandbox run  [--accounts N] [--dir D] -- CMD ARGS...   start, seed, run CMD against it, stop
//!   sandbox up   [--accounts N] [--dir D] [--port P]       start, seed, print the environment, wait for Ctrl-C
//! The seeded organization is written to D/org.json and a matching config to D/orgtrail.toml.
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use orgtrail_tests::{sandbox_config, sdk_config, seed, Emulator};

#[derive(Parser)]
#[command(name = "sandbox", about = "A local sandbox AWS Organization on the moto emulator")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Args)]
struct Common {
    /// Member accounts to create (besides management and log-archive).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    accounts: u32,
    /// Where org.json and orgtrail.toml are written.
    #[arg(long, default_value = ".sandbox")]
    dir: PathBuf,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start the emulator, seed the organization, run COMMAND against it, then stop the emulator.
    #[command(after_help = "COMMAND gets AWS_ENDPOINT_URL, AWS_REGION, test credentials and ORGTRAIL_SANDBOX_DIR=DIR in its environment;\nsandbox exits with its exit code.\n\nExample:\n  sandbox run --accounts 200 --dir .sandbox -- ./target/debug/orgtrail -c .sandbox/orgtrail.toml plan")]
    Run {
        #[command(flatten)]
        common: Common,
        /// The command to run against the sandbox, and its arguments (after `--`).
        #[arg(trailing_var_arg = true, required = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// Start the emulator and seed the organization, print the environment to export, wait for Ctrl-C.
    #[command(after_help = "Example:\n  sandbox up --accounts 200 --port 5000\n  # in another shell, with the printed exports:\n  orgtrail -c .sandbox/orgtrail.toml accounts")]
    Up {
        #[command(flatten)]
        common: Common,
        /// Loopback port for the emulator (default: a free port).
        #[arg(long)]
        port: Option<u16>,
    },
}

fn main() -> ExitCode {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    match rt.block_on(run(Cli::parse())) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("sandbox: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn start(common: &Common, port: Option<u16>) -> Result<Emulator> {
    let started = Instant::now();
    let emu = Emulator::start_unpooled(port)?;
    let conf = sdk_config(&emu.endpoint()).await;
    let org = seed(&conf, common.accounts as usize).await.context("seeding the sandbox organization")?;
    std::fs::create_dir_all(&common.dir).with_context(|| format!("creating {}", common.dir.display()))?;
    std::fs::write(common.dir.join("org.json"), serde_json::to_string_pretty(&org)?)?;
    std::fs::write(common.dir.join("orgtrail.toml"), sandbox_config(&org))?;
    eprintln!(
        "sandbox: emulator at {} with organization {} (management {}, log-archive {}, {} members) in {:.1}s; config {}",
        emu.endpoint(),
        org.org_id,
        org.management_account,
        org.log_archive_account,
        org.members.len(),
        started.elapsed().as_secs_f64(),
        common.dir.join("orgtrail.toml").display()
    );
    Ok(emu)
}

async fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Cmd::Run { common, command } => {
            let emu = start(&common, None).await?;
            let status = std::process::Command::new(&command[0])
                .args(&command[1..])
                .envs(emu.env())
                .env("ORGTRAIL_SANDBOX_DIR", &common.dir)
                .status()
                .with_context(|| format!("running {}", command[0]))?;
            drop(emu);
            Ok(status.code().map_or(1, |c| c as u8))
        }
        Cmd::Up { common, port } => {
            let emu = start(&common, port).await?;
            for (k, v) in emu.env() {
                println!("export {k}={v}");
            }
            eprintln!("sandbox: running; Ctrl-C stops it");
            tokio::signal::ctrl_c().await?;
            drop(emu);
            Ok(0)
        }
    }
}

