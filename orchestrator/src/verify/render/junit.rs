//! JUnit XML: one testsuite per control, one testcase per finding. FAIL is a `<failure>`, ERROR an
//! `<error>`, MANUAL and NOT-APPLICABLE are `<skipped>` (not failing, still shown).
use std::fmt::Write;

use super::super::{Control, Report, Status};
use super::message;

pub fn junit(report: &Report) -> String {
    let s = &report.summary;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"orgtrail verify {}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
        esc(&report.organization),
        report.findings.len(),
        s.fail,
        s.error,
        s.manual + s.not_applicable
    );
    for control in Control::ALL {
        let cases: Vec<_> = report.findings.iter().filter(|f| f.control == control).collect();
        if cases.is_empty() {
            continue;
        }
        let count = |st: &[Status]| cases.iter().filter(|f| st.contains(&f.status)).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            esc(control.id()),
            cases.len(),
            count(&[Status::Fail]),
            count(&[Status::Error]),
            count(&[Status::Manual, Status::NotApplicable])
        );
        for f in cases {
            let _ = write!(out, "    <testcase classname=\"{}\" name=\"{}\">", esc(control.id()), esc(&format!("{} {}", f.account, f.resource)));
            let msg = esc(&message(f));
            match f.status {
                Status::Pass => {}
                Status::Fail => {
                    let _ = write!(out, "<failure type=\"FAIL\" message=\"{msg}\">{}</failure>", esc(control.remediation()));
                }
                Status::Error => {
                    let _ = write!(out, "<error type=\"ERROR\" message=\"{msg}\"/>");
                }
                Status::Manual | Status::NotApplicable => {
                    let _ = write!(out, "<skipped message=\"{msg}\"/>");
                }
            }
            let _ = writeln!(out, "<system-out>{}</system-out></testcase>", esc(&f.evidence));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// XML text and attribute escaping; characters XML 1.0 cannot hold at all are dropped.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_drops_control_characters() {
        assert_eq!(super::esc("a<b>&\"c'\u{1}d"), "a&lt;b&gt;&amp;&quot;c&apos;d");
    }
}
