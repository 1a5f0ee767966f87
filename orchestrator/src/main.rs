//! The `orgtrail` binary: parse the command line, resolve the settings once, run the command,
//! turn what it ended with into the exit code. Everything that does work lives in the library.
use std::process::ExitCode;

use clap::FromArgMatches;

mod cli;
mod commands;
mod credentials;
mod failure;
mod flags;
mod settings;

use cli::Cli;
use failure::Failure;
use settings::Settings;

fn main() -> ExitCode {
    let mut command = cli::command();
    let matches = command.try_get_matches_from_mut(std::env::args_os()).unwrap_or_else(|e| exit_with_tip(e));
    if let Some(conflict) = cli::conflicts(&mut command, &matches) {
        conflict.exit();
    }
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    init_logging(cli.global.verbose);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let ran = runtime.block_on(async {
        let settings = Settings::resolve(&cli, settings::config_was_given(&matches))?;
        orgtrail::report::table::set_output_width(settings.output.width);
        commands::run(&cli.command, &settings).await
    });
    match ran {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(failure) => {
            report(&failure);
            // `plan --detailed-exitcode` keeps 2 for "changes pending": every error is 1 there, as in Terraform.
            let detailed = matches!(cli.command, cli::Command::Plan { detailed_exitcode: true, .. });
            ExitCode::from(if detailed && failure.code() != 130 { 1 } else { failure.code() })
        }
    }
}

/// clap's own error (and exit code), and for a command orgtrail does not have, what to run instead.
fn exit_with_tip(e: clap::Error) -> ! {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() == ErrorKind::InvalidSubcommand {
        if let Some(ContextValue::String(given)) = e.get(ContextKind::InvalidSubcommand) {
            if let Some(tip) = cli::tip_for_unknown(given) {
                let _ = e.print();
                eprintln!("\ntip: {tip}");
                std::process::exit(e.exit_code());
            }
        }
    }
    e.exit()
}

/// `error: ...` once per cause, then the hint.
fn report(failure: &Failure) {
    eprintln!("error: {}", failure.message());
    if let Some(hint) = &failure.hint {
        eprintln!("hint: {hint}");
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,orgtrail=info",
        _ => "info,orgtrail=debug,aws_config=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ORGTRAIL_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(|| orgtrail::report::redact::RedactingStderr).with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).with_target(false).init();
}
