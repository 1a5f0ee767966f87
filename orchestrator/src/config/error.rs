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

    /// A TOML syntax or type error, its serde wording turned into what an operator can act on.
    pub fn toml(path: &Path, source: &str, err: &toml::de::Error) -> Self {
        let span = err.span();
        let key = span.clone().and_then(|s| source.get(s)).unwrap_or("");
        // `[name]` or `[[name]]`: the error is about a table header.
        let header = span.as_ref().and_then(|s| source.get(..s.start)).is_some_and(|b| b.trim_end_matches(' ').ends_with('['));
        // `[wave]` then `[[wave]]`: toml reports the second header, but the fault is the first.
        let list_header = span.as_ref().and_then(|s| source.get(..s.start)).is_some_and(|b| b.trim_end_matches(' ').ends_with("[["));
        if list_header && err.message().trim_end() == "duplicate key" {
            if let Some(single) = span.as_ref().and_then(|s| single_header_before(source, key.trim(), s.start)) {
                let message = format!("table [{k}] is written with single brackets, but [[{k}]] follows; a list of tables is written [[{k}]] for every entry", k = key.trim());
                return Self::at(path, source, Some(single), message);
            }
        }
        Self::at(path, source, span, readable(err.message().trim_end(), key, header))
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

/// Where `"value"` is written in the config at or after `from_line` (a wave's header): `  --> path:line:column`
/// and the line with a caret, for errors found after the config was resolved (the plan's), which
/// keep no spans. Read again only on that error path; `""` when the file or the value is not found.
pub fn point_at_value(path: &Path, from_line: usize, value: &str) -> String {
    let Ok(source) = std::fs::read_to_string(path) else { return String::new() };
    let start = source.split_inclusive('\n').take(from_line.saturating_sub(1)).map(str::len).sum::<usize>();
    let quoted = format!("\"{value}\"");
    let Some(at) = source[start..].find(&quoted).map(|i| start + i + 1) else { return String::new() };
    match ConfigError::at(path, &source, Some(at..at + value.len()), "") {
        ConfigError::At(l) => format!("\n  --> {}:{}:{}\n{}", l.path.display(), l.line, l.column, l.snippet),
        _ => String::new(),
    }
}

/// The span of a `[key]` header (single brackets) that starts a line before `before`.
fn single_header_before(source: &str, key: &str, before: usize) -> Option<Range<usize>> {
    let mut start = 0;
    for line in source[..before.min(source.len())].split_inclusive('\n') {
        let text = line.split('#').next().unwrap_or("").trim();
        if text.strip_prefix('[').and_then(|t| t.strip_suffix(']')).is_some_and(|t| !t.starts_with('[') && t.trim() == key) {
            let indent = line.len() - line.trim_start().len();
            return Some(start + indent..start + indent + text.len());
        }
        start += line.len();
    }
    None
}

/// Keys that belong at the top of the file: written after a `[table]` header they land in that table.
const TOP_LEVEL_KEYS: &[&str] = &["exclude_accounts", "exclude_ous"];

/// serde's and toml's wording for people who write TOML, not Rust: "table" not "map", "array" not
/// "sequence", "integer" not "i64"; `key` is the source text the error points at.
fn readable(message: &str, key: &str, header: bool) -> String {
    if message == "duplicate key" {
        let key = key.trim();
        return if header {
            format!("table [{key}] is defined twice (or as both [{key}] and [[{key}]]); a list of tables is written [[{key}]] for every entry")
        } else {
            format!("duplicate key `{key}`: it is already defined above in the same table; each key may appear only once")
        };
    }
    if message.starts_with("cannot recurse further") {
        return "values are nested too deeply for the TOML parser (its recursion limit); a config needs only a few levels".into();
    }
    if let Some(rest) = message.strip_prefix("invalid type: integer `") {
        if let Some((n, _)) = rest.split_once("` as i128") {
            return format!("integer `{n}` is too large: expected an integer between -9223372036854775808 and 9223372036854775807");
        }
    }
    let mut m = message
        .replace("expected i64", "expected an integer")
        .replace("expected a sequence", "expected an array")
        .replace("invalid type: map", "invalid type: table")
        .replace("invalid type: sequence", "invalid type: array")
        .replace("invalid type: floating point", "invalid type: float");
    if let Some(field) = m.strip_prefix("missing field ") {
        m = format!("missing required key {field}");
    }
    if m.starts_with("invalid type: table, expected an array") {
        m.push_str(" (a list of tables is written with double brackets: [[name]], once per entry)");
    }
    if let Some(rest) = m.strip_prefix("unknown field `") {
        if let Some(field) = rest.split('`').next().filter(|f| TOP_LEVEL_KEYS.contains(f)) {
            m.push_str(&format!(
                "\n`{field}` is a top-level key: in TOML every key after a [table] header belongs to that table, so move it above the first [table]"
            ));
        }
    }
    m
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

/// Characters of the faulty line shown around the column (a minified or generated line can be huge).
const SNIPPET_WIDTH: usize = 100;

fn snippet(source: &str, line: usize, column: usize, len: usize) -> String {
    let Some(text) = source.lines().nth(line - 1) else { return String::new() };
    let chars: Vec<char> = text.chars().collect();
    // Show a window of the line that starts a little before the column, marked with `...` where cut.
    let start = (column - 1).saturating_sub(SNIPPET_WIDTH / 4).min(chars.len());
    let end = (start + SNIPPET_WIDTH).min(chars.len());
    let shown: String = chars[start..end].iter().map(|c| if *c == '\t' { ' ' } else { *c }).collect();
    let (before, after) = (if start > 0 { "..." } else { "" }, if end < chars.len() { "..." } else { "" });
    let gutter = line.to_string();
    let offset = before.len() + (column - 1 - start.min(column - 1));
    let width = len.clamp(1, (end + 1).saturating_sub(column).max(1));
    format!(
        "{pad} |\n{gutter} | {before}{shown}{after}\n{pad} | {space}{carets}",
        pad = " ".repeat(gutter.len()),
        space = " ".repeat(offset),
        carets = "^".repeat(width)
    )
}
