//! stdout: every command's report goes through here, so a reader that stops early (`| head`)
//! ends the command quietly (exit 0) instead of a panic or an error line.
use std::io::Write;

use serde::Serialize;

use crate::failure::Failure;

/// Writes `text` to stdout as is.
pub fn write(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(Failure::output)
}

/// Pretty JSON on stdout: the one machine-readable format of every command.
pub fn json<T: Serialize>(value: &T) -> Result<(), Failure> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| Failure::new(crate::failure::ExitClass::Environment, e))?;
    text.push('\n');
    write(&text)
}

/// `println!` to stdout through `write`: `outln!(...)?`.
macro_rules! outln {
    () => { $crate::commands::output::write("\n") };
    ($($arg:tt)*) => { $crate::commands::output::write(&format!("{}\n", format_args!($($arg)*))) };
}

/// `print!` to stdout through `write`.
macro_rules! out {
    ($($arg:tt)*) => { $crate::commands::output::write(&format!($($arg)*)) };
}

pub(crate) use {out, outln};
