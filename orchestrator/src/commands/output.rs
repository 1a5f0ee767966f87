//! stdout: every command's report goes through here. A reader that stops early (`| head`) is
//! not an error: the rest of the output is dropped, and the command ends with the exit code of
//! what it did (a run's outcome, say), never with a panic or an error line.
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::failure::{ExitClass, Failure};

/// Set once stdout's reader is gone.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to stdout as is.
pub fn write(text: &str) -> Result<(), Failure> {
    if CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => Err(Failure::new(ExitClass::Environment, anyhow::Error::new(e).context("writing to stdout"))),
        Ok(()) => Ok(()),
    }
}

/// Pretty JSON on stdout: the one machine-readable format of every command.
pub fn json<T: Serialize>(value: &T) -> Result<(), Failure> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| Failure::new(ExitClass::Environment, e))?;
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
