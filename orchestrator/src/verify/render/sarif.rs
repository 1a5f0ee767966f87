//! SARIF 2.1.0: one rule per control, one result per finding. Failing findings are `kind: fail`
//! with `level: error`; the others carry their kind (`pass`, `review` for MANUAL, `notApplicable`)
//! with `level: none`, as SARIF requires for any kind but `fail`. Cloud resources have no source
//! file: each result points at the config that defines the baseline (code-scanning UIs need a
//! physical location) and names the account and resource as a logical location.
use serde_json::{json, Value};

use super::super::{Control, Report, Status};
use super::message;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn sarif(report: &Report, config_path: &str) -> Value {
    let rules: Vec<Value> = Control::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.id(),
                "name": c.id().replace('.', ""),
                "shortDescription": { "text": c.title() },
                "help": { "text": c.remediation() },
                "defaultConfiguration": { "level": "error" },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let (kind, level) = match f.status {
                Status::Fail | Status::Error => ("fail", "error"),
                Status::Pass => ("pass", "none"),
                Status::Manual => ("review", "none"),
                Status::NotApplicable => ("notApplicable", "none"),
            };
            let rule_index = Control::ALL.iter().position(|c| *c == f.control).expect("every control is in the catalog");
            json!({
                "ruleId": f.control.id(),
                "ruleIndex": rule_index,
                "kind": kind,
                "level": level,
                "message": { "text": message(f) },
                "locations": [{
                    "physicalLocation": { "artifactLocation": { "uri": config_path } },
                    "logicalLocations": [{ "name": f.resource, "fullyQualifiedName": format!("{}/{}", f.account, f.resource), "kind": "resource" }],
                }],
                "partialFingerprints": { "orgtrailFinding/v1": format!("{}|{}|{}", f.control.id(), f.account, f.resource) },
                "properties": { "status": f.status.as_str(), "account": f.account, "resource": f.resource, "evidence": f.evidence },
            })
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "orgtrail",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "properties": { "organization": report.organization, "summary": report.summary },
            "results": results,
        }],
    })
}
