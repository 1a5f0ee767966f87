//! `orgtrail init`: write the commented example config.
use std::path::Path;

use crate::failure::{Context, Exit, Failure};

pub fn init(path: &Path, force: bool) -> Result<Exit, Failure> {
    if path.exists() && !force {
        return Err(Failure::bad_input(format!("{} already exists", path.display())).with_hint("pass --force to overwrite it"));
    }
    std::fs::write(path, orgtrail::config::EXAMPLE).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("wrote {}: edit the accounts, bucket and waves, then run `orgtrail plan`", path.display());
    Ok(Exit::Ok)
}
