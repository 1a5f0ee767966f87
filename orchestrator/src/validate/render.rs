//! validate-logs results for people (table), machines (JSON, which `merge` reads back) and CI
//! (JUnit XML, SARIF 2.1.0), with verify's formats, table and XML escaping.
use std::fmt::Write;

use serde_json::{json, Value};

use super::results::{Report, Verdict};
use crate::report::table::Table;
use crate::verify::render::{esc, sarif::SCHEMA, Format};

pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Table => table(report),
        Format::Json => serde_json::to_string_pretty(report).expect("a report serializes") + "\n",
        Format::Junit => junit(report),
        Format::Sarif => serde_json::to_string_pretty(&sarif(report)).expect("SARIF serializes") + "\n",
    }
}

/// One row per finding (every one names its object key), then the summary line.
pub fn table(report: &Report) -> String {
    let mut t = Table::new(["ACCOUNT", "REGION", "VERDICT", "WHAT", "KEY", "DETAIL"]).keep_whole(0..4);
    for f in &report.findings {
        let verdict = if f.count > 1 { format!("{} ({})", f.verdict.as_str(), f.count) } else { f.verdict.as_str().to_string() };
        t.row([f.account.clone(), f.region.clone(), verdict, f.subject.as_str().to_string(), f.key.clone(), f.detail.clone()]);
    }
    let rows = if t.is_empty() { String::new() } else { t.render() };
    format!("{rows}{}\n", summary_line(report))
}

pub fn summary_line(report: &Report) -> String {
    let s = &report.summary;
    let verdict = if report.passed() { "valid" } else { "INVALID" };
    let logs = if report.digests_only { "log files not read (--digests-only)".to_string() } else { format!("{}/{} log files valid, {} unlisted", s.logs_valid, s.logs_valid + s.logs_invalid, s.logs_unlisted) };
    let mode = if report.since_last { " since the last run" } else { "" };
    format!(
        "{verdict}: {} of {} account-region pair(s) failing; {}/{} digests valid{mode}, {} missing, {} backfill; {logs}; {} stop(s); {} to {}{}",
        s.pairs_failing,
        s.pairs,
        s.digests_valid,
        s.digests_valid + s.digests_invalid,
        s.digests_missing,
        s.backfill_digests_valid,
        s.stops,
        report.start_time,
        report.end_time,
        report.shard.as_deref().map(|k| format!(" (shard {k})")).unwrap_or_default()
    )
}

/// One testcase per account x region; its findings are the failure's text (stops are output).
pub fn junit(report: &Report) -> String {
    let failing = report.pairs.iter().filter(|p| !p.valid).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"orgtrail validate-logs {}\" tests=\"{}\" failures=\"{failing}\">", esc(&report.organization), report.pairs.len());
    let _ = writeln!(out, "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failing}\">", esc(&report.trail), report.pairs.len());
    for p in &report.pairs {
        let lines: Vec<String> = report.findings.iter().filter(|f| f.account == p.account && f.region == p.region).map(|f| format!("{} {} {}: {}", f.verdict.as_str(), f.subject.as_str(), f.key, f.detail)).collect();
        let _ = write!(out, "    <testcase classname=\"{}\" name=\"{}\">", esc(&p.account), esc(&format!("{} {}", p.account, p.region)));
        if !p.valid {
            let first = lines.first().cloned().unwrap_or_else(|| "invalid".into());
            let _ = write!(out, "<failure type=\"INVALID\" message=\"{}\">{}</failure>", esc(&first), esc(&lines.join("\n")));
        }
        let counts = format!("{} digests valid, {} invalid, {} missing; {} log files valid, {} invalid; {} stops", p.digests_valid, p.digests_invalid, p.digests_missing, p.logs_valid, p.logs_invalid, p.stops);
        let _ = writeln!(out, "<system-out>{}</system-out></testcase>", esc(&[counts].into_iter().chain(lines).collect::<Vec<_>>().join("\n")));
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

const RULES: [Verdict; 11] = [
    Verdict::InvalidSignature,
    Verdict::InvalidHash,
    Verdict::InvalidPlace,
    Verdict::UnknownKey,
    Verdict::NotFound,
    Verdict::NotInChain,
    Verdict::Unlisted,
    Verdict::Gap,
    Verdict::Missing,
    Verdict::Error,
    Verdict::Stopped,
];

fn rule_id(v: Verdict) -> String {
    format!("ValidateLogs.{}", v.as_str().replace(": ", "-").replace(' ', "-"))
}

/// One rule per verdict, one result per finding, located at the object's S3 URI.
pub fn sarif(report: &Report) -> Value {
    let rules: Vec<Value> = RULES.iter().map(|v| json!({ "id": rule_id(*v), "shortDescription": { "text": v.as_str() }, "defaultConfiguration": { "level": if v.is_failing() { "error" } else { "note" } } })).collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let uri = format!("s3://{}/{}", report.bucket, f.key);
            json!({
                "ruleId": rule_id(f.verdict),
                "ruleIndex": RULES.iter().position(|v| *v == f.verdict).expect("every verdict has a rule"),
                "kind": if f.verdict.is_failing() { "fail" } else { "informational" },
                "level": if f.verdict.is_failing() { "error" } else { "none" },
                "message": { "text": format!("{} {} in account {} ({}): {}: {}", f.subject.as_str(), f.verdict.as_str(), f.account, f.region, f.key, f.detail) },
                "locations": [{ "physicalLocation": { "artifactLocation": { "uri": uri } } }],
                "partialFingerprints": { "orgtrailValidateLogs/v1": format!("{}|{}|{}|{}", f.verdict.as_str(), f.account, f.region, f.key) },
                "properties": { "account": f.account, "region": f.region, "subject": f.subject, "verdict": f.verdict, "count": f.count },
            })
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "orgtrail validate-logs", "version": env!("CARGO_PKG_VERSION"), "rules": rules } },
            "properties": { "organization": report.organization, "trail": report.trail, "summary": report.summary },
            "results": results,
        }],
    })
}
