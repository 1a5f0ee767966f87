//! Tables for people, laid out by comfy-table: a header row and aligned columns, two spaces apart,
//! no borders (cargo/kubectl style). Cells wrap to fit the output width; nothing is cut off.
//!
//! The width is decided once by the binary's settings (`COLUMNS`, else the terminal's width when
//! stdout is a terminal, else unlimited) and set here with `set_output_width`: output piped to a
//! file or `grep` keeps one line per row (text with its own line breaks, such as manual-action
//! instructions, still spans several lines in its cell).
use std::sync::OnceLock;

use comfy_table::{ColumnConstraint, ContentArrangement, Table as Layout};

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
        let mut t = Layout::new();
        t.load_preset(PLAIN);
        if let Some(w) = width {
            t.set_content_arrangement(ContentArrangement::Dynamic).set_width(w);
        }
        t.set_header(&self.header);
        for r in &self.rows {
            t.add_row(r);
        }
        let last = self.header.len().saturating_sub(1);
        for (i, col) in t.column_iter_mut().enumerate() {
            col.set_padding((0, if i == last { 0 } else { 2 }));
            if self.whole.contains(&i) {
                col.set_constraint(ColumnConstraint::ContentWidth);
            }
        }
        let mut out: String = t.lines().map(|l| l.trim_end().to_string() + "\n").collect();
        if out.is_empty() {
            out.push('\n');
        }
        out
    }
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
            Some(w) if !line.starts_with(char::is_whitespace) && line.chars().count() + indent.len() > w as usize => {
                let mut t = Layout::new();
                t.load_preset(PLAIN).set_content_arrangement(ContentArrangement::Dynamic).set_width(w.saturating_sub(indent.len() as u16).max(20));
                t.add_row([line]);
                t.column_iter_mut().for_each(|c| {
                    c.set_padding((0, 0));
                });
                t.lines().map(|l| l.trim_end().to_string()).collect::<Vec<_>>()
            }
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
    fn multi_line_cells_stay_in_their_column() {
        let mut t = Table::new(["STEP", "ACTION"]);
        t.row(["trusted-access", "manual action: run\naws organizations enable-aws-service-access"]);
        let out = t.render_to(None);
        assert_eq!(out, "STEP            ACTION\ntrusted-access  manual action: run\n                aws organizations enable-aws-service-access\n");
    }
}
