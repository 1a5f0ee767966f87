//! The report's view: every number and label computed here, so the template only lays them out
//! (and escapes them). Pure: built from the inputs alone.
use std::collections::BTreeMap;

use serde::Serialize;

use super::input::{FindingDoc, PairView, RunDoc, ValidateDoc, VerifyDoc};
use crate::verify::mapping;
use super::tree::{self, Node};

/// Passing findings shown per control (the rest counted): the OU tree holds every account's state.
const PASS_EXAMPLES: usize = 3;

/// A state shown as text and colour both: `tone` is `ok`, `bad`, `warn` or `na`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub label: String,
    pub tone: &'static str,
}

impl Cell {
    pub fn ok(label: &str) -> Cell {
        Cell { label: label.into(), tone: "ok" }
    }
    pub fn bad(label: &str) -> Cell {
        Cell { label: label.into(), tone: "bad" }
    }
    pub fn warn(label: &str) -> Cell {
        Cell { label: label.into(), tone: "warn" }
    }
    pub fn na(label: &str) -> Cell {
        Cell { label: label.into(), tone: "na" }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct View {
    pub headline: Headline,
    pub tree: Node,
    pub controls: Vec<ControlRow>,
    pub integrity: Option<Integrity>,
    pub runs: Vec<RunDoc>,
    pub runs_note: String,
}

/// One headline figure: `value` of `of`, its percentage (for the bar) and its tone.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub title: String,
    pub value: usize,
    pub of: usize,
    pub percent: u32,
    pub tone: &'static str,
    pub note: String,
}

impl Figure {
    fn new(title: &str, value: usize, of: usize, note: String) -> Figure {
        let percent = if of == 0 { 100 } else { u32::try_from(value * 100 / of).unwrap_or(100) };
        let tone = if of == 0 { "na" } else if value == of { "ok" } else { "bad" };
        Figure { title: title.into(), value, of, percent, tone, note }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Headline {
    pub organization: String,
    pub management_account: String,
    pub figures: Vec<Figure>,
    pub verdict: Cell,
    pub generated_at: String,
    pub audited_at: String,
    pub orgtrail_version: String,
    pub config_path: String,
    pub config_fingerprint: String,
    pub window: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ControlRow {
    pub id: String,
    pub title: String,
    pub cis: String,
    pub security_hub: String,
    pub api: String,
    pub status: Cell,
    pub counts: String,
    /// Every finding that is not a pass, with its evidence.
    pub attention: Vec<FindingDoc>,
    pub pass_examples: Vec<FindingDoc>,
    pub passes_more: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Integrity {
    pub window: String,
    pub regions: Vec<RegionRow>,
    /// Every account × region that is not clean, with its verdicts.
    pub problems: Vec<PairView>,
    pub clean: usize,
    pub total: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct RegionRow {
    pub region: String,
    pub pairs: usize,
    pub delivered: usize,
    pub missing: usize,
    pub digests: String,
    pub log_files: String,
    pub clean: Cell,
}

pub fn view(verify: &VerifyDoc, validate: Option<&ValidateDoc>, runs: Vec<RunDoc>, runs_note: String, generated_at: &str) -> View {
    let pairs = validate.map(ValidateDoc::pair_views);
    let tree = tree::build(verify, pairs.as_deref());
    let controls = controls(&verify.findings);
    let integrity = validate.zip(pairs.as_deref()).map(|(v, p)| integrity(v, p));
    View { headline: headline(verify, validate, &controls, integrity.as_ref(), generated_at), tree, controls, integrity, runs, runs_note }
}

fn headline(verify: &VerifyDoc, validate: Option<&ValidateDoc>, controls: &[ControlRow], integrity: Option<&Integrity>, generated_at: &str) -> Headline {
    let targeted: Vec<&str> = if verify.accounts.is_empty() {
        let mut ids: Vec<&str> = verify.findings.iter().filter(|f| f.control == "OrgTrail.Reach").map(|f| f.account.as_str()).collect();
        ids.dedup();
        ids
    } else {
        verify.accounts.iter().filter(|a| a.targeted).map(|a| a.id.as_str()).collect()
    };
    let reached: std::collections::HashSet<&str> = verify.findings.iter().filter(|f| f.control == "OrgTrail.Reach" && f.status == "PASS").map(|f| f.account.as_str()).collect();
    let covered = targeted.iter().filter(|id| reached.contains(**id)).count();
    let passing = controls.iter().filter(|c| c.status.tone != "bad").count();
    let mut figures = vec![
        Figure::new("Accounts covered", covered, targeted.len(), format!("of {} targeted member accounts", targeted.len())),
        Figure::new("Controls passing", passing, controls.len(), format!("of {} controls judged", controls.len())),
    ];
    figures.push(match integrity {
        Some(i) => Figure::new("Record integrity", i.clean, i.total, format!("account × region pairs delivered and valid, {}", i.window)),
        None => Figure { title: "Record integrity".into(), value: 0, of: 0, percent: 0, tone: "na", note: "not validated: pass --validate FILE.json from `orgtrail validate-logs --format json`".into() },
    });
    let failing = figures.iter().any(|f| f.tone == "bad");
    let ctx = &verify.context;
    Headline {
        organization: verify.organization.clone(),
        management_account: verify.management_account.clone(),
        figures,
        verdict: if failing { Cell::bad("FINDINGS") } else { Cell::ok("NO FINDINGS") },
        generated_at: generated_at.to_string(),
        audited_at: ctx.generated_at.clone(),
        orgtrail_version: if ctx.orgtrail_version.is_empty() { "unknown".into() } else { ctx.orgtrail_version.clone() },
        config_path: ctx.config_path.clone(),
        config_fingerprint: ctx.config_fingerprint.clone(),
        window: validate.map(|v| window_text(v)).unwrap_or_else(|| "—".into()),
    }
}

fn window_text(v: &ValidateDoc) -> String {
    let what = if v.digests_only { " (digests only)" } else { "" };
    if v.start_time.is_empty() && v.end_time.is_empty() {
        format!("window not stated{what}")
    } else {
        format!("{} to {}{what}", v.start_time, v.end_time)
    }
}

/// One row per control, in verify's (catalog) order.
fn controls(findings: &[FindingDoc]) -> Vec<ControlRow> {
    let mut order: Vec<&str> = Vec::new();
    let mut of: BTreeMap<&str, Vec<&FindingDoc>> = BTreeMap::new();
    for f in findings {
        let group = of.entry(f.control.as_str()).or_default();
        if group.is_empty() {
            order.push(f.control.as_str());
        }
        group.push(f);
    }
    order
        .into_iter()
        .map(|id| {
            let group = &of[id];
            let m = mapping::of(id);
            let count = |s: &str| group.iter().filter(|f| f.status == s).count();
            let (pass, fail, error, manual, na) = (count("PASS"), count("FAIL"), count("ERROR"), count("MANUAL"), count("NOT-APPLICABLE"));
            let status = if fail > 0 {
                Cell::bad("FAIL")
            } else if error > 0 {
                Cell::bad("ERROR")
            } else if manual > 0 {
                Cell::warn("MANUAL")
            } else if pass > 0 {
                Cell::ok("PASS")
            } else {
                Cell::na("NOT APPLICABLE")
            };
            let counts = [(pass, "pass"), (fail, "fail"), (error, "error"), (manual, "manual"), (na, "not applicable")]
                .iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, s)| format!("{n} {s}"))
                .collect::<Vec<_>>()
                .join(", ");
            let passes: Vec<&&FindingDoc> = group.iter().filter(|f| f.status == "PASS").collect();
            ControlRow {
                id: id.to_string(),
                title: group[0].title.clone(),
                cis: m.cis.to_string(),
                security_hub: m.security_hub.to_string(),
                api: m.api.to_string(),
                status,
                counts,
                attention: group.iter().filter(|f| f.status != "PASS").map(|f| (*f).clone()).collect(),
                pass_examples: passes.iter().take(PASS_EXAMPLES).map(|f| (**f).clone()).collect(),
                passes_more: passes.len().saturating_sub(PASS_EXAMPLES),
            }
        })
        .collect()
}

fn integrity(v: &ValidateDoc, pairs: &[PairView]) -> Integrity {
    let mut regions: BTreeMap<&str, Vec<&PairView>> = BTreeMap::new();
    for p in pairs {
        regions.entry(p.region.as_str()).or_default().push(p);
    }
    let regions = regions
        .into_iter()
        .map(|(region, ps)| {
            let n = |d: &str| ps.iter().filter(|p| p.delivery == d).count();
            let sum = |f: fn(&PairView) -> (usize, usize)| ps.iter().map(|p| f(p)).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
            let (dv, dc) = sum(|p| (p.digests.valid, p.digests.checked));
            let (lv, lc) = sum(|p| (p.log_files.valid, p.log_files.checked));
            let clean = ps.iter().filter(|p| p.clean).count();
            RegionRow {
                region: region.to_string(),
                pairs: ps.len(),
                delivered: n("delivered"),
                missing: n("missing"),
                digests: format!("{dv} of {dc} valid"),
                log_files: format!("{lv} of {lc} valid"),
                clean: if clean == ps.len() { Cell::ok(&format!("{clean} of {} clean", ps.len())) } else { Cell::bad(&format!("{clean} of {} clean", ps.len())) },
            }
        })
        .collect();
    let problems: Vec<PairView> = pairs.iter().filter(|p| !p.clean).cloned().collect();
    Integrity { window: window_text(v), regions, clean: pairs.len() - problems.len(), total: pairs.len(), problems }
}
