//! The config parser on arbitrary input: it must return Ok or a located error, never panic, and
//! every error must name the file (and, when it has one, a line and column inside the input).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

// orgtrail's config module is self-contained (serde, toml, thiserror): compiled here on its own.
#[path = "../../orchestrator/src/config/mod.rs"]
#[allow(dead_code, unused_imports)]
mod config;

// The one function the config borrows from `aws` (the default partition of a region), also
// std-only.
#[path = "../../orchestrator/src/aws/arn.rs"]
#[allow(dead_code)]
mod arn;
mod aws {
    pub use super::arn::partition_of;
}

use config::ConfigError;

fuzz_target!(|data: &[u8]| {
    // `load` reads bytes from disk and refuses non-UTF-8 before parsing; the fuzzer feeds `parse`
    // the text directly, and lossy-decodes other bytes so they still reach the TOML parser.
    let text = match std::str::from_utf8(data) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(data),
    };
    let path = Path::new("fuzz.toml");
    match config::parse(path, &text) {
        Ok(cfg) => {
            // A config that validates must also fingerprint (serializes without panicking).
            let _ = config::fingerprint(&cfg);
        }
        Err(err) => {
            let shown = err.to_string();
            assert!(shown.starts_with("fuzz.toml:"), "error does not name the file: {shown}");
            if let ConfigError::At(at) = &err {
                let lines = text.split('\n').count();
                assert!(at.line >= 1 && at.line <= lines, "line {} outside the input's {lines} lines", at.line);
                assert!(at.column >= 1, "column {}", at.column);
            }
        }
    }
});
