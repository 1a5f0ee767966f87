//! Semantic comparison of policy documents, to tell real drift from AWS's rewriting.
//!
//! AWS hands a policy back in another shape than it was put: single-element arrays collapsed to strings,
//! `"*"` for `{"AWS": "*"}`, an account id for its root ARN, booleans as strings. Normalisation removes
//! those differences so that a freshly applied policy read back compares equal.
use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

/// Differences between a live policy and the desired one, by statement Sid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyDiff {
    /// Desired statements absent from the live policy.
    pub missing: Vec<String>,
    /// Live statements the desired policy does not have.
    pub unexpected: Vec<String>,
    /// Statements present in both with different content.
    pub changed: Vec<String>,
    /// For each changed statement, the elements that differ (`Condition`, `Action`, ...).
    pub changed_fields: BTreeMap<String, Vec<String>>,
    /// `(live, desired)` policy language versions when they differ (`None`: no Version element).
    pub version: Option<(Option<String>, Option<String>)>,
}

impl PolicyDiff {
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty() && self.changed.is_empty() && self.version.is_none()
    }
}

impl fmt::Display for PolicyDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return write!(f, "policy up to date");
        }
        let mut lines = Vec::new();
        if let Some((live, desired)) = &self.version {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
            lines.push(format!("Version changed: {} -> {}", show(live), show(desired)));
        }
        lines.extend(self.missing.iter().map(|s| format!("statement {s} missing")));
        lines.extend(self.unexpected.iter().map(|s| format!("statement {s} unexpected")));
        for s in &self.changed {
            match self.changed_fields.get(s) {
                Some(fields) if !fields.is_empty() => {
                    lines.push(format!("statement {s} changed ({})", fields.join(", ")))
                }
                _ => lines.push(format!("statement {s} changed")),
            }
        }
        write!(f, "{}", lines.join("\n"))
    }
}

/// A policy reduced to comparable form: `Version` and statements keyed by Sid (an unnamed statement by
/// its normalised content, shown as `(unnamed {...})`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedPolicy {
    pub version: Option<String>,
    pub statements: BTreeMap<String, Value>,
}

/// Normalise a policy document. A JSON string holding the policy (as AWS APIs return it) is parsed first;
/// anything unparseable normalises to a policy without statements, which then diffs as all-missing.
pub fn normalize_policy(doc: &Value) -> NormalizedPolicy {
    let parsed;
    let doc = match doc {
        Value::String(s) => {
            parsed = serde_json::from_str(s).unwrap_or(Value::Null);
            &parsed
        }
        other => other,
    };
    let version = doc.get("Version").and_then(Value::as_str).map(str::to_string);
    let stmts: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        _ => Vec::new(),
    };
    let mut statements = BTreeMap::new();
    for st in stmts {
        let Value::Object(obj) = st else { continue };
        let sid = obj.get("Sid").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
        let body = normalize_statement(obj);
        let mut key = sid.unwrap_or_else(|| format!("(unnamed {body})"));
        // Duplicate Sids are invalid in AWS, but must not hide a statement from the comparison.
        let base = key.clone();
        let mut n = 2;
        while statements.contains_key(&key) {
            key = format!("{base}#{n}");
            n += 1;
        }
        statements.insert(key, body);
    }
    NormalizedPolicy { version, statements }
}

/// Compare the live policy with the desired one. Both may be documents or JSON strings.
pub fn diff_policies(live: &Value, desired: &Value) -> PolicyDiff {
    let (live, desired) = (normalize_policy(live), normalize_policy(desired));
    let mut diff = PolicyDiff::default();
    if live.version != desired.version {
        diff.version = Some((live.version.clone(), desired.version.clone()));
    }
    for (sid, want) in &desired.statements {
        match live.statements.get(sid) {
            None => diff.missing.push(sid.clone()),
            Some(have) if have != want => {
                diff.changed.push(sid.clone());
                diff.changed_fields.insert(sid.clone(), differing_fields(have, want));
            }
            Some(_) => {}
        }
    }
    diff.unexpected = live.statements.keys().filter(|s| !desired.statements.contains_key(*s)).cloned().collect();
    diff
}

fn differing_fields(a: &Value, b: &Value) -> Vec<String> {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else { return Vec::new() };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter().filter(|k| a.get(*k) != b.get(*k)).cloned().collect()
}

fn normalize_statement(obj: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    for (k, v) in obj {
        let nv = match k.as_str() {
            "Sid" => continue,
            // Action names are case-insensitive in IAM.
            "Action" | "NotAction" => string_set(v, |s| s.to_ascii_lowercase()),
            "Resource" | "NotResource" => string_set(v, str::to_string),
            "Principal" | "NotPrincipal" => normalize_principal(v),
            "Condition" => normalize_condition(v),
            _ => canonical(v),
        };
        out.insert(k.clone(), nv);
    }
    Value::Object(out)
}

/// `"*"` is `{"AWS": "*"}`; an account's root ARN is the bare account id (AWS rewrites one into the other).
fn normalize_principal(v: &Value) -> Value {
    let Value::Object(obj) = v else {
        return serde_json::json!({ "AWS": string_set(v, str::to_string) });
    };
    let mut out = Map::new();
    for (kind, ids) in obj {
        let norm = if kind == "AWS" { string_set(ids, account_root_to_id) } else { string_set(ids, str::to_string) };
        out.insert(kind.clone(), norm);
    }
    Value::Object(out)
}

fn account_root_to_id(s: &str) -> String {
    match s.parse::<crate::aws::Arn>() {
        Ok(a) if a.service() == "iam" && a.region().is_empty() && a.resource() == "root" => a.account().to_string(),
        _ => s.to_string(),
    }
}

/// Operator and key names compare case-insensitively for keys (IAM condition keys are), values as sets.
fn normalize_condition(v: &Value) -> Value {
    let Value::Object(ops) = v else { return canonical(v) };
    let mut out = Map::new();
    for (op, keys) in ops {
        let norm = match keys {
            Value::Object(keys) => Value::Object(
                keys.iter().map(|(k, vals)| (k.to_ascii_lowercase(), string_set(vals, str::to_string))).collect(),
            ),
            other => canonical(other),
        };
        out.insert(op.clone(), norm);
    }
    Value::Object(out)
}

/// A string or array of scalars as a sorted, de-duplicated array of strings (`true` and `"true"` alike).
fn string_set(v: &Value, f: impl Fn(&str) -> String) -> Value {
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let mut set: Vec<String> = items
        .into_iter()
        .map(|x| match x {
            Value::String(s) => f(s),
            other => f(&other.to_string()),
        })
        .collect();
    set.sort();
    set.dedup();
    Value::Array(set.into_iter().map(Value::String).collect())
}

/// Unknown elements: arrays compared order-insensitively, a lone value like a one-element array.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Array(a) if a.len() == 1 => canonical(&a[0]),
        Value::Array(a) => {
            let mut items: Vec<Value> = a.iter().map(canonical).collect();
            items.sort_by_key(|x| x.to_string());
            items.dedup();
            Value::Array(items)
        }
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), canonical(x))).collect()),
        other => other.clone(),
    }
}
