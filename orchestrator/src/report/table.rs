//! Tables for people, laid out by comfy-table: a header row and aligned columns, two spaces apart,
//! no borders (cargo/kubectl style). Cells wrap to fit the output width; nothing is cut off.
//!
//! The width is `COLUMNS` when set, else the terminal's width when stdout is a terminal, else
//! unlimited: output piped to a file or `grep` keeps one line per row (text with its own line
//! breaks, such as manual-action instructions, still spans several lines in its cell).
use comfy_table::{ContentArrangement, Table as Layout};

pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// No border, no header rule, no column separator: the padding alone spaces the columns.
const PLAIN: &str = "                   ";

impl Table {
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(header: I) -> Self {
        Table { header: header.into_iter().map(Into::into).collect(), rows: Vec::new() }
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
        }
        let mut out: String = t.lines().map(|l| l.trim_end().to_string() + "\n").collect();
        if out.is_empty() {
            out.push('\n');
        }
        out
    }
}

/// `COLUMNS` (a positive number), else the width of the terminal on stdout, else no limit.
pub fn output_width() -> Option<u16> {
    if let Some(cols) = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<u16>().ok()).filter(|&c| c > 0) {
        return Some(cols);
    }
    terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| w.0)
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
    fn multi_line_cells_stay_in_their_column() {
        let mut t = Table::new(["STEP", "ACTION"]);
        t.row(["trusted-access", "manual action: run\naws organizations enable-aws-service-access"]);
        let out = t.render_to(None);
        assert_eq!(out, "STEP            ACTION\ntrusted-access  manual action: run\n                aws organizations enable-aws-service-access\n");
    }
}
