//! Renderers for people (aligned tables) and machines (JSON). Commands build data; this prints it.
pub mod table;

use serde::Serialize;

/// Pretty JSON on stdout: the one machine-readable format of every command.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    use std::io::Write;
    writeln!(out)?;
    Ok(())
}
