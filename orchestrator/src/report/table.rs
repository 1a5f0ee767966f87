//! Tables for people: a header row and aligned columns, two spaces apart, no borders (cargo/kubectl
//! style). Cells wrap to fit the output width; nothing is cut off.
//!
//! The width is decided once by the binary's settings (`COLUMNS`, else the terminal's width when
//! stdout is a terminal, else unlimited) and set here with `set_output_width`: output piped to a
//! file or `grep` keeps one line per row (text with its own line breaks, such as manual-action
//! instructions, still spans several lines in its cell).
//!
//! Wrapping is textwrap's first-fit over words of our making (`words`): a space-separated token that
//! fits its column stays whole; a longer one (an ARN, a path) breaks after `:`, `/` or `-`, and only
//! a piece still longer than the column is split inside. comfy-table then aligns the wrapped cells.
use std::sync::OnceLock;

use comfy_table::Table as Layout;
use textwrap::core::{break_words, display_width, Word};
use textwrap::wrap_algorithms::wrap_first_fit;

static OUTPUT_WIDTH: OnceLock<Option<u16>> = OnceLock::new();

/// The width `render` and `wrap_prose` wrap to (`None`: no limit). Set once, at start; later calls are ignored.
pub fn set_output_width(width: Option<u16>) {
    let _ = OUTPUT_WIDTH.set(width);
}

/// The width set by `set_output_width`; no limit when it was never set.
pub fn output_width() -> Option<u16> {
    OUTPUT_WIDTH.get().copied().flatten()
}

pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    whole: Vec<usize>,
}

/// No border, no header rule, no column separator: the padding alone spaces the columns.
const PLAIN: &str = "                   ";
/// Spaces between two columns.
const GAP: usize = 2;

impl Table {
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(header: I) -> Self {
        Table { header: header.into_iter().map(Into::into).collect(), rows: Vec::new(), whole: Vec::new() }
    }

    /// Columns never wrapped (ids, names, codes, counts): the others share what is left.
    pub fn keep_whole(mut self, columns: impl IntoIterator<Item = usize>) -> Self {
        self.whole.extend(columns);
        self
    }

    pub fn row<I: IntoIterator<Item = S>, S: Into<String>>(&mut self, cells: I) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table at the output's width (see the module docs), ending with a newline.
    pub fn render(&self) -> String {
        self.render_to(output_width())
    }

    /// The table wrapped to `width` columns (`None`: as wide as its widest cells).
    pub fn render_to(&self, width: Option<u16>) -> String {
        let widths = width.map(|w| self.column_widths(w.into()));
        let cell = |i: usize, text: &str| match &widths {
            Some(w) if !self.whole.contains(&i) => wrap(text, w[i]).join("\n"),
            _ => text.to_string(),
        };
        let wrapped = |r: &[String]| r.iter().enumerate().map(|(i, c)| cell(i, c)).collect::<Vec<_>>();
        let mut t = Layout::new();
        t.load_preset(PLAIN);
        t.set_header(wrapped(&self.header));
        for r in &self.rows {
            t.add_row(wrapped(r));
        }
        let last = self.header.len().saturating_sub(1);
        for (i, col) in t.column_iter_mut().enumerate() {
            col.set_padding((0, if i == last { 0 } else { GAP as u16 }));
        }
        let mut out: String = t.lines().map(|l| l.trim_end().to_string() + "\n").collect();
        if out.is_empty() {
            out.push('\n');
        }
        out
    }

    /// Each column's content width within `width`: whole columns as wide as their widest line; the
    /// others share the rest, narrowest first, none wider than it needs (comfy-table's dynamic rule).
    fn column_widths(&self, width: usize) -> Vec<usize> {
        let n = self.header.len();
        let widest: Vec<usize> = (0..n)
            .map(|i| std::iter::once(&self.header).chain(&self.rows).filter_map(|r| r.get(i)).flat_map(|c| c.lines()).map(display_width).max().unwrap_or(0))
            .collect();
        let fixed: usize = self.whole.iter().filter(|&&i| i < n).map(|&i| widest[i]).sum();
        let mut left = width.saturating_sub(fixed + GAP * n.saturating_sub(1));
        let mut open: Vec<usize> = (0..n).filter(|i| !self.whole.contains(i)).collect();
        open.sort_by_key(|&i| widest[i]);
        let mut out = widest.clone();
        for (k, &i) in open.iter().enumerate() {
            out[i] = widest[i].min(left / (open.len() - k)).max(1);
            left = left.saturating_sub(out[i]);
        }
        out
    }
}

/// Characters a long token may break after (ARNs, paths, names with dashes).
const BREAK_AFTER: [char; 3] = [':', '/', '-'];

/// The words of `line` for a column `width` wide: space-separated tokens, each one broken after
/// its runs of `BREAK_AFTER` characters when it is wider than the column. Words are slices of `line`.
fn words(line: &str, width: usize) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let ends = line.char_indices().map(|(i, c)| (i + c.len_utf8(), c)).collect::<Vec<_>>();
    for (k, &(end, c)) in ends.iter().enumerate() {
        let next = ends.get(k + 1).map(|&(_, n)| n);
        // A token ends after its trailing spaces (kept as the word's whitespace) or at the line's end.
        if next.is_some() && !(c == ' ' && next != Some(' ')) {
            continue;
        }
        let token = &line[start..end];
        if display_width(token.trim_end_matches(' ')) <= width {
            out.push(Word::from(token));
        } else {
            let mut from = 0;
            for (i, ch) in token.char_indices() {
                let after = i + ch.len_utf8();
                // After the last of a run (`:::`, `://`), never before the token's trailing spaces.
                if BREAK_AFTER.contains(&ch) && token[after..].starts_with(|n: char| n != ' ' && !BREAK_AFTER.contains(&n)) {
                    out.push(Word::from(&token[from..after]));
                    from = after;
                }
            }
            out.push(Word::from(&token[from..]));
        }
        start = end;
    }
    out
}

/// `text` wrapped to `width` columns, line by line (its own line breaks kept).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    for line in text.split('\n') {
        let pieces = break_words(words(line, width), width);
        let wrapped = wrap_first_fit(&pieces, &[width as f64]);
        if wrapped.is_empty() {
            lines.push(String::new());
        }
        for ws in wrapped {
            let mut l: String = ws.iter().map(|w| format!("{}{}", w.word, w.whitespace)).collect();
            l.truncate(l.trim_end_matches(' ').len());
            lines.push(l);
        }
    }
    lines
}

/// Text for people, at the output's width: lines that start with a space (commands to copy, by
/// convention of the instructions orgtrail prints) are kept whole, the others wrap at word breaks.
pub fn wrap_prose(text: &str, indent: &str) -> String {
    wrap_prose_to(text, indent, output_width())
}

pub fn wrap_prose_to(text: &str, indent: &str, width: Option<u16>) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let wrapped = match width {
            Some(w) if !line.starts_with(char::is_whitespace) && display_width(line) + indent.len() > w as usize => wrap(line, (w as usize).saturating_sub(indent.len()).max(20)),
            _ => vec![line.to_string()],
        };
        for l in wrapped {
            out.push_str(indent);
            out.push_str(&l);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Table;

    #[test]
    fn aligns_columns_two_spaces_apart() {
        let mut t = super::Table::new(["ID", "NAME"]);
        t.row(["1", "alpha"]);
        t.row(["12345", "b"]);
        assert_eq!(t.render_to(None), "ID     NAME\n1      alpha\n12345  b\n");
    }

    #[test]
    fn wraps_to_the_width_and_keeps_every_word() {
        let text = "Enable MFA Delete on the log bucket with the root user of the log-archive account: orgtrail mfa-delete enable --mfa-serial ARN --mfa-code CODE";
        let mut t = Table::new(["STEP", "ACCOUNT", "ACTION"]);
        t.row(["mfa-delete", "222222222222", text]);
        let out = t.render_to(Some(60));
        assert!(out.lines().all(|l| l.chars().count() <= 60), "a line is wider than 60:\n{out}");
        assert!(out.lines().count() > 3, "the action did not wrap:\n{out}");
        let column = out.lines().next().unwrap().find("ACTION").unwrap();
        let words: Vec<&str> = out.lines().skip(1).flat_map(|l| l[column..].split_whitespace()).collect();
        assert_eq!(words.join(" "), text, "text lost or reordered:\n{out}");
    }

    #[test]
    fn splits_a_name_longer_than_its_column() {
        let arn = "arn:aws:s3:::orgtrail-logs-222222222222-access-logs-with-a-very-long-suffix";
        let mut t = Table::new(["RESOURCE", "ACTION"]);
        t.row([arn, "create"]);
        let out = t.render_to(Some(40));
        assert!(out.lines().all(|l| l.chars().count() <= 40), "{out}");
        let joined: String = out.lines().skip(1).map(|l| l.trim_end().trim_end_matches("create").trim()).collect();
        assert_eq!(joined, arn, "{out}");
    }

    #[test]
    fn whole_columns_do_not_wrap() {
        let mut t = Table::new(["ACCOUNT", "REASON"]).keep_whole([0]);
        t.row(["222222222222", "AccessDenied: the role cannot be assumed from the management account"]);
        let out = t.render_to(Some(40));
        assert!(out.lines().skip(1).all(|l| l.starts_with("222222222222  ") || l.starts_with("              ")), "{out}");
        assert!(out.lines().all(|l| l.chars().count() <= 40), "{out}");
    }

    #[test]
    fn prose_wraps_at_words_and_indented_commands_stay_whole() {
        let text = "Only the root user of the log-archive account can enable it, with its MFA device, run:\n  orgtrail mfa-delete enable --mfa-serial arn:aws:iam::222222222222:mfa/root-account-mfa-device --mfa-code CODE";
        let out = super::wrap_prose_to(text, "  ", Some(40));
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() > 3, "{out}");
        assert!(lines[..lines.len() - 1].iter().all(|l| l.len() <= 40 && l.starts_with("  ")), "{out}");
        assert_eq!(lines.last().unwrap().trim(), "orgtrail mfa-delete enable --mfa-serial arn:aws:iam::222222222222:mfa/root-account-mfa-device --mfa-code CODE");
        let prose: Vec<&str> = lines[..lines.len() - 1].iter().flat_map(|l| l.split_whitespace()).collect();
        assert_eq!(prose.join(" "), text.lines().next().unwrap());
        assert_eq!(super::wrap_prose_to(text, "", None), format!("{text}\n"), "no width: unchanged");
    }

    #[test]
    fn an_arn_wraps_after_colons_slashes_and_dashes() {
        let arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/orgtrail";
        let mut t = Table::new(["RESOURCE", "ACTION"]).keep_whole([1]);
        t.row([arn, "update"]);
        // RESOURCE may take 32 - 2 - 6 = 24 columns; its widest line is 22.
        assert_eq!(t.render_to(Some(32)), "RESOURCE                ACTION\narn:aws:cloudtrail:us-  update\neast-1:123456789012:\ntrail/orgtrail\n");
        let path = super::wrap("s3://org-logs-222222222222/org/AWSLogs/o-abc123/111111111111/CloudTrail/", 20);
        assert_eq!(path, ["s3://org-logs-", "222222222222/org/", "AWSLogs/o-abc123/", "111111111111/", "CloudTrail/"]);
    }

    #[test]
    fn an_arn_that_fits_its_column_moves_to_the_next_line_whole() {
        assert_eq!(super::wrap("CreateTrail refused for arn:aws:sns:us-east-1:1:t", 30), ["CreateTrail refused for", "arn:aws:sns:us-east-1:1:t"]);
    }

    #[test]
    fn a_sentence_wraps_at_spaces_and_keeps_dashed_words_that_fit() {
        assert_eq!(super::wrap("the quick brown fox jumps over the lazy dog", 10), ["the quick", "brown fox", "jumps over", "the lazy", "dog"]);
        assert_eq!(super::wrap("in the log-archive account", 12), ["in the", "log-archive", "account"]);
        assert_eq!(super::wrap("two  spaces kept inside", 40), ["two  spaces kept inside"], "a line that fits is unchanged");
    }

    #[test]
    fn a_token_longer_than_its_column_is_split_to_fit() {
        let key = "0123456789abcdef0123456789abcdef0123456789abcdef01";
        let lines = super::wrap(key, 16);
        assert_eq!(lines, ["0123456789abcdef", "0123456789abcdef", "0123456789abcdef", "01"]);
        // A piece between boundaries that is still too long is split inside, the rest at boundaries.
        let lines = super::wrap("arn:aws:s3:::bucket-name-that-is/averyveryverylongsegmentwithoutbreaks", 12);
        assert!(lines.iter().all(|l| l.chars().count() <= 12), "{lines:?}");
        assert_eq!(lines.concat(), "arn:aws:s3:::bucket-name-that-is/averyveryverylongsegmentwithoutbreaks");
        assert_eq!(&lines[..3], ["arn:aws:", "s3:::bucket-", "name-that-"], "a run of `:::` stays together: {lines:?}");
        let mut t = Table::new(["ID", "KEY"]).keep_whole([0]);
        t.row(["1", key]);
        let out = t.render_to(Some(20));
        assert!(out.lines().all(|l| l.chars().count() <= 20), "{out}");
        assert_eq!(out.lines().skip(1).map(|l| l[4..].trim_end()).collect::<String>(), key, "{out}");
    }

    #[test]
    fn multi_byte_and_wide_text_wraps_without_panicking() {
        use textwrap::core::display_width;
        let text = "Überprüfung für 東京リージョン 🚀🚀🚀 arn:aws:s3:::bücket-日本語/ключ-доступа e\u{301}t\u{e9} ñ";
        for width in 1..=48 {
            let lines = super::wrap(text, width);
            // A character two columns wide cannot fit a one-column line: it gets a line of its own.
            assert!(lines.iter().all(|l| display_width(l) <= width.max(2)), "width {width}: {lines:?}");
            assert_eq!(lines.concat().replace(' ', ""), text.replace(' ', ""), "width {width}: text lost");
            let mut t = Table::new(["ACCOUNT", "REASON"]).keep_whole([0]);
            t.row(["222222222222", text]);
            let out = t.render_to(Some(width as u16 + 14));
            assert!(out.lines().skip(1).all(|l| display_width(l) <= width.max(2) + 14), "width {width}:\n{out}");
            let _ = super::wrap_prose_to(text, "  ", Some(width as u16));
        }
    }

    #[test]
    fn multi_line_cells_stay_in_their_column() {
        let mut t = Table::new(["STEP", "ACTION"]);
        t.row(["trusted-access", "manual action: run\naws organizations enable-aws-service-access"]);
        let out = t.render_to(None);
        assert_eq!(out, "STEP            ACTION\ntrusted-access  manual action: run\n                aws organizations enable-aws-service-access\n");
    }
}
