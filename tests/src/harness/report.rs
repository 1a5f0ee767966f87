//! Reading orgtrail's JSON output: the document, the changes a plan or apply reports, and the
//! findings of `verify`.
use std::collections::BTreeSet;
use std::process::Output;

use serde_json::Value;

use super::{stderr, stdout, Sandbox};

/// The JSON document on stdout (whatever the exit code).
pub fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", stdout(out), stderr(out)))
}

/// The JSON document of a run that exited 0.
#[track_caller]
pub fn json_ok(out: &Output) -> Value {
    assert_eq!(out.status.code(), Some(0), "stdout: {}\nstderr: {}", stdout(out), stderr(out));
    json(out)
}

/// `orgtrail ARGS --json`: (exit code, the JSON document on stdout).
pub fn orgtrail_json(sb: &Sandbox, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = args.to_vec();
    all.push("--json");
    let out = sb.orgtrail(&all);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("orgtrail {args:?}: not JSON ({e}): {}\nstderr: {}", stdout(&out), stderr(&out)));
    (out.status.code().unwrap_or(-1), v)
}

/// "step resource" → action (with the fields of an update) of every change that is not "no change":
/// the same shape for `plan --json` steps and `apply --json` central results.
pub fn changes(steps: &serde_json::Value) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    for s in steps.as_array().unwrap() {
        for c in s["changes"].as_array().into_iter().flatten() {
            let action = c["action"].as_str().unwrap();
            if action == "no-change" {
                continue;
            }
            let what = match c["fields"].as_array() {
                Some(f) => format!("{action}: {}", f.iter().map(|x| x.as_str().unwrap()).collect::<Vec<_>>().join(", ")),
                None => action.to_string(),
            };
            out.insert(format!("{} {}", s["step"].as_str().unwrap(), c["resource"].as_str().unwrap()), what);
        }
    }
    out
}

/// `orgtrail verify --json`: (exit code, report).
pub fn verify_json(sb: &Sandbox) -> (i32, Value) {
    let out = sb.orgtrail(&["verify", "--json"]);
    (out.status.code().unwrap_or(-1), json(&out))
}

/// The findings of a verify report.
pub fn findings(v: &Value) -> &Vec<Value> {
    v["findings"].as_array().unwrap_or_else(|| panic!("no findings in {v:#}"))
}

/// Control ids with a FAIL or ERROR finding.
pub fn failing(v: &Value) -> BTreeSet<String> {
    findings(v).iter().filter(|f| f["status"] == "FAIL" || f["status"] == "ERROR").map(|f| f["control"].as_str().unwrap().to_string()).collect()
}
