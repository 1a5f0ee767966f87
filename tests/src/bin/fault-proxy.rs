//! `fault-proxy`: the test harness's fault-injection proxy as a process, for scripts and benchmarks.
//!   fault-proxy --upstream http://127.0.0.1:PORT [--latency-ms N] [--throttle-rate F] [--seed N] [--port P]
//!               [--deny-assume-role ACCOUNT]...
//! Prints its URL on stdout, then serves until killed; on Ctrl-C prints per-operation counts (JSON) on stderr.
use std::io::Write;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use orgtrail_tests::fault_proxy::{Fault, FaultPlan, FaultProxy, Rule, Target};

#[derive(Parser)]
#[command(name = "fault-proxy", about = "A fault-injecting HTTP proxy in front of the AWS emulator")]
struct Cli {
    /// The emulator's URL.
    #[arg(long)]
    upstream: String,
    /// Fixed latency added to every request.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Fraction of requests (all services) answered with the service's throttling error.
    #[arg(long, default_value_t = 0.0)]
    throttle_rate: f64,
    /// Seed of the fault draws.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Answer AssumeRole into this account with AccessDenied (repeatable): a role that cannot be assumed.
    #[arg(long = "deny-assume-role", value_name = "ACCOUNT")]
    deny_assume_role: Vec<String>,
    /// Port to listen on (default: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    anyhow::ensure!((0.0..=1.0).contains(&cli.throttle_rate), "--throttle-rate must be within 0..=1");
    let mut plan = FaultPlan::seeded(cli.seed).latency(Duration::from_millis(cli.latency_ms));
    if cli.throttle_rate > 0.0 {
        plan = plan.rule(Rule::new(Target::all(), Fault::Throttle).rate(cli.throttle_rate));
    }
    for account in &cli.deny_assume_role {
        plan = plan.rule(Rule::new(Target::op("STS.AssumeRole").containing(&format!(":{account}:")), Fault::AccessDenied));
    }
    let proxy = FaultProxy::start_on(&cli.upstream, plan, cli.port).context("starting the fault proxy")?;
    println!("{}", proxy.url());
    std::io::stdout().flush()?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(tokio::signal::ctrl_c())?;
    eprintln!("{}", serde_json::to_string_pretty(&proxy.stats())?);
    Ok(())
}
