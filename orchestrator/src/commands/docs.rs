//! `orgtrail completions SHELL` and `orgtrail man`: generated from the clap definition, so they
//! never drift from the flags.
use std::path::Path;

use crate::failure::{Context, Exit, Failure};

pub fn completions(shell: clap_complete::Shell, cli: &mut clap::Command) -> Result<Exit, Failure> {
    let mut script = Vec::new();
    clap_complete::generate(shell, cli, "orgtrail", &mut script);
    write_stdout(&script)?;
    Ok(Exit::Ok)
}

/// The main page on stdout, or `orgtrail.1` plus `orgtrail-COMMAND.1` per subcommand in `dir`.
pub fn man(cli: clap::Command, dir: Option<&Path>) -> Result<Exit, Failure> {
    match dir {
        None => write_stdout(&main_page(cli)?)?,
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cli.clone(), dir).with_context(|| format!("cannot write the man pages into {}", dir.display()))?;
            let main = dir.join("orgtrail.1");
            std::fs::write(&main, main_page(cli)?).with_context(|| format!("cannot write {}", main.display()))?;
            eprintln!("wrote the man pages into {}", dir.display());
        }
    }
    Ok(Exit::Ok)
}

/// clap's page, then the sections clap does not know: EXIT STATUS, ENVIRONMENT, FILES.
fn main_page(cli: clap::Command) -> Result<Vec<u8>, Failure> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cli).render(&mut page).context("rendering the man page")?;
    page.extend_from_slice(super::man_sections::EXTRA.as_bytes());
    Ok(page)
}

/// Generated text on stdout (`output::write`, for bytes).
fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    super::output::write(&String::from_utf8_lossy(bytes))
}
