//! `orgtrail.toml`: parsed with serde + toml (unknown keys rejected), then validated in a second
//! stage that resolves defaults and points every error at the file, line and column at fault.
mod detection;
pub mod verify;
mod error;
mod model;
mod raw;
pub mod rules;
mod validate;

use std::path::Path;

pub use error::{point_at_value, ConfigError, Located};
pub use model::*;
pub use validate::default_access_log_bucket;

/// Configs are small; a multi-megabyte file is a mistake (wrong file, generated garbage).
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The commented example config, written by `orgtrail init`.
pub const EXAMPLE: &str = include_str!("../../../templates/orgtrail.example.toml");

pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let meta = std::fs::metadata(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(ConfigError::TooLarge { path: path.to_path_buf(), size: meta.len(), limit: MAX_CONFIG_BYTES });
    }
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
    let source = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let valid = std::str::from_utf8(&e.as_bytes()[..offset]).unwrap_or_default();
        let (line, column) = error::line_column(valid, offset);
        ConfigError::NotUtf8 { path: path.to_path_buf(), line, column, offset }
    })?;
    parse(path, &source)
}

/// Parse config text; `path` is only used to name the file in errors.
pub fn parse(path: &Path, source: &str) -> Result<Config, ConfigError> {
    if source.trim().is_empty() {
        return Err(ConfigError::at(path, source, None, "the config file is empty: `orgtrail init` writes a commented example"));
    }
    let raw: raw::RawConfig = toml::from_str(source).map_err(|e| ConfigError::toml(path, source, &e))?;
    validate::Checker { path, source }.config(raw)
}

/// A stable fingerprint of the resolved config, so a resumed run can tell the config changed.
pub fn fingerprint(config: &Config) -> String {
    // FNV-1a over the canonical JSON of the resolved config: stable across runs and platforms.
    let json = serde_json::to_string(config).expect("config serializes");
    let mut hash: u64 = 0xcbf29ce484222325;
    for b in json.bytes() {
        hash ^= b as u64;
        hash = hash.wrapping_mul(0x100000001b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests;
