//! `orgtrail init`: write the commented example config, and say which keys to set before the
//! first command that needs them (`render-bootstrap`).
use std::path::Path;

use crate::failure::{Context, Exit, Failure};

pub fn init(path: &Path, force: bool) -> Result<Exit, Failure> {
    if path.exists() && !force {
        return Err(Failure::bad_input(format!("{} already exists", path.display())).with_hint("pass --force to overwrite it"));
    }
    std::fs::write(path, orgtrail::config::EXAMPLE).with_context(|| format!("cannot write {}", path.display()))?;
    let example = orgtrail::config::parse(path, orgtrail::config::EXAMPLE).expect("the example config is valid (config tests)");
    let keys = super::bootstrap::keys_to_set(&example, false, orgtrail::config::EXAMPLE);
    eprintln!("wrote {}: set the log-archive account, bucket and waves to your organization's, then:", path.display());
    eprintln!("  before `orgtrail render-bootstrap` (the member role's template; the quick start, \"Bootstrap the member role\"), set in {}:\n{}", path.display(), keys.join("\n"));
    eprintln!("  then `orgtrail plan` shows what `orgtrail apply` would change");
    Ok(Exit::Ok)
}
