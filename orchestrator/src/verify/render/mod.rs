//! The report for people (table), machines (JSON) and CI systems (JUnit XML, SARIF 2.1.0).
pub mod asff;
mod junit;
pub mod sarif;

use super::Report;
use crate::report::table::Table;

pub use junit::junit;
pub(crate) use junit::esc;
pub use sarif::sarif;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Junit,
    Sarif,
}

/// The report in `format`, ending with a newline.
pub fn render(report: &Report, format: Format, config_path: &str) -> String {
    match format {
        Format::Table => table(report),
        Format::Json => serde_json::to_string_pretty(report).expect("a report serializes") + "\n",
        Format::Junit => junit(report),
        Format::Sarif => serde_json::to_string_pretty(&sarif(report, config_path)).expect("SARIF serializes") + "\n",
    }
}

/// The findings as ASFF (Security Hub's format), for the hub of the account the audit ran from.
pub fn asff_json(report: &Report) -> String {
    serde_json::to_string_pretty(&asff::findings(report, &asff::HubTarget::of_caller(report))).expect("ASFF serializes") + "\n"
}

/// Rows a person reads: every finding that is not a pass, and the passes of a control found in
/// many accounts collapsed into one row (the JSON, JUnit and SARIF outputs keep every finding).
pub fn table(report: &Report) -> String {
    const COLLAPSE_OVER: usize = 3;
    let mut t = Table::new(["CONTROL", "STATUS", "ACCOUNT", "RESOURCE", "EVIDENCE"]).keep_whole(0..3);
    let mut done = std::collections::BTreeSet::new();
    for f in &report.findings {
        let id = f.control.id();
        let passes: Vec<&super::Finding> = report.findings.iter().filter(|g| g.control.id() == id && g.status == super::Status::Pass).collect();
        if f.status == super::Status::Pass && passes.len() > COLLAPSE_OVER {
            if done.insert(id) {
                t.row([id.to_string(), "PASS".into(), format!("{} accounts", passes.len()), f.resource.clone(), format!("e.g. {}: {}", f.account, f.evidence)]);
            }
            continue;
        }
        t.row([id.to_string(), f.status.as_str().to_string(), f.account.clone(), f.resource.clone(), f.evidence.clone()]);
    }
    format!("{}\n{}\n", t.render(), summary_line(report))
}

pub fn summary_line(report: &Report) -> String {
    let s = &report.summary;
    let verdict = if report.passed() { "no findings" } else { "FINDINGS" };
    let failing = report.failing_controls().iter().map(|c| c.id()).collect::<Vec<_>>().join(", ");
    format!(
        "{verdict}: {} pass, {} fail, {} error, {} manual, {} not applicable across {} member account(s) of {}{}",
        s.pass,
        s.fail,
        s.error,
        s.manual,
        s.not_applicable,
        report.accounts_checked,
        report.organization,
        if failing.is_empty() { String::new() } else { format!(" (failing: {failing})") }
    )
}

/// The finding's one-line message: what was judged and the evidence.
fn message(f: &super::Finding) -> String {
    format!("{} {}: {} in account {} ({}): {}", f.control.id(), f.status.as_str(), f.control.title(), f.account, f.resource, f.evidence)
}


