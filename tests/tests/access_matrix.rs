//! The access matrix: every policy orgtrail renders, evaluated by an IAM policy evaluator the project
//! does not write itself — `@cloud-copilot/iam-simulate`, pinned in tests/policy-eval/package-lock.json
//! and installed by scripts/bootstrap-policy-eval.sh (`npm ci`) into the git-ignored
//! tests/policy-eval/node_modules. The emulator does not evaluate bucket or key policies; this does.
//!
//! Each row is (caller, action, resource, context keys as AWS sets them) → the decision AWS would
//! reach: Allowed, ExplicitlyDenied (a Deny statement matched) or ImplicitlyDenied (nothing allows it).
//! Callers carry the request context AWS builds for them: an IAM role session has `aws:PrincipalArn`
//! = the role ARN, `aws:PrincipalAccount`, `aws:PrincipalOrgID` (inside the organization) and
//! `aws:PrincipalIsAWSService = false`; a service principal (CloudTrail, S3 log delivery) has no
//! principal ARN or org id but `aws:SourceArn` / `aws:SourceAccount` / `aws:SourceOrgID` and
//! `aws:PrincipalIsAWSService = true`. Every IAM caller gets an identity policy allowing `s3:*` and
//! `kms:*` (the worst case) unless the row says otherwise, so what is refused is refused by orgtrail's
//! resource policy, not by a missing grant. The tamper-protection SCP's rows give the evaluator the
//! SCP as its own layer (attached to the organization root) and callers allowed `*`, so there the
//! SCP decides (see `rows::scp_rows`).
//!
//! What the evaluator cannot model: condition keys of the form `kms:EncryptionContext:<key>`. It
//! matches variable condition keys only after a `/` (`aws:PrincipalTag/x`), so it drops
//! `kms:EncryptionContext:aws:cloudtrail:arn` from the request (it reports it as ignored) and a
//! condition on it can never match. The key-policy rows therefore evaluate the key policy with
//! those conditions removed, assert that the evaluator still reports the key as ignored (so the
//! test notices when it learns to model it), and the conditions themselves are covered by the unit
//! test `policy::tests::encryption_context_conditions_pin_the_trail_owner`.
//!
//! `cargo test -p orgtrail-tests --test access_matrix -- --nocapture` prints the matrix as the
//! Markdown table of docs/access-matrix.md; the test fails when that table differs from the rows.
#[path = "iam_docs/mod.rs"]
mod iam_docs;
#[path = "access_matrix/inventory.rs"]
mod inventory;
#[path = "access_matrix/own_roles.rs"]
mod own_roles;
#[path = "access_matrix/rows.rs"]
mod rows;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use inventory::UNMODELLED_PREFIX;
use rows::Row;
use serde_json::{json, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Installs the pinned evaluator (a no-op once installed) and runs every row through it.
fn evaluate(rows: &[Row]) -> Vec<Value> {
    let root = root();
    let status = Command::new(root.join("scripts/bootstrap-policy-eval.sh")).status().expect("run scripts/bootstrap-policy-eval.sh");
    assert!(status.success(), "scripts/bootstrap-policy-eval.sh failed: the IAM policy evaluator needs Node.js >= 18 and npm");
    let input: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            json!({
                "id": i,
                "principal": r.caller.principal,
                "action": r.action,
                "resource": r.resource,
                "resource_account": r.policy.resource_account(),
                "context": r.caller.context,
                "identity_policies": r.caller.identity.iter().collect::<Vec<_>>(),
                "resource_policy": r.policy.resource_policy(),
                "scps": r.policy.scps(r.caller.account()),
            })
        })
        .collect();
    let mut child = Command::new("node")
        .arg(root.join("tests/policy-eval/evaluate.mjs"))
        .current_dir(root.join("tests/policy-eval"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node not found: the access matrix needs Node.js >= 18");
    child.stdin.take().unwrap().write_all(serde_json::to_string(&input).unwrap().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "tests/policy-eval/evaluate.mjs failed");
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).expect("evaluator prints JSON");
    assert_eq!(results.len(), rows.len(), "one result per row");
    results
}

#[test]
fn every_rendered_policy_decides_as_documented() {
    let rows = rows::all();
    let results = evaluate(&rows);
    let mut failures = Vec::new();
    println!("{}", rows::TABLE_HEADER);
    for (i, (row, result)) in rows.iter().zip(&results).enumerate() {
        println!("{}", row.markdown(i + 1));
        let n = i + 1;
        if !result["errors"].is_null() {
            failures.push(format!("row {n} ({}): the evaluator rejected the request: {}", row.what, result["errors"]));
            continue;
        }
        let decision = result["decision"].as_str().unwrap_or_default();
        if decision != row.expect.as_str() {
            failures.push(format!(
                "row {n} ({}): {} {} {} on {}: expected {}, the evaluator decided {decision}",
                row.what,
                row.policy.label(),
                row.caller.principal,
                row.action,
                row.resource,
                row.expect.as_str()
            ));
        }
        // Every context key must be one the evaluator models, except the known unmodelled ones,
        // which it must still drop (else the stripped conditions should be put back).
        let ignored: BTreeSet<String> = result["ignored"].as_array().unwrap().iter().map(|k| k.as_str().unwrap().to_string()).collect();
        let unmodelled: BTreeSet<String> = row.caller.context.as_object().unwrap().keys().filter(|k| k.starts_with(UNMODELLED_PREFIX)).cloned().collect();
        if ignored != unmodelled {
            failures.push(format!("row {n} ({}): context keys the evaluator ignored {ignored:?}, expected exactly {unmodelled:?}", row.what));
        }
    }
    println!("\n{} rows", rows.len());
    // docs/access-matrix.md shows this matrix: it must be this matrix.
    let doc = std::fs::read_to_string(root().join("docs/access-matrix.md")).unwrap();
    let stale: Vec<usize> = rows.iter().enumerate().filter(|(i, r)| !doc.contains(&r.markdown(i + 1))).map(|(i, _)| i + 1).collect();
    if !stale.is_empty() {
        failures.push(format!(
            "docs/access-matrix.md lacks matrix rows {stale:?} as printed: paste the table printed by \
             `cargo test -p orgtrail-tests --test access_matrix -- --nocapture`"
        ));
    }
    assert!(rows.len() >= 30, "the matrix must keep at least 30 rows, has {}", rows.len());
    assert!(failures.is_empty(), "{} of {} rows failed:\n{}", failures.len(), rows.len(), failures.join("\n"));
}

/// The evaluator distinguishes the three decisions on a policy of our own making: the matrix's
/// assertions cannot pass by the evaluator answering one thing for everything.
#[test]
fn the_evaluator_tells_allow_explicit_and_implicit_deny_apart() {
    let rows = rows::calibration();
    let results = evaluate(&rows);
    let got: Vec<&str> = results.iter().map(|r| r["decision"].as_str().unwrap()).collect();
    let want: Vec<&str> = rows.iter().map(|r| r.expect.as_str()).collect();
    assert_eq!(got, want);
    assert_eq!(want.iter().collect::<BTreeSet<_>>().len(), 3);
}
