//! The OU tree of the report: every account under its OU path, each with its state (covered by the
//! trail, delivery, digests, member checks) as a text label and a tone. An OU is open (`<details
//! open>`) when it is small or holds a problem, so a 10,000-account report opens on what matters.
use std::collections::BTreeMap;

use serde::Serialize;

use super::input::{PairView, VerifyDoc};
use super::model::Cell;

/// OUs with at most this many accounts (in the whole subtree) start open.
const OPEN_UP_TO: usize = 25;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Node {
    pub name: String,
    pub path: String,
    pub accounts: Vec<AccountRow>,
    pub children: Vec<Node>,
    /// Accounts in this OU and below, and how many of them have a problem.
    pub total: usize,
    pub problems: usize,
    pub open: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountRow {
    pub id: String,
    pub name: String,
    pub covered: Cell,
    pub delivery: Cell,
    pub digests: Cell,
    pub checks: Cell,
    pub problem: bool,
}

/// The tree of `verify`'s accounts (or, from a verify JSON without them, of the accounts its findings name).
pub fn build(verify: &VerifyDoc, pairs: Option<&[PairView]>) -> Node {
    let mut by_account: BTreeMap<&str, Vec<&super::input::FindingDoc>> = BTreeMap::new();
    for f in &verify.findings {
        by_account.entry(f.account.as_str()).or_default().push(f);
    }
    let mut pairs_of: BTreeMap<&str, Vec<&PairView>> = BTreeMap::new();
    for p in pairs.unwrap_or_default() {
        pairs_of.entry(p.account.as_str()).or_default().push(p);
    }
    let listed: Vec<(String, String, Vec<String>, bool)> = if verify.accounts.is_empty() {
        by_account.keys().map(|id| (id.to_string(), String::new(), vec![], true)).collect()
    } else {
        verify.accounts.iter().map(|a| (a.id.clone(), a.name.clone(), if a.ous.is_empty() { a.ou_path.split('/').skip(1).map(str::to_string).collect() } else { a.ous.clone() }, a.targeted)).collect()
    };
    let mut root = Node { name: "Root".into(), path: "Root".into(), ..Node::default() };
    for (id, name, ous, targeted) in listed {
        let findings = by_account.get(id.as_str()).map(Vec::as_slice).unwrap_or_default();
        let management = id == verify.management_account;
        let row = account_row(&id, &name, targeted, management, findings, pairs.map(|_| pairs_of.get(id.as_str()).map(Vec::as_slice).unwrap_or_default()));
        node_at(&mut root, &ous).accounts.push(row);
    }
    finish(&mut root);
    // The root always opens: its OUs are the first thing to see.
    root.open = true;
    root
}

fn node_at<'n>(root: &'n mut Node, ous: &[String]) -> &'n mut Node {
    let mut node = root;
    let mut path = String::from("Root");
    for part in ous.iter().map(String::as_str).filter(|p| !p.is_empty()) {
        path = format!("{path}/{part}");
        let at = match node.children.iter().position(|c| c.name == part) {
            Some(i) => i,
            None => {
                node.children.push(Node { name: part.to_string(), path: path.clone(), ..Node::default() });
                node.children.len() - 1
            }
        };
        node = &mut node.children[at];
    }
    node
}

fn finish(node: &mut Node) {
    node.children.sort_by(|a, b| a.name.cmp(&b.name));
    node.accounts.sort_by(|a, b| a.id.cmp(&b.id));
    for c in &mut node.children {
        finish(c);
    }
    node.total = node.accounts.len() + node.children.iter().map(|c| c.total).sum::<usize>();
    node.problems = node.accounts.iter().filter(|a| a.problem).count() + node.children.iter().map(|c| c.problems).sum::<usize>();
    node.open = node.total <= OPEN_UP_TO || node.problems > 0;
}

fn account_row(id: &str, name: &str, targeted: bool, management: bool, findings: &[&super::input::FindingDoc], pairs: Option<&[&PairView]>) -> AccountRow {
    let covered = if management {
        status_cell(findings.iter().find(|f| f.control == "CloudTrail.1").map(|f| f.status.as_str()), "trail home", "no trail")
    } else if !targeted {
        Cell::na("not targeted")
    } else {
        status_cell(findings.iter().find(|f| f.control == "OrgTrail.Reach").map(|f| f.status.as_str()), "covered", "NOT covered")
    };
    let (delivery, digests) = match pairs {
        None => (Cell::na("not validated"), Cell::na("not validated")),
        Some([]) if targeted || management => (Cell::bad("no digests"), Cell::bad("none")),
        Some([]) => (Cell::na("—"), Cell::na("—")),
        Some(ps) => {
            let worst = ["missing"].into_iter().find(|d| ps.iter().any(|p| p.delivery == *d));
            let delivery = match worst {
                Some(d) => Cell::bad(&format!("{d} in {}", ps.iter().filter(|p| p.delivery == d).count())),
                None => Cell::ok("delivered"),
            };
            let dirty = ps.iter().filter(|p| !p.clean).count();
            let digests = if dirty == 0 { Cell::ok("valid") } else { Cell::bad(&format!("INVALID in {dirty} region(s)")) };
            (delivery, digests)
        }
    };
    let failing: Vec<&str> = findings.iter().filter(|f| f.is_failing() && f.control != "OrgTrail.Reach").map(|f| f.control.as_str()).collect();
    let checks = if !failing.is_empty() {
        let mut ids = failing;
        ids.dedup();
        Cell::bad(&format!("FAIL: {}", ids.join(", ")))
    } else if findings.iter().any(|f| f.control != "OrgTrail.Reach" && f.status == "MANUAL") {
        Cell::warn("manual action")
    } else if findings.is_empty() {
        Cell::na(if targeted || management { "not checked" } else { "—" })
    } else {
        Cell::ok("pass")
    };
    let problem = [&covered, &delivery, &digests, &checks].iter().any(|c| c.tone == "bad");
    AccountRow { id: id.to_string(), name: name.to_string(), covered, delivery, digests, checks, problem }
}

fn status_cell(status: Option<&str>, ok: &str, bad: &str) -> Cell {
    match status {
        Some("PASS") => Cell::ok(ok),
        Some("FAIL") => Cell::bad(bad),
        Some("ERROR") => Cell::bad("could not read"),
        Some(other) => Cell::warn(&other.to_lowercase()),
        None => Cell::na("not checked"),
    }
}
