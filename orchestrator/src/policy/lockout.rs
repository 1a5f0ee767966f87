//! Refuse to apply a bucket policy that would deny the role running orgtrail the right to change the
//! bucket afterwards: once applied, only the account's root user could repair it.
//!
//! Also refuse one that would deny the log-archive account's root user `s3:PutBucketVersioning`: S3
//! accepts MFA Delete only from that root user, through PutBucketVersioning, and an explicit Deny in a
//! bucket policy binds the root user too (S3 exempts only its bucket-policy actions).
//!
//! This is a targeted evaluation, not a policy simulator: it looks at Deny statements that restrict by
//! `aws:PrincipalArn` and asks whether they match the caller for the bucket-management actions. The
//! access-matrix test proves the rendered policies with an outside evaluator.
use serde_json::Value;

use super::error::LockoutError;
use crate::aws::Arn;

/// The actions orgtrail must keep on the log-archive bucket.
pub const PROTECTED_ACTIONS: &[&str] =
    &["s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration"];

/// The value `aws:PrincipalArn` takes for a caller: the role ARN for an assumed-role session
/// (`arn:aws:sts::123:assumed-role/Name/session` -> `arn:aws:iam::123:role/Name`), the ARN itself otherwise.
/// A session ARN does not carry the role's IAM path: a caller that knows it (iam:GetRole) should pass the
/// role ARN instead.
pub fn principal_arn_for(caller_arn: &str) -> String {
    let parts: Vec<&str> = caller_arn.splitn(6, ':').collect();
    if let ["arn", partition, "sts", "", account, resource] = parts.as_slice() {
        if let Some(rest) = resource.strip_prefix("assumed-role/") {
            if let Some((role, _session)) = rest.split_once('/') {
                return format!("arn:{partition}:iam::{account}:role/{role}");
            }
        }
    }
    caller_arn.to_string()
}

/// Check `policy` (a document or its JSON string) against the caller's ARN (session or role ARN).
pub fn check_not_locked_out(policy: &Value, caller_arn: &str) -> Result<(), LockoutError> {
    let policy = document(policy)?;
    let policy = policy.as_ref();
    let principal_arn = principal_arn_for(caller_arn);
    // A human caller over TLS.
    let facts = [("aws:principalisawsservice", "false"), ("aws:securetransport", "true")];
    let denial = first_denial(statements(policy)?, caller_arn, &principal_arn, PROTECTED_ACTIONS, &facts, true);
    match denial {
        Some(Denial { sid, action, condition }) => Err(LockoutError::WouldLockOut {
            sid,
            action: action.to_string(),
            caller_arn: caller_arn.to_string(),
            principal_arn,
            condition,
        }),
        None => Ok(()),
    }
}

/// Check that `policy` leaves the root user of `log_archive_account` able to call
/// `s3:PutBucketVersioning`, the only way to enable MFA Delete.
pub fn check_root_can_enable_mfa_delete(policy: &Value, partition: &str, org_id: &str, log_archive_account: &str) -> Result<(), LockoutError> {
    let policy = document(policy)?;
    let policy = policy.as_ref();
    let root = format!("arn:{partition}:iam::{log_archive_account}:root");
    // Any Deny counts here, not only those naming aws:PrincipalArn: a blanket deny binds the root user too.
    let facts = [
        ("aws:principalisawsservice", "false"),
        ("aws:securetransport", "true"),
        ("aws:principalorgid", org_id),
        ("aws:principalaccount", log_archive_account),
    ];
    match first_denial(statements(policy)?, &root, &root, &["s3:PutBucketVersioning"], &facts, false) {
        Some(Denial { sid, condition, .. }) => Err(LockoutError::BlocksMfaDelete { sid, root_arn: root, condition }),
        None => Ok(()),
    }
}

/// The policy document, parsed when given as its JSON text.
fn document(policy: &Value) -> Result<std::borrow::Cow<'_, Value>, LockoutError> {
    match policy {
        Value::String(s) => serde_json::from_str(s).map(std::borrow::Cow::Owned).map_err(|e| LockoutError::InvalidPolicy(e.to_string())),
        other => Ok(std::borrow::Cow::Borrowed(other)),
    }
}

fn statements(policy: &Value) -> Result<Vec<&Value>, LockoutError> {
    match policy.get("Statement") {
        Some(Value::Array(a)) => Ok(a.iter().collect()),
        Some(one @ Value::Object(_)) => Ok(vec![one]),
        _ => Err(LockoutError::InvalidPolicy("no Statement element".into())),
    }
}

/// A Deny statement that refuses one of `actions` on the bucket to the principal.
struct Denial {
    sid: String,
    action: &'static str,
    /// The condition that excludes the principal, e.g. `ArnNotLike ["arn:aws:iam::1:role/Admin"]`.
    condition: String,
}

fn first_denial(
    statements: Vec<&Value>,
    caller_arn: &str,
    principal_arn: &str,
    actions: &[&'static str],
    facts: &[(&str, &str)],
    only_arn_conditions: bool,
) -> Option<Denial> {
    for (i, st) in statements.iter().enumerate() {
        if st.get("Effect").and_then(Value::as_str) != Some("Deny") {
            continue;
        }
        // For the caller, only deny statements that single out principals by ARN can lock it out while
        // leaving others in; blanket denies (TLS, encryption) are none of that check's business.
        let arn_conditions = principal_arn_conditions(st);
        if only_arn_conditions && arn_conditions.is_empty() {
            continue;
        }
        if !principal_matches(st, caller_arn, principal_arn) || !applies_to_bucket(st) {
            continue;
        }
        let arn_denied =
            arn_conditions.iter().all(|(op, pats)| condition_holds(op, pats, principal_arn));
        if !arn_denied || !other_conditions_hold(st, facts) {
            continue;
        }
        if let Some(action) = actions.iter().find(|a| action_matches(st, a)) {
            let sid = st.get("Sid").and_then(Value::as_str).map_or_else(|| format!("#{i} (no Sid)"), str::to_string);
            let condition = match arn_conditions.first() {
                Some((operator, patterns)) => format!("{operator} {patterns:?}"),
                None => "(none on aws:PrincipalArn)".to_string(),
            };
            return Some(Denial { sid, action, condition });
        }
    }
    None
}

/// The statement's conditions on `aws:PrincipalArn` (condition keys are case-insensitive): (operator, patterns).
fn principal_arn_conditions(st: &Value) -> Vec<(String, Vec<String>)> {
    let Some(cond) = st.get("Condition").and_then(Value::as_object) else { return Vec::new() };
    cond.iter()
        .filter_map(|(op, keys)| {
            let (_, vals) = keys.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case("aws:PrincipalArn"))?;
            Some((op.clone(), strings(vals)))
        })
        .collect()
}

/// One condition operator against a known value of its key: `aws:PrincipalArn` is always present for
/// an IAM principal (as are the other facts), so `...IfExists` behaves like the plain operator. An
/// unknown operator counts as true (the deny applies): refusing wrongly is cheaper than a lock-out.
fn condition_holds(operator: &str, patterns: &[String], actual: &str) -> bool {
    let op = operator.strip_suffix("IfExists").unwrap_or(operator);
    let any = |f: &dyn Fn(&str) -> bool| patterns.iter().any(|p| f(p));
    match op {
        "ArnLike" | "ArnEquals" => any(&|p| arn_like(p, actual)),
        "ArnNotLike" | "ArnNotEquals" => !any(&|p| arn_like(p, actual)),
        "StringLike" => any(&|p| wildcard_match(p, actual)),
        "StringNotLike" => !any(&|p| wildcard_match(p, actual)),
        "StringEquals" => any(&|p| p == actual),
        "StringNotEquals" => !any(&|p| p == actual),
        "StringEqualsIgnoreCase" => any(&|p| p.eq_ignore_ascii_case(actual)),
        "StringNotEqualsIgnoreCase" => !any(&|p| p.eq_ignore_ascii_case(actual)),
        "Bool" => any(&|p| p.eq_ignore_ascii_case(actual)),
        _ => true,
    }
}

/// Other conditions of the same statement, judged by what is known of the request (`facts`: lower-case
/// key → value). Keys that cannot be known here are assumed to hold, for the same reason as above.
fn other_conditions_hold(st: &Value, facts: &[(&str, &str)]) -> bool {
    let Some(cond) = st.get("Condition").and_then(Value::as_object) else { return true };
    for (op, keys) in cond {
        let Some(keys) = keys.as_object() else { continue };
        for (key, vals) in keys {
            let key = key.to_ascii_lowercase();
            if key == "aws:principalarn" {
                continue;
            }
            let Some((_, actual)) = facts.iter().find(|(k, _)| *k == key) else { continue };
            if !condition_holds(op, &strings(vals), actual) {
                return false;
            }
        }
    }
    true
}

fn principal_matches(st: &Value, caller_arn: &str, principal_arn: &str) -> bool {
    let account = Arn::account_of(principal_arn).unwrap_or_default();
    let account = account.as_str();
    // An account's root ARN (or bare id) as Principal stands for every principal of that account.
    let is_account_root = |p: &str| p == account || p.parse::<Arn>().is_ok_and(|a| a.service() == "iam" && a.region().is_empty() && a.account() == account && a.resource() == "root");
    let is_caller = |p: &str| p == "*" || p == caller_arn || p == principal_arn || is_account_root(p);
    let aws_ids = |v: &Value| match v {
        Value::Object(o) => o.get("AWS").map(strings).unwrap_or_default(),
        other => strings(other),
    };
    if let Some(p) = st.get("Principal") {
        aws_ids(p).iter().any(|p| is_caller(p))
    } else if let Some(np) = st.get("NotPrincipal") {
        !aws_ids(np).iter().any(|p| is_caller(p) && p != "*")
    } else {
        true
    }
}

/// Bucket names contain no `/`, so a resource pattern with a literal `/` (`bucket/*`) only covers
/// objects and cannot hit the bucket-level protected actions. `NotResource` is assumed to apply.
fn applies_to_bucket(st: &Value) -> bool {
    match st.get("Resource") {
        Some(r) => strings(r).iter().any(|p| !p.contains('/')),
        None => true,
    }
}

fn action_matches(st: &Value, action: &str) -> bool {
    let hit =
        |v: &Value| strings(v).iter().any(|p| wildcard_match(&p.to_ascii_lowercase(), &action.to_ascii_lowercase()));
    match (st.get("Action"), st.get("NotAction")) {
        (Some(a), _) => hit(a),
        (None, Some(na)) => !hit(na),
        (None, None) => false,
    }
}

/// `ArnLike`: the six colon-separated components are matched separately, each with `*` and `?`.
pub(crate) fn arn_like(pattern: &str, arn: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    if pattern == "*" {
        return true;
    }
    // Not an ARN-shaped pattern: it matches nothing (for ArnNotLike that means the deny applies, the
    // cautious reading for a lock-out check).
    if p.len() != 6 || a.len() != 6 {
        return false;
    }
    p.iter().zip(&a).all(|(p, a)| wildcard_match(p, a))
}

/// Case-sensitive glob: `*` any run of characters (also empty), `?` exactly one.
pub(crate) fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None; // (star position in p, text position it consumed to)
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            backtrack = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = backtrack {
            pi = sp + 1;
            ti = st + 1;
            backtrack = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string)).collect(),
        Value::String(s) => vec![s.clone()],
        other => vec![other.to_string()],
    }
}
