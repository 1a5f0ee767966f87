//! Config errors that point at the file, line and column at fault, cargo-style.
use std::ops::Range;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}:{line}:{column}: config file is not valid UTF-8 (byte offset {offset}); save it as UTF-8", path.display())]
    NotUtf8 { path: PathBuf, line: usize, column: usize, offset: usize },
    #[error("config file {path} is {size} bytes; the limit is {limit} bytes (is this the right file?)")]
    TooLarge { path: PathBuf, size: u64, limit: u64 },
    #[error("{0}")]
    At(Box<Located>),
}

/// An error at a place in the file: `path:line:column: message`, then the line with a caret.
#[derive(Debug)]
pub struct Located {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub snippet: String,
}

impl std::fmt::Display for Located {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: {}", self.path.display(), self.line, self.column, self.message)?;
        if !self.snippet.is_empty() {
            write!(f, "\n{}", self.snippet)?;
        }
        Ok(())
    }
}

impl ConfigError {
    pub fn at(path: &Path, source: &str, span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        let span = span.unwrap_or(0..0);
        let (line, column) = line_column(source, span.start);
        let snippet = snippet(source, line, column, span.len());
        ConfigError::At(Box::new(Located { path: path.to_path_buf(), line, column, message: message.into(), snippet }))
    }

    /// The line of the error, when it has one (for tests and `--json` output).
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::At(l) => Some(l.line),
            _ => None,
        }
    }

    pub fn column(&self) -> Option<usize> {
        match self {
            ConfigError::At(l) => Some(l.column),
            _ => None,
        }
    }

    pub fn message(&self) -> String {
        match self {
            ConfigError::At(l) => l.message.clone(),
            other => other.to_string(),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..floor_char_boundary(source, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn snippet(source: &str, line: usize, column: usize, len: usize) -> String {
    let Some(text) = source.lines().nth(line - 1) else { return String::new() };
    let gutter = line.to_string();
    let width = len.clamp(1, text.chars().count().saturating_sub(column - 1).max(1));
    format!(
        "{pad} |\n{gutter} | {text}\n{pad} | {space}{carets}",
        pad = " ".repeat(gutter.len()),
        space = " ".repeat(column - 1),
        carets = "^".repeat(width)
    )
}
