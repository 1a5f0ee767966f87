//! `orgtrail completions SHELL` and `orgtrail man`: generated from the clap definition, so they
//! never drift from the flags.
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

pub fn completions(shell: clap_complete::Shell, cli: &mut clap::Command) -> Result<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, cli, "orgtrail", &mut script);
    write_stdout(&script)?;
    Ok(0)
}

/// The main page on stdout, or `orgtrail.1` plus `orgtrail-COMMAND.1` per subcommand in `dir`.
pub fn man(cli: clap::Command, dir: Option<&Path>) -> Result<u8> {
    match dir {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cli).render(&mut page).context("rendering the man page")?;
            write_stdout(&page)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cli, dir).with_context(|| format!("cannot write the man pages into {}", dir.display()))?;
            eprintln!("wrote the man pages into {}", dir.display());
        }
    }
    Ok(0)
}

/// Everything on stdout; a reader that stops early (`| head`) is not an error.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("writing to stdout"),
        _ => Ok(()),
    }
}
